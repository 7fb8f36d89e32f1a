//! `bench-report`: reads criterion's estimates from `target/criterion` after `cargo bench -p registry-benches
//! --bench hot_paths` and prints every hot path with its ceiling and the ratio between them, as Markdown.

use std::path::{Path, PathBuf};

/// (hot path, its ceiling, what the ratio means)
const PAIRS: &[(&str, &str, &str)] = &[
    ("read/schema_by_id_cached", "ceiling/moka_get", "cached get by id vs a raw moka get"),
    ("read/version_latest_cached", "ceiling/moka_get", "latest version vs a raw moka get"),
    ("read/schema_by_id_uncached", "ceiling/redb_point_read", "uncached get by id vs a raw redb read"),
    ("parse/avro", "ceiling/sha256", "Avro parse + canonical form + fingerprint vs SHA-256 alone"),
    ("parse/json", "ceiling/sha256", "JSON Schema parse + canonical form + fingerprint vs SHA-256 alone"),
    ("parse/protobuf", "ceiling/sha256", "Protobuf compile + canonical form + fingerprint vs SHA-256 alone"),
    ("existing/register_avro", "parse/avro", "register-existing (no write transaction) vs its parse"),
    ("existing/register_json", "parse/json", "register-existing (no write transaction) vs its parse"),
    ("existing/register_protobuf", "parse/protobuf", "register-existing (no write transaction) vs its parse"),
    ("existing/lookup_avro", "parse/avro", "lookup vs its parse"),
    ("write/register_new_durable", "ceiling/redb_point_read", "a new version, durably committed"),
    ("compat/avro", "ceiling/sha256", "Avro compatibility check, 20-field pair"),
    ("compat/json", "ceiling/sha256", "JSON Schema compatibility check, 20-field pair"),
    ("compat/protobuf", "ceiling/sha256", "Protobuf compatibility check, 20-field pair"),
    ("validate/avro", "ceiling/sha256", "Avro validation, cached validator"),
    ("validate/json", "ceiling/sha256", "JSON Schema validation, cached validator"),
    ("validate/protobuf", "ceiling/sha256", "Protobuf validation, cached validator"),
];

fn mean_ns(root: &Path, id: &str) -> Option<f64> {
    let path = root.join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["mean"]["point_estimate"].as_f64()
}

fn human(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion"));
    println!("| hot path | mean | ceiling | ceiling mean | ratio | what |");
    println!("|---|---|---|---|---|---|");
    let mut missing = 0;
    for (path, ceiling, what) in PAIRS {
        match (mean_ns(&root, path), mean_ns(&root, ceiling)) {
            (Some(hot), Some(base)) => {
                println!("| `{path}` | {} | `{ceiling}` | {} | {:.2}x | {what} |", human(hot), human(base), hot / base)
            }
            _ => missing += 1,
        }
    }
    if missing > 0 {
        eprintln!(
            "{missing} pairs had no estimates under {}: run `cargo bench -p registry-benches --bench hot_paths` first",
            root.display()
        );
    }
}
