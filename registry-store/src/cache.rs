//! The moka caches, their hit/miss counters, and the one place that keeps them coherent with the store.
//!
//! Caches hold immutable records, or answers that a write can make stale. Every write that commits hands its
//! [`Change`] to [`Caches::apply`] before its caller is answered (and a store shared by several instances hands
//! it to the others too): it bumps the epoch and drops what that kind of change makes stale. A read that fills a cache
//! re-checks the epoch after inserting ([`Caches::fill`]) and takes its entry back if a write landed meanwhile,
//! so a cache never keeps what a committed write made stale. The store stays the source of truth.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use moka::sync::Cache;
use registry_core::{Fingerprint, ParsedSchema, SchemaId, Subject, ValidateOptions, Validator, Version};

use serde::{Deserialize, Serialize};

use crate::codec::ConfigRecord;
use crate::records::{Registered, SemVer, StoredSchema};

/// Hits and misses of one cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounters {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that went to the store.
    pub misses: u64,
}

/// Hits and misses of every cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// id -> schema record.
    pub schemas: CacheCounters,
    /// id -> parsed schema (compatibility checks, validation).
    pub parsed: CacheCounters,
    /// schema text -> fingerprint (registrations and lookups of schemas seen before).
    pub text_fingerprints: CacheCounters,
    /// (subject, fingerprint) -> version: the register-existing and lookup fast path.
    pub subject_fingerprints: CacheCounters,
    /// subject -> latest live version.
    pub latest: CacheCounters,
    /// (id, validation options) -> compiled data validator.
    pub validators: CacheCounters,
    /// Validators compiled: at most one per cache miss, however many callers missed at once.
    pub validator_compiles: u64,
}

/// What an entry weighs, about its bytes.
type Weigher<K, V> = fn(&K, &V) -> u32;

/// A moka cache that counts its hits and misses. One sized 0 is off: every lookup misses and nothing is kept,
/// without the cost of inserting entries only to evict them.
pub(crate) struct Counted<K, V> {
    cache: Cache<K, V>,
    off: bool,
    /// For a cache of answers a write elsewhere can make stale: while set, it is off too.
    blind: Option<Arc<AtomicBool>>,
    /// For a cache bounded by weight: its weigher and capacity (see [`Counted::insert`]).
    weighed: Option<(Weigher<K, V>, u64)>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> Counted<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(capacity: u64) -> Self {
        Self::built(Cache::new(capacity), capacity == 0, None)
    }

    /// A cache bounded by the total weight of its entries (about their bytes), not by their count.
    fn weighted(max_bytes: u64, weigher: Weigher<K, V>) -> Self {
        let cache = Cache::builder().max_capacity(max_bytes).weigher(weigher).build();
        Self { weighed: Some((weigher, max_bytes)), ..Self::built(cache, max_bytes == 0, None) }
    }

    /// A cache of `capacity` entries that is off while `blind` is set.
    fn gated(capacity: u64, blind: &Arc<AtomicBool>) -> Self {
        Self::built(Cache::new(capacity), capacity == 0, Some(blind.clone()))
    }

    fn built(cache: Cache<K, V>, off: bool, blind: Option<Arc<AtomicBool>>) -> Self {
        Self { cache, off, blind, weighed: None, hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    /// Whether lookups miss and inserts keep nothing, now.
    fn is_off(&self) -> bool {
        self.off || self.blind.as_ref().is_some_and(|blind| blind.load(Ordering::Acquire))
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = if self.is_off() { None } else { self.cache.get(key) };
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The cached value, or `init`'s, computed once however many callers miss at the same time (moka
    /// coalesces them). A miss is counted only for the caller whose `init` ran: it is the one store read.
    /// Returns whether this call computed the value.
    pub(crate) fn get_or_try_insert_with<E, F>(&self, key: K, init: F) -> Result<(V, bool), std::sync::Arc<E>>
    where
        F: FnOnce() -> Result<V, E>,
        E: Send + Sync + 'static,
    {
        if self.is_off() {
            // No cache, so nothing to coalesce into: each caller reads for itself.
            self.misses.fetch_add(1, Ordering::Relaxed);
            return init().map(|value| (value, true)).map_err(std::sync::Arc::new);
        }
        if let Some(found) = self.cache.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok((found, false));
        }
        let entry = self.cache.entry(key).or_try_insert_with(init)?;
        let fresh = entry.is_fresh();
        let counter = if fresh { &self.misses } else { &self.hits };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok((entry.into_value(), fresh))
    }

    /// Keeps `value` unless the cache is off, or it weighs more than the whole cache: moka would refuse such an
    /// entry at its next maintenance, but hold it until then, and with no cache traffic after, for good (a
    /// 1 MiB Protobuf schema's parsed form is 40 MiB). A heavy one is made room for at once, for the same reason.
    pub(crate) fn insert(&self, key: K, value: V) {
        if self.is_off() {
            return;
        }
        let Some((weigh, max)) = self.weighed else {
            self.cache.insert(key, value);
            return;
        };
        let weight = u64::from(weigh(&key, &value));
        if weight > max {
            return;
        }
        self.cache.insert(key, value);
        if is_heavy(weight, max) {
            self.cache.run_pending_tasks();
        }
    }

    pub(crate) fn invalidate<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.cache.invalidate(key);
    }

    /// Drops every entry, one by one: moka's own `invalidate_all` leaves a timestamp behind that makes every
    /// later maintenance pass scan for entries older than it, which slowed every cache hit by a tenth (get-latest
    /// on a store shared over PostgreSQL, whose instances drop their caches when they start listening). A
    /// concurrent fill that this misses is taken back by the epoch check of [`Caches::fill`].
    pub(crate) fn invalidate_all(&self) {
        drop_each(&self.cache);
    }

    fn counters(&self) -> CacheCounters {
        CacheCounters { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed) }
    }
}

/// Drops every entry of `cache` by its key (see [`Counted::invalidate_all`]).
fn drop_each<K, V>(cache: &Cache<K, V>)
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    for (key, _) in cache {
        cache.invalidate(&*key);
    }
}

/// The latest live version of a subject and its schema id.
pub(crate) type Latest = Option<(Version, SchemaId, SemVer, crate::records::VersionState)>;

pub(crate) struct Caches {
    pub schemas: Counted<SchemaId, Arc<StoredSchema>>,
    pub parsed: Counted<SchemaId, Arc<ParsedSchema>>,
    /// SHA-256 of (format, text) -> fingerprint, for schemas without references: identity is a pure function
    /// of the text, so this memo is never stale. It is what makes registering an existing schema cheap: a
    /// client sending the same text again is answered without parsing it.
    pub text_fingerprints: Counted<[u8; 32], Fingerprint>,
    pub subject_fingerprints: Counted<(Subject, Fingerprint), (Version, SchemaId, SemVer)>,
    pub latest: Counted<Subject, Latest>,
    pub validators: Validators,
    /// scope key -> its settings (compatibility level and mode).
    pub config: Counted<String, ConfigRecord>,
    /// Set while this instance may miss another's changes (its notice channel is down): the caches of answers
    /// a write elsewhere can make stale (latest versions, the (subject, fingerprint) fast path, settings) are
    /// off, and every read of them goes to the store.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    blind: Arc<AtomicBool>,
    /// Bumped after every commit that changes what a read can see.
    epoch: AtomicU64,
    /// Bumped each time a permanent delete removes an id's last use (the only way an id stops being found).
    removals: AtomicU64,
    /// Bumped by every delete and every settings change (what can take back an answer `register` gave).
    retractions: AtomicU64,
    /// The registry's counts, and the epoch they were counted at.
    counts: std::sync::Mutex<Option<(u64, crate::Counts)>>,
    /// The subjects the search index must read again before it answers (every one, to begin with).
    search_stale: std::sync::Mutex<Stale>,
}

/// The most subjects the search index keeps a list of to read again; past it, it reads everything again.
const MAX_STALE_SUBJECTS: usize = 10_000;

/// What of the search index a change made stale.
#[derive(Debug, Default)]
pub(crate) enum Stale {
    /// Everything: read every subject again.
    #[default]
    All,
    /// These subjects.
    Subjects(std::collections::HashSet<Subject>),
}

/// A schema id a delete touched: the fingerprint it is bound to, and whether no version uses it any more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Touched {
    pub id: SchemaId,
    pub fingerprint: Option<Fingerprint>,
    pub orphaned: bool,
}

/// A committed change, as the caches need to know it: what it made stale. A store shared by several instances
/// carries it to the others ([`crate::store::Transaction::publish`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Change {
    /// A new version of a subject.
    Registered {
        /// The subject.
        subject: Subject,
    },
    /// Versions of a subject deleted, soft or permanently.
    Deleted {
        /// The subject.
        subject: Subject,
        /// The ids the deleted versions used.
        touched: Vec<Touched>,
        /// Whether the subject's own settings went too.
        settings_gone: bool,
    },
    /// The settings of a scope changed.
    Config {
        /// The scope's key.
        scope: String,
    },
    /// Something changed that cannot be named (a notice too large to carry, or one that did not arrive).
    Unknown,
}

impl Caches {
    pub(crate) fn new(options: &crate::RegistryOptions) -> Self {
        let capacity = options.cache_capacity;
        let blind = Arc::new(AtomicBool::new(false));
        Self {
            schemas: Counted::weighted(options.schema_cache_bytes, |_, schema| {
                weight(schema.text.len() + schema.contract.approximate_bytes())
            }),
            parsed: Counted::weighted(options.parsed_cache_bytes, |_, parsed| parsed_weight(parsed)),
            text_fingerprints: Counted::new(capacity),
            subject_fingerprints: Counted::gated(capacity, &blind),
            latest: Counted::gated(capacity, &blind),
            validators: Validators::new(options.validator_cache_bytes),
            config: Counted::gated(capacity, &blind),
            blind,
            epoch: AtomicU64::new(0),
            removals: AtomicU64::new(0),
            retractions: AtomicU64::new(0),
            counts: std::sync::Mutex::new(None),
            search_stale: std::sync::Mutex::new(Stale::All),
        }
    }

    /// Marks `subject`'s entries of the search index stale (every subject's, for `None`). Past
    /// [`MAX_STALE_SUBJECTS`] subjects the whole index is: reading it again whole is then as cheap, and a registry
    /// nobody searches keeps no list that grows.
    fn stale_for_search(&self, subject: Option<&Subject>) {
        let mut stale = self.search_stale.lock().unwrap_or_else(|e| e.into_inner());
        match (&mut *stale, subject) {
            (Stale::All, _) => {}
            (Stale::Subjects(subjects), Some(_)) if subjects.len() >= MAX_STALE_SUBJECTS => *stale = Stale::All,
            (Stale::Subjects(subjects), Some(subject)) => {
                subjects.insert(subject.clone());
            }
            (stale, None) => *stale = Stale::All,
        }
    }

    /// What of the search index went stale since the last call; nothing is stale after it.
    pub(crate) fn take_search_stale(&self) -> Stale {
        let mut stale = self.search_stale.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *stale, Stale::Subjects(Default::default()))
    }

    /// The counts kept at `epoch`, if they were counted then and this instance misses no change.
    pub(crate) fn counts_at(&self, epoch: u64) -> Option<crate::Counts> {
        if self.blind.load(Ordering::Acquire) {
            return None;
        }
        let kept = *self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.filter(|(at, _)| *at == epoch).map(|(_, counts)| counts)
    }

    /// Keeps `counts`, counted at `epoch`, for [`Caches::counts_at`].
    pub(crate) fn keep_counts(&self, epoch: u64, counts: crate::Counts) {
        *self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((epoch, counts));
    }

    /// The count of commits that changed what a read can see; read it before a store read whose answer fills a
    /// cache, and hand it to [`Caches::fill`].
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// How many times an id has stopped being found.
    pub(crate) fn removals(&self) -> u64 {
        self.removals.load(Ordering::Acquire)
    }

    /// How many deletes and settings changes there have been, as it stands (moved by nothing but them).
    pub(crate) fn retracted(&self) -> u64 {
        self.retractions.load(Ordering::Acquire)
    }

    /// How many deletes and settings changes there have been. While blind (another instance's change may be
    /// missed) the count moves on every read, so no answer remembered with it is trusted later.
    pub(crate) fn retractions(&self) -> u64 {
        if self.blind.load(Ordering::Acquire) {
            return self.retractions.fetch_add(1, Ordering::AcqRel) + 1;
        }
        self.retractions.load(Ordering::Acquire)
    }

    /// Inserts an entry read at `epoch`, and takes it back if a write has committed since.
    pub(crate) fn fill<K, V>(&self, epoch: u64, cache: &Counted<K, V>, key: K, value: V)
    where
        K: Hash + Eq + Send + Sync + Clone + 'static,
        V: Clone + Send + Sync + 'static,
    {
        cache.insert(key.clone(), value);
        if self.epoch() != epoch {
            cache.invalidate(&key);
        }
    }

    /// What a committed change made stale, dropped: the one entry point for a change made here (after its
    /// commit) and for one made by another instance sharing the store (when its notice arrives).
    pub(crate) fn apply(&self, change: &Change) {
        match change {
            Change::Registered { subject } => self.after_register(subject),
            Change::Deleted { subject, touched, settings_gone } => self.after_delete(subject, touched, *settings_gone),
            Change::Config { scope } => self.after_config(scope),
            Change::Unknown => self.forget(),
        }
    }

    /// Drops every answer a write can make stale, and counts a removal and a retraction, for a change that
    /// cannot be named. Ids keep their meaning, so parsed trees, the text memo and validators stay.
    pub(crate) fn forget(&self) {
        self.stale_for_search(None);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.latest.invalidate_all();
        self.subject_fingerprints.invalidate_all();
        self.config.invalidate_all();
        self.schemas.invalidate_all();
        self.validators.invalidate_all();
        self.removals.fetch_add(1, Ordering::AcqRel);
        self.retractions.fetch_add(1, Ordering::AcqRel);
    }

    /// Turns the caches of answers another instance's write can make stale off (`true`: this instance may be
    /// missing changes from now on) or back on (`false`: it hears every change again).
    ///
    /// Going blind drops those answers; records by id stay, since ids never change meaning, so reads by id are
    /// still answered while the store is out of reach. Coming back drops everything, records by id included:
    /// a permanent delete may have been missed meanwhile.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn set_blind(&self, blind: bool) {
        let was = self.blind.swap(blind, Ordering::AcqRel);
        if !blind {
            self.forget();
        } else if !was {
            self.stale_for_search(None);
            self.epoch.fetch_add(1, Ordering::AcqRel);
            self.latest.invalidate_all();
            self.subject_fingerprints.invalidate_all();
            self.config.invalidate_all();
            self.retractions.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// A new version of `subject` has committed: its latest version changed. Called before anyone is answered,
    /// so a caller that stops waiting cannot leave a stale entry behind.
    fn after_register(&self, subject: &Subject) {
        self.stale_for_search(Some(subject));
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.latest.invalidate(subject);
    }

    /// The committer's new version of `subject` is its newest current one, `latest`: remembered as its latest
    /// version, unless the caches heard of any change but the `applied` registrations of its own batch since
    /// `epoch` was read, before that batch's commit (a delete or a state change committed after it, or another
    /// instance's registration, may have made `latest` stale already). Every change bumps the epoch before it drops
    /// the subject's latest: either the check below sees the bump, or the drop comes after the insert.
    pub(crate) fn newest_registered(&self, epoch: u64, applied: u64, subject: Subject, latest: Latest) {
        self.latest.insert(subject.clone(), latest);
        if self.epoch() != epoch + applied {
            self.latest.invalidate(&subject);
        }
    }

    /// What a committed registration teaches the caches, on the caller's side: the (subject, fingerprint) fast
    /// path (unless `key` is `None`), and when it wrote a new version, that version's tree (which the subject's
    /// next check reads) in place of the one it `superseded`. Its record does not go into the record cache: a bulk
    /// load would only push out what reads use there, and the first read by id fetches it.
    pub(crate) fn after_registered(
        &self,
        retractions: u64,
        key: Option<(Subject, Fingerprint)>,
        registered: &Registered,
        wrote: Option<(Arc<ParsedSchema>, Option<SchemaId>)>,
    ) {
        if let Some((parsed, superseded)) = wrote {
            if let Some(superseded) = superseded.filter(|id| *id != registered.id) {
                self.parsed.invalidate(&superseded);
            }
            self.parsed.insert(registered.id, parsed);
        }
        let Some(key) = key else { return };
        let value = (registered.version, registered.id, registered.semver);
        self.subject_fingerprints.insert(key.clone(), value);
        if self.retracted() != retractions {
            self.subject_fingerprints.invalidate(&key);
        }
    }

    /// A registration wrote `record`, a new schema's, and its caller is about to read it: it is kept, unless an id
    /// has stopped being found since `removals` was counted, before the registration was queued (its id can only
    /// be removed after that; a removal counts after it drops the cached record).
    pub(crate) fn record_registered(&self, removals: u64, record: Arc<StoredSchema>) {
        let id = record.id;
        self.schemas.insert(id, record);
        if self.removals() != removals {
            self.schemas.invalidate(&id);
        }
    }

    /// Versions of `subject` were deleted, soft or permanently, touching `touched`; with `settings_gone`, the
    /// subject's own settings went too (a permanent delete of the whole subject).
    fn after_delete(&self, subject: &Subject, touched: &[Touched], settings_gone: bool) {
        self.stale_for_search(Some(subject));
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.latest.invalidate(subject);
        if settings_gone {
            self.config.invalidate(subject.as_str());
        }
        for touched in touched {
            match touched.fingerprint {
                Some(fingerprint) => self.subject_fingerprints.invalidate(&(subject.clone(), fingerprint)),
                // Without the fingerprint the key cannot be named: drop the whole fast-path cache.
                None => self.subject_fingerprints.invalidate_all(),
            }
            if touched.orphaned {
                self.schemas.invalidate(&touched.id);
                self.validators.invalidate_id(touched.id);
            }
        }
        // After the caches: whoever reads the new count and then asks for an id sees it gone.
        if touched.iter().any(|touched| touched.orphaned) {
            self.removals.fetch_add(1, Ordering::AcqRel);
        }
        self.retractions.fetch_add(1, Ordering::AcqRel);
    }

    /// The settings of `scope` changed.
    fn after_config(&self, scope: &str) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.config.invalidate(scope);
        // After the cache: whoever reads the new count and then asks sees the new setting.
        self.retractions.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            schemas: self.schemas.counters(),
            parsed: self.parsed.counters(),
            text_fingerprints: self.text_fingerprints.counters(),
            subject_fingerprints: self.subject_fingerprints.counters(),
            latest: self.latest.counters(),
            validators: self.validators.counters(),
            validator_compiles: self.validators.compiles.load(Ordering::Relaxed),
        }
    }
}

/// Whether an entry of `weight` is heavy for a cache of `max`: a write that moka applies at its next maintenance
/// (the evictions it makes room with, or its own removal) is applied at once, since its memory is not given back
/// until then, and the next maintenance only comes with later traffic.
fn is_heavy(weight: u64, max: u64) -> bool {
    weight > max / 8
}

/// An entry's weight: its bytes plus a fixed overhead, saturated into moka's `u32`.
fn weight(bytes: usize) -> u32 {
    u32::try_from(bytes.saturating_add(128)).unwrap_or(u32::MAX)
}

/// A parsed schema's weight: its estimated memory (its tree, a Protobuf schema's descriptor pool), 8 to 48
/// times its canonical bytes.
fn parsed_weight(parsed: &Arc<ParsedSchema>) -> u32 {
    weight(parsed.memory_estimate())
}

/// The key of a compiled validator: a schema id and the options it was compiled with.
pub(crate) type ValidatorKey = (SchemaId, ValidateOptions);

/// Compiled validators, bounded by their estimated memory rather than by count, so a few huge schemas cannot
/// exhaust memory; concurrent first uses of one key compile it once.
pub(crate) struct Validators {
    cache: Cache<ValidatorKey, Arc<Validator>>,
    max_bytes: u64,
    hits: AtomicU64,
    misses: AtomicU64,
    compiles: AtomicU64,
}

impl Validators {
    fn new(max_bytes: u64) -> Self {
        let cache = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_key: &ValidatorKey, validator: &Arc<Validator>| {
                u32::try_from(validator.weight()).unwrap_or(u32::MAX)
            })
            .support_invalidation_closures()
            .build();
        Self { cache, max_bytes, hits: AtomicU64::new(0), misses: AtomicU64::new(0), compiles: AtomicU64::new(0) }
    }

    /// The validator for `key`, compiled by `compile` on a miss; callers missing at once share one compile.
    pub(crate) fn get_or_compile<E>(
        &self,
        key: ValidatorKey,
        compile: impl FnOnce() -> Result<Validator, E>,
    ) -> Result<Arc<Validator>, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        if let Some(found) = self.cache.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(found);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let validator = self.cache.try_get_with(key.clone(), || {
            self.compiles.fetch_add(1, Ordering::Relaxed);
            compile().map(Arc::new)
        })?;
        // One heavier than the whole cache is not kept, and one that is heavy is made room for at once (see
        // `Counted::insert`); its callers still share it.
        let weight = validator.weight() as u64;
        if weight > self.max_bytes {
            self.cache.invalidate(&key);
        }
        if is_heavy(weight, self.max_bytes) {
            self.cache.run_pending_tasks();
        }
        Ok(validator)
    }

    /// The validator for `key` if one is compiled (counted as a hit); never compiles.
    pub(crate) fn get(&self, key: &ValidatorKey) -> Option<Arc<Validator>> {
        let found = self.cache.get(key)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(found)
    }

    /// Drops every validator.
    pub(crate) fn invalidate_all(&self) {
        drop_each(&self.cache);
    }

    /// Drops every validator of schema `id`.
    pub(crate) fn invalidate_id(&self, id: SchemaId) {
        // Only fails when closures are not supported, and they are enabled in `new`.
        let _ = self.cache.invalidate_entries_if(move |key, _| key.0 == id);
    }

    fn counters(&self) -> CacheCounters {
        CacheCounters { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry_core::{Limits, NoReferences, SchemaType, UnparsedSchema};

    #[test]
    fn the_search_index_reads_again_what_changed_and_everything_past_a_bound() {
        let caches = Caches::new(&crate::RegistryOptions::default());
        let subject = |i: usize| Subject::new(&format!("s{i}")).expect("a subject");
        assert!(matches!(caches.take_search_stale(), Stale::All), "everything, to begin with");
        caches.apply(&Change::Registered { subject: subject(1) });
        caches.apply(&Change::Registered { subject: subject(1) });
        caches.apply(&Change::Config { scope: "s2".into() });
        match caches.take_search_stale() {
            Stale::Subjects(subjects) => assert_eq!(subjects, [subject(1)].into()),
            Stale::All => panic!("one subject changed"),
        }
        assert!(matches!(caches.take_search_stale(), Stale::Subjects(s) if s.is_empty()), "nothing since");
        for i in 0..=MAX_STALE_SUBJECTS {
            caches.apply(&Change::Registered { subject: subject(i) });
        }
        assert!(matches!(caches.take_search_stale(), Stale::All), "past the bound, everything");
        caches.apply(&Change::Unknown);
        assert!(matches!(caches.take_search_stale(), Stale::All), "an unknown change, everything");
    }

    #[test]
    fn a_registered_record_is_kept_only_if_no_id_was_removed_since_its_registration_was_queued() {
        let caches = Caches::new(&crate::RegistryOptions::default());
        let record = |id: u32| {
            Arc::new(StoredSchema::new(
                SchemaId(id),
                registry_core::SchemaType::Avro,
                "\"int\"".into(),
                Vec::new(),
                Fingerprint([7; 32]),
                Default::default(),
            ))
        };
        let before = caches.removals();
        caches.record_registered(before, record(1));
        assert_eq!(caches.schemas.get(&SchemaId(1)), Some(record(1)), "nothing removed: kept");
        let touched = [Touched { id: SchemaId(9), fingerprint: None, orphaned: true }];
        caches.apply(&Change::Deleted {
            subject: Subject::new("s").expect("a subject"),
            touched: touched.to_vec(),
            settings_gone: false,
        });
        caches.record_registered(before, record(2));
        assert_eq!(caches.schemas.get(&SchemaId(2)), None, "an id was removed meanwhile: not kept");
        caches.record_registered(caches.removals(), record(3));
        assert!(caches.schemas.get(&SchemaId(3)).is_some(), "counted after it: kept");
    }

    #[test]
    fn a_new_latest_is_kept_only_if_nothing_but_its_own_batch_changed_since_the_batch_began() {
        let caches = Caches::new(&crate::RegistryOptions::default());
        let (a, b) = (Subject::new("a").expect("a subject"), Subject::new("b").expect("a subject"));
        let latest = |version: u32| {
            Some((
                Version::new(version).unwrap(),
                SchemaId(version),
                SemVer::FIRST,
                crate::records::VersionState::Active,
            ))
        };
        let epoch = caches.epoch();
        // Two registrations in one batch, each applied before it is remembered.
        caches.apply(&Change::Registered { subject: a.clone() });
        caches.newest_registered(epoch, 1, a.clone(), latest(1));
        caches.apply(&Change::Registered { subject: b.clone() });
        caches.newest_registered(epoch, 2, b.clone(), latest(2));
        assert_eq!((caches.latest.get(&a), caches.latest.get(&b)), (Some(latest(1)), Some(latest(2))));
        // A delete heard meanwhile (here, before the second is remembered): that one is not kept.
        let epoch = caches.epoch();
        caches.apply(&Change::Registered { subject: a.clone() });
        caches.newest_registered(epoch, 1, a.clone(), latest(3));
        caches.apply(&Change::Deleted { subject: a.clone(), touched: Vec::new(), settings_gone: false });
        caches.apply(&Change::Registered { subject: b.clone() });
        caches.newest_registered(epoch, 2, b.clone(), latest(4));
        assert_eq!(caches.latest.get(&a), None, "the delete dropped it");
        assert_eq!(caches.latest.get(&b), None, "not kept: the epoch moved past its batch's own changes");
    }

    #[test]
    fn blind_caches_answer_nothing_that_another_instance_could_change_and_trust_no_remembered_answer() {
        let caches = Caches::new(&crate::RegistryOptions::default());
        let subject = Subject::new("s").expect("a subject");
        let record = Arc::new(StoredSchema::new(
            SchemaId(1),
            registry_core::SchemaType::Avro,
            "\"int\"".into(),
            Vec::new(),
            Fingerprint([7; 32]),
            Default::default(),
        ));
        caches.latest.insert(subject.clone(), None);
        caches.schemas.insert(SchemaId(1), record.clone());
        caches.set_blind(true);
        assert_eq!(caches.latest.get(&subject), None, "dropped, and off");
        caches.latest.insert(subject.clone(), None);
        assert_eq!(caches.latest.get(&subject), None, "nothing is kept while blind");
        assert!(caches.schemas.get(&SchemaId(1)).is_some(), "records by id stay: ids never change meaning");
        assert_ne!(caches.retractions(), caches.retractions(), "no remembered answer holds while blind");
        caches.set_blind(false);
        assert!(
            caches.schemas.get(&SchemaId(1)).is_none(),
            "back: everything is dropped, a delete may have been missed"
        );
        caches.latest.insert(subject.clone(), None);
        assert_eq!(caches.latest.get(&subject), Some(None), "and the caches are on again");
        assert_eq!(caches.retractions(), caches.retractions());
    }

    #[test]
    fn validators_are_bounded_by_weight_not_count() {
        let validators = Validators::new(10_000);
        let schema = UnparsedSchema::new(SchemaType::Json, r#"{"type":"object"}"#);
        let parsed = registry_core::parse(&schema, &NoReferences, &Limits::default()).expect("parse");
        let weight = Validator::compile(&parsed, &ValidateOptions::default()).expect("compile").weight() as u64;
        for id in 0..100 {
            let compiled = validators.get_or_compile((SchemaId(id), ValidateOptions::default()), || {
                Validator::compile(&parsed, &ValidateOptions::default())
            });
            assert!(compiled.is_ok());
        }
        validators.cache.run_pending_tasks();
        assert!(validators.cache.weighted_size() <= 10_000, "weighted size {}", validators.cache.weighted_size());
        assert!(validators.cache.entry_count() <= 10_000 / weight);
        assert_eq!(validators.compiles.load(Ordering::Relaxed), 100);
    }

    #[test]
    fn an_entry_heavier_than_its_whole_cache_is_not_held_until_a_maintenance_that_may_never_come() {
        let parsed: Counted<u32, Vec<u8>> = Counted::weighted(1_000, |_, value| value.len() as u32);
        parsed.insert(1, vec![0; 1_001]);
        parsed.insert(2, vec![0; 1_000]);
        assert!(parsed.cache.get(&1).is_none(), "heavier than the cache: not kept, not even until a maintenance");
        assert!(parsed.cache.get(&2).is_some(), "as heavy as the cache: kept");
        parsed.insert(3, vec![0; 500]);
        assert_eq!(parsed.cache.iter().count(), 1, "room made for a heavy entry (or it refused) at once, not later");

        let validators = Validators::new(10);
        let schema = UnparsedSchema::new(SchemaType::Json, r#"{"type":"object"}"#);
        let schema = registry_core::parse(&schema, &NoReferences, &Limits::default()).expect("parse");
        let key = (SchemaId(1), ValidateOptions::default());
        for _ in 0..2 {
            let compiled = validators.get_or_compile(key.clone(), || Validator::compile(&schema, &key.1));
            assert!(compiled.expect("compiles").weight() > 10);
            assert!(validators.cache.get(&key).is_none(), "heavier than the cache: handed out, not kept");
        }
        assert_eq!(validators.compiles.load(Ordering::Relaxed), 2);
    }
}
