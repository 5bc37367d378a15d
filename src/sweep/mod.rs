//! Parameter sweeps: a sweep file, its planned points, many runs in parallel or as a
//! Slurm job array, resumable, and one collected table.
//!
//! This layer sits above the run ([`crate::run::run`]): a sweep run is a normal run with
//! its own scenario text (the base file with the point's values set) and seed, and this
//! layer reads runs' output files back; it never reaches into the model.
//!
//! - [`spec`]: the sweep file as checked;
//! - [`params`]: parameter paths, checked against the scenario schema and the base file;
//! - [`sample`]: grid, random, Latin hypercube and Sobol' designs, and run seeds;
//! - [`plan`]: the planned sweep and the files `sweep plan` writes;
//! - [`runner`]: `sweep run`: a shard of the runs, in parallel, skipping finished ones;
//! - [`status`]: what is complete, failed, running or missing;
//! - [`collect`]: `runs`, `effects`, `summary` (CSV and/or Parquet), `timings.csv`, series;
//! - [`slurm`]: the job-array script and its submission.
//!
//! The layout of a sweep directory:
//!
//! ```text
//! DIR/sweep.toml  DIR/base.toml  DIR/points.csv         (sweep plan)
//! DIR/runs/point=P/replicate=R/                          complete runs only
//! DIR/runs/point=P/.replicate=R.partial-HOST-PID/        a run in progress (or killed)
//! DIR/failed/point=P/replicate=R/failure.json            why a run failed (and what it left)
//! DIR/slurm/sweep.sbatch  DIR/slurm/array.toml  DIR/slurm/logs/
//! DIR/{runs,effects,summary}.{csv,parquet}  DIR/timings.csv  DIR/series/   (sweep collect)
//! ```

pub mod collect;
pub mod params;
pub mod plan;
pub mod runner;
pub mod sample;
pub mod slurm;
pub mod spec;
pub mod status;

pub use plan::{Plan, RunId};
pub use spec::SpecError;

use crate::output::OutputError;
use crate::scenario::ScenarioError;
use std::path::{Path, PathBuf};

/// Why a sweep command could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The sweep file has problems (exit code 2).
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The base scenario has problems (exit code 2).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A bad option, directory or state (exit code 2); nothing was written.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written (exit code 1).
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// Some runs failed, or a tool the command calls did (exit code 1).
    #[error("{0}")]
    Failed(String),
}

impl SweepError {
    /// Whether the error is the user's input (exit code 2) rather than a failure (1).
    pub fn is_usage(&self) -> bool {
        matches!(self, SweepError::Spec(_) | SweepError::Scenario(_) | SweepError::Usage(_))
    }
}

impl From<OutputError> for SweepError {
    fn from(e: OutputError) -> SweepError {
        match e {
            OutputError::Io { path, source } => SweepError::Io { path, source },
            other => SweepError::Failed(other.to_string()),
        }
    }
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Io { path: path.to_path_buf(), source }
}

/// Where the runs of a sweep directory go.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    pub fn new(dir: &Path) -> Layout {
        Layout { dir: dir.to_path_buf() }
    }

    /// A complete run's directory.
    pub fn run_dir(&self, run: &RunId) -> PathBuf {
        self.dir.join("runs").join(run.dir_name())
    }

    /// The directory holding a point's runs (complete and in progress).
    pub fn point_dir(&self, run: &RunId) -> PathBuf {
        self.dir.join("runs").join(format!("point={}", run.point))
    }

    /// The name prefix of a run's temporary directories, in its point's directory.
    pub fn partial_prefix(run: &RunId) -> String {
        format!(".replicate={}.partial-", run.replicate)
    }

    /// A failed run's record.
    pub fn failed_dir(&self, run: &RunId) -> PathBuf {
        self.dir.join("failed").join(run.dir_name())
    }

    pub fn slurm_dir(&self) -> PathBuf {
        self.dir.join("slurm")
    }
}

pub use crate::output::manifest::host_name;
