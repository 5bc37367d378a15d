//! The mechanisms of the tick, one module per phase (see `schedule.rs` for the order).

pub mod customs;
pub mod demand;
pub mod finance;
pub mod income;
pub mod labour;
pub mod matching;
pub mod ordering;
pub mod policy;
pub mod pricing;
pub mod production;
