//! Avro: parsing with `apache-avro` (named types from references visible, defaults checked against their
//! types); the canonical form is Confluent's canonical text ([`super::avro_text`]).

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::Name;

use super::avro_text::{self, Form};
use super::parse_json;
use crate::{Limits, ResolvedReference, SchemaError, SchemaType};

/// A parsed Avro schema and the named types its references define.
#[derive(Debug, Clone)]
pub struct AvroSchema {
    root: Schema,
    referenced: Vec<Schema>,
    /// The JSON document, kept only when `root` lost what resolution needs ([`holds_fixed_logical_type`]): a
    /// parsed schema lives in a cache bounded by memory, and the document would be a third of it.
    json: Option<serde_json::Value>,
}

impl AvroSchema {
    /// The parsed schema.
    pub fn root(&self) -> &Schema {
        &self.root
    }

    /// The schemas its references define, dependencies first.
    pub fn referenced(&self) -> &[Schema] {
        &self.referenced
    }

    /// The schema's JSON document, as parsed, when `apache-avro`'s parse lost something resolution reads: a
    /// `fixed` it folded into `uuid` or `duration`. `None` for every other schema.
    pub(crate) fn lossy_json(&self) -> Option<&serde_json::Value> {
        self.json.as_ref()
    }

    /// Every named type visible to this schema, by full name: its own and its references'.
    pub fn named_types(&self) -> HashMap<String, &Schema> {
        let mut names = HashMap::new();
        for schema in self.referenced.iter().chain(std::iter::once(&self.root)) {
            collect_names(schema, None, &mut names, 0);
        }
        names
    }
}

/// Parses `text` as Avro, with the named types of `references` in scope; returns it with its canonical text
/// (normalized when `normalize` is set).
pub(crate) fn parse(
    text: &str,
    references: &[ResolvedReference],
    limits: &Limits,
    normalize: bool,
) -> Result<(AvroSchema, Vec<u8>), SchemaError> {
    let json = parse_json(text, SchemaType::Avro, limits)?;
    check_names(&json, false, 0, limits)?;
    for reference in references {
        parse_json(&reference.schema.text, SchemaType::Avro, limits)
            .and_then(|value| check_names(&value, false, 0, limits))
            .map_err(|e| SchemaError::InvalidReference { name: reference.name.clone(), reason: e.to_string() })?;
    }
    let invalid = |e: apache_avro::Error| SchemaError::invalid(SchemaType::Avro, e.to_string());
    let texts: Vec<&str> = references.iter().map(|r| r.schema.text.as_str()).collect();
    let (root, referenced) = if references.is_empty() {
        (Schema::parse(&json).map_err(invalid)?, Vec::new())
    } else {
        Schema::parse_str_with_list(text, texts.clone()).map_err(invalid)?
    };
    let form = if normalize { Form::Normalized } else { Form::Canonical };
    let canonical = avro_text::text(text, &texts, form, limits.max_depth)?.into_bytes();
    let lossy = std::iter::once(&root).chain(&referenced).any(|s| holds_fixed_logical_type(s, 0, limits));
    Ok((AvroSchema { root, referenced, json: lossy.then_some(json) }, canonical))
}

/// Whether a schema holds a type `apache-avro` may have folded from a fixed (`uuid`, `duration`).
fn holds_fixed_logical_type(schema: &Schema, depth: usize, limits: &Limits) -> bool {
    if depth > limits.max_depth {
        return false;
    }
    let holds = |schema| holds_fixed_logical_type(schema, depth + 1, limits);
    match schema {
        Schema::Uuid | Schema::Duration => true,
        Schema::Record(r) => r.fields.iter().any(|f| holds(&f.schema)),
        Schema::Array(a) => holds(&a.items),
        Schema::Map(m) => holds(&m.types),
        Schema::Union(u) => u.variants().iter().any(holds),
        _ => false,
    }
}

/// Refuses a name, alias or type name that is not a valid Avro name wherever `apache-avro` would meet it
/// unchecked: it unwraps its own name validation in several places and would panic on such input.
///
/// `under_type` is set for an object that is the `"type"` of another: apache-avro reads that object's name too.
fn check_names(value: &serde_json::Value, under_type: bool, depth: usize, limits: &Limits) -> Result<(), SchemaError> {
    use serde_json::Value;
    if depth > limits.max_depth {
        return Err(SchemaError::TooDeep { max: limits.max_depth });
    }
    let check = |what: &str, name: &str| {
        if is_valid_name(name) {
            return Ok(());
        }
        Err(SchemaError::invalid(
            SchemaType::Avro,
            format!("{what} '{name}' is not a valid Avro name: use letters, digits and '_', dot-separated"),
        ))
    };
    match value {
        // Every type name, primitive or named, is a valid name; anything else cannot be a type.
        Value::String(name) => check("type", name),
        Value::Array(items) => items.iter().try_for_each(|item| check_names(item, false, depth + 1, limits)),
        Value::Object(object) => {
            let named = matches!(object.get("type"), Some(Value::String(t)) if matches!(t.as_str(), "record" | "error" | "enum" | "fixed"));
            if let Some(Value::String(name)) = object.get("name").filter(|_| named || under_type) {
                check("name", name)?;
            }
            if let Some(Value::Array(aliases)) = object.get("aliases").filter(|_| named) {
                for alias in aliases.iter().filter_map(Value::as_str) {
                    check("alias", alias)?;
                }
            }
            if let Some(inner) = object.get("type") {
                check_names(inner, true, depth + 1, limits)?;
            }
            for key in ["items", "values"] {
                if let Some(inner) = object.get(key) {
                    check_names(inner, false, depth + 1, limits)?;
                }
            }
            if let Some(Value::Array(fields)) = object.get("fields") {
                for field in fields.iter().filter(|f| f.is_object()) {
                    check_names(field, false, depth + 1, limits)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The Avro specification's name: an optional dot-separated namespace (possibly empty), then an identifier.
fn is_valid_name(full_name: &str) -> bool {
    let is_identifier = |part: &str| {
        let mut chars = part.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match full_name.rsplit_once('.') {
        None => is_identifier(full_name),
        Some((namespace, name)) => {
            is_identifier(name) && (namespace.is_empty() || namespace.split('.').all(is_identifier))
        }
    }
}

/// The full name of a named schema.
pub fn full_name(name: &Name) -> String {
    name.fullname(None)
}

fn collect_names<'a>(schema: &'a Schema, _ns: Option<&str>, names: &mut HashMap<String, &'a Schema>, depth: usize) {
    // The parser already bounded nesting; the guard keeps this walk total on any `Schema` value.
    if depth > 256 {
        return;
    }
    match schema {
        Schema::Record(record) => {
            names.entry(full_name(&record.name)).or_insert(schema);
            for field in &record.fields {
                collect_names(&field.schema, None, names, depth + 1);
            }
        }
        Schema::Enum(e) => {
            names.entry(full_name(&e.name)).or_insert(schema);
        }
        Schema::Fixed(f) => {
            names.entry(full_name(&f.name)).or_insert(schema);
        }
        Schema::Array(a) => collect_names(&a.items, None, names, depth + 1),
        Schema::Map(m) => collect_names(&m.types, None, names, depth + 1),
        Schema::Union(u) => {
            for variant in u.variants() {
                collect_names(variant, None, names, depth + 1);
            }
        }
        Schema::Decimal(d) => collect_names(&d.inner, None, names, depth + 1),
        _ => {}
    }
}
