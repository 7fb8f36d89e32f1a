//! Data-driven validation tests: `tests/validate/<format>.json` names schemas once, then lists documents with
//! whether each fits and the exact set of error paths expected. One runner reads all three files.
//!
//! A schema (or a reference's schema) that is a JSON string is the schema text verbatim (Protobuf); any other
//! value is written compactly. A reference named `x` is registered as subject `x`, version 1.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use base64::Engine;
use registry_core::{
    Limits, ParsedSchema, ReferenceResolver, ResolveError, SchemaReference, SchemaType, Subject, UnparsedSchema,
    ValidateOptions, Validator, Version, parse,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// The fewest cases each file must hold, so a truncated file cannot pass quietly.
const MIN_CASES: usize = 30;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    schema_type: SchemaType,
    schemas: BTreeMap<String, SchemaCase>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaCase {
    schema: Value,
    #[serde(default)]
    references: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    /// A key of `schemas`.
    schema: String,
    /// Protobuf: the message to validate against.
    #[serde(default)]
    message: Option<String>,
    /// The document (absent for an Avro binary case; `null` is a document).
    #[serde(default, deserialize_with = "present")]
    data: Option<Value>,
    /// An Avro binary datum, base64.
    #[serde(default)]
    data_base64: Option<String>,
    valid: bool,
    /// Exactly the error paths expected (as a set); empty when valid.
    #[serde(default)]
    paths: Vec<String>,
    /// A substring some error message must contain.
    #[serde(default)]
    message_contains: Option<String>,
    /// Overrides `ValidateOptions::max_errors`.
    #[serde(default)]
    max_errors: Option<usize>,
}

/// Keeps an explicit `null` as a document rather than reading it as absent.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

struct MapResolver {
    schema_type: SchemaType,
    texts: BTreeMap<String, String>,
}

impl ReferenceResolver for MapResolver {
    fn resolve(&self, reference: &SchemaReference) -> Result<UnparsedSchema, ResolveError> {
        match self.texts.get(reference.subject.as_str()) {
            Some(text) => Ok(UnparsedSchema::new(self.schema_type, text.clone())),
            None => Err(ResolveError::NotFound { subject: reference.subject.clone(), version: reference.version }),
        }
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn parse_case(schema_type: SchemaType, case: &SchemaCase) -> ParsedSchema {
    let texts: BTreeMap<String, String> = case.references.iter().map(|(k, v)| (k.clone(), text_of(v))).collect();
    let references = texts
        .keys()
        .map(|name| SchemaReference {
            name: name.clone(),
            subject: Subject::new(name).expect("subject"),
            version: Version::new(1).expect("version"),
        })
        .collect();
    let unparsed = UnparsedSchema::new(schema_type, text_of(&case.schema)).with_references(references);
    let resolver = MapResolver { schema_type, texts };
    parse(&unparsed, &resolver, &Limits::default()).unwrap_or_else(|e| panic!("schema does not parse: {e}"))
}

fn run(file: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/validate").join(file);
    let text = std::fs::read_to_string(&path).expect("read suite");
    let suite: Suite = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(suite.cases.len() >= MIN_CASES, "{file}: {} cases, expected at least {MIN_CASES}", suite.cases.len());
    let parsed: BTreeMap<&str, ParsedSchema> =
        suite.schemas.iter().map(|(name, case)| (name.as_str(), parse_case(suite.schema_type, case))).collect();
    let mut failures = Vec::new();
    for case in &suite.cases {
        let Some(schema) = parsed.get(case.schema.as_str()) else {
            failures.push(format!("{}: no schema '{}'", case.name, case.schema));
            continue;
        };
        let mut options = ValidateOptions { message: case.message.clone(), ..ValidateOptions::default() };
        if let Some(max) = case.max_errors {
            options.max_errors = max;
        }
        let validator = match Validator::compile(schema, &options) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{}: does not compile: {e}", case.name));
                continue;
            }
        };
        let report = match (&case.data, &case.data_base64) {
            (Some(data), None) => validator.validate(data),
            (None, Some(encoded)) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64");
                match validator.validate_avro_binary(&bytes) {
                    Ok(report) => report,
                    Err(e) => {
                        failures.push(format!("{}: binary refused: {e}", case.name));
                        continue;
                    }
                }
            }
            _ => panic!("{}: give exactly one of data and data_base64", case.name),
        };
        let errors = || format!("{:?}", report.errors);
        if report.valid != case.valid {
            failures.push(format!("{}: valid {} (want {}), errors {}", case.name, report.valid, case.valid, errors()));
            continue;
        }
        if report.valid != report.errors.is_empty() {
            failures.push(format!("{}: valid {} with errors {}", case.name, report.valid, errors()));
        }
        let got: BTreeSet<&str> = report.errors.iter().map(|e| e.path.as_str()).collect();
        let want: BTreeSet<&str> = case.paths.iter().map(String::as_str).collect();
        if got != want {
            failures.push(format!("{}: paths {got:?} (want {want:?}), errors {}", case.name, errors()));
        }
        if let Some(fragment) = &case.message_contains
            && !report.errors.iter().any(|e| e.message.contains(fragment.as_str()))
        {
            failures.push(format!("{}: no message contains '{fragment}': {}", case.name, errors()));
        }
        if let Some(max) = case.max_errors
            && report.errors.len() > max.max(1)
        {
            failures.push(format!("{}: {} errors, more than max_errors {max}", case.name, report.errors.len()));
        }
    }
    assert!(failures.is_empty(), "{file}: {} failing cases:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn json_schema_data() {
    run("json.json");
}

#[test]
fn avro_data() {
    run("avro.json");
}

#[test]
fn protobuf_data() {
    run("protobuf.json");
}

#[test]
fn options_that_do_not_apply_are_refused() {
    let avro =
        parse(&UnparsedSchema::new(SchemaType::Avro, "\"string\""), &registry_core::NoReferences, &Limits::default())
            .expect("parse");
    let options = ValidateOptions::default().with_message("x.Y");
    assert!(Validator::compile(&avro, &options).is_err());
    let json = parse(&UnparsedSchema::new(SchemaType::Json, "{}"), &registry_core::NoReferences, &Limits::default())
        .expect("parse");
    let validator = Validator::compile(&json, &ValidateOptions::default()).expect("compile");
    assert!(validator.validate_avro_binary(&[0]).is_err());
}

#[test]
fn a_batch_reports_errors_in_full_until_its_bound_and_then_one_per_invalid_document() {
    let text = r#"{"type": "array", "items": {"type": "integer"}}"#;
    let schema = parse(&UnparsedSchema::new(SchemaType::Json, text), &registry_core::NoReferences, &Limits::default())
        .expect("parse");
    let options = ValidateOptions { max_errors: 3, max_batch_errors: 5, ..ValidateOptions::default() };
    let validator = Validator::compile(&schema, &options).expect("compile");
    let items = [json!(["a", "b", "c", "d"]), json!(["a", "b", "c"]), json!([1]), json!(["a", "b"]), json!(["a"])];
    let reports = validator.validate_batch(&items);
    let errors: Vec<usize> = reports.iter().map(|r| r.errors.len()).collect();
    assert_eq!(errors, [3, 2, 0, 1, 1], "3 (max_errors), the 2 left of 5, then one per invalid document");
    let valid: Vec<bool> = reports.iter().map(|r| r.valid).collect();
    assert_eq!(valid, [false, false, true, false, false], "validity is never lost to the bound");
    assert_eq!(validator.validate(&items[0]).errors.len(), 3, "one document alone is bounded by max_errors only");
}

#[test]
fn deep_data_is_an_error_not_a_crash() {
    let json = parse(&UnparsedSchema::new(SchemaType::Json, "{}"), &registry_core::NoReferences, &Limits::default())
        .expect("parse");
    let validator = Validator::compile(&json, &ValidateOptions::default()).expect("compile");
    let mut deep = Value::Null;
    for _ in 0..10_000 {
        deep = Value::Array(vec![deep]);
    }
    let report = validator.validate(&deep);
    assert!(!report.valid);
    assert_eq!(report.errors[0].path, "");
    // Drop iteratively: serde_json's recursive drop of 10,000 levels could overflow the test thread's stack.
    let mut current = deep;
    while let Value::Array(mut items) = current {
        current = items.pop().unwrap_or(Value::Null);
    }
}

#[test]
fn hostile_avro_binary_is_bounded() {
    let schema = r#"{"type":"record","name":"Node","fields":[
        {"name":"items","type":{"type":"array","items":"null"}},
        {"name":"next","type":["null","Node"]}]}"#;
    let parsed =
        parse(&UnparsedSchema::new(SchemaType::Avro, schema), &registry_core::NoReferences, &Limits::default())
            .expect("parse");
    let validator = Validator::compile(&parsed, &ValidateOptions::default()).expect("compile");
    // An array block claiming 2^62 null items in ten bytes.
    let mut huge = vec![0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    huge.extend([0, 0]);
    assert!(!validator.validate_avro_binary(&huge).expect("avro").valid);
    // A linked list nested 100,000 deep: each level an empty array and union branch 1.
    let mut deep = Vec::new();
    for _ in 0..100_000 {
        deep.extend([0, 2]);
    }
    deep.extend([0, 0]);
    let report = validator.validate_avro_binary(&deep).expect("avro");
    assert!(!report.valid);
    assert!(report.errors[0].message.contains("deeper"), "{:?}", report.errors);
    // Every truncation of a valid datum is refused, none panics.
    let valid = [0, 2, 4, 0, 0];
    assert!(validator.validate_avro_binary(&valid).expect("avro").valid);
    for end in 0..valid.len() {
        assert!(!validator.validate_avro_binary(&valid[..end]).expect("avro").valid, "prefix of {end} bytes");
    }
}
