//! Conformance with the reference registry: its own diff examples (`../shared/conformance/`, kept outside the
//! project), run through our compatibility check, compared verdict by verdict.

use std::collections::BTreeSet;
use std::path::PathBuf;

use registry_core::compat::{self, Violation};
use registry_core::{NoReferences, ParsedSchema, SchemaType, UnparsedSchema, parse};
use serde_json::Value;

/// Cases where we knowingly differ from the reference registry, by description; each is explained in
/// `docs/compatibility.md`. Empty: we agree on every verdict.
const JSON_KNOWN_DEVIATIONS: &[&str] = &[];

/// The entries of a conformance file, or `None` (after saying so) when the file is not there.
fn load_examples(file: &str) -> Option<Vec<Value>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance").join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("conformance data {} not found; skipping", path.display());
        return None;
    };
    let value: Value = serde_json::from_str(&text).expect("conformance file is JSON");
    Some(value.as_array().expect("conformance file is an array").clone())
}

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
    let Some(examples) = load_examples("confluent-json-diff-examples.json") else {
        return;
    };
    let known: BTreeSet<String> =
        registry_core::compat::ViolationKind::JSON.iter().map(|k| k.as_str().to_string()).collect();
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
