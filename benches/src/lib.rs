//! Benchmarks of the registry: criterion benches of the hot paths (`benches/`), their ceilings, and the
//! HTTP load generator (`registry-load`). This library holds what they share.

pub mod corpus;
pub mod load;
