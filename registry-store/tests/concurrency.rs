//! Sixteen threads registering overlapping schemas into overlapping subjects: afterwards every subject's
//! versions are 1..N with no gap or duplicate, every acknowledged registration reads back, and equal schemas
//! share one id.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaType, Subject, UnparsedSchema, VersionSelector};
use registry_store::{Deleted, Registry, RegistryOptions, Scope};

const THREADS: usize = 16;
const PER_THREAD: usize = 40;
const SUBJECTS: usize = 4;
const SCHEMAS: usize = 10;

fn schema(i: usize) -> UnparsedSchema {
    UnparsedSchema::new(
        SchemaType::Json,
        format!(r#"{{"type":"object","properties":{{"f{i}":{{"type":"integer"}}}}}}"#),
    )
}

#[test]
fn concurrent_registrations_keep_versions_dense_and_ids_shared() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path().join("registry.redb"), RegistryOptions::default()).unwrap();
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let acks = Arc::new(std::sync::Mutex::new(Vec::new()));
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let registry = registry.clone();
            let acks = acks.clone();
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    // A different walk per thread over the same subjects and schemas.
                    let s = (t * 7 + i * 3) % SUBJECTS;
                    let k = (t * 5 + i * 11) % SCHEMAS;
                    let subject = Subject::new(&format!("s{s}")).unwrap();
                    let registered = registry.register(&subject, &schema(k)).unwrap();
                    acks.lock().unwrap().push((subject, k, registered));
                }
            });
        }
    });
    let acks = acks.lock().unwrap();
    assert_eq!(acks.len(), THREADS * PER_THREAD);

    let mut id_of_schema = BTreeMap::new();
    for (subject, k, registered) in acks.iter() {
        let id = *id_of_schema.entry(*k).or_insert(registered.id);
        assert_eq!(id, registered.id, "schema {k} got two ids");
        let read = registry.version(subject, VersionSelector::Number(registered.version), Deleted::Exclude).unwrap();
        assert_eq!(read.schema.id, registered.id, "acknowledged {subject} v{} does not read back", registered.version);
    }
    let distinct_ids: BTreeSet<_> = id_of_schema.values().collect();
    assert_eq!(distinct_ids.len(), id_of_schema.len(), "two schemas share an id");

    for s in 0..SUBJECTS {
        let subject = Subject::new(&format!("s{s}")).unwrap();
        let versions = registry.versions(&subject, Deleted::Include).unwrap();
        let expected: Vec<u32> = (1..=versions.len() as u32).collect();
        assert_eq!(versions.iter().map(|v| v.get()).collect::<Vec<_>>(), expected, "{subject} has gaps");
        let mut seen = BTreeSet::new();
        for v in versions {
            let id = registry.version(&subject, VersionSelector::Number(v), Deleted::Exclude).unwrap().schema.id;
            assert!(seen.insert(id), "{subject} holds id {id} twice");
        }
        let acked: BTreeSet<_> = acks.iter().filter(|(sub, ..)| *sub == subject).map(|(_, _, r)| r.id).collect();
        assert_eq!(acked, seen, "{subject}: stored ids differ from acknowledged ids");
    }
}

#[test]
fn a_thousand_concurrent_misses_for_one_id_read_the_store_once() {
    const CALLERS: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    let id = {
        let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
        registry.register(&Subject::new("s").unwrap(), &schema(0)).unwrap().id
    };
    // Reopened: every cache is cold.
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    let barrier = std::sync::Barrier::new(CALLERS);
    std::thread::scope(|scope| {
        for _ in 0..CALLERS {
            scope.spawn(|| {
                barrier.wait();
                assert_eq!(registry.schema_by_id(id).unwrap().id, id);
            });
        }
    });
    let stats = registry.stats().schemas;
    assert_eq!(stats.misses, 1, "one store read for {CALLERS} concurrent misses: {stats:?}");
    assert_eq!(stats.hits + stats.misses, CALLERS as u64);
}
