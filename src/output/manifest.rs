//! `manifest.json`: what was run, how, how long it took, whether it finished, and the
//! worst money and goods residuals.

use crate::metrics::ledger::Residuals;
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Failed,
    /// Stopped by a signal between two ticks; `interrupted` says where, and whether a
    /// checkpoint to resume from was written.
    Interrupted,
    Complete,
}

/// Where an interrupted run stopped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Interruption {
    /// `scenario` or `counterfactual`.
    pub run: crate::effects::Run,
    /// The ticks of that run done.
    pub tick: u32,
    /// The checkpoint to resume from (relative to the run directory), if one was written.
    pub checkpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Timings {
    pub build_seconds: f64,
    pub scenario_seconds: f64,
    pub counterfactual_seconds: f64,
    pub total_seconds: f64,
    /// Checkpoints written (`--checkpoint-every`, a signal) and the time spent writing them
    /// (capturing the state, encoding it, writing and syncing the file).
    #[serde(default)]
    pub checkpoints: u32,
    #[serde(default)]
    pub checkpoint_seconds: f64,
    /// The size of the last checkpoint written, bytes.
    #[serde(default)]
    pub checkpoint_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunResiduals {
    pub scenario: Residuals,
    pub counterfactual: Option<Residuals>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub tradesim_version: String,
    pub git_commit: Option<String>,
    /// The machine that ran it.
    pub host: String,
    pub status: RunStatus,
    pub error: Option<String>,
    /// Where a run stopped by a signal stopped (`status: interrupted`).
    pub interrupted: Option<Interruption>,
    /// `--checkpoint-every`: weeks between checkpoints (of each world).
    pub checkpoint_every: Option<u32>,
    /// How many times the run was resumed from a checkpoint.
    pub resumed: u32,
    pub scenario_name: String,
    pub scenario_source: String,
    pub scenario_hash: String,
    pub seed: u64,
    pub threads: usize,
    pub ticks: u32,
    pub start_date: String,
    pub end_date: String,
    pub scale: f64,
    pub counterfactual: bool,
    pub first_policy_tick: Option<u32>,
    pub agents: AgentCounts,
    pub timings: Timings,
    pub residuals: Option<RunResiduals>,
    /// The calibrated base period, by region.
    pub calibration: Vec<crate::engine::RegionCalibration>,
    /// Time per phase, output writing and peak memory (what `--profile` prints).
    pub profile: Option<crate::profile::RunProfile>,
    pub files: Vec<String>,
    pub scenario: Scenario,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentCounts {
    pub households: u64,
    pub producers: u64,
    pub retailers: u64,
    pub governments: u64,
}

/// True when `path` is a manifest of a finished run.
pub fn is_complete(path: &Path) -> bool {
    #[derive(Deserialize)]
    struct Status {
        status: RunStatus,
    }
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Status>(&t).ok())
        .is_some_and(|s| s.status == RunStatus::Complete)
}

/// This machine's name, as manifests and a sweep's records give it.
pub fn host_name() -> String {
    let name = gethostname::gethostname().to_string_lossy().to_string();
    if name.is_empty() { "unknown".into() } else { name }
}

/// The commit the binary was built from, when git knew it at build time.
pub fn git_commit() -> Option<String> {
    option_env!("TRADESIM_GIT_COMMIT").filter(|s| !s.is_empty()).map(str::to_string)
}
