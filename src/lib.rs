//! # tradesim
//!
//! An agent-based simulation of tariff wars. An ECS world (bevy_ecs) holds producers,
//! retailers, households, governments and shipments in transit; each weekly tick runs the
//! nine phases of [`schedule`] in order, with agents acting in parallel inside a phase.
//! Money is integer cents and is conserved exactly; outputs are byte-identical for the same
//! scenario and seed at any thread count.
//!
//! The entry points:
//! - [`scenario::load_file`] / [`scenario::parse`]: a TOML scenario, checked;
//! - [`engine::Simulation`]: build a world and step it tick by tick (no IO);
//! - [`run::run`]: a scenario and its counterfactual, streamed to CSV files, with effects;
//! - [`sweep`]: many runs over a design of parameter values, locally or as a Slurm array.

pub mod agents;
pub mod cache;
pub mod calendar;
pub mod checkpoint;
pub mod cli;
pub mod economy;
pub mod effects;
pub mod engine;
pub mod fuzz;
pub mod market;
pub mod metrics;
pub mod output;
pub mod profile;
pub mod report;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod sweep;
pub mod threads;
pub mod units;
pub mod world;

pub use engine::Simulation;
pub use scenario::{Scenario, ScenarioError};

/// The crate version, written into every manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
