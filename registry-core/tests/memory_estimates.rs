//! The memory estimates caches are bounded by ([`ParsedSchema::memory_estimate`], [`Validator::weight`]) stay
//! within a factor of two of what a counting allocator measures, for each format, 5- to 40-field schemas and the
//! widest that fit in 1 MiB. A cache weighed by a far-off estimate would hold many times its budget (the widest
//! JSON and Avro schemas weighed a third of their memory, and the caches held three times their budget of them).
//!
//! One test, run alone in this binary: the allocator counts every thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use registry_core::{Limits, NoReferences, SchemaType, UnparsedSchema, ValidateOptions, Validator};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call forwards to the system allocator unchanged; the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's layout contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc`/`realloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as for `dealloc`, and `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes still allocated after `make` returns, per item, over `count` items kept alive.
fn live_bytes_each<T>(count: usize, mut make: impl FnMut(usize) -> T) -> (usize, Vec<T>) {
    let before = LIVE.load(Ordering::Relaxed);
    let kept: Vec<T> = (0..count).map(&mut make).collect();
    let after = LIVE.load(Ordering::Relaxed);
    let vec_itself = count * std::mem::size_of::<T>();
    (((after - before) as usize).saturating_sub(vec_itself) / count, kept)
}

fn schema(schema_type: SchemaType, index: usize, fields: usize) -> UnparsedSchema {
    let kinds = [("long", "integer", "int64"), ("string", "string", "string"), ("double", "number", "double")];
    let text = match schema_type {
        SchemaType::Avro => {
            let fields: Vec<String> = (0..fields)
                .map(|i| {
                    let kind = kinds[i % kinds.len()].0;
                    format!(r#"{{"name":"field_{i}","type":"{kind}","doc":"Field {i} of the record, documented."}}"#)
                })
                .collect();
            format!(r#"{{"type":"record","name":"Event{index}","namespace":"m.e","fields":[{}]}}"#, fields.join(","))
        }
        SchemaType::Json => {
            let properties: Vec<String> = (0..fields)
                .map(|i| {
                    let kind = kinds[i % kinds.len()].1;
                    format!(r#""field_{i}":{{"type":"{kind}","description":"Field {i} of the object."}}"#)
                })
                .collect();
            format!(
                r#"{{"$schema":"http://json-schema.org/draft-07/schema#","title":"Event{index}","type":"object","properties":{{{}}},"required":["field_0"],"additionalProperties":false}}"#,
                properties.join(",")
            )
        }
        SchemaType::Protobuf => {
            let fields: Vec<String> = (0..fields)
                .map(|i| {
                    format!("  // Field {i} of the message.\n  {} field_{i} = {};", kinds[i % kinds.len()].2, i + 1)
                })
                .collect();
            format!("syntax = \"proto3\";\npackage m.e;\n\nmessage Event{index} {{\n{}\n}}\n", fields.join("\n"))
        }
    };
    UnparsedSchema::new(schema_type, text)
}

/// A schema of short fields (`f0`, `f1`, ... of one scalar type) as wide as fits in 1 MiB: the most fields, and
/// so the most memory, a schema within the default limits can have.
const WIDEST: usize = usize::MAX;

fn widest(schema_type: SchemaType, index: usize) -> UnparsedSchema {
    let (head, tail, separator) = match schema_type {
        SchemaType::Json => (format!(r#"{{"title":"W{index}","type":"object","properties":{{"#), "}}", ","),
        SchemaType::Avro => (format!(r#"{{"type":"record","name":"W{index}","fields":["#), "]}", ","),
        SchemaType::Protobuf => (format!("syntax = \"proto3\";\nmessage W{index} {{\n"), "\n}\n", "\n"),
    };
    let field = |i: usize| match schema_type {
        SchemaType::Json => format!(r#""f{i}":{{"type":"integer"}}"#),
        SchemaType::Avro => format!(r#"{{"name":"f{i}","type":"int"}}"#),
        // Field numbers 19000 to 19999 are reserved.
        SchemaType::Protobuf => format!("int32 f{i} = {};", if i < 18_999 { i + 1 } else { i + 1_001 }),
    };
    let mut text = head;
    for i in 0.. {
        let next = field(i);
        if text.len() + separator.len() + next.len() + tail.len() > Limits::default().max_schema_bytes {
            break;
        }
        if i > 0 {
            text.push_str(separator);
        }
        text.push_str(&next);
    }
    text.push_str(tail);
    UnparsedSchema::new(schema_type, text)
}

fn within_factor_two(estimate: usize, measured: usize) -> bool {
    estimate * 2 >= measured && estimate <= measured * 2
}

#[test]
fn cache_weights_track_measured_memory() {
    let limits = Limits::default();
    let options = ValidateOptions::default();
    let mut failures = Vec::new();
    for schema_type in [SchemaType::Json, SchemaType::Avro, SchemaType::Protobuf] {
        for fields in [5, 10, 20, 40, WIDEST] {
            let texts: Vec<UnparsedSchema> = match fields {
                WIDEST => vec![widest(schema_type, 0)],
                fields => (0..40).map(|i| schema(schema_type, i, fields)).collect(),
            };
            let fields = if fields == WIDEST { "the widest, of short".to_string() } else { fields.to_string() };

            // A new schema, parsed as registration does (a JSON Schema is compiled to check it, then dropped).
            let (parsed_measured, parsed) = live_bytes_each(texts.len(), |i| {
                registry_core::parse(&texts[i], &NoReferences, &limits).expect("the schema parses")
            });
            let estimate = parsed[0].memory_estimate();
            if !within_factor_two(estimate, parsed_measured) {
                failures.push(format!(
                    "{schema_type} {fields} fields, parsed: estimate {estimate}, measured {parsed_measured}"
                ));
            }

            // A validator over a stored schema: what it keeps alive once the parsed form is gone (evicted).
            let before = LIVE.load(Ordering::Relaxed);
            let stored: Vec<_> = texts
                .iter()
                .map(|t| registry_core::parse_stored(t, &NoReferences, &limits).expect("the schema parses"))
                .collect();
            let validators: Vec<Validator> =
                stored.iter().map(|s| Validator::compile(s, &options).expect("the validator compiles")).collect();
            drop(stored);
            let kept = LIVE.load(Ordering::Relaxed) - before;
            let measured = (kept as usize).saturating_sub(validators.capacity() * std::mem::size_of::<Validator>())
                / validators.len();
            let estimate = validators[0].weight();
            if !within_factor_two(estimate, measured) {
                failures.push(format!(
                    "{schema_type} {fields} fields, validator: estimate {estimate}, measured {measured}"
                ));
            }
            if std::env::var_os("SHOW_ESTIMATES").is_some() {
                eprintln!(
                    "{schema_type} {fields}: parsed {} / {}, validator {estimate} / {measured}",
                    parsed[0].memory_estimate(),
                    parsed_measured
                );
            }
            drop(validators);
            drop(parsed);
        }
    }
    assert!(failures.is_empty(), "estimates more than 2x off:\n{}", failures.join("\n"));
}
