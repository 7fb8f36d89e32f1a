//! The diff explainer, case by case (`tests/diff/cases.json`): each difference's kind, path and the directions it
//! breaks, and the bump, for two schemas of each format.

use registry_core::diff::diff;
use registry_core::{Limits, NoReferences, SchemaType, UnparsedSchema};
use serde_json::{Value, json};

fn parse(schema_type: SchemaType, schema: &Value) -> registry_core::ParsedSchema {
    let text = match schema {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    registry_core::parse(&UnparsedSchema::new(schema_type, text), &NoReferences, &Limits::default()).expect("parses")
}

#[test]
fn each_case_explains_its_differences() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/diff/cases.json");
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).expect("cases")).expect("JSON");
    let mut failures = Vec::new();
    let print = std::env::var("DIFF_PRINT").is_ok();
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let schema_type: SchemaType = case["schema_type"].as_str().expect("type").parse().expect("a type");
        let found = diff(&parse(schema_type, &case["old"]), &parse(schema_type, &case["new"])).expect("diffs");
        let got = json!({
            "differences": found.differences.iter().map(|d| json!({
                "kind": d.kind, "path": d.path, "breaks_backward": d.breaks_backward, "breaks_forward": d.breaks_forward,
            })).collect::<Vec<_>>(),
            "bump": found.bump,
        });
        if print {
            println!("{name}: {got}");
        }
        let want = json!({"differences": case["differences"], "bump": case["bump"]});
        if got != want {
            failures.push(format!("{name}:\n  want {want}\n  got  {got}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
