//! JSON Schema: the schema must be valid JSON and valid for its draft (`$schema`, default draft 7); `$ref`s
//! to references resolve by the reference's name. Canonical form: Confluent's canonical text ([`canonical_text`]).

use jsonschema::{Draft, Resource};
use serde_json::Value;

use super::{Syntax, by_name, check_depth, holds_key, jackson, parse_json};
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

/// Reads `text` as a JSON Schema with `references` resolvable by name, and writes its canonical text
/// ([`canonical_text`], with the digest of that text without documentation when `undocumented` asks). With
/// `check`, the schema is checked as compiling it would check it ([`check_schema`]); without, for a schema already
/// accepted, it is not checked.
///
/// The text is read once, into the tree the canonical text is written from, and jsonschema's document is built
/// from that tree (as `serde_json` would read the text: numbers by its own parser, a repeated key's last value).
/// A text that read cannot take (not JSON, a number past a double's range) is read as before, for its errors.
pub(crate) fn parse(
    text: &str,
    references: &[ResolvedReference],
    limits: &Limits,
    check: bool,
    normalize: bool,
    undocumented: bool,
) -> Result<(JsonSchema, String, Option<[u8; 32]>), SchemaError> {
    check_depth(text, Syntax::Json, limits)?;
    let tree = jackson::Node::parse(text, jackson::Numbers::Decimal).ok();
    let Some((node, value)) = tree.and_then(|node| node.to_value().map(|value| (node, value))) else {
        let schema = schema(parse_json(text, SchemaType::Json, limits)?, references, limits, check)?;
        let (canonical, digest) = canonical_text(text, normalize, undocumented)?;
        return Ok((schema, canonical, digest));
    };
    let schema = schema(value, references, limits, check)?;
    let (canonical, digest) = write_canonical(node, normalize, undocumented, text.len());
    Ok((schema, canonical, digest))
}

/// The JSON Schema `value` is, with the documents `references` name, checked when `check` says.
fn schema(
    value: Value,
    references: &[ResolvedReference],
    limits: &Limits,
    check: bool,
) -> Result<JsonSchema, SchemaError> {
    let draft = detect_draft(&value)?;
    let mut documents = Vec::with_capacity(references.len());
    for (name, text) in by_name(references) {
        let document = parse_json(text, SchemaType::Json, limits)
            .map_err(|e| SchemaError::InvalidReference { name: name.to_string(), reason: e.to_string() })?;
        documents.push((name.to_string(), document));
    }
    if check {
        check_schema(&value, draft, &documents)?;
    }
    Ok(JsonSchema { value, draft, references: documents })
}

/// The text Confluent's registry stores for a JSON Schema: compact, keys in the order given (sorted at every depth
/// when `normalize` is set), numbers as Java's `BigDecimal` writes them (`1.0` and `1` stay apart), strings
/// escaped as Jackson does. With `undocumented`, also the digest of that text without its documentation
/// ([`super::documentation::json_schema_undocumented_digest`]), from the same tree.
pub(crate) fn canonical_text(
    text: &str,
    normalize: bool,
    undocumented: bool,
) -> Result<(String, Option<[u8; 32]>), SchemaError> {
    let node = jackson::Node::parse(text, jackson::Numbers::Decimal)
        .map_err(|e| SchemaError::invalid(SchemaType::Json, format!("not valid JSON: {e}")))?;
    Ok(write_canonical(node, normalize, undocumented, text.len()))
}

/// [`canonical_text`] of the tree `node`.
fn write_canonical(
    node: jackson::Node<'_>,
    normalize: bool,
    undocumented: bool,
    capacity: usize,
) -> (String, Option<[u8; 32]>) {
    let node = if normalize { node.sorted() } else { node };
    let mut out = String::with_capacity(capacity);
    jackson::write(&node, jackson::Numbers::Decimal, &mut out);
    let digest = undocumented.then(|| super::documentation::json_schema_undocumented_digest(node, out.len()));
    (out, digest)
}

/// Checks a schema as compiling it would, without building the validator when nothing in it needs one.
///
/// Compiling checks three things: the schema against its draft's meta-schema; its resources' identifiers
/// (`$id`, anchors), as the reference registry indexes them; and what only the keyword compilers see: that
/// `$ref`s resolve, that patterns are regexes, content keywords a draft's meta-schema does not cover, embedded
/// resources under a `$schema` of their own. A schema with none of the keys [`needs_compile`] looks for can fail
/// only the first two, so those run alone, with jsonschema's own meta-schema validator and registry: the same
/// verdict and message (the tests below compare both ways on every corpus schema and on generated ones) for
/// less than half the CPU of a whole parse. Any other schema, and one with references, is compiled.
fn check_schema(value: &Value, draft: Draft, documents: &[(String, Value)]) -> Result<(), SchemaError> {
    if !documents.is_empty() || needs_compile(value) {
        return compile(value, draft, documents).map(drop);
    }
    // An empty object or a boolean (the only other schema `detect_draft` lets through) is a valid schema of every
    // draft, as jsonschema has it.
    if value.as_object().is_some_and(|object| !object.is_empty()) {
        meta_validator(draft).validate(value).map_err(invalid_schema)?;
    }
    jsonschema::Registry::new()
        .draft(draft)
        .add(BASE_URI, draft.create_resource_ref(value))
        .and_then(|builder| builder.prepare())
        .map(drop)
        .map_err(|e| invalid_schema(e.into()))
}

/// Whether a schema holds a key that only compiling it checks: a reference (`$ref`, `$dynamicRef`,
/// `$recursiveRef`), a pattern (`pattern`, `patternProperties`), a content keyword (`contentMediaType`,
/// `contentEncoding`: draft 6 compiles them, its meta-schema does not know them), or a `$schema` below the root
/// (an embedded resource with a dialect of its own). Keys are matched wherever they are, a property named `pattern`
/// included: a false alarm only costs a compile.
fn needs_compile(value: &Value) -> bool {
    let below = |key: &str| key == "$schema" || compiled_key(key);
    value.as_object().is_some_and(|root| root.iter().any(|(key, child)| compiled_key(key) || holds_key(child, &below)))
}

fn compiled_key(key: &str) -> bool {
    is_reference_key(key) || matches!(key, "pattern" | "patternProperties" | "contentMediaType" | "contentEncoding")
}

/// The keywords that refer to another (sub)schema: `$ref`, and the dynamic and recursive references of 2019-09
/// and 2020-12.
pub(crate) fn is_reference_key(key: &str) -> bool {
    matches!(key, "$ref" | "$dynamicRef" | "$recursiveRef")
}

/// jsonschema's validator for `draft`'s meta-schema, the one compiling a schema of that draft checks it with.
fn meta_validator(draft: Draft) -> jsonschema::meta::MetaValidator<'static> {
    match draft {
        Draft::Draft4 => jsonschema::draft4::meta::validator(),
        Draft::Draft6 => jsonschema::draft6::meta::validator(),
        Draft::Draft201909 => jsonschema::draft201909::meta::validator(),
        Draft::Draft202012 => jsonschema::draft202012::meta::validator(),
        _ => jsonschema::draft7::meta::validator(),
    }
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    use super::*;

    #[test]
    fn a_stored_json_schema_compiles_its_validator_when_asked() {
        use crate::{Limits, NoReferences, UnparsedSchema, parse_stored};
        let schema =
            UnparsedSchema::new(SchemaType::Json, r#"{"type":"object","properties":{"n":{"type":"integer"}}}"#);
        let stored = parse_stored(&schema, &NoReferences, &Limits::default()).unwrap();
        let crate::format::FormatSchema::Json(json_schema) = stored.kind() else { panic!("not JSON") };
        let validator = json_schema.compile_validator().unwrap();
        assert!(validator.is_valid(&json!({"n": 1})));
        assert!(!validator.is_valid(&json!({"n": "one"})));
    }

    /// The two ways of checking a schema, each as the verdict and the message a client would see.
    fn both(value: &Value) -> Option<(Result<(), String>, Result<(), String>)> {
        let draft = detect_draft(value).ok()?;
        let spelled = |result: Result<(), SchemaError>| result.map_err(|e| e.to_string());
        Some((spelled(check_schema(value, draft, &[])), spelled(compile(value, draft, &[]).map(drop))))
    }

    fn read(path: &Path) -> Option<Value> {
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
    }

    /// Every JSON Schema without references in this crate's test data, and in the reference registry's examples
    /// when they are there.
    fn corpus() -> Vec<Value> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut found = Vec::new();
        let mut collect = |value: &Value, keys: &[&str]| {
            if let Value::Object(case) = value
                && !case.keys().any(|key| key.contains("references"))
            {
                for key in keys {
                    match case.get(*key) {
                        // Schema text, as the format tests spell bad JSON and key order.
                        Some(Value::String(text)) => found.extend(serde_json::from_str::<Value>(text).ok()),
                        Some(schema) => found.push(schema.clone()),
                        None => {}
                    }
                }
            }
        };
        let formats = read(&root.join("tests/formats/json.json")).expect("the JSON format cases");
        for case in ["valid", "invalid"].iter().flat_map(|list| formats[list].as_array().expect("a case list")) {
            collect(case, &["schema"]);
        }
        let compat = read(&root.join("tests/compat/json.json")).expect("the JSON compatibility corpus");
        for case in compat["cases"].as_array().expect("cases") {
            collect(case, &["writer", "reader"]);
        }
        let validate = read(&root.join("tests/validate/json.json")).expect("the JSON validation cases");
        for case in validate["cases"].as_array().into_iter().flatten() {
            collect(case, &["schema"]);
        }
        if let Some(Value::Array(cases)) =
            read(&root.join("../../shared/conformance/confluent-json-diff-examples.json"))
        {
            for case in &cases {
                collect(case, &["original_schema", "update_schema"]);
            }
        }
        found
    }

    #[test]
    fn checking_without_compiling_agrees_with_compiling_on_every_corpus_schema() {
        let schemas = corpus();
        assert!(schemas.len() >= 200, "only {} schemas", schemas.len());
        let (mut skipped_compile, mut only_compile_rejects) = (0, 0);
        for value in &schemas {
            let Some((checked, compiled)) = both(value) else { continue };
            assert_eq!(checked, compiled, "{value:#}");
            if !needs_compile(value) {
                skipped_compile += 1;
            } else if compiled.is_err() && meta_validator(detect_draft(value).expect("a draft")).is_valid(value) {
                only_compile_rejects += 1;
            }
        }
        // Both paths are exercised, and the corpus holds schemas that only a compile rejects (a `$ref` that
        // does not resolve, say), which is what the gate sends to compiling.
        assert!(skipped_compile >= 100, "only {skipped_compile} schemas were checked without compiling");
        assert!(only_compile_rejects >= 2, "only {only_compile_rejects} schemas fail the compile alone");
    }

    /// Values a keyword might hold, well-typed or not.
    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-2i64..4).prop_map(Value::from),
            prop::sample::select(vec![0.0, 1.0, 1.5, -0.5, 2.5e3, 1e30, -1e30, 1e-30, 1.8446744073709552e19])
                .prop_map(Value::from),
            Just(Value::from(u64::MAX)),
            prop::sample::select(vec![
                "string",
                "object",
                "array",
                "integer",
                "number",
                "boolean",
                "null",
                "strin",
                "x",
                "date-time",
                "uuid",
                "email",
                "regex",
                "no-such-format",
                "application/json",
                "base64",
                "^[a-z]+$",
                "([a-z]",
                "#/definitions/a",
                "#/$defs/a",
                "#a",
                "https://example.com/a.json",
                "a.json",
                "urn:x:y",
                "http://[bad",
                "not a uri {",
                "#/definitions/missing",
                "foo bar",
                "",
                "http://example.com/a#frag",
                "#foo",
                "a#/b",
                "../up.json",
                "urn:uuid:x#y",
            ])
            .prop_map(Value::from),
        ]
    }

    const KEYWORDS: &[&str] = &[
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "additionalItems",
        "prefixItems",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "format",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
        "$id",
        "id",
        "$anchor",
        "$dynamicAnchor",
        "$recursiveAnchor",
        "definitions",
        "$defs",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "dependencies",
        "dependentRequired",
        "dependentSchemas",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contains",
        "minContains",
        "maxContains",
        "title",
        "description",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "$comment",
        "$vocabulary",
        "x-custom",
        "$ref",
        "$dynamicRef",
        "$recursiveRef",
        "pattern",
        "patternProperties",
        "$schema",
    ];

    /// A schema-like value: keywords from every draft with values of any shape, subschemas nested in them.
    fn schema() -> impl Strategy<Value = Value> {
        let leaf_schema = prop_oneof![any::<bool>().prop_map(Value::Bool), object(leaf().boxed())];
        leaf_schema.prop_recursive(3, 24, 5, |inner| {
            let value = prop_oneof![
                3 => leaf(),
                3 => inner.clone(),
                1 => prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                1 => prop::collection::vec(leaf(), 0..3).prop_map(Value::Array),
                2 => prop::collection::btree_map(prop::sample::select(vec!["a", "b", "id", "pattern"]), inner, 0..3)
                    .prop_map(|map| Value::Object(map.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ];
            object(value.boxed())
        })
    }

    fn object(values: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
        prop::collection::vec((prop::sample::select(KEYWORDS), values), 0..5)
            .prop_map(|members| Value::Object(members.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn checking_without_compiling_agrees_with_compiling(
            body in schema(),
            dialect in prop::sample::select(vec![
                None,
                Some("http://json-schema.org/draft-04/schema#"),
                Some("http://json-schema.org/draft-06/schema#"),
                Some("http://json-schema.org/draft-07/schema#"),
                Some("https://json-schema.org/draft/2019-09/schema"),
                Some("https://json-schema.org/draft/2020-12/schema"),
            ]),
        ) {
            let value = match (body, dialect) {
                (Value::Object(mut members), Some(uri)) => {
                    members.insert("$schema".into(), json!(uri));
                    Value::Object(members)
                }
                (Value::Object(members), None) => {
                    let mut members: Map<String, Value> = members;
                    // `$schema` at the root is what picks the draft; a generated one that names none is not
                    // what this compares.
                    members.remove("$schema");
                    Value::Object(members)
                }
                (other, _) => other,
            };
            if let Some((checked, compiled)) = both(&value) {
                prop_assert_eq!(checked, compiled, "{:#}", value);
            }
        }
    }
}
