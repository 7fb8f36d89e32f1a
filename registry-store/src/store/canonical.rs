//! Rewriting what a store kept before schema texts were canonical: each record gets the text Confluent's registry
//! would have stored for it, and the fingerprint and GUID of that text. Both stores run it once per format that
//! changed: Avro and JSON Schema in the transaction that moved them to canonical texts (redb file format 4,
//! PostgreSQL migration 6), Protobuf in the one that moved its source texts to Confluent's printing (redb file
//! format 8, PostgreSQL migration 11; its identity now sees a message's fields and the file's imports in printed
//! order, so a schema that declared a oneof among plain fields takes that identity too).
//!
//! Two ids whose texts differed only in what the canonical text drops (`{"type":"int"}` and `"int"`, a dotted name
//! and a namespace) now have one identity. Both keep their records, versions and new text; the identity (what a
//! registration of that schema finds) goes to the id that already holds its fingerprint, else to the newest of
//! them, as Confluent answers with the id stored last. The others keep the fingerprint they had, which no new
//! registration computes any more. A schema in a context other than the default one takes its context's identity.

use std::cell::RefCell;
use std::collections::HashMap;

use registry_core::{Fingerprint, Limits, ResolveError, SchemaId, SchemaReference, SchemaType, UnparsedSchema};

use super::Result;
use crate::RegistryError;
use crate::records::StoredSchema;

/// One record to rewrite.
pub(crate) struct Rewrite {
    /// The record as stored.
    pub(crate) before: StoredSchema,
    /// The record with its canonical text and, where it takes the identity, its new fingerprint.
    pub(crate) after: StoredSchema,
    /// Whether its id is bound to the new fingerprint (and unbound from the old).
    pub(crate) rebind: bool,
}

/// The rewrites of the records of `formats` among `schemas` (every schema record): `referenced` finds a referenced
/// version's record, `holder` the id a fingerprint is bound to now, `context` the schema context a stored id is in
/// (`None`: the default one). Each record is parsed as a stored one is read back (`parse_stored`, its references
/// resolved as any parse resolves them), and takes the text and fingerprint of that parse. A record that does not
/// parse (a reference gone, a text the current parser refuses) is left as it is, with a warning;
/// `Registry::check` reports it. A failure of the store itself stops the rewrite.
pub(crate) fn rewrites(
    schemas: Vec<StoredSchema>,
    formats: &[SchemaType],
    referenced: &dyn Fn(&SchemaReference) -> Result<Option<StoredSchema>>,
    holder: &dyn Fn(&Fingerprint) -> Result<Option<SchemaId>>,
    context: &dyn Fn(SchemaId) -> Result<Option<String>>,
) -> Result<Vec<Rewrite>> {
    let failure: RefCell<Option<RegistryError>> = RefCell::new(None);
    let resolver = |reference: &SchemaReference| -> Result<UnparsedSchema, ResolveError> {
        match referenced(reference) {
            Ok(Some(schema)) => Ok(schema.to_unparsed()),
            Ok(None) => Err(ResolveError::NotFound { subject: reference.subject.clone(), version: reference.version }),
            Err(e) => {
                let message = e.to_string();
                failure.replace(Some(e));
                Err(ResolveError::Other(message))
            }
        }
    };
    // Every stored text was accepted under some limits: the rewrite refuses none for its size (a stored text is
    // read at any size) or a nesting a registry could have been configured to take.
    let limits = Limits { max_depth: 256, ..Limits::default() };
    let mut rewrites = Vec::new();
    for before in schemas {
        if !formats.contains(&before.schema_type) {
            continue;
        }
        let context = context(before.id)?;
        let read = |normalize: bool| {
            registry_core::parse_stored(&before.to_unparsed().normalized(normalize), &resolver, &limits).map(|parsed| {
                match &context {
                    Some(context) => parsed.in_context(context),
                    None => parsed,
                }
            })
        };
        // A Protobuf schema registered with `normalize` takes the normalized printing and keeps its identity.
        let parsed = match before.read_as_registered(read) {
            Ok(parsed) => match failure.take() {
                Some(failure) => return Err(failure),
                None => parsed,
            },
            Err(e) => {
                if let Some(failure) = failure.take() {
                    return Err(failure);
                }
                tracing::warn!(id = before.id.0, error = %e, "a schema that cannot be read again keeps its text");
                continue;
            }
        };
        let (text, fingerprint) = (parsed.text().to_string(), parsed.fingerprint());
        if text == before.text && fingerprint == before.fingerprint {
            continue;
        }
        let (references, contract) = (before.references.clone(), before.contract.clone());
        let after = StoredSchema::new(before.id, before.schema_type, text, references, fingerprint, contract);
        rewrites.push(Rewrite { before, after, rebind: false });
    }
    // Who takes each new identity.
    let mut claims: HashMap<Fingerprint, Vec<usize>> = HashMap::new();
    for (at, rewrite) in rewrites.iter().enumerate() {
        claims.entry(rewrite.after.fingerprint).or_default().push(at);
    }
    for (fingerprint, claimants) in claims {
        let winner = match holder(&fingerprint)? {
            Some(held) => Some(held),
            None => claimants.iter().map(|at| rewrites[*at].before.id).max(),
        };
        for at in claimants {
            let rewrite = &mut rewrites[at];
            if Some(rewrite.before.id) == winner {
                rewrite.rebind = rewrite.before.fingerprint != fingerprint;
            } else {
                tracing::info!(
                    id = rewrite.before.id.0,
                    held_by = winner.map(|id| id.0),
                    "a schema now the same as another keeps its own id"
                );
                rewrite.after.fingerprint = rewrite.before.fingerprint;
            }
        }
    }
    rewrites.sort_by_key(|r| r.before.id);
    Ok(rewrites)
}
