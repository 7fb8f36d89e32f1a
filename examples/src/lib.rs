//! Runnable examples of the registry; see `examples/*.rs`.
