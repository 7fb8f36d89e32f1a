//! Rewriting what a store kept before schema texts were canonical: each Avro and JSON Schema record gets the text
//! Confluent's registry would have stored for it, and the fingerprint and GUID of that text. Both stores run it
//! once, in the transaction that moves their format on (redb file format 4, PostgreSQL migration 6).
//!
//! Two ids whose texts differed only in what the canonical text drops (`{"type":"int"}` and `"int"`, a dotted name
//! and a namespace) now have one identity. Both keep their records, versions and new text; the identity (what a
//! registration of that schema finds) goes to the id that already holds its fingerprint, else to the newest of
//! them, as Confluent answers with the id stored last. The others keep the fingerprint they had, which no new
//! registration computes any more.

use std::collections::HashMap;

use registry_core::{Fingerprint, Limits, SchemaId, SchemaReference, SchemaType, canonical_text};

use super::Result;
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

/// The texts of `references` and of theirs, dependencies first and each once, as a parse resolves them (`seen`
/// holds the ones collected): `false` when one is gone or the chain is past the reference depth limit.
fn every_reference(
    references: &[SchemaReference],
    referenced: &dyn Fn(&SchemaReference) -> Result<Option<StoredSchema>>,
    seen: &mut Vec<SchemaReference>,
    texts: &mut Vec<String>,
    depth: usize,
) -> Result<bool> {
    if depth > Limits::default().max_reference_depth {
        return Ok(false);
    }
    for reference in references {
        let key = SchemaReference { name: String::new(), ..reference.clone() };
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let Some(schema) = referenced(reference)? else { return Ok(false) };
        if !every_reference(&schema.references, referenced, seen, texts, depth + 1)? {
            return Ok(false);
        }
        texts.push(schema.text);
    }
    Ok(true)
}

/// The rewrites of `schemas` (every schema record): `referenced` finds a referenced version's record, `holder` the
/// id a fingerprint is bound to now. A record whose text cannot be made canonical (a reference gone, a text the
/// current parser refuses) is left as it is, with a warning; `Registry::check` reports it.
pub(crate) fn rewrites(
    schemas: Vec<StoredSchema>,
    referenced: &dyn Fn(&SchemaReference) -> Result<Option<StoredSchema>>,
    holder: &dyn Fn(&Fingerprint) -> Result<Option<SchemaId>>,
) -> Result<Vec<Rewrite>> {
    // Every stored text was accepted under some limits: the rewrite refuses none for its size or depth.
    let limits = Limits { max_schema_bytes: usize::MAX, max_depth: 512, ..Limits::default() };
    let mut rewrites = Vec::new();
    for before in schemas {
        if before.schema_type == SchemaType::Protobuf {
            continue;
        }
        let mut references = Vec::new();
        if !every_reference(&before.references, referenced, &mut Vec::new(), &mut references, 0)? {
            tracing::warn!(id = before.id.0, "a schema whose reference is gone keeps its text");
            continue;
        }
        let references: Vec<&str> = references.iter().map(String::as_str).collect();
        let text = match canonical_text(before.schema_type, &before.text, &references, &limits) {
            Ok(Some(text)) => text,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(id = before.id.0, error = %e, "a schema whose text cannot be made canonical keeps it");
                continue;
            }
        };
        let fingerprint =
            Fingerprint::compute(before.schema_type, text.as_bytes(), &before.references, &before.contract);
        if text == before.text && fingerprint == before.fingerprint {
            continue;
        }
        let after = StoredSchema { text, fingerprint, ..before.clone() };
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
