//! Sixteen threads registering overlapping schemas into overlapping subjects: afterwards every subject's
//! versions are 1..N with no gap or duplicate, every acknowledged registration reads back, and equal schemas
//! share one id. Two racing registrations that are each compatible with the subject but not with each other
//! never both land.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaType, Subject, UnparsedSchema, VersionSelector};
use registry_store::{Deleted, Registry, RegistryOptions, Scope};

mod support;

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
    for backend in support::backends() {
        // Two instances on PostgreSQL, as two servers sharing it; one registry on the embedded store.
        registrations_keep_versions_dense_and_ids_shared(&backend.instances(2, RegistryOptions::default()));
    }
}

fn registrations_keep_versions_dense_and_ids_shared(instances: &[Registry]) {
    let registry = &instances[0];
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let acks = Arc::new(std::sync::Mutex::new(Vec::new()));
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let registry = instances[t % instances.len()].clone();
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
        for registry in instances {
            let read =
                registry.version(subject, VersionSelector::Number(registered.version), Deleted::Exclude).unwrap();
            assert_eq!(read.schema.id, registered.id, "acknowledged {subject} v{} reads back", registered.version);
        }
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

fn avro(text: &str) -> UnparsedSchema {
    UnparsedSchema::new(SchemaType::Avro, text.to_string())
}

#[test]
fn racing_registrations_are_checked_against_what_committed_first() {
    // Each of `widened` and `retyped` is backward compatible with v1, but not with each other: `retyped` reads
    // `b` as a string where `widened` wrote an int. Their checks may both run against v1 before either commits;
    // the second to commit must be checked again against the first, and refused.
    let v1 = avro(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#);
    let widened = avro(
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}"#,
    );
    let retyped = avro(
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":""}]}"#,
    );
    for backend in support::backends() {
        racing_registrations_are_checked_again(
            &backend.instances(2, RegistryOptions::default()),
            [&widened, &retyped],
            &v1,
        );
    }
}

fn racing_registrations_are_checked_again(instances: &[Registry], racers: [&UnparsedSchema; 2], v1: &UnparsedSchema) {
    let registry = &instances[0];
    registry.set_config(Scope::Global, CompatibilityLevel::Backward).unwrap();
    for round in 0..40 {
        let subject = Subject::new(&format!("race-{round}")).unwrap();
        registry.register(&subject, v1).unwrap();
        let barrier = std::sync::Barrier::new(2);
        let outcomes: Vec<bool> = std::thread::scope(|scope| {
            let racers: Vec<_> = racers
                .into_iter()
                .zip(instances.iter().cycle())
                .map(|(candidate, registry)| {
                    let (registry, subject, barrier) = (registry.clone(), subject.clone(), &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        match registry.register(&subject, candidate) {
                            Ok(_) => true,
                            Err(registry_store::RegistryError::Incompatible { .. }) => false,
                            Err(other) => panic!("round {round}: unexpected {other}"),
                        }
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "round {round}: accepted {outcomes:?}");
        let versions = registry.versions(&subject, Deleted::Exclude).unwrap();
        assert_eq!(versions.len(), 2, "round {round}: {versions:?}");
    }
}

/// Drives `future` to completion on this thread, parking between polls; counts the wake-ups it got.
fn block_on<F: std::future::Future>(future: F) -> (F::Output, usize) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    struct Unpark(std::thread::Thread, AtomicUsize);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.unpark();
        }
    }
    let unpark = Arc::new(Unpark(std::thread::current(), AtomicUsize::new(0)));
    let waker = Waker::from(unpark.clone());
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return (output, unpark.1.load(Ordering::SeqCst));
        }
        std::thread::park();
    }
}

#[test]
fn one_thread_keeps_many_registrations_in_flight_and_every_answered_one_is_durable() {
    const IN_FLIGHT: usize = 120;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    let mut answered = Vec::new();
    {
        let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
        registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
        // All queued before any is awaited: the blocking `register` could hold only one at a time.
        let started: Vec<_> = (0..IN_FLIGHT)
            .map(|i| {
                let subject = Subject::new(&format!("s{}", i % 8)).unwrap();
                let pending = registry.begin_register(&subject, &schema(i), Default::default()).unwrap();
                (subject, pending)
            })
            .collect();
        let mut woken = 0;
        for (subject, pending) in started {
            let (registered, wakes) = block_on(pending);
            woken += wakes;
            answered.push((subject, registered.unwrap()));
        }
        // Whatever was still committing when awaited was woken by its commit, not found by spinning.
        assert!(woken <= IN_FLIGHT, "{woken} wake-ups for {IN_FLIGHT} registrations");
        assert!(answered.iter().all(|(_, r)| !r.deduplicated));
        // A repeat is answered from the caches: already resolved, never woken.
        let (subject, first) = &answered[0];
        let (again, wakes) = block_on(registry.begin_register(subject, &schema(0), Default::default()).unwrap());
        assert_eq!((again.unwrap().id, wakes), (first.id, 0));
    }
    let reopened = Registry::open(&path, RegistryOptions::default()).unwrap();
    for (subject, registered) in &answered {
        let read = reopened.version(subject, VersionSelector::Number(registered.version), Deleted::Exclude).unwrap();
        assert_eq!(read.schema.id, registered.id, "{subject} v{} is gone after reopening", registered.version);
    }
    let versions: usize = (0..8)
        .map(|s| reopened.versions(&Subject::new(&format!("s{s}")).unwrap(), Deleted::Exclude).unwrap().len())
        .sum();
    assert_eq!(versions, IN_FLIGHT);
}

/// Registrations that leave out their metadata take the newest version's, racing registrations that set it: each
/// version without metadata of its own holds exactly the metadata of the version before it, whichever landed first,
/// on one instance or on two sharing a database.
#[test]
fn a_registration_inherits_the_metadata_of_the_version_it_follows() {
    for backend in support::backends() {
        inheritance_follows_the_newest_version(&backend.instances(2, RegistryOptions::default()));
    }
}

fn inheritance_follows_the_newest_version(instances: &[Registry]) {
    use registry_core::contract::{DataContract, Metadata};
    const PER_WRITER: usize = 15;
    let registry = &instances[0];
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let subject = Subject::new("inherits").unwrap();
    let record = |name: String| {
        UnparsedSchema::new(SchemaType::Avro, format!(r#"{{"type":"record","name":"{name}","fields":[]}}"#))
    };
    let owned = |owner: String| {
        let metadata = Metadata { properties: [("owner".to_string(), owner)].into(), ..Metadata::default() };
        DataContract { metadata: Some(metadata), rule_set: None }
    };
    registry.register(&subject, &record("First".into()).with_contract(owned("first".into()))).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (registry, subject) = (&instances[t % instances.len()], &subject);
            scope.spawn(move || {
                for i in 0..PER_WRITER {
                    let schema = if t == 0 {
                        record(format!("Owned{i}")).with_contract(owned(format!("owner-{i}")))
                    } else {
                        record(format!("Plain{t}x{i}"))
                    };
                    registry.register(subject, &schema).expect("every registration lands, retried if need be");
                }
            });
        }
    });
    let versions = registry.versions(&subject, Deleted::Exclude).unwrap();
    assert_eq!(versions.len(), 1 + 4 * PER_WRITER, "every registration made a version");
    let mut previous: Option<Metadata> = None;
    for version in versions {
        let found = registry.version(&subject, VersionSelector::Number(version), Deleted::Exclude).unwrap();
        let metadata = found.schema.contract.metadata.clone();
        if found.schema.text.contains("Plain") {
            assert_eq!(metadata, previous, "version {version} inherits from version {}", version.get() - 1);
        }
        previous = metadata;
    }
}
