//! `tradesim sweep plan | run | status | collect | slurm`.

use super::{CliError, progress};
use crate::output::series::Format;
use crate::sweep::runner::{self, RunSweep, Shard};
use crate::sweep::slurm::{self, SlurmOptions};
use crate::sweep::status::{self, Status};
use crate::sweep::{Plan, SweepError, collect, plan};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Subcommand, Debug)]
pub enum SweepCommand {
    /// Resolve a sweep file's design into DIR: sweep.toml, base.toml and points.csv.
    Plan {
        /// The sweep file (TOML; see docs/sweeps.md).
        file: PathBuf,
        /// The sweep directory to plan into (new, or holding the same plan).
        #[arg(long, required_unless_present = "dry_run")]
        out: Option<PathBuf>,
        /// Print the points, runs, expected core-hours (from one timed run) and the Slurm
        /// array it would use; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Run the runs of DIR (or of one shard of it) that are not complete yet.
    Run {
        /// A planned sweep directory.
        dir: PathBuf,
        /// Runs at once, each a single-threaded world [default: SLURM_CPUS_PER_TASK, or all cores].
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
        jobs: Option<u16>,
        /// Run only shard I of N (contiguous runs in the sweep's order) [default: the
        /// Slurm array task's shard under Slurm, else all runs].
        #[arg(long)]
        shard: Option<String>,
        /// Run DIR's plan even if the sweep file it was planned from has changed since.
        #[arg(long)]
        force: bool,
    },
    /// Count complete, failed, running and missing runs; list failures and the shards with work left.
    Status {
        dir: PathBuf,
        /// Report shards of N [default: the array `sweep slurm` wrote].
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        shards: Option<u32>,
    },
    /// Write runs, effects and summary (CSV and/or Parquet), timings.csv and series/ into DIR.
    Collect {
        dir: PathBuf,
        /// Also gather these series of every run (comma-separated: regions, trade, sectors, policy).
        #[arg(long, value_delimiter = ',')]
        series: Vec<String>,
        /// The collected tables' format: both (the default: CSV for spreadsheets and scripts,
        /// Parquet for notebooks, typed and a fraction of the size), csv or parquet.
        #[arg(long, value_enum, default_value_t = Format::Both)]
        format: Format,
    },
    /// Write DIR/slurm/sweep.sbatch, a job array over shards of the sweep; --submit it.
    Slurm {
        dir: PathBuf,
        #[arg(long)]
        partition: Option<String>,
        /// Each task's time limit (sbatch --time).
        #[arg(long, default_value = "01:00:00")]
        time: String,
        /// CPUs per task: runs at once in a task.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
        cpus_per_task: u16,
        /// The most runs per task [default: 10 per CPU]; raised when needed to keep the
        /// array under the cluster's MaxArraySize.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        runs_per_task: Option<u32>,
        /// The most tasks running at once (--array=…%M).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        max_parallel: Option<u32>,
        /// Submit the script with sbatch and print the job id.
        #[arg(long)]
        submit: bool,
        /// Cut the runs into another number of tasks than the array already written
        /// (cancel the old array's tasks first).
        #[arg(long)]
        force: bool,
    },
}

impl From<SweepError> for CliError {
    fn from(e: SweepError) -> CliError {
        if e.is_usage() { CliError::Usage(e.to_string()) } else { CliError::Failed(e.to_string()) }
    }
}

pub fn main(command: SweepCommand) -> Result<(), CliError> {
    match command {
        SweepCommand::Plan { file, out, dry_run } => plan_command(&file, out.as_deref(), dry_run),
        SweepCommand::Run { dir, jobs, shard, force } => run_command(&dir, jobs, shard, force),
        SweepCommand::Status { dir, shards } => {
            let plan = Plan::load(&dir)?;
            let array = status::read_array(&crate::sweep::Layout::new(&dir))?;
            print!("{}", Status::read(&dir, &plan).report(&dir, &plan, array, shards.map(|s| s as usize)));
            Ok(())
        }
        SweepCommand::Collect { dir, series, format } => collect_command(&dir, &series, format),
        SweepCommand::Slurm { dir, partition, time, cpus_per_task, runs_per_task, max_parallel, submit, force } => {
            let opts = SlurmOptions {
                partition,
                time,
                cpus_per_task: cpus_per_task as usize,
                runs_per_task: runs_per_task.map(|k| k as usize),
                max_parallel: max_parallel.map(|m| m as usize),
            };
            slurm_command(&dir, &opts, submit, force)
        }
    }
}

fn plan_command(file: &Path, out: Option<&Path>, dry_run: bool) -> Result<(), CliError> {
    if let Some(out) = out
        && !dry_run
    {
        check_plan_dir(out)?;
    }
    let plan = Plan::from_file(file)?;
    let runs = plan.runs().len();
    let design = match plan.spec.method {
        crate::sweep::spec::Method::Grid => "grid".to_string(),
        m => format!("{} design", m.name()),
    };
    println!(
        "sweep {}: {} points × {} replicates = {runs} runs ({design} over {} parameters, seeds {}), base {} (hash {})",
        plan.spec.name,
        plan.points.len(),
        plan.spec.replicates,
        plan.params.len(),
        plan.spec.seeds.name(),
        plan.base.origin,
        plan.base.hash
    );
    if dry_run {
        return dry_run_report(&plan);
    }
    let out = out.expect("clap requires --out without --dry-run");
    let planned = out.join(plan::SWEEP_FILE);
    if planned.exists() {
        let same = |name: &str, text: String| std::fs::read_to_string(out.join(name)).is_ok_and(|t| t == text);
        if same(plan::SWEEP_FILE, plan.sweep_toml()) && same(plan::POINTS_FILE, plan.points_csv()) {
            println!("{} already holds this plan; nothing to do", out.display());
            return Ok(());
        }
        return Err(CliError::Usage(format!(
            "{} holds another planned sweep (its sweep.toml or points.csv differ from what {} plans now); \
             plan into a new directory, so that runs of the two designs are not mixed",
            out.display(),
            file.display()
        )));
    }
    plan.write(out).map_err(CliError::from)?;
    println!("planned into {}: sweep.toml, base.toml, points.csv", out.display());
    println!(
        "next: tradesim sweep run {} --jobs N (or tradesim sweep slurm {} --submit)",
        out.display(),
        out.display()
    );
    Ok(())
}

/// A sweep directory can be planned into when it is new or empty, or holds this very plan
/// (planning is then a no-op); anything else is refused before anything is written.
fn check_plan_dir(out: &Path) -> Result<(), CliError> {
    if out.exists() && !out.is_dir() {
        return Err(CliError::Usage(format!(
            "{} exists and is not a directory; --out must name a sweep directory",
            out.display()
        )));
    }
    let sweep = out.join(plan::SWEEP_FILE);
    if out.is_dir() && !sweep.exists() && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(false) {
        return Err(CliError::Usage(format!(
            "{} exists, is not empty and is not a planned sweep; choose a new or empty directory",
            out.display()
        )));
    }
    Ok(())
}

fn dry_run_report(plan: &Plan) -> Result<(), CliError> {
    let runs = plan.runs();
    let first = runs[0];
    let tmp = std::env::temp_dir().join(format!("tradesim-dry-run-{}", std::process::id()));
    let (_, scenario) = plan.scenario(&first, "<dry run>").map_err(CliError::from)?;
    let opts = plan.run_options(&scenario, tmp.clone(), crate::threads::ensure_pool(Some(1)));
    let t0 = Instant::now();
    let result = crate::run::run(scenario, &opts, &mut crate::run::Silent);
    let seconds = t0.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&tmp);
    result.map_err(|e| CliError::Failed(format!("the sample run (point 0, replicate 0) failed: {e}")))?;
    let hours = seconds * runs.len() as f64 / 3600.0;
    println!(
        "  a sample run (point 0, replicate 0, both worlds) took {seconds:.2} s on one thread: about {hours:.3} core-hours for {} runs",
        runs.len()
    );
    println!("  (runs at other points may take longer or shorter; `sweep run --jobs N` runs N at once)");
    let per_task = slurm::default_runs_per_task(1);
    let array = slurm::array_plan(runs.len(), per_task, slurm::max_array_size());
    println!(
        "  Slurm: `sweep slurm` with 1 CPU and {} runs per task would use --array=0-{} ({} tasks, about {:.1} min each)",
        array.runs_per_task,
        array.tasks - 1,
        array.tasks,
        seconds * array.runs_per_task as f64 / 60.0
    );
    println!("nothing written (--dry-run)");
    Ok(())
}

fn run_command(dir: &Path, jobs: Option<u16>, shard: Option<String>, force: bool) -> Result<(), CliError> {
    let plan = Plan::load(dir)?;
    check_source(&plan, force)?;
    let shard = match shard {
        Some(s) => Shard::parse(&s).map_err(CliError::Usage)?,
        None => match Shard::from_slurm(|name| std::env::var(name).ok()) {
            Some(s) => s.map_err(CliError::Usage)?,
            None => Shard::ALL,
        },
    };
    let jobs = match jobs {
        Some(j) => j as usize,
        None => match std::env::var("SLURM_CPUS_PER_TASK") {
            Ok(v) => v.trim().parse().map_err(|_| {
                CliError::Usage(format!("SLURM_CPUS_PER_TASK={v} is not a whole number; pass --jobs N"))
            })?,
            Err(_) => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        },
    };
    let label = if shard == Shard::ALL {
        plan.spec.name.clone()
    } else {
        format!("{} {}/{}", plan.spec.name, shard.index, shard.count)
    };
    eprintln!(
        "tradesim {}: sweep {}, shard {}/{} ({} of {} runs), {jobs} at once, in {}",
        crate::VERSION,
        plan.spec.name,
        shard.index,
        shard.count,
        shard.range(plan.runs().len()).len(),
        plan.runs().len(),
        dir.display()
    );
    let stop = super::stop_on_signals()?;
    let mut bar = progress::for_sweep(label);
    let outcome = runner::run(dir, &plan, RunSweep { jobs, shard }, &stop, bar.as_mut())?;
    eprintln!(
        "shard {}/{}: {} runs done, {} already complete, {} failed, {} left to another process, in {:.1}s",
        shard.index,
        shard.count,
        outcome.completed,
        outcome.skipped,
        outcome.failed.len(),
        outcome.busy.len(),
        outcome.seconds
    );
    if outcome.not_started > 0 {
        return Err(CliError::Interrupted(format!(
            "stopped by a signal: {} runs of this shard not started ({} in progress finished first); \
             the same command resumes it: tradesim sweep run {} --shard {}/{}",
            outcome.not_started,
            outcome.completed + outcome.failed.len(),
            dir.display(),
            shard.index,
            shard.count
        )));
    }
    if !outcome.failed.is_empty() {
        let list: Vec<String> = outcome
            .failed
            .iter()
            .take(10)
            .map(|(r, e)| format!("  point {} replicate {}: {e}", r.point, r.replicate))
            .collect();
        return Err(CliError::Failed(format!(
            "{} runs failed (records in {}):\n{}",
            outcome.failed.len(),
            dir.join("failed").display(),
            list.join("\n")
        )));
    }
    Ok(())
}

/// Refuses to run a plan whose sweep file (or base scenario) has changed since it was
/// planned, naming what changed, unless `force`.
fn check_source(plan: &Plan, force: bool) -> Result<(), CliError> {
    let Some(source) = &plan.source else { return Ok(()) };
    if !source.is_file() {
        eprintln!(
            "note: {} (the sweep file this was planned from) is gone; running the plan as it is",
            source.display()
        );
        return Ok(());
    }
    // Unchanged file and base: nothing to re-plan (the points were checked at planning).
    let unchanged = std::fs::read_to_string(source).is_ok_and(|text| {
        let dir = source.parent().unwrap_or(Path::new("."));
        Some(crate::scenario::content_hash(&text)) == plan.source_hash
            && plan::base_text(&plan.base.label, dir)
                .is_ok_and(|(base, _)| crate::scenario::content_hash(&base) == plan.base.hash)
    });
    if unchanged {
        return Ok(());
    }
    let now = match Plan::from_file(source) {
        Ok(p) => p,
        Err(e) if force => {
            eprintln!("warning: {} no longer plans ({e}); running the plan as it is (--force)", source.display());
            return Ok(());
        }
        Err(e) => {
            return Err(CliError::Usage(format!(
                "{} has changed since this sweep was planned and no longer plans: {e}\n(pass --force to run the plan as it is)",
                source.display()
            )));
        }
    };
    let (then, current) = (plan.sweep_toml(), now.sweep_toml());
    let mut differences: Vec<String> = Vec::new();
    let lines = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("source_hash"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (a, b) = (lines(&then), lines(&current));
    for l in &a {
        if !b.contains(l) {
            differences.push(format!("  planned: {l}"));
        }
    }
    for l in &b {
        if !a.contains(l) {
            differences.push(format!("  now:     {l}"));
        }
    }
    if differences.is_empty() && a != b {
        differences.push("  the same settings in another order (the parameters' order sets the points' order)".into());
    }
    if differences.is_empty() && plan.points_csv() != now.points_csv() {
        differences.push("  the points it plans differ (another tradesim version?)".into());
    }
    if differences.is_empty() {
        return Ok(());
    }
    let message = format!(
        "{} has changed since this sweep was planned:\n{}\nplan it into a new directory, or pass --force to run the plan as it was",
        source.display(),
        differences.join("\n")
    );
    if force {
        eprintln!("warning: {message} (running the plan as it was: --force)");
        return Ok(());
    }
    Err(CliError::Usage(message))
}

fn collect_command(dir: &Path, series: &[String], format: Format) -> Result<(), CliError> {
    collect::check_series(series)?;
    let plan = Plan::load(dir)?;
    let t0 = Instant::now();
    let c = collect::collect(dir, &plan, series, format)?;
    for f in &c.files {
        println!("wrote {}", f.display());
    }
    eprintln!("collected {} of {} runs in {:.2}s", c.complete, c.runs, t0.elapsed().as_secs_f64());
    for u in &c.unreadable {
        eprintln!("warning: a complete run's effects could not be read, so its row says unreadable: {u}");
    }
    if c.complete < c.runs {
        eprintln!(
            "warning: {} runs failed, {} are missing and {} unreadable; runs.csv marks them in its status column, and the \
             summary counts only complete replicates (n). `tradesim sweep status {}` says what to rerun.",
            c.failed,
            c.missing,
            c.unreadable.len(),
            dir.display()
        );
    }
    Ok(())
}

fn slurm_command(dir: &Path, opts: &SlurmOptions, submit: bool, force: bool) -> Result<(), CliError> {
    let plan = Plan::load(dir)?;
    slurm::check_time(&opts.time).map_err(CliError::Usage)?;
    if submit && !on_path("sbatch") {
        return Err(CliError::Usage(
            "sbatch is not on the PATH: --submit needs Slurm's client commands; run this on a machine that has them, \
             or leave out --submit and submit DIR/slurm/sweep.sbatch yourself"
                .into(),
        ));
    }
    let (script, array) = slurm::write(dir, &plan, opts, force)?;
    println!(
        "wrote {}: {} runs in {} array tasks of at most {} runs",
        script.display(),
        array.runs,
        array.tasks,
        array.runs_per_task
    );
    if submit {
        let id = slurm::submit(&script, None)?;
        println!("submitted job {id}");
    } else {
        println!("submit it: sbatch {}", script.display());
    }
    Ok(())
}

/// Whether `program` is an executable file in a directory of PATH.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
