//! `registry-load`, the HTTP load generator: a corpus of realistic schemas, an open-loop (fixed rate,
//! coordinated omission corrected) and a closed-loop engine over a lean hyper HTTP/1.1 client, the scenario
//! presets, and the reports. Sends traffic to loopback addresses only, and every loop stops by itself.
//! The binary is `src/main.rs`; this library holds everything it uses.

pub mod client;
pub mod cores;
pub mod corpus;
pub mod engine;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod server;
pub mod workload;
