//! benches

pub mod load;
