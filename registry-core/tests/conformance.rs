//! Conformance: our BACKWARD verdicts against the reference registry's published diff examples, read from
//! `../shared/conformance/` next to the workspace (never copied into the project). A missing file skips the test.

use std::collections::HashMap;
use std::path::PathBuf;

use registry_core::compat::{self, ViolationKind};
use registry_core::{Limits, ParsedSchema, ResolveError, SchemaReference, SchemaType, UnparsedSchema, parse};
use serde_json::Value;

/// The cases of one conformance file, or `None` (with a note) when it is not there.
fn load_cases(file: &str) -> Option<Vec<Value>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance").join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("{} does not exist; skipping", path.display());
        return None;
    };
    match serde_json::from_str(&text) {
        Ok(Value::Array(cases)) => Some(cases),
        other => panic!("{} is not a JSON array: {other:?}", path.display()),
    }
}

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
        let original = parse_side(case, "original");
        let update = parse_side(case, "update");
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

/// The reference's incompatible difference types of a case: those that name one of our violation kinds.
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
fn parse_side(case: &Value, side: &str) -> ParsedSchema {
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
