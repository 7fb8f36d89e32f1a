//! `registry-open`: how long opening a large store takes. Fills a store with `--schemas` schemas (through the
//! library, many writer threads so group commit batches them), closes it, then times `Registry::open` and the
//! first read.
//!
//!   cargo run --release -p registry-benches --bin registry-open -- --schemas 100000

use std::time::Instant;

use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaId, SchemaType, Subject, UnparsedSchema};
use registry_store::{Registry, RegistryOptions, Scope};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number")))
        .unwrap_or(default)
}

fn main() {
    let schemas = arg("--schemas", 100_000);
    let threads = arg("--threads", 64);
    // --corpus: 20-field bench schemas (JSON Schema, about 2.5 KB) instead of tiny Avro records.
    let corpus = std::env::args().any(|a| a == "--corpus");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("registry.redb");
    let started = Instant::now();
    {
        let registry = Registry::open(&path, RegistryOptions::default()).expect("open");
        registry.set_config(Scope::Global, CompatibilityLevel::None).expect("config");
        std::thread::scope(|scope| {
            for t in 0..threads {
                let registry = registry.clone();
                scope.spawn(move || {
                    for i in (t..schemas).step_by(threads) {
                        // Five versions per subject, as a real registry holds.
                        let subject = Subject::new(&format!("subject-{}", i / 5)).expect("subject");
                        let schema = if corpus {
                            registry_benches::corpus::schema(SchemaType::Json, &format!("E{i}"), 20)
                        } else {
                            UnparsedSchema::new(
                                SchemaType::Avro,
                                format!(
                                    r#"{{"type":"record","name":"R{i}","fields":[{{"name":"id","type":"long"}},{{"name":"f{i}","type":"string","default":""}}]}}"#
                                ),
                            )
                        };
                        registry.register(&subject, &schema).expect("register");
                    }
                });
            }
        });
        let stats = registry.commit_stats();
        let elapsed = started.elapsed();
        println!(
            "filled {schemas} schemas in {:.1} s ({:.0} registrations/s, {} commits, {:.1} per commit)",
            elapsed.as_secs_f64(),
            schemas as f64 / elapsed.as_secs_f64(),
            stats.commits,
            stats.jobs as f64 / stats.commits.max(1) as f64
        );
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    let registry = Registry::open(&path, RegistryOptions::default()).expect("reopen");
    let opened = started.elapsed();
    let schema = registry.schema_by_id(SchemaId(schemas as u32 / 2)).expect("a read after opening");
    let first_read = started.elapsed();
    assert!(!schema.text.is_empty());
    println!(
        "opened a {:.1} MiB store with {schemas} schemas in {:.2} ms; first read after {:.2} ms",
        size as f64 / (1 << 20) as f64,
        opened.as_secs_f64() * 1e3,
        first_read.as_secs_f64() * 1e3
    );
}
