//! Avro schemas that Confluent's lookups within a subject take as one though their texts differ: Java Avro's
//! `Schema.equals` (with Confluent's `metaEqual`) compares a schema's or a field's custom properties as a map and its
//! aliases as a set, and default values as JSON trees whose objects have no member order. Two canonical texts that
//! differ only in those orders are one schema to a registration or lookup in a subject that holds either.
//!
//! [`equivalence_key`] writes a canonical text with every such order fixed (members sorted, aliases sorted), so two
//! texts are equivalent exactly when their keys are equal. It returns `None` for a text where no order can vary (no
//! object with two custom properties or two default members, no two aliases): such a text is equivalent to itself
//! alone, which its fingerprint already finds.

use serde_json::Value;

/// The keys Java Avro reads itself on a schema or a field; every other key is a custom property.
const RESERVED: [&str; 12] =
    ["type", "name", "namespace", "fields", "items", "values", "symbols", "size", "doc", "aliases", "default", "order"];

/// The text of canonical Avro `text` with every order Java's equality ignores fixed, or `None` when no such order
/// can vary in it (or it is not JSON).
pub fn equivalence_key(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text).ok()?;
    if !schema_orders_vary(&value) {
        return None;
    }
    let mut key = String::with_capacity(text.len());
    write_sorted(&value, Role::Schema, &mut key);
    Some(key)
}

/// Whether a schema (or field) node holds an order Java's equality ignores.
fn schema_orders_vary(node: &Value) -> bool {
    match node {
        Value::Object(members) => {
            let properties = members.keys().filter(|k| !RESERVED.contains(&k.as_str())).count();
            properties >= 2
                || members.iter().any(|(key, value)| match key.as_str() {
                    "aliases" => value.as_array().is_some_and(|aliases| aliases.len() >= 2),
                    "type" | "items" | "values" => schema_orders_vary(value),
                    "fields" => value.as_array().is_some_and(|fields| fields.iter().any(schema_orders_vary)),
                    "default" => data_orders_vary(value),
                    key if !RESERVED.contains(&key) => data_orders_vary(value),
                    _ => false,
                })
        }
        Value::Array(branches) => branches.iter().any(schema_orders_vary),
        _ => false,
    }
}

/// Whether a JSON value (a default or a property's value) holds an object with two members.
fn data_orders_vary(value: &Value) -> bool {
    match value {
        Value::Object(members) => members.len() >= 2 || members.values().any(data_orders_vary),
        Value::Array(items) => items.iter().any(data_orders_vary),
        _ => false,
    }
}

/// What a JSON value is within an Avro schema, for [`write_sorted`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A type or a field: its `aliases` are a set.
    Schema,
    /// A default or a custom property's value: arrays in order.
    Data,
    /// An `aliases` list of a type or a field: a set of names.
    Aliases,
}

/// Writes `value` (playing `role`) compactly with every object's members sorted by key and the names of every
/// `aliases` of a type or a field sorted; every other array in its order.
fn write_sorted(value: &Value, role: Role, out: &mut String) {
    match value {
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                let inner = match (role, key.as_str()) {
                    (Role::Schema, "aliases") => Role::Aliases,
                    (Role::Schema, "type" | "items" | "values" | "fields") => Role::Schema,
                    _ => Role::Data,
                };
                write_sorted(value, inner, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            // A union's branches and a record's fields are schemas; an alias list's names sort.
            let mut written: Vec<String> = items
                .iter()
                .map(|item| {
                    let mut one = String::new();
                    write_sorted(item, if role == Role::Aliases { Role::Data } else { role }, &mut one);
                    one
                })
                .collect();
            if role == Role::Aliases {
                written.sort();
            }
            out.push('[');
            out.push_str(&written.join(","));
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::equivalence_key;

    #[test]
    fn texts_that_differ_in_property_alias_or_default_member_order_have_one_key() {
        let cases = [
            (
                r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}],"owner":"x","team":"y"}"#,
                r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}],"team":"y","owner":"x"}"#,
            ),
            (
                r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","p":1,"q":2}]}"#,
                r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","q":2,"p":1}]}"#,
            ),
            (
                r#"{"type":"record","name":"R","aliases":["A","B"],"fields":[]}"#,
                r#"{"type":"record","name":"R","aliases":["B","A"],"fields":[]}"#,
            ),
            (
                r#"{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"int"},"default":{"x":1,"y":2}}]}"#,
                r#"{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"int"},"default":{"y":2,"x":1}}]}"#,
            ),
            (
                r#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#,
                r#"{"type":"bytes","scale":2,"precision":4,"logicalType":"decimal"}"#,
            ),
        ];
        for (a, b) in cases {
            let (ka, kb) = (equivalence_key(a), equivalence_key(b));
            assert!(ka.is_some(), "{a}");
            assert_eq!(ka, kb, "{a} / {b}");
        }
    }

    #[test]
    fn orders_that_matter_keep_their_keys_apart() {
        let cases = [
            // Field order, union branch order and enum symbol order are part of a schema.
            (
                r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}],"p":1,"q":2}"#,
                r#"{"type":"record","name":"R","fields":[{"name":"b","type":"int"},{"name":"a","type":"int"}],"p":1,"q":2}"#,
            ),
            (
                r#"{"type":"record","name":"R","fields":[{"name":"u","type":["null","int"]}],"p":1,"q":2}"#,
                r#"{"type":"record","name":"R","fields":[{"name":"u","type":["int","null"]}],"p":1,"q":2}"#,
            ),
            (
                r#"{"type":"enum","name":"E","symbols":["A","B"],"p":1,"q":2}"#,
                r#"{"type":"enum","name":"E","symbols":["B","A"],"p":1,"q":2}"#,
            ),
            // Another property value.
            (
                r#"{"type":"record","name":"R","fields":[],"p":1,"q":2}"#,
                r#"{"type":"record","name":"R","fields":[],"p":1,"q":3}"#,
            ),
            // A default's (or a property's) member named `aliases` is data: its array keeps its order.
            (
                r#"{"type":"record","name":"R","fields":[],"p":{"aliases":["a","b"]},"q":2}"#,
                r#"{"type":"record","name":"R","fields":[],"p":{"aliases":["b","a"]},"q":2}"#,
            ),
            // An array default keeps its order.
            (
                r#"{"type":"record","name":"R","fields":[{"name":"l","type":{"type":"array","items":"int"},"default":[1,2]}],"p":1,"q":2}"#,
                r#"{"type":"record","name":"R","fields":[{"name":"l","type":{"type":"array","items":"int"},"default":[2,1]}],"p":1,"q":2}"#,
            ),
        ];
        for (a, b) in cases {
            assert_ne!(equivalence_key(a), equivalence_key(b), "{a} / {b}");
        }
    }

    #[test]
    fn a_text_whose_orders_cannot_vary_has_no_key() {
        for text in [
            r#""int""#,
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","doc":"d"}],"owner":"x"}"#,
            r#"{"type":"record","name":"R","aliases":["A"],"fields":[{"name":"a","type":"int","default":1}]}"#,
            r#"{"type":"bytes","logicalType":"uuid"}"#,
            "not json",
        ] {
            assert_eq!(equivalence_key(text), None, "{text}");
        }
    }
}
