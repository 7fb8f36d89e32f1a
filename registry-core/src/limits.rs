//! `Limits`: the bounds that turn hostile input into typed errors instead of crashes.

/// Bounds on what a schema may be. The defaults suit a production registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest schema text accepted, in bytes (default 1 MiB).
    pub max_schema_bytes: usize,
    /// Deepest nesting of objects, arrays or blocks in a schema text (default 64).
    pub max_depth: usize,
    /// Longest chain of references, schema to reference to reference (default 16).
    pub max_reference_depth: usize,
    /// Most schemas one schema may pull in through references, transitively (default 256).
    pub max_references: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_schema_bytes: 1 << 20, max_depth: 64, max_reference_depth: 16, max_references: 256 }
    }
}
