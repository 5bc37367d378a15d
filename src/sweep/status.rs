//! What a sweep directory holds: each run complete, failed, running or missing, and which
//! shards (array tasks) still have work.

use super::plan::{Plan, RunId};
use super::runner::Shard;
use super::{Layout, SweepError, host_name, io_error};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Where a run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Its directory is in place and its manifest says complete.
    Complete,
    /// Its last attempt failed, for this reason.
    Failed(String),
    /// A process is working on it: on this machine (alive), or on another (where its
    /// temporary directory says; a task killed there looks the same until it is redone).
    Running { host: String, pid: u32 },
    /// Not done, or only left half-written by a process that is gone.
    Missing,
}

impl RunState {
    pub fn name(&self) -> &'static str {
        match self {
            RunState::Complete => "complete",
            RunState::Failed(_) => "failed",
            RunState::Running { .. } => "running",
            RunState::Missing => "missing",
        }
    }
}

/// What `failure.json` in a failed run's record holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub point: usize,
    pub replicate: u32,
    pub seed: u64,
    pub error: String,
    pub host: String,
}

/// A run's temporary directory: `.replicate=R.partial-HOST-PID` in its point's directory.
#[derive(Debug, Clone)]
pub struct Partial {
    pub path: PathBuf,
    pub host: String,
    pub pid: u32,
}

impl Partial {
    /// Whether the process that made it still runs: known on this machine only.
    pub fn alive(&self, this_host: &str) -> Option<bool> {
        (self.host == this_host).then(|| Path::new(&format!("/proc/{}", self.pid)).exists())
    }

    /// Whether it may be another process's work in progress (so not to be removed).
    pub fn maybe_running(&self, this_host: &str) -> bool {
        self.alive(this_host).unwrap_or(true) && !(self.host == this_host && self.pid == std::process::id())
    }
}

/// The temporary directories of `run`.
pub fn partials(layout: &Layout, run: &RunId) -> Vec<Partial> {
    let prefix = Layout::partial_prefix(run);
    let Ok(entries) = std::fs::read_dir(layout.point_dir(run)) else { return Vec::new() };
    let mut out: Vec<Partial> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let owner = name.strip_prefix(&prefix)?;
            let (host, pid) = owner.rsplit_once('-')?;
            Some(Partial { path: e.path(), host: host.to_string(), pid: pid.parse().ok()? })
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Whether `dir` holds a complete run.
pub fn is_complete(dir: &Path) -> bool {
    crate::output::manifest::is_complete(&dir.join("manifest.json"))
}

/// Where `run` stands.
pub fn state(layout: &Layout, run: &RunId, this_host: &str) -> RunState {
    if is_complete(&layout.run_dir(run)) {
        return RunState::Complete;
    }
    if let Some(p) = partials(layout, run).into_iter().find(|p| p.alive(this_host).unwrap_or(true)) {
        return RunState::Running { host: p.host, pid: p.pid };
    }
    match read_failure(&layout.failed_dir(run)) {
        Some(f) => RunState::Failed(f.error),
        None => RunState::Missing,
    }
}

pub fn read_failure(dir: &Path) -> Option<Failure> {
    let text = std::fs::read_to_string(dir.join("failure.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// The shards of a job array, as `sweep slurm` wrote them (`DIR/slurm/array.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrayPlan {
    /// Array tasks: task i runs shard i/tasks.
    pub tasks: usize,
    /// The most runs a task has.
    pub runs_per_task: usize,
    pub runs: usize,
}

pub const ARRAY_FILE: &str = "array.toml";

pub fn read_array(layout: &Layout) -> Result<Option<ArrayPlan>, SweepError> {
    let path = layout.slurm_dir().join(ARRAY_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
    toml::from_str(&text).map(Some).map_err(|e| {
        SweepError::Usage(format!("{}: {}; write it again with `tradesim sweep slurm`", path.display(), e.message()))
    })
}

/// Every run's state, in the sweep's order.
pub struct Status {
    pub runs: Vec<(RunId, RunState)>,
}

impl Status {
    pub fn read(dir: &Path, plan: &Plan) -> Status {
        let layout = Layout::new(dir);
        let me = host_name();
        Status { runs: plan.runs().into_iter().map(|r| (r, state(&layout, &r, &me))).collect() }
    }

    pub fn count(&self, name: &str) -> usize {
        self.runs.iter().filter(|(_, s)| s.name() == name).count()
    }

    /// The shards of `tasks` that have runs neither complete nor running.
    pub fn shards_with_work(&self, tasks: usize) -> Vec<usize> {
        let total = self.runs.len();
        (0..tasks)
            .filter(|&i| {
                let range = Shard { index: i, count: tasks }.range(total);
                self.runs[range].iter().any(|(_, s)| matches!(s, RunState::Missing | RunState::Failed(_)))
            })
            .collect()
    }

    /// The report `sweep status` prints.
    pub fn report(&self, dir: &Path, plan: &Plan, array: Option<ArrayPlan>, shards: Option<usize>) -> String {
        let mut out = String::new();
        let total = self.runs.len();
        let _ = writeln!(
            out,
            "sweep {} in {}: {total} runs ({} points × {} replicates)",
            plan.spec.name,
            dir.display(),
            plan.points.len(),
            plan.spec.replicates
        );
        for name in ["complete", "failed", "running", "missing"] {
            let _ = writeln!(out, "  {name:9} {:>7}", self.count(name));
        }
        let failed: Vec<&(RunId, RunState)> =
            self.runs.iter().filter(|(_, s)| matches!(s, RunState::Failed(_))).collect();
        if !failed.is_empty() {
            let _ = writeln!(out, "failed runs (records in {}):", dir.join("failed").display());
            for (run, state) in failed {
                if let RunState::Failed(error) = state {
                    let _ = writeln!(
                        out,
                        "  point {} replicate {} (seed {}): {}",
                        run.point, run.replicate, run.seed, error
                    );
                }
            }
        }
        let running: Vec<String> = self
            .runs
            .iter()
            .filter_map(|(r, s)| match s {
                RunState::Running { host, pid } => {
                    Some(format!("point {} replicate {} on {host} (pid {pid})", r.point, r.replicate))
                }
                _ => None,
            })
            .collect();
        if !running.is_empty() {
            let _ = writeln!(out, "running (or killed on another machine, until redone):");
            for r in running.iter().take(20) {
                let _ = writeln!(out, "  {r}");
            }
            if running.len() > 20 {
                let _ = writeln!(out, "  … and {} more", running.len() - 20);
            }
        }
        let tasks = shards.or(array.map(|a| a.tasks));
        match tasks {
            Some(tasks) => {
                let work = self.shards_with_work(tasks);
                if work.is_empty() {
                    let _ = writeln!(out, "no shard of {tasks} has work left");
                } else {
                    let list = array_list(&work);
                    let _ = writeln!(out, "shards with work left, of {tasks}: --array={list}");
                    if array.is_some_and(|a| a.tasks == tasks) {
                        let script = dir.join("slurm").join("sweep.sbatch");
                        let _ = writeln!(out, "  resubmit them: sbatch --array={list} {}", script.display());
                    } else {
                        let _ = writeln!(out, "  run one: tradesim sweep run {} --shard I/{tasks}", dir.display());
                    }
                }
            }
            None if self.count("complete") < total => {
                let _ =
                    writeln!(out, "to finish: tradesim sweep run {} (runs only what is not complete)", dir.display());
            }
            None => {}
        }
        out
    }
}

/// `0-3,7,9-10`: a Slurm array list of sorted indices.
pub fn array_list(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        while i + 1 < indices.len() && indices[i + 1] == indices[i] + 1 {
            i += 1;
        }
        parts.push(if indices[i] == start { start.to_string() } else { format!("{start}-{}", indices[i]) });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_lists_join_runs_of_indices() {
        assert_eq!(array_list(&[0, 1, 2, 3, 7, 9, 10]), "0-3,7,9-10");
        assert_eq!(array_list(&[5]), "5");
        assert_eq!(array_list(&[]), "");
    }
}
