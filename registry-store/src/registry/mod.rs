//! The public `Registry` and its operations, with Confluent Schema Registry semantics, split by kind:
//! `register` (the group-committed write and its rules), `read` (lookups, listings, validation), `compat`
//! (compatibility checks), `delete`, and `config` (compatibility levels and modes).
//!
//! The rules here run over the storage boundary (`crate::store`): a read snapshot, a write transaction, id
//! allocation. Writes return after a durable commit. Reads run on snapshots behind moka caches, which the code
//! path that commits keeps coherent (`crate::cache`).

mod audit;
mod check;
mod compat;
mod config;
mod contexts;
mod copy;
mod delete;
mod inherit;
mod keys;
mod lifecycle;
mod options;
mod read;
mod register;
mod search;

use std::path::Path;
use std::sync::Arc;

use registry_core::SchemaId;

pub use audit::{AuditAction, AuditEntry, AuditPage, AuditVerdict, MAX_AUDIT_PAGE};
pub use check::CheckReport;
pub use copy::Copied;
pub use keys::{KekUpdate, MAX_KEYS, NewDek, NewKek};
pub use options::{
    Counts, DEFAULT_CACHE_BUDGET, Deleted, Deletion, RegisterOptions, RegistryOptions, Scope, StoreAddress,
    StoreOptions,
};
pub use register::Registration;
pub use search::{
    BrowsePage, BrowseQuery, MAX_BROWSE_PAGE, MAX_SEARCH_PAGE, SearchHit, SearchMatch, SearchQuery, SearchResults,
    SubjectSummary,
};

use crate::RegistryError;
use crate::cache::{CacheStats, Caches, Change};
use crate::commit::{CommitStats, Committer};
use crate::records::StoredSchema;
use crate::store::redb::RedbStore;
use crate::store::{Lock, Result, Snapshot, Store, Transaction, transact};

/// The embeddable schema registry. Cheap to clone; clones share one store and one set of caches.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
    /// Who its writes are made by, in the audit log ([`Registry::acting_as`]).
    actor: Option<Arc<str>>,
}

struct Inner {
    /// Dropped first: joins the committer thread, which holds the store too.
    committer: Committer,
    store: Arc<dyn Store>,
    shared: Arc<Shared>,
    /// The search index, read again where writes made it stale.
    search: std::sync::Mutex<search::Index>,
}

/// What a write job inside the committer needs: the caches and the options, never the `Registry` itself (a
/// job holding the last `Registry` would make the committer join itself).
struct Shared {
    caches: Arc<Caches>,
    options: RegistryOptions,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("options", &self.inner.shared.options).finish_non_exhaustive()
    }
}

impl Registry {
    /// Opens the registry file at `path`, creating it (and nothing else) if it does not exist.
    pub fn open(path: impl AsRef<Path>, options: RegistryOptions) -> Result<Self> {
        let store = RedbStore::open(path.as_ref(), options.store_cache_bytes)?;
        Ok(Self::on(Arc::new(store), Arc::new(Caches::new(&options)), options))
    }

    /// A registry held in memory only: for tests and short-lived embedding.
    pub fn in_memory(options: RegistryOptions) -> Result<Self> {
        Ok(Self::on(Arc::new(RedbStore::in_memory()?), Arc::new(Caches::new(&options)), options))
    }

    /// The registry in a PostgreSQL database that other instances may share: `url` is a `postgres://` URL (or
    /// a `key=value` connection string). The same API and semantics as [`Registry::open`]; the tables are
    /// created, or migrated, in the first schema of the connection's `search_path`. A database written by a
    /// newer release is refused with [`RegistryError::UnsupportedFormat`].
    #[cfg(feature = "postgres")]
    pub fn connect(url: &str, options: RegistryOptions) -> Result<Self> {
        let caches = Arc::new(Caches::new(&options));
        let store = crate::store::postgres::PgStore::connect(url, &options.store, caches.clone())?;
        Ok(Self::on(Arc::new(store), caches, options))
    }

    /// A registry whose storage fails on purpose, as `faults` says: the redb file at `path`, or memory that
    /// outlives each opening of the database when `None`. For tests and fuzzing.
    #[cfg(feature = "faults")]
    pub fn open_with_faults(
        path: Option<&Path>,
        faults: &crate::faults::Faults,
        options: RegistryOptions,
    ) -> Result<Self> {
        let medium = path.map_or(crate::faults::Medium::Memory, |path| crate::faults::Medium::File(path.to_path_buf()));
        let store = RedbStore::faulty(medium, faults, options.store_cache_bytes)?;
        Ok(Self::on(Arc::new(store), Arc::new(Caches::new(&options)), options))
    }

    /// The registry at `address`: an embedded file, or a shared PostgreSQL database.
    pub fn open_at(address: &StoreAddress, options: RegistryOptions) -> Result<Self> {
        match address {
            StoreAddress::Embedded(path) => Self::open(path, options),
            #[cfg(feature = "postgres")]
            StoreAddress::Postgres(url) => Self::connect(url, options),
            #[cfg(not(feature = "postgres"))]
            StoreAddress::Postgres(_) => Err(RegistryError::InvalidStore(
                "this build has no PostgreSQL support (registry-store's `postgres` feature)".into(),
            )),
        }
    }

    /// The registry over `store`, with `caches` (which a shared store keeps coherent with other instances).
    fn on(store: Arc<dyn Store>, caches: Arc<Caches>, options: RegistryOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                committer: Committer::start(store.clone(), caches.clone()),
                store,
                shared: Arc::new(Shared { caches, options }),
                search: Default::default(),
            }),
            actor: None,
        }
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

    /// Whether the store answers: one read of its metadata.
    /// Whether the registry can serve: its committer runs (else no registration can commit) and its store
    /// answers one read of its metadata.
    pub fn health(&self) -> Result<()> {
        if !self.inner.committer.is_running() {
            let why = "the registration committer has stopped: registrations cannot commit";
            return Err(crate::error::StorageError::down("registry", why).into());
        }
        self.inner.store.health()
    }

    /// What the store is, for people (never a password): "redb file ./registry-data/registry.redb",
    /// "PostgreSQL at db.internal:5432/registry".
    pub fn store_name(&self) -> String {
        self.inner.store.describe()
    }

    /// Whether the store is shared with other instances (PostgreSQL): what is not cached is a network round trip
    /// away, so a server should not run registrations on its async workers.
    pub fn is_shared(&self) -> bool {
        self.inner.store.is_shared()
    }

    /// How many times an id has stopped being found (a permanent delete removed its last use). An answer about
    /// an id that was found, remembered with this count, still holds while the count is unchanged: a layer
    /// above can cache "id N is served" without asking again.
    pub fn removals(&self) -> u64 {
        self.caches().removals()
    }

    /// How many changes could have taken back an answer `register` gave: every delete (soft or permanent, of a
    /// version or a subject) and every config or mode change. New registrations do not move it. A registration
    /// answered, remembered with this count, is still the answer to the same request while the count stands: a
    /// layer above can answer a repeated registration without parsing it again.
    pub fn retractions(&self) -> u64 {
        self.caches().retractions()
    }

    fn caches(&self) -> &Caches {
        &self.inner.shared.caches
    }

    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>> {
        self.inner.store.snapshot()
    }

    /// Runs `work` in one write transaction holding `locks`. The change it reports is published to the other
    /// instances sharing the store inside the transaction, and applied to this instance's caches after the
    /// commit, before anyone is answered.
    fn write<T>(
        &self,
        locks: &[Lock<'_>],
        work: impl FnOnce(&mut dyn Transaction) -> Result<(T, Change)>,
    ) -> Result<T> {
        let mut made = None;
        let outcome = transact(&*self.inner.store, locks, |txn| {
            let (answer, change) = work(txn)?;
            txn.publish(&change)?;
            made = Some(change);
            Ok(answer)
        });
        // A commit whose outcome is unknown may have landed: what it would have made stale is dropped all the same.
        let landed = outcome.is_ok() || outcome.as_ref().is_err_and(RegistryError::is_outcome_unknown);
        if landed && let Some(change) = made {
            self.caches().apply(&change);
        }
        outcome
    }

    /// The record of `id`, which a version in `snapshot` uses: from the cache, else from the snapshot.
    fn schema_in(&self, snapshot: &dyn Snapshot, id: SchemaId) -> Result<Arc<StoredSchema>> {
        if let Some(schema) = self.caches().schemas.get(&id) {
            return Ok(schema);
        }
        let schema = snapshot.schema(id)?.ok_or_else(|| {
            RegistryError::Corrupt(format!("a version refers to schema id {id}, which is not stored"))
        })?;
        Ok(Arc::new(schema))
    }
}
