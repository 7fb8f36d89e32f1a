//! Criterion benches of every hot path, with the physical ceilings measured in the same run: a raw moka get,
//! a raw redb point read, SHA-256 of the same bytes. `bench-report` prints each hot path as a ratio to its
//! ceiling.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use registry_benches::corpus;
use registry_core::compat::{self, CompatibilityLevel};
use registry_core::{Limits, NoReferences, SchemaType, Subject, VersionSelector};
use registry_store::{Deleted, Registry, RegistryOptions, Scope};
use sha2::{Digest, Sha256};

const FIELDS: usize = 20;
const FORMATS: [(SchemaType, &str); 3] =
    [(SchemaType::Avro, "avro"), (SchemaType::Json, "json"), (SchemaType::Protobuf, "protobuf")];

fn ceilings(c: &mut Criterion) {
    let text = corpus::schema(SchemaType::Avro, "Ceiling", FIELDS).text;
    let mut group = c.benchmark_group("ceiling");
    group.bench_function("sha256", |b| b.iter(|| Sha256::digest(black_box(text.as_bytes()))));

    let cache: moka::sync::Cache<u32, Arc<String>> = moka::sync::Cache::new(10_000);
    for id in 0..1000 {
        cache.insert(id, Arc::new(text.clone()));
    }
    group.bench_function("moka_get", |b| b.iter(|| cache.get(black_box(&500))));

    let dir = tempfile::tempdir().unwrap();
    let db = redb::Database::create(dir.path().join("raw.redb")).unwrap();
    let table: redb::TableDefinition<u32, &[u8]> = redb::TableDefinition::new("raw");
    let txn = db.begin_write().unwrap();
    {
        let mut t = txn.open_table(table).unwrap();
        for id in 0..1000u32 {
            t.insert(id, text.as_bytes()).unwrap();
        }
    }
    txn.commit().unwrap();
    group.bench_function("redb_point_read", |b| {
        b.iter(|| {
            use redb::ReadableDatabase;
            let txn = db.begin_read().unwrap();
            let t = txn.open_table(table).unwrap();
            let bytes = t.get(black_box(500)).unwrap().unwrap().value().to_vec();
            black_box(bytes)
        })
    });
    group.finish();
}

/// A registry holding one subject per format, each with two versions.
fn loaded(options: RegistryOptions, path: Option<&std::path::Path>) -> Registry {
    let registry = match path {
        Some(path) => Registry::open(path, options).unwrap(),
        None => Registry::in_memory(options).unwrap(),
    };
    for (schema_type, name) in FORMATS {
        let subject = Subject::new(&format!("{name}-value")).unwrap();
        registry.register(&subject, &corpus::schema(schema_type, "Event", FIELDS)).unwrap();
        registry.register(&subject, &corpus::evolved(schema_type, "Event", FIELDS)).unwrap();
    }
    registry
}

fn reads(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let registry = loaded(RegistryOptions::default(), Some(&dir.path().join("cached.redb")));
    let id = registry
        .version(&Subject::new("avro-value").unwrap(), VersionSelector::Latest, Deleted::Exclude)
        .unwrap()
        .schema
        .id;
    let mut group = c.benchmark_group("read");
    group.bench_function("schema_by_id_cached", |b| b.iter(|| registry.schema_by_id(black_box(id)).unwrap()));
    let subject = Subject::new("avro-value").unwrap();
    group.bench_function("version_latest_cached", |b| {
        b.iter(|| registry.version(black_box(&subject), VersionSelector::Latest, Deleted::Exclude).unwrap())
    });
    let uncached = loaded(
        RegistryOptions { schema_cache_bytes: 0, ..RegistryOptions::default() },
        Some(&dir.path().join("uncached.redb")),
    );
    group.bench_function("schema_by_id_uncached", |b| b.iter(|| uncached.schema_by_id(black_box(id)).unwrap()));
    group.finish();

    let mut group = c.benchmark_group("existing");
    for (schema_type, name) in FORMATS {
        let subject = Subject::new(&format!("{name}-value")).unwrap();
        let schema = corpus::evolved(schema_type, "Event", FIELDS);
        group.bench_function(format!("register_{name}"), |b| {
            b.iter(|| registry.register(&subject, black_box(&schema)).unwrap())
        });
        group.bench_function(format!("lookup_{name}"), |b| {
            b.iter(|| registry.lookup(&subject, black_box(&schema), Deleted::Exclude).unwrap())
        });
    }
    group.finish();
}

fn writes(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(dir.path().join("writes.redb"), RegistryOptions::default()).unwrap();
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let counter = AtomicU64::new(0);
    let mut group = c.benchmark_group("write");
    group.sample_size(30);
    group.bench_function("register_new_durable", |b| {
        b.iter_batched(
            || {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                (Subject::new(&format!("s{n}")).unwrap(), corpus::schema(SchemaType::Avro, &format!("E{n}"), FIELDS))
            },
            |(subject, schema)| registry.register(&subject, &schema).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn rules(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("parse");
    for (schema_type, name) in FORMATS {
        let schema = corpus::schema(schema_type, "Event", FIELDS);
        group.bench_function(name, |b| {
            b.iter(|| registry_core::parse(black_box(&schema), &NoReferences, &limits).unwrap())
        });
    }
    group.finish();
    let mut group = c.benchmark_group("compat");
    for (schema_type, name) in FORMATS {
        let old = registry_core::parse(&corpus::schema(schema_type, "Event", FIELDS), &NoReferences, &limits).unwrap();
        let new = registry_core::parse(&corpus::evolved(schema_type, "Event", FIELDS), &NoReferences, &limits).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let violations = compat::can_read(black_box(&new), black_box(&old)).unwrap();
                assert!(violations.is_empty());
                violations
            })
        });
    }
    group.finish();
}

fn validation(c: &mut Criterion) {
    let registry = loaded(RegistryOptions::default(), None);
    let mut group = c.benchmark_group("validate");
    for (schema_type, name) in FORMATS {
        let subject = Subject::new(&format!("{name}-value")).unwrap();
        let id = registry
            .version(&subject, VersionSelector::Number(registry_core::Version::FIRST), Deleted::Exclude)
            .unwrap()
            .schema
            .id;
        let document = corpus::document(schema_type, FIELDS);
        let report = registry.validate(id, &document).unwrap();
        assert!(report.valid, "{name}: the bench document must be valid: {:?}", report.errors);
        group.bench_function(name, |b| b.iter(|| registry.validate(id, black_box(&document)).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, ceilings, reads, writes, rules, validation);
criterion_main!(benches);
