//! The reference registry's conformance data (`../shared/conformance/` next to the workspace, never copied into
//! the project), read by the tests of more than one crate (`#[path]`-included): a missing file fails under CI
//! (`CI=true`), where the data is expected, and is skipped elsewhere, with a line saying so.

use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;

/// Whether this run is CI's (`CI=true`, as CI services set it), where missing data is an error, not a skip.
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value.eq_ignore_ascii_case("true"))
}

/// The cases of one conformance file, or `None` (after saying so) when the file is not there and this is not CI.
pub fn load_cases(file: &str) -> Option<Vec<Value>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance").join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(
            !on_ci(),
            "conformance data {} not found, and CI=true: CI must run the conformance cases",
            path.display()
        );
        // Straight to stderr: `println!` is captured for a passing test, and a skip must not pass unseen.
        let _ = writeln!(
            std::io::stderr(),
            "conformance: SKIPPED {file}: {} not found (with CI=true this fails)",
            path.display()
        );
        return None;
    };
    match serde_json::from_str(&text) {
        Ok(Value::Array(cases)) => Some(cases),
        other => panic!("{} is not a JSON array: {other:?}", path.display()),
    }
}
