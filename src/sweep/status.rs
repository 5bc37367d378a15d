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
    /// A process is working on it: alive on this machine, or on another whose lease it
    /// touched in the last [`STALE_AFTER_SECONDS`].
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

/// A process working on a run says so in `lease.json` in the run's temporary directory,
/// and touches it every [`HEARTBEAT_SECONDS`] while it works.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Lease {
    pub host: String,
    pub pid: u32,
    /// When the process started, in clock ticks since boot (`/proc/PID/stat`), so that a
    /// pid the system has given to another process since is not taken for it.
    pub start_time: Option<u64>,
    /// The Slurm job (`SLURM_JOB_ID`) it runs in, if any.
    pub slurm_job: Option<String>,
}

pub const LEASE_FILE: &str = "lease.json";
/// How often a working process touches its leases.
pub const HEARTBEAT_SECONDS: u64 = 30;
/// A lease on another machine not touched for this long is a dead process's (ten
/// heartbeats: room for a slow shared file system and clocks a little apart).
pub const STALE_AFTER_SECONDS: u64 = 300;

impl Lease {
    /// This process's lease.
    pub fn mine(host: &str) -> Lease {
        Lease {
            host: host.to_string(),
            pid: std::process::id(),
            start_time: start_time(std::process::id()),
            slurm_job: std::env::var("SLURM_JOB_ID").ok(),
        }
    }
}

/// A process's start time from `/proc/PID/stat` (field 22), and `None` for a process that
/// is gone or a zombie (or where there is no `/proc`).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// A run's temporary directory: `.replicate=R.partial-HOST-PID` in its point's directory.
#[derive(Debug, Clone)]
pub struct Partial {
    pub path: PathBuf,
    pub host: String,
    pub pid: u32,
}

impl Partial {
    /// Whether the process that made it may still be working on it: on this machine, when
    /// that process (same pid and start time) still runs; on another, when its lease was
    /// touched in the last [`STALE_AFTER_SECONDS`].
    pub fn is_live(&self, this_host: &str) -> bool {
        let lease_path = self.path.join(LEASE_FILE);
        let lease: Option<Lease> =
            std::fs::read_to_string(&lease_path).ok().and_then(|t| serde_json::from_str(&t).ok());
        if self.host == this_host {
            return match (start_time(self.pid), lease.and_then(|l| l.start_time)) {
                (Some(now), Some(then)) => now == then,
                (Some(_), None) => true,
                (None, _) => false,
            };
        }
        let touched =
            std::fs::metadata(&lease_path).or_else(|_| std::fs::metadata(&self.path)).and_then(|m| m.modified());
        touched.ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age.as_secs() < STALE_AFTER_SECONDS)
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
    if let Some(p) = partials(layout, run).into_iter().find(|p| p.is_live(this_host)) {
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
    /// The most tasks running at once (`%M`), if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<usize>,
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
                    if let Some(a) = array.filter(|a| a.tasks == tasks) {
                        let script = dir.join("slurm").join("sweep.sbatch");
                        let limit = a.max_parallel.map(|m| format!("%{m}")).unwrap_or_default();
                        let _ = writeln!(out, "  resubmit them: sbatch --array={list}{limit} {}", script.display());
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
