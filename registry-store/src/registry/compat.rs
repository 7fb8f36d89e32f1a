//! Compatibility: checks asked for by a caller, and the one check (`Shared::check_against`) that they and a
//! registration's precheck and commit all run.

use std::sync::Arc;

use registry_core::compat::{self, CompatReport, CompatibilityLevel, CompatibilityPolicy};
use registry_core::diff::SchemaDiff;
use registry_core::{ParsedSchema, SchemaId, SchemaType, Subject, UnparsedSchema, Version, VersionSelector};

use super::config::in_force;
use super::read::{Identified, text_key};
use super::register::live_versions;
use super::{Registry, Shared};
use crate::RegistryError;
use crate::records::ScopeSettings;
use crate::store::{Resolver, Result, Snapshot};

impl Registry {
    /// `schema`'s identity in `subject`, as [`Registry::fingerprint_or_parse`] gives it, with its field names
    /// checked first where `validateFields` is in force outside IMPORT mode (`settings`, the subject's): Confluent
    /// checks a schema it is asked to look up or register before it looks for it, so a schema registered while the
    /// setting was off is refused once it is on. The check needs the tree: such a schema is parsed even when seen
    /// before, and the parse is what identifies it.
    pub(super) fn identify_checked(
        &self,
        subject: &Subject,
        schema: &UnparsedSchema,
        settings: &ScopeSettings,
    ) -> Result<Identified> {
        // Only a JSON Schema's names are checked here (Avro's are when parsed, Protobuf has none to check).
        let checked = settings.validate_fields == Some(true)
            && schema.schema_type == SchemaType::Json
            && self.effective_mode(subject)? != crate::Mode::Import;
        if !checked {
            return self.fingerprint_or_parse(schema, subject.context());
        }
        let parsed = self.parse_keyed(schema, text_key(schema), subject.context())?;
        parsed.check_field_names()?;
        Ok(Identified::Parsed(parsed))
    }

    /// Checks `schema` against `subject` without registering it: against one version, or (with `None`)
    /// against the versions the subject's level names. A subject with no live versions is compatible with
    /// `None` and `Latest`; a numbered version of it is `VersionNotFound`.
    pub fn check_compatibility(
        &self,
        subject: &Subject,
        schema: &UnparsedSchema,
        against: Option<VersionSelector>,
    ) -> Result<CompatReport> {
        let parsed = self.parse_for(subject, schema)?;
        let snapshot = self.snapshot()?;
        let (effective, settings) = in_force(&*snapshot, subject)?;
        let level = effective.level;
        let judging = Judging::of(&settings);
        judging.check_names(&parsed, effective.mode)?;
        let live = live_versions(&snapshot.subject_versions(subject)?);
        let shared = &self.inner.shared;
        let Some(selector) = against else {
            return shared.judge(&parsed, level, &judging, &live, &*snapshot, true);
        };
        // As the reference registry: `latest` of a subject with no live version checks against nothing
        // (compatible once the schema parses); a numbered version there is simply not found.
        let one = match selector {
            VersionSelector::Latest => match live.first() {
                Some(newest) => *newest,
                None => {
                    let validate_fields = judging.validate_fields;
                    return Ok(CompatReport { level, violations: Vec::new(), reserved: Vec::new(), validate_fields });
                }
            },
            VersionSelector::Number(v) => *live
                .iter()
                .find(|(lv, _)| *lv == v)
                .ok_or_else(|| RegistryError::VersionNotFound { subject: subject.clone(), version: v })?,
        };
        // One version: the level's directions, without transitivity.
        let single = match level {
            CompatibilityLevel::BackwardTransitive => CompatibilityLevel::Backward,
            CompatibilityLevel::ForwardTransitive => CompatibilityLevel::Forward,
            CompatibilityLevel::FullTransitive => CompatibilityLevel::Full,
            other => other,
        };
        shared.judge(&parsed, single, &judging, &[one], &*snapshot, true)
    }

    /// What differs from `old` to `new` (two schemas of one format, read in the default context), each difference
    /// with where it is and the directions it breaks, and the semantic version bump it implies.
    pub fn diff(&self, old: &UnparsedSchema, new: &UnparsedSchema) -> Result<SchemaDiff> {
        let (old, new) = (self.parse(old)?, self.parse(new)?);
        Ok(registry_core::diff::diff(&old, &new)?)
    }

    /// [`Registry::diff`] of two versions of `subject` (soft-deleted ones too).
    pub fn diff_versions(&self, subject: &Subject, from: VersionSelector, to: VersionSelector) -> Result<SchemaDiff> {
        let old = self.version(subject, from, super::Deleted::Include)?;
        let new = self.version(subject, to, super::Deleted::Include)?;
        let (old, new) = (self.parsed_by_id(old.schema.id)?, self.parsed_by_id(new.schema.id)?);
        Ok(registry_core::diff::diff(&old, &new)?)
    }

    /// Checks `schema` against `subject`'s live versions at an explicit `level`, ignoring the subject's own.
    pub fn check_compatibility_at(
        &self,
        subject: &Subject,
        schema: &UnparsedSchema,
        level: CompatibilityLevel,
    ) -> Result<CompatReport> {
        let parsed = self.parse_for(subject, schema)?;
        let snapshot = self.snapshot()?;
        let live = live_versions(&snapshot.subject_versions(subject)?);
        self.inner.shared.check_against(&parsed, level, CompatibilityPolicy::Strict, &live, &*snapshot, true)
    }
}

/// What a subject's settings change about how a candidate is judged against its versions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Judging {
    /// The metadata property whose value splits the versions checked (`compatibilityGroup`).
    pub group: Option<String>,
    /// Which changes count (`compatibilityPolicy`; an unknown name is unset, as Confluent reads it).
    pub policy: CompatibilityPolicy,
    /// Whether field names and `confluent:reserved` fields are checked (`validateFields`).
    pub validate_fields: bool,
}

impl Judging {
    /// With `validateFields`, outside IMPORT mode: `parsed`'s field names as Confluent checks a new schema's
    /// ([`ParsedSchema::check_field_names`]).
    pub fn check_names(&self, parsed: &ParsedSchema, mode: crate::Mode) -> Result<()> {
        if self.validate_fields && mode != crate::Mode::Import {
            parsed.check_field_names()?;
        }
        Ok(())
    }

    /// How `settings` (a subject's, in force) judge.
    pub fn of(settings: &ScopeSettings) -> Judging {
        Judging {
            group: settings.compatibility_group.clone(),
            policy: settings.compatibility_policy.as_deref().and_then(CompatibilityPolicy::named).unwrap_or_default(),
            validate_fields: settings.validate_fields.unwrap_or(false),
        }
    }
}

impl Shared {
    /// Judges `candidate` at `level` against `live` versions (newest first) as the subject's settings say
    /// (`judging`): against those of its compatibility group under its policy, and, with `validateFields`, against
    /// the fields its metadata and the newest of `live` reserve.
    pub(super) fn judge(
        &self,
        candidate: &ParsedSchema,
        level: CompatibilityLevel,
        judging: &Judging,
        live: &[(Version, SchemaId)],
        snapshot: &dyn Snapshot,
        keep: bool,
    ) -> Result<CompatReport> {
        let checked = self.in_group(judging.group.as_deref(), candidate, live.to_vec(), snapshot)?;
        let mut report = self.check_against(candidate, level, judging.policy, &checked, snapshot, keep)?;
        report.validate_fields = judging.validate_fields;
        if judging.validate_fields {
            let newest = match live.first() {
                Some((_, id)) => Some(self.stored(*id, snapshot)?),
                None => None,
            };
            report.reserved = compat::reserved_field_violations(candidate, newest.as_ref().map(|s| &s.contract));
        }
        Ok(report)
    }

    /// The stored schema `id`: from the cache, else `snapshot`.
    fn stored(&self, id: SchemaId, snapshot: &dyn Snapshot) -> Result<Arc<crate::records::StoredSchema>> {
        match self.caches.schemas.get(&id) {
            Some(stored) => Ok(stored),
            None => Ok(Arc::new(snapshot.schema(id)?.ok_or(RegistryError::SchemaNotFound(id))?)),
        }
    }

    /// Checks `candidate` at `level` against `live` versions (newest first). A version's tree parsed here goes
    /// into the parsed cache only with `keep`: a registration at a level that is not transitive is about to
    /// supersede the one version it checks, and caching that tree would evict one a later check reads.
    pub(super) fn check_against(
        &self,
        candidate: &ParsedSchema,
        level: CompatibilityLevel,
        policy: CompatibilityPolicy,
        live: &[(Version, SchemaId)],
        snapshot: &dyn Snapshot,
        keep: bool,
    ) -> Result<CompatReport> {
        let wanted = match level {
            CompatibilityLevel::None => &[][..],
            level if level.is_transitive() => live,
            _ => &live[..live.len().min(1)],
        };
        let mut previous = Vec::with_capacity(wanted.len());
        for (version, id) in wanted {
            let parsed = match self.caches.parsed.get(id) {
                Some(parsed) => parsed,
                None => {
                    let stored = snapshot.schema(*id)?.ok_or(RegistryError::SchemaNotFound(*id))?;
                    let limits = &self.options.limits;
                    // A subject's versions are in its context, the candidate's.
                    let context = candidate.context();
                    let resolver = Resolver::in_context(snapshot, context);
                    let parsed =
                        resolver.outcome(registry_core::parse_stored(&stored.to_unparsed(), &resolver, limits));
                    let parsed = Arc::new(parsed?.in_context(context));
                    if keep {
                        self.caches.parsed.insert(*id, parsed.clone());
                    }
                    parsed
                }
            };
            previous.push((*version, parsed));
        }
        let previous: Vec<(Version, &ParsedSchema)> = previous.iter().map(|(v, p)| (*v, p.as_ref())).collect();
        Ok(compat::check_under(level, policy, candidate, &previous)?)
    }

    /// The versions of `live` (newest first) that `candidate` is checked against under the subject's
    /// `compatibilityGroup`: with a group property named, those whose metadata gives it the candidate's value (no
    /// value matches no value); without, all of them.
    pub(super) fn in_group(
        &self,
        group: Option<&str>,
        candidate: &ParsedSchema,
        live: Vec<(Version, SchemaId)>,
        snapshot: &dyn Snapshot,
    ) -> Result<Vec<(Version, SchemaId)>> {
        let Some(group) = group else { return Ok(live) };
        let value_of = |contract: &registry_core::contract::DataContract| {
            contract.metadata.as_ref().and_then(|m| m.properties.get(group)).cloned()
        };
        let wanted = value_of(candidate.contract());
        let mut kept = Vec::with_capacity(live.len());
        for (version, id) in live {
            let stored = self.stored(id, snapshot)?;
            if value_of(&stored.contract) == wanted {
                kept.push((version, id));
            }
        }
        Ok(kept)
    }

    /// Whether `candidate` can read data written with `version` (BACKWARD against it alone): what decides a
    /// minor rather than a major semver bump. A check that cannot run counts as no; a store that cannot be read
    /// is its own error, never a verdict.
    pub(super) fn reads_data_of(
        &self,
        candidate: &ParsedSchema,
        version: (Version, SchemaId),
        snapshot: &dyn Snapshot,
        keep: bool,
    ) -> Result<bool> {
        let strict = CompatibilityPolicy::Strict;
        match self.check_against(candidate, CompatibilityLevel::Backward, strict, &[version], snapshot, keep) {
            Ok(report) => Ok(report.is_compatible()),
            Err(e @ RegistryError::Storage(_)) => Err(e),
            Err(_) => Ok(false),
        }
    }
}
