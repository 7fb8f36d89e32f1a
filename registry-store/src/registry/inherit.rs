//! What a registration takes from its subject's newest live version, as Confluent's registries do outside
//! IMPORT mode: an empty text is the previous version's schema, an omitted `metadata` or `ruleSet` is the
//! previous version's, and a `confluent:version` property is rewritten to the version the registration would
//! get. And the loose match that goes with that property: a schema that differs from a stored one only in its
//! `confluent:version` is that version.
//!
//! The registry works these out before the write transaction (the effective schema decides the fingerprint the
//! transaction locks), and the transaction checks that the subject still has the newest version they were
//! worked out from ([`Basis`]).

use std::sync::Arc;

use registry_core::contract::{CONFLUENT_VERSION, DataContract, Metadata, RuleSet};
use registry_core::{Fingerprint, ParsedSchema, SchemaError, SchemaId, SchemaType, UnparsedSchema, Version};

use crate::RegistryError;
use crate::records::{ScopeSettings, StoredSchema};
use crate::store::Result;

/// The subject's newest live version as inheritance read it, the number a new version would take (read only when a
/// `confluent:version` property needs it), and the settings in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Basis {
    /// The newest live version and its id.
    pub newest: Option<(Version, SchemaId)>,
    /// That version's schema record, as read then.
    pub previous: Option<Arc<StoredSchema>>,
    /// The next version number, when the effective schema's metadata was given it.
    pub next: Option<Version>,
    /// The subject's settings in force (their defaults and overrides).
    pub settings: ScopeSettings,
}

/// The schema `request` stands for under a subject whose newest live version is `previous` and whose settings are
/// `settings`: its text, format and references when the request's text is empty (with no previous version,
/// `Empty schema`); its metadata and rule set when the request omits them (each on its own; an empty value given
/// counts as given), laid over the configured defaults and under the configured overrides; and, when the request
/// named a version (`versioned`) or the resulting metadata has a `confluent:version` property, that property set
/// to `next()`.
pub(super) fn effective(
    request: &UnparsedSchema,
    previous: Option<&StoredSchema>,
    settings: &ScopeSettings,
    versioned: bool,
    next: impl FnOnce() -> Result<Version>,
) -> Result<UnparsedSchema> {
    let mut effective = if request.text.trim().is_empty() {
        let previous = previous.ok_or(RegistryError::InvalidSchema(SchemaError::Empty))?;
        UnparsedSchema {
            schema_type: previous.schema_type,
            text: previous.text.clone(),
            references: previous.references.clone(),
            contract: request.contract.clone(),
            normalize: request.normalize,
        }
    } else {
        request.clone()
    };
    effective.contract = contract_under(&effective.contract, previous.map(|p| &p.contract), settings);
    if versioned || has_confluent_version(&effective.contract) {
        let metadata = effective.contract.metadata.get_or_insert_with(Metadata::default);
        metadata.properties.insert(CONFLUENT_VERSION.to_string(), next()?.to_string());
    }
    Ok(effective)
}

/// The contract a request's `contract` stands for: what it omits (metadata or rule set) taken from `previous`, the
/// newest version's, then laid over the configured defaults and under the configured overrides.
pub(super) fn contract_under(
    contract: &DataContract,
    previous: Option<&DataContract>,
    settings: &ScopeSettings,
) -> DataContract {
    let metadata = contract.metadata.as_ref().or(previous.and_then(|p| p.metadata.as_ref()));
    let rule_set = contract.rule_set.as_ref().or(previous.and_then(|p| p.rule_set.as_ref()));
    let metadata = match (&settings.default_metadata, &settings.override_metadata) {
        (None, None) => metadata.cloned(),
        (default, over) => Metadata::merge(Metadata::merge(default.as_ref(), metadata).as_ref(), over.as_ref()),
    };
    let rule_set = match (&settings.default_rule_set, &settings.override_rule_set) {
        (None, None) => rule_set.cloned(),
        (default, over) => RuleSet::merge(RuleSet::merge(default.as_ref(), rule_set).as_ref(), over.as_ref()),
    };
    DataContract { metadata, rule_set }
}

/// Whether `contract`'s metadata has a `confluent:version` property (of any value).
pub(super) fn has_confluent_version(contract: &DataContract) -> bool {
    contract.metadata.as_ref().is_some_and(|m| m.properties.contains_key(CONFLUENT_VERSION))
}

/// The key under which `candidate` is one schema with texts that differ from its own only in orders Confluent's
/// Avro equality ignores; `None` for other formats and for texts where no such order can vary.
pub(super) fn equivalence_key(candidate: &ParsedSchema) -> Option<String> {
    if candidate.schema_type() != SchemaType::Avro {
        return None;
    }
    registry_core::avro_equivalence_key(candidate.text())
}

/// The stored version among `versions` (newest first) that `candidate` loosely matches, as Confluent's lookups
/// do: same text, references and rule set, with metadata equal once the `confluent:version` property is set
/// aside. A candidate without the property matches a version whose number it does not name; one with it matches
/// a version without it only when the number is that version's. An Avro text that differs only in the orders Java's
/// equality ignores matches too ([`StoredSchema::equivalent`]; `key` is the candidate's [`equivalence_key`]). An
/// exact match is the fingerprint's business, but a version that holds the candidate's very text matches too (first,
/// before another order of it): its id kept an older identity when texts became canonical ([`StoredSchema::holds`]).
pub(super) fn loose_match<'a>(
    candidate: &ParsedSchema,
    key: Option<&str>,
    versions: impl IntoIterator<Item = (Version, &'a StoredSchema)>,
) -> Option<(Version, SchemaId)> {
    let metadata = candidate.contract().metadata.as_ref();
    let own = metadata.and_then(Metadata::confluent_version);
    let has_key = metadata.is_some_and(|m| m.properties.contains_key(CONFLUENT_VERSION));
    let fingerprint = |metadata: Option<Metadata>| {
        let contract = DataContract { metadata, rule_set: candidate.contract().rule_set.clone() };
        Fingerprint::compute(candidate.schema_type(), candidate.canonical(), candidate.references(), &contract)
    };
    let versions: Vec<(Version, &StoredSchema)> = versions.into_iter().collect();
    // The very text first, in whichever version holds it; only then another order of it.
    if let Some((version, stored)) = versions.iter().find(|(_, stored)| stored.holds(candidate)) {
        return Some((*version, stored.id));
    }
    versions.into_iter().find_map(|(version, stored)| {
        if stored.equivalent(candidate, key) {
            return Some((version, stored.id));
        }
        let stored_metadata = stored.contract.metadata.as_ref();
        let matches = match (own, stored_metadata.and_then(|m| m.properties.get(CONFLUENT_VERSION))) {
            // The stored version has the property, the candidate does not: the candidate with the stored value.
            (None, Some(value)) if !has_key && stored_metadata.and_then(Metadata::confluent_version).is_some() => {
                let mut with = metadata.cloned().unwrap_or_default();
                with.properties.insert(CONFLUENT_VERSION.to_string(), value.clone());
                fingerprint(Some(with)) == stored.fingerprint
            }
            // The candidate names this version, which has no such property: the candidate without it, where no
            // metadata at all counts as empty metadata.
            (Some(number), None) if i64::from(number) == i64::from(version.get()) => {
                let mut without = metadata.cloned().unwrap_or_default();
                without.properties.remove(CONFLUENT_VERSION);
                let empty = without.is_empty();
                fingerprint(Some(without)) == stored.fingerprint || (empty && fingerprint(None) == stored.fingerprint)
            }
            _ => false,
        };
        matches.then_some((version, stored.id))
    })
}
