//! `sweep run`: the runs of one shard, several at once, each a normal run directory.
//!
//! Each worker runs one single-threaded world (scenario, then counterfactual) at a time:
//! with many runs to do, whole worlds in parallel keep the cores busier than one world on
//! several threads, whose passes wait for each other every phase (docs/performance.md).
//!
//! A run is written under a temporary name in its point's directory
//! (`.replicate=R.partial-HOST-PID`) and renamed to `replicate=R` when complete, so a
//! directory under `runs/` is either complete or absent. Complete runs are skipped, so
//! running the same command again resumes; what a killed process left half-written is
//! removed and redone. A run that fails is recorded under `failed/` and the others go on.

use super::plan::{Plan, RunId};
use super::status::{self, Failure, HEARTBEAT_SECONDS, LEASE_FILE, Lease, Partial};
use super::{Layout, SweepError, host_name, io_error};
use crate::run::{self, Silent};
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Shard `index` of `count`: the runs `floor(index·R/count) .. floor((index+1)·R/count)`
/// of a sweep of R runs in its order (contiguous, sizes within one of each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Reads `I/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {text} is not accepted; expected I/N with 0 ≤ I < N, e.g. 0/10 (shard 0 of 10)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) =
            (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard of a Slurm array task, from the variables Slurm sets: task
    /// `(SLURM_ARRAY_TASK_ID − MIN) / STEP` of `SLURM_ARRAY_TASK_COUNT`. This holds for an
    /// array given as a range (`--array=0-99`, `1-99:2`); an array of a list of tasks (a
    /// resubmission of some shards) must pass `--shard` itself, as the scripts `sweep
    /// slurm` writes always do.
    pub fn from_slurm(var: impl Fn(&str) -> Option<String>) -> Option<Result<Shard, String>> {
        let id = var("SLURM_ARRAY_TASK_ID")?;
        let num = |name: &str, default: usize| -> Result<usize, String> {
            match var(name) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| format!("{name}={v} is not a whole number")),
            }
        };
        Some((|| {
            let id =
                id.trim().parse::<usize>().map_err(|_| format!("SLURM_ARRAY_TASK_ID={id} is not a whole number"))?;
            let min = num("SLURM_ARRAY_TASK_MIN", 0)?;
            let step = num("SLURM_ARRAY_TASK_STEP", 1)?.max(1);
            let count = num("SLURM_ARRAY_TASK_COUNT", 0)?;
            let index = id.checked_sub(min).map(|d| d / step);
            match index {
                Some(index) if index < count && (id - min) % step == 0 => Ok(Shard { index, count }),
                _ => Err(format!(
                    "cannot tell this task's shard from SLURM_ARRAY_TASK_ID={id}, _MIN={min}, _STEP={step}, _COUNT={count} \
                     (an array of a list of tasks?); pass --shard I/N"
                )),
            }
        })())
    }

    /// The runs of this shard among `total`.
    pub fn range(&self, total: usize) -> Range<usize> {
        let cut = |i: usize| (i as u128 * total as u128 / self.count as u128) as usize;
        cut(self.index)..cut(self.index + 1)
    }
}

/// How `sweep run` runs.
#[derive(Debug, Clone, Copy)]
pub struct RunSweep {
    /// Runs at once.
    pub jobs: usize,
    pub shard: Shard,
}

/// What one `sweep run` did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub shard_runs: usize,
    /// Already complete, skipped.
    pub skipped: usize,
    pub completed: usize,
    pub failed: Vec<(RunId, String)>,
    /// Being run by another live process; left to it.
    pub busy: Vec<RunId>,
    /// Not started because a stop was asked for (a signal).
    pub not_started: usize,
    pub seconds: f64,
}

/// Hears about runs as they finish; called from the workers, one at a time.
pub trait SweepProgress: Send {
    fn begin(&mut self, runs: usize);
    fn finished(&mut self, run: &RunId, failed: Option<&str>);
    /// Called about once a second while runs go on, so that a log can say it is alive.
    fn idle(&mut self) {}
    fn end(&mut self);
}

impl SweepProgress for Silent {
    fn begin(&mut self, _: usize) {}
    fn finished(&mut self, _: &RunId, _: Option<&str>) {}
    fn end(&mut self) {}
}

/// Runs the shard's runs that are not complete, `jobs` at a time, until they are done or
/// `stop` is set (then runs in progress finish, and no more start).
pub fn run(
    dir: &Path,
    plan: &Plan,
    opts: RunSweep,
    stop: &AtomicBool,
    progress: &mut dyn SweepProgress,
) -> Result<Outcome, SweepError> {
    let started = Instant::now();
    let layout = Layout::new(dir);
    let threads = crate::threads::ensure_pool(Some(1));
    let runs = plan.runs();
    let mine = &runs[opts.shard.range(runs.len())];
    let mut outcome = Outcome { shard_runs: mine.len(), ..Outcome::default() };
    let todo: Vec<RunId> = mine.iter().copied().filter(|r| !status::is_complete(&layout.run_dir(r))).collect();
    outcome.skipped = mine.len() - todo.len();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let progress = Mutex::new(progress);
    let leases: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let workers_done = AtomicBool::new(false);
    let host = host_name();
    let lock = |m| progress_lock(m);
    lock(&progress).begin(todo.len());
    std::thread::scope(|scope| {
        // The heartbeat: touches this process's leases, and lets the progress say it is alive.
        scope.spawn(|| {
            let mut last_touch = Instant::now();
            while !workers_done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                if last_touch.elapsed().as_secs() >= HEARTBEAT_SECONDS {
                    last_touch = Instant::now();
                    for lease in leases.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                        touch(lease);
                    }
                }
                lock(&progress).idle();
            }
        });
        let workers: Vec<_> = (0..opts.jobs.max(1).min(todo.len()))
            .map(|_| {
                scope.spawn(|| {
                    while !stop.load(Ordering::Relaxed)
                        && let Some(run) = todo.get(next.fetch_add(1, Ordering::Relaxed))
                    {
                        let result = run_one(&layout, plan, run, threads, &host, &leases);
                        let failure = match &result {
                            Attempt::Failed(e) => Some(e.as_str()),
                            _ => None,
                        };
                        lock(&progress).finished(run, failure);
                        results.lock().unwrap_or_else(|e| e.into_inner()).push((*run, result));
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
        workers_done.store(true, Ordering::Relaxed);
    });
    progress.into_inner().unwrap_or_else(|e| e.into_inner()).end();
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(r, _)| r.index);
    outcome.not_started = todo.len() - results.len();
    for (run, attempt) in results {
        match attempt {
            Attempt::Completed => outcome.completed += 1,
            Attempt::Failed(e) => outcome.failed.push((run, e)),
            Attempt::Busy => outcome.busy.push(run),
        }
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    Ok(outcome)
}

fn progress_lock<'a, 'b>(
    m: &'a Mutex<&'b mut dyn SweepProgress>,
) -> std::sync::MutexGuard<'a, &'b mut dyn SweepProgress> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets a file's modification time to now.
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

enum Attempt {
    Completed,
    Failed(String),
    Busy,
}

fn run_one(
    layout: &Layout,
    plan: &Plan,
    run: &RunId,
    threads: usize,
    host: &str,
    leases: &Mutex<Vec<PathBuf>>,
) -> Attempt {
    let partials = status::partials(layout, run);
    if partials.iter().any(|p| p.is_live(host)) {
        return Attempt::Busy;
    }
    // Left by a process that is gone (here, or on a machine whose task was killed): redo.
    for Partial { path, .. } in partials {
        let _ = std::fs::remove_dir_all(path);
    }
    // Anything at the final name that is not a complete run (a copy cut short) goes too.
    let target = layout.run_dir(run);
    if target.exists() && !status::is_complete(&target) {
        let _ = std::fs::remove_dir_all(&target);
    }
    let temp = layout.point_dir(run).join(format!("{}{host}-{}", Layout::partial_prefix(run), std::process::id()));
    let lease = temp.join(LEASE_FILE);
    let result = attempt(layout, plan, run, &temp, threads, host, || {
        leases.lock().unwrap_or_else(|e| e.into_inner()).push(lease.clone())
    });
    leases.lock().unwrap_or_else(|e| e.into_inner()).retain(|l| *l != lease);
    match result {
        Ok(()) => {
            // An earlier failure of this run is history now; empty parents go with it.
            let failed = layout.failed_dir(run);
            if std::fs::remove_dir_all(&failed).is_ok() {
                for parent in failed.ancestors().skip(1).take(2) {
                    let _ = std::fs::remove_dir(parent);
                }
            }
            Attempt::Completed
        }
        Err(error) => {
            // The error names files in the temporary directory, which moves to failed/.
            let error = if temp.is_dir() {
                error.replace(&temp.display().to_string(), &layout.failed_dir(run).display().to_string())
            } else {
                error
            };
            let _ = record_failure(layout, run, &temp, &error, host);
            Attempt::Failed(error)
        }
    }
}

/// "PATH: the OS error", for a run's failure record.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// One run into `temp`, made durable and renamed into place when complete.
fn attempt(
    layout: &Layout,
    plan: &Plan,
    run: &RunId,
    temp: &Path,
    threads: usize,
    host: &str,
    leased: impl FnOnce(),
) -> Result<(), String> {
    std::fs::create_dir_all(temp).map_err(io(temp))?;
    let lease = serde_json::to_string_pretty(&Lease::mine(host)).expect("a lease serialises") + "\n";
    std::fs::write(temp.join(LEASE_FILE), lease).map_err(io(&temp.join(LEASE_FILE)))?;
    leased();
    let origin = layout.run_dir(run).join("scenario.toml").display().to_string();
    let (text, scenario) = plan.scenario(run, &origin).map_err(|e| e.to_string())?;
    crate::output::write_atomic(&temp.join("scenario.toml"), text.as_bytes()).map_err(|e| e.to_string())?;
    let opts = plan.run_options(&scenario, temp.to_path_buf(), threads);
    let result = catch_unwind(AssertUnwindSafe(|| run::run(scenario, &opts, &mut Silent)));
    match result {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(e.to_string()),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            return Err(format!("tradesim panicked: {message} (please report it, with this run's scenario.toml)"));
        }
    }
    std::fs::remove_file(temp.join(LEASE_FILE)).map_err(io(&temp.join(LEASE_FILE)))?;
    // Every file and directory on disk before the rename, and the rename itself after it,
    // so that after a crash a run under its final name is a whole one.
    sync_tree(temp).map_err(|(path, e)| format!("{}: {e}", path.display()))?;
    let target = layout.run_dir(run);
    match std::fs::rename(temp, &target) {
        Ok(()) => {}
        // Another process finished the same run first: keep its directory.
        Err(_) if status::is_complete(&target) => {
            let _ = std::fs::remove_dir_all(temp);
            return Ok(());
        }
        Err(e) => return Err(format!("{} → {}: {e}", temp.display(), target.display())),
    }
    let point = layout.point_dir(run);
    sync_dir(&point).map_err(|e| format!("{}: {e}", point.display()))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// fsyncs every file below `dir`, then each directory, deepest first.
fn sync_tree(dir: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    let entries = std::fs::read_dir(dir).map_err(|e| (dir.to_path_buf(), e))?;
    for entry in entries {
        let path = entry.map_err(|e| (dir.to_path_buf(), e))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            std::fs::File::open(&path).and_then(|f| f.sync_all()).map_err(|e| (path.clone(), e))?;
        }
    }
    sync_dir(dir).map_err(|e| (dir.to_path_buf(), e))
}

/// Moves what the failed run left to `failed/point=P/replicate=R/` and says why there.
fn record_failure(layout: &Layout, run: &RunId, temp: &Path, error: &str, host: &str) -> Result<(), SweepError> {
    let dir = layout.failed_dir(run);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io_error(&dir))?;
    }
    std::fs::create_dir_all(dir.parent().unwrap_or(&dir)).map_err(io_error(&dir))?;
    if temp.is_dir() {
        std::fs::rename(temp, &dir).map_err(io_error(&dir))?;
        let _ = std::fs::remove_file(dir.join(LEASE_FILE));
        mark_manifest_failed(&dir.join("manifest.json"), error);
    } else {
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    }
    let failure = Failure {
        point: run.point,
        replicate: run.replicate,
        seed: run.seed,
        error: error.to_string(),
        host: host.to_string(),
    };
    let text = serde_json::to_string_pretty(&failure).expect("a failure serialises") + "\n";
    crate::output::write_atomic(&dir.join("failure.json"), text.as_bytes())?;
    Ok(())
}

/// A run that panicked left its manifest saying `running`: make it say failed, and why.
fn mark_manifest_failed(path: &Path, error: &str) {
    let Ok(text) = std::fs::read_to_string(path) else { return };
    let Ok(mut manifest) = serde_json::from_str::<serde_json::Value>(&text) else { return };
    if manifest["status"] == "failed" {
        return;
    }
    manifest["status"] = "failed".into();
    manifest["error"] = error.into();
    if let Ok(text) = serde_json::to_string_pretty(&manifest) {
        let _ = crate::output::write_atomic(path, (text + "\n").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_run_once() {
        for total in [0, 1, 7, 24, 100] {
            for count in [1, 3, 7, 24, 25] {
                let mut covered = Vec::new();
                for index in 0..count {
                    covered.extend(Shard { index, count }.range(total));
                }
                assert_eq!(covered, (0..total).collect::<Vec<_>>(), "{total} runs in {count} shards");
            }
        }
        assert_eq!(Shard::parse("2/5"), Ok(Shard { index: 2, count: 5 }));
        for bad in ["5/5", "0/0", "1", "a/2", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slurm_tasks_find_their_shard() {
        fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
            move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        }
        let range = [("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "10")];
        assert_eq!(Shard::from_slurm(env(&range)), Some(Ok(Shard { index: 5, count: 10 })));
        let stepped = [
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
        ];
        assert_eq!(Shard::from_slurm(env(&stepped)), Some(Ok(Shard { index: 3, count: 5 })));
        let list = [("SLURM_ARRAY_TASK_ID", "7"), ("SLURM_ARRAY_TASK_MIN", "3"), ("SLURM_ARRAY_TASK_COUNT", "2")];
        assert!(Shard::from_slurm(env(&list)).unwrap().unwrap_err().contains("pass --shard"));
        assert_eq!(Shard::from_slurm(env(&[])), None);
    }
}
