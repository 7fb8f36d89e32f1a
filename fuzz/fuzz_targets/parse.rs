//! Any bytes through `registry_core::parse`: the first byte picks the format (its high bit: normalized), the rest
//! is the schema text. Parsing is total, so this must never panic, overflow the stack or hang; it may only return
//! `Ok` or `Err`. A schema that parses has a stored text (Confluent's canonical text for Avro and JSON Schema, its
//! printing of a Protobuf file) that parses again as the same schema; a Protobuf stored text is its own printing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use registry_core::{Limits, NoReferences, SchemaType, UnparsedSchema};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else { return };
    let schema_type = SchemaType::ALL[usize::from(selector & 0x7f) % SchemaType::ALL.len()];
    let normalize = selector & 0x80 != 0;
    let schema = UnparsedSchema::new(schema_type, String::from_utf8_lossy(text)).normalized(normalize);
    let Ok(parsed) = registry_core::parse(&schema, &NoReferences, &Limits::default()) else { return };
    // A Protobuf text is not normalized itself: its identity is, each time it is read.
    let protobuf = schema_type == SchemaType::Protobuf;
    let stored = UnparsedSchema::new(schema_type, parsed.text()).normalized(protobuf && normalize);
    match registry_core::parse(&stored, &NoReferences, &Limits::default()) {
        Ok(again) => {
            assert_eq!(
                again.fingerprint(),
                parsed.fingerprint(),
                "the stored text is another schema: {} then {}",
                parsed.text(),
                again.text()
            );
            if protobuf {
                assert_eq!(again.text(), parsed.text(), "the stored text is not its own printing");
            }
        }
        Err(e) => panic!("the stored text {} is refused: {e}", parsed.text()),
    }
});
