//! Conformance with the reference registry: its own published diff examples (`../shared/conformance/` next to
//! the workspace, never copied into the project), run through our BACKWARD check and compared verdict by
//! verdict, and violation kind by violation kind. A missing file fails its test under CI (`CI=true`), where the
//! data is expected, and skips it elsewhere, with a line saying so.

use std::collections::{BTreeSet, HashMap};

use registry_core::compat::{self, Violation, ViolationKind};
use registry_core::{
    Limits, NoReferences, ParsedSchema, ResolveError, SchemaReference, SchemaType, UnparsedSchema, parse,
};
use serde_json::Value;

#[path = "common/conformance_data.rs"]
mod conformance_data;

use conformance_data::load_cases;

// ---------------------------------------------------------------------------------------------------------
// JSON Schema
// ---------------------------------------------------------------------------------------------------------

/// JSON Schema cases where we knowingly differ from the reference registry, by description; each is explained
/// in `docs/compatibility.md`. Empty: we agree on every verdict.
const JSON_KNOWN_DEVIATIONS: &[&str] = &[];

fn parse_json_schema(value: &Value) -> ParsedSchema {
    let unparsed = UnparsedSchema::new(SchemaType::Json, value.to_string());
    parse(&unparsed, &NoReferences, &Default::default()).unwrap_or_else(|e| panic!("{value} does not parse: {e}"))
}

/// The incompatible difference types an entry lists, e.g. `MIN_LENGTH_INCREASED` from
/// `"MIN_LENGTH_INCREASED #/minLength"`, among the kinds we know.
fn expected_kinds(entry: &Value, known: &BTreeSet<String>) -> BTreeSet<String> {
    entry["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|change| change.split_whitespace().next())
        .filter(|kind| known.contains(*kind))
        .map(str::to_string)
        .collect()
}

#[test]
fn json_conformance() {
    let Some(examples) = load_cases("confluent-json-diff-examples.json") else {
        return;
    };
    let known: BTreeSet<String> = ViolationKind::JSON.iter().map(|k| k.as_str().to_string()).collect();
    let mut agree = 0;
    let mut disagreements = Vec::new();
    let mut kind_mismatches = Vec::new();
    for entry in &examples {
        let description = entry["description"].as_str().unwrap_or("?").to_string();
        let original = parse_json_schema(&entry["original_schema"]);
        let update = parse_json_schema(&entry["update_schema"]);
        let violations: Vec<Violation> = compat::can_read(&update, &original).expect("JSON is supported");
        let expected = entry["compatible"].as_bool().expect("compatible is a boolean");
        if violations.is_empty() == expected {
            agree += 1;
        } else {
            disagreements.push(format!("{description}: expected compatible={expected}, got {violations:?}"));
        }
        let ours: BTreeSet<String> = violations.iter().map(|v| v.kind.as_str().to_string()).collect();
        let theirs = expected_kinds(entry, &known);
        if !expected && ours != theirs {
            kind_mismatches.push(format!("{description}: reference {theirs:?}, ours {ours:?}"));
        }
    }
    println!("json: {agree}/{} agree", examples.len());
    for line in &disagreements {
        println!("  disagree: {line}");
    }
    for line in &kind_mismatches {
        println!("  kinds differ: {line}");
    }
    let unexplained: Vec<&String> = disagreements
        .iter()
        .filter(|line| !JSON_KNOWN_DEVIATIONS.iter().any(|known| line.starts_with(&format!("{known}:"))))
        .collect();
    assert!(unexplained.is_empty(), "unexplained disagreements with the reference registry: {unexplained:#?}");
    assert_eq!(disagreements.len(), JSON_KNOWN_DEVIATIONS.len(), "a known deviation now agrees; remove it");
    assert!(kind_mismatches.is_empty(), "violation kinds differ from the reference registry: {kind_mismatches:#?}");
}

// ---------------------------------------------------------------------------------------------------------
// Protobuf
// ---------------------------------------------------------------------------------------------------------

/// Protobuf cases where we knowingly differ from the reference registry, by description, with the reason.
/// Keep in step with the deviations list in `docs/compatibility.md`.
const PROTOBUF_KNOWN_DEVIATIONS: &[(&str, &str)] = &[];

#[test]
fn protobuf_conformance() {
    let Some(cases) = load_cases("confluent-protobuf-diff-examples.json") else {
        return;
    };
    let mut agree = 0;
    let mut disagreements = Vec::new();
    let mut kind_differences = Vec::new();
    for case in &cases {
        let description = case["description"].as_str().unwrap_or("(no description)");
        let original = parse_proto_side(case, "original");
        let update = parse_proto_side(case, "update");
        let violations = compat::can_read(&update, &original).expect("protobuf compatibility is supported");
        let expected = case["compatible"].as_bool().expect("`compatible` is a boolean");
        if violations.is_empty() == expected {
            agree += 1;
        } else {
            disagreements.push(format!("{description}: expected compatible={expected}, got {violations:?}"));
        }
        let mut ours: Vec<&str> = violations.iter().map(|v| v.kind.as_str()).collect();
        let mut theirs = incompatible_changes(case);
        ours.sort_unstable();
        theirs.sort_unstable();
        if ours != theirs {
            kind_differences.push(format!("{description}: reference {theirs:?}, ours {ours:?}"));
        }
    }
    println!("protobuf: {agree}/{} agree", cases.len());
    for line in disagreements.iter().chain(&kind_differences) {
        println!("  differs: {line}");
    }
    let unexplained: Vec<&String> = disagreements
        .iter()
        .filter(|line| !PROTOBUF_KNOWN_DEVIATIONS.iter().any(|(d, _)| line.starts_with(&format!("{d}:"))))
        .collect();
    assert!(unexplained.is_empty(), "verdicts differ from the reference registry: {unexplained:#?}");
    assert_eq!(agree + disagreements.len(), cases.len());
    assert!(kind_differences.is_empty(), "violation kinds differ from the reference registry: {kind_differences:#?}");
}

/// The reference's incompatible difference types of a Protobuf case: those that name one of our violation
/// kinds.
fn incompatible_changes(case: &Value) -> Vec<&'static str> {
    let changes = case["changes"].as_array().map(Vec::as_slice).unwrap_or_default();
    changes
        .iter()
        .filter_map(|change| change.as_str()?.split_whitespace().next())
        .filter_map(|kind| serde_json::from_value::<ViolationKind>(Value::String(kind.to_string())).ok())
        .map(ViolationKind::as_str)
        .collect()
}

/// Parses `{side}_schema` with `{side}_references`, resolved from `{side}_dependencies` by import name.
fn parse_proto_side(case: &Value, side: &str) -> ParsedSchema {
    let text = case[format!("{side}_schema")].as_str().expect("schemas are .proto texts");
    let references: Vec<SchemaReference> = match case.get(format!("{side}_references")) {
        Some(refs) => serde_json::from_value(refs.clone()).expect("references have name, subject and version"),
        None => Vec::new(),
    };
    let dependencies: HashMap<String, String> = case
        .get(format!("{side}_dependencies"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| Some((d["name"].as_str()?.to_string(), d["dependency"].as_str()?.to_string())))
        .collect();
    let resolver = |reference: &SchemaReference| -> Result<UnparsedSchema, ResolveError> {
        dependencies
            .get(&reference.name)
            .map(|text| UnparsedSchema::new(SchemaType::Protobuf, text.clone()))
            .ok_or(ResolveError::NotFound { subject: reference.subject.clone(), version: reference.version })
    };
    let schema = UnparsedSchema::new(SchemaType::Protobuf, text).with_references(references);
    parse(&schema, &resolver, &Limits::default())
        .unwrap_or_else(|e| panic!("{} {side} schema does not parse: {e}", case["description"]))
}
