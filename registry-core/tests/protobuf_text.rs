//! The text stored for a Protobuf schema sent as source: Confluent's printing of the file (its normalized
//! printing when sent with `normalize`), checked case by case (`tests/protobuf_text/cases.json`). Each case's
//! printing is also read back: it is its own printing, and it has the identity of the text sent. A case sent as a
//! descriptor is stored as Confluent prints the file a descriptor describes.

use registry_core::{Limits, NoReferences, ParsedSchema, SchemaType, UnparsedSchema, parse};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    schema: String,
    /// The text stored; absent when `kept`.
    #[serde(default)]
    text: Option<String>,
    /// The text as sent is stored.
    #[serde(default)]
    kept: bool,
    /// Sent with `normalize` (Confluent's normalized printing).
    #[serde(default)]
    normalize: bool,
    /// Sent as the base64 `FileDescriptorProto` the source compiles to, as Confluent's Python client sends it.
    #[serde(default)]
    descriptor: bool,
}

fn parsed(text: &str, normalize: bool) -> ParsedSchema {
    parse(&UnparsedSchema::new(SchemaType::Protobuf, text).normalized(normalize), &NoReferences, &Limits::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn each_source_is_stored_as_confluent_prints_it() {
    let cases: Cases =
        serde_json::from_str(include_str!("protobuf_text/cases.json")).expect("protobuf_text/cases.json");
    assert!(cases.cases.len() >= 15, "a truncated case file");
    let mut failures = Vec::new();
    for case in &cases.cases {
        let sent = if case.descriptor {
            let descriptor = parsed(&case.schema, false).serialized_descriptor().expect("a Protobuf schema");
            let sent = parsed(&descriptor, false);
            assert_eq!(sent.fingerprint(), parsed(&case.schema, false).fingerprint(), "{}: one identity", case.name);
            sent
        } else {
            parsed(&case.schema, case.normalize)
        };
        let expected = match (&case.text, case.kept) {
            (Some(text), false) => text.as_str(),
            (None, true) => case.schema.as_str(),
            _ => panic!("{}: give either text or kept", case.name),
        };
        if sent.text() != expected {
            failures.push(format!("{}:\n--- stored\n{}--- expected\n{}", case.name, sent.text(), expected));
            continue;
        }
        let again = parsed(sent.text(), case.normalize);
        assert_eq!(again.text(), sent.text(), "{}: the stored text is its own printing", case.name);
        assert_eq!(again.fingerprint(), sent.fingerprint(), "{}: the stored text is the same schema", case.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A printing longer than the size limit (two spaces more on each of many short lines) is not stored: the same
/// schema could not be sent as that text again. The text as sent is kept, and it is itself under the limit.
#[test]
fn a_printing_over_the_size_limit_keeps_the_text_as_sent() {
    let limits = Limits { max_schema_bytes: 4096, ..Limits::default() };
    let mut text = String::from("syntax = \"proto3\";\nmessage Wide {\n");
    let mut i = 1;
    while text.len() < 4000 {
        text.push_str(&format!("int32 f{i} = {i};\n"));
        i += 1;
    }
    text.push_str("}\n");
    let parsed = parse(&UnparsedSchema::new(SchemaType::Protobuf, text.clone()), &NoReferences, &limits).unwrap();
    assert_eq!(parsed.text(), text);
    let roomy = parse(&UnparsedSchema::new(SchemaType::Protobuf, text.clone()), &NoReferences, &Limits::default());
    assert!(roomy.unwrap().text().len() > 4096, "printed under a larger limit, it is longer than this one");
}
