//! Data-driven format tests: `tests/formats/<format>.json` lists valid schemas, invalid schemas with the error
//! they must produce, and pairs whose identities must be equal or differ. One generic runner reads all three.
//!
//! A `schema` in the files is either a JSON string, taken as the schema text verbatim (needed for bad JSON, for
//! Protobuf, and where formatting or key order is the point), or any other JSON value, written compactly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use base64::Engine;
use prost::Message;
use protox::file::{File, FileResolver, GoogleFileResolver};
use registry_core::{
    Fingerprint, Limits, ParsedSchema, ResolveError, SchemaError, SchemaReference, SchemaType, Subject, UnparsedSchema,
    Version, parse,
};
use serde::Deserialize;
use serde_json::Value;

/// The fewest valid and invalid cases each file must hold, so a truncated file cannot pass quietly.
const MIN_CASES: usize = 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    schema_type: SchemaType,
    valid: Vec<ValidCase>,
    invalid: Vec<InvalidCase>,
    identity: Vec<IdentityCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidCase {
    name: String,
    schema: Value,
    #[serde(default)]
    references: Vec<ReferenceCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidCase {
    name: String,
    schema: Value,
    #[serde(default)]
    references: Vec<ReferenceCase>,
    /// A substring the error's message must contain.
    error_contains: String,
    /// The `SchemaError` variant expected; `Invalid` when absent.
    #[serde(default = "invalid_kind")]
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityCase {
    name: String,
    a: Value,
    b: Value,
    same: bool,
    #[serde(default)]
    references: Vec<ReferenceCase>,
    /// References for `b` when they differ from `a`'s.
    #[serde(default)]
    b_references: Option<Vec<ReferenceCase>>,
    /// Both parsed normalized (Confluent's `normalize=true`).
    #[serde(default)]
    normalize: bool,
    /// The canonical text of `a`, where the case pins it (Avro and JSON Schema: the text Confluent stores).
    #[serde(default)]
    text: Option<String>,
}

/// A reference and the schema registered where it points; a `null` schema means nothing is registered there.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct ReferenceCase {
    name: String,
    subject: String,
    version: u32,
    schema: Value,
    /// Further references of the referenced schema itself.
    #[serde(default)]
    references: Vec<ReferenceCase>,
}

fn invalid_kind() -> String {
    "Invalid".to_string()
}

fn text_of(schema: &Value) -> String {
    match schema {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn reference(case: &ReferenceCase) -> SchemaReference {
    SchemaReference {
        name: case.name.clone(),
        subject: Subject::new(&case.subject).expect("test subject is valid"),
        version: Version::new(case.version).expect("test version is valid"),
    }
}

/// Every (subject, version) the case's references reach, transitively, with the schema registered there.
fn registry_of(
    schema_type: SchemaType,
    references: &[ReferenceCase],
    out: &mut BTreeMap<(String, u32), Option<UnparsedSchema>>,
) {
    for case in references {
        let schema = match &case.schema {
            Value::Null => None,
            text => Some(
                UnparsedSchema::new(schema_type, text_of(text))
                    .with_references(case.references.iter().map(reference).collect()),
            ),
        };
        out.insert((case.subject.clone(), case.version), schema);
        registry_of(schema_type, &case.references, out);
    }
}

fn parse_case(
    schema_type: SchemaType,
    schema: &Value,
    references: &[ReferenceCase],
    normalize: bool,
) -> Result<ParsedSchema, SchemaError> {
    let mut registry = BTreeMap::new();
    registry_of(schema_type, references, &mut registry);
    let resolver = move |r: &SchemaReference| -> Result<UnparsedSchema, ResolveError> {
        registry
            .get(&(r.subject.as_str().to_string(), r.version.get()))
            .cloned()
            .flatten()
            .ok_or_else(|| ResolveError::NotFound { subject: r.subject.clone(), version: r.version })
    };
    let unparsed = UnparsedSchema::new(schema_type, text_of(schema))
        .with_references(references.iter().map(reference).collect())
        .normalized(normalize);
    parse(&unparsed, &resolver, &Limits::default())
}

fn kind_of(error: &SchemaError) -> &'static str {
    match error {
        SchemaError::UnknownSchemaType(_) => "UnknownSchemaType",
        SchemaError::TooLarge { .. } => "TooLarge",
        SchemaError::TooDeep { .. } => "TooDeep",
        SchemaError::Invalid { .. } => "Invalid",
        SchemaError::ReferenceNotResolved { .. } => "ReferenceNotResolved",
        SchemaError::InvalidReference { .. } => "InvalidReference",
        SchemaError::ReferenceCycle { .. } => "ReferenceCycle",
        SchemaError::ReferencesTooDeep { .. } => "ReferencesTooDeep",
        SchemaError::TooManyReferences { .. } => "TooManyReferences",
        _ => "unknown variant",
    }
}

/// Runs one file; returns every failure, so a single run reports them all.
fn run_suite(file: &str, expected_type: SchemaType) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/formats").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let suite: Suite = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is malformed: {e}", path.display()));
    assert_eq!(suite.schema_type, expected_type, "{file} declares the wrong schema_type");
    assert!(suite.valid.len() >= MIN_CASES, "{file}: only {} valid cases", suite.valid.len());
    assert!(suite.invalid.len() >= MIN_CASES, "{file}: only {} invalid cases", suite.invalid.len());
    assert!(!suite.identity.is_empty(), "{file}: no identity cases");

    let mut names = BTreeSet::new();
    let all_names = suite
        .valid
        .iter()
        .map(|c| &c.name)
        .chain(suite.invalid.iter().map(|c| &c.name))
        .chain(suite.identity.iter().map(|c| &c.name));
    for name in all_names {
        assert!(names.insert(name.clone()), "{file}: case name '{name}' is used twice");
    }

    let t = suite.schema_type;
    let mut failures = Vec::new();
    for case in &suite.valid {
        match parse_case(t, &case.schema, &case.references, false) {
            Ok(parsed) => {
                if parsed.schema_type() != t || parsed.canonical().is_empty() {
                    failures.push(format!("{file} valid '{}': parsed to an empty or mistyped schema", case.name));
                }
                let again = parse_case(t, &case.schema, &case.references, false).map(|p| p.fingerprint());
                if again.as_ref().ok() != Some(&parsed.fingerprint()) {
                    failures.push(format!("{file} valid '{}': fingerprint is not deterministic", case.name));
                }
                // The text stored is read back as the same schema, normalized or not.
                for normalize in [false, true] {
                    let first = match parse_case(t, &case.schema, &case.references, normalize) {
                        Ok(first) => first,
                        Err(e) => {
                            failures.push(format!("{file} valid '{}': normalized, rejected: {e}", case.name));
                            continue;
                        }
                    };
                    let stored = Value::String(first.text().to_string());
                    match parse_case(t, &stored, &case.references, normalize && t == SchemaType::Protobuf) {
                        Ok(read) if read.fingerprint() == first.fingerprint() => {}
                        Ok(read) => failures.push(format!(
                            "{file} valid '{}': its stored text (normalize={normalize}) is another schema: {} then {}",
                            case.name,
                            first.text(),
                            read.text()
                        )),
                        Err(e) => failures.push(format!(
                            "{file} valid '{}': its stored text (normalize={normalize}) is refused: {e}",
                            case.name
                        )),
                    }
                }
            }
            Err(e) => failures.push(format!("{file} valid '{}': rejected: {e}", case.name)),
        }
    }
    for case in &suite.invalid {
        match parse_case(t, &case.schema, &case.references, false) {
            Ok(_) => failures.push(format!("{file} invalid '{}': accepted", case.name)),
            Err(e) => {
                let message = e.to_string();
                if kind_of(&e) != case.kind {
                    failures.push(format!(
                        "{file} invalid '{}': expected {}, got {} ({message})",
                        case.name,
                        case.kind,
                        kind_of(&e)
                    ));
                } else if !message.contains(&case.error_contains) {
                    failures.push(format!(
                        "{file} invalid '{}': message does not contain '{}': {message}",
                        case.name, case.error_contains
                    ));
                }
            }
        }
    }
    for case in &suite.identity {
        let b_references = case.b_references.as_ref().unwrap_or(&case.references);
        let a = parse_case(t, &case.a, &case.references, case.normalize);
        let b = parse_case(t, &case.b, b_references, case.normalize);
        match (a, b) {
            (Ok(a), Ok(b)) => {
                if let Some(text) = &case.text
                    && a.text() != text
                {
                    failures.push(format!("{file} identity '{}': canonical text {}", case.name, a.text()));
                }
                if (a.fingerprint() == b.fingerprint()) != case.same {
                    failures.push(format!(
                        "{file} identity '{}': expected {} fingerprints",
                        case.name,
                        if case.same { "equal" } else { "different" }
                    ));
                }
                if case.same && a.canonical() != b.canonical() {
                    failures.push(format!(
                        "{file} identity '{}': equal fingerprints over different canonical forms",
                        case.name
                    ));
                }
            }
            (a, b) => failures.push(format!(
                "{file} identity '{}': a side failed to parse: a={:?} b={:?}",
                case.name,
                a.err(),
                b.err()
            )),
        }
    }
    failures
}

fn assert_suite(file: &str, schema_type: SchemaType) {
    let failures = run_suite(file, schema_type);
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn avro_cases() {
    assert_suite("avro.json", SchemaType::Avro);
}

#[test]
fn json_schema_cases() {
    assert_suite("json.json", SchemaType::Json);
}

#[test]
fn protobuf_cases() {
    assert_suite("protobuf.json", SchemaType::Protobuf);
}

/// Compiles `.proto` sources with `protox` directly, independent of the code under test.
struct Sources(BTreeMap<String, String>);

impl FileResolver for Sources {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some(text) => File::from_source(name, text),
            None => GoogleFileResolver::new().open_file(name),
        }
    }
}

fn descriptor_base64(name: &str, text: &str, imports: &[(&str, &str)]) -> String {
    let mut sources: BTreeMap<String, String> =
        imports.iter().map(|(name, text)| (name.to_string(), text.to_string())).collect();
    sources.insert(name.to_string(), text.to_string());
    let mut compiler = protox::Compiler::with_file_resolver(Sources(sources));
    compiler.include_source_info(false);
    compiler.open_file(name).expect("test proto compiles");
    let descriptor = compiler.file_descriptor_set().file.into_iter().find(|f| f.name() == name).expect("file in set");
    base64::engine::general_purpose::STANDARD.encode(descriptor.encode_to_vec())
}

fn protobuf(text: &str) -> UnparsedSchema {
    UnparsedSchema::new(SchemaType::Protobuf, text)
}

fn fingerprint(schema: &UnparsedSchema, resolver: &dyn registry_core::ReferenceResolver) -> Fingerprint {
    parse(schema, resolver, &Limits::default()).unwrap_or_else(|e| panic!("{e}")).fingerprint()
}

const ORDER_PROTO: &str = r#"
syntax = "proto3";
package acme.orders.v1;

import "google/protobuf/timestamp.proto";

// An order as the checkout service writes it.
message Order {
  string id = 1;
  google.protobuf.Timestamp placed_at = 2;
  repeated Line lines = 3;
  map<string, string> labels = 4;
  oneof payment {
    string card_token = 5;
    string invoice_id = 6;
  }
  Status status = 7;

  message Line {
    string sku = 1;
    int32 quantity = 2;
  }
  enum Status {
    STATUS_UNSPECIFIED = 0;
    STATUS_PLACED = 1;
  }
}
"#;

#[test]
fn protobuf_text_and_its_base64_descriptor_have_one_identity() {
    let encoded = descriptor_base64("acme/orders/v1/order.proto", ORDER_PROTO, &[]);
    let from_text = fingerprint(&protobuf(ORDER_PROTO), &registry_core::NoReferences);
    let from_descriptor = fingerprint(&protobuf(&encoded), &registry_core::NoReferences);
    assert_eq!(from_text, from_descriptor);

    let changed = ORDER_PROTO.replace("int32 quantity = 2;", "int64 quantity = 2;");
    let changed_descriptor = descriptor_base64("acme/orders/v1/order.proto", &changed, &[]);
    assert_ne!(fingerprint(&protobuf(&changed_descriptor), &registry_core::NoReferences), from_text);
}

#[test]
fn protobuf_base64_descriptor_with_an_imported_reference_has_the_text_identity() {
    let money = "syntax = \"proto3\";\npackage acme.common;\nmessage Money { string currency = 1; int64 units = 2; }\n";
    let invoice = "syntax = \"proto3\";\npackage acme.billing;\nimport \"acme/common/money.proto\";\n\
                   message Invoice { string id = 1; acme.common.Money total = 2; }\n";
    let encoded = descriptor_base64("acme/billing/invoice.proto", invoice, &[("acme/common/money.proto", money)]);
    let resolver = |_: &SchemaReference| -> Result<UnparsedSchema, ResolveError> { Ok(protobuf(money)) };
    let references = vec![SchemaReference {
        name: "acme/common/money.proto".into(),
        subject: Subject::new("money-value").unwrap(),
        version: Version::FIRST,
    }];
    let from_text = fingerprint(&protobuf(invoice).with_references(references.clone()), &resolver);
    let from_descriptor = fingerprint(&protobuf(&encoded).with_references(references), &resolver);
    assert_eq!(from_text, from_descriptor);

    let parsed = parse(&protobuf(&encoded).with_references(vec![]), &resolver, &Limits::default());
    assert!(
        matches!(&parsed, Err(SchemaError::Invalid { message, .. }) if message.contains("acme/common/money.proto")),
        "a descriptor importing an unreferenced file must name the import: {parsed:?}"
    );
}
