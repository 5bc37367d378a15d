//! The integration tests, in one binary (one link of the engine instead of one per file).
//!
//! - `conservation`: money conserved exactly, goods balanced, over whole runs;
//! - `determinism`: byte-identical outputs for any thread count and for repeated runs;
//! - `extreme`: extreme worlds (embargoes, 10,000% tariffs, empty regions, one firm, one
//!   household, large imbalances, weekly tariff changes, a thousand events, rule ping-pong);
//! - `fuzz_regressions`: every input the fuzzer crashed on, and its seed corpus, now returns;
//! - `golden`: the flagship's outputs are the ones recorded in `tests/golden/`;
//! - `mechanisms`: one test per mechanism on a tiny three-region world;
//! - `parquet`: Parquet series hold the CSVs' values, typed, with the run's metadata;
//! - `resume`: a run stopped anywhere (a signal, a crash) and resumed writes the same bytes;
//! - `report`: charts and the report page of any run, from CSV or Parquet, in a headless browser;
//! - `stylized`: the 2025 tariff war's stylized facts on the flagship at reduced scale;
//! - `bad_input`: every kind of bad input gets its error; nonsense runs without panics;
//! - `sweeps`: sweeps plan, run, resume, fail and collect the same bytes however they ran.

mod bad_input;
mod common;
mod conservation;
mod determinism;
mod extreme;
mod fuzz_regressions;
mod golden;
mod mechanisms;
mod parquet;
mod report;
mod resume;
mod stylized;
mod sweeps;
