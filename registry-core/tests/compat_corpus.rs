//! The compatibility corpus: every `tests/compat/*.json` file is a table of writer/reader pairs with the
//! expected verdict each way and the expected violation kinds of the backward check, run by this one runner
//! for every format.
//!
//! A file is `{"schema_type": "JSON" | "AVRO" | "PROTOBUF", "cases": [case...]}`; a case is
//! `{"name", "writer", "reader", "backward", "forward", "kinds"?, "writer_references"?, "reader_references"?}`.
//! `backward` is whether `can_read(reader, writer)` is empty, `forward` whether `can_read(writer, reader)` is;
//! `kinds` (default: none) are the kinds of the backward check, in any order. A schema is given as a string (its
//! text, e.g. `.proto` source) or, for the formats written in JSON, as a JSON value. References are an object
//! from the name a schema imports to that schema.

use std::collections::BTreeSet;
use std::path::PathBuf;

use registry_core::compat::{Violation, can_read};
use registry_core::{ParsedSchema, ResolveError, SchemaReference, SchemaType, Subject, UnparsedSchema, Version, parse};
use serde_json::Value;

/// Every corpus file must hold at least this many cases, so that a truncated or mis-shaped file cannot pass.
const MIN_CASES: usize = 100;

fn schema_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Parses one side of a case, with its references registered as subject = name, version 1.
fn parse_side(schema_type: SchemaType, schema: &Value, references: Option<&Value>) -> Result<ParsedSchema, String> {
    let references: Vec<(String, String)> = references
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(name, schema)| (name.clone(), schema_text(schema))).collect())
        .unwrap_or_default();
    let refs: Vec<SchemaReference> = references
        .iter()
        .map(|(name, _)| SchemaReference {
            name: name.clone(),
            subject: Subject::new(name).expect("reference name is a valid subject"),
            version: Version::new(1).expect("version 1"),
        })
        .collect();
    let resolver = |reference: &SchemaReference| -> Result<UnparsedSchema, ResolveError> {
        references
            .iter()
            .find(|(name, _)| *name == reference.name)
            .map(|(_, text)| UnparsedSchema::new(schema_type, text.clone()))
            .ok_or(ResolveError::NotFound { subject: reference.subject.clone(), version: reference.version })
    };
    let unparsed = UnparsedSchema::new(schema_type, schema_text(schema)).with_references(refs);
    parse(&unparsed, &resolver, &Default::default()).map_err(|e| e.to_string())
}

/// What every violation must carry: a message, and for JSON Schema a `#/` pointer into the schema. (Protobuf
/// paths are `package.Message.field` and may be empty for the default package.)
fn violation_problem(schema_type: SchemaType, violation: &Violation) -> Option<String> {
    if violation.message.is_empty() {
        return Some(format!("violation without a message: {violation:?}"));
    }
    if schema_type == SchemaType::Json && !violation.path.starts_with("#/") {
        return Some(format!("violation without a `#/` path: {violation:?}"));
    }
    None
}

/// Runs one case; `Err` describes every way it failed.
fn run_case(schema_type: SchemaType, case: &Value) -> Result<(), String> {
    let writer = parse_side(schema_type, &case["writer"], case.get("writer_references"))
        .map_err(|e| format!("writer does not parse: {e}"))?;
    let reader = parse_side(schema_type, &case["reader"], case.get("reader_references"))
        .map_err(|e| format!("reader does not parse: {e}"))?;
    let backward = can_read(&reader, &writer).map_err(|e| e.to_string())?;
    let forward = can_read(&writer, &reader).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    if case["backward"].as_bool() != Some(backward.is_empty()) {
        problems.push(format!("backward: expected {}, got {backward:#?}", case["backward"]));
    }
    if case["forward"].as_bool() != Some(forward.is_empty()) {
        problems.push(format!("forward: expected {}, got {forward:#?}", case["forward"]));
    }
    let expected: BTreeSet<&str> = case["kinds"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let got: BTreeSet<&str> = backward.iter().map(|v| v.kind.as_str()).collect();
    if expected != got {
        problems.push(format!("kinds: expected {expected:?}, got {got:?}"));
    }
    problems.extend(backward.iter().chain(&forward).filter_map(|v| violation_problem(schema_type, v)));
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n    ")) }
}

#[test]
fn compat_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/compat exists")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    let mut failures = Vec::new();
    let mut too_small = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("corpus file is readable");
        let corpus: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let schema_type: SchemaType = corpus["schema_type"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{}: needs a schema_type", file.display()));
        let cases = corpus["cases"].as_array().unwrap_or_else(|| panic!("{}: needs cases", file.display()));
        let mut names = BTreeSet::new();
        let mut ran = 0;
        for case in cases {
            let name = case["name"].as_str().unwrap_or_else(|| panic!("{}: a case without a name", file.display()));
            assert!(names.insert(name), "{}: duplicate case name {name}", file.display());
            if let Err(problem) = run_case(schema_type, case) {
                failures.push(format!("{} / {name}:\n    {problem}", file.display()));
            }
            ran += 1;
        }
        println!("{} ({schema_type}): {ran} cases", file.display());
        if ran < MIN_CASES {
            too_small.push(format!("{}: ran only {ran} cases, expected at least {MIN_CASES}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{} corpus cases failed:\n{}", failures.len(), failures.join("\n"));
    assert!(too_small.is_empty(), "corpus files too small:\n{}", too_small.join("\n"));
}
