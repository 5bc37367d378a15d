//! `sweep slurm`: a job-array script over shards of a sweep, and its submission.
//!
//! Array task i runs `tradesim sweep run DIR --shard i/T`: the shards are fixed by the
//! script (recorded in `DIR/slurm/array.toml`), so any subset of tasks can be submitted
//! again (`sbatch --array=3,7 DIR/slurm/sweep.sbatch`) and each redoes only its runs that
//! are not complete.

use super::plan::Plan;
use super::status::{ARRAY_FILE, ArrayPlan};
use super::{Layout, SweepError, io_error};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Slurm's own default `MaxArraySize`, used when `scontrol` cannot say.
pub const DEFAULT_MAX_ARRAY_SIZE: usize = 1001;

/// How the job array is asked for.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    /// Each task's time limit, in a format `sbatch --time` accepts.
    pub time: String,
    pub cpus_per_task: usize,
    /// The most runs per task (default 10 per CPU).
    pub runs_per_task: Option<usize>,
    /// The most tasks running at once (`%M`).
    pub max_parallel: Option<usize>,
}

/// Checks a `--time` value against the formats sbatch accepts: `M`, `M:S`, `H:M:S`,
/// `D-H`, `D-H:M`, `D-H:M:S`.
pub fn check_time(time: &str) -> Result<(), String> {
    let bad =
        || format!("--time {time} is not accepted; give minutes (90), MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS");
    let (days, clock) = match time.split_once('-') {
        Some((d, rest)) => (Some(d), rest),
        None => (None, time),
    };
    let numbers = |s: &str| {
        s.split(':')
            .map(|p| (!p.is_empty() && p.chars().all(|c| c.is_ascii_digit())).then_some(()))
            .collect::<Option<Vec<()>>>()
    };
    let parts = numbers(clock).ok_or_else(bad)?.len();
    let days_ok = days.is_none_or(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
    let ok = days_ok && (1..=3).contains(&parts);
    if ok { Ok(()) } else { Err(bad()) }
}

/// How long `scontrol show config` may take: with Slurm's tools installed but no
/// controller answering (a laptop, a login node whose controller is down), it waits out
/// its message timeout (10 s by default), which would hold up every `sweep status`.
const SCONTROL_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The cluster's `MaxArraySize` (from `scontrol show config`, if it answers within
/// [`SCONTROL_WAIT`]), or Slurm's default.
pub fn max_array_size() -> usize {
    let Ok(mut child) = Command::new("scontrol")
        .args(["show", "config"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return DEFAULT_MAX_ARRAY_SIZE;
    };
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut text);
        text
    });
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < SCONTROL_WAIT => std::thread::sleep(std::time::Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return DEFAULT_MAX_ARRAY_SIZE;
            }
        }
    }
    let out = reader.join().unwrap_or_default();
    String::from_utf8_lossy(&out)
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "MaxArraySize").then(|| value.trim().parse().ok())?
        })
        .unwrap_or(DEFAULT_MAX_ARRAY_SIZE)
}

/// The tasks for `runs` runs: at most `runs_per_task` each, and no more tasks than the
/// cluster's array takes (array indices run from 0 to MaxArraySize − 1).
pub fn array_plan(runs: usize, runs_per_task: usize, max_array_size: usize) -> ArrayPlan {
    let max_tasks = max_array_size.max(1);
    let mut per_task = runs_per_task.max(1);
    if runs.div_ceil(per_task) > max_tasks {
        per_task = runs.div_ceil(max_tasks);
    }
    let tasks = runs.div_ceil(per_task).max(1);
    ArrayPlan { tasks, runs_per_task: per_task, runs, max_parallel: None }
}

/// The default runs per task: ten per CPU, so each task runs for more than a moment.
pub fn default_runs_per_task(cpus: usize) -> usize {
    10 * cpus.max(1)
}

/// A path for a `#SBATCH` line, which takes no quoting.
fn sbatch_path(path: &Path) -> Result<String, SweepError> {
    let s = path.display().to_string();
    if s.chars().any(char::is_whitespace) {
        return Err(SweepError::Usage(format!(
            "{s} has whitespace in its path, which #SBATCH lines cannot hold; plan the sweep in a directory without spaces"
        )));
    }
    Ok(s)
}

/// Single-quoted for the shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The sbatch script for the planned sweep in `dir` (absolute), run by `exe`.
pub fn script(
    dir: &Path,
    plan: &Plan,
    array: &ArrayPlan,
    opts: &SlurmOptions,
    exe: &Path,
) -> Result<String, SweepError> {
    // In an sbatch file name `%` starts a pattern, so the directory's own `%` are doubled.
    let logs = format!("{}/%A_%a.out", sbatch_path(&dir.join("slurm").join("logs"))?.replace('%', "%%"));
    let limit = opts.max_parallel.map(|m| format!("%{m}")).unwrap_or_default();
    let partition = opts.partition.as_ref().map(|p| format!("#SBATCH --partition={p}\n")).unwrap_or_default();
    let name = &plan.spec.name;
    let (runs, tasks, per) = (array.runs, array.tasks, array.runs_per_task);
    let exe = shell_quote(&exe.display().to_string());
    let dir_q = shell_quote(&dir.display().to_string());
    Ok(format!(
        r#"#!/bin/bash
# Slurm job array for the tradesim sweep '{name}': {runs} runs in {tasks} tasks of at most {per} runs.
# Written by `tradesim sweep slurm`; edit the options freely. Task i runs shard i of {tasks}
# (the runs it has not completed yet), so any tasks can be submitted again:
#   sbatch --array=3,7 {script}
# and `tradesim sweep status {dir}` lists the ones with work left.
#SBATCH --job-name=tradesim-{name}
#SBATCH --array=0-{last}{limit}
#SBATCH --cpus-per-task={cpus}
#SBATCH --time={time}
{partition}#SBATCH --output={logs}
#SBATCH --open-mode=append
# SIGTERM to this script 120 s before the time limit (exec below makes it tradesim's), and
# a task that is preempted or fails its node goes back in the queue.
#SBATCH --signal=B:TERM@120
#SBATCH --requeue

# The tradesim that wrote this script, by its absolute path; set TRADESIM to use another.
DEFAULT_TRADESIM={exe}
TRADESIM="${{TRADESIM:-$DEFAULT_TRADESIM}}"
exec "$TRADESIM" sweep run {dir_q} --shard "${{SLURM_ARRAY_TASK_ID}}/{tasks}" --jobs "${{SLURM_CPUS_PER_TASK:-1}}"
"#,
        script = dir.join("slurm").join("sweep.sbatch").display(),
        dir = dir.display(),
        last = tasks - 1,
        cpus = opts.cpus_per_task,
        time = opts.time,
    ))
}

/// Writes `DIR/slurm/sweep.sbatch` and `DIR/slurm/array.toml` (and the logs directory).
/// Once an array is written, another cut of the runs into tasks is refused unless
/// `force`: tasks of the old array still queued would run shards that overlap the new ones.
pub fn write(dir: &Path, plan: &Plan, opts: &SlurmOptions, force: bool) -> Result<(PathBuf, ArrayPlan), SweepError> {
    check_time(&opts.time).map_err(SweepError::Usage)?;
    if let Some(p) = &opts.partition
        && (p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)))
    {
        return Err(SweepError::Usage(format!(
            "--partition {p} is not accepted; give a partition name (letters, digits, _ - .)"
        )));
    }
    let dir = std::path::absolute(dir).map_err(io_error(dir))?;
    let runs = plan.runs().len();
    let per_task = opts.runs_per_task.unwrap_or_else(|| default_runs_per_task(opts.cpus_per_task));
    let mut array = array_plan(runs, per_task, max_array_size());
    array.max_parallel = opts.max_parallel;
    let layout = Layout::new(&dir);
    if let Some(old) = super::status::read_array(&layout)?
        && old.tasks != array.tasks
        && !force
    {
        return Err(SweepError::Usage(format!(
            "{} cuts the runs into {} tasks; these options give {}: tasks of the old array still queued or requeued \
             would run shards that overlap the new ones. Cancel them first (scancel), then pass --force; or keep \
             --runs-per-task {}",
            layout.slurm_dir().join(ARRAY_FILE).display(),
            old.tasks,
            array.tasks,
            old.runs_per_task
        )));
    }
    let exe = std::env::var_os("TRADESIM")
        .map(PathBuf::from)
        .or_else(|| std::env::current_exe().ok())
        .and_then(|p| std::path::absolute(p).ok())
        .ok_or_else(|| {
            SweepError::Failed("cannot tell where this tradesim binary is; set TRADESIM to its path".into())
        })?;
    let text = script(&dir, plan, &array, opts, &exe)?;
    let logs = layout.slurm_dir().join("logs");
    std::fs::create_dir_all(&logs).map_err(io_error(&logs))?;
    let script_path = layout.slurm_dir().join("sweep.sbatch");
    crate::output::write_atomic(&script_path, text.as_bytes())?;
    let array_text = toml::to_string(&array).expect("an array plan serialises");
    crate::output::write_atomic(&layout.slurm_dir().join(ARRAY_FILE), array_text.as_bytes())?;
    Ok((script_path, array))
}

/// `sbatch SCRIPT`: the job id.
pub fn submit(script: &Path, array: Option<&str>) -> Result<String, SweepError> {
    let mut cmd = Command::new("sbatch");
    cmd.arg("--parsable");
    if let Some(a) = array {
        cmd.arg(format!("--array={a}"));
    }
    let out = cmd.arg(script).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            SweepError::Usage(format!(
                "sbatch is not on the PATH ({e}): --submit needs Slurm's client commands; the script is written, submit it from a machine that has them: sbatch {}",
                script.display()
            ))
        } else {
            SweepError::Failed(format!("sbatch {}: {e}", script.display()))
        }
    })?;
    if !out.status.success() {
        return Err(SweepError::Failed(format!(
            "sbatch {} failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() {
        return Err(SweepError::Failed(format!("sbatch printed no job id: {}", text.trim())));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_stay_under_the_cluster_limit() {
        assert_eq!(array_plan(24, 4, 1001), ArrayPlan { tasks: 6, runs_per_task: 4, runs: 24, max_parallel: None });
        assert_eq!(array_plan(25, 4, 1001).tasks, 7);
        let big = array_plan(100_000, 1, 1001);
        assert!(big.tasks <= 1001 && big.tasks * big.runs_per_task >= 100_000, "{big:?}");
        assert_eq!(array_plan(0, 4, 1001).tasks, 1);
    }

    #[test]
    fn times_take_sbatch_formats() {
        for ok in ["90", "30:00", "01:30:00", "2-00", "2-12:00", "1-00:00:00"] {
            assert!(check_time(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1h", "1:2:3:4", "-1", "a-01", "1-"] {
            assert!(check_time(bad).is_err(), "{bad}");
        }
    }
}
