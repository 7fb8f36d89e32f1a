//! The storage boundary: the few operations the registry's rules need from a store, and nothing of how a
//! store keeps them. The rules (`crate::registry`) see a read [`Snapshot`], a write [`Transaction`] and the
//! [`Store`] that hands them out; redb is the first implementation (`redb`), and no `redb::` name appears above
//! this module.
//!
//! A snapshot is consistent: every read through one sees the store as of one moment. A transaction sees its
//! own writes, and its writes land together, durably, or not at all. A store serializes transactions that name
//! the same subject or fingerprint ([`Store::write`]'s `locks`), so a rule that reads a subject's versions and
//! then appends one cannot race another writer of that subject.

mod canonical;
#[cfg(feature = "faults")]
pub mod faults;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
pub(crate) mod redb;

use registry_core::Version;
use registry_core::{
    Fingerprint, ReferenceResolver, ResolveError, SchemaGuid, SchemaId, SchemaReference, Subject, UnparsedSchema,
};

use crate::RegistryError;
use crate::cache::Change;
use crate::codec::{ConfigRecord, VersionRecord};
use crate::keys::{Dek, Kek};
use crate::records::StoredSchema;

pub(crate) type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// The first stored id of a schema in a context other than the default one. The default context's ids are
/// their own stored ids, Confluent's int32 range; every other context's ids each name a stored id at or above
/// this one, drawn from one counter ([`Transaction::allocate_in_context`]), so the stored ids of two contexts
/// never meet and the default context's are as they always were.
pub(crate) const FIRST_CONTEXT_ID: u32 = 1 << 31;

/// One row of the versions listing: a subject's name, a version number and its record.
pub(crate) type VersionRow<'a> = (&'a str, u32, VersionRecord);

/// Reads, all as of one moment.
pub(crate) trait Snapshot {
    /// A subject's versions (live and soft-deleted), ascending.
    fn subject_versions(&self, subject: &Subject) -> Result<Vec<(Version, VersionRecord)>>;
    /// A subject's newest live version and its id, reading back from the newest.
    fn newest_live_version(&self, subject: &Subject) -> Result<Option<(Version, SchemaId)>>;
    /// One version of a subject.
    fn version(&self, subject: &Subject, version: Version) -> Result<Option<VersionRecord>>;
    /// Calls `visit` with every version of every subject whose name starts with `prefix`, in (subject, version)
    /// order, until it returns `false`.
    fn scan_versions(&self, prefix: &str, visit: &mut dyn FnMut(VersionRow<'_>) -> Result<bool>) -> Result<()>;
    /// The schema record of an id some version uses.
    fn schema(&self, id: SchemaId) -> Result<Option<StoredSchema>>;
    /// How many schema records there are (ids some version uses).
    fn schema_count(&self) -> Result<u64>;
    /// The id a fingerprint was ever bound to (bindings outlive permanent deletes).
    fn id_of(&self, fingerprint: &Fingerprint) -> Result<Option<SchemaId>>;
    /// The fingerprint an id was ever bound to.
    fn fingerprint_of(&self, id: SchemaId) -> Result<Option<Fingerprint>>;
    /// Where an id is used: (subject, version) pairs, live or soft-deleted.
    fn uses(&self, id: SchemaId) -> Result<Vec<(Subject, Version)>>;
    /// The ids of the schemas that reference one version of a subject.
    fn referrers(&self, subject: &Subject, version: Version) -> Result<Vec<SchemaId>>;
    /// The settings of one scope ([`crate::Scope`]'s key); the default record when none are set.
    fn config(&self, scope: &str) -> Result<ConfigRecord>;
    /// Every scope that has settings, with them, in scope order.
    fn configs(&self) -> Result<Vec<(String, ConfigRecord)>>;
    /// Every id ever bound, with its fingerprint, in id order (ids whose versions are all gone included).
    fn bindings(&self) -> Result<Vec<(SchemaId, Fingerprint)>>;
    /// The ids of the stored schemas whose GUID is `guid`, ascending (one, unless the same text was registered as
    /// two formats).
    fn ids_by_guid(&self, guid: &SchemaGuid) -> Result<Vec<SchemaId>>;
    /// The KEK named `name`, soft-deleted or not.
    fn kek(&self, name: &str) -> Result<Option<Kek>>;
    /// Every KEK, by name.
    fn keks(&self) -> Result<Vec<Kek>>;
    /// The DEKs wrapped with KEK `kek` (of `subject` alone, if given), by subject, algorithm and version.
    fn deks(&self, kek: &str, subject: Option<&str>) -> Result<Vec<Dek>>;
    /// How many DEKs there are, under every KEK.
    fn dek_count(&self) -> Result<u64>;
    /// The contexts other than the default one (`.ctx`), by name, each made by its first registration.
    fn contexts(&self) -> Result<Vec<String>>;
    /// The stored id that id `id` of context `context` (not the default one) names, if any.
    fn context_id(&self, context: &str, id: u32) -> Result<Option<SchemaId>>;
    /// The context and the id there of a stored id at or above [`FIRST_CONTEXT_ID`].
    fn id_context(&self, id: SchemaId) -> Result<Option<(String, u32)>>;
    /// The largest id given out or imported in context `context` (not the default one); 0 for none.
    fn context_max_id(&self, context: &str) -> Result<u32>;
    /// The largest id given out or imported in the default context; 0 for none.
    fn max_id(&self) -> Result<u32>;
    /// Up to `limit` audit entries as stored, from sequence number `from` on, in order.
    fn audit_entries(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>>;
    /// The last audit entry as stored, if any.
    fn audit_head(&self) -> Result<Option<(u64, Vec<u8>)>>;
}

/// Reads and writes inside one transaction: what a write makes is seen by the reads after it.
pub(crate) trait Transaction: Snapshot {
    /// Writes (or overwrites) one version of a subject.
    fn put_version(&mut self, subject: &Subject, version: Version, record: VersionRecord) -> Result<()>;
    /// Removes one version of a subject.
    fn remove_version(&mut self, subject: &Subject, version: Version) -> Result<()>;
    /// Writes a schema record under its id.
    fn put_schema(&mut self, schema: &StoredSchema) -> Result<()>;
    /// Removes a schema record; its id stays bound to its fingerprint.
    fn remove_schema(&mut self, id: SchemaId) -> Result<()>;
    /// Binds an id and a fingerprint to each other, for good.
    fn bind(&mut self, fingerprint: &Fingerprint, id: SchemaId) -> Result<()>;
    /// Records that (subject, version) uses `id`.
    fn add_use(&mut self, id: SchemaId, subject: &Subject, version: Version) -> Result<()>;
    /// Forgets that (subject, version) uses `id`.
    fn remove_use(&mut self, id: SchemaId, subject: &Subject, version: Version) -> Result<()>;
    /// Records that schema `referrer` references `reference`'s version.
    fn add_referrer(&mut self, reference: &SchemaReference, referrer: SchemaId) -> Result<()>;
    /// Forgets that schema `referrer` references `reference`'s version.
    fn remove_referrer(&mut self, reference: &SchemaReference, referrer: SchemaId) -> Result<()>;
    /// Writes the settings of one scope; the default record removes them.
    fn put_config(&mut self, scope: &str, record: ConfigRecord) -> Result<()>;
    /// Writes a KEK, replacing the one of its name.
    fn put_kek(&mut self, kek: &Kek) -> Result<()>;
    /// Removes the KEK named `name`.
    fn remove_kek(&mut self, name: &str) -> Result<()>;
    /// Writes a DEK, replacing the one of its KEK, subject, algorithm and version.
    fn put_dek(&mut self, dek: &Dek) -> Result<()>;
    /// Removes a DEK.
    fn remove_dek(&mut self, dek: &Dek) -> Result<()>;
    /// Whether `id`'s schema record exists; either way no other transaction writes or removes it until this one
    /// ends. A registration that reuses a record and a delete that decides it is no longer used both hold it
    /// first, so whichever comes second sees what the first did.
    fn hold_schema(&mut self, id: SchemaId) -> Result<bool>;
    /// Serializes against every other transaction that allocates or reserves ids, until this one ends: the id
    /// bindings it reads from then on are final (an import checking that its id is free).
    fn hold_ids(&mut self) -> Result<()>;
    /// A new id, never handed out before (not even by a transaction that did not commit to the end).
    fn allocate_id(&mut self) -> Result<SchemaId>;
    /// Makes sure `allocate_id` never hands out `id` (an id given explicitly, in IMPORT mode).
    fn reserve_id(&mut self, id: SchemaId) -> Result<()>;
    /// Lists context `context` (not the default one) from now on, if it was not.
    fn add_context(&mut self, context: &str) -> Result<()>;
    /// Lists context `context` no more. Its ids stay bound and its counter stays where it is.
    fn remove_context(&mut self, context: &str) -> Result<()>;
    /// The next id of context `context` (one past its largest) and the new stored id it names, both never handed
    /// out before. Serialized as [`Transaction::allocate_id`] is.
    fn allocate_in_context(&mut self, context: &str) -> Result<(SchemaId, u32)>;
    /// The stored id that id `id` of context `context` names, bound to a new stored id now if it named none (an
    /// id given explicitly, in IMPORT mode); the context's counter is past `id` after.
    fn reserve_in_context(&mut self, context: &str, id: u32) -> Result<SchemaId>;
    /// Serializes against every other transaction that appends to the audit log, until this one ends: the head
    /// it reads from then on is final.
    fn hold_audit(&mut self) -> Result<()>;
    /// Appends audit entry `seq` (one past the head), as stored.
    fn append_audit(&mut self, seq: u64, entry: &[u8]) -> Result<()>;
    /// Makes id `id` of context `context` name stored id `stored`, as another store has it (a copy); both
    /// counters are past them after.
    fn map_context_id(&mut self, context: &str, id: u32, stored: SchemaId) -> Result<()>;
    /// Tells every other instance sharing this store of `change`, once (and only if) this transaction commits.
    /// A store only one instance uses has no one to tell.
    fn publish(&mut self, change: &Change) -> Result<()> {
        let _ = change;
        Ok(())
    }
}

/// What a write transaction serializes against: other writers of a subject, other transactions that look up and
/// bind a fingerprint (so two cannot both find it unbound and bind it to two ids), or every other write (a change
/// of the global settings, which every write reads, or a whole registry copied in). Every write holds the last
/// one shared: `Global` holds it alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Lock<'a> {
    /// Every other write.
    Global,
    /// The key registry's KEKs and DEKs.
    Keys,
    /// A subject's versions.
    Subject(&'a Subject),
    /// A schema's fingerprint.
    Fingerprint(&'a Fingerprint),
}

/// The work of one write transaction: the store commits if it returns `Ok`, and aborts otherwise.
pub(crate) type Work<'a> = Box<dyn FnOnce(&mut dyn Transaction) -> Result<()> + 'a>;

/// A store: snapshots for reads, transactions for writes.
pub(crate) trait Store: Send + Sync {
    /// A consistent read snapshot.
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>>;
    /// Runs `work` in one write transaction, serialized against every other transaction holding one of
    /// `locks`, and commits it durably when `work` returns `Ok` (returning the commit's error if that fails);
    /// aborts it otherwise, returning `work`'s error. If the transaction cannot begin, `work` is dropped unrun.
    fn write(&self, locks: &[Lock<'_>], work: Work<'_>) -> Result<()>;
    /// Whether the store answers: one read of its metadata.
    fn health(&self) -> Result<()>;
    /// What the store is, for people: "redb file ./data/registry.redb", "PostgreSQL at db:5432/registry".
    fn describe(&self) -> String;
    /// Whether other processes share the store: each operation that reaches it is a network round trip or more,
    /// not a local read.
    fn is_shared(&self) -> bool {
        false
    }
}

/// A snapshot opened on its first read: a caller that may find all it needs in the caches opens none.
pub(crate) struct Lazy<'s> {
    store: &'s dyn Store,
    opened: std::cell::OnceCell<Box<dyn Snapshot + 's>>,
}

impl<'s> Lazy<'s> {
    /// A snapshot of `store`, not yet opened.
    pub(crate) fn new(store: &'s dyn Store) -> Self {
        Self { store, opened: std::cell::OnceCell::new() }
    }

    fn get(&self) -> Result<&(dyn Snapshot + 's)> {
        if let Some(opened) = self.opened.get() {
            return Ok(&**opened);
        }
        let opened = self.store.snapshot()?;
        Ok(&**self.opened.get_or_init(|| opened))
    }
}

impl Snapshot for Lazy<'_> {
    fn subject_versions(&self, subject: &Subject) -> Result<Vec<(Version, VersionRecord)>> {
        self.get()?.subject_versions(subject)
    }
    fn newest_live_version(&self, subject: &Subject) -> Result<Option<(Version, SchemaId)>> {
        self.get()?.newest_live_version(subject)
    }
    fn version(&self, subject: &Subject, version: Version) -> Result<Option<VersionRecord>> {
        self.get()?.version(subject, version)
    }
    fn scan_versions(&self, prefix: &str, visit: &mut dyn FnMut(VersionRow<'_>) -> Result<bool>) -> Result<()> {
        self.get()?.scan_versions(prefix, visit)
    }
    fn schema(&self, id: SchemaId) -> Result<Option<StoredSchema>> {
        self.get()?.schema(id)
    }
    fn schema_count(&self) -> Result<u64> {
        self.get()?.schema_count()
    }
    fn id_of(&self, fingerprint: &Fingerprint) -> Result<Option<SchemaId>> {
        self.get()?.id_of(fingerprint)
    }
    fn fingerprint_of(&self, id: SchemaId) -> Result<Option<Fingerprint>> {
        self.get()?.fingerprint_of(id)
    }
    fn uses(&self, id: SchemaId) -> Result<Vec<(Subject, Version)>> {
        self.get()?.uses(id)
    }
    fn referrers(&self, subject: &Subject, version: Version) -> Result<Vec<SchemaId>> {
        self.get()?.referrers(subject, version)
    }
    fn config(&self, scope: &str) -> Result<ConfigRecord> {
        self.get()?.config(scope)
    }
    fn configs(&self) -> Result<Vec<(String, ConfigRecord)>> {
        self.get()?.configs()
    }
    fn bindings(&self) -> Result<Vec<(SchemaId, Fingerprint)>> {
        self.get()?.bindings()
    }
    fn ids_by_guid(&self, guid: &SchemaGuid) -> Result<Vec<SchemaId>> {
        self.get()?.ids_by_guid(guid)
    }
    fn kek(&self, name: &str) -> Result<Option<Kek>> {
        self.get()?.kek(name)
    }
    fn keks(&self) -> Result<Vec<Kek>> {
        self.get()?.keks()
    }
    fn deks(&self, kek: &str, subject: Option<&str>) -> Result<Vec<Dek>> {
        self.get()?.deks(kek, subject)
    }
    fn dek_count(&self) -> Result<u64> {
        self.get()?.dek_count()
    }
    fn contexts(&self) -> Result<Vec<String>> {
        self.get()?.contexts()
    }
    fn context_id(&self, context: &str, id: u32) -> Result<Option<SchemaId>> {
        self.get()?.context_id(context, id)
    }
    fn id_context(&self, id: SchemaId) -> Result<Option<(String, u32)>> {
        self.get()?.id_context(id)
    }
    fn context_max_id(&self, context: &str) -> Result<u32> {
        self.get()?.context_max_id(context)
    }
    fn max_id(&self) -> Result<u32> {
        self.get()?.max_id()
    }
    fn audit_entries(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        self.get()?.audit_entries(from, limit)
    }
    fn audit_head(&self) -> Result<Option<(u64, Vec<u8>)>> {
        self.get()?.audit_head()
    }
}

/// Resolves a schema's references against a snapshot (or a transaction, through its reads), and keeps the
/// store's failure, if reading one failed, so that it is answered as itself rather than as an invalid schema.
pub(crate) struct Resolver<'a> {
    snapshot: &'a dyn Snapshot,
    /// The context of the schema whose references are resolved: a plain reference names a subject there.
    context: &'a str,
    failure: std::cell::RefCell<Option<RegistryError>>,
}

impl<'a> Resolver<'a> {
    /// A resolver reading `snapshot`, for a schema of context `context`.
    pub(crate) fn in_context(snapshot: &'a dyn Snapshot, context: &'a str) -> Self {
        Self { snapshot, context, failure: std::cell::RefCell::new(None) }
    }

    /// The outcome of a parse that resolved through this resolver: the store's failure if it had one.
    pub(crate) fn outcome<T>(&self, parsed: Result<T, registry_core::SchemaError>) -> Result<T> {
        match (parsed, self.failure.take()) {
            (Ok(parsed), _) => Ok(parsed),
            (Err(_), Some(failure)) => Err(failure),
            (Err(e), None) => Err(e.into()),
        }
    }
}

impl ReferenceResolver for Resolver<'_> {
    fn resolve(&self, reference: &SchemaReference) -> Result<UnparsedSchema, ResolveError> {
        let other = |e: RegistryError| {
            let message = e.to_string();
            self.failure.borrow_mut().get_or_insert(e);
            ResolveError::Other(message)
        };
        let not_found = || ResolveError::NotFound { subject: reference.subject.clone(), version: reference.version };
        let snapshot = self.snapshot;
        let subject = registry_core::reference_target(self.context, &reference.subject);
        let record = snapshot.version(&subject, reference.version).map_err(other)?.ok_or_else(not_found)?;
        let stored = snapshot.schema(record.id).map_err(other)?.ok_or_else(not_found)?;
        let mut unparsed = stored.to_unparsed();
        // Its own references name subjects from its context: one that would name another from the referrer's is
        // written out to name its subject from any context.
        for nested in &mut unparsed.references {
            let target = subject.referenced(&nested.subject);
            if target != registry_core::reference_target(self.context, &nested.subject) {
                nested.subject = target.absolute();
            }
        }
        Ok(unparsed)
    }
}

/// Runs `work` in one write transaction ([`Store::write`]) and returns what it made.
pub(crate) fn transact<T>(
    store: &dyn Store,
    locks: &[Lock<'_>],
    work: impl FnOnce(&mut dyn Transaction) -> Result<T>,
) -> Result<T> {
    let mut made = None;
    store.write(
        locks,
        Box::new(|txn| {
            made = Some(work(txn)?);
            Ok(())
        }),
    )?;
    made.ok_or_else(|| {
        crate::error::StorageError::message("store", "a transaction committed without running its work").into()
    })
}
