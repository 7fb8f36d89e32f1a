//! Two schemas of one format through `compat::can_read`, both ways, and `diff::diff`: the first byte picks the format, the rest
//! splits at the first NUL byte (or in half) into the two texts. Whatever parses must compare without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use registry_core::{Limits, NoReferences, SchemaType, UnparsedSchema, compat};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let schema_type = SchemaType::ALL[usize::from(selector) % SchemaType::ALL.len()];
    let (first, second) = match rest.iter().position(|&b| b == 0) {
        Some(nul) => (&rest[..nul], &rest[nul + 1..]),
        None => rest.split_at(rest.len() / 2),
    };
    let limits = Limits::default();
    let parse = |text: &[u8]| {
        registry_core::parse(&UnparsedSchema::new(schema_type, String::from_utf8_lossy(text)), &NoReferences, &limits)
    };
    let (Ok(a), Ok(b)) = (parse(first), parse(second)) else { return };
    let _ = compat::can_read(&a, &b);
    let _ = compat::can_read(&b, &a);
    // The diff explainer walks both schemas and places both checks' verdicts: it must not panic either.
    if let Ok(explained) = registry_core::diff::diff(&a, &b) {
        assert_eq!(explained.differences.is_empty(), explained.bump == registry_core::diff::Bump::None);
    }
});
