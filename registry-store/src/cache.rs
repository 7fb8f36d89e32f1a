//! The moka caches and their hit/miss counters. Caches hold immutable records, or are updated in the code
//! path that commits; redb stays the source of truth.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use moka::sync::Cache;
use registry_core::{Fingerprint, ParsedSchema, SchemaId, Subject, Version};

use crate::records::{SemVer, StoredSchema};

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
    /// (subject, fingerprint) -> version: the register-existing and lookup fast path.
    pub subject_fingerprints: CacheCounters,
    /// subject -> latest live version.
    pub latest: CacheCounters,
}

/// A moka cache that counts its hits and misses.
pub(crate) struct Counted<K, V> {
    cache: Cache<K, V>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> Counted<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(capacity: u64) -> Self {
        Self { cache: Cache::new(capacity), hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let found = self.cache.get(key);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        self.cache.insert(key, value);
    }

    pub(crate) fn invalidate(&self, key: &K) {
        self.cache.invalidate(key);
    }

    pub(crate) fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    fn counters(&self) -> CacheCounters {
        CacheCounters { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed) }
    }
}

/// The latest live version of a subject and its schema id.
pub(crate) type Latest = Option<(Version, SchemaId, SemVer)>;

pub(crate) struct Caches {
    pub schemas: Counted<SchemaId, Arc<StoredSchema>>,
    pub parsed: Counted<SchemaId, Arc<ParsedSchema>>,
    pub subject_fingerprints: Counted<(Subject, Fingerprint), (Version, SchemaId, SemVer)>,
    pub latest: Counted<Subject, Latest>,
}

impl Caches {
    pub(crate) fn new(capacity: u64) -> Self {
        Self {
            schemas: Counted::new(capacity),
            parsed: Counted::new(capacity),
            subject_fingerprints: Counted::new(capacity),
            latest: Counted::new(capacity),
        }
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            schemas: self.schemas.counters(),
            parsed: self.parsed.counters(),
            subject_fingerprints: self.subject_fingerprints.counters(),
            latest: self.latest.counters(),
        }
    }
}
