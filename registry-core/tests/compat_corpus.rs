//! The compatibility corpus: every `tests/compat/*.json` file is a table of writer/reader pairs with the expected
//! BACKWARD and FORWARD verdicts and the violation kinds of the BACKWARD check. One runner for every format.

use std::path::PathBuf;

use registry_core::compat::{self, Violation};
use registry_core::{Limits, NoReferences, ParsedSchema, SchemaType, UnparsedSchema, parse};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Corpus {
    schema_type: SchemaType,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    /// A schema text, or a JSON value for the formats written in JSON.
    writer: Value,
    reader: Value,
    /// `can_read(reader, writer)` is empty.
    backward: bool,
    /// `can_read(writer, reader)` is empty.
    forward: bool,
    /// The kinds of the backward check, in any order.
    #[serde(default)]
    kinds: Vec<String>,
}

#[test]
fn compat_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/compat exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable corpus file");
        let corpus: Corpus = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in &corpus.cases {
            if let Err(failure) = run(corpus.schema_type, case) {
                failures.push(format!("{} / {}: {failure}", file.display(), case.name));
            }
        }
        println!("{}: {} cases", file.display(), corpus.cases.len());
    }
    assert!(failures.is_empty(), "{} corpus case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

fn run(schema_type: SchemaType, case: &Case) -> Result<(), String> {
    let writer = parse_schema(schema_type, &case.writer).map_err(|e| format!("writer does not parse: {e}"))?;
    let reader = parse_schema(schema_type, &case.reader).map_err(|e| format!("reader does not parse: {e}"))?;
    let backward = compat::can_read(&reader, &writer).map_err(|e| e.to_string())?;
    let forward = compat::can_read(&writer, &reader).map_err(|e| e.to_string())?;
    if backward.is_empty() != case.backward {
        return Err(format!("backward: expected compatible={}, got {}", case.backward, show(&backward)));
    }
    if forward.is_empty() != case.forward {
        return Err(format!("forward: expected compatible={}, got {}", case.forward, show(&forward)));
    }
    let mut kinds: Vec<&str> = backward.iter().map(|v| v.kind.as_str()).collect();
    let mut expected: Vec<&str> = case.kinds.iter().map(String::as_str).collect();
    kinds.sort_unstable();
    expected.sort_unstable();
    if kinds != expected {
        return Err(format!("backward kinds: expected {expected:?}, got {}", show(&backward)));
    }
    Ok(())
}

fn parse_schema(schema_type: SchemaType, schema: &Value) -> Result<ParsedSchema, String> {
    let text = match schema {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    parse(&UnparsedSchema::new(schema_type, text), &NoReferences, &Limits::default()).map_err(|e| e.to_string())
}

fn show(violations: &[Violation]) -> String {
    let lines: Vec<String> = violations.iter().map(Violation::to_string).collect();
    format!("[{}]", lines.join("; "))
}
