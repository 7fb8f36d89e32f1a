//! The public `Registry` and its operations, with Confluent Schema Registry semantics.
//!
//! Writes run in one redb write transaction each and return after a durable commit. Reads run in redb read
//! transactions (MVCC: they never wait for writes) behind moka caches. Every write bumps `epoch` after it
//! commits; a read that fills a cache re-checks the epoch after inserting and takes its entry back if a write
//! landed meanwhile, so a cache never keeps what a committed write made stale.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, WriteTransaction};
use registry_core::compat::{self, CompatReport, CompatibilityLevel};
use registry_core::{
    Fingerprint, Limits, NoReferences, ParsedSchema, ReferenceResolver, ResolveError, SchemaId, SchemaReference,
    Subject, UnparsedSchema, ValidateOptions, ValidationReport, Validator, Version, VersionSelector,
};

use crate::RegistryError;
use crate::cache::{CacheStats, Caches};
use crate::codec::{ConfigRecord, FORMAT_VERSION, VersionRecord, decode, encode, encode_sized};
use crate::commit::{Answer, CommitStats, Committer};
use crate::records::{Mode, Registered, SchemaVersion, SemVer, StoredSchema, SubjectVersion, VersionInfo};
use crate::tables::*;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// How a registry is set up.
#[derive(Clone, Debug)]
pub struct RegistryOptions {
    /// Bounds on schemas (size, nesting, references).
    pub limits: Limits,
    /// Entries in each small-entry cache (text -> fingerprint, (subject, fingerprint) -> version, subject ->
    /// latest version), about 250 bytes each (default 20,000).
    pub cache_capacity: u64,
    /// Bytes of schema records kept in memory by id (default 8 MiB).
    pub schema_cache_bytes: u64,
    /// Estimated bytes of parsed schemas kept by id, for compatibility checks (default 24 MiB).
    pub parsed_cache_bytes: u64,
    /// Estimated bytes of the compiled data validators kept (default 16 MiB).
    pub validator_cache_bytes: u64,
    /// redb's own page cache, in bytes (default 16 MiB); the operating system's page cache serves beyond it.
    pub store_cache_bytes: u64,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            cache_capacity: 20_000,
            schema_cache_bytes: 0,
            parsed_cache_bytes: 0,
            validator_cache_bytes: 0,
            store_cache_bytes: 0,
        }
        .with_cache_budget(DEFAULT_CACHE_BUDGET)
    }
}

/// The default memory budget of the byte-bounded caches: 64 MiB.
pub const DEFAULT_CACHE_BUDGET: u64 = 64 << 20;

impl RegistryOptions {
    /// Splits `bytes` over the byte-bounded caches: an eighth to schema records, three eighths to parsed
    /// schemas (every compatibility check and registration reads the newest versions' trees), a quarter to
    /// compiled validators and a quarter to redb's page cache (the committer's and readers' B-tree pages).
    pub fn with_cache_budget(self, bytes: u64) -> Self {
        Self {
            schema_cache_bytes: bytes / 8,
            parsed_cache_bytes: bytes / 8 * 3,
            validator_cache_bytes: bytes / 4,
            store_cache_bytes: bytes / 4,
            ..self
        }
    }
}

/// Which versions a read admits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Deleted {
    /// Live versions only (the default).
    #[default]
    Exclude,
    /// Live and soft-deleted versions.
    Include,
    /// Soft-deleted versions only.
    Only,
}

impl Deleted {
    fn admits(self, deleted: bool) -> bool {
        match self {
            Deleted::Exclude => !deleted,
            Deleted::Include => true,
            Deleted::Only => deleted,
        }
    }
}

/// How much a registry holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Subjects with at least one live version.
    pub subjects: u64,
    /// Schema ids used by at least one version.
    pub schemas: u64,
}

/// Soft or permanent delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// Hide the version; it can still be read with `Deleted::Include`, and deleted permanently later.
    Soft,
    /// Remove a soft-deleted version for good. Its schema id is never reused.
    Permanent,
}

/// Where a config or mode applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The whole registry.
    Global,
    /// One subject.
    Subject(&'a Subject),
}

impl Scope<'_> {
    fn key(&self) -> &str {
        match self {
            Scope::Global => GLOBAL_SCOPE,
            Scope::Subject(subject) => subject.as_str(),
        }
    }
}

/// Options of a registration beyond the schema itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegisterOptions {
    /// The id to register under (IMPORT mode only).
    pub id: Option<SchemaId>,
    /// The version to register as (IMPORT mode only).
    pub version: Option<Version>,
    /// The semantic version to give it; must be greater than the subject's latest. Computed when absent.
    pub semver: Option<SemVer>,
}

/// The embeddable schema registry. Cheap to clone; clones share one store and one set of caches.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    /// Dropped first: joins the committer thread, which holds the database too.
    committer: Committer,
    db: Arc<Database>,
    shared: Arc<Shared>,
    config: moka::sync::Cache<String, ConfigRecord>,
    /// Bumped each time a permanent delete removes an id's last use (the only way an id stops being found).
    removals: AtomicU64,
    retractions: AtomicU64,
}

/// What a write job inside the committer needs: the caches and the options, never the `Registry` itself (a
/// job holding the last `Registry` would make the committer join itself).
struct Shared {
    caches: Caches,
    options: RegistryOptions,
    /// Bumped after every commit that changes what a read can see (see the module doc).
    epoch: AtomicU64,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("options", &self.inner.shared.options).finish_non_exhaustive()
    }
}

impl Registry {
    /// Opens the registry file at `path`, creating it (and nothing else) if it does not exist.
    pub fn open(path: impl AsRef<Path>, options: RegistryOptions) -> Result<Self> {
        let db = Database::builder().set_cache_size(options.store_cache_bytes as usize).create(path.as_ref())?;
        Self::init(db, options)
    }

    /// A registry held in memory only: for tests and short-lived embedding.
    pub fn in_memory(options: RegistryOptions) -> Result<Self> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
        Self::init(db, options)
    }

    fn init(db: Database, options: RegistryOptions) -> Result<Self> {
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let format = meta.get(META_FORMAT_VERSION)?.map(|v| v.value());
            match format {
                Some(found) if found > u64::from(FORMAT_VERSION) => {
                    return Err(RegistryError::UnsupportedFormat { found, supported: u64::from(FORMAT_VERSION) });
                }
                Some(_) => {}
                None => {
                    meta.insert(META_FORMAT_VERSION, u64::from(FORMAT_VERSION))?;
                    meta.insert(META_NEXT_ID, 1)?;
                }
            }
            // Create every table, so read transactions never meet a missing one.
            txn.open_table(SCHEMAS)?;
            txn.open_table(FINGERPRINTS)?;
            txn.open_table(ID_BINDINGS)?;
            txn.open_table(VERSIONS)?;
            txn.open_table(ID_USES)?;
            txn.open_table(REFERENCED_BY)?;
            txn.open_table(CONFIG)?;
        }
        txn.commit()?;
        let caches = Caches::new(&options);
        let db = Arc::new(db);
        Ok(Self {
            inner: Arc::new(Inner {
                committer: Committer::start(db.clone()),
                db,
                config: moka::sync::Cache::new(options.cache_capacity),
                removals: AtomicU64::new(0),
                retractions: AtomicU64::new(0),
                shared: Arc::new(Shared { caches, options, epoch: AtomicU64::new(0) }),
            }),
        })
    }

    /// The options the registry runs with.
    pub fn options(&self) -> &RegistryOptions {
        &self.inner.shared.options
    }

    /// How many group commits have run and how many registrations they held.
    pub fn commit_stats(&self) -> CommitStats {
        self.inner.committer.stats()
    }

    /// Hits and misses of every cache.
    pub fn stats(&self) -> CacheStats {
        self.inner.shared.caches.stats()
    }

    // ----- parsing -----

    /// Parses and checks `schema`, resolving its references against this registry.
    pub fn parse(&self, schema: &UnparsedSchema) -> Result<Arc<ParsedSchema>> {
        self.parse_keyed(schema, text_key(schema))
    }

    /// `parse` with the text memo's key already computed (`None` for a schema with references).
    fn parse_keyed(&self, schema: &UnparsedSchema, key: Option<[u8; 32]>) -> Result<Arc<ParsedSchema>> {
        let limits = &self.inner.shared.options.limits;
        let parsed = if schema.references.is_empty() {
            registry_core::parse(schema, &NoReferences, limits)?
        } else {
            let txn = self.inner.db.begin_read()?;
            let (versions, schemas) = (txn.open_table(VERSIONS)?, txn.open_table(SCHEMAS)?);
            let resolver = TxnResolver { versions: &versions, schemas: &schemas };
            registry_core::parse(schema, &resolver, limits)?
        };
        if let Some(key) = key {
            self.inner.shared.caches.text_fingerprints.insert(key, parsed.fingerprint());
        }
        Ok(Arc::new(parsed))
    }

    /// The fingerprint of a schema seen before, without parsing it again, and else its parse.
    fn fingerprint_or_parse(&self, schema: &UnparsedSchema) -> Result<Identified> {
        let key = text_key(schema);
        match key.and_then(|key| self.inner.shared.caches.text_fingerprints.get(&key)) {
            Some(fingerprint) => Ok(Identified::Seen(fingerprint)),
            None => Ok(Identified::Parsed(self.parse_keyed(schema, key)?)),
        }
    }

    /// The parsed form of a registered schema, cached by id.
    pub fn parsed_by_id(&self, id: SchemaId) -> Result<Arc<ParsedSchema>> {
        if let Some(parsed) = self.inner.shared.caches.parsed.get(&id) {
            return Ok(parsed);
        }
        let schema = self.schema_by_id(id)?;
        let txn = self.inner.db.begin_read()?;
        let (versions, schemas) = (txn.open_table(VERSIONS)?, txn.open_table(SCHEMAS)?);
        let resolver = TxnResolver { versions: &versions, schemas: &schemas };
        // Accepted when it was registered: parsed without the checks new input needs.
        let parsed =
            Arc::new(registry_core::parse_stored(&schema.to_unparsed(), &resolver, &self.inner.shared.options.limits)?);
        self.inner.shared.caches.parsed.insert(id, parsed.clone());
        Ok(parsed)
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

    /// Checks each of `items` against schema `id`: one report per item, in order.
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
        Ok(items.iter().map(|item| validator.validate(item)).collect())
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

    /// The compiled validator for schema `id`, cached by (id, options) and compiled once however many callers
    /// ask for it at the same time.
    pub fn validator(&self, id: SchemaId, options: &ValidateOptions) -> Result<Arc<Validator>> {
        let validators = &self.inner.shared.caches.validators;
        validators
            .get_or_compile((id, options.clone()), || {
                // The schema record, not only the parsed cache: a permanently deleted id must not validate.
                self.schema_by_id(id)?;
                let parsed = self.parsed_by_id(id)?;
                Ok::<_, RegistryError>(Validator::compile(&parsed, options)?)
            })
            .map_err(|e| (*e).clone())
    }

    // ----- registration -----

    /// Registers `schema` under `subject`: the existing version if the subject already has it, else a new
    /// version after the subject's compatibility check. The same schema has the same id in every subject.
    pub fn register(&self, subject: &Subject, schema: &UnparsedSchema) -> Result<Registered> {
        self.register_with(subject, schema, RegisterOptions::default())
    }

    /// `register` with an explicit id and version (IMPORT mode).
    pub fn register_with(
        &self,
        subject: &Subject,
        schema: &UnparsedSchema,
        options: RegisterOptions,
    ) -> Result<Registered> {
        self.begin_register(subject, schema, options)?.wait()
    }

    /// [`Registry::register_with`] in two halves, for a caller that must not hold a thread while a commit is
    /// made (an async server): the mode, the parse and the compatibility checks run now, on this thread, and the
    /// returned [`Registration`] is answered once the group commit holding it is durable, through
    /// [`Registration::wait`] or as a `Future` (no particular async runtime). A registration the caches can
    /// answer comes back answered already.
    pub fn begin_register(
        &self,
        subject: &Subject,
        schema: &UnparsedSchema,
        options: RegisterOptions,
    ) -> Result<Registration> {
        let mode = self.effective_mode(subject)?;
        if mode == Mode::Readonly {
            return Err(RegistryError::OperationNotPermitted(format!("Subject '{subject}' is in read-only mode")));
        }
        let explicit = options.id.is_some() || options.version.is_some();
        if explicit && mode != Mode::Import {
            return Err(RegistryError::OperationNotPermitted(format!(
                "Subject '{subject}' is not in import mode: an id or version can be given only in IMPORT mode"
            )));
        }
        // The fast path: a text seen before, already in this subject. No parse, no transaction.
        let known = self.fingerprint_or_parse(schema)?;
        if !explicit
            && let Identified::Seen(fingerprint) = known
            && let Some(registered) = self.cached_registration(subject, fingerprint)
        {
            return Ok(Registration::answered(registered));
        }
        let parsed = match known {
            Identified::Parsed(parsed) => parsed,
            Identified::Seen(_) => self.parse_keyed(schema, None)?,
        };
        let fingerprint = parsed.fingerprint();
        let key = (subject.clone(), fingerprint);
        if !explicit && let Some((version, id, semver)) = self.inner.shared.caches.subject_fingerprints.get(&key) {
            return Ok(Registration::answered(Registered { id, version, semver, deduplicated: true }));
        }

        let precheck = if mode == Mode::Import { None } else { Some(self.precheck(subject, &parsed)?) };
        // Once the new version lands, the next check at a level that is not transitive reads it, not the version it
        // supersedes: that version's tree gives up its room in the parsed cache to the new one.
        let superseded =
            precheck.as_ref().filter(|p| !p.level.is_transitive()).and_then(|p| p.live.first()).map(|(_, id)| *id);
        let answer = self.submit_registration(subject, schema, &parsed, Admission { mode, options, precheck })?;
        let finish = Finish { shared: self.inner.shared.clone(), key, parsed, superseded };
        Ok(Registration { step: Step::Committing { answer, finish: Some(finish) } })
    }

    /// The answer `register` would give if it can be given from memory alone: the same text already registered
    /// in this subject, in a mode that accepts registrations. `None` means `register` must do real work (parse,
    /// check, write); a server calls this inline and `register` on its blocking pool only when it is `None`.
    pub fn registered_already(&self, subject: &Subject, schema: &UnparsedSchema) -> Result<Option<Registered>> {
        if self.effective_mode(subject)? == Mode::Readonly {
            return Ok(None);
        }
        let fingerprint = text_key(schema).and_then(|key| self.inner.shared.caches.text_fingerprints.get(&key));
        Ok(fingerprint.and_then(|fingerprint| self.cached_registration(subject, fingerprint)))
    }

    /// The subject's live version holding `fingerprint`, from the cache.
    fn cached_registration(&self, subject: &Subject, fingerprint: Fingerprint) -> Option<Registered> {
        let (version, id, semver) =
            self.inner.shared.caches.subject_fingerprints.get(&(subject.clone(), fingerprint))?;
        Some(Registered { id, version, semver, deduplicated: true })
    }

    /// The compatibility checks of a registration, run before it joins the group commit, against a read
    /// snapshot of the subject: the commit reuses them when the subject's live versions and level are still
    /// those, so parsing earlier versions and comparing runs on the caller's thread, in parallel, rather than
    /// on the one committer thread every registration waits for.
    fn precheck(&self, subject: &Subject, parsed: &ParsedSchema) -> Result<Precheck> {
        let txn = self.inner.db.begin_read()?;
        let versions_t = txn.open_table(VERSIONS)?;
        let schemas_t = txn.open_table(SCHEMAS)?;
        let level = effective_level(&txn.open_table(CONFIG)?, subject)?;
        // A level that is not transitive checks the newest live version alone: read back from the end to it.
        let live = if level.is_transitive() {
            live_versions(&subject_versions(&versions_t, subject)?)
        } else {
            newest_live_version(&versions_t, subject)?.into_iter().collect()
        };
        let shared = &self.inner.shared;
        // At a level that is not transitive the newest version is the only one checked, and the candidate
        // supersedes it once registered: a tree parsed for it now is not worth a place in the cache.
        let keep = level.is_transitive();
        let report = shared.check_against(parsed, level, &live, &versions_t, &schemas_t, keep)?;
        let backward_with_newest = match live.first() {
            Some(newest) if !level.checks_backward() => {
                Some(shared.reads_data_of(parsed, *newest, &versions_t, &schemas_t, keep))
            }
            _ => None,
        };
        Ok(Precheck { level, live, report, backward_with_newest })
    }

    /// Queues a registration for the committer's next batch; the answer comes once that batch's commit is decided.
    fn submit_registration(
        &self,
        subject: &Subject,
        schema: &UnparsedSchema,
        parsed: &Arc<ParsedSchema>,
        admission: Admission,
    ) -> Result<Answer<Committed>> {
        let shared = self.inner.shared.clone();
        let (subject, schema, parsed) = (subject.clone(), schema.clone(), parsed.clone());
        let (reply, answer) = crate::commit::answer();
        self.inner.committer.submit(Box::new(move |tables| {
            let outcome = shared.register_in(tables, &subject, &schema, &parsed, admission);
            Box::new(move |commit_error| {
                let outcome = match commit_error {
                    Some(e) => Err(e.clone()),
                    None => outcome,
                };
                // What a new version makes stale is dropped here, on the committer, before anyone is answered:
                // a caller that stops waiting (a dropped future) must not leave a stale cache behind.
                if let Ok((_, true)) = &outcome {
                    shared.bump_epoch();
                    shared.caches.latest.invalidate(&subject);
                }
                reply.send(outcome);
            })
        }))?;
        Ok(answer)
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
        let parsed = self.parse(schema)?;
        let txn = self.inner.db.begin_read()?;
        let versions_t = txn.open_table(VERSIONS)?;
        let schemas_t = txn.open_table(SCHEMAS)?;
        let level = effective_level(&txn.open_table(CONFIG)?, subject)?;
        let versions = subject_versions(&versions_t, subject)?;
        let live = live_versions(&versions);
        match against {
            None => self.inner.shared.check_against(&parsed, level, &live, &versions_t, &schemas_t, true),
            Some(selector) => {
                // As the reference registry: `latest` of a subject with no live version checks against nothing
                // (compatible once the schema parses); a numbered version there is simply not found.
                if live.is_empty() {
                    return match selector {
                        VersionSelector::Latest => Ok(CompatReport { level, violations: Vec::new() }),
                        VersionSelector::Number(version) => {
                            Err(RegistryError::VersionNotFound { subject: subject.clone(), version })
                        }
                    };
                }
                let one = match selector {
                    VersionSelector::Latest => live[0],
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
                self.inner.shared.check_against(&parsed, single, &[one], &versions_t, &schemas_t, true)
            }
        }
    }

    /// Checks `schema` against `subject`'s live versions at an explicit `level`, ignoring the subject's own.
    pub fn check_compatibility_at(
        &self,
        subject: &Subject,
        schema: &UnparsedSchema,
        level: CompatibilityLevel,
    ) -> Result<CompatReport> {
        let parsed = self.parse(schema)?;
        let txn = self.inner.db.begin_read()?;
        let versions_t = txn.open_table(VERSIONS)?;
        let schemas_t = txn.open_table(SCHEMAS)?;
        let live: Vec<(Version, SchemaId)> = subject_versions(&versions_t, subject)?
            .iter()
            .rev()
            .filter(|(_, r)| !r.deleted)
            .map(|(v, r)| (*v, r.id))
            .collect();
        self.inner.shared.check_against(&parsed, level, &live, &versions_t, &schemas_t, true)
    }

    // ----- reads -----

    /// The schema registered under `subject` that equals `schema`, if any.
    pub fn lookup(&self, subject: &Subject, schema: &UnparsedSchema, deleted: Deleted) -> Result<SchemaVersion> {
        let fingerprint = match self.fingerprint_or_parse(schema)? {
            Identified::Seen(fingerprint) => fingerprint,
            Identified::Parsed(parsed) => parsed.fingerprint(),
        };
        let txn = self.inner.db.begin_read()?;
        let versions = subject_versions(&txn.open_table(VERSIONS)?, subject)?;
        if !versions.iter().any(|(_, r)| deleted.admits(r.deleted)) {
            return Err(RegistryError::SubjectNotFound(subject.clone()));
        }
        let id = txn.open_table(FINGERPRINTS)?.get(fingerprint.0.as_slice())?.map(|g| SchemaId(g.value()));
        let found = id.and_then(|id| versions.iter().rev().find(|(_, r)| r.id == id && deleted.admits(r.deleted)));
        let Some((version, record)) = found else {
            return Err(RegistryError::SchemaNotInSubject(subject.clone()));
        };
        let schema = self.schema_in(&txn.open_table(SCHEMAS)?, record.id)?;
        Ok(SchemaVersion {
            subject: subject.clone(),
            version: *version,
            semver: record.semver,
            deleted: record.deleted,
            schema,
        })
    }

    /// The schema with this global id.
    ///
    /// Concurrent misses for one id are coalesced into one store read.
    pub fn schema_by_id(&self, id: SchemaId) -> Result<Arc<StoredSchema>> {
        let epoch = self.epoch();
        let cache = &self.inner.shared.caches.schemas;
        let (schema, fresh) =
            cache.get_or_try_insert_with(id, || self.read_schema_by_id(id)).map_err(|e| (*e).clone())?;
        // As `fill`: a write that committed while this read ran may have made the entry stale.
        if fresh && self.epoch() != epoch {
            cache.invalidate(&id);
        }
        Ok(schema)
    }

    /// One store read of a schema by id; ids with no version left have no record, so they are not found.
    fn read_schema_by_id(&self, id: SchemaId) -> Result<Arc<StoredSchema>> {
        let txn = self.inner.db.begin_read()?;
        let schema = load_schema(&txn.open_table(SCHEMAS)?, id)?.ok_or(RegistryError::SchemaNotFound(id))?;
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
        let txn = self.inner.db.begin_read()?;
        let uses = id_uses(&txn.open_table(ID_USES)?, id)?;
        if uses.is_empty() {
            return Err(RegistryError::SchemaNotFound(id));
        }
        let versions_t = txn.open_table(VERSIONS)?;
        let mut out = Vec::with_capacity(uses.len());
        for (subject, version) in uses {
            let record = versions_t.get((subject.as_str(), version.get()))?;
            let Some(record) = record else { continue };
            let record: VersionRecord = decode(record.value())?;
            if deleted.admits(record.deleted) {
                out.push(SubjectVersion { subject, version, semver: record.semver, deleted: record.deleted });
            }
        }
        Ok(out)
    }

    /// One version of a subject.
    pub fn version(&self, subject: &Subject, selector: VersionSelector, deleted: Deleted) -> Result<SchemaVersion> {
        if selector == VersionSelector::Latest
            && deleted == Deleted::Exclude
            && let Some(Some((version, id, semver))) = self.inner.shared.caches.latest.get(subject)
        {
            let schema = self.schema_by_id(id)?;
            return Ok(SchemaVersion { subject: subject.clone(), version, semver, deleted: false, schema });
        }
        let epoch = self.epoch();
        let txn = self.inner.db.begin_read()?;
        let versions = subject_versions(&txn.open_table(VERSIONS)?, subject)?;
        let admitted = || versions.iter().filter(|(_, r)| deleted.admits(r.deleted));
        if admitted().next().is_none() {
            return Err(RegistryError::SubjectNotFound(subject.clone()));
        }
        let (version, record) = match selector {
            VersionSelector::Latest => *admitted().next_back().expect("checked non-empty above"),
            VersionSelector::Number(v) => *admitted()
                .find(|(version, _)| *version == v)
                .ok_or_else(|| RegistryError::VersionNotFound { subject: subject.clone(), version: v })?,
        };
        let schema = self.schema_in(&txn.open_table(SCHEMAS)?, record.id)?;
        if selector == VersionSelector::Latest && deleted == Deleted::Exclude {
            self.inner.shared.fill(
                epoch,
                &self.inner.shared.caches.latest,
                subject.clone(),
                Some((version, record.id, record.semver)),
            );
        }
        Ok(SchemaVersion { subject: subject.clone(), version, semver: record.semver, deleted: record.deleted, schema })
    }

    /// The subjects whose name starts with `prefix`, sorted. With `Deleted::Only`, those that have versions
    /// but none live.
    pub fn subjects(&self, prefix: &str, deleted: Deleted) -> Result<Vec<Subject>> {
        let txn = self.inner.db.begin_read()?;
        let versions_t = txn.open_table(VERSIONS)?;
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
        for entry in versions_t.range((prefix, 0u32)..)? {
            let (key, value) = entry?;
            let (name, _) = key.value();
            if !name.starts_with(prefix) {
                break;
            }
            let record: VersionRecord = decode(value.value())?;
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
        }
        flush(current, &mut out);
        Ok(out)
    }

    /// The version numbers of a subject, ascending.
    pub fn versions(&self, subject: &Subject, deleted: Deleted) -> Result<Vec<Version>> {
        Ok(self.version_list(subject, deleted)?.into_iter().map(|info| info.version).collect())
    }

    /// A subject's versions with their semantic versions, ids and deleted flags, ascending.
    pub fn version_list(&self, subject: &Subject, deleted: Deleted) -> Result<Vec<VersionInfo>> {
        let txn = self.inner.db.begin_read()?;
        let versions: Vec<VersionInfo> = subject_versions(&txn.open_table(VERSIONS)?, subject)?
            .into_iter()
            .filter(|(_, r)| deleted.admits(r.deleted))
            .map(|(version, r)| VersionInfo { version, semver: r.semver, id: r.id, deleted: r.deleted })
            .collect();
        if versions.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.clone()));
        }
        Ok(versions)
    }

    /// How many subjects have a live version, and how many schema ids are in use.
    pub fn counts(&self) -> Result<Counts> {
        let subjects = self.subjects("", Deleted::Exclude)?.len() as u64;
        let txn = self.inner.db.begin_read()?;
        let schemas = txn.open_table(SCHEMAS)?.len()?;
        Ok(Counts { subjects, schemas })
    }

    /// Whether the store answers: one read transaction over its metadata.
    pub fn health(&self) -> Result<()> {
        let txn = self.inner.db.begin_read()?;
        txn.open_table(META)?.get(META_FORMAT_VERSION)?;
        Ok(())
    }

    /// Every version (of subjects starting with `prefix`) with its schema; with `latest_only`, one per subject.
    pub fn schemas(&self, prefix: &str, deleted: Deleted, latest_only: bool) -> Result<Vec<SchemaVersion>> {
        let txn = self.inner.db.begin_read()?;
        let versions_t = txn.open_table(VERSIONS)?;
        let schemas_t = txn.open_table(SCHEMAS)?;
        let mut out: Vec<SchemaVersion> = Vec::new();
        for entry in versions_t.range((prefix, 0u32)..)? {
            let (key, value) = entry?;
            let (name, version) = key.value();
            if !name.starts_with(prefix) {
                break;
            }
            let record: VersionRecord = decode(value.value())?;
            if !deleted.admits(record.deleted) {
                continue;
            }
            let (Ok(subject), Ok(version)) = (Subject::new(name), Version::new(version)) else { continue };
            if latest_only && out.last().is_some_and(|last| last.subject == subject) {
                out.pop();
            }
            let schema = self.schema_in(&schemas_t, record.id)?;
            out.push(SchemaVersion { subject, version, semver: record.semver, deleted: record.deleted, schema });
        }
        Ok(out)
    }

    /// Ids of the schemas that reference this version of `subject`.
    pub fn referenced_by(&self, subject: &Subject, version: VersionSelector) -> Result<Vec<SchemaId>> {
        let version = self.version(subject, version, Deleted::Include)?.version;
        let txn = self.inner.db.begin_read()?;
        referrers(&txn.open_table(REFERENCED_BY)?, subject, version)
    }

    // ----- deletes -----

    /// Deletes one version: soft first, then permanently. Returns the version deleted.
    pub fn delete_version(&self, subject: &Subject, selector: VersionSelector, how: Deletion) -> Result<Version> {
        self.refuse_if_readonly(subject)?;
        let txn = self.inner.db.begin_write()?;
        let outcome = (|| {
            let mut versions_t = txn.open_table(VERSIONS)?;
            let versions = subject_versions(&versions_t, subject)?;
            if versions.is_empty() {
                return Err(RegistryError::SubjectNotFound(subject.clone()));
            }
            let found = match (selector, how) {
                (VersionSelector::Latest, Deletion::Soft) => versions.iter().rev().find(|(_, r)| !r.deleted),
                (VersionSelector::Latest, Deletion::Permanent) => versions.last(),
                (VersionSelector::Number(v), _) => versions.iter().find(|(version, _)| *version == v),
            };
            let Some(&(version, record)) = found else {
                return Err(match selector {
                    VersionSelector::Number(v) => {
                        RegistryError::VersionNotFound { subject: subject.clone(), version: v }
                    }
                    VersionSelector::Latest => RegistryError::SubjectNotFound(subject.clone()),
                });
            };
            let referrers = referrers(&txn.open_table(REFERENCED_BY)?, subject, version)?;
            if !referrers.is_empty() {
                return Err(RegistryError::ReferenceExists { subject: subject.clone(), version, referrers });
            }
            match how {
                Deletion::Soft if record.deleted => {
                    Err(RegistryError::VersionSoftDeleted { subject: subject.clone(), version })
                }
                Deletion::Soft => {
                    let record = VersionRecord { deleted: true, ..record };
                    versions_t.insert((subject.as_str(), version.get()), encode(&record)?.as_slice())?;
                    Ok((version, record.id, false))
                }
                Deletion::Permanent if !record.deleted => {
                    Err(RegistryError::VersionNotSoftDeleted { subject: subject.clone(), version })
                }
                Deletion::Permanent => {
                    versions_t.remove((subject.as_str(), version.get()))?;
                    let orphaned = remove_use(&txn, record.id, subject, version)?;
                    Ok((version, record.id, orphaned))
                }
            }
        })();
        let (version, id, orphaned) = match outcome {
            Ok(done) => done,
            Err(e) => {
                txn.abort()?;
                return Err(e);
            }
        };
        txn.commit()?;
        self.after_delete(subject, &[(id, orphaned)]);
        Ok(version)
    }

    /// Deletes every version of a subject: soft first, then permanently (which also drops its config and
    /// mode). Returns the versions deleted.
    pub fn delete_subject(&self, subject: &Subject, how: Deletion) -> Result<Vec<Version>> {
        self.refuse_if_readonly(subject)?;
        let txn = self.inner.db.begin_write()?;
        let outcome = (|| {
            let mut versions_t = txn.open_table(VERSIONS)?;
            let versions = subject_versions(&versions_t, subject)?;
            if versions.is_empty() {
                return Err(RegistryError::SubjectNotFound(subject.clone()));
            }
            let any_live = versions.iter().any(|(_, r)| !r.deleted);
            match how {
                Deletion::Soft if !any_live => return Err(RegistryError::SubjectSoftDeleted(subject.clone())),
                Deletion::Permanent if any_live => return Err(RegistryError::SubjectNotSoftDeleted(subject.clone())),
                _ => {}
            }
            let referenced_by = txn.open_table(REFERENCED_BY)?;
            for (version, _) in &versions {
                let referrers = referrers(&referenced_by, subject, *version)?;
                if !referrers.is_empty() {
                    return Err(RegistryError::ReferenceExists {
                        subject: subject.clone(),
                        version: *version,
                        referrers,
                    });
                }
            }
            drop(referenced_by);
            let mut deleted = Vec::new();
            let mut touched = Vec::new();
            for (version, record) in versions {
                match how {
                    Deletion::Soft if record.deleted => {}
                    Deletion::Soft => {
                        let record = VersionRecord { deleted: true, ..record };
                        versions_t.insert((subject.as_str(), version.get()), encode(&record)?.as_slice())?;
                        deleted.push(version);
                        touched.push((record.id, false));
                    }
                    Deletion::Permanent => {
                        versions_t.remove((subject.as_str(), version.get()))?;
                        let orphaned = remove_use(&txn, record.id, subject, version)?;
                        deleted.push(version);
                        touched.push((record.id, orphaned));
                    }
                }
            }
            if how == Deletion::Permanent {
                txn.open_table(CONFIG)?.remove(subject.as_str())?;
            }
            Ok((deleted, touched))
        })();
        let (deleted, touched) = match outcome {
            Ok(done) => done,
            Err(e) => {
                txn.abort()?;
                return Err(e);
            }
        };
        txn.commit()?;
        self.inner.config.invalidate(subject.as_str());
        self.after_delete(subject, &touched);
        Ok(deleted)
    }

    fn after_delete(&self, subject: &Subject, touched: &[(SchemaId, bool)]) {
        self.bump_epoch();
        let caches = &self.inner.shared.caches;
        caches.latest.invalidate(subject);
        for (id, orphaned) in touched {
            if let Some(schema) = caches.schemas.get(id) {
                caches.subject_fingerprints.invalidate(&(subject.clone(), schema.fingerprint));
            } else {
                // Without the record the key cannot be named: drop the whole fast-path cache.
                caches.subject_fingerprints.invalidate_all();
            }
            if *orphaned {
                caches.schemas.invalidate(id);
                caches.validators.invalidate_id(*id);
            }
        }
        // After the caches: whoever reads the new count and then asks for an id sees it gone.
        if touched.iter().any(|(_, orphaned)| *orphaned) {
            self.inner.removals.fetch_add(1, Ordering::AcqRel);
        }
        self.inner.retractions.fetch_add(1, Ordering::AcqRel);
    }

    fn refuse_if_readonly(&self, subject: &Subject) -> Result<()> {
        if self.effective_mode(subject)? == Mode::Readonly {
            return Err(RegistryError::OperationNotPermitted(format!("Subject '{subject}' is in read-only mode")));
        }
        Ok(())
    }

    // ----- config and mode -----

    /// The compatibility level set at `scope`, if any.
    pub fn config(&self, scope: Scope<'_>) -> Result<Option<CompatibilityLevel>> {
        Ok(self.config_record(scope.key())?.compatibility)
    }

    /// The level that applies to `subject`: its own, else the global one, else BACKWARD.
    pub fn effective_config(&self, subject: &Subject) -> Result<CompatibilityLevel> {
        match self.config(Scope::Subject(subject))? {
            Some(level) => Ok(level),
            None => self.effective_config_global(),
        }
    }

    /// The global level, else BACKWARD.
    pub fn effective_config_global(&self) -> Result<CompatibilityLevel> {
        Ok(self.config(Scope::Global)?.unwrap_or_default())
    }

    /// Sets the compatibility level at `scope`.
    pub fn set_config(&self, scope: Scope<'_>, level: CompatibilityLevel) -> Result<()> {
        self.update_config(scope, |record| {
            record.compatibility = Some(level);
            Ok(())
        })
        .map(|_| ())
    }

    /// Removes the level set at `scope`, returning it; the global level falls back to BACKWARD.
    pub fn delete_config(&self, scope: Scope<'_>) -> Result<CompatibilityLevel> {
        let previous = self.update_config(scope, |record| match (record.compatibility.take(), scope) {
            (Some(level), _) => Ok(level),
            (None, Scope::Global) => Ok(CompatibilityLevel::default()),
            (None, Scope::Subject(subject)) => Err(RegistryError::SubjectLevelNotConfigured(subject.clone())),
        })?;
        Ok(previous)
    }

    /// The mode set at `scope`, if any.
    pub fn mode(&self, scope: Scope<'_>) -> Result<Option<Mode>> {
        Ok(self.config_record(scope.key())?.mode)
    }

    /// The mode that applies to `subject`: its own, else the global one, else READWRITE.
    pub fn effective_mode(&self, subject: &Subject) -> Result<Mode> {
        match self.mode(Scope::Subject(subject))? {
            Some(mode) => Ok(mode),
            None => self.effective_mode_global(),
        }
    }

    /// The global mode, else READWRITE.
    pub fn effective_mode_global(&self) -> Result<Mode> {
        Ok(self.mode(Scope::Global)?.unwrap_or_default())
    }

    /// Sets the mode at `scope`. IMPORT is refused where schemas already exist, unless `force`.
    pub fn set_mode(&self, scope: Scope<'_>, mode: Mode, force: bool) -> Result<()> {
        if mode == Mode::Import && !force {
            let non_empty = match scope {
                Scope::Global => !self.subjects("", Deleted::Include)?.is_empty(),
                Scope::Subject(subject) => self.versions(subject, Deleted::Include).is_ok(),
            };
            if non_empty {
                return Err(RegistryError::OperationNotPermitted(
                    "Cannot import since found existing subjects; set force=true to switch to IMPORT anyway".into(),
                ));
            }
        }
        self.update_config(scope, |record| {
            record.mode = Some(mode);
            Ok(())
        })
    }

    /// Removes the mode set at `scope`, returning it; the global mode falls back to READWRITE.
    pub fn delete_mode(&self, scope: Scope<'_>) -> Result<Mode> {
        self.update_config(scope, |record| match (record.mode.take(), scope) {
            (Some(mode), _) => Ok(mode),
            (None, Scope::Global) => Ok(Mode::default()),
            (None, Scope::Subject(subject)) => Err(RegistryError::SubjectModeNotConfigured(subject.clone())),
        })
    }

    fn config_record(&self, key: &str) -> Result<ConfigRecord> {
        if let Some(record) = self.inner.config.get(key) {
            return Ok(record);
        }
        let epoch = self.epoch();
        let txn = self.inner.db.begin_read()?;
        let record = read_config(&txn.open_table(CONFIG)?, key)?;
        self.inner.config.insert(key.to_string(), record);
        if self.epoch() != epoch {
            self.inner.config.invalidate(key);
        }
        Ok(record)
    }

    fn update_config<T>(&self, scope: Scope<'_>, change: impl FnOnce(&mut ConfigRecord) -> Result<T>) -> Result<T> {
        let key = scope.key();
        let txn = self.inner.db.begin_write()?;
        let outcome = (|| {
            let mut table = txn.open_table(CONFIG)?;
            let mut record = read_config(&table, key)?;
            let answer = change(&mut record)?;
            if record == ConfigRecord::default() {
                table.remove(key)?;
            } else {
                table.insert(key, encode(&record)?.as_slice())?;
            }
            Ok(answer)
        })();
        match outcome {
            Ok(answer) => {
                txn.commit()?;
                self.bump_epoch();
                self.inner.config.invalidate(key);
                // After the cache: whoever reads the new count and then asks sees the new setting.
                self.inner.retractions.fetch_add(1, Ordering::AcqRel);
                Ok(answer)
            }
            Err(e) => {
                txn.abort()?;
                Err(e)
            }
        }
    }

    // ----- cache bookkeeping -----

    /// How many times an id has stopped being found (a permanent delete removed its last use). An answer about
    /// an id that was found, remembered with this count, still holds while the count is unchanged: a layer
    /// above can cache "id N is served" without asking again.
    pub fn removals(&self) -> u64 {
        self.inner.removals.load(Ordering::Acquire)
    }

    /// How many changes could have taken back an answer `register` gave: every delete (soft or permanent, of a
    /// version or a subject) and every config or mode change. New registrations do not move it. A registration
    /// answered, remembered with this count, is still the answer to the same request while the count stands: a
    /// layer above can answer a repeated registration without parsing it again.
    pub fn retractions(&self) -> u64 {
        self.inner.retractions.load(Ordering::Acquire)
    }

    fn epoch(&self) -> u64 {
        self.inner.shared.epoch()
    }

    fn bump_epoch(&self) -> u64 {
        self.inner.shared.bump_epoch()
    }

    fn schema_in(&self, schemas: &impl ReadableTable<u32, &'static [u8]>, id: SchemaId) -> Result<Arc<StoredSchema>> {
        if let Some(schema) = self.inner.shared.caches.schemas.get(&id) {
            return Ok(schema);
        }
        let schema = load_schema(schemas, id)?.ok_or_else(|| {
            RegistryError::Corrupt(format!("a version refers to schema id {id}, which is not stored"))
        })?;
        Ok(Arc::new(schema))
    }
}

impl Shared {
    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    fn bump_epoch(&self) -> u64 {
        self.epoch.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Inserts an entry read at `epoch`, and takes it back if a write has committed since.
    fn fill<K, V>(&self, epoch: u64, cache: &crate::cache::Counted<K, V>, key: K, value: V)
    where
        K: std::hash::Hash + Eq + Send + Sync + Clone + 'static,
        V: Clone + Send + Sync + 'static,
    {
        cache.insert(key.clone(), value);
        if self.epoch() != epoch {
            cache.invalidate(&key);
        }
    }

    /// The body of a registration inside its write transaction. Returns whether it wrote a new version.
    fn register_in(
        &self,
        tables: &mut WriteTables<'_>,
        subject: &Subject,
        schema: &UnparsedSchema,
        parsed: &ParsedSchema,
        admission: Admission,
    ) -> Result<(Registered, bool)> {
        let Admission { mode, options, precheck } = admission;
        let fingerprint = parsed.fingerprint();
        let versions = subject_versions(&tables.versions, subject)?;
        let known_id = tables.fingerprints.get(fingerprint.0.as_slice())?.map(|g| SchemaId(g.value()));

        if let Some(known) = known_id {
            let existing = versions.iter().rev().find(|(_, r)| !r.deleted && r.id == known);
            if let Some((version, record)) = existing
                && options.id.is_none_or(|given| given == known)
                && options.version.is_none_or(|v| v == *version)
            {
                let registered = Registered { id: known, version: *version, semver: record.semver, deduplicated: true };
                return Ok((registered, false));
            }
        }

        let id = match (options.id, known_id) {
            (Some(given), Some(known)) if given != known => {
                return Err(RegistryError::OperationNotPermitted(format!(
                    "Overwrite new schema with id {given} is not permitted: this schema is already registered with id {known}"
                )));
            }
            (Some(given), _) => {
                if let Some(bound) = tables.id_bindings.get(given.0)?
                    && bound.value() != fingerprint.0.as_slice()
                {
                    return Err(RegistryError::OperationNotPermitted(format!(
                        "Overwrite new schema with id {given} is not permitted: id {given} is already bound to a different schema"
                    )));
                }
                given
            }
            (None, Some(known)) => known,
            (None, None) => {
                let next = tables.meta.get(META_NEXT_ID)?.map(|g| g.value()).unwrap_or(1);
                SchemaId(u32::try_from(next).map_err(|_| RegistryError::Storage("schema ids are exhausted".into()))?)
            }
        };
        let version = match options.version {
            Some(given) => {
                if versions.iter().any(|(v, _)| *v == given) {
                    return Err(RegistryError::OperationNotPermitted(format!(
                        "Version {given} already exists in subject '{subject}'"
                    )));
                }
                given
            }
            None => match versions.last() {
                None => Version::FIRST,
                Some((latest, _)) => latest.next().ok_or_else(|| {
                    RegistryError::OperationNotPermitted(format!("Subject '{subject}' has no version numbers left"))
                })?,
            },
        };

        let level = effective_level(&tables.config, subject)?;
        let live = live_versions(&versions);
        // The checks made before the transaction still hold when the subject is as they saw it: ids never change
        // meaning, so the same live (version, id) list at the same level gives the same verdict.
        let (checked_report, checked_backward) = precheck
            .filter(|p| p.level == level && p.saw(&live))
            .map_or((None, None), |p| (Some(p.report), p.backward_with_newest));
        if mode != Mode::Import {
            let report = match checked_report {
                Some(report) => report,
                None => {
                    self.check_against(parsed, level, &live, &tables.versions, &tables.schemas, level.is_transitive())?
                }
            };
            if !report.is_compatible() {
                return Err(RegistryError::Incompatible { subject: subject.clone(), report });
            }
        }
        let latest_semver = versions.iter().map(|(_, r)| r.semver).max();
        let semver = match (options.semver, latest_semver) {
            (Some(given), Some(latest)) if given <= latest => {
                return Err(RegistryError::SemVerNotIncreasing { subject: subject.clone(), given, latest });
            }
            (Some(given), _) => given,
            (None, None) => SemVer::FIRST,
            (None, Some(latest)) => {
                // Backward compatible with the latest live version: a minor bump; otherwise a major one.
                let checked = level.checks_backward() && mode != Mode::Import;
                let backward = checked
                    || live.first().is_none_or(|newest| {
                        checked_backward.unwrap_or_else(|| {
                            self.reads_data_of(
                                parsed,
                                *newest,
                                &tables.versions,
                                &tables.schemas,
                                level.is_transitive(),
                            )
                        })
                    });
                if backward { latest.bump_minor() } else { latest.bump_major() }
            }
        };

        // Every check has passed: from here on the job writes. A job that fails before this line wrote nothing,
        // so it cannot disturb the other jobs of its group commit.
        let next_id = tables.meta.get(META_NEXT_ID)?.map(|g| g.value()).unwrap_or(1).max(u64::from(id.0) + 1);
        tables.meta.insert(META_NEXT_ID, next_id)?;
        // A record at `id` is this schema's (ids are bound to one fingerprint, checked above), so it is kept; an id
        // allocated just now has none.
        let allocated = known_id.is_none() && options.id.is_none();
        if allocated || tables.schemas.get(id.0)?.is_none() {
            let stored = StoredSchema {
                id,
                schema_type: schema.schema_type,
                text: schema.text.clone(),
                references: schema.references.clone(),
                fingerprint,
            };
            // The text and a few dozen bytes of id, type, fingerprint and references.
            let size = stored.text.len() + 64 + 64 * stored.references.len();
            tables.schemas.insert(id.0, encode_sized(&stored, size)?.as_slice())?;
        }
        tables.fingerprints.insert(fingerprint.0.as_slice(), id.0)?;
        tables.id_bindings.insert(id.0, fingerprint.0.as_slice())?;
        let record = VersionRecord { id, deleted: false, semver };
        tables.versions.insert((subject.as_str(), version.get()), encode(&record)?.as_slice())?;
        tables.id_uses.insert((id.0, subject.as_str(), version.get()), ())?;
        // The references are part of the fingerprint, so a kept record names the same ones.
        for reference in &schema.references {
            tables.referenced_by.insert((reference.subject.as_str(), reference.version.get(), id.0), ())?;
        }
        Ok((Registered { id, version, semver, deduplicated: false }, true))
    }

    /// Checks `candidate` at `level` against `live` versions (newest first). A version's tree parsed here goes
    /// into the parsed cache only with `keep`: a registration at a level that is not transitive is about to
    /// supersede the one version it checks, and caching that tree would evict one a later check reads.
    fn check_against(
        &self,
        candidate: &ParsedSchema,
        level: CompatibilityLevel,
        live: &[(Version, SchemaId)],
        versions: &impl ReadableTable<(&'static str, u32), &'static [u8]>,
        schemas: &impl ReadableTable<u32, &'static [u8]>,
        keep: bool,
    ) -> Result<CompatReport> {
        let wanted = match level {
            CompatibilityLevel::None => &[][..],
            level if level.is_transitive() => live,
            _ => &live[..live.len().min(1)],
        };
        let resolver = TxnResolver { versions, schemas };
        let mut previous = Vec::with_capacity(wanted.len());
        for (version, id) in wanted {
            let parsed = match self.caches.parsed.get(id) {
                Some(parsed) => parsed,
                None => {
                    let stored = load_schema(schemas, *id)?.ok_or(RegistryError::SchemaNotFound(*id))?;
                    let parsed =
                        Arc::new(registry_core::parse_stored(&stored.to_unparsed(), &resolver, &self.options.limits)?);
                    if keep {
                        self.caches.parsed.insert(*id, parsed.clone());
                    }
                    parsed
                }
            };
            previous.push((*version, parsed));
        }
        let previous: Vec<(Version, &ParsedSchema)> = previous.iter().map(|(v, p)| (*v, p.as_ref())).collect();
        Ok(compat::check(level, candidate, &previous)?)
    }

    /// Whether `candidate` can read data written with `version` (BACKWARD against it alone): what decides a
    /// minor rather than a major semver bump. A check that cannot run counts as no.
    fn reads_data_of(
        &self,
        candidate: &ParsedSchema,
        version: (Version, SchemaId),
        versions: &impl ReadableTable<(&'static str, u32), &'static [u8]>,
        schemas: &impl ReadableTable<u32, &'static [u8]>,
        keep: bool,
    ) -> bool {
        self.check_against(candidate, CompatibilityLevel::Backward, &[version], versions, schemas, keep)
            .is_ok_and(|report| report.is_compatible())
    }
}

/// What a registration job answers: the registration, and whether it wrote a new version.
type Committed = Result<(Registered, bool)>;

/// A registration under way ([`Registry::begin_register`]): answered already, or waiting for its group commit.
/// [`Registration::wait`] blocks for the answer; as a `Future` it resolves to the same answer without blocking.
#[must_use = "a registration is only known to have landed once it is waited for"]
pub struct Registration {
    step: Step,
}

enum Step {
    Answered(Option<Registered>),
    Committing { answer: Answer<Committed>, finish: Option<Finish> },
}

/// What a committed registration leaves to do on the caller's side: bring the caches up to date.
struct Finish {
    shared: Arc<Shared>,
    key: (Subject, Fingerprint),
    parsed: Arc<ParsedSchema>,
    /// The subject's newest live version before this one, when its level checks only the newest.
    superseded: Option<SchemaId>,
}

impl Registration {
    fn answered(registered: Registered) -> Self {
        Self { step: Step::Answered(Some(registered)) }
    }

    /// Blocks until the registration's commit is durable (or it failed) and returns the outcome.
    pub fn wait(mut self) -> Result<Registered> {
        match &mut self.step {
            Step::Answered(registered) => registered.take().ok_or_else(answered_twice),
            Step::Committing { answer, finish } => settle(finish.take(), answer.wait()),
        }
    }
}

impl std::future::Future for Registration {
    type Output = Result<Registered>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        match &mut self.get_mut().step {
            Step::Answered(registered) => std::task::Poll::Ready(registered.take().ok_or_else(answered_twice)),
            Step::Committing { answer, finish } => answer.poll(cx).map(|outcome| settle(finish.take(), outcome)),
        }
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let step = match &self.step {
            Step::Answered(_) => "answered",
            Step::Committing { .. } => "committing",
        };
        f.debug_struct("Registration").field("step", &step).finish()
    }
}

fn answered_twice() -> RegistryError {
    RegistryError::Storage("a registration's answer was taken twice".into())
}

/// The caller's answer to a registration whose job has answered (`None`: the job never ran).
fn settle(finish: Option<Finish>, outcome: Option<Committed>) -> Result<Registered> {
    let outcome = outcome.ok_or_else(|| RegistryError::Storage("the write transaction could not be opened".into()))?;
    let finish = finish.ok_or_else(answered_twice)?;
    let (registered, wrote) = outcome?;
    let Finish { shared, key, parsed, superseded } = finish;
    let epoch = shared.epoch();
    if wrote {
        // A new version was written and its commit is durable; the committer has already dropped what it made
        // stale. The new version's tree is what the subject's next check reads. Its record does not go into the
        // schema cache: a bulk load would only push out what reads use there, and the first read by id fetches it.
        if let Some(superseded) = superseded.filter(|id| *id != registered.id) {
            shared.caches.parsed.invalidate(&superseded);
        }
        shared.caches.parsed.insert(registered.id, parsed);
    }
    let value = (registered.version, registered.id, registered.semver);
    shared.fill(epoch, &shared.caches.subject_fingerprints, key, value);
    Ok(registered)
}

/// How a registration is to be admitted: the subject's mode, the caller's options, and the checks made ahead.
struct Admission {
    mode: Mode,
    options: RegisterOptions,
    precheck: Option<Precheck>,
}

/// A registration's compatibility checks, made against a read snapshot before the write transaction.
struct Precheck {
    /// The subject's level in the snapshot.
    level: CompatibilityLevel,
    /// Its live versions, newest first, in the snapshot: all of them at a transitive level, else the newest.
    live: Vec<(Version, SchemaId)>,
    /// The candidate against the versions `level` names.
    report: CompatReport,
    /// Whether the candidate can read the newest live version's data, when `level` does not already say so
    /// (it decides the semver bump).
    backward_with_newest: Option<bool>,
}

impl Precheck {
    /// Whether the checks still hold for a subject whose live versions (newest first) are `live` at the same
    /// level: the versions they read are the ones the level would read now.
    fn saw(&self, live: &[(Version, SchemaId)]) -> bool {
        if self.level.is_transitive() { self.live == live } else { self.live.first() == live.first() }
    }
}

/// A subject's live versions, newest first, from its versions in ascending order.
fn live_versions(versions: &[(Version, VersionRecord)]) -> Vec<(Version, SchemaId)> {
    versions.iter().rev().filter(|(_, r)| !r.deleted).map(|(v, r)| (*v, r.id)).collect()
}

/// A schema's identity, from the text memo when its text was seen before, else from parsing it now.
enum Identified {
    /// Seen before: its fingerprint, with no parse.
    Seen(Fingerprint),
    /// Parsed now (and recorded in the memo).
    Parsed(Arc<ParsedSchema>),
}

/// The memo key of a schema without references: SHA-256 over its format and text. `None` for a schema with
/// references, whose parse depends on what they resolve to.
fn text_key(schema: &UnparsedSchema) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    if !schema.references.is_empty() {
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(schema.schema_type.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(schema.text.as_bytes());
    Some(hasher.finalize().into())
}

// ----- table helpers, shared by read and write transactions -----

fn subject_versions(
    table: &impl ReadableTable<(&'static str, u32), &'static [u8]>,
    subject: &Subject,
) -> Result<Vec<(Version, VersionRecord)>> {
    subject_rows(table, subject)?.collect()
}

/// A subject's newest live version, read from its last version back.
fn newest_live_version(
    table: &impl ReadableTable<(&'static str, u32), &'static [u8]>,
    subject: &Subject,
) -> Result<Option<(Version, SchemaId)>> {
    for row in subject_rows(table, subject)?.rev() {
        let (version, record) = row?;
        if !record.deleted {
            return Ok(Some((version, record.id)));
        }
    }
    Ok(None)
}

/// A subject's versions in ascending order, each decoded as it is read (either end first).
fn subject_rows(
    table: &impl ReadableTable<(&'static str, u32), &'static [u8]>,
    subject: &Subject,
) -> Result<impl DoubleEndedIterator<Item = Result<(Version, VersionRecord)>>> {
    let name = subject.as_str();
    Ok(table.range((name, 0u32)..=(name, u32::MAX))?.map(|entry| {
        let (key, value) = entry?;
        let version = Version::new(key.value().1).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
        Ok((version, decode(value.value())?))
    }))
}

fn load_schema(table: &impl ReadableTable<u32, &'static [u8]>, id: SchemaId) -> Result<Option<StoredSchema>> {
    table.get(id.0)?.map(|bytes| decode(bytes.value())).transpose()
}

fn id_uses(table: &impl ReadableTable<(u32, &'static str, u32), ()>, id: SchemaId) -> Result<Vec<(Subject, Version)>> {
    let mut out = Vec::new();
    for entry in table.range((id.0, "", 0u32)..=(id.0, "\u{10FFFF}", u32::MAX))? {
        let (key, _) = entry?;
        let (_, subject, version) = key.value();
        let subject = Subject::new(subject).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
        let version = Version::new(version).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
        out.push((subject, version));
    }
    Ok(out)
}

fn referrers(
    table: &impl ReadableTable<(&'static str, u32, u32), ()>,
    subject: &Subject,
    version: Version,
) -> Result<Vec<SchemaId>> {
    let (name, v) = (subject.as_str(), version.get());
    let mut out = Vec::new();
    for entry in table.range((name, v, 0u32)..=(name, v, u32::MAX))? {
        out.push(SchemaId(entry?.0.value().2));
    }
    Ok(out)
}

/// Drops one use of `id`; when none is left, drops the references it holds. Returns whether it is orphaned.
fn remove_use(txn: &WriteTransaction, id: SchemaId, subject: &Subject, version: Version) -> Result<bool> {
    let mut uses = txn.open_table(ID_USES)?;
    uses.remove((id.0, subject.as_str(), version.get()))?;
    if !id_uses(&uses, id)?.is_empty() {
        return Ok(false);
    }
    let mut schemas = txn.open_table(SCHEMAS)?;
    if let Some(stored) = load_schema(&schemas, id)? {
        let mut referenced_by = txn.open_table(REFERENCED_BY)?;
        for reference in &stored.references {
            referenced_by.remove((reference.subject.as_str(), reference.version.get(), id.0))?;
        }
    }
    // The record goes; the id stays bound to its fingerprint (ID_BINDINGS), so it is never reused.
    schemas.remove(id.0)?;
    Ok(true)
}

fn read_config(table: &impl ReadableTable<&'static str, &'static [u8]>, key: &str) -> Result<ConfigRecord> {
    table.get(key)?.map(|bytes| decode(bytes.value())).transpose().map(Option::unwrap_or_default)
}

fn effective_level(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    subject: &Subject,
) -> Result<CompatibilityLevel> {
    if let Some(level) = read_config(table, subject.as_str())?.compatibility {
        return Ok(level);
    }
    Ok(read_config(table, GLOBAL_SCOPE)?.compatibility.unwrap_or_default())
}

/// Resolves references against the versions and schemas tables of one transaction.
struct TxnResolver<'a, V, S> {
    versions: &'a V,
    schemas: &'a S,
}

impl<V, S> ReferenceResolver for TxnResolver<'_, V, S>
where
    V: ReadableTable<(&'static str, u32), &'static [u8]>,
    S: ReadableTable<u32, &'static [u8]>,
{
    fn resolve(&self, reference: &SchemaReference) -> Result<UnparsedSchema, ResolveError> {
        let other = |e: RegistryError| ResolveError::Other(e.to_string());
        let not_found = || ResolveError::NotFound { subject: reference.subject.clone(), version: reference.version };
        let record = self
            .versions
            .get((reference.subject.as_str(), reference.version.get()))
            .map_err(|e| other(e.into()))?
            .ok_or_else(not_found)?;
        let record: VersionRecord = decode(record.value()).map_err(other)?;
        let stored = load_schema(self.schemas, record.id).map_err(other)?.ok_or_else(not_found)?;
        Ok(stored.to_unparsed())
    }
}

#[cfg(test)]
mod tests {
    use redb::backends::InMemoryBackend;

    use super::*;

    #[test]
    fn the_newest_live_version_skips_deleted_ones_and_other_subjects() {
        let db = Database::builder().create_with_backend(InMemoryBackend::new()).expect("an in-memory store");
        let subject = Subject::new("a").expect("a subject name");
        // (subject, version, deleted): "a" ends with two soft-deleted versions; "ab" sorts right after "a".
        let rows =
            [("a", 1, false), ("a", 2, false), ("a", 3, true), ("a", 4, true), ("ab", 1, false), ("b", 1, false)];
        let txn = db.begin_write().expect("a write");
        {
            let mut table = txn.open_table(VERSIONS).expect("the table");
            for (name, version, deleted) in rows {
                let record = VersionRecord { id: SchemaId(version * 10), deleted, semver: SemVer::FIRST };
                table.insert((name, version), encode(&record).expect("encodes").as_slice()).expect("inserts");
            }
        }
        txn.commit().expect("commits");
        let read = db.begin_read().expect("a read");
        let table = read.open_table(VERSIONS).expect("the table");
        let newest = newest_live_version(&table, &subject).expect("reads");
        assert_eq!(newest, Some((Version::new(2).expect("a version"), SchemaId(20))));
        assert_eq!(newest, live_versions(&subject_versions(&table, &subject).expect("reads")).first().copied());
        let none = newest_live_version(&table, &Subject::new("c").expect("a subject name")).expect("reads");
        assert_eq!(none, None);
    }
}
