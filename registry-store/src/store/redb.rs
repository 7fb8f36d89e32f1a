//! The embedded store: one redb file (or memory), its tables, and the [`Store`] operations over them.
//! Keys are chosen so that each read is a point lookup or one range scan.

use std::cell::OnceCell;
use std::path::Path;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redb::{
    Database, Key, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata, Table,
    TableDefinition, TableError, Value, WriteTransaction,
};
use registry_core::{Fingerprint, SchemaGuid, SchemaId, SchemaReference, SchemaType, Subject, Version};

use super::{FIRST_CONTEXT_ID, Lock, Result, Snapshot, Store, Transaction, VersionRow, Work};
use crate::RegistryError;
use crate::codec::{
    ConfigRecord, VersionRecord, decode_config, decode_schema, decode_version, encode_config, encode_schema,
    encode_version,
};
use crate::error::StorageError;
use crate::keys::{Dek, Kek};
use crate::records::StoredSchema;

/// id -> encoded `StoredSchema`. Holds exactly the ids with at least one version (live or soft-deleted), so a
/// read by id is one lookup here.
const SCHEMAS: TableDefinition<u32, &[u8]> = TableDefinition::new("schemas");
/// id -> fingerprint. Never shrinks: an id stays bound to its schema after a hard delete, and is never reused.
const ID_BINDINGS: TableDefinition<u32, &[u8]> = TableDefinition::new("id_bindings");
/// fingerprint -> id. Never shrinks: a schema registered again after a hard delete gets its old id back.
const FINGERPRINTS: TableDefinition<&[u8], u32> = TableDefinition::new("fingerprints");
/// (subject, version) -> encoded `VersionRecord`.
const VERSIONS: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("versions");
/// (id, subject, version) -> (): where each id is used.
const ID_USES: TableDefinition<(u32, &str, u32), ()> = TableDefinition::new("id_uses");
/// (referenced subject, referenced version, referrer id) -> ().
const REFERENCED_BY: TableDefinition<(&str, u32, u32), ()> = TableDefinition::new("referenced_by");
/// scope ("" for global, else the subject) -> encoded `ConfigRecord`.
const CONFIG: TableDefinition<&str, &[u8]> = TableDefinition::new("config");
/// Counters and the on-disk format version.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// A DEK's key: (KEK name, subject, algorithm, version).
type DekKey = (&'static str, &'static str, &'static str, u32);

/// KEK name -> the KEK as JSON.
const KEKS: TableDefinition<&str, &[u8]> = TableDefinition::new("keks");
/// (KEK name, subject, algorithm, version) -> the DEK as JSON.
const DEKS: TableDefinition<(&str, &str, &str, u32), &[u8]> = TableDefinition::new("deks");
/// (GUID, id) of every stored schema: the ids by Confluent's content hash (`GET /schemas/guids/{guid}`).
const GUIDS: TableDefinition<(&[u8], u32), ()> = TableDefinition::new("guids");

/// Context name (`.ctx`) -> () for each context listed (made by its first registration, until it is deleted).
const CONTEXTS: TableDefinition<&str, ()> = TableDefinition::new("contexts");
/// Context name -> the largest id given out or imported there. Never shrinks, and outlives the context's listing.
const CONTEXT_MAX_IDS: TableDefinition<&str, u32> = TableDefinition::new("context_max_ids");
/// (context, id in it) -> stored id, for every context but the default one. Never shrinks.
const CONTEXT_IDS: TableDefinition<(&str, u32), u32> = TableDefinition::new("context_ids");
/// stored id -> (context, id in it): [`CONTEXT_IDS`] the other way.
const ID_CONTEXTS: TableDefinition<u32, (&str, u32)> = TableDefinition::new("id_contexts");

/// sequence number -> an audit entry as JSON (the registry's hash chain: `registry::audit`).
const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

/// `META` key: the on-disk format version of the file.
const META_FORMAT_VERSION: &str = "format_version";
/// The file's format: 8 since Protobuf texts are Confluent's printing of the file (a release before it would
/// compute other identities for some of them), 7 since version records carry their registration time (a release
/// before it could not read them), 6 since every write appends to the audit log (a release before it would write
/// without, and leave the log silent about it), 5 since schema contexts have ids of their own (its context tables,
/// empty in a file that never had a context), 4 since schema texts are canonical. A file of format 1 or 2 (records without or with data
/// contracts, no GUID index) is given the index, and one of format 3 or less its canonical texts
/// ([`super::canonical`]), when it is opened; it is then refused by releases that predate it.
const FILE_FORMAT: u64 = 8;
/// The format that added the GUID index.
const GUID_FORMAT: u64 = 3;
/// `META` key: the next schema id to allocate.
const META_NEXT_ID: &str = "next_id";
/// `META` key: the next stored id of a schema in a context other than the default one.
const META_NEXT_CONTEXT_ID: &str = "next_context_id";
/// The format that made Avro and JSON Schema texts canonical.
const CANONICAL_FORMAT: u64 = 4;
/// The format that made Protobuf source texts Confluent's printing.
const PROTOBUF_TEXT_FORMAT: u64 = 8;

/// Opens the database again, on the same file or storage.
type Opener = Box<dyn Fn() -> Result<Database> + Send + Sync>;

/// How long a store whose database could not be opened again waits before it tries again.
const REOPEN_PAUSE: Duration = Duration::from_millis(200);

/// The registry in one redb database.
///
/// After an I/O failure (a failing disk, a full one), of a write or a read, redb refuses every later operation
/// until the database is opened again. The store does that by itself: the next operation after the failure closes the
/// database and opens it again (redb checks and repairs the file as it opens). If that fails, operations fail as
/// unavailable, and the next try waits [`REOPEN_PAUSE`].
pub(crate) struct RedbStore {
    slot: RwLock<Slot>,
    /// Set by a write that failed in the store: the database must be opened again before the next operation.
    broken: AtomicBool,
    opener: Opener,
    /// What it is, for people.
    name: String,
}

/// The open database, if any, and when it last failed to open again.
struct Slot {
    db: Option<Database>,
    failed_at: Option<Instant>,
}

impl RedbStore {
    /// Opens the file at `path`, creating it (and nothing else) if it does not exist, with `cache_bytes` of
    /// redb page cache.
    pub(crate) fn open(path: &Path, cache_bytes: u64) -> Result<Self> {
        let name = format!("redb file {}", path.display());
        let path = path.to_path_buf();
        let opener: Opener =
            Box::new(move || match Database::builder().set_cache_size(cache_bytes as usize).create(&path) {
                Ok(db) => Ok(db),
                Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(RegistryError::InUse(path.display().to_string())),
                Err(e) => Err(e.into()),
            });
        Self::init(opener, name)
    }

    /// A store held in memory only.
    pub(crate) fn in_memory() -> Result<Self> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
        let once = std::sync::Mutex::new(Some(db));
        // Memory does not fail, so the database is never opened again.
        let opener: Opener = Box::new(move || {
            once.lock()
                .ok()
                .and_then(|mut db| db.take())
                .ok_or_else(|| StorageError::message("redb", "a database in memory cannot be opened again").into())
        });
        Self::init(opener, "redb in memory".to_string())
    }

    /// A store on `medium` (a file, or memory that outlives each open) whose every storage operation goes
    /// through `faults` first.
    #[cfg(feature = "faults")]
    pub(crate) fn faulty(
        medium: super::faults::Medium,
        faults: &super::faults::Faults,
        cache_bytes: u64,
    ) -> Result<Self> {
        let name = match &medium {
            super::faults::Medium::File(path) => format!("redb file {} (with injected faults)", path.display()),
            super::faults::Medium::Memory => "redb in memory (with injected faults)".to_string(),
        };
        let faults = faults.clone();
        let opener: Opener = Box::new(move || {
            let backend = medium.backend(&faults).map_err(|e| StorageError::new("redb", e))?;
            Ok(Database::builder().set_cache_size(cache_bytes as usize).create_with_backend(backend)?)
        });
        Self::init(opener, name)
    }

    /// Opens the database; refuses a file of a newer format; gives a new one its format version and every
    /// table, so read transactions never meet a missing one.
    fn init(opener: Opener, name: String) -> Result<Self> {
        let db = opener()?;
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let format = meta.get(META_FORMAT_VERSION)?.map(|v| v.value());
            match format {
                Some(found) if found > FILE_FORMAT => {
                    return Err(RegistryError::UnsupportedFormat { found, supported: FILE_FORMAT });
                }
                Some(FILE_FORMAT) => {}
                Some(found) => {
                    if found < GUID_FORMAT {
                        index_guids(&txn)?;
                    }
                    if found < CANONICAL_FORMAT {
                        canonicalize(&txn, &[SchemaType::Avro, SchemaType::Json, SchemaType::Protobuf])?;
                    } else if found < PROTOBUF_TEXT_FORMAT {
                        canonicalize(&txn, &[SchemaType::Protobuf])?;
                    }
                    meta.insert(META_FORMAT_VERSION, FILE_FORMAT)?;
                }
                None => {
                    meta.insert(META_FORMAT_VERSION, FILE_FORMAT)?;
                    meta.insert(META_NEXT_ID, 1)?;
                }
            }
        }
        drop(WriteTables::open(&txn)?);
        txn.commit()?;
        let slot = RwLock::new(Slot { db: Some(db), failed_at: None });
        Ok(Self { slot, broken: AtomicBool::new(false), opener, name })
    }

    /// Begins a transaction (or a short read) on the open database, which is opened again first if an operation
    /// failed since it was last opened. The database is held only while `begin` runs: transactions do not
    /// borrow it.
    fn begin<T>(&self, begin: impl FnOnce(&Database) -> Result<T>) -> Result<T> {
        if self.broken.load(Ordering::Acquire) {
            self.reopen()?;
        }
        let slot = self.slot.read().unwrap_or_else(|e| e.into_inner());
        let Some(db) = &slot.db else {
            return Err(StorageError::down("redb", "the database failed and could not be opened again yet").into());
        };
        self.watch(begin(db))
    }

    /// Closes the database and opens it again, unless another thread just did (or just tried).
    fn reopen(&self) -> Result<()> {
        let mut slot = self.slot.write().unwrap_or_else(|e| e.into_inner());
        if !self.broken.load(Ordering::Acquire) {
            return Ok(());
        }
        if slot.failed_at.is_some_and(|at| at.elapsed() < REOPEN_PAUSE) {
            return Err(StorageError::down("redb", "the database failed and could not be opened again yet").into());
        }
        // Closing releases the file (its lock); a write transaction still running holds it until it ends, and
        // opening again fails until then (the file is locked), so this is tried again later.
        if let Some(db) = slot.db.take()
            && let Err(error) = db.close()
        {
            tracing::warn!(store = %self.name, %error, "the failed database is closed once its last write ends");
        }
        match (self.opener)() {
            Ok(db) => {
                slot.db = Some(db);
                slot.failed_at = None;
                self.broken.store(false, Ordering::Release);
                tracing::warn!(store = %self.name, "the database was opened again after a failure; serving again");
                Ok(())
            }
            Err(error) => {
                slot.failed_at = Some(Instant::now());
                tracing::error!(store = %self.name, %error, "the database failed and cannot be opened again yet");
                Err(match error {
                    RegistryError::Storage(e) => StorageError::unavailable("redb", e).into(),
                    // The failed database is still closing (a write transaction of it has not ended yet).
                    RegistryError::InUse(_) => {
                        StorageError::down("redb", "the failed database is still closing").into()
                    }
                    other => other,
                })
            }
        }
    }

    /// Notes that `outcome`, an operation's, failed in the store, which then needs opening again.
    fn watch<T>(&self, outcome: Result<T>) -> Result<T> {
        if let Err(RegistryError::Storage(error)) = &outcome {
            tracing::error!(store = %self.name, %error, "a store operation failed; the database will be opened again");
            self.broken.store(true, Ordering::Release);
        }
        outcome
    }
}

impl Store for RedbStore {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>> {
        let txn = self.begin(|db| Ok(db.begin_read()?))?;
        Ok(Box::new(Watched { tables: ReadTables::new(txn), store: self }))
    }

    /// redb has one writer at a time, so every transaction is serialized against every other: `locks` need no
    /// lock of their own.
    fn write(&self, _locks: &[Lock<'_>], work: Work<'_>) -> Result<()> {
        let txn = self.begin(|db| Ok(db.begin_write()?))?;
        // The tables close at the end of this block, before the commit or abort.
        let outcome = WriteTables::open(&txn).map_err(RegistryError::from).and_then(|mut tables| work(&mut tables));
        let outcome = match outcome {
            Ok(()) => {
                let started = Instant::now();
                // A commit that fails part-way may have made it to the disk all the same.
                let committed = txn.commit().map_err(|e| StorageError::new("redb", e).outcome_unknown().into());
                metrics::histogram!("registry_store_commit_seconds").record(started.elapsed().as_secs_f64());
                committed
            }
            Err(e) => {
                let _ = self.watch(txn.abort().map_err(RegistryError::from));
                Err(e)
            }
        };
        self.watch(outcome)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn health(&self) -> Result<()> {
        self.begin(|db| {
            db.begin_read()?.open_table(META)?.get(META_FORMAT_VERSION)?;
            Ok(())
        })
    }
}

/// A snapshot whose failed reads mark the store for opening again, as failed writes do: redb refuses every
/// operation after an I/O error, a read's included, until the database is opened again.
struct Watched<'s> {
    tables: ReadTables,
    store: &'s RedbStore,
}

/// Each read of [`Watched`]: the snapshot's, through [`RedbStore::watch`].
macro_rules! watched {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        impl Snapshot for Watched<'_> {
            $(fn $name(&self, $($arg: $ty),*) -> Result<$out> {
                self.store.watch(self.tables.$name($($arg),*))
            })*
        }
    };
}

watched! {
    subject_versions(subject: &Subject) -> Vec<(Version, VersionRecord)>;
    newest_live_version(subject: &Subject) -> Option<(Version, SchemaId)>;
    version(subject: &Subject, version: Version) -> Option<VersionRecord>;
    scan_versions(prefix: &str, visit: &mut dyn FnMut(VersionRow<'_>) -> Result<bool>) -> ();
    schema(id: SchemaId) -> Option<StoredSchema>;
    schema_count() -> u64;
    id_of(fingerprint: &Fingerprint) -> Option<SchemaId>;
    fingerprint_of(id: SchemaId) -> Option<Fingerprint>;
    uses(id: SchemaId) -> Vec<(Subject, Version)>;
    referrers(subject: &Subject, version: Version) -> Vec<SchemaId>;
    config(scope: &str) -> ConfigRecord;
    configs() -> Vec<(String, ConfigRecord)>;
    bindings() -> Vec<(SchemaId, Fingerprint)>;
    ids_by_guid(guid: &SchemaGuid) -> Vec<SchemaId>;
    kek(name: &str) -> Option<Kek>;
    keks() -> Vec<Kek>;
    deks(kek: &str, subject: Option<&str>) -> Vec<Dek>;
    dek_count() -> u64;
    contexts() -> Vec<String>;
    context_id(context: &str, id: u32) -> Option<SchemaId>;
    id_context(id: SchemaId) -> Option<(String, u32)>;
    context_max_id(context: &str) -> u32;
    max_id() -> u32;
    audit_entries(from: u64, limit: usize) -> Vec<(u64, Vec<u8>)>;
    audit_head() -> Option<(u64, Vec<u8>)>;
}

/// The tables a snapshot reads, each opened on its first use.
struct ReadTables {
    txn: ReadTransaction,
    versions: OnceCell<ReadOnlyTable<(&'static str, u32), &'static [u8]>>,
    schemas: OnceCell<ReadOnlyTable<u32, &'static [u8]>>,
    fingerprints: OnceCell<ReadOnlyTable<&'static [u8], u32>>,
    id_bindings: OnceCell<ReadOnlyTable<u32, &'static [u8]>>,
    id_uses: OnceCell<ReadOnlyTable<(u32, &'static str, u32), ()>>,
    referenced_by: OnceCell<ReadOnlyTable<(&'static str, u32, u32), ()>>,
    config: OnceCell<ReadOnlyTable<&'static str, &'static [u8]>>,
    guids: OnceCell<ReadOnlyTable<(&'static [u8], u32), ()>>,
    keks: OnceCell<ReadOnlyTable<&'static str, &'static [u8]>>,
    deks: OnceCell<ReadOnlyTable<DekKey, &'static [u8]>>,
    contexts: OnceCell<ReadOnlyTable<&'static str, ()>>,
    context_max_ids: OnceCell<ReadOnlyTable<&'static str, u32>>,
    context_ids: OnceCell<ReadOnlyTable<(&'static str, u32), u32>>,
    id_contexts: OnceCell<ReadOnlyTable<u32, (&'static str, u32)>>,
    meta: OnceCell<ReadOnlyTable<&'static str, u64>>,
    audit: OnceCell<ReadOnlyTable<u64, &'static [u8]>>,
}

impl ReadTables {
    fn new(txn: ReadTransaction) -> Self {
        Self {
            txn,
            versions: OnceCell::new(),
            schemas: OnceCell::new(),
            fingerprints: OnceCell::new(),
            id_bindings: OnceCell::new(),
            id_uses: OnceCell::new(),
            referenced_by: OnceCell::new(),
            config: OnceCell::new(),
            guids: OnceCell::new(),
            keks: OnceCell::new(),
            deks: OnceCell::new(),
            contexts: OnceCell::new(),
            context_max_ids: OnceCell::new(),
            context_ids: OnceCell::new(),
            id_contexts: OnceCell::new(),
            meta: OnceCell::new(),
            audit: OnceCell::new(),
        }
    }

    /// The table in `cell`, opened now if this is its first use.
    fn open<'s, K: Key + 'static, V: Value + 'static>(
        &'s self,
        cell: &'s OnceCell<ReadOnlyTable<K, V>>,
        definition: TableDefinition<K, V>,
    ) -> Result<&'s ReadOnlyTable<K, V>> {
        if let Some(table) = cell.get() {
            return Ok(table);
        }
        let table = self.txn.open_table(definition)?;
        Ok(cell.get_or_init(|| table))
    }
}

/// The tables a registration reads and writes, opened once per write transaction: each job of a group commit
/// uses them in turn, and they are closed (their roots written back) once, before the commit.
struct WriteTables<'txn> {
    schemas: Table<'txn, u32, &'static [u8]>,
    id_bindings: Table<'txn, u32, &'static [u8]>,
    fingerprints: Table<'txn, &'static [u8], u32>,
    versions: Table<'txn, (&'static str, u32), &'static [u8]>,
    id_uses: Table<'txn, (u32, &'static str, u32), ()>,
    referenced_by: Table<'txn, (&'static str, u32, u32), ()>,
    config: Table<'txn, &'static str, &'static [u8]>,
    meta: Table<'txn, &'static str, u64>,
    guids: Table<'txn, (&'static [u8], u32), ()>,
    keks: Table<'txn, &'static str, &'static [u8]>,
    deks: Table<'txn, DekKey, &'static [u8]>,
    contexts: Table<'txn, &'static str, ()>,
    context_max_ids: Table<'txn, &'static str, u32>,
    context_ids: Table<'txn, (&'static str, u32), u32>,
    id_contexts: Table<'txn, u32, (&'static str, u32)>,
    audit: Table<'txn, u64, &'static [u8]>,
}

impl<'txn> WriteTables<'txn> {
    /// Opens (creating, in a new file) every table of `txn`.
    fn open(txn: &'txn WriteTransaction) -> Result<Self, TableError> {
        Ok(Self {
            schemas: txn.open_table(SCHEMAS)?,
            id_bindings: txn.open_table(ID_BINDINGS)?,
            fingerprints: txn.open_table(FINGERPRINTS)?,
            versions: txn.open_table(VERSIONS)?,
            id_uses: txn.open_table(ID_USES)?,
            referenced_by: txn.open_table(REFERENCED_BY)?,
            config: txn.open_table(CONFIG)?,
            meta: txn.open_table(META)?,
            guids: txn.open_table(GUIDS)?,
            keks: txn.open_table(KEKS)?,
            deks: txn.open_table(DEKS)?,
            contexts: txn.open_table(CONTEXTS)?,
            context_max_ids: txn.open_table(CONTEXT_MAX_IDS)?,
            context_ids: txn.open_table(CONTEXT_IDS)?,
            id_contexts: txn.open_table(ID_CONTEXTS)?,
            audit: txn.open_table(AUDIT)?,
        })
    }

    fn next_id(&self) -> Result<u64> {
        Ok(self.meta.get(META_NEXT_ID)?.map(|g| g.value()).unwrap_or(1))
    }
}

/// The tables a [`Snapshot`] reads, read-only (a snapshot's) or writable (a transaction's): the reads are
/// written once, over this.
trait Tables {
    type Versions: ReadableTable<(&'static str, u32), &'static [u8]>;
    type Schemas: ReadableTable<u32, &'static [u8]> + ReadableTableMetadata;
    type Fingerprints: ReadableTable<&'static [u8], u32>;
    type Bindings: ReadableTable<u32, &'static [u8]>;
    type Uses: ReadableTable<(u32, &'static str, u32), ()>;
    type Referrers: ReadableTable<(&'static str, u32, u32), ()>;
    type Config: ReadableTable<&'static str, &'static [u8]>;
    type Guids: ReadableTable<(&'static [u8], u32), ()>;
    type Keks: ReadableTable<&'static str, &'static [u8]>;
    type Deks: ReadableTable<DekKey, &'static [u8]> + ReadableTableMetadata;
    type Contexts: ReadableTable<&'static str, ()>;
    type ContextMaxIds: ReadableTable<&'static str, u32>;
    type ContextIds: ReadableTable<(&'static str, u32), u32>;
    type IdContexts: ReadableTable<u32, (&'static str, u32)>;
    type Meta: ReadableTable<&'static str, u64>;
    type Audit: ReadableTable<u64, &'static [u8]>;
    fn versions_table(&self) -> Result<&Self::Versions>;
    fn schemas_table(&self) -> Result<&Self::Schemas>;
    fn fingerprints_table(&self) -> Result<&Self::Fingerprints>;
    fn bindings_table(&self) -> Result<&Self::Bindings>;
    fn uses_table(&self) -> Result<&Self::Uses>;
    fn referrers_table(&self) -> Result<&Self::Referrers>;
    fn config_table(&self) -> Result<&Self::Config>;
    fn guids_table(&self) -> Result<&Self::Guids>;
    fn keks_table(&self) -> Result<&Self::Keks>;
    fn deks_table(&self) -> Result<&Self::Deks>;
    fn contexts_table(&self) -> Result<&Self::Contexts>;
    fn context_max_ids_table(&self) -> Result<&Self::ContextMaxIds>;
    fn context_ids_table(&self) -> Result<&Self::ContextIds>;
    fn id_contexts_table(&self) -> Result<&Self::IdContexts>;
    fn meta_table(&self) -> Result<&Self::Meta>;
    fn audit_table(&self) -> Result<&Self::Audit>;
}

impl Tables for ReadTables {
    type Versions = ReadOnlyTable<(&'static str, u32), &'static [u8]>;
    type Schemas = ReadOnlyTable<u32, &'static [u8]>;
    type Fingerprints = ReadOnlyTable<&'static [u8], u32>;
    type Bindings = ReadOnlyTable<u32, &'static [u8]>;
    type Uses = ReadOnlyTable<(u32, &'static str, u32), ()>;
    type Referrers = ReadOnlyTable<(&'static str, u32, u32), ()>;
    type Config = ReadOnlyTable<&'static str, &'static [u8]>;
    type Guids = ReadOnlyTable<(&'static [u8], u32), ()>;
    type Keks = ReadOnlyTable<&'static str, &'static [u8]>;
    type Deks = ReadOnlyTable<DekKey, &'static [u8]>;
    type Contexts = ReadOnlyTable<&'static str, ()>;
    type ContextMaxIds = ReadOnlyTable<&'static str, u32>;
    type ContextIds = ReadOnlyTable<(&'static str, u32), u32>;
    type IdContexts = ReadOnlyTable<u32, (&'static str, u32)>;
    type Meta = ReadOnlyTable<&'static str, u64>;
    type Audit = ReadOnlyTable<u64, &'static [u8]>;
    fn versions_table(&self) -> Result<&Self::Versions> {
        self.open(&self.versions, VERSIONS)
    }
    fn schemas_table(&self) -> Result<&Self::Schemas> {
        self.open(&self.schemas, SCHEMAS)
    }
    fn fingerprints_table(&self) -> Result<&Self::Fingerprints> {
        self.open(&self.fingerprints, FINGERPRINTS)
    }
    fn bindings_table(&self) -> Result<&Self::Bindings> {
        self.open(&self.id_bindings, ID_BINDINGS)
    }
    fn uses_table(&self) -> Result<&Self::Uses> {
        self.open(&self.id_uses, ID_USES)
    }
    fn referrers_table(&self) -> Result<&Self::Referrers> {
        self.open(&self.referenced_by, REFERENCED_BY)
    }
    fn config_table(&self) -> Result<&Self::Config> {
        self.open(&self.config, CONFIG)
    }
    fn guids_table(&self) -> Result<&Self::Guids> {
        self.open(&self.guids, GUIDS)
    }
    fn keks_table(&self) -> Result<&Self::Keks> {
        self.open(&self.keks, KEKS)
    }
    fn deks_table(&self) -> Result<&Self::Deks> {
        self.open(&self.deks, DEKS)
    }
    fn contexts_table(&self) -> Result<&Self::Contexts> {
        self.open(&self.contexts, CONTEXTS)
    }
    fn context_max_ids_table(&self) -> Result<&Self::ContextMaxIds> {
        self.open(&self.context_max_ids, CONTEXT_MAX_IDS)
    }
    fn context_ids_table(&self) -> Result<&Self::ContextIds> {
        self.open(&self.context_ids, CONTEXT_IDS)
    }
    fn id_contexts_table(&self) -> Result<&Self::IdContexts> {
        self.open(&self.id_contexts, ID_CONTEXTS)
    }
    fn meta_table(&self) -> Result<&Self::Meta> {
        self.open(&self.meta, META)
    }
    fn audit_table(&self) -> Result<&Self::Audit> {
        self.open(&self.audit, AUDIT)
    }
}

impl<'txn> Tables for WriteTables<'txn> {
    type Versions = Table<'txn, (&'static str, u32), &'static [u8]>;
    type Schemas = Table<'txn, u32, &'static [u8]>;
    type Fingerprints = Table<'txn, &'static [u8], u32>;
    type Bindings = Table<'txn, u32, &'static [u8]>;
    type Uses = Table<'txn, (u32, &'static str, u32), ()>;
    type Referrers = Table<'txn, (&'static str, u32, u32), ()>;
    type Config = Table<'txn, &'static str, &'static [u8]>;
    type Guids = Table<'txn, (&'static [u8], u32), ()>;
    type Keks = Table<'txn, &'static str, &'static [u8]>;
    type Deks = Table<'txn, DekKey, &'static [u8]>;
    type Contexts = Table<'txn, &'static str, ()>;
    type ContextMaxIds = Table<'txn, &'static str, u32>;
    type ContextIds = Table<'txn, (&'static str, u32), u32>;
    type IdContexts = Table<'txn, u32, (&'static str, u32)>;
    type Meta = Table<'txn, &'static str, u64>;
    type Audit = Table<'txn, u64, &'static [u8]>;
    fn versions_table(&self) -> Result<&Self::Versions> {
        Ok(&self.versions)
    }
    fn schemas_table(&self) -> Result<&Self::Schemas> {
        Ok(&self.schemas)
    }
    fn fingerprints_table(&self) -> Result<&Self::Fingerprints> {
        Ok(&self.fingerprints)
    }
    fn bindings_table(&self) -> Result<&Self::Bindings> {
        Ok(&self.id_bindings)
    }
    fn uses_table(&self) -> Result<&Self::Uses> {
        Ok(&self.id_uses)
    }
    fn referrers_table(&self) -> Result<&Self::Referrers> {
        Ok(&self.referenced_by)
    }
    fn config_table(&self) -> Result<&Self::Config> {
        Ok(&self.config)
    }
    fn guids_table(&self) -> Result<&Self::Guids> {
        Ok(&self.guids)
    }
    fn keks_table(&self) -> Result<&Self::Keks> {
        Ok(&self.keks)
    }
    fn deks_table(&self) -> Result<&Self::Deks> {
        Ok(&self.deks)
    }
    fn contexts_table(&self) -> Result<&Self::Contexts> {
        Ok(&self.contexts)
    }
    fn context_max_ids_table(&self) -> Result<&Self::ContextMaxIds> {
        Ok(&self.context_max_ids)
    }
    fn context_ids_table(&self) -> Result<&Self::ContextIds> {
        Ok(&self.context_ids)
    }
    fn id_contexts_table(&self) -> Result<&Self::IdContexts> {
        Ok(&self.id_contexts)
    }
    fn meta_table(&self) -> Result<&Self::Meta> {
        Ok(&self.meta)
    }
    fn audit_table(&self) -> Result<&Self::Audit> {
        Ok(&self.audit)
    }
}

/// Fills the GUID index from the schema records of a file that predates it. A record that cannot be read is left
/// out (`Registry::check` reports it).
fn index_guids(txn: &WriteTransaction) -> Result<()> {
    let schemas = txn.open_table(SCHEMAS)?;
    let mut guids = txn.open_table(GUIDS)?;
    let mut indexed = 0u64;
    for entry in schemas.iter()? {
        let (id, record) = entry?;
        match decode_schema(record.value()) {
            Ok(schema) => {
                guids.insert((schema.guid().0.as_slice(), id.value()), ())?;
                indexed += 1;
            }
            Err(e) => tracing::warn!(id = id.value(), error = %e, "a schema record that cannot be read has no GUID"),
        }
    }
    tracing::info!(schemas = indexed, "indexed the schemas' GUIDs (file format {FILE_FORMAT})");
    Ok(())
}

/// Gives the records of `formats` their canonical texts, fingerprints and GUIDs ([`super::canonical::rewrites`]).
fn canonicalize(txn: &WriteTransaction, formats: &[SchemaType]) -> Result<()> {
    let mut schemas = txn.open_table(SCHEMAS)?;
    let versions = txn.open_table(VERSIONS)?;
    let mut fingerprints = txn.open_table(FINGERPRINTS)?;
    let mut bindings = txn.open_table(ID_BINDINGS)?;
    let mut guids = txn.open_table(GUIDS)?;
    let mut records = Vec::new();
    for entry in schemas.iter()? {
        let (id, record) = entry?;
        match decode_schema(record.value()) {
            Ok(schema) => records.push(schema),
            Err(e) => tracing::warn!(id = id.value(), error = %e, "a schema record that cannot be read keeps its text"),
        }
    }
    let by_id: std::collections::HashMap<SchemaId, StoredSchema> = records.iter().map(|s| (s.id, s.clone())).collect();
    let text_of = |reference: &SchemaReference| -> Result<Option<StoredSchema>> {
        let Some(record) = versions.get((reference.subject.as_str(), reference.version.get()))? else {
            return Ok(None);
        };
        let record = decode_version(record.value())?;
        Ok(by_id.get(&record.id).cloned())
    };
    let holder = |fingerprint: &Fingerprint| -> Result<Option<SchemaId>> {
        Ok(fingerprints.get(fingerprint.0.as_slice())?.map(|id| SchemaId(id.value())))
    };
    let id_contexts = txn.open_table(ID_CONTEXTS)?;
    let context =
        |id: SchemaId| -> Result<Option<String>> { Ok(id_contexts.get(id.0)?.map(|row| row.value().0.to_string())) };
    let rewrites = super::canonical::rewrites(records, formats, &text_of, &holder, &context)?;
    for rewrite in &rewrites {
        let id = rewrite.before.id.0;
        schemas.insert(id, encode_schema(&rewrite.after)?.as_slice())?;
        guids.remove((rewrite.before.guid().0.as_slice(), id))?;
        guids.insert((rewrite.after.guid().0.as_slice(), id), ())?;
    }
    // Unbind every old identity before binding any new one: one id's old fingerprint may be another's new.
    for rewrite in rewrites.iter().filter(|r| r.rebind) {
        let old = rewrite.before.fingerprint.0;
        if fingerprints.get(old.as_slice())?.map(|id| id.value()) == Some(rewrite.before.id.0) {
            fingerprints.remove(old.as_slice())?;
        }
    }
    for rewrite in rewrites.iter().filter(|r| r.rebind) {
        fingerprints.insert(rewrite.after.fingerprint.0.as_slice(), rewrite.before.id.0)?;
        bindings.insert(rewrite.before.id.0, rewrite.after.fingerprint.0.as_slice())?;
    }
    tracing::info!(schemas = rewrites.len(), "gave the schemas their canonical texts (file format {FILE_FORMAT})");
    Ok(())
}

fn corrupt(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Corrupt(e.to_string())
}

/// A subject's versions in ascending order, each decoded as it is read (either end first).
fn subject_rows<'t>(
    table: &'t impl ReadableTable<(&'static str, u32), &'static [u8]>,
    subject: &Subject,
) -> Result<impl DoubleEndedIterator<Item = Result<(Version, VersionRecord)>> + 't> {
    let name = subject.as_str();
    Ok(table.range((name, 0u32)..=(name, u32::MAX))?.map(|entry| {
        let (key, value) = entry?;
        let version = Version::new(key.value().1).map_err(corrupt)?;
        Ok((version, decode_version(value.value())?))
    }))
}

impl<T: Tables> Snapshot for T {
    fn subject_versions(&self, subject: &Subject) -> Result<Vec<(Version, VersionRecord)>> {
        subject_rows(self.versions_table()?, subject)?.collect()
    }

    fn newest_live_version(&self, subject: &Subject) -> Result<Option<(Version, SchemaId)>> {
        for row in subject_rows(self.versions_table()?, subject)?.rev() {
            let (version, record) = row?;
            if record.is_current() {
                return Ok(Some((version, record.id)));
            }
        }
        Ok(None)
    }

    fn version(&self, subject: &Subject, version: Version) -> Result<Option<VersionRecord>> {
        self.versions_table()?
            .get((subject.as_str(), version.get()))?
            .map(|bytes| decode_version(bytes.value()))
            .transpose()
    }

    fn scan_versions(&self, prefix: &str, visit: &mut dyn FnMut(VersionRow<'_>) -> Result<bool>) -> Result<()> {
        for entry in self.versions_table()?.range((prefix, 0u32)..)? {
            let (key, value) = entry?;
            let (name, version) = key.value();
            if !name.starts_with(prefix) || !visit((name, version, decode_version(value.value())?))? {
                break;
            }
        }
        Ok(())
    }

    fn schema(&self, id: SchemaId) -> Result<Option<StoredSchema>> {
        self.schemas_table()?.get(id.0)?.map(|bytes| decode_schema(bytes.value())).transpose()
    }

    fn schema_count(&self) -> Result<u64> {
        Ok(self.schemas_table()?.len()?)
    }

    fn id_of(&self, fingerprint: &Fingerprint) -> Result<Option<SchemaId>> {
        Ok(self.fingerprints_table()?.get(fingerprint.0.as_slice())?.map(|g| SchemaId(g.value())))
    }

    fn fingerprint_of(&self, id: SchemaId) -> Result<Option<Fingerprint>> {
        self.bindings_table()?.get(id.0)?.map(|bytes| fingerprint(bytes.value())).transpose()
    }

    fn uses(&self, id: SchemaId) -> Result<Vec<(Subject, Version)>> {
        let mut out = Vec::new();
        for entry in self.uses_table()?.range((id.0, "", 0u32)..=(id.0, "\u{10FFFF}", u32::MAX))? {
            let (key, _) = entry?;
            let (_, subject, version) = key.value();
            out.push((Subject::new(subject).map_err(corrupt)?, Version::new(version).map_err(corrupt)?));
        }
        Ok(out)
    }

    fn referrers(&self, subject: &Subject, version: Version) -> Result<Vec<SchemaId>> {
        let (name, v) = (subject.as_str(), version.get());
        let mut out = Vec::new();
        for entry in self.referrers_table()?.range((name, v, 0u32)..=(name, v, u32::MAX))? {
            out.push(SchemaId(entry?.0.value().2));
        }
        Ok(out)
    }

    fn config(&self, scope: &str) -> Result<ConfigRecord> {
        let record = self.config_table()?.get(scope)?;
        record.map(|bytes| decode_config(bytes.value())).transpose().map(Option::unwrap_or_default)
    }

    fn configs(&self) -> Result<Vec<(String, ConfigRecord)>> {
        let mut out = Vec::new();
        for entry in self.config_table()?.iter()? {
            let (key, value) = entry?;
            out.push((key.value().to_string(), decode_config(value.value())?));
        }
        Ok(out)
    }

    fn bindings(&self) -> Result<Vec<(SchemaId, Fingerprint)>> {
        let mut out = Vec::new();
        for entry in self.bindings_table()?.iter()? {
            let (id, bytes) = entry?;
            out.push((SchemaId(id.value()), fingerprint(bytes.value())?));
        }
        Ok(out)
    }

    fn ids_by_guid(&self, guid: &SchemaGuid) -> Result<Vec<SchemaId>> {
        let key = guid.0.as_slice();
        let rows = self.guids_table()?.range((key, 0u32)..=(key, u32::MAX))?;
        rows.map(|entry| Ok(SchemaId(entry?.0.value().1))).collect()
    }

    fn kek(&self, name: &str) -> Result<Option<Kek>> {
        self.keks_table()?.get(name)?.map(|json| key_from_json(json.value())).transpose()
    }

    fn keks(&self) -> Result<Vec<Kek>> {
        self.keks_table()?.iter()?.map(|entry| key_from_json(entry?.1.value())).collect()
    }

    fn deks(&self, kek: &str, subject: Option<&str>) -> Result<Vec<Dek>> {
        let table = self.deks_table()?;
        let rows = match subject {
            Some(subject) => table.range((kek, subject, "", 0u32)..=(kek, subject, "\u{10FFFF}", u32::MAX))?,
            // Every subject of `kek`: from its first to the first key of the next name (the name and a NUL).
            None => table.range((kek, "", "", 0u32)..(format!("{kek}\0").as_str(), "", "", 0u32))?,
        };
        rows.map(|entry| key_from_json(entry?.1.value())).collect()
    }

    fn dek_count(&self) -> Result<u64> {
        Ok(self.deks_table()?.len()?)
    }

    fn contexts(&self) -> Result<Vec<String>> {
        self.contexts_table()?.iter()?.map(|entry| Ok(entry?.0.value().to_string())).collect()
    }

    fn context_id(&self, context: &str, id: u32) -> Result<Option<SchemaId>> {
        Ok(self.context_ids_table()?.get((context, id))?.map(|stored| SchemaId(stored.value())))
    }

    fn id_context(&self, id: SchemaId) -> Result<Option<(String, u32)>> {
        Ok(self.id_contexts_table()?.get(id.0)?.map(|row| {
            let (context, id) = row.value();
            (context.to_string(), id)
        }))
    }

    fn context_max_id(&self, context: &str) -> Result<u32> {
        Ok(self.context_max_ids_table()?.get(context)?.map_or(0, |max| max.value()))
    }

    fn max_id(&self) -> Result<u32> {
        let next = self.meta_table()?.get(META_NEXT_ID)?.map_or(1, |next| next.value());
        Ok(u32::try_from(next.saturating_sub(1)).unwrap_or(u32::MAX))
    }

    fn audit_entries(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let rows = self.audit_table()?.range(from..)?.take(limit);
        rows.map(|entry| {
            let (seq, bytes) = entry?;
            Ok((seq.value(), bytes.value().to_vec()))
        })
        .collect()
    }

    fn audit_head(&self) -> Result<Option<(u64, Vec<u8>)>> {
        let last = self.audit_table()?.last()?;
        Ok(last.map(|(seq, bytes)| (seq.value(), bytes.value().to_vec())))
    }
}

/// A KEK or DEK stored as JSON.
fn key_from_json<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T> {
    serde_json::from_slice(json).map_err(|e| corrupt(format!("a stored key cannot be read: {e}")))
}

/// A KEK or DEK as stored.
fn key_to_json(key: &impl serde::Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(key).map_err(|e| corrupt(format!("a key cannot be encoded: {e}")))
}

fn fingerprint(bytes: &[u8]) -> Result<Fingerprint> {
    Ok(Fingerprint(bytes.try_into().map_err(|_| corrupt("a fingerprint is not 32 bytes"))?))
}

impl Transaction for WriteTables<'_> {
    fn put_version(&mut self, subject: &Subject, version: Version, record: VersionRecord) -> Result<()> {
        self.versions.insert((subject.as_str(), version.get()), encode_version(&record)?.as_slice())?;
        Ok(())
    }

    fn remove_version(&mut self, subject: &Subject, version: Version) -> Result<()> {
        self.versions.remove((subject.as_str(), version.get()))?;
        Ok(())
    }

    fn put_schema(&mut self, schema: &StoredSchema) -> Result<()> {
        let record = encode_schema(schema)?;
        self.schemas.insert(schema.id.0, record.as_slice())?;
        self.guids.insert((schema.guid().0.as_slice(), schema.id.0), ())?;
        Ok(())
    }

    fn remove_schema(&mut self, id: SchemaId) -> Result<()> {
        if let Some(record) = self.schemas.remove(id.0)? {
            // A record that cannot be read leaves its GUID's entry, which leads nowhere: readers skip ids
            // without a record, and `Registry::check` reports the record.
            if let Ok(schema) = decode_schema(record.value()) {
                self.guids.remove((schema.guid().0.as_slice(), id.0))?;
            }
        }
        Ok(())
    }

    fn bind(&mut self, fingerprint: &Fingerprint, id: SchemaId) -> Result<()> {
        self.fingerprints.insert(fingerprint.0.as_slice(), id.0)?;
        self.id_bindings.insert(id.0, fingerprint.0.as_slice())?;
        Ok(())
    }

    fn add_use(&mut self, id: SchemaId, subject: &Subject, version: Version) -> Result<()> {
        self.id_uses.insert((id.0, subject.as_str(), version.get()), ())?;
        Ok(())
    }

    fn remove_use(&mut self, id: SchemaId, subject: &Subject, version: Version) -> Result<()> {
        self.id_uses.remove((id.0, subject.as_str(), version.get()))?;
        Ok(())
    }

    fn add_referrer(&mut self, reference: &SchemaReference, referrer: SchemaId) -> Result<()> {
        self.referenced_by.insert((reference.subject.as_str(), reference.version.get(), referrer.0), ())?;
        Ok(())
    }

    fn remove_referrer(&mut self, reference: &SchemaReference, referrer: SchemaId) -> Result<()> {
        self.referenced_by.remove((reference.subject.as_str(), reference.version.get(), referrer.0))?;
        Ok(())
    }

    fn put_config(&mut self, scope: &str, record: ConfigRecord) -> Result<()> {
        if record == ConfigRecord::default() {
            self.config.remove(scope)?;
        } else {
            self.config.insert(scope, encode_config(&record)?.as_slice())?;
        }
        Ok(())
    }

    fn put_kek(&mut self, kek: &Kek) -> Result<()> {
        self.keks.insert(kek.name.as_str(), key_to_json(kek)?.as_slice())?;
        Ok(())
    }

    fn remove_kek(&mut self, name: &str) -> Result<()> {
        self.keks.remove(name)?;
        Ok(())
    }

    fn put_dek(&mut self, dek: &Dek) -> Result<()> {
        let key = (dek.kek_name.as_str(), dek.subject.as_str(), dek.algorithm.as_str(), dek.version);
        self.deks.insert(key, key_to_json(dek)?.as_slice())?;
        Ok(())
    }

    fn remove_dek(&mut self, dek: &Dek) -> Result<()> {
        self.deks.remove((dek.kek_name.as_str(), dek.subject.as_str(), dek.algorithm.as_str(), dek.version))?;
        Ok(())
    }

    /// redb has one writer at a time: holding is only looking.
    fn hold_schema(&mut self, id: SchemaId) -> Result<bool> {
        Ok(self.schemas.get(id.0)?.is_some())
    }

    fn hold_ids(&mut self) -> Result<()> {
        Ok(())
    }

    fn allocate_id(&mut self) -> Result<SchemaId> {
        let next = self.next_id()?;
        let id = u32::try_from(next).ok().filter(|id| *id < FIRST_CONTEXT_ID).ok_or(RegistryError::IdsExhausted)?;
        self.meta.insert(META_NEXT_ID, next + 1)?;
        Ok(SchemaId(id))
    }

    fn reserve_id(&mut self, id: SchemaId) -> Result<()> {
        let next = self.next_id()?.max(u64::from(id.0) + 1);
        self.meta.insert(META_NEXT_ID, next)?;
        Ok(())
    }

    fn add_context(&mut self, context: &str) -> Result<()> {
        self.contexts.insert(context, ())?;
        Ok(())
    }

    fn remove_context(&mut self, context: &str) -> Result<()> {
        self.contexts.remove(context)?;
        Ok(())
    }

    fn allocate_in_context(&mut self, context: &str) -> Result<(SchemaId, u32)> {
        let id = self.context_max_id(context)?.checked_add(1).filter(|id| *id <= i32::MAX as u32);
        let id = id.ok_or(RegistryError::IdsExhausted)?;
        Ok((self.reserve_in_context(context, id)?, id))
    }

    fn reserve_in_context(&mut self, context: &str, id: u32) -> Result<SchemaId> {
        if let Some(stored) = self.context_id(context, id)? {
            return Ok(stored);
        }
        let next = self.meta.get(META_NEXT_CONTEXT_ID)?.map_or(u64::from(FIRST_CONTEXT_ID), |next| next.value());
        let stored = u32::try_from(next).map(SchemaId).map_err(|_| RegistryError::IdsExhausted)?;
        self.map_context_id(context, id, stored)?;
        Ok(stored)
    }

    /// redb has one writer at a time: holding is only looking.
    fn hold_audit(&mut self) -> Result<()> {
        Ok(())
    }

    fn append_audit(&mut self, seq: u64, entry: &[u8]) -> Result<()> {
        self.audit.insert(seq, entry)?;
        Ok(())
    }

    fn map_context_id(&mut self, context: &str, id: u32, stored: SchemaId) -> Result<()> {
        self.context_ids.insert((context, id), stored.0)?;
        self.id_contexts.insert(stored.0, (context, id))?;
        if id > self.context_max_id(context)? {
            self.context_max_ids.insert(context, id)?;
        }
        let next = self.meta.get(META_NEXT_CONTEXT_ID)?.map_or(u64::from(FIRST_CONTEXT_ID), |next| next.value());
        self.meta.insert(META_NEXT_CONTEXT_ID, next.max(u64::from(stored.0) + 1))?;
        Ok(())
    }
}

macro_rules! storage_error {
    ($($t:ty),*) => {$(
        impl From<$t> for RegistryError {
            fn from(e: $t) -> Self {
                RegistryError::Storage(StorageError::new("redb", e))
            }
        }
    )*};
}

storage_error!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_live_version_skips_deleted_ones_and_other_subjects() {
        let store = RedbStore::in_memory().expect("an in-memory store");
        let subject = |name: &str| Subject::new(name).expect("a subject name");
        let version = |v: u32| Version::new(v).expect("a version");
        // (subject, version, deleted): "a" ends with two soft-deleted versions; "ab" sorts right after "a".
        let rows =
            [("a", 1, false), ("a", 2, false), ("a", 3, true), ("a", 4, true), ("ab", 1, false), ("b", 1, false)];
        let work: Work<'_> = Box::new(|txn| {
            for (name, v, deleted) in rows {
                let record = VersionRecord {
                    id: SchemaId(v * 10),
                    deleted,
                    semver: crate::SemVer::FIRST,
                    state: Default::default(),
                    registered: None,
                };
                txn.put_version(&subject(name), version(v), record)?;
            }
            Ok(())
        });
        store.write(&[], work).expect("commits");
        let snapshot = store.snapshot().expect("a snapshot");
        let newest = snapshot.newest_live_version(&subject("a")).expect("reads");
        assert_eq!(newest, Some((version(2), SchemaId(20))));
        let live = snapshot.subject_versions(&subject("a")).expect("reads");
        assert_eq!(live.iter().rev().find(|(_, r)| !r.deleted).map(|(v, r)| (*v, r.id)), newest);
        assert_eq!(snapshot.newest_live_version(&subject("c")).expect("reads"), None);
    }
}
