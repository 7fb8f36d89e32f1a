//! Avro: parsing with `apache-avro` (named types from references visible, defaults checked against their
//! types), and the canonical form (sorted-key compact JSON that keeps docs, defaults, aliases, logical types).

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::Name;

use super::{canonical_json, parse_json};
use crate::{Limits, ResolvedReference, SchemaError, SchemaType};

/// A parsed Avro schema and the named types its references define.
#[derive(Debug, Clone)]
pub struct AvroSchema {
    root: Schema,
    referenced: Vec<Schema>,
    json: serde_json::Value,
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

    /// Every named type visible to this schema, by full name: its own and its references'.
    pub fn named_types(&self) -> HashMap<String, &Schema> {
        let mut names = HashMap::new();
        for schema in self.referenced.iter().chain(std::iter::once(&self.root)) {
            collect_names(schema, None, &mut names, 0);
        }
        names
    }

    pub(crate) fn canonical_form(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        canonical_json(&self.json, &mut out);
        out
    }
}

/// Parses `text` as Avro, with the named types of `references` in scope.
pub(crate) fn parse(text: &str, references: &[ResolvedReference], limits: &Limits) -> Result<AvroSchema, SchemaError> {
    let json = parse_json(text, SchemaType::Avro, limits)?;
    for reference in references {
        parse_json(&reference.schema.text, SchemaType::Avro, limits)?;
    }
    let invalid = |e: apache_avro::Error| SchemaError::invalid(SchemaType::Avro, e.to_string());
    let (root, referenced) = if references.is_empty() {
        (Schema::parse(&json).map_err(invalid)?, Vec::new())
    } else {
        let texts: Vec<&str> = references.iter().map(|r| r.schema.text.as_str()).collect();
        Schema::parse_str_with_list(text, texts).map_err(invalid)?
    };
    Ok(AvroSchema { root, referenced, json })
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
