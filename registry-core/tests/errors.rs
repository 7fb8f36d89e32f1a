//! Every typed error of `registry-core`: each test provokes one variant, asserts it is that variant, and that its
//! message tells a user what to change. Regression tests for bugs found by tests and fuzzing are at the end.

use std::collections::BTreeMap;

use registry_core::compat::CompatibilityLevel;
use registry_core::{
    Limits, NoReferences, ParsedSchema, ResolveError, SchemaError, SchemaReference, SchemaType, Subject, SubjectError,
    UnparsedSchema, Version, VersionError, VersionSelector, parse,
};

fn subject(name: &str) -> Subject {
    Subject::new(name).unwrap()
}

fn version(number: u32) -> Version {
    Version::new(number).unwrap()
}

fn reference(name: &str, subject_name: &str, number: u32) -> SchemaReference {
    SchemaReference { name: name.into(), subject: subject(subject_name), version: version(number) }
}

fn parse_alone(schema_type: SchemaType, text: &str) -> Result<ParsedSchema, SchemaError> {
    parse(&UnparsedSchema::new(schema_type, text), &NoReferences, &Limits::default())
}

/// A resolver over a fixed map of (subject, version) -> schema.
fn registry(
    entries: Vec<((&str, u32), UnparsedSchema)>,
) -> impl Fn(&SchemaReference) -> Result<UnparsedSchema, ResolveError> {
    let map: BTreeMap<(String, u32), UnparsedSchema> =
        entries.into_iter().map(|((s, v), schema)| ((s.to_string(), v), schema)).collect();
    move |r: &SchemaReference| {
        map.get(&(r.subject.as_str().to_string(), r.version.get()))
            .cloned()
            .ok_or_else(|| ResolveError::NotFound { subject: r.subject.clone(), version: r.version })
    }
}

const AVRO_B: &str = r#"{"type": "record", "name": "B", "namespace": "com.acme", "fields": []}"#;
const AVRO_USES_B: &str = r#"{"type": "record", "name": "A", "fields": [{"name": "b", "type": "com.acme.B"}]}"#;

// ---- SchemaType and UnknownSchemaType ----

#[test]
fn schema_type_parses_in_any_case() {
    for (text, expected) in [
        ("AVRO", SchemaType::Avro),
        ("avro", SchemaType::Avro),
        ("Avro", SchemaType::Avro),
        ("JSON", SchemaType::Json),
        ("json", SchemaType::Json),
        ("PROTOBUF", SchemaType::Protobuf),
        ("protoBuf", SchemaType::Protobuf),
    ] {
        assert_eq!(text.parse::<SchemaType>(), Ok(expected), "{text}");
    }
}

#[test]
fn unknown_schema_type_names_the_input_and_the_choices() {
    for text in ["", "XML", "proto", " AVRO", "JSONSCHEMA"] {
        let error = text.parse::<SchemaType>().unwrap_err();
        assert!(matches!(&error, SchemaError::UnknownSchemaType(t) if t == text), "{text}: {error:?}");
        let message = error.to_string();
        assert!(message.contains(&format!("'{text}'")), "{message}");
        assert!(message.contains("use AVRO, JSON or PROTOBUF"), "{message}");
    }
}

// ---- TooLarge ----

#[test]
fn too_large_schema_reports_its_size_and_the_limit() {
    let limits = Limits { max_schema_bytes: 16, ..Limits::default() };
    let text = r#"{"type": "string", "doc": "longer than sixteen bytes"}"#;
    let error = parse(&UnparsedSchema::new(SchemaType::Avro, text), &NoReferences, &limits).unwrap_err();
    assert!(matches!(error, SchemaError::TooLarge { size, max: 16 } if size == text.len()), "{error:?}");
    assert_eq!(error.to_string(), format!("schema is {} bytes; the limit is 16", text.len()));
}

#[test]
fn too_large_referenced_schema_is_refused() {
    let limits = Limits { max_schema_bytes: 80, ..Limits::default() };
    let big = format!(
        r#"{{"type": "record", "name": "B", "namespace": "com.acme", "doc": "{}", "fields": []}}"#,
        "x".repeat(100)
    );
    let resolver = registry(vec![(("b", 1), UnparsedSchema::new(SchemaType::Avro, big.clone()))]);
    let root =
        UnparsedSchema::new(SchemaType::Avro, AVRO_USES_B).with_references(vec![reference("com.acme.B", "b", 1)]);
    let error = parse(&root, &resolver, &limits).unwrap_err();
    assert!(matches!(error, SchemaError::TooLarge { size, max: 80 } if size == big.len()), "{error:?}");
}

#[test]
fn schema_exactly_at_the_size_limit_is_accepted() {
    let text = r#""string""#;
    let limits = Limits { max_schema_bytes: text.len(), ..Limits::default() };
    assert!(parse(&UnparsedSchema::new(SchemaType::Avro, text), &NoReferences, &limits).is_ok());
}

// ---- TooDeep, for each format ----

fn assert_too_deep(schema_type: SchemaType, text: &str) {
    let error = parse_alone(schema_type, text).unwrap_err();
    assert!(matches!(error, SchemaError::TooDeep { max: 64 }), "{schema_type}: {error:?}");
    assert_eq!(error.to_string(), "schema nests deeper than 64 levels");
}

#[test]
fn too_deep_json_schema() {
    let text = format!("{}{}", r#"{"items": "#.repeat(100), "{}".to_string() + &"}".repeat(100));
    assert_too_deep(SchemaType::Json, &text);
    assert_too_deep(SchemaType::Json, &"[".repeat(10_000));
}

#[test]
fn too_deep_avro_schema() {
    let text = format!("{}\"int\"{}", r#"{"type": "array", "items": "#.repeat(70), "}".repeat(70));
    assert_too_deep(SchemaType::Avro, &text);
}

#[test]
fn too_deep_protobuf_schema() {
    let mut text = String::from("syntax = \"proto3\";\n");
    for i in 0..70 {
        text.push_str(&format!("message M{i} {{\n"));
    }
    text.push_str(&"}\n".repeat(70));
    assert_too_deep(SchemaType::Protobuf, &text);
    assert_too_deep(SchemaType::Protobuf, &format!("option (a) = {};", "{ a: ".repeat(100)));
}

#[test]
fn nesting_inside_strings_and_comments_is_not_depth() {
    let brackets = "[".repeat(200);
    let json = format!(r#"{{"type": "string", "description": "{brackets}"}}"#);
    assert!(parse_alone(SchemaType::Json, &json).is_ok());
    let proto = format!(
        "syntax = \"proto3\";\n// {brackets}\n/* {brackets} */\nmessage A {{ string a = 1 [json_name = \"{brackets}\"]; }}\n"
    );
    assert!(parse_alone(SchemaType::Protobuf, &proto).is_ok(), "{:?}", parse_alone(SchemaType::Protobuf, &proto).err());
}

#[test]
fn depth_at_the_limit_is_accepted() {
    let limits = Limits { max_depth: 5, ..Limits::default() };
    let ok = r#"{"type":"array","items":{"type":"array","items":{"type":"array","items":"int"}}}"#;
    assert!(parse(&UnparsedSchema::new(SchemaType::Avro, ok), &NoReferences, &limits).is_ok());
    let deep = format!("{}\"int\"{}", r#"{"type":"array","items":"#.repeat(6), "}".repeat(6));
    let error = parse(&UnparsedSchema::new(SchemaType::Avro, deep), &NoReferences, &limits).unwrap_err();
    assert!(matches!(error, SchemaError::TooDeep { max: 5 }), "{error:?}");
}

// ---- Invalid ----

#[test]
fn invalid_names_the_format_and_the_problem() {
    for (schema_type, text, expected) in [
        (SchemaType::Avro, r#"{"type": "strnig"}"#, "invalid AVRO schema: "),
        (SchemaType::Json, r#"{"type": "strin"}"#, "invalid JSON schema: "),
        (SchemaType::Protobuf, "message {", "invalid PROTOBUF schema: "),
    ] {
        let error = parse_alone(schema_type, text).unwrap_err();
        assert!(matches!(&error, SchemaError::Invalid { format, .. } if *format == schema_type), "{error:?}");
        let message = error.to_string();
        assert!(message.starts_with(expected) && message.len() > expected.len() + 10, "{message}");
    }
}

#[test]
fn invalid_json_names_line_and_column() {
    let error = parse_alone(SchemaType::Json, "{\n  \"type\": \"string\"\n  \"minLength\": 1\n}").unwrap_err();
    assert!(matches!(&error, SchemaError::Invalid { message, .. } if message.contains("line 3 column 3")), "{error}");
}

// ---- ReferenceNotResolved ----

#[test]
fn reference_not_found_names_the_reference_subject_and_version() {
    let root =
        UnparsedSchema::new(SchemaType::Avro, AVRO_USES_B).with_references(vec![reference("com.acme.B", "b-value", 4)]);
    let error = parse(&root, &NoReferences, &Limits::default()).unwrap_err();
    assert!(
        matches!(&error, SchemaError::ReferenceNotResolved { name, source: ResolveError::NotFound { version, .. } }
            if name == "com.acme.B" && version.get() == 4),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "reference 'com.acme.B' cannot be resolved: no schema is registered at subject 'b-value' version 4"
    );
}

#[test]
fn resolver_failure_is_passed_through() {
    let resolver = |_: &SchemaReference| -> Result<UnparsedSchema, ResolveError> {
        Err(ResolveError::Other("storage is closed".into()))
    };
    let root =
        UnparsedSchema::new(SchemaType::Avro, AVRO_USES_B).with_references(vec![reference("com.acme.B", "b", 1)]);
    let error = parse(&root, &resolver, &Limits::default()).unwrap_err();
    assert!(
        matches!(&error, SchemaError::ReferenceNotResolved { source: ResolveError::Other(m), .. } if m == "storage is closed"),
        "{error:?}"
    );
    assert!(error.to_string().ends_with("cannot be resolved: storage is closed"), "{error}");
}

#[test]
fn transitive_reference_not_found_is_reported() {
    let resolver = registry(vec![(
        ("b", 1),
        UnparsedSchema::new(SchemaType::Avro, AVRO_B).with_references(vec![reference("com.acme.C", "c", 9)]),
    )]);
    let root =
        UnparsedSchema::new(SchemaType::Avro, AVRO_USES_B).with_references(vec![reference("com.acme.B", "b", 1)]);
    let error = parse(&root, &resolver, &Limits::default()).unwrap_err();
    assert!(matches!(&error, SchemaError::ReferenceNotResolved { name, .. } if name == "com.acme.C"), "{error:?}");
    assert!(error.to_string().contains("subject 'c' version 9"), "{error}");
}

// ---- InvalidReference ----

#[test]
fn reference_with_an_empty_name_is_invalid() {
    let resolver = registry(vec![(("b", 1), UnparsedSchema::new(SchemaType::Avro, AVRO_B))]);
    let root = UnparsedSchema::new(SchemaType::Avro, AVRO_USES_B).with_references(vec![reference("", "b", 1)]);
    let error = parse(&root, &resolver, &Limits::default()).unwrap_err();
    assert!(matches!(&error, SchemaError::InvalidReference { name, .. } if name.is_empty()), "{error:?}");
    assert!(error.to_string().contains("a reference needs a non-empty name"), "{error}");
}

#[test]
fn reference_name_bound_to_two_schemas_is_invalid() {
    let resolver = registry(vec![
        (("b", 1), UnparsedSchema::new(SchemaType::Avro, AVRO_B)),
        (("b", 2), UnparsedSchema::new(SchemaType::Avro, AVRO_B)),
    ]);
    let root = UnparsedSchema::new(SchemaType::Avro, AVRO_USES_B)
        .with_references(vec![reference("com.acme.B", "b", 1), reference("com.acme.B", "b", 2)]);
    let error = parse(&root, &resolver, &Limits::default()).unwrap_err();
    assert!(matches!(&error, SchemaError::InvalidReference { name, .. } if name == "com.acme.B"), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("subject 'b' version 1") && message.contains("subject 'b' version 2"), "{message}");
}

#[test]
fn the_same_reference_twice_is_fine() {
    let resolver = registry(vec![(("b", 1), UnparsedSchema::new(SchemaType::Avro, AVRO_B))]);
    let root = UnparsedSchema::new(SchemaType::Avro, AVRO_USES_B)
        .with_references(vec![reference("com.acme.B", "b", 1), reference("com.acme.B", "b", 1)]);
    assert!(parse(&root, &resolver, &Limits::default()).is_ok());
}

#[test]
fn reference_to_another_format_is_invalid() {
    let resolver = registry(vec![(("b", 1), UnparsedSchema::new(SchemaType::Json, r#"{"type": "object"}"#))]);
    let root =
        UnparsedSchema::new(SchemaType::Avro, AVRO_USES_B).with_references(vec![reference("com.acme.B", "b", 1)]);
    let error = parse(&root, &resolver, &Limits::default()).unwrap_err();
    assert!(matches!(&error, SchemaError::InvalidReference { name, .. } if name == "com.acme.B"), "{error:?}");
    assert!(error.to_string().contains("a AVRO schema cannot reference a JSON schema"), "{error}");
}

// ---- ReferenceCycle ----

#[test]
fn reference_cycle_shows_the_chain() {
    let resolver = registry(vec![
        (("a", 1), UnparsedSchema::new(SchemaType::Avro, AVRO_B).with_references(vec![reference("x.B", "b", 1)])),
        (("b", 1), UnparsedSchema::new(SchemaType::Avro, AVRO_B).with_references(vec![reference("x.A", "a", 1)])),
    ]);
    let root = UnparsedSchema::new(SchemaType::Avro, AVRO_USES_B).with_references(vec![reference("x.A", "a", 1)]);
    let error = parse(&root, &resolver, &Limits::default()).unwrap_err();
    assert!(matches!(&error, SchemaError::ReferenceCycle { chain } if chain == "a/1 -> b/1 -> a/1"), "{error:?}");
    assert_eq!(error.to_string(), "references form a cycle: a/1 -> b/1 -> a/1");
}

#[test]
fn self_reference_is_a_cycle() {
    let resolver = registry(vec![(
        ("a", 1),
        UnparsedSchema::new(SchemaType::Json, "{}").with_references(vec![reference("a.json", "a", 1)]),
    )]);
    let root = UnparsedSchema::new(SchemaType::Json, "{}").with_references(vec![reference("a.json", "a", 1)]);
    let error = parse(&root, &resolver, &Limits::default()).unwrap_err();
    assert!(matches!(&error, SchemaError::ReferenceCycle { chain } if chain == "a/1 -> a/1"), "{error:?}");
}

// ---- ReferencesTooDeep and TooManyReferences ----

/// A chain root -> s0 -> s1 -> ... -> s{n-1}, JSON schemas.
fn chain(n: u32) -> impl Fn(&SchemaReference) -> Result<UnparsedSchema, ResolveError> {
    move |r: &SchemaReference| {
        let i: u32 = r.subject.as_str().trim_start_matches('s').parse().unwrap();
        let schema = UnparsedSchema::new(SchemaType::Json, "{}");
        Ok(if i + 1 < n {
            schema.with_references(vec![reference(&format!("s{}.json", i + 1), &format!("s{}", i + 1), 1)])
        } else {
            schema
        })
    }
}

#[test]
fn reference_chain_deeper_than_the_limit() {
    let root = UnparsedSchema::new(SchemaType::Json, "{}").with_references(vec![reference("s0.json", "s0", 1)]);
    let error = parse(&root, &chain(40), &Limits::default()).unwrap_err();
    assert!(matches!(error, SchemaError::ReferencesTooDeep { max: 16 }), "{error:?}");
    assert_eq!(error.to_string(), "references nest deeper than 16 levels");
    assert!(parse(&root, &chain(16), &Limits::default()).is_ok(), "a chain of exactly 16 is allowed");
}

#[test]
fn more_references_than_the_limit() {
    let limits = Limits { max_references: 3, ..Limits::default() };
    let resolver = |_: &SchemaReference| -> Result<UnparsedSchema, ResolveError> {
        Ok(UnparsedSchema::new(SchemaType::Json, "{}"))
    };
    let references: Vec<_> = (0..5).map(|i| reference(&format!("r{i}.json"), &format!("r{i}"), 1)).collect();
    let root = UnparsedSchema::new(SchemaType::Json, "{}").with_references(references.clone());
    let error = parse(&root, &resolver, &limits).unwrap_err();
    assert!(matches!(error, SchemaError::TooManyReferences { max: 3 }), "{error:?}");
    assert_eq!(error.to_string(), "schema pulls in more than 3 referenced schemas");
    let root = UnparsedSchema::new(SchemaType::Json, "{}").with_references(references[..3].to_vec());
    assert!(parse(&root, &resolver, &limits).is_ok());
}

// ---- SubjectError ----

#[test]
fn empty_subject() {
    let error = Subject::new("").unwrap_err();
    assert!(matches!(error, SubjectError::Empty));
    assert_eq!(error.to_string(), "subject name must not be empty");
}

#[test]
fn too_long_subject() {
    assert!(Subject::new(&"s".repeat(255)).is_ok());
    let error = Subject::new(&"s".repeat(256)).unwrap_err();
    assert!(matches!(error, SubjectError::TooLong { len: 256, max: 255 }), "{error:?}");
    assert_eq!(error.to_string(), "subject name is 256 bytes long; the limit is 255");
    // The limit is in bytes: 128 two-byte characters are 256 bytes.
    let error = Subject::new(&"é".repeat(128)).unwrap_err();
    assert!(matches!(error, SubjectError::TooLong { len: 256, .. }), "{error:?}");
}

#[test]
fn subject_with_a_control_character() {
    for (name, at) in [("orders\n-value", 6), ("\u{0}", 0), ("ünïcode\tname", 7), ("del\u{7f}", 3)] {
        let error = Subject::new(name).unwrap_err();
        assert!(matches!(error, SubjectError::ControlCharacter { position } if position == at), "{name:?}: {error:?}");
        assert_eq!(error.to_string(), format!("subject name contains a control character at character {at}"));
    }
    assert_eq!(Subject::new("orders-value:ünïcode.v1").unwrap().as_str(), "orders-value:ünïcode.v1");
}

#[test]
fn subject_errors_apply_when_deserializing() {
    let error = serde_json::from_str::<Subject>(r#""""#).unwrap_err();
    assert!(error.to_string().contains("subject name must not be empty"), "{error}");
    let error = "a\u{1b}b".parse::<Subject>().unwrap_err();
    assert!(matches!(error, SubjectError::ControlCharacter { position: 1 }), "{error:?}");
}

// ---- VersionError and VersionSelector ----

#[test]
fn version_zero_and_above_i32_max_are_out_of_range() {
    for number in [0, i32::MAX as u32 + 1, u32::MAX] {
        let error = Version::new(number).unwrap_err();
        assert!(matches!(&error, VersionError::OutOfRange(n) if *n == number.to_string()), "{error:?}");
        assert!(error.to_string().contains("use a number from 1 to 2147483647"), "{error}");
    }
    assert_eq!(Version::new(i32::MAX as u32).unwrap(), Version::MAX);
    assert_eq!(Version::MAX.next(), None);
    assert_eq!(Version::FIRST.next(), Some(version(2)));
}

#[test]
fn version_out_of_range_when_deserializing() {
    let error = serde_json::from_str::<Version>("0").unwrap_err();
    assert!(error.to_string().contains("version 0 is out of range"), "{error}");
}

#[test]
fn version_selector_parses_latest_and_numbers() {
    for text in ["latest", "LATEST", "Latest", "-1"] {
        assert_eq!(text.parse::<VersionSelector>(), Ok(VersionSelector::Latest), "{text}");
    }
    assert_eq!("1".parse::<VersionSelector>(), Ok(VersionSelector::Number(Version::FIRST)));
    assert_eq!("2147483647".parse::<VersionSelector>(), Ok(VersionSelector::Number(Version::MAX)));
    assert_eq!(VersionSelector::Latest.to_string(), "latest");
    assert_eq!(VersionSelector::Number(version(7)).to_string(), "7");
}

#[test]
fn version_selector_zero_is_out_of_range() {
    let error = "0".parse::<VersionSelector>().unwrap_err();
    assert!(matches!(&error, VersionError::OutOfRange(n) if n == "0"), "{error:?}");
    assert_eq!(error.to_string(), "version 0 is out of range: use a number from 1 to 2147483647, 'latest' or -1");
}

#[test]
fn version_selector_above_i32_max_is_out_of_range() {
    let error = "2147483648".parse::<VersionSelector>().unwrap_err();
    assert!(matches!(&error, VersionError::OutOfRange(n) if n == "2147483648"), "{error:?}");
}

#[test]
fn version_selector_that_is_not_a_number() {
    for text in ["abc", "", "1.0", " 1", "-2", "latest ", "v1", "99999999999999999999"] {
        let error = text.parse::<VersionSelector>().unwrap_err();
        assert!(matches!(&error, VersionError::NotANumber(t) if t == text), "{text:?}: {error:?}");
        assert_eq!(
            error.to_string(),
            format!("'{text}' is not a version: use a number from 1 to 2147483647, 'latest' or -1")
        );
    }
}

// ---- CompatibilityLevel ----

#[test]
fn compatibility_level_parses_in_any_case() {
    for level in CompatibilityLevel::ALL {
        assert_eq!(level.as_str().parse::<CompatibilityLevel>(), Ok(level));
        assert_eq!(level.as_str().to_lowercase().parse::<CompatibilityLevel>(), Ok(level));
        assert_eq!(level.to_string(), level.as_str());
    }
    assert_eq!("Full_Transitive".parse::<CompatibilityLevel>(), Ok(CompatibilityLevel::FullTransitive));
}

#[test]
fn unknown_compatibility_level_lists_the_choices() {
    for text in ["", "BACKWARDS", "backward-transitive", "FULL TRANSITIVE", "NONE_TRANSITIVE"] {
        let error = text.parse::<CompatibilityLevel>().unwrap_err();
        assert_eq!(error.0, text);
        let message = error.to_string();
        assert!(message.contains(&format!("'{text}'")), "{message}");
        assert!(
            message
                .contains("NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or FULL_TRANSITIVE"),
            "{message}"
        );
    }
}

// ---- Regressions ----

/// apache-avro unwraps its own name validation: an invalid record name, alias, type name or nested type name
/// used to panic inside `Schema::parse` instead of returning an error.
#[test]
fn avro_invalid_names_are_errors_not_panics() {
    for (text, name) in [
        (r#"{"type": "record", "name": "1st-record", "fields": []}"#, "1st-record"),
        (r#"{"type": "enum", "name": "E", "aliases": ["old-e"], "symbols": ["A"]}"#, "old-e"),
        (r#"{"type": "fixed", "name": "", "size": 4}"#, "''"),
        (r#"{"type": "x.-y"}"#, "x.-y"),
        (
            r#"{"type": "record", "name": "R", "fields": [{"name": "f", "type": "record", "aliases": ["a b"], "fields": []}]}"#,
            "a b",
        ),
        (r#"{"type": {"type": "record", "name": "in valid", "fields": []}}"#, "in valid"),
        (
            r#"["null", {"type": "enum", "name": "ok", "namespace": "n", "symbols": ["A"], "aliases": ["n..x"]}]"#,
            "n..x",
        ),
    ] {
        let error = parse_alone(SchemaType::Avro, text).unwrap_err();
        assert!(matches!(&error, SchemaError::Invalid { format: SchemaType::Avro, .. }), "{text}: {error:?}");
        assert!(error.to_string().contains(name) && error.to_string().contains("not a valid Avro name"), "{error}");
    }
}

#[test]
fn avro_valid_names_still_parse() {
    for text in [
        r#"{"type": "record", "name": "_A1", "namespace": "com.acme_2", "aliases": ["x.Old", "Older"], "fields": []}"#,
        r#"{"type": "record", "name": ".Rooted", "fields": []}"#,
        // A name on a primitive means nothing to Avro and is not checked.
        r#"{"type": "string", "name": "not a name"}"#,
    ] {
        assert!(parse_alone(SchemaType::Avro, text).is_ok(), "{text}: {:?}", parse_alone(SchemaType::Avro, text).err());
    }
}

/// apache-avro silently replaced an earlier definition of a name with a later one.
#[test]
fn avro_named_type_defined_twice_is_refused() {
    let text = r#"{"type": "record", "name": "A", "fields": [
        {"name": "x", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
        {"name": "y", "type": {"type": "enum", "name": "E", "symbols": ["B"]}}]}"#;
    let error = parse_alone(SchemaType::Avro, text).unwrap_err();
    assert!(
        matches!(&error, SchemaError::Invalid { message, .. } if message == "the named type 'E' is defined more than once"),
        "{error:?}"
    );
    let recursive = r#"{"type": "record", "name": "N", "fields": [{"name": "next", "type": ["null", "N"]}]}"#;
    assert!(parse_alone(SchemaType::Avro, recursive).is_ok(), "a use of a name is not a second definition");
}

/// An Avro reference that was not valid JSON failed as `Invalid` without saying which reference was broken.
#[test]
fn avro_broken_reference_is_an_invalid_reference() {
    let resolver = registry(vec![(("b", 1), UnparsedSchema::new(SchemaType::Avro, "{\"type\": "))]);
    let root =
        UnparsedSchema::new(SchemaType::Avro, AVRO_USES_B).with_references(vec![reference("com.acme.B", "b", 1)]);
    let error = parse(&root, &resolver, &Limits::default()).unwrap_err();
    assert!(matches!(&error, SchemaError::InvalidReference { name, .. } if name == "com.acme.B"), "{error:?}");
    assert!(error.to_string().contains("not valid JSON"), "{error}");
}

/// Protobuf errors used protox's `Display`, which has no position: a user could not find the mistake.
#[test]
fn protobuf_errors_name_line_and_column() {
    let error =
        parse_alone(SchemaType::Protobuf, "syntax = \"proto3\";\nmessage A {\n  strin a = 1;\n}\n").unwrap_err();
    assert!(
        matches!(&error, SchemaError::Invalid { message, .. } if message == "name 'strin' is not defined at line 3 column 3"),
        "{error:?}"
    );
    let error =
        parse_alone(SchemaType::Protobuf, "syntax = \"proto3\";\nmessage A {\n  string a = 1\n}\n").unwrap_err();
    assert!(error.to_string().ends_with("at line 4 column 1"), "{error}");
    assert!(!error.to_string().contains("schema-registry-root"), "internal file name leaked: {error}");
}
