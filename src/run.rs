//! A run: a scenario and (by default) its counterfactual, streamed to files under one
//! output directory, with effects and a manifest. This is what `tradesim run` calls.

use crate::checkpoint::{self, Checkpoint, FileMark, WorldState};
use crate::effects::{self, EffectRow, Effects, Run};
use crate::engine::{PhaseTimings, Simulation};
use crate::output::manifest::{self, AgentCounts, Interruption, RunResiduals, Timings};
use crate::output::series::{Format, RunMeta};
use crate::output::{self, Manifest, OutputError, RunStatus, SeriesWriter};
use crate::profile::RunProfile;
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Write a checkpoint every this many ticks of each world (`OUT/checkpoint/`).
    pub checkpoint_every: Option<u32>,
    /// Set (by a signal handler) to stop between two ticks: the run writes a checkpoint
    /// (CSV series) and ends with [`RunError::Interrupted`].
    pub stop: Option<Arc<AtomicBool>>,
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
            checkpoint_every: None,
            stop: None,
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
    /// Stopped on request (a signal) between two ticks.
    #[error("{0}")]
    Interrupted(Stopped),
}

/// Where a run stopped on request stopped, and the checkpoint it wrote.
#[derive(Debug, Clone)]
pub struct Stopped {
    pub run: Run,
    /// The ticks of `run` done.
    pub tick: u32,
    /// The checkpoint written, `None` when the series' format cannot be resumed.
    pub checkpoint: Option<PathBuf>,
    pub format: Format,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted after week {} of the {} run", self.tick, self.run.label())?;
        match &self.checkpoint {
            Some(path) => write!(f, "; checkpoint written to {}", path.display()),
            None => write!(
                f,
                "; no checkpoint was written (a {} series cannot be resumed; --format csv can)",
                if self.format == Format::Parquet { "Parquet" } else { "--format both" }
            ),
        }
    }
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

/// Checks the options that need no scenario.
fn check_options(opts: &RunOptions) -> Result<(), RunError> {
    match opts.checkpoint_every {
        Some(0) => {
            Err(RunError::Invalid("--checkpoint-every 0 is not accepted; give a number of weeks, at least 1".into()))
        }
        Some(_) if opts.format != Format::Csv => Err(RunError::Invalid(format!(
            "--checkpoint-every needs the CSV series (--format csv, the default): a {} file cannot be cut back \
             to a checkpoint and written on; run with CSV and convert, or run without checkpoints",
            if opts.format == Format::Parquet { "Parquet" } else { "--format both run's Parquet" }
        ))),
        _ => Ok(()),
    }
}

/// The compute pool for `threads`, refusing a second, different size in one process.
fn pool(threads: Option<usize>) -> Result<usize, RunError> {
    let have = crate::threads::ensure_pool(threads);
    match threads {
        Some(want) if want != have => Err(RunError::Invalid(format!(
            "this process already runs a compute pool of {have} threads; --threads {want} can only be set once per process"
        ))),
        _ => Ok(have),
    }
}

/// Runs `scenario` (and its counterfactual) and writes every output under `opts.out`.
pub fn run(scenario: Scenario, opts: &RunOptions, progress: &mut dyn Progress) -> Result<RunSummary, RunError> {
    let started = Instant::now();
    check_options(opts)?;
    let scenario = Arc::new(apply_overrides(scenario, opts)?);
    // Before anything is written: a base period with no steady state near the data is
    // refused. (Not in `apply_overrides`, which `sweep plan` runs on every point: the
    // calibration costs about a tenth of a second a point; a sweep's run reports it.)
    crate::world::calibrate::check_feasible(&scenario).map_err(RunError::Invalid)?;
    let threads = pool(opts.threads)?;
    let out = opts.out.clone();
    output::prepare_dir(&out, opts.force)?;
    if !opts.force && checkpoint::file::path(&out).exists() {
        // A checkpoint, readable or not, is a run someone may want to resume.
        let what = match checkpoint::file::read_header(&out) {
            Ok(header) => format!("a checkpoint after week {} of its {} run", header.tick, header.run.label()),
            Err(e) => format!("a checkpoint that cannot be read ({e})"),
        };
        return Err(RunError::Invalid(format!(
            "{} holds an interrupted run with {what}; resume it with `tradesim run --resume {}`, or pass \
             --force to start over",
            out.display(),
            out.display()
        )));
    }
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
    remove_checkpoint(&out)?;
    execute(&scenario, opts, &mut manifest, None, progress, started)
}

/// The options a run resumed from `header` runs with: the first run's overrides and
/// format (threads, progress and signals are the caller's).
pub fn resume_options(header: &checkpoint::Header, out: &Path) -> RunOptions {
    RunOptions {
        out: out.to_path_buf(),
        seed: header.seed,
        threads: None,
        ticks: header.ticks,
        counterfactual: header.counterfactual,
        force: false,
        scale: header.scale,
        scenario_source: header.scenario_source.clone(),
        format: header.format,
        checkpoint_every: header.checkpoint_every,
        stop: None,
    }
}

/// Goes on with the interrupted run in `opts.out` from its checkpoint (`opts` from
/// [`resume_options`]); `scenario` is the scenario it ran, as loaded again. Everything is
/// checked before anything in the run directory is changed: the scenario's text against
/// the checkpoint's hash, the manifest, and every series file against the length the
/// checkpoint recorded. The finished run's files are the bytes of a run never stopped.
pub fn resume(
    scenario: Scenario,
    saved: Checkpoint,
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<RunSummary, RunError> {
    let started = Instant::now();
    check_options(opts)?;
    let out = opts.out.clone();
    let ck = checkpoint::file::path(&out);
    let header = &saved.header;
    if scenario.content_hash != header.scenario_hash {
        return Err(RunError::Invalid(format!(
            "{}: the scenario's text changed since the checkpoint was written (its content hash is now {}, the \
             checkpoint {} was made from {}); resume with the scenario as it was, or start again with --force",
            opts.scenario_source,
            scenario.content_hash,
            ck.display(),
            header.scenario_hash
        )));
    }
    let scenario = Arc::new(apply_overrides(scenario, opts)?);
    check_manifest(&out, header)?;
    let mut marks = Vec::new();
    // Final names to take back to `.partial`: a process that died while renaming the
    // finished files left some under their final names, whole.
    let mut unrenames = Vec::new();
    for m in &saved.body.files {
        let mut path = out.join(&m.path);
        if let Some(done) = path.to_str().and_then(|p| p.strip_suffix(".partial")).map(PathBuf::from)
            && !path.exists()
            && std::fs::metadata(&done).is_ok_and(|md| md.len() >= m.bytes)
        {
            unrenames.push((done.clone(), path.clone()));
            path = done;
        }
        let len = std::fs::metadata(&path).map(|md| md.len()).map_err(|e| {
            RunError::Invalid(format!(
                "{}: {e}; the checkpoint {} expects it with {} bytes (the run's files were moved or removed \
                 since); start again with --force",
                path.display(),
                ck.display(),
                m.bytes
            ))
        })?;
        if len < m.bytes {
            return Err(RunError::Invalid(format!(
                "{}: {len} bytes, shorter than the {} bytes the checkpoint {} recorded (the file was changed \
                 since); start again with --force",
                path.display(),
                m.bytes,
                ck.display()
            )));
        }
        marks.push((out.join(&m.path), m.bytes));
    }
    let threads = pool(opts.threads)?;
    // The world to go on with, rebuilt and given the saved state, and the effects so
    // far: a state that does not fit is refused before anything changes.
    let t0 = Instant::now();
    let ck_err = |e: &dyn std::fmt::Display| RunError::Invalid(format!("{}: {e}", ck.display()));
    let body = saved.body;
    let effects =
        Effects::restore(effects::horizons(&scenario, scenario.ticks), body.effects).map_err(|e| ck_err(&e))?;
    let mut sim = match header.run {
        Run::Scenario => Simulation::new(scenario.clone(), true),
        Run::Counterfactual => Simulation::new(Arc::new(scenario.counterfactual()), false),
    };
    body.world.apply(sim.world_mut()).map_err(|e| ck_err(&e))?;
    let build = t0.elapsed();
    // From here on the run directory changes.
    let mut manifest = new_manifest(&scenario, opts, threads);
    manifest.resumed = previous_resumes(&out) + 1;
    manifest.calibration = body.calibration;
    manifest.timings = body.timings;
    write_manifest(&out, &manifest)?;
    output::remove_previous(&out, &["effects.csv", output::REPORT_FILE])?;
    output::remove_previous(&out.join(output::PLOTS_DIR), output::CHART_FILES)?;
    for (done, partial) in &unrenames {
        std::fs::rename(done, partial).map_err(output::io_err(partial))?;
    }
    let resumed = Resumed { run: header.run, marks, sim, build, effects, residuals: body.residuals };
    execute(&scenario, opts, &mut manifest, Some(resumed), progress, started)
}

/// The manifest of the run to resume must be one of this scenario, not complete.
fn check_manifest(out: &Path, header: &checkpoint::Header) -> Result<(), RunError> {
    #[derive(serde::Deserialize)]
    struct Seen {
        status: RunStatus,
        scenario_hash: String,
    }
    let path = out.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        RunError::Invalid(format!("{}: {e}; a run directory to resume holds the manifest of its run", path.display()))
    })?;
    let seen: Seen = serde_json::from_str(&text)
        .map_err(|e| RunError::Invalid(format!("{}: not a run's manifest ({e})", path.display())))?;
    if seen.status == RunStatus::Complete {
        return Err(RunError::Invalid(format!("{}: the run is complete; there is nothing to resume", path.display())));
    }
    if seen.scenario_hash != header.scenario_hash {
        return Err(RunError::Invalid(format!(
            "{}: the run there is of a scenario with hash {}, the checkpoint's is {}; the checkpoint belongs to \
             another run",
            path.display(),
            seen.scenario_hash,
            header.scenario_hash
        )));
    }
    Ok(())
}

fn previous_resumes(out: &Path) -> u32 {
    #[derive(serde::Deserialize)]
    struct Seen {
        #[serde(default)]
        resumed: u32,
    }
    std::fs::read_to_string(out.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Seen>(&t).ok())
        .map_or(0, |s| s.resumed)
}

fn remove_checkpoint(out: &Path) -> Result<(), OutputError> {
    let dir = out.join(checkpoint::file::DIR);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(output::io_err(&dir)(e)),
        _ => Ok(()),
    }
}

/// A run taken up from a checkpoint.
struct Resumed {
    run: Run,
    /// The series files and their lengths at the checkpoint, checked.
    marks: Vec<(PathBuf, u64)>,
    /// The world of `run`, at the checkpoint's tick, and the time taken to rebuild it.
    sim: Simulation,
    build: Duration,
    effects: Effects,
    /// The identities' residuals of the runs finished before the checkpoint.
    residuals: Vec<crate::metrics::ledger::Residuals>,
}

/// Simulates, then writes the manifest that says how it ended.
fn execute(
    scenario: &Arc<Scenario>,
    opts: &RunOptions,
    manifest: &mut Manifest,
    resumed: Option<Resumed>,
    progress: &mut dyn Progress,
    started: Instant,
) -> Result<RunSummary, RunError> {
    let out = opts.out.clone();
    let before = manifest.timings.total_seconds;
    let mut clocks = Clocks::default();
    let result = simulate(scenario, opts, progress, manifest, &mut clocks, resumed, started);
    manifest.timings.total_seconds = before + started.elapsed().as_secs_f64();
    let (h, p, r) = scenario.agent_counts();
    let profile = RunProfile::new(h + p + r, clocks.build, &clocks.phases, clocks.output, started.elapsed());
    manifest.profile = Some(profile.clone());
    match result {
        Ok(rows) => {
            manifest.status = RunStatus::Complete;
            write_manifest(&out, manifest)?;
            // A complete run needs no checkpoint.
            remove_checkpoint(&out)?;
            let headline = if opts.counterfactual { effects::headline(&rows, scenario) } else { String::new() };
            Ok(RunSummary { out, manifest: manifest.clone(), effects: rows, headline, profile })
        }
        Err(RunError::Interrupted(stop)) => {
            manifest.status = RunStatus::Interrupted;
            manifest.interrupted = Some(Interruption {
                run: stop.run,
                tick: stop.tick,
                checkpoint: stop
                    .checkpoint
                    .is_some()
                    .then(|| format!("{}/{}", checkpoint::file::DIR, checkpoint::file::FILE)),
            });
            write_manifest(&out, manifest)?;
            Err(RunError::Interrupted(stop))
        }
        Err(e) => {
            manifest.status = RunStatus::Failed;
            manifest.error = Some(e.to_string());
            let _ = write_manifest(&out, manifest);
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
    progress: &mut dyn Progress,
    manifest: &mut Manifest,
    clocks: &mut Clocks,
    resumed: Option<Resumed>,
    started: Instant,
) -> Result<Vec<EffectRow>, RunError> {
    let out = opts.out.as_path();
    let horizons = effects::horizons(scenario, scenario.ticks);
    let (mut effects, mut residuals, mut marks, first, mut taken_up) = match resumed {
        None => (Effects::new(horizons), Vec::new(), Vec::new(), Run::Scenario, None),
        Some(r) => (r.effects, r.residuals, r.marks, r.run, Some((r.sim, r.build))),
    };
    let mut runs = vec![(Run::Scenario, scenario.clone(), true)];
    if opts.counterfactual {
        runs.push((Run::Counterfactual, Arc::new(scenario.counterfactual()), false));
    }
    let last = runs.len() - 1;
    let mut labels = Vec::new();
    // The series files of the runs finished, whole, to rename once every file is.
    let mut renames = Vec::new();
    for (i, (run, sc, policy)) in runs.into_iter().enumerate() {
        let label = run.label();
        let dir = out.join(label);
        labels.push(label);
        if run < first {
            // Finished before the checkpoint: its files are whole `.partial` files.
            renames.extend(opts.format.files().iter().map(|f| (output::partial_path(&dir.join(f)), dir.join(f))));
            continue;
        }
        let t0 = Instant::now();
        let (mut sim, mut writer, built) = match taken_up.take() {
            Some((sim, built)) => {
                let mine: Vec<(PathBuf, u64)> = marks.iter().filter(|(p, _)| p.starts_with(&dir)).cloned().collect();
                for (path, bytes) in &marks {
                    if !path.starts_with(&dir) {
                        // A finished run's file: only what the checkpoint saw of it is kept.
                        truncate(path, *bytes)?;
                    }
                }
                marks.retain(|(p, _)| !p.starts_with(&dir));
                (sim, SeriesWriter::reopen(&dir, scenario.clone(), &mine)?, built)
            }
            None => {
                let sim = Simulation::new(sc.clone(), policy);
                let meta = RunMeta { scenario_hash: scenario.content_hash.clone(), seed: scenario.seed };
                (sim, SeriesWriter::create(&dir, scenario.clone(), opts.format, &meta)?, Duration::ZERO)
            }
        };
        let build = built + t0.elapsed();
        clocks.build += build;
        manifest.timings.build_seconds += build.as_secs_f64();
        if policy {
            manifest.calibration = sim.calibration();
        }
        let from = sim.next_tick();
        progress.begin(label, scenario.ticks);
        if from > 0 {
            progress.tick(from);
        }
        let mut output = Duration::ZERO;
        let mut stage_seconds = build.as_secs_f64();
        for t in from..scenario.ticks {
            let s0 = Instant::now();
            let report = sim.step();
            let w0 = Instant::now();
            writer.write(report)?;
            effects.record(run, report);
            output += w0.elapsed();
            stage_seconds += s0.elapsed().as_secs_f64();
            progress.tick(t + 1);
            let done = t + 1;
            if i == last && done == scenario.ticks {
                break; // the run is done: nothing to stop or save
            }
            let stop = opts.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst));
            let due = opts.checkpoint_every.is_some_and(|n| done % n == 0);
            if !(stop || due) {
                continue;
            }
            let mut saved = None;
            if let Some(current) = writer.mark()? {
                let c0 = Instant::now();
                // The timings a resume starts from: this process's so far, this
                // checkpoint counted.
                let mut timings = manifest.timings.clone();
                add_stage_seconds(&mut timings, run, stage_seconds);
                timings.total_seconds += started.elapsed().as_secs_f64();
                timings.checkpoints += 1;
                let files = marks
                    .iter()
                    .chain(&current)
                    .map(|(p, bytes)| FileMark { path: relative(out, p), bytes: *bytes })
                    .collect();
                let body = checkpoint::Body {
                    world: WorldState::capture(sim.world_mut()),
                    effects: effects.save(),
                    residuals: residuals.clone(),
                    calibration: manifest.calibration.clone(),
                    timings,
                    files,
                };
                let bytes = checkpoint::file::write(out, header(scenario, opts, run, done), &body)?;
                manifest.timings.checkpoints += 1;
                manifest.timings.checkpoint_seconds += c0.elapsed().as_secs_f64();
                manifest.timings.checkpoint_bytes = bytes;
                saved = Some(checkpoint::file::path(out));
            }
            if stop {
                progress.end();
                return Err(RunError::Interrupted(Stopped { run, tick: done, checkpoint: saved, format: opts.format }));
            }
        }
        progress.end();
        let w0 = Instant::now();
        let whole = writer.finish()?;
        for (partial, _) in &whole {
            let bytes = std::fs::metadata(partial).map_err(output::io_err(partial))?.len();
            marks.push((partial.clone(), bytes));
        }
        renames.extend(whole);
        clocks.output += output + w0.elapsed();
        clocks.phases.add(sim.timings());
        add_stage_seconds(&mut manifest.timings, run, stage_seconds);
        residuals.push(sim.residuals());
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
    for label in labels {
        for f in opts.format.files() {
            manifest.files.push(format!("{label}/{f}"));
        }
    }
    let w0 = Instant::now();
    let rows = if opts.counterfactual { effects.rows() } else { Vec::new() };
    if opts.counterfactual {
        write_effects(out, &rows, scenario)?;
        manifest.files.push("effects.csv".into());
    }
    for (partial, path) in renames {
        std::fs::rename(&partial, &path).map_err(output::io_err(&path))?;
    }
    clocks.output += w0.elapsed();
    Ok(rows)
}

fn add_stage_seconds(timings: &mut Timings, run: Run, seconds: f64) {
    match run {
        Run::Scenario => timings.scenario_seconds += seconds,
        Run::Counterfactual => timings.counterfactual_seconds += seconds,
    }
}

fn truncate(path: &Path, bytes: u64) -> Result<(), OutputError> {
    std::fs::OpenOptions::new().write(true).open(path).and_then(|f| f.set_len(bytes)).map_err(output::io_err(path))
}

/// `path` below `out`, with `/` between its parts, as a checkpoint records it.
fn relative(out: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(out).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn header(scenario: &Scenario, opts: &RunOptions, run: Run, tick: u32) -> checkpoint::Header {
    checkpoint::Header {
        tradesim_version: crate::VERSION.to_string(),
        scenario_name: scenario.name.clone(),
        scenario_source: opts.scenario_source.clone(),
        scenario_hash: scenario.content_hash.clone(),
        seed: opts.seed,
        ticks: opts.ticks,
        scale: opts.scale,
        counterfactual: opts.counterfactual,
        format: opts.format,
        checkpoint_every: opts.checkpoint_every,
        run,
        tick,
        body_bytes: 0,
        body_crc32: 0,
    }
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
        checkpoint_every: opts.checkpoint_every,
        interrupted: None,
        resumed: 0,
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
