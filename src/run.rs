//! A run: a scenario and (by default) its counterfactual, streamed to files under one
//! output directory, with effects and a manifest. This is what `tradesim run` calls.

use crate::effects::{self, EffectRow, Effects, Run};
use crate::engine::{PhaseTimings, Simulation};
use crate::output::manifest::{self, AgentCounts, RunResiduals, Timings};
use crate::output::series::{Format, RunMeta};
use crate::output::{self, Manifest, OutputError, RunStatus, SeriesWriter};
use crate::profile::RunProfile;
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest relative goods-balance residual a run may show (MODEL.md §3).
pub const GOODS_TOLERANCE: f64 = 1e-9;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub out: PathBuf,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    /// Run only this many ticks (from the scenario's start).
    pub ticks: Option<u32>,
    pub counterfactual: bool,
    pub force: bool,
    /// Multiplies agent counts (aggregates stay the same).
    pub scale: f64,
    /// Where the scenario came from (a path or `<embedded NAME>`), for the manifest.
    pub scenario_source: String,
    /// The series' file format.
    pub format: Format,
}

impl RunOptions {
    pub fn new(out: impl Into<PathBuf>) -> RunOptions {
        RunOptions {
            out: out.into(),
            seed: None,
            threads: None,
            ticks: None,
            counterfactual: true,
            force: false,
            scale: 1.0,
            scenario_source: String::new(),
            format: Format::Csv,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{0}")]
    Invalid(String),
    /// The run finished but broke an identity it must keep (money or goods).
    #[error("{0}")]
    Broken(String),
}

/// Receives progress; the CLI draws a bar or prints lines.
pub trait Progress {
    fn begin(&mut self, label: &str, ticks: u32);
    fn tick(&mut self, done: u32);
    fn end(&mut self);
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn begin(&mut self, _: &str, _: u32) {}
    fn tick(&mut self, _: u32) {}
    fn end(&mut self) {}
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunSummary {
    pub out: PathBuf,
    pub manifest: Manifest,
    pub effects: Vec<EffectRow>,
    pub headline: String,
    /// Where the time and memory went (what `--profile` prints).
    pub profile: RunProfile,
}

/// Applies the run's overrides (seed, ticks, scale) to a scenario.
pub fn apply_overrides(mut scenario: Scenario, opts: &RunOptions) -> Result<Scenario, RunError> {
    if !(opts.scale.is_finite() && opts.scale > 0.0) {
        return Err(RunError::Invalid(format!(
            "--scale {} is not accepted; give a number > 0 (1 = the scenario's own agent counts)",
            opts.scale
        )));
    }
    if let Some(seed) = opts.seed {
        scenario.seed = seed;
    }
    if let Some(ticks) = opts.ticks {
        if ticks == 0 {
            return Err(RunError::Invalid("--ticks 0 is not accepted; give at least 1".into()));
        }
        scenario.ticks = ticks;
    }
    if opts.scale != 1.0 {
        // The scenario file's limits hold for the scaled counts too.
        for r in &scenario.regions {
            let households = r.households as f64 * opts.scale;
            let firms = r.producers_per_sector.max(r.retailers_per_sector) as f64 * opts.scale;
            if households > 50_000_000.0 || firms > 5_000_000.0 || (households >= 1.0 && r.gdp < 1000.0 * households) {
                return Err(RunError::Invalid(format!(
                    "--scale {} gives region {} {households:.0} households and {firms:.0} firms per sector; \
                     at most 50,000,000 households and 5,000,000 firms per sector per region are accepted, \
                     with at least 1000 of GDP per household",
                    opts.scale, r.name
                )));
            }
        }
        scenario = scenario.scaled(opts.scale);
    }
    Ok(scenario)
}

/// Runs `scenario` (and its counterfactual) and writes every output under `opts.out`.
pub fn run(scenario: Scenario, opts: &RunOptions, progress: &mut dyn Progress) -> Result<RunSummary, RunError> {
    let started = Instant::now();
    let scenario = Arc::new(apply_overrides(scenario, opts)?);
    // Before anything is written: a base period with no steady state near the data is
    // refused. (Not in `apply_overrides`, which `sweep plan` runs on every point: the
    // calibration costs about a tenth of a second a point; a sweep's run reports it.)
    crate::world::calibrate::check_feasible(&scenario).map_err(RunError::Invalid)?;
    let threads = crate::threads::ensure_pool(opts.threads);
    if let Some(want) = opts.threads
        && want != threads
    {
        return Err(RunError::Invalid(format!(
            "this process already runs a compute pool of {threads} threads; --threads {want} can only be set once per process"
        )));
    }
    let out = opts.out.clone();
    output::prepare_dir(&out, opts.force)?;
    // First say this directory holds a run in progress, then remove everything of an
    // earlier run, so no moment shows a "complete" manifest beside missing files.
    let mut manifest = new_manifest(&scenario, opts, threads);
    write_manifest(&out, &manifest)?;
    output::remove_previous(&out, &["effects.csv", output::REPORT_FILE])?;
    output::remove_previous(&out.join(output::PLOTS_DIR), output::CHART_FILES)?;
    for run in ["scenario", "counterfactual"] {
        output::remove_previous(&out.join(run), crate::output::series::ALL_FILES)?;
        // And what a failed run in another format left half-written.
        let partials: Vec<String> = crate::output::series::ALL_FILES.iter().map(|f| format!("{f}.partial")).collect();
        output::remove_previous(&out.join(run), &partials.iter().map(String::as_str).collect::<Vec<_>>())?;
    }

    let mut clocks = Clocks::default();
    let result = simulate(&scenario, opts, &out, progress, &mut manifest, &mut clocks);
    manifest.timings.total_seconds = started.elapsed().as_secs_f64();
    let (h, p, r) = scenario.agent_counts();
    let profile = RunProfile::new(h + p + r, clocks.build, &clocks.phases, clocks.output, started.elapsed());
    manifest.profile = Some(profile.clone());
    match result {
        Ok(rows) => {
            manifest.status = RunStatus::Complete;
            write_manifest(&out, &manifest)?;
            let headline = if opts.counterfactual { effects::headline(&rows, &scenario) } else { String::new() };
            Ok(RunSummary { out, manifest, effects: rows, headline, profile })
        }
        Err(e) => {
            manifest.status = RunStatus::Failed;
            manifest.error = Some(e.to_string());
            let _ = write_manifest(&out, &manifest);
            Err(e)
        }
    }
}

/// Time spent building worlds, in each phase, and writing outputs, over both runs.
#[derive(Default)]
struct Clocks {
    build: Duration,
    phases: PhaseTimings,
    output: Duration,
}

fn simulate(
    scenario: &Arc<Scenario>,
    opts: &RunOptions,
    out: &Path,
    progress: &mut dyn Progress,
    manifest: &mut Manifest,
    clocks: &mut Clocks,
) -> Result<Vec<EffectRow>, RunError> {
    let mut effects = Effects::new(effects::horizons(scenario, scenario.ticks));
    let mut runs = vec![(Run::Scenario, scenario.clone(), true)];
    if opts.counterfactual {
        runs.push((Run::Counterfactual, Arc::new(scenario.counterfactual()), false));
    }
    let mut residuals = Vec::new();
    for (run, sc, policy) in runs {
        let label = if policy { "scenario" } else { "counterfactual" };
        let t0 = Instant::now();
        let mut sim = Simulation::new(sc.clone(), policy);
        clocks.build += t0.elapsed();
        manifest.timings.build_seconds += t0.elapsed().as_secs_f64();
        if policy {
            manifest.calibration = sim.calibration();
        }
        let meta = RunMeta { scenario_hash: scenario.content_hash.clone(), seed: scenario.seed };
        let mut writer = SeriesWriter::create(&out.join(label), scenario.clone(), opts.format, &meta)?;
        progress.begin(label, scenario.ticks);
        let mut output = Duration::ZERO;
        for t in 0..scenario.ticks {
            let report = sim.step();
            let w0 = Instant::now();
            writer.write(report)?;
            effects.record(run, report);
            output += w0.elapsed();
            progress.tick(t + 1);
        }
        progress.end();
        let w0 = Instant::now();
        writer.finish()?;
        clocks.output += output + w0.elapsed();
        clocks.phases.add(sim.timings());
        let seconds = t0.elapsed().as_secs_f64();
        match run {
            Run::Scenario => manifest.timings.scenario_seconds = seconds,
            Run::Counterfactual => manifest.timings.counterfactual_seconds = seconds,
        }
        residuals.push(sim.residuals());
        for f in opts.format.files() {
            manifest.files.push(format!("{label}/{f}"));
        }
    }
    let broken = ["scenario", "counterfactual"]
        .iter()
        .zip(&residuals)
        .find(|(_, r)| {
            r.money_worst != 0
                || r.goods_worst.is_nan()
                || r.goods_worst > GOODS_TOLERANCE
                || r.foreign_assets_worst != 0
                || r.current_account_worst != 0
        })
        .map(|(label, r)| {
            format!(
                "the {label} run broke an identity: money moved by {} cents (tick {:?}), goods residual {:.3e} \
                 (tick {:?}), net foreign assets summed to {} cents (tick {:?}), a region's net foreign assets \
                 moved {} cents away from its current account (tick {:?}, region {:?}); the scenario is beyond \
                 what the model's arithmetic carries",
                r.money_worst,
                r.money_worst_tick,
                r.goods_worst,
                r.goods_worst_tick,
                r.foreign_assets_worst,
                r.foreign_assets_worst_tick,
                r.current_account_worst,
                r.current_account_worst_tick,
                r.current_account_worst_region,
            )
        });
    let mut residuals = residuals.into_iter();
    manifest.residuals =
        Some(RunResiduals { scenario: residuals.next().unwrap_or_default(), counterfactual: residuals.next() });
    if let Some(message) = broken {
        return Err(RunError::Broken(message));
    }
    if !opts.counterfactual {
        return Ok(Vec::new());
    }
    let w0 = Instant::now();
    let rows = effects.rows();
    write_effects(out, &rows, scenario)?;
    clocks.output += w0.elapsed();
    manifest.files.push("effects.csv".into());
    Ok(rows)
}

fn write_effects(out: &Path, rows: &[EffectRow], scenario: &Scenario) -> Result<(), OutputError> {
    let path = out.join("effects.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    let to_io = |e: csv::Error| OutputError::Io { path: path.clone(), source: std::io::Error::other(e.to_string()) };
    w.write_record(effects::HEADER).map_err(to_io)?;
    for row in rows {
        w.write_record(effects::record(row, scenario)).map_err(to_io)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| OutputError::Io { path: path.clone(), source: std::io::Error::other(e.to_string()) })?;
    output::write_atomic(&path, &bytes)
}

fn new_manifest(scenario: &Scenario, opts: &RunOptions, threads: usize) -> Manifest {
    let (households, producers, retailers) = scenario.agent_counts();
    Manifest {
        tradesim_version: crate::VERSION.to_string(),
        git_commit: manifest::git_commit(),
        host: manifest::host_name(),
        status: RunStatus::Running,
        error: None,
        scenario_name: scenario.name.clone(),
        scenario_source: opts.scenario_source.clone(),
        scenario_hash: scenario.content_hash.clone(),
        seed: scenario.seed,
        threads,
        ticks: scenario.ticks,
        start_date: scenario.calendar.date_of(0).to_string(),
        end_date: scenario.calendar.date_of(scenario.ticks.saturating_sub(1)).plus_days(6).to_string(),
        scale: opts.scale,
        counterfactual: opts.counterfactual,
        first_policy_tick: scenario.first_policy_tick(),
        agents: AgentCounts { households, producers, retailers, governments: scenario.n_regions() as u64 },
        timings: Timings::default(),
        residuals: None,
        calibration: Vec::new(),
        profile: None,
        files: Vec::new(),
        scenario: scenario.clone(),
    }
}

fn write_manifest(out: &Path, manifest: &Manifest) -> Result<(), OutputError> {
    let path = out.join("manifest.json");
    let mut text = serde_json::to_string_pretty(manifest)
        .map_err(|e| OutputError::Io { path: path.clone(), source: std::io::Error::other(e.to_string()) })?;
    text.push('\n');
    output::write_atomic(&path, text.as_bytes())
}
