//! What a schema can be found by: the names it declares (Avro types, fields and symbols; JSON Schema properties and
//! definitions; Protobuf messages, fields, enums and values) and its documentation (Avro `doc`s, JSON Schema
//! `title`s and `description`s), each with where it is. A Protobuf schema's comments are not in its stored text
//! (Confluent's printing of the file drops them), so they are not terms.

use prost_reflect::{EnumDescriptor, MessageDescriptor};
use serde_json::Value;

use super::{FormatSchema, ParsedSchema};

/// What a term is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TermKind {
    /// A name the schema declares.
    Name,
    /// Documentation text.
    Doc,
}

/// One thing a schema can be found by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerm {
    /// A name or documentation.
    pub kind: TermKind,
    /// Where: a JSON pointer into an Avro or JSON Schema document (`/fields/1`), a Protobuf element's full name.
    pub path: String,
    /// The name or the text.
    pub text: String,
}

/// JSON Schema keywords whose value maps names to schemas.
const SCHEMA_MAPS: &[&str] = &["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
/// JSON Schema keywords whose value is one schema.
const ONE_SCHEMA: &[&str] =
    &["items", "additionalProperties", "additionalItems", "not", "if", "then", "else", "contains", "propertyNames"];
/// JSON Schema keywords whose value is a list of schemas.
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];

/// Every term of `schema`: Avro's in document order, JSON Schema's with a map's names in their sorted order,
/// Protobuf's declarations.
pub(crate) fn terms(schema: &ParsedSchema) -> Vec<SearchTerm> {
    let mut out = Vec::new();
    match &schema.kind {
        FormatSchema::Avro(_) => {
            if let Ok(value) = serde_json::from_str::<Value>(schema.text()) {
                avro(&value, "", &mut out);
            }
        }
        FormatSchema::Json(_) => {
            if let Ok(value) = serde_json::from_str::<Value>(schema.text()) {
                json_schema(&value, "", &mut out);
            }
        }
        FormatSchema::Protobuf(proto) => {
            let file = proto.file();
            for message in file.messages() {
                protobuf_message(&message, &mut out);
            }
            for enumeration in file.enums() {
                protobuf_enum(&enumeration, &mut out);
            }
        }
    }
    out
}

fn push(out: &mut Vec<SearchTerm>, kind: TermKind, path: String, text: &str) {
    if !text.is_empty() {
        out.push(SearchTerm { kind, path, text: text.to_string() });
    }
}

/// A JSON pointer segment: `~` and `/` escaped.
fn segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn avro(value: &Value, path: &str, out: &mut Vec<SearchTerm>) {
    match value {
        Value::Array(branches) => {
            for (i, branch) in branches.iter().enumerate() {
                avro(branch, &format!("{path}/{i}"), out);
            }
        }
        Value::Object(map) => {
            if let Some(Value::String(name)) = map.get("name") {
                push(out, TermKind::Name, format!("{path}/name"), name);
            }
            if let Some(Value::String(doc)) = map.get("doc") {
                push(out, TermKind::Doc, format!("{path}/doc"), doc);
            }
            if let Some(Value::Array(symbols)) = map.get("symbols") {
                for (i, symbol) in symbols.iter().enumerate() {
                    if let Value::String(symbol) = symbol {
                        push(out, TermKind::Name, format!("{path}/symbols/{i}"), symbol);
                    }
                }
            }
            if let Some(Value::Array(fields)) = map.get("fields") {
                for (i, field) in fields.iter().enumerate() {
                    let at = format!("{path}/fields/{i}");
                    if let Some(Value::String(name)) = field.get("name") {
                        push(out, TermKind::Name, format!("{at}/name"), name);
                    }
                    if let Some(Value::String(doc)) = field.get("doc") {
                        push(out, TermKind::Doc, format!("{at}/doc"), doc);
                    }
                    if let Some(kind) = field.get("type") {
                        avro(kind, &format!("{at}/type"), out);
                    }
                }
            }
            for key in ["type", "items", "values"] {
                if let Some(inner @ (Value::Object(_) | Value::Array(_))) = map.get(key) {
                    avro(inner, &format!("{path}/{key}"), out);
                }
            }
        }
        _ => {}
    }
}

fn json_schema(value: &Value, path: &str, out: &mut Vec<SearchTerm>) {
    let Value::Object(map) = value else { return };
    for key in ["title", "description"] {
        if let Some(Value::String(text)) = map.get(key) {
            push(out, TermKind::Doc, format!("{path}/{key}"), text);
        }
    }
    for keyword in SCHEMA_MAPS {
        if let Some(Value::Object(named)) = map.get(*keyword) {
            for (name, schema) in named {
                let at = format!("{path}/{keyword}/{}", segment(name));
                push(out, TermKind::Name, at.clone(), name);
                json_schema(schema, &at, out);
            }
        }
    }
    for keyword in ONE_SCHEMA {
        if let Some(schema @ Value::Object(_)) = map.get(*keyword) {
            json_schema(schema, &format!("{path}/{keyword}"), out);
        }
    }
    for keyword in SCHEMA_LISTS {
        if let Some(Value::Array(schemas)) = map.get(*keyword) {
            for (i, schema) in schemas.iter().enumerate() {
                json_schema(schema, &format!("{path}/{keyword}/{i}"), out);
            }
        }
    }
}

fn protobuf_message(message: &MessageDescriptor, out: &mut Vec<SearchTerm>) {
    push(out, TermKind::Name, message.full_name().to_string(), message.name());
    for field in message.fields() {
        push(out, TermKind::Name, field.full_name().to_string(), field.name());
    }
    for child in message.child_messages() {
        // Map entries are generated, not declared.
        if !child.is_map_entry() {
            protobuf_message(&child, out);
        }
    }
    for enumeration in message.child_enums() {
        protobuf_enum(&enumeration, out);
    }
}

fn protobuf_enum(enumeration: &EnumDescriptor, out: &mut Vec<SearchTerm>) {
    push(out, TermKind::Name, enumeration.full_name().to_string(), enumeration.name());
    for value in enumeration.values() {
        push(out, TermKind::Name, value.full_name().to_string(), value.name());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, NoReferences, SchemaType, UnparsedSchema};

    fn terms_of(schema_type: SchemaType, text: &str) -> Vec<(TermKind, String, String)> {
        let parsed = crate::parse(&UnparsedSchema::new(schema_type, text), &NoReferences, &Limits::default())
            .expect("a valid schema");
        terms(&parsed).into_iter().map(|t| (t.kind, t.path, t.text)).collect()
    }

    fn name(path: &str, text: &str) -> (TermKind, String, String) {
        (TermKind::Name, path.to_string(), text.to_string())
    }

    fn doc(path: &str, text: &str) -> (TermKind, String, String) {
        (TermKind::Doc, path.to_string(), text.to_string())
    }

    #[test]
    fn avro_names_symbols_and_docs() {
        let text = r#"{"type":"record","name":"Order","doc":"An order placed","fields":[
            {"name":"id","type":"long","doc":"Its number"},
            {"name":"status","type":{"type":"enum","name":"Status","symbols":["OPEN","SHIPPED"]}},
            {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"sku","type":"string"}]}}}]}"#;
        assert_eq!(
            terms_of(SchemaType::Avro, text),
            [
                name("/name", "Order"),
                doc("/doc", "An order placed"),
                name("/fields/0/name", "id"),
                doc("/fields/0/doc", "Its number"),
                name("/fields/1/name", "status"),
                name("/fields/1/type/name", "Status"),
                name("/fields/1/type/symbols/0", "OPEN"),
                name("/fields/1/type/symbols/1", "SHIPPED"),
                name("/fields/2/name", "lines"),
                name("/fields/2/type/items/name", "Line"),
                name("/fields/2/type/items/fields/0/name", "sku"),
            ]
        );
    }

    #[test]
    fn json_schema_properties_definitions_and_annotations() {
        let text = r##"{"title":"Customer","type":"object","properties":{"email":{"type":"string","description":"Where to write"},
            "address":{"$ref":"#/$defs/Address"}},"$defs":{"Address":{"type":"object","properties":{"city":{"type":"string"}}}}}"##;
        assert_eq!(
            terms_of(SchemaType::Json, text),
            [
                doc("/title", "Customer"),
                name("/properties/address", "address"),
                name("/properties/email", "email"),
                doc("/properties/email/description", "Where to write"),
                name("/$defs/Address", "Address"),
                name("/$defs/Address/properties/city", "city"),
            ]
        );
    }

    #[test]
    fn protobuf_declarations_without_comments() {
        let text = "syntax = \"proto3\";\npackage shop;\n// A placed order\nmessage Order {\n  int64 id = 1; // its number\n  \
                    map<string, string> tags = 2;\n  /* how it\n   * goes */\n  enum Status { OPEN = 0; }\n  string note = 3 [json_name = \"n//x\"];\n}\n";
        assert_eq!(
            terms_of(SchemaType::Protobuf, text),
            [
                name("shop.Order", "Order"),
                name("shop.Order.id", "id"),
                name("shop.Order.tags", "tags"),
                name("shop.Order.note", "note"),
                name("shop.Order.Status", "Status"),
                name("shop.Order.OPEN", "OPEN"),
            ]
        );
    }
}
