//! Deterministic bench schemas: a 20-field schema of each format (1-5 KB), a compatible evolution of it, and
//! a matching data document.

use registry_core::{SchemaType, UnparsedSchema};

const TYPES: [(&str, &str, &str); 5] = [
    ("long", "integer", "int64"),
    ("string", "string", "string"),
    ("double", "number", "double"),
    ("boolean", "boolean", "bool"),
    ("int", "integer", "int32"),
];

/// A record of `fields` fields with docs, in the given format, named after `name`.
pub fn schema(schema_type: SchemaType, name: &str, fields: usize) -> UnparsedSchema {
    let text = match schema_type {
        SchemaType::Avro => avro(name, fields, false),
        SchemaType::Json => json(name, fields, false),
        SchemaType::Protobuf => proto(name, fields, false),
    };
    UnparsedSchema::new(schema_type, text)
}

/// The same record with one more optional field: compatible under every level.
pub fn evolved(schema_type: SchemaType, name: &str, fields: usize) -> UnparsedSchema {
    let text = match schema_type {
        SchemaType::Avro => avro(name, fields, true),
        SchemaType::Json => json(name, fields, true),
        SchemaType::Protobuf => proto(name, fields, true),
    };
    UnparsedSchema::new(schema_type, text)
}

fn avro(name: &str, fields: usize, evolved: bool) -> String {
    let mut out: Vec<String> = (0..fields)
        .map(|i| {
            let (avro, _, _) = TYPES[i % TYPES.len()];
            format!(
                r#"{{"name":"field_{i}","type":"{avro}","doc":"Field number {i} of the {name} record, documented as production schemas are."}}"#
            )
        })
        .collect();
    if evolved {
        out.push(r#"{"name":"added","type":["null","string"],"default":null}"#.into());
    }
    format!(
        r#"{{"type":"record","name":"{name}","namespace":"bench.events","doc":"A bench record.","fields":[{}]}}"#,
        out.join(",")
    )
}

fn json(name: &str, fields: usize, evolved: bool) -> String {
    let mut props: Vec<String> = (0..fields)
        .map(|i| {
            let (_, json, _) = TYPES[i % TYPES.len()];
            format!(r#""field_{i}":{{"type":"{json}","description":"Field number {i} of the {name} object."}}"#)
        })
        .collect();
    if evolved {
        props.push(r#""added":{"type":"string"}"#.into());
    }
    let required: Vec<String> = (0..fields / 2).map(|i| format!(r#""field_{i}""#)).collect();
    format!(
        r#"{{"$schema":"http://json-schema.org/draft-07/schema#","title":"{name}","type":"object","properties":{{{}}},"required":[{}],"additionalProperties":false}}"#,
        props.join(","),
        required.join(",")
    )
}

fn proto(name: &str, fields: usize, evolved: bool) -> String {
    let mut out = format!("syntax = \"proto3\";\npackage bench.events;\n\n// A bench message.\nmessage {name} {{\n");
    for i in 0..fields {
        let (_, _, proto) = TYPES[i % TYPES.len()];
        out.push_str(&format!("  // Field number {i} of the {name} message.\n  {proto} field_{i} = {};\n", i + 1));
    }
    if evolved {
        out.push_str(&format!("  optional string added = {};\n", fields + 1));
    }
    out.push_str("}\n");
    out
}

/// A document that matches `schema(.., fields)` in the format's JSON mapping.
pub fn document(schema_type: SchemaType, fields: usize) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for i in 0..fields {
        let value = match i % TYPES.len() {
            0 => serde_json::json!(1_700_000_000_000i64 + i as i64),
            1 => serde_json::json!(format!("value of field {i}, long enough to look like real text in an event")),
            2 => serde_json::json!(i as f64 * 1.5),
            3 => serde_json::json!(i % 2 == 0),
            _ => serde_json::json!(i as i32),
        };
        // The proto3 JSON mapping writes int64 as a string.
        let value = match (schema_type, i % TYPES.len()) {
            (SchemaType::Protobuf, 0) => serde_json::json!(value.to_string()),
            _ => value,
        };
        map.insert(format!("field_{i}"), value);
    }
    serde_json::Value::Object(map)
}
