//! Reads: parsing against the registry, lookups by id, subject and version, listings, and data validation.

use std::sync::Arc;

use registry_core::{
    DEFAULT_CONTEXT, Fingerprint, NoReferences, ParsedSchema, SchemaGuid, SchemaId, Subject, UnparsedSchema,
    ValidateOptions, ValidationReport, Validator, Version, VersionSelector,
};

use super::{Counts, Deleted, Registry, inherit};
use crate::RegistryError;
use crate::records::{SchemaVersion, SemVer, StoredSchema, SubjectVersion, VersionInfo, VersionState};
use crate::store::{FIRST_CONTEXT_ID, Resolver, Result, Snapshot};

impl Registry {
    // ----- parsing -----

    /// Parses and checks `schema`, resolving its references against this registry (from the default context).
    pub fn parse(&self, schema: &UnparsedSchema) -> Result<Arc<ParsedSchema>> {
        self.parse_keyed(schema, text_key(schema), DEFAULT_CONTEXT)
    }

    /// [`Registry::parse`] for a schema of `subject`: its references, and its identity, are in the subject's
    /// context.
    pub fn parse_for(&self, subject: &Subject, schema: &UnparsedSchema) -> Result<Arc<ParsedSchema>> {
        self.parse_keyed(schema, text_key(schema), subject.context())
    }

    /// `parse` in schema context `context`, with the text memo's key already computed (`None` for a schema with
    /// references).
    pub(super) fn parse_keyed(
        &self,
        schema: &UnparsedSchema,
        key: Option<[u8; 32]>,
        context: &str,
    ) -> Result<Arc<ParsedSchema>> {
        let limits = &self.inner.shared.options.limits;
        let parsed = if schema.references.is_empty() {
            registry_core::parse(schema, &NoReferences, limits)?
        } else {
            let snapshot = self.snapshot()?;
            let resolver = Resolver::in_context(&*snapshot, context);
            resolver.outcome(registry_core::parse(schema, &resolver, limits))?
        };
        // The memo holds the default context's fingerprint (a text without references parses the same anywhere).
        if let Some(key) = key {
            self.caches().text_fingerprints.insert(key, parsed.fingerprint());
        }
        Ok(Arc::new(parsed.in_context(context)))
    }

    /// The fingerprint in `context` of a schema seen before, without parsing it again, and else its parse.
    pub(super) fn fingerprint_or_parse(&self, schema: &UnparsedSchema, context: &str) -> Result<Identified> {
        let key = text_key(schema);
        match key.and_then(|key| self.caches().text_fingerprints.get(&key)) {
            Some(fingerprint) => Ok(Identified::Seen(fingerprint.in_context(context))),
            None => Ok(Identified::Parsed(self.parse_keyed(schema, key, context)?)),
        }
    }

    /// The context a stored id's schema is in: the default one for an id below [`FIRST_CONTEXT_ID`].
    pub(super) fn context_of(&self, snapshot: &dyn Snapshot, id: SchemaId) -> Result<String> {
        if id.0 < FIRST_CONTEXT_ID {
            return Ok(DEFAULT_CONTEXT.to_string());
        }
        let found = snapshot.id_context(id)?;
        found.map(|(context, _)| context).ok_or_else(|| RegistryError::SchemaNotFound(id))
    }

    /// The parsed form of a registered schema, cached by id.
    pub fn parsed_by_id(&self, id: SchemaId) -> Result<Arc<ParsedSchema>> {
        if let Some(parsed) = self.caches().parsed.get(&id) {
            return Ok(parsed);
        }
        let schema = self.schema_by_id(id)?;
        let snapshot = self.snapshot()?;
        // Accepted when it was registered: parsed without the checks new input needs.
        let limits = &self.inner.shared.options.limits;
        let context = self.context_of(&*snapshot, id)?;
        let resolver = Resolver::in_context(&*snapshot, &context);
        let parsed = resolver.outcome(registry_core::parse_stored(&schema.to_unparsed(), &resolver, limits))?;
        let parsed = Arc::new(parsed.in_context(&context));
        self.caches().parsed.insert(id, parsed.clone());
        Ok(parsed)
    }

    /// A registered schema's text with the types of its references written out (Confluent's `format=resolved`;
    /// an Avro schema with references is the only one it changes).
    pub fn resolved_text(&self, schema: &StoredSchema) -> Result<String> {
        let snapshot = self.snapshot()?;
        let context = self.context_of(&*snapshot, schema.id)?;
        let resolver = Resolver::in_context(&*snapshot, &context);
        let limits = &self.inner.shared.options.limits;
        resolver.outcome(registry_core::resolved_text(&schema.to_unparsed(), &resolver, limits))
    }

    // ----- data validation -----

    /// Checks `data` against schema `id` with the default options: every error, each with its path in the data.
    pub fn validate(&self, id: SchemaId, data: &serde_json::Value) -> Result<ValidationReport> {
        self.validate_with(id, data, &ValidateOptions::default())
    }

    /// Checks `data` against schema `id` with `options` (the Protobuf message, the error and depth bounds).
    pub fn validate_with(
        &self,
        id: SchemaId,
        data: &serde_json::Value,
        options: &ValidateOptions,
    ) -> Result<ValidationReport> {
        Ok(self.validator(id, options)?.validate(data))
    }

    /// Checks each of `items` against schema `id`: one report per item, in order, within the batch's error bound
    /// ([`ValidateOptions::max_batch_errors`]).
    pub fn validate_batch(&self, id: SchemaId, items: &[serde_json::Value]) -> Result<Vec<ValidationReport>> {
        self.validate_batch_with(id, items, &ValidateOptions::default())
    }

    /// [`Registry::validate_batch`] with `options`.
    pub fn validate_batch_with(
        &self,
        id: SchemaId,
        items: &[serde_json::Value],
        options: &ValidateOptions,
    ) -> Result<Vec<ValidationReport>> {
        let validator = self.validator(id, options)?;
        Ok(validator.validate_batch(items))
    }

    /// Checks a binary Avro datum (no header or schema id prefix) against Avro schema `id`.
    pub fn validate_avro_binary(
        &self,
        id: SchemaId,
        datum: &[u8],
        options: &ValidateOptions,
    ) -> Result<ValidationReport> {
        Ok(self.validator(id, options)?.validate_avro_binary(datum)?)
    }

    /// The validator of schema `id` with `options` if it is compiled already, without compiling it or reading
    /// the store: what a caller that must not wait (an async worker) can use at once, else it asks
    /// [`Registry::validator`] where waiting is fine.
    pub fn compiled_validator(&self, id: SchemaId, options: &ValidateOptions) -> Option<Arc<Validator>> {
        self.caches().validators.get(&(id, options.clone()))
    }

    /// The compiled validator for schema `id`, cached by (id, options) and compiled once however many callers
    /// ask for it at the same time.
    pub fn validator(&self, id: SchemaId, options: &ValidateOptions) -> Result<Arc<Validator>> {
        self.caches()
            .validators
            .get_or_compile((id, options.clone()), || {
                // The schema record, not only the parsed cache: a permanently deleted id must not validate.
                self.schema_by_id(id)?;
                let parsed = self.parsed_by_id(id)?;
                Ok::<_, RegistryError>(Validator::compile(&parsed, options)?)
            })
            .map_err(|e| (*e).clone())
    }

    // ----- reads -----

    /// The schema registered under `subject` that equals `schema`, if any: the version holding exactly this
    /// schema, else one it loosely matches (equal but for the `confluent:version` property), else, when the
    /// request omits its metadata or rule set, the version holding it with those of the subject's newest live
    /// version, as a registration would inherit them.
    pub fn lookup(&self, subject: &Subject, schema: &UnparsedSchema, deleted: Deleted) -> Result<SchemaVersion> {
        let settings = self.effective_settings(subject)?;
        // Normalized when asked or when the subject's config says so, as a registration would be.
        let adjusted;
        let schema = if !schema.normalize && settings.normalize == Some(true) {
            adjusted = schema.clone().normalized(true);
            &adjusted
        } else {
            schema
        };
        let (fingerprint, parsed) = match self.identify_checked(subject, schema, &settings)? {
            Identified::Seen(fingerprint) => (fingerprint, None),
            Identified::Parsed(parsed) => (parsed.fingerprint(), Some(parsed)),
        };
        let snapshot = self.snapshot()?;
        let snapshot = &*snapshot;
        let versions = snapshot.subject_versions(subject)?;
        if !versions.iter().any(|(_, r)| deleted.admits(r.deleted)) {
            return Err(RegistryError::SubjectNotFound(subject.clone()));
        }
        let admitted = || versions.iter().rev().filter(|(_, r)| deleted.admits(r.deleted));
        let holding = |fingerprint: &Fingerprint| -> Result<Option<(Version, SchemaId)>> {
            let id = snapshot.id_of(fingerprint)?;
            Ok(id.and_then(|id| admitted().find(|(_, r)| r.id == id)).map(|(v, r)| (*v, r.id)))
        };
        let mut found = holding(&fingerprint)?;
        if found.is_none() {
            let parsed = match parsed {
                Some(parsed) => parsed,
                None => self.parse_keyed(schema, None, subject.context())?,
            };
            let schemas = admitted()
                .map(|(version, record)| Ok((*version, self.schema_in(snapshot, record.id)?)))
                .collect::<Result<Vec<_>>>()?;
            let stored = || schemas.iter().map(|(version, stored)| (*version, &**stored));
            let key = inherit::equivalence_key(&parsed);
            found = inherit::loose_match(&parsed, key.as_deref(), stored());
            // What a registration would take from the newest live version and the configured defaults and
            // overrides (its `confluent:version` kept).
            let newest = versions.iter().rev().find(|(_, r)| !r.deleted);
            if found.is_none()
                && let Some((_, record)) = newest
            {
                let previous = self.schema_in(snapshot, record.id)?;
                let settings = self.effective_settings(subject)?;
                let contract = inherit::contract_under(&schema.contract, Some(&previous.contract), &settings);
                if contract != schema.contract {
                    let inherited = parsed.with_contract(contract);
                    found = match holding(&inherited.fingerprint())? {
                        Some(found) => Some(found),
                        None => inherit::loose_match(&inherited, key.as_deref(), stored()),
                    };
                }
            }
        }
        let Some((version, id)) = found else {
            return Err(RegistryError::SchemaNotInSubject(subject.clone()));
        };
        let record = versions.iter().find(|(v, _)| *v == version).map(|(_, r)| *r);
        let record = record.ok_or_else(|| RegistryError::SchemaNotInSubject(subject.clone()))?;
        Ok(SchemaVersion {
            subject: subject.clone(),
            version,
            semver: record.semver,
            deleted: record.deleted,
            state: record.effective_state(),
            schema: self.schema_in(snapshot, id)?,
        })
    }

    /// The newest version of `subject` whose metadata has every one of `properties` (key and value, compared
    /// exactly), as Confluent's `GET /subjects/{subject}/metadata` finds it; with no properties, the newest version
    /// that has metadata at all. Soft-deleted versions count as `deleted` says.
    pub fn version_with_metadata(
        &self,
        subject: &Subject,
        properties: &[(String, String)],
        deleted: Deleted,
    ) -> Result<SchemaVersion> {
        let snapshot = self.snapshot()?;
        let versions = snapshot.subject_versions(subject)?;
        let mut admitted = versions.iter().rev().filter(|(_, r)| deleted.admits(r.deleted)).peekable();
        if admitted.peek().is_none() {
            return Err(RegistryError::SubjectNotFound(subject.clone()));
        }
        for (version, record) in admitted {
            let schema = self.schema_in(&*snapshot, record.id)?;
            let holds = schema.contract.metadata.as_ref().is_some_and(|metadata| {
                properties.iter().all(|(key, value)| metadata.properties.get(key) == Some(value))
            });
            if holds {
                return Ok(SchemaVersion {
                    subject: subject.clone(),
                    version: *version,
                    semver: record.semver,
                    deleted: record.deleted,
                    state: record.effective_state(),
                    schema,
                });
            }
        }
        Err(RegistryError::SchemaNotInSubject(subject.clone()))
    }

    /// The schema with this global id.
    ///
    /// Concurrent misses for one id are coalesced into one store read.
    pub fn schema_by_id(&self, id: SchemaId) -> Result<Arc<StoredSchema>> {
        let caches = self.caches();
        let epoch = caches.epoch();
        let (schema, fresh) =
            caches.schemas.get_or_try_insert_with(id, || self.read_schema_by_id(id)).map_err(|e| (*e).clone())?;
        // As `Caches::fill`: a write that committed while this read ran may have made the entry stale.
        if fresh && caches.epoch() != epoch {
            caches.schemas.invalidate(&id);
        }
        Ok(schema)
    }

    /// The schema whose GUID is `guid`: the lowest id holding it (the same text registered as two formats has
    /// two ids and one GUID).
    pub fn schema_by_guid(&self, guid: &SchemaGuid) -> Result<Arc<StoredSchema>> {
        for id in self.ids_by_guid(guid)? {
            match self.schema_by_id(id) {
                Err(RegistryError::SchemaNotFound(_)) => continue,
                found => return found,
            }
        }
        Err(RegistryError::GuidNotFound(*guid))
    }

    /// The ids of the schemas whose GUID is `guid`, ascending; none for a GUID no schema has.
    pub fn ids_by_guid(&self, guid: &SchemaGuid) -> Result<Vec<SchemaId>> {
        self.snapshot()?.ids_by_guid(guid)
    }

    /// One store read of a schema by id; ids with no version left have no record, so they are not found.
    fn read_schema_by_id(&self, id: SchemaId) -> Result<Arc<StoredSchema>> {
        let schema = self.snapshot()?.schema(id)?.ok_or(RegistryError::SchemaNotFound(id))?;
        Ok(Arc::new(schema))
    }

    /// The subjects that use this id.
    pub fn subjects_for_id(&self, id: SchemaId, deleted: Deleted) -> Result<Vec<Subject>> {
        let mut subjects: Vec<Subject> = self.versions_for_id(id, deleted)?.into_iter().map(|sv| sv.subject).collect();
        subjects.dedup();
        Ok(subjects)
    }

    /// The (subject, version) pairs that use this id.
    pub fn versions_for_id(&self, id: SchemaId, deleted: Deleted) -> Result<Vec<SubjectVersion>> {
        let snapshot = self.snapshot()?;
        let uses = snapshot.uses(id)?;
        if uses.is_empty() {
            return Err(RegistryError::SchemaNotFound(id));
        }
        let mut out = Vec::with_capacity(uses.len());
        for (subject, version) in uses {
            let Some(record) = snapshot.version(&subject, version)? else { continue };
            if deleted.admits(record.deleted) {
                out.push(SubjectVersion { subject, version, semver: record.semver, deleted: record.deleted });
            }
        }
        Ok(out)
    }

    /// One version of a subject.
    pub fn version(&self, subject: &Subject, selector: VersionSelector, deleted: Deleted) -> Result<SchemaVersion> {
        let caches = self.caches();
        let latest_live = selector == VersionSelector::Latest && deleted == Deleted::Exclude;
        if latest_live && let Some(Some((version, id, semver, state))) = caches.latest.get(subject) {
            let schema = self.schema_by_id(id)?;
            return Ok(SchemaVersion { subject: subject.clone(), version, semver, deleted: false, state, schema });
        }
        let epoch = caches.epoch();
        let snapshot = self.snapshot()?;
        let versions = snapshot.subject_versions(subject)?;
        let admitted = || versions.iter().filter(|(_, r)| deleted.admits(r.deleted));
        let found = match selector {
            // A draft is no one's latest until it is activated.
            VersionSelector::Latest => admitted().rfind(|(_, r)| r.state != VersionState::Draft),
            VersionSelector::Number(v) => admitted().find(|(version, _)| *version == v),
        };
        let Some(&(version, record)) = found else {
            return Err(match selector {
                _ if admitted().next().is_none() => RegistryError::SubjectNotFound(subject.clone()),
                VersionSelector::Number(version) => {
                    RegistryError::VersionNotFound { subject: subject.clone(), version }
                }
                VersionSelector::Latest => RegistryError::SubjectNotFound(subject.clone()),
            });
        };
        let schema = self.schema_in(&*snapshot, record.id)?;
        if latest_live {
            let latest = Some((version, record.id, record.semver, record.effective_state()));
            caches.fill(epoch, &caches.latest, subject.clone(), latest);
        }
        let (semver, deleted, state) = (record.semver, record.deleted, record.effective_state());
        Ok(SchemaVersion { subject: subject.clone(), version, semver, deleted, state, schema })
    }

    /// The newest version of `subject` with semantic version `semver` (soft-deleted ones as `deleted` says).
    pub fn version_by_semver(&self, subject: &Subject, semver: SemVer, deleted: Deleted) -> Result<SchemaVersion> {
        let list = self.version_list(subject, deleted)?;
        let found = list.iter().rev().find(|v| v.semver == semver && deleted.admits(v.deleted));
        let version = found.ok_or_else(|| RegistryError::SemVerNotFound { subject: subject.clone(), semver })?.version;
        self.version(subject, VersionSelector::Number(version), deleted)
    }

    /// The namespaces of the subjects named `namespace.name` (the part before the last dot), sorted, each once,
    /// with how many subjects each holds. Soft-deleted subjects count as `deleted` says.
    pub fn namespaces(&self, deleted: Deleted) -> Result<Vec<(String, usize)>> {
        let mut namespaces = std::collections::BTreeMap::<String, usize>::new();
        for subject in self.subjects("", deleted)? {
            if let Some((namespace, _)) = subject.as_str().rsplit_once('.') {
                *namespaces.entry(namespace.to_string()).or_default() += 1;
            }
        }
        Ok(namespaces.into_iter().collect())
    }

    /// The subjects named `namespace.name` for this `namespace` (the part before the last dot is exactly it).
    pub fn subjects_in_namespace(&self, namespace: &str, deleted: Deleted) -> Result<Vec<Subject>> {
        let prefix = format!("{namespace}.");
        let subjects = self.subjects(&prefix, deleted)?;
        Ok(subjects
            .into_iter()
            .filter(|s| s.as_str().rsplit_once('.').is_some_and(|(ns, _)| ns == namespace))
            .collect())
    }

    /// The subjects whose name starts with `prefix`, sorted. With `Deleted::Only`, those that have versions
    /// but none live.
    pub fn subjects(&self, prefix: &str, deleted: Deleted) -> Result<Vec<Subject>> {
        let snapshot = self.snapshot()?;
        let mut out: Vec<Subject> = Vec::new();
        let mut current: Option<(String, bool, bool)> = None; // (subject, any live, any deleted)
        let flush = |entry: Option<(String, bool, bool)>, out: &mut Vec<Subject>| {
            if let Some((name, live, soft)) = entry {
                let admitted = match deleted {
                    Deleted::Exclude => live,
                    Deleted::Include => live || soft,
                    Deleted::Only => soft && !live,
                };
                if admitted && let Ok(subject) = Subject::new(&name) {
                    out.push(subject);
                }
            }
        };
        snapshot.scan_versions(prefix, &mut |(name, _, record)| {
            match &mut current {
                Some((current_name, live, soft)) if current_name == name => {
                    *live |= !record.deleted;
                    *soft |= record.deleted;
                }
                _ => {
                    flush(current.take(), &mut out);
                    current = Some((name.to_string(), !record.deleted, record.deleted));
                }
            }
            Ok(true)
        })?;
        flush(current, &mut out);
        Ok(out)
    }

    /// The version numbers of a subject, ascending.
    pub fn versions(&self, subject: &Subject, deleted: Deleted) -> Result<Vec<Version>> {
        Ok(self.version_list(subject, deleted)?.into_iter().map(|info| info.version).collect())
    }

    /// A subject's versions with their semantic versions, ids and deleted flags, ascending.
    pub fn version_list(&self, subject: &Subject, deleted: Deleted) -> Result<Vec<VersionInfo>> {
        let versions: Vec<VersionInfo> = self
            .snapshot()?
            .subject_versions(subject)?
            .into_iter()
            .filter(|(_, r)| deleted.admits(r.deleted))
            .map(|(version, r)| VersionInfo {
                version,
                semver: r.semver,
                id: r.id,
                deleted: r.deleted,
                state: r.effective_state(),
                registered: r.registered,
            })
            .collect();
        if versions.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.clone()));
        }
        Ok(versions)
    }

    /// How many subjects have a live version, and how many schema ids are in use. Counting walks every version,
    /// so the answer is kept until the next change (a metrics scrape of an idle registry reads nothing).
    pub fn counts(&self) -> Result<Counts> {
        let caches = self.caches();
        let epoch = caches.epoch();
        if let Some(counts) = caches.counts_at(epoch) {
            return Ok(counts);
        }
        let subjects = self.subjects("", Deleted::Exclude)?.len() as u64;
        let schemas = self.snapshot()?.schema_count()?;
        let counts = Counts { subjects, schemas };
        caches.keep_counts(epoch, counts);
        Ok(counts)
    }

    /// Every version (of subjects starting with `prefix`) with its schema; with `latest_only`, one per subject.
    pub fn schemas(&self, prefix: &str, deleted: Deleted, latest_only: bool) -> Result<Vec<SchemaVersion>> {
        let snapshot = self.snapshot()?;
        let mut out: Vec<SchemaVersion> = Vec::new();
        snapshot.scan_versions(prefix, &mut |(name, version, record)| {
            if !deleted.admits(record.deleted) {
                return Ok(true);
            }
            let (Ok(subject), Ok(version)) = (Subject::new(name), Version::new(version)) else { return Ok(true) };
            if latest_only && out.last().is_some_and(|last| last.subject == subject) {
                out.pop();
            }
            let schema = self.schema_in(&*snapshot, record.id)?;
            let (semver, deleted, state) = (record.semver, record.deleted, record.effective_state());
            out.push(SchemaVersion { subject, version, semver, deleted, state, schema });
            Ok(true)
        })?;
        Ok(out)
    }

    /// Ids of the schemas that reference this version of `subject`.
    pub fn referenced_by(&self, subject: &Subject, version: VersionSelector) -> Result<Vec<SchemaId>> {
        let version = self.version(subject, version, Deleted::Include)?.version;
        self.snapshot()?.referrers(subject, version)
    }
}

/// A schema's identity, from the text memo when its text was seen before, else from parsing it now.
pub(super) enum Identified {
    /// Seen before: its fingerprint, with no parse.
    Seen(Fingerprint),
    /// Parsed now (and recorded in the memo).
    Parsed(Arc<ParsedSchema>),
}

/// The memo key of a schema without references: SHA-256 over its format, text and data contract (part of its
/// fingerprint). `None` for a schema with references, whose parse depends on what they resolve to.
pub(super) fn text_key(schema: &UnparsedSchema) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    if !schema.references.is_empty() {
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(schema.schema_type.as_str().as_bytes());
    hasher.update([0]);
    hasher.update((schema.text.len() as u64).to_le_bytes());
    hasher.update(schema.text.as_bytes());
    hasher.update([u8::from(schema.normalize)]);
    if !schema.contract.is_none() {
        hasher.update(serde_json::to_vec(&schema.contract).ok()?);
    }
    Some(hasher.finalize().into())
}
