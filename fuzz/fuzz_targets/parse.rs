//! Any bytes through `registry_core::parse`: the first byte picks the format, the rest is the schema text.
//! Parsing is total, so this must never panic, overflow the stack or hang; it may only return `Ok` or `Err`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use registry_core::{Limits, NoReferences, SchemaType, UnparsedSchema};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else { return };
    let schema_type = SchemaType::ALL[usize::from(selector) % SchemaType::ALL.len()];
    let schema = UnparsedSchema::new(schema_type, String::from_utf8_lossy(text));
    let _ = registry_core::parse(&schema, &NoReferences, &Limits::default());
});
