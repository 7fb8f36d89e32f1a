//! A schema's text without its documentation: what tells a change of documentation alone (a patch bump of the
//! semantic version) from a change of the schema.
//!
//! Avro: every `doc` of a type or a field. JSON Schema: the annotations `title`, `description`, `examples` and
//! `$comment` of every schema in the document, not a property of that name. Protobuf: comments are not part of its
//! identity at all, so a change of comments alone is the same schema.

use sha2::{Digest, Sha256};

use super::jackson::{self, Node, Numbers};
use crate::SchemaType;

/// JSON Schema keywords whose value is a map from names to schemas: the names are not keywords.
const SCHEMA_MAPS: &[&str] =
    &["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"];
/// JSON Schema keywords whose value is data, not a schema.
const DATA: &[&str] = &["const", "enum", "default", "examples"];
/// JSON Schema annotations that only document.
const ANNOTATIONS: &[&str] = &["title", "description", "examples", "$comment"];

/// Whether `new` is `old` but for its documentation (two texts of `schema_type`, as stored): they differ, and
/// are equal once their documentation is set aside. Never for Protobuf.
pub fn differs_only_in_documentation(schema_type: SchemaType, old: &str, new: &str) -> bool {
    worth_comparing(schema_type, old, new)
        && matches!(
            (without_documentation(schema_type, old), without_documentation(schema_type, new)),
            (Some(old), Some(new)) if old == new
        )
}

/// Whether two texts of `schema_type` may differ in their documentation alone, before either is parsed: they
/// differ, and one of them documents something. Neither documenting anything (the usual case), they are the same
/// only if equal. Never for Protobuf, whose comments are not part of a schema.
pub(crate) fn worth_comparing(schema_type: SchemaType, old: &str, new: &str) -> bool {
    let keys: &[&str] = match schema_type {
        SchemaType::Avro => &["\"doc\""],
        SchemaType::Json => &["\"title\"", "\"description\"", "\"examples\"", "\"$comment\""],
        SchemaType::Protobuf => return false,
    };
    let documented = |text: &str| keys.iter().any(|key| text.contains(key));
    old != new && (documented(old) || documented(new))
}

/// SHA-256 of `text` (a schema of `schema_type`, as stored) without its documentation: two texts with the same
/// digest are the same once their documentation is set aside. `None` where [`without_documentation`] has no text.
pub(crate) fn undocumented_digest(schema_type: SchemaType, text: &str) -> Option<[u8; 32]> {
    without_documentation(schema_type, text).map(|bare| Sha256::digest(bare.as_bytes()).into())
}

/// [`undocumented_digest`] of the canonical text written from `node`, a JSON Schema as read (numbers as decimals),
/// from `node` itself: a canonical text read again is the tree it was written from, so neither is parsed again.
pub(crate) fn json_schema_undocumented_digest(node: Node<'_>, capacity: usize) -> [u8; 32] {
    Sha256::digest(bare(SchemaType::Json, node, capacity).as_bytes()).into()
}

/// `text` (a schema of `schema_type`) without its documentation, written compactly; `None` for Protobuf and for a
/// text that is not JSON.
fn without_documentation(schema_type: SchemaType, text: &str) -> Option<String> {
    let numbers = match schema_type {
        SchemaType::Avro => Numbers::Double,
        SchemaType::Json => Numbers::Decimal,
        SchemaType::Protobuf => return None,
    };
    Some(bare(schema_type, Node::parse(text, numbers).ok()?, text.len()))
}

/// `node`, an Avro schema (numbers read as doubles) or a JSON Schema (as decimals), without its documentation,
/// written compactly.
fn bare(schema_type: SchemaType, node: Node<'_>, capacity: usize) -> String {
    let (stripped, numbers) = match schema_type {
        SchemaType::Avro => (avro(node), Numbers::Double),
        _ => (json_schema(node), Numbers::Decimal),
    };
    let mut out = String::with_capacity(capacity);
    jackson::write(&stripped, numbers, &mut out);
    out
}

/// An Avro schema without the `doc` of its types and fields (an object with a `type`); defaults are data, kept.
fn avro(node: Node<'_>) -> Node<'_> {
    match node {
        Node::Object(members) => {
            let typed = members.iter().any(|(key, _)| key == "type");
            Node::Object(
                members
                    .into_iter()
                    .filter(|(key, _)| !(typed && key == "doc"))
                    .map(|(key, value)| if key == "default" { (key, value) } else { (key, avro(value)) })
                    .collect(),
            )
        }
        Node::Array(items) => Node::Array(items.into_iter().map(avro).collect()),
        other => other,
    }
}

/// A JSON Schema without the annotations of any schema in it.
fn json_schema(node: Node<'_>) -> Node<'_> {
    match node {
        Node::Object(members) => Node::Object(
            members
                .into_iter()
                .filter(|(key, _)| !ANNOTATIONS.contains(&key.as_ref()))
                .map(|(key, value)| {
                    let value = if DATA.contains(&key.as_ref()) {
                        value
                    } else if SCHEMA_MAPS.contains(&key.as_ref()) {
                        schema_map(value)
                    } else {
                        json_schema(value)
                    };
                    (key, value)
                })
                .collect(),
        ),
        Node::Array(items) => Node::Array(items.into_iter().map(json_schema).collect()),
        other => other,
    }
}

/// A map from names to schemas: each name kept, each schema without its annotations.
fn schema_map(node: Node<'_>) -> Node<'_> {
    match node {
        Node::Object(members) => {
            Node::Object(members.into_iter().map(|(key, value)| (key, json_schema(value))).collect())
        }
        other => json_schema(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (format, one text, another, whether they differ only in documentation).
    const CASES: &[(SchemaType, &str, &str, bool)] = &[
        (
            SchemaType::Avro,
            r#"{"type":"record","name":"R","doc":"one","fields":[{"name":"f","type":"int","doc":"a"}]}"#,
            r#"{"type":"record","name":"R","doc":"two","fields":[{"name":"f","type":"int"}]}"#,
            true,
        ),
        (
            SchemaType::Avro,
            r#"{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"enum","name":"E","doc":"x","symbols":["A"]}}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"enum","name":"E","symbols":["A"]}}]}"#,
            true,
        ),
        (
            SchemaType::Avro,
            r#"{"type":"record","name":"R","fields":[{"name":"f","type":"int","doc":"a"}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"g","type":"int","doc":"a"}]}"#,
            false,
        ),
        (
            SchemaType::Avro,
            r#"{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"map","values":"string"},"default":{"doc":"1"}}]}"#,
            r#"{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"map","values":"string"},"default":{"doc":"2"}}]}"#,
            false,
        ),
        (
            SchemaType::Json,
            r#"{"title":"T","type":"object","properties":{"a":{"type":"string","description":"x","examples":["q"]}}}"#,
            r#"{"type":"object","$comment":"c","properties":{"a":{"type":"string"}}}"#,
            true,
        ),
        (
            SchemaType::Json,
            r#"{"type":"object","properties":{"title":{"type":"string"}}}"#,
            r#"{"type":"object","properties":{"description":{"type":"string"}}}"#,
            false,
        ),
        (SchemaType::Json, r#"{"const":{"title":"a"}}"#, r#"{"const":{"title":"b"}}"#, false),
        (
            SchemaType::Json,
            r#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"title":"x"}"#,
            r#"{"type":"object","properties":{"a":{"type":"string"}},"title":"x"}"#,
            false,
        ),
    ];

    #[test]
    fn documentation_alone_is_set_apart() {
        for (schema_type, a, b, same) in CASES {
            let (a_bare, b_bare) = (without_documentation(*schema_type, a), without_documentation(*schema_type, b));
            assert!(a_bare.is_some() && b_bare.is_some(), "{a} / {b}");
            assert_eq!(a_bare == b_bare, *same, "{a}\n{b}\n{a_bare:?}\n{b_bare:?}");
            assert_eq!(differs_only_in_documentation(*schema_type, a, b), *same, "{a}\n{b}");
            assert!(!differs_only_in_documentation(*schema_type, a, a), "{a} is not a change");
        }
        assert_eq!(without_documentation(SchemaType::Protobuf, "syntax = \"proto3\";"), None);
        let proto = ["syntax = \"proto3\";\n// one\nmessage M {}", "syntax = \"proto3\";\n// two\nmessage M {}"];
        assert!(!differs_only_in_documentation(SchemaType::Protobuf, proto[0], proto[1]));
    }

    /// The digest a JSON Schema's parse takes from the tree its canonical text is written from is the one its
    /// canonical text gives when read again: over numbers in every spelling, escapes, repeated keys and sorting.
    #[test]
    fn a_json_schema_digest_from_its_tree_is_its_canonical_texts() {
        let numbers = [
            "0",
            "-0",
            "12",
            "123456789012345678901234567890",
            "1.0",
            "1.50",
            "1e3",
            "1.5e3",
            "1e20",
            "0.0001",
            "0.0000001",
            "-0.0",
            "12345678.9",
            "1E-2",
            "0e2",
            "-2.50e-1",
            "1e-9223372036854775808",
            "1e400",
            "-1e400",
        ];
        let mut texts: Vec<String> = numbers
            .iter()
            .map(|n| {
                format!(
                    r#"{{"title":"T {n}","type":"object","properties":{{"a":{{"type":"number","maximum":{n},"default":{n},"description":"\u00e9\n\"q\" {n}","examples":[{n}]}},"title":{{"const":{{"title":{n}}}}}}},"$comment":"c","b":[{n},{{"description":"x"}}]}}"#
                )
            })
            .collect();
        texts.push(r#"{"type":"object","title":"a","title":"b","properties":{"z":{"type":"string"},"a":{}}}"#.into());
        texts.push(r#"{"type":"string","description":"\ud83d\ude00 \u0001 \/"}"#.into());
        texts.push(r#"{"type":"object","properties":{"a":{"type":"integer"}}}"#.into());
        for text in &texts {
            for normalize in [false, true] {
                let (canonical, digest) = crate::format::json::canonical_text(text, normalize, true).unwrap();
                let again = undocumented_digest(SchemaType::Json, &canonical);
                assert_eq!(digest, again, "{text} (normalize: {normalize})");
                let (plain, none) = crate::format::json::canonical_text(text, normalize, false).unwrap();
                assert_eq!((plain, none), (canonical, None));
            }
        }
    }

    /// A parsed schema answers as its stored text does, from a digest it computes once: asked twice, and with the
    /// digest already kept from an earlier question.
    #[test]
    fn parsed_schemas_answer_as_their_texts() {
        let parse = |schema_type: SchemaType, text: &str| {
            let schema = crate::UnparsedSchema::new(schema_type, text);
            crate::format::parse(&schema, &crate::NoReferences, &crate::Limits::default()).unwrap()
        };
        for (schema_type, a, b, _) in CASES {
            let (a, b) = (parse(*schema_type, a), parse(*schema_type, b));
            for (old, new) in [(&a, &b), (&b, &a), (&a, &a)] {
                let by_text = differs_only_in_documentation(*schema_type, old.text(), new.text());
                assert_eq!(old.differs_only_in_documentation(new), by_text, "{}\n{}", old.text(), new.text());
                assert_eq!(old.differs_only_in_documentation(new), by_text, "asked again");
            }
        }
        let proto = ["syntax = \"proto3\";\n// one\nmessage M {}", "syntax = \"proto3\";\n// two\nmessage M {}"];
        let (a, b) = (parse(SchemaType::Protobuf, proto[0]), parse(SchemaType::Protobuf, proto[1]));
        assert!(!a.differs_only_in_documentation(&b));
        let (avro, json) = (parse(SchemaType::Avro, CASES[0].1), parse(SchemaType::Json, CASES[4].1));
        assert!(!avro.differs_only_in_documentation(&json), "formats differ");
    }
}
