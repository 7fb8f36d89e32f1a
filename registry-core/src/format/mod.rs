//! Parsing a schema of any format: size and depth limits, reference resolution, canonical form and identity.
//!
//! One file per format owns that format's parsing and canonical form; this module owns what they share.

pub(crate) mod avro;
mod avro_equivalence;
pub(crate) mod avro_names;
mod avro_text;
mod documentation;
mod jackson;
pub(crate) mod json;
mod proto_print;
pub(crate) mod proto_text;
pub(crate) mod protobuf;
mod terms;

pub use terms::{SearchTerm, TermKind};

pub use avro_equivalence::equivalence_key as avro_equivalence_key;
pub use avro_names::install_scanning_validators as install_avro_name_validators;
pub use documentation::differs_only_in_documentation;
pub use protobuf::is_serialized_descriptor;

use crate::contract::DataContract;
use crate::reference::resolve_all;
use crate::{
    Fingerprint, Limits, ReferenceResolver, ResolvedReference, SchemaError, SchemaReference, SchemaType, UnparsedSchema,
};

/// A schema that passed every check of its format, with its canonical form and identity.
#[derive(Debug, Clone)]
pub struct ParsedSchema {
    schema_type: SchemaType,
    references: Vec<SchemaReference>,
    contract: DataContract,
    /// The contract's size, as counted against the size limit (kept: it costs a serialization to measure).
    contract_bytes: usize,
    canonical: Vec<u8>,
    /// The text as given, where it is not the canonical form (Protobuf).
    source: Option<String>,
    fingerprint: Fingerprint,
    /// The schema context it is registered in, when not the default one: part of the fingerprint.
    context: Option<std::sync::Arc<str>>,
    kind: FormatSchema,
    /// The digest of its text without documentation, once asked for ([`ParsedSchema::differs_only_in_documentation`]).
    undocumented: std::sync::OnceLock<Option<[u8; 32]>>,
    /// [`ParsedSchema::memory_estimate`], once asked for (a cache weighs an entry more than once).
    estimate: std::sync::OnceLock<usize>,
}

/// The parsed form of each format.
#[derive(Debug, Clone)]
pub(crate) enum FormatSchema {
    /// An Avro schema with the named types its references define.
    Avro(Box<avro::AvroSchema>),
    /// A JSON Schema with its referenced documents.
    Json(json::JsonSchema),
    /// A Protobuf file with its imports.
    Protobuf(Box<protobuf::ProtobufSchema>),
}

impl ParsedSchema {
    /// The format.
    pub fn schema_type(&self) -> SchemaType {
        self.schema_type
    }

    /// The identity: SHA-256 of (format, canonical form, references, data contract), then of the context it is
    /// in when that is not the default one ([`Fingerprint::in_context`]).
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The same schema in schema context `context` (`.` the default): its fingerprint is the context's.
    pub fn in_context(mut self, context: &str) -> ParsedSchema {
        if context != self.context() {
            let base = Fingerprint::compute(self.schema_type, &self.canonical, &self.references, &self.contract);
            self.fingerprint = base.in_context(context);
            self.context = (context != crate::DEFAULT_CONTEXT).then(|| context.into());
        }
        self
    }

    /// The schema context it is in: `.` unless [`ParsedSchema::in_context`] said another.
    pub fn context(&self) -> &str {
        self.context.as_deref().unwrap_or(crate::DEFAULT_CONTEXT)
    }

    /// The canonical form the fingerprint is computed over: for Avro and JSON Schema the text Confluent's registry
    /// stores ([`ParsedSchema::text`]), for Protobuf the encoded `FileDescriptorProto` (source info and file name
    /// removed) followed by its elements' custom options.
    pub fn canonical(&self) -> &[u8] {
        &self.canonical
    }

    /// The text to store: Confluent's canonical text (normalized if asked), so the same schema has the same text,
    /// GUID and identity here and there. For Protobuf, Confluent's printing of the file (of source, or of the file
    /// a base64 descriptor describes); a text that printing does not reproduce is kept as given.
    pub fn text(&self) -> &str {
        match &self.source {
            Some(source) => source,
            None => std::str::from_utf8(&self.canonical).unwrap_or_default(),
        }
    }

    /// Whether `newer` is this schema's text but for its documentation, as
    /// [`differs_only_in_documentation`] says of the two texts. Each schema's text without documentation is
    /// computed once and kept with it, so a subject's newest version, cached, is not read again for every
    /// candidate. Formats, references and contracts are the caller's to compare.
    pub fn differs_only_in_documentation(&self, newer: &ParsedSchema) -> bool {
        self.schema_type == newer.schema_type
            && documentation::worth_comparing(self.schema_type, self.text(), newer.text())
            && matches!((self.undocumented(), newer.undocumented()), (Some(old), Some(new)) if old == new)
    }

    fn undocumented(&self) -> Option<[u8; 32]> {
        *self.undocumented.get_or_init(|| documentation::undocumented_digest(self.schema_type, self.text()))
    }

    /// About the bytes this parsed schema holds in memory (its tree, a Protobuf schema's descriptor pool), for
    /// caches bounded by memory. Calibrated against a counting allocator (`tests/memory_estimates.rs` keeps it
    /// within a factor of two for 5- to 40-field schemas and for the widest that fit in 1 MiB). A JSON tree's
    /// size follows its members more than its bytes: a field written in 25 bytes takes several hundred, a long
    /// description only its length.
    pub fn memory_estimate(&self) -> usize {
        *self.estimate.get_or_init(|| self.estimated())
    }

    fn estimated(&self) -> usize {
        let canonical = self.canonical.len();
        // A Protobuf schema keeps its text as given beside the descriptor.
        let contract =
            self.contract_bytes.saturating_mul(4).saturating_add(self.source.as_ref().map_or(0, String::len));
        contract.saturating_add(match self.schema_type {
            SchemaType::Json => json_members(&self.canonical).saturating_mul(MEMBER_BYTES).saturating_add(2 << 10),
            SchemaType::Avro => json_members(&self.canonical).saturating_mul(MEMBER_BYTES).saturating_add(3 << 9),
            // The canonical form is the compact descriptor; the pool built from it is far larger.
            SchemaType::Protobuf => canonical.saturating_mul(48).saturating_add(6 << 10),
        })
    }

    /// The references as given.
    pub fn references(&self) -> &[SchemaReference] {
        &self.references
    }

    /// The metadata and rules it was given.
    pub fn contract(&self) -> &DataContract {
        &self.contract
    }

    /// The parsed form of its format.
    pub(crate) fn kind(&self) -> &FormatSchema {
        &self.kind
    }

    /// What the schema can be found by: the names it declares and its documentation, each with where it is.
    pub fn search_terms(&self) -> Vec<SearchTerm> {
        terms::terms(self)
    }

    /// A Protobuf schema's `.proto` source, rendered from its compiled descriptor (how a schema sent as a
    /// descriptor is answered); `None` for the other formats.
    pub fn protobuf_source(&self) -> Option<String> {
        match &self.kind {
            FormatSchema::Protobuf(proto) => Some(proto_text::render(proto.file().file_descriptor_proto())),
            _ => None,
        }
    }

    /// A Protobuf schema's compiled `FileDescriptorProto`, custom options included, base64-encoded (Confluent's
    /// `format=serialized`); `None` for the other formats.
    pub fn serialized_descriptor(&self) -> Option<String> {
        use base64::Engine;
        match &self.kind {
            FormatSchema::Protobuf(proto) => {
                Some(base64::engine::general_purpose::STANDARD.encode(proto.file().encode_to_vec()))
            }
            _ => None,
        }
    }

    /// Whether it declares a field named `name` at its top level, as Confluent's reserved-field check asks: a field
    /// of an Avro record, a member of a JSON Schema's root `properties`, a field of any top-level Protobuf message
    /// (outside a oneof).
    pub fn has_top_level_field(&self, name: &str) -> bool {
        match &self.kind {
            FormatSchema::Avro(avro) => match avro.root() {
                apache_avro::Schema::Record(record) => record.fields.iter().any(|field| field.name == name),
                _ => false,
            },
            FormatSchema::Json(json) => {
                json.value().get("properties").and_then(|p| p.as_object()).is_some_and(|p| p.contains_key(name))
            }
            // Confluent counts a message's own fields: those of a oneof (but a proto3 `optional`'s) are the oneof's.
            FormatSchema::Protobuf(proto) => proto.file().messages().any(|message| {
                message.fields().any(|field| {
                    field.name() == name && field.containing_oneof().is_none_or(|oneof| oneof.is_synthetic())
                })
            }),
        }
    }

    /// The check Confluent's `validateFields` makes of a new schema's field names: the `properties` of a JSON
    /// Schema whose root is an object schema alone (no other type, combinator, enum or reference beside it) must not
    /// name a field starting with `$$`. Avro names are always checked when parsed; Protobuf has nothing more to check.
    pub fn check_field_names(&self) -> Result<(), SchemaError> {
        let FormatSchema::Json(json) = &self.kind else { return Ok(()) };
        let root = json.value();
        let object_alone = root.get("type").is_none_or(|t| t == "object")
            && !["allOf", "anyOf", "oneOf", "not", "enum", "const", "$ref"].iter().any(|k| root.get(*k).is_some());
        if !object_alone {
            return Ok(());
        }
        let properties = root.get("properties").and_then(|p| p.as_object());
        match properties.and_then(|p| p.keys().find(|name| name.starts_with("$$"))) {
            Some(name) => Err(SchemaError::Invalid {
                format: SchemaType::Json,
                message: format!("#/properties/{name}: Field names cannot start with $$ prefix"),
            }),
            None => Ok(()),
        }
    }

    /// The same schema with another data contract (inherited, or merged with configured defaults), and so
    /// another fingerprint: the tree is not parsed again.
    pub fn with_contract(&self, contract: DataContract) -> ParsedSchema {
        let fingerprint = Fingerprint::compute(self.schema_type, &self.canonical, &self.references, &contract)
            .in_context(self.context());
        ParsedSchema {
            context: self.context.clone(),
            contract_bytes: contract.approximate_bytes(),
            contract,
            fingerprint,
            schema_type: self.schema_type,
            references: self.references.clone(),
            canonical: self.canonical.clone(),
            source: self.source.clone(),
            kind: self.kind.clone(),
            // Of the text alone, which a contract does not change.
            undocumented: self.undocumented.clone(),
            // The contract counts in it.
            estimate: std::sync::OnceLock::new(),
        }
    }
}

/// About the bytes a member (`"key": value`) of a parsed JSON Schema or Avro schema takes: its key, its value and
/// their share of the map, the Avro field or the type node that holds them.
const MEMBER_BYTES: usize = 300;

/// The members of a JSON text: the `:`s outside its strings.
pub(crate) fn json_members(text: &[u8]) -> usize {
    let mut members = 0usize;
    let mut at = 0;
    while let Some(offset) = text.get(at..).and_then(|rest| memchr::memchr2(b'"', b':', rest)) {
        at += offset + 1;
        if text[at - 1] == b':' {
            members += 1;
            continue;
        }
        // A string: from escape to escape to its closing quote.
        loop {
            match text.get(at..).and_then(|rest| memchr::memchr2(b'"', b'\\', rest)) {
                Some(offset) if text[at + offset] == b'\\' => at += offset + 2,
                Some(offset) => {
                    at += offset + 1;
                    break;
                }
                None => return members,
            }
        }
    }
    members
}

/// Parses and checks `schema`, resolving its references through `resolver`, within `limits`.
pub fn parse(
    schema: &UnparsedSchema,
    resolver: &dyn ReferenceResolver,
    limits: &Limits,
) -> Result<ParsedSchema, SchemaError> {
    parse_with(schema, resolver, limits, true)
}

/// Parses a schema the registry already accepted (to check compatibility against it, or to validate data):
/// the same result as [`parse`], without the checks that only new input needs (a JSON Schema is not checked
/// against its draft; `JsonSchema::compile_validator` compiles it when data is to be validated).
pub fn parse_stored(
    schema: &UnparsedSchema,
    resolver: &dyn ReferenceResolver,
    limits: &Limits,
) -> Result<ParsedSchema, SchemaError> {
    parse_with(schema, resolver, limits, false)
}

fn parse_with(
    schema: &UnparsedSchema,
    resolver: &dyn ReferenceResolver,
    limits: &Limits,
    check: bool,
) -> Result<ParsedSchema, SchemaError> {
    // A stored text is the canonical text of what was accepted, which can be longer and (a referenced type
    // written out where it is used) deeper than the text sent: it is read back within twice the depth and at any
    // size. New input is held to the limits, and so is its canonical text (below).
    let relaxed;
    let limits = if check {
        limits
    } else {
        relaxed =
            Limits { max_schema_bytes: usize::MAX, max_depth: limits.max_depth.saturating_mul(2), ..limits.clone() };
        &relaxed
    };
    let contract_bytes = schema.contract.approximate_bytes();
    let size = schema.text.len().saturating_add(contract_bytes);
    if size > limits.max_schema_bytes {
        return Err(SchemaError::TooLarge { size, max: limits.max_schema_bytes });
    }
    if check && let Some(rule_set) = &schema.contract.rule_set {
        rule_set.validate()?;
    }
    let resolved = resolve_all(schema, resolver, limits)?;
    for reference in &resolved {
        check_size(&reference.schema.text, limits)?;
    }
    let normalize = schema.normalize;
    // A schema sent (checked) may become a new version, whose documentation check wants its text without
    // documentation: a JSON Schema's is had from the tree its canonical text is written from.
    let mut undocumented = std::sync::OnceLock::new();
    let (kind, canonical, source) = match schema.schema_type {
        SchemaType::Avro => {
            let (parsed, canonical) = avro::parse(&schema.text, &resolved, limits, normalize)?;
            (FormatSchema::Avro(Box::new(parsed)), canonical, None)
        }
        SchemaType::Json => {
            let (parsed, canonical, digest) = json::parse(&schema.text, &resolved, limits, check, normalize, check)?;
            if let Some(digest) = digest {
                undocumented = std::sync::OnceLock::from(Some(digest));
            }
            (FormatSchema::Json(parsed), canonical.into_bytes(), None)
        }
        SchemaType::Protobuf => {
            let (parsed, canonical, text) = protobuf::parse(&schema.text, &resolved, limits, normalize)?;
            (FormatSchema::Protobuf(Box::new(parsed)), canonical, Some(text))
        }
    };
    if check && schema.schema_type != SchemaType::Protobuf {
        // The text stored is the canonical one: it must be readable under the same limits as the text sent.
        let size = canonical.len().saturating_add(contract_bytes);
        if size > limits.max_schema_bytes {
            return Err(SchemaError::TooLarge { size, max: limits.max_schema_bytes });
        }
        check_depth(std::str::from_utf8(&canonical).unwrap_or_default(), Syntax::Json, limits)?;
    }
    // Normalized, references are sorted by subject and version (their names are not a key) and each kept once.
    let mut references = schema.references.clone();
    if normalize {
        references.sort_by(|a, b| a.subject.as_str().cmp(b.subject.as_str()).then(a.version.cmp(&b.version)));
        let sorted = std::mem::take(&mut references);
        for reference in sorted {
            if !references.contains(&reference) {
                references.push(reference);
            }
        }
    }
    let fingerprint = Fingerprint::compute(schema.schema_type, &canonical, &references, &schema.contract);
    Ok(ParsedSchema {
        schema_type: schema.schema_type,
        references,
        contract: schema.contract.clone(),
        contract_bytes,
        canonical,
        source,
        fingerprint,
        context: None,
        kind,
        undocumented,
        estimate: std::sync::OnceLock::new(),
    })
}

/// An Avro schema's text with every named type written out at its first use, the types of its references (and
/// theirs) included, as Confluent's `format=resolved` answers; another format's text as it is.
pub fn resolved_text(
    schema: &UnparsedSchema,
    resolver: &dyn ReferenceResolver,
    limits: &Limits,
) -> Result<String, SchemaError> {
    if schema.schema_type != SchemaType::Avro || schema.references.is_empty() {
        return Ok(schema.text.clone());
    }
    let resolved = resolve_all(schema, resolver, limits)?;
    let references: Vec<&str> = resolved.iter().map(|r| r.schema.text.as_str()).collect();
    for text in references.iter().chain(std::iter::once(&schema.text.as_str())) {
        check_depth(text, Syntax::Json, limits)?;
    }
    avro_text::text(&schema.text, &references, avro_text::Form::Resolved, limits.max_depth)
}

fn check_size(text: &str, limits: &Limits) -> Result<(), SchemaError> {
    if text.len() > limits.max_schema_bytes {
        return Err(SchemaError::TooLarge { size: text.len(), max: limits.max_schema_bytes });
    }
    Ok(())
}

/// Which nesting syntax a text uses, for [`check_depth`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// JSON: `{}` and `[]`, strings in double quotes.
    Json,
    /// Protobuf: `{}`, `[]`, `()`, `<>`, strings in either quote, `//` and `/* */` comments.
    Proto,
}

/// Refuses a text that nests deeper than `limits.max_depth`, before any recursive parser sees it.
pub(crate) fn check_depth(text: &str, syntax: Syntax, limits: &Limits) -> Result<(), SchemaError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' | b'\'' if b == b'"' || syntax == Syntax::Proto => {
                // Most of a schema's text is strings: jump from escape to escape to the closing quote.
                i += 1;
                while i < bytes.len() {
                    match memchr::memchr2(b, b'\\', &bytes[i..]) {
                        Some(offset) if bytes[i + offset] == b'\\' => i += offset + 2,
                        Some(offset) => {
                            i += offset;
                            break;
                        }
                        None => i = bytes.len(),
                    }
                }
            }
            b'/' if syntax == Syntax::Proto && bytes.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |offset| i + offset);
            }
            b'/' if syntax == Syntax::Proto && bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 1;
            }
            b'{' | b'[' => depth += 1,
            b'(' | b'<' if syntax == Syntax::Proto => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b')' | b'>' if syntax == Syntax::Proto => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > limits.max_depth {
            return Err(SchemaError::TooDeep { max: limits.max_depth });
        }
        i += 1;
    }
    Ok(())
}

/// Whether `value` holds, at any depth, an object with a key `wanted` accepts.
pub(crate) fn holds_key(value: &serde_json::Value, wanted: &impl Fn(&str) -> bool) -> bool {
    use serde_json::Value;
    match value {
        Value::Object(map) => map.iter().any(|(key, child)| wanted(key) || holds_key(child, wanted)),
        Value::Array(items) => items.iter().any(|item| holds_key(item, wanted)),
        _ => false,
    }
}

/// Parses JSON text, naming the line and column of a syntax error.
pub(crate) fn parse_json(text: &str, format: SchemaType, limits: &Limits) -> Result<serde_json::Value, SchemaError> {
    check_depth(text, Syntax::Json, limits)?;
    serde_json::from_str(text).map_err(|e| SchemaError::invalid(format, format!("not valid JSON: {e}")))
}

/// The referenced schemas, by name: used by the formats that look references up by name.
pub(crate) fn by_name(resolved: &[ResolvedReference]) -> impl Iterator<Item = (&str, &str)> {
    resolved.iter().map(|r| (r.name.as_str(), r.schema.text.as_str()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// `check_depth` as first written, a byte at a time: the reference the faster scan must agree with.
    fn depth_by_bytes(text: &str, syntax: Syntax, max: usize) -> bool {
        let bytes = text.as_bytes();
        let (mut depth, mut i) = (0usize, 0);
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'"' | b'\'' if b == b'"' || syntax == Syntax::Proto => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'/' if syntax == Syntax::Proto && bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if syntax == Syntax::Proto && bytes.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                        i += 1;
                    }
                    i += 1;
                }
                b'{' | b'[' => depth += 1,
                b'(' | b'<' if syntax == Syntax::Proto => depth += 1,
                b'}' | b']' => depth = depth.saturating_sub(1),
                b')' | b'>' if syntax == Syntax::Proto => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > max {
                return false;
            }
            i += 1;
        }
        true
    }

    /// The estimate a parsed schema keeps is the one it would compute, and one with another contract computes its
    /// own (the contract counts in it).
    #[test]
    fn a_kept_memory_estimate_is_the_computed_one() {
        let text = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}"#;
        let parsed =
            parse(&UnparsedSchema::new(SchemaType::Avro, text), &crate::NoReferences, &Limits::default()).unwrap();
        assert_eq!(parsed.memory_estimate(), parsed.estimated());
        assert_eq!(parsed.memory_estimate(), parsed.estimated(), "asked again");
        let mut metadata = crate::contract::Metadata::default();
        metadata.properties.insert("owner".into(), "x".repeat(2000));
        let contract = DataContract { metadata: Some(metadata), rule_set: None };
        let other = parsed.with_contract(contract);
        assert_eq!(other.memory_estimate(), other.estimated());
        assert!(other.memory_estimate() > parsed.memory_estimate(), "the contract counts");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_depth_scan_agrees_with_a_byte_at_a_time_scan(
            text in proptest::collection::vec(proptest::sample::select(&b"\"'\\{}[]()<>/*\na "[..]), 0..120)
                .prop_map(|bytes| String::from_utf8(bytes).expect("ASCII")),
            proto in any::<bool>(),
            max in 0usize..6,
        ) {
            let syntax = if proto { Syntax::Proto } else { Syntax::Json };
            let limits = Limits { max_depth: max, ..Limits::default() };
            prop_assert_eq!(check_depth(&text, syntax, &limits).is_ok(), depth_by_bytes(&text, syntax, max), "{:?}", text);
        }
    }
}
