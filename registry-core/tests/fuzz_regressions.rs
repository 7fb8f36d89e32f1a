//! Regression tests for what the fuzz targets found in `registry-core` (fuzz/fuzz_targets): each input, reduced,
//! and what it must do instead.

use registry_core::{
    Limits, NoReferences, ResolveError, SchemaError, SchemaReference, SchemaType, Subject, UnparsedSchema, Version,
    parse,
};

/// A base64 `FileDescriptorProto` whose `syntax` is neither proto2 nor proto3 (`"1"`, empty, `"editions"`)
/// panicked inside prost-reflect, which indexes the file it has not added yet to say where the syntax is (the
/// `parse` target: `pYgEx`). It is refused as an invalid schema, as the root and as a reference.
#[test]
fn a_protobuf_descriptor_of_an_unknown_syntax_is_refused_not_a_panic() {
    let descriptors =
        [("YgEx", "1"), ("YgA=", ""), ("YghlZGl0aW9ucw==", "editions"), ("CgdhLnByb3RvYgZwcm90bzQ=", "proto4")];
    for (text, syntax) in descriptors {
        let error =
            parse(&UnparsedSchema::new(SchemaType::Protobuf, text), &NoReferences, &Limits::default()).unwrap_err();
        assert!(
            matches!(&error, SchemaError::Invalid { message, .. } if message.contains(&format!("syntax '{syntax}'"))),
            "{text}: {error:?}"
        );

        let subject = Subject::new("imported").unwrap();
        let version = Version::new(1).unwrap();
        let resolver = |_: &SchemaReference| Ok::<_, ResolveError>(UnparsedSchema::new(SchemaType::Protobuf, text));
        let root =
            UnparsedSchema::new(SchemaType::Protobuf, "syntax = \"proto3\";\nimport \"a.proto\";\nmessage M {}\n")
                .with_references(vec![SchemaReference { name: "a.proto".into(), subject, version }]);
        let error = parse(&root, &resolver, &Limits::default()).unwrap_err();
        assert!(matches!(&error, SchemaError::InvalidReference { name, .. } if name == "a.proto"), "{text}: {error:?}");
    }
    let proto2 = "CgdhLnByb3RvYgZwcm90bzI="; // name "a.proto", syntax "proto2"
    parse(&UnparsedSchema::new(SchemaType::Protobuf, proto2), &NoReferences, &Limits::default()).expect("proto2");
}

/// Two extensions of one message with one number, and an option that sets one of them, made prost-reflect panic
/// while resolving options, and its panic message printed a recursive message type until the stack ran out (the
/// `parse` target, from a seed with custom options: a process abort, not a panic to catch). The pair is refused
/// before compiling, whether both are in the schema or one comes with a reference, however the message is named.
#[test]
fn an_extension_number_declared_twice_is_refused_before_it_can_abort() {
    let extension = |name: &str, extendee: &str| {
        format!(
            "syntax = \"proto3\";\npackage acme;\nimport \"google/protobuf/descriptor.proto\";\nmessage Rule {{ string name = 1; Rule nested = 2; }}\nextend {extendee} {{ Rule {name} = 50002; }}\n"
        )
    };
    let both = format!(
        "{}extend google.protobuf.FieldOptions {{ repeated Rule rules = 50002; }}\nmessage M {{ string a = 1 [(rule) = {{ name: \"x\" }}]; }}\n",
        extension("rule", ".google.protobuf.FieldOptions")
    );
    let error = parse(&UnparsedSchema::new(SchemaType::Protobuf, both), &NoReferences, &Limits::default()).unwrap_err();
    assert!(
        matches!(&error, SchemaError::Invalid { message, .. } if message.contains("extension number 50002 of FieldOptions is declared twice")),
        "{error:?}"
    );

    let imported = extension("rule", "google.protobuf.FieldOptions");
    let resolver =
        |_: &SchemaReference| Ok::<_, ResolveError>(UnparsedSchema::new(SchemaType::Protobuf, imported.clone()));
    let root = UnparsedSchema::new(
        SchemaType::Protobuf,
        "syntax = \"proto3\";\npackage other;\nimport \"a.proto\";\nimport \"google/protobuf/descriptor.proto\";\nextend google.protobuf.FieldOptions { string tag = 50002; }\nmessage M { string a = 1 [(tag) = \"x\"]; }\n",
    )
    .with_references(vec![SchemaReference {
        name: "a.proto".into(),
        subject: Subject::new("imported").unwrap(),
        version: Version::new(1).unwrap(),
    }]);
    let error = parse(&root, &resolver, &Limits::default()).unwrap_err();
    assert!(matches!(&error, SchemaError::Invalid { message, .. } if message.contains("declared twice")), "{error:?}");
}
