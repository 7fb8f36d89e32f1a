//! Data validation: does a document fit a registered schema? A [`Validator`] is compiled once from a
//! [`ParsedSchema`] and checks many documents, reporting every error (up to a bound) with a JSON pointer into
//! the data.
//!
//! JSON Schema data is checked by the schema's own compiled `jsonschema` validator; Avro data (its JSON
//! encoding, or a binary datum) by a walker over the schema's types; Protobuf data (the proto3 JSON mapping)
//! by an allocation-free walk when it is plainly written, else by `prost-reflect`, with a walker over the
//! descriptor to locate the errors. Like the rest of this crate it
//! is total: no panics on any input, recursion bounded by [`ValidateOptions::max_depth`], no I/O.

mod avro;
mod json;
mod protobuf;
#[cfg(test)]
mod protobuf_agreement;

use std::fmt;

use serde_json::Value;

use crate::format::{FormatSchema, ParsedSchema};
use crate::{SchemaType, format};

/// How data is validated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ValidateOptions {
    /// Most errors reported for one document (default 100); checking stops once this many are found.
    pub max_errors: usize,
    /// Most errors reported for a whole batch (default 10,000), so that a batch's answer is bounded by its
    /// count of documents, not by that times `max_errors`: once a batch has reported this many, each further
    /// invalid document reports its first error only ([`Validator::validate_batch`]).
    pub max_batch_errors: usize,
    /// Deepest nesting of arrays and objects (or Avro values) accepted in a document (default 128).
    pub max_depth: usize,
    /// Protobuf: the full name of the message the data is an instance of (default: the file's first message).
    pub message: Option<String>,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self { max_errors: 100, max_batch_errors: 10_000, max_depth: 128, message: None }
    }
}

impl ValidateOptions {
    /// These options with the Protobuf message set.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// The outcome of validating one document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationReport {
    /// Whether the document fits the schema.
    pub valid: bool,
    /// Why not: every error found, up to [`ValidateOptions::max_errors`]. Empty when valid.
    pub errors: Vec<ValidationError>,
}

impl ValidationReport {
    fn from_errors(errors: Vec<ValidationError>) -> Self {
        Self { valid: errors.is_empty(), errors }
    }
}

/// One way a document does not fit its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    /// Where, as a JSON pointer into the data (`""` for the whole document, `/items/3/price` inside it).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() { "/" } else { &self.path };
        write!(f, "{at}: {}", self.message)
    }
}

/// A schema that cannot be used to validate data as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// The Protobuf file defines no message to validate against.
    #[error("the Protobuf schema defines no message to validate data against")]
    NoMessage,
    /// The named Protobuf message is not in the schema.
    #[error("message '{name}' is not defined in the schema; it defines: {defined}")]
    UnknownMessage {
        /// The name asked for.
        name: String,
        /// The messages the schema's file defines, comma-separated.
        defined: String,
    },
    /// The option or operation does not apply to this format.
    #[error("{what} is not supported for {format} schemas")]
    NotSupported {
        /// The schema's format.
        format: SchemaType,
        /// What was asked.
        what: &'static str,
    },
    /// The schema cannot be compiled into a validator.
    #[error("the schema cannot be used for validation: {0}")]
    Invalid(String),
}

/// A validator for one schema, compiled once and reusable across threads.
#[derive(Clone)]
pub struct Validator {
    kind: Kind,
    options: ValidateOptions,
    weight: usize,
}

#[derive(Clone)]
enum Kind {
    Json(json::JsonValidator),
    Avro(Box<avro::AvroValidator>),
    Protobuf(protobuf::ProtobufValidator),
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("schema_type", &self.schema_type())
            .field("options", &self.options)
            .field("weight", &self.weight)
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// Compiles a validator for `schema`, with `options` for every document it checks.
    pub fn compile(schema: &ParsedSchema, options: &ValidateOptions) -> Result<Validator, ValidateError> {
        if options.message.is_some() && schema.schema_type() != SchemaType::Protobuf {
            return Err(ValidateError::NotSupported { format: schema.schema_type(), what: "choosing a message" });
        }
        let kind = match schema.kind() {
            FormatSchema::Json(parsed) => Kind::Json(json::JsonValidator::compile(parsed)?),
            FormatSchema::Avro(parsed) => Kind::Avro(Box::new(avro::AvroValidator::compile(parsed)?)),
            FormatSchema::Protobuf(parsed) => {
                Kind::Protobuf(protobuf::ProtobufValidator::compile(parsed, options.message.as_deref())?)
            }
        };
        let weight = estimate_weight(schema, &kind);
        Ok(Validator { kind, options: options.clone(), weight })
    }

    /// The format of the schema it checks against.
    pub fn schema_type(&self) -> SchemaType {
        match self.kind {
            Kind::Json(_) => SchemaType::Json,
            Kind::Avro(_) => SchemaType::Avro,
            Kind::Protobuf(_) => SchemaType::Protobuf,
        }
    }

    /// The options it was compiled with.
    pub fn options(&self) -> &ValidateOptions {
        &self.options
    }

    /// About the bytes of memory it holds (its compiled form and what it keeps alive), for bounding caches.
    pub fn weight(&self) -> usize {
        self.weight
    }

    /// Checks `data` (JSON for JSON Schema, the Avro JSON encoding, the proto3 JSON mapping) against the schema.
    pub fn validate(&self, data: &Value) -> ValidationReport {
        self.validate_up_to(data, self.options.max_errors)
    }

    /// Checks each of `items`: one report per item, in order, each with up to `max_errors` errors until the
    /// batch has reported `max_batch_errors`, then one.
    pub fn validate_batch(&self, items: &[Value]) -> Vec<ValidationReport> {
        let mut unreported = self.options.max_batch_errors;
        items
            .iter()
            .map(|item| {
                let report = self.validate_up_to(item, unreported.min(self.options.max_errors));
                unreported = unreported.saturating_sub(report.errors.len());
                report
            })
            .collect()
    }

    /// [`Validator::validate`] stopping at `max_errors` (at least one: validity needs one error found).
    fn validate_up_to(&self, data: &Value, max_errors: usize) -> ValidationReport {
        let mut out = Errors::new(max_errors);
        if deeper_than(data, self.options.max_depth) {
            out.push("", format!("the data nests deeper than {} levels", self.options.max_depth));
            return out.into_report();
        }
        match &self.kind {
            Kind::Json(v) => v.validate(data, &mut out),
            Kind::Avro(v) => v.validate(data, &self.options, &mut out),
            Kind::Protobuf(v) => v.validate(data, &self.options, &mut out),
        }
        out.into_report()
    }

    /// Checks a binary Avro datum (no header, no schema id prefix) against the schema: Avro schemas only.
    pub fn validate_avro_binary(&self, datum: &[u8]) -> Result<ValidationReport, ValidateError> {
        let Kind::Avro(v) = &self.kind else {
            return Err(ValidateError::NotSupported { format: self.schema_type(), what: "a binary datum" });
        };
        let mut out = Errors::new(self.options.max_errors);
        v.validate_binary(datum, &self.options, &mut out);
        Ok(out.into_report())
    }
}

/// What a validator costs to keep, in bytes of memory: calibrated, as [`ParsedSchema::memory_estimate`], against
/// a counting allocator (`tests/memory_estimates.rs`). Referenced schemas count at the same rate as its own.
fn estimate_weight(schema: &ParsedSchema, kind: &Kind) -> usize {
    match kind {
        // A compiled jsonschema validator: its keyword tree (a node per member), regexes and resolved references.
        Kind::Json(v) => format::json_members(schema.canonical())
            .saturating_mul(360)
            .saturating_add(v.references_size().saturating_mul(14))
            .saturating_add(4 << 10),
        // Our node table over the schema, and the copy of the schema a binary datum is read with (about half
        // the parsed schema's size, which also holds the text of its docs).
        Kind::Avro(v) => (schema.memory_estimate() / 2).saturating_add(v.size_estimate()),
        // The descriptor pool it keeps alive (shared with the parsed schema while both are cached).
        Kind::Protobuf(v) => v.pool_size().saturating_mul(20).saturating_add(4 << 10),
    }
}

/// Collects errors up to a bound.
pub(crate) struct Errors {
    errors: Vec<ValidationError>,
    max: usize,
}

impl Errors {
    pub(crate) fn new(max: usize) -> Self {
        Self { errors: Vec::new(), max: max.max(1) }
    }

    /// Whether no more errors are wanted: checking can stop.
    pub(crate) fn full(&self) -> bool {
        self.errors.len() >= self.max
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub(crate) fn push(&mut self, path: &str, message: impl Into<String>) {
        if !self.full() {
            self.errors.push(ValidationError { path: path.to_string(), message: message.into() });
        }
    }

    pub(crate) fn into_report(self) -> ValidationReport {
        ValidationReport::from_errors(self.errors)
    }
}

/// Appends one JSON pointer segment to `path`, escaped (`~` as `~0`, `/` as `~1`).
pub(crate) fn push_segment(path: &mut String, segment: &str) {
    path.push('/');
    for c in segment.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

/// Appends an array index to `path`.
pub(crate) fn push_index(path: &mut String, index: usize) {
    use std::fmt::Write;
    let _ = write!(path, "/{index}");
}

/// Whether `value` nests arrays and objects deeper than `max`, found without recursion.
fn deeper_than(value: &Value, max: usize) -> bool {
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        let empty = match value {
            Value::Array(items) => items.is_empty(),
            Value::Object(map) => map.is_empty(),
            _ => continue,
        };
        if depth + 1 > max {
            return true;
        }
        if empty {
            continue;
        }
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|child| (child, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|child| (child, depth + 1))),
            _ => {}
        }
    }
    false
}

/// What kind of JSON value this is, for messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    format::json::json_kind(value)
}
