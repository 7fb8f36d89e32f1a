//! Benchmarks of the registry: criterion benches of the hot paths (`benches/`), their ceilings, the report over
//! them (`bench-report`) and the in-process fill (`registry-open`). This library holds the corpus they share. The
//! HTTP load generator is its own crate, `registry-load` (`load/`).

pub mod corpus;
