//! The rules of the schema registry, and nothing else.
//!
//! `registry-core` owns what a schema *is*: the identities (`Subject`, `SchemaId`, `Version`, `Fingerprint`),
//! parsing and validating schemas of each format (Avro, JSON Schema, Protobuf) with their references, the
//! canonical form and identity of a schema, and the compatibility rules between two schemas.
//!
//! It is pure and synchronous: no I/O, no global state, no storage or HTTP. References are resolved through a
//! [`ReferenceResolver`] the caller passes in. Every public function is total: it returns `Ok` or a typed error
//! for any input, and hostile input is bounded by [`Limits`].
//!
//! Its public API hides the crates it builds on (apache-avro, jsonschema, protox, prost): what a caller needs of a
//! parsed schema is a method of [`ParsedSchema`] (its text, identity, `protobuf_source`, `serialized_descriptor`),
//! and the per-format modules under [`mod@format`] are private.

#![warn(missing_docs)]

pub mod compat;
pub mod contract;
pub mod diff;
mod error;
mod fingerprint;
pub mod format;
mod guid;
mod limits;
mod reference;
mod schema;
mod subject;
pub mod validate;
mod version;

pub use error::{SchemaError, SubjectError, VersionError};
pub use fingerprint::{Fingerprint, hex};
pub use format::{ParsedSchema, SearchTerm, TermKind, avro_equivalence_key, parse, parse_stored, resolved_text};
pub use guid::{GuidError, SchemaGuid};
pub use limits::Limits;
pub use reference::{NoReferences, ReferenceResolver, ResolveError, ResolvedReference};
pub use schema::{SchemaId, SchemaReference, SchemaType, UnparsedSchema};
pub use subject::{
    DEFAULT_CONTEXT, GLOBAL_CONTEXT, RESERVED_EMPTY, RESERVED_GLOBAL, Subject, WILDCARD_CONTEXT, qualify,
    reference_target, split_qualified,
};
pub use validate::{ValidateError, ValidateOptions, ValidationError, ValidationReport, Validator};
pub use version::{Version, VersionSelector};
