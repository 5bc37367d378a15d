//! The command line: argument types and one small function per subcommand.

mod progress;
mod sweep;

use crate::profile::SizePreset;
use crate::run::{self, RunOptions};
use crate::scenario::{self, Scenario, ScenarioError};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(name = "tradesim", version, about = "Agent-based simulation of tariff wars", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario and its counterfactual; write series, effects and a manifest.
    Run(RunArgs),
    /// Check a scenario file and report every problem in it.
    Validate {
        /// A scenario file, or the name of an embedded scenario.
        scenario: String,
    },
    /// Parameter sweeps: plan a design, run it (locally or as a Slurm array), collect it.
    Sweep {
        #[command(subcommand)]
        command: sweep::SweepCommand,
    },
    /// Draw a finished run's charts as PNG files (scenario against counterfactual), or a
    /// sweep's headline effects against each swept parameter.
    Plot {
        /// A run directory (what `tradesim run --out` wrote), or a sweep directory after
        /// `tradesim sweep collect`.
        run: PathBuf,
        /// Where to write the PNGs [default: RUN/plots].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Draw a run that is not complete (running, failed, interrupted) from what it wrote so far.
        #[arg(long)]
        partial: bool,
    },
    /// Write a finished run's report: one self-contained HTML page with its headline
    /// effects, policy timeline and charts.
    Report {
        /// A run directory (what `tradesim run --out` wrote).
        run: PathBuf,
        /// The page to write [default: RUN/report.html].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Report on a run that is not complete, from what it wrote so far.
        #[arg(long)]
        partial: bool,
    },
    /// List the scenarios embedded in the binary.
    Scenarios,
    /// Write an embedded scenario to a file, to start editing from.
    Export {
        /// Name of an embedded scenario (see `tradesim scenarios`).
        name: String,
        /// Where to write it (default: NAME.toml in the current directory).
        file: Option<PathBuf>,
        /// Overwrite FILE if it exists.
        #[arg(long)]
        force: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// A scenario file, or the name of an embedded scenario [default: us_china_2025].
    pub scenario: Option<String>,
    /// Output directory [default: outputs/<scenario name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Random seed (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Compute threads [default: all cores]. Outputs do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Run only the first N weeks.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub ticks: Option<u32>,
    /// Multiply agent counts by F (e.g. 0.1 for a quick look); aggregates stay the same.
    #[arg(long, default_value_t = 1.0, conflicts_with = "size")]
    pub scale: f64,
    /// Run at a size preset: small (~10k households), medium (~100k households, ~10k firms)
    /// or large (~1M households, ~100k firms); sets the scale for this scenario.
    #[arg(long, value_enum)]
    pub size: Option<SizePreset>,
    /// Print where the time went at the end: each phase's share of the tick, output
    /// writing's share of the run, ticks per second and peak memory.
    #[arg(long)]
    pub profile: bool,
    /// Skip the counterfactual run (and effects.csv).
    #[arg(long)]
    pub no_counterfactual: bool,
    /// Overwrite a finished run in the output directory.
    #[arg(long)]
    pub force: bool,
    /// The series' file format: csv (the default), parquet (zstd-compressed, typed
    /// columns), or both.
    #[arg(long, value_enum, default_value_t = crate::output::series::Format::Csv)]
    pub format: crate::output::series::Format,
    /// Draw the charts at the end (`tradesim plot OUT`, into OUT/plots).
    #[arg(long)]
    pub plot: bool,
    /// Write a checkpoint (OUT/checkpoint/state.bin) every N weeks of each run, for
    /// `--resume` after a crash or a kill; a SIGTERM or SIGINT writes one whatever N is.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub checkpoint_every: Option<u32>,
    /// Go on with the interrupted run in OUT from its checkpoint, with the scenario and
    /// options it was started with (SCENARIO, if given, must be the same scenario text);
    /// the finished files are those of a run never stopped.
    #[arg(
        long,
        value_name = "OUT",
        conflicts_with_all = ["out", "seed", "ticks", "scale", "size", "no_counterfactual", "force", "format"]
    )]
    pub resume: Option<PathBuf>,
}

/// A failure of a subcommand, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input: exit code 2.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The run itself failed: exit code 1.
    #[error("{0}")]
    Failed(String),
    /// Stopped by a signal before its work was done, cleanly, so that running the same
    /// command again resumes it: exit code 3.
    #[error("{0}")]
    Interrupted(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) | CliError::Scenario(_) => 2,
            CliError::Failed(_) => 1,
            CliError::Interrupted(_) => 3,
        }
    }
}

pub fn main(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run(args) => run_command(args),
        Command::Validate { scenario } => validate_command(&scenario),
        Command::Scenarios => {
            for (name, text) in scenario::EMBEDDED {
                let sc = scenario::parse(text, name).map_err(CliError::from)?;
                println!("{name:24} {}", sc.description);
            }
            Ok(())
        }
        Command::Export { name, file, force } => export_command(&name, file, force),
        Command::Sweep { command } => sweep::main(command),
        Command::Plot { run, out, partial } => plot_command(&run, out, partial),
        Command::Report { run, out, partial } => report_command(&run, out, partial),
    }
}

fn report_error(e: crate::report::ReportError) -> CliError {
    match e {
        crate::report::ReportError::Input(m) => CliError::Usage(m),
        crate::report::ReportError::Write(m) => CliError::Failed(m),
    }
}

fn plot_command(run: &Path, out: Option<PathBuf>, partial: bool) -> Result<(), CliError> {
    let out = out.unwrap_or_else(|| run.join(crate::output::PLOTS_DIR));
    let plotted = if crate::report::sweep::is_sweep(run) {
        crate::report::plot_sweep(run, &out).map_err(report_error)?
    } else {
        plot_run(run, &out, partial)?
    };
    for f in &plotted.files {
        println!("{}", f.display());
    }
    for s in &plotted.skipped {
        eprintln!("{s}");
    }
    Ok(())
}

fn plot_run(run: &Path, out: &Path, partial: bool) -> Result<crate::report::Plotted, CliError> {
    let dir = crate::report::RunDir::load(run, partial).map_err(report_error)?;
    // An unwritable destination fails before anything is drawn.
    crate::report::prepare_out(out).map_err(report_error)?;
    crate::report::plot(&dir, out).map_err(report_error)
}

fn report_command(run: &Path, out: Option<PathBuf>, partial: bool) -> Result<(), CliError> {
    let out = out.unwrap_or_else(|| run.join(crate::output::REPORT_FILE));
    let dir = crate::report::RunDir::load(run, partial).map_err(report_error)?;
    crate::report::report(&dir, &out).map_err(report_error)?;
    println!("{}", out.display());
    Ok(())
}

/// Loads a scenario named by path or embedded name; returns it with its source label.
pub fn load(arg: &str) -> Result<(Scenario, String), CliError> {
    let path = Path::new(arg);
    if !path.exists()
        && let Some(text) = scenario::embedded(arg)
    {
        let origin = format!("<embedded {arg}>");
        return Ok((scenario::parse(text, &origin)?, origin));
    }
    Ok((scenario::load_file(path)?, path.display().to_string()))
}

fn run_command(args: RunArgs) -> Result<(), CliError> {
    if let Some(out) = args.resume.clone() {
        return resume_command(args, out);
    }
    let name = args.scenario.clone().unwrap_or_else(|| scenario::EMBEDDED[0].0.to_string());
    let (scenario, source) = load(&name)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("outputs").join(&scenario.name));
    let scale = match args.size {
        Some(size) => size.scale_for(scenario.agent_counts().0),
        None => args.scale,
    };
    let opts = RunOptions {
        out,
        seed: args.seed,
        threads: args.threads.map(usize::from),
        ticks: args.ticks,
        counterfactual: !args.no_counterfactual,
        force: args.force,
        scale,
        scenario_source: source,
        format: args.format,
        checkpoint_every: args.checkpoint_every,
        stop: Some(stop_on_signals()?),
    };
    // Check overrides before building anything.
    run::apply_overrides(scenario.clone(), &opts).map_err(|e| CliError::Usage(e.to_string()))?;
    announce(&scenario, &opts, "");
    let mut progress = progress::for_terminal();
    let summary = run::run(scenario, &opts, progress.as_mut()).map_err(run_error)?;
    finish(&args, summary)
}

/// `tradesim run --resume OUT [SCENARIO]`.
fn resume_command(args: RunArgs, out: PathBuf) -> Result<(), CliError> {
    // The header first: it names the scenario, and a damaged file is refused before
    // anything is loaded or changed.
    let header = crate::checkpoint::file::read_header(&out).map_err(CliError::Usage)?;
    let (scenario, source) = match &args.scenario {
        Some(arg) => load(arg)?,
        None => match header.scenario_source.strip_prefix("<embedded ").and_then(|s| s.strip_suffix('>')) {
            Some(name) => load(name)?,
            None => {
                let path = Path::new(&header.scenario_source);
                if !path.is_file() {
                    return Err(CliError::Usage(format!(
                        "{}: the run was started from the scenario file {}, which is not there (relative paths \
                         are from the directory the run was started in); give it: `tradesim run --resume {} \
                         SCENARIO`",
                        crate::checkpoint::file::path(&out).display(),
                        header.scenario_source,
                        out.display()
                    )));
                }
                (scenario::load_file(path)?, header.scenario_source.clone())
            }
        },
    };
    let saved = crate::checkpoint::file::read(&out).map_err(CliError::Usage)?;
    let mut opts = run::resume_options(&saved.header, &out);
    opts.scenario_source = source;
    opts.threads = args.threads.map(usize::from);
    if args.checkpoint_every.is_some() {
        opts.checkpoint_every = args.checkpoint_every;
    }
    opts.stop = Some(stop_on_signals()?);
    let base = run::apply_overrides(scenario.clone(), &opts).map_err(|e| CliError::Usage(e.to_string()))?;
    announce(
        &scenario,
        &opts,
        &format!(", resuming the {} run after week {} of {}", header.run.label(), header.tick, base.ticks),
    );
    let mut progress = progress::for_terminal();
    let summary = run::resume(scenario, saved, &opts, progress.as_mut()).map_err(run_error)?;
    finish(&args, summary)
}

fn announce(scenario: &Scenario, opts: &RunOptions, resuming: &str) {
    let (h, p, r) = scenario.scaled(opts.scale).agent_counts();
    eprintln!(
        "tradesim {}: {} ({} households, {} producers, {} retailers), {} weeks from {}, seed {}, output {}{resuming}",
        crate::VERSION,
        scenario.name,
        h,
        p,
        r,
        opts.ticks.unwrap_or(scenario.ticks),
        scenario.calendar.start,
        opts.seed.unwrap_or(scenario.seed),
        opts.out.display()
    );
}

fn run_error(e: run::RunError) -> CliError {
    match e {
        run::RunError::Invalid(m) => CliError::Usage(m),
        run::RunError::Broken(m) => CliError::Failed(m),
        run::RunError::Interrupted(stop) => {
            let out = stop.checkpoint.as_ref().and_then(|c| c.parent()).and_then(|d| d.parent());
            CliError::Interrupted(match out {
                Some(out) => format!("{stop}\nresume with: tradesim run --resume {}", out.display()),
                None => stop.to_string(),
            })
        }
        run::RunError::Output(o) => match o {
            crate::output::OutputError::Finished(_) | crate::output::OutputError::NotADirectory(_) => {
                CliError::Usage(o.to_string())
            }
            other => CliError::Failed(other.to_string()),
        },
    }
}

/// What a finished run prints, and its charts if asked for.
fn finish(args: &RunArgs, summary: run::RunSummary) -> Result<(), CliError> {
    let res = summary.manifest.residuals.as_ref();
    eprintln!(
        "done in {:.1}s: money residual {} cents, worst goods residual {:.2e}",
        summary.manifest.timings.total_seconds,
        res.map(|r| r.scenario.money_worst.max(r.counterfactual.as_ref().map_or(0, |c| c.money_worst))).unwrap_or(0),
        res.map(|r| r.scenario.goods_worst.max(r.counterfactual.as_ref().map_or(0.0, |c| c.goods_worst)))
            .unwrap_or(0.0),
    );
    if !summary.headline.is_empty() {
        println!("{}", summary.headline);
    }
    if args.profile {
        print!("{}", summary.profile.report());
    }
    println!("outputs in {}", summary.out.display());
    if args.plot {
        // The run is complete whatever happens here: a chart that cannot be drawn is a
        // failure (exit code 1), not bad input.
        plot_command(&summary.out, None, false).map_err(|e| {
            CliError::Failed(format!(
                "the run is complete in {out}, but its charts were not drawn: {e}; `tradesim plot {out}` tries again",
                out = summary.out.display()
            ))
        })?;
    }
    Ok(())
}

/// The first SIGTERM or SIGINT sets the flag: a run writes a checkpoint at the end of
/// the tick and stops; a sweep starts no more runs. A second one ends the process at
/// once (exit 143 or 130).
pub(crate) fn stop_on_signals() -> Result<std::sync::Arc<std::sync::atomic::AtomicBool>, CliError> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for (signal, code) in [(SIGTERM, 143), (SIGINT, 130)] {
        signal_hook::flag::register_conditional_shutdown(signal, code, stop.clone())
            .and_then(|_| signal_hook::flag::register(signal, stop.clone()))
            .map_err(|e| CliError::Failed(format!("cannot handle signal {signal}: {e}")))?;
    }
    Ok(stop)
}

fn validate_command(arg: &str) -> Result<(), CliError> {
    let (sc, source) = load(arg)?;
    let (h, p, r) = sc.agent_counts();
    println!(
        "{source}: ok — {} regions, {} sectors, {} weeks from {}, {} households, {} producers, {} retailers, {} events, {} rules",
        sc.n_regions(),
        sc.n_sectors(),
        sc.ticks,
        sc.calendar.start,
        h,
        p,
        r,
        sc.events.len(),
        sc.rules.len()
    );
    Ok(())
}

fn export_command(name: &str, file: Option<PathBuf>, force: bool) -> Result<(), CliError> {
    let Some(text) = scenario::embedded(name) else {
        return Err(CliError::Usage(format!(
            "no embedded scenario '{name}'; embedded: {}",
            scenario::embedded_names().join(", ")
        )));
    };
    let path = file.unwrap_or_else(|| PathBuf::from(format!("{name}.toml")));
    if path.exists() && !force {
        return Err(CliError::Usage(format!("{} exists; pass --force to overwrite it", path.display())));
    }
    crate::output::write_atomic(&path, text.as_bytes()).map_err(|e| CliError::Failed(e.to_string()))?;
    println!("wrote {}", path.display());
    Ok(())
}
