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
    Complete,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Timings {
    pub build_seconds: f64,
    pub scenario_seconds: f64,
    pub counterfactual_seconds: f64,
    pub total_seconds: f64,
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
