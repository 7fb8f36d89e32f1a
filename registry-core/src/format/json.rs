//! JSON Schema: the schema must be valid JSON and valid for its draft (`$schema`, default draft 7); `$ref`s
//! to references resolve by the reference's name. Canonical form: sorted-key compact JSON.

use jsonschema::{Draft, Resource};
use serde_json::Value;

use super::{by_name, canonical_json, parse_json};
use crate::{Limits, ResolvedReference, SchemaError, SchemaType};

/// The base URI relative `$ref`s and reference names resolve against.
pub const BASE_URI: &str = "https://schema-registry.local/schemas/";

/// A parsed JSON Schema, its draft, and the documents its references name.
#[derive(Clone)]
pub struct JsonSchema {
    value: Value,
    draft: Draft,
    references: Vec<(String, Value)>,
}

impl std::fmt::Debug for JsonSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonSchema").field("value", &self.value).field("draft", &self.draft).finish_non_exhaustive()
    }
}

impl JsonSchema {
    /// The schema document.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The draft it is written in.
    pub fn draft(&self) -> Draft {
        self.draft
    }

    /// The referenced documents, by the name the schema uses for them.
    pub fn references(&self) -> &[(String, Value)] {
        &self.references
    }

    /// Compiles a validator for data. It is not kept here: a compiled validator holds about 15 times the
    /// schema's bytes, and a parsed schema is cached for compatibility checks, which do not need one; the
    /// registry keeps validators in their own cache.
    pub fn compile_validator(&self) -> Result<jsonschema::Validator, SchemaError> {
        compile(&self.value, self.draft, &self.references)
    }

    /// The canonical form; `text_len`, the length of the text it was parsed from, sizes the buffer (the compact
    /// form is seldom longer), so it is written without growing.
    pub(crate) fn canonical_form(&self, text_len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(text_len);
        canonical_json(&self.value, &mut out);
        out.shrink_to_fit();
        out
    }
}

/// The draft a `$schema` URI names; `None` for a URI this registry does not know.
pub fn draft_for(meta_schema: &str) -> Option<Draft> {
    let uri = meta_schema.trim_end_matches('#');
    let uri = uri.strip_prefix("https://").or_else(|| uri.strip_prefix("http://"))?;
    match uri {
        "json-schema.org/draft-04/schema" => Some(Draft::Draft4),
        "json-schema.org/draft-06/schema" => Some(Draft::Draft6),
        "json-schema.org/draft-07/schema" => Some(Draft::Draft7),
        "json-schema.org/draft/2019-09/schema" => Some(Draft::Draft201909),
        "json-schema.org/draft/2020-12/schema" => Some(Draft::Draft202012),
        _ => None,
    }
}

/// Parses `text` as a JSON Schema with `references` resolvable by name. With `check`, the schema is compiled
/// (that is how it is checked against its draft, its patterns and its `$ref`s) and the result dropped; without,
/// for a schema already accepted, it is not compiled at all.
pub(crate) fn parse(
    text: &str,
    references: &[ResolvedReference],
    limits: &Limits,
    check: bool,
) -> Result<JsonSchema, SchemaError> {
    let value = parse_json(text, SchemaType::Json, limits)?;
    let draft = detect_draft(&value)?;
    let mut documents = Vec::with_capacity(references.len());
    for (name, text) in by_name(references) {
        let document = parse_json(text, SchemaType::Json, limits)
            .map_err(|e| SchemaError::InvalidReference { name: name.to_string(), reason: e.to_string() })?;
        documents.push((name.to_string(), document));
    }
    if check {
        compile(&value, draft, &documents)?;
    }
    Ok(JsonSchema { value, draft, references: documents })
}

fn detect_draft(value: &Value) -> Result<Draft, SchemaError> {
    let object = match value {
        Value::Object(object) => object,
        Value::Bool(_) => return Ok(Draft::Draft7),
        other => {
            return Err(SchemaError::invalid(
                SchemaType::Json,
                format!("a schema must be a JSON object or a boolean, not {}", json_kind(other)),
            ));
        }
    };
    match object.get("$schema") {
        None => Ok(Draft::Draft7),
        Some(Value::String(uri)) => draft_for(uri).ok_or_else(|| {
            SchemaError::invalid(
                SchemaType::Json,
                format!("unsupported $schema '{uri}': use draft-04, draft-06, draft-07, 2019-09 or 2020-12"),
            )
        }),
        Some(other) => {
            Err(SchemaError::invalid(SchemaType::Json, format!("$schema must be a string, not {}", json_kind(other))))
        }
    }
}

fn compile(value: &Value, draft: Draft, documents: &[(String, Value)]) -> Result<jsonschema::Validator, SchemaError> {
    let options = jsonschema::options().with_draft(draft).with_base_uri(BASE_URI);
    if documents.is_empty() {
        // Nothing to register: the options' own registry resolves what the schema can refer to.
        return options.build(value).map_err(invalid_schema);
    }
    let root_id = value.get("$id").and_then(Value::as_str).or_else(|| value.get("id").and_then(Value::as_str));
    let mut resources: Vec<(String, Resource)> = Vec::new();
    for (name, document) in documents {
        let resource = draft.create_resource(document.clone());
        for uri in reference_uris(name, root_id) {
            resources.push((uri, resource.clone()));
        }
    }
    let registry = jsonschema::Registry::new()
        .draft(draft)
        .extend(resources)
        .and_then(|builder| builder.prepare())
        .map_err(|e| SchemaError::invalid(SchemaType::Json, format!("references cannot be loaded: {e}")))?;
    options.with_registry(&registry).build(value).map_err(invalid_schema)
}

fn invalid_schema(e: jsonschema::ValidationError<'_>) -> SchemaError {
    let path = e.instance_path().to_string();
    let at = if path.is_empty() { String::new() } else { format!(" at {path}") };
    SchemaError::invalid(SchemaType::Json, format!("{e}{at}"))
}

/// Where a reference named `name` may be looked up: against the registry's base and against the root's `$id`.
fn reference_uris(name: &str, root_id: Option<&str>) -> Vec<String> {
    if name.contains("://") || name.starts_with("urn:") {
        return vec![name.to_string()];
    }
    let mut uris = vec![format!("{BASE_URI}{}", name.trim_start_matches('/'))];
    if let Some(id) = root_id.filter(|id| id.contains("://")) {
        let base = match id.rfind('/') {
            Some(slash) => &id[..=slash],
            None => id,
        };
        uris.push(format!("{base}{}", name.trim_start_matches('/')));
    }
    uris
}

pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
