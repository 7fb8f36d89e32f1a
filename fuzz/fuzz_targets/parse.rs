//! Any bytes through `registry_core::parse`: the first byte picks the format (its high bit: normalized), the rest
//! is the schema text. Parsing is total, so this must never panic, overflow the stack or hang; it may only return
//! `Ok` or `Err`. A schema that parses has a stored text (Confluent's canonical text for Avro and JSON Schema) that
//! parses again as the same schema.

#![no_main]

use libfuzzer_sys::fuzz_target;
use registry_core::{Limits, NoReferences, SchemaType, UnparsedSchema};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else { return };
    let schema_type = SchemaType::ALL[usize::from(selector & 0x7f) % SchemaType::ALL.len()];
    let normalize = selector & 0x80 != 0;
    let schema = UnparsedSchema::new(schema_type, String::from_utf8_lossy(text)).normalized(normalize);
    let Ok(parsed) = registry_core::parse(&schema, &NoReferences, &Limits::default()) else { return };
    if schema_type == SchemaType::Protobuf {
        return;
    }
    let stored = UnparsedSchema::new(schema_type, parsed.text());
    match registry_core::parse(&stored, &NoReferences, &Limits::default()) {
        Ok(again) => assert_eq!(
            again.fingerprint(),
            parsed.fingerprint(),
            "the stored text is another schema: {} then {}",
            parsed.text(),
            again.text()
        ),
        Err(e) => panic!("the stored text {} is refused: {e}", parsed.text()),
    }
});
