//! `sweep collect`: one table of a sweep's runs and their headline effects, every run's
//! effects in long form, a summary over replicates, timings, and optionally series.
//!
//! The result files (`runs`, `effects`, `summary` and `series/`, each as `.csv` and/or
//! `.parquet`) hold only what the runs computed, in the sweep's order, so they are byte-identical wherever and
//! however the runs ran (one machine or a cluster, any shards, resumed or not); where and
//! how long each run took goes to `timings.csv`. Runs that are not complete are rows
//! marked `failed` or `missing` in `runs.csv`, with no effects; a complete run whose
//! effects.csv has a cell that is not what tradesim writes is marked `unreadable`.

use super::plan::{Plan, RunId};
use super::spec::ParamValue;
use super::status::{self, RunState};
use super::{Layout, SweepError, io_error};
use crate::effects::{self, HEADLINE};
use crate::output::fmt_opt;
use crate::output::parquet::{Kind, ParquetFile, Rows};
use crate::output::series::{self, Format};
use crate::scenario::{self, Scenario};
use rayon::prelude::*;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The series files a collect can gather (`--series`), as `tradesim run` names them.
pub const SERIES: [&str; 4] = ["regions", "trade", "sectors", "policy"];

/// What `collect` wrote and found.
#[derive(Debug)]
pub struct Collected {
    pub files: Vec<PathBuf>,
    pub runs: usize,
    pub complete: usize,
    pub failed: usize,
    pub missing: usize,
    /// Complete runs whose effects.csv could not be read, with why.
    pub unreadable: Vec<String>,
}

/// One headline effect column: a region at a horizon, one metric.
struct Column {
    name: String,
    region: usize,
    horizon: &'static str,
    metric: usize,
}

/// The headline columns of this sweep: each headline region (the regions the policy is
/// about) at 13 weeks, 52 weeks and the end, as far as any run reaches them. Runs that
/// sweep the policy's dates or parties can have other regions and horizons than the base,
/// so then every point's scenario is asked; the columns are their union, in order.
fn columns(plan: &Plan) -> Vec<Column> {
    let ticks = |sc: &Scenario| plan.spec.ticks.unwrap_or(sc.ticks);
    let varies = plan.params.iter().any(|r| {
        r.field.starts_with("events[") || r.field.starts_with("rules[") || r.field == "start" || r.field == "end"
    });
    let scenarios: Vec<Scenario> = if varies {
        (0..plan.points.len())
            .into_par_iter()
            .filter_map(|p| scenario::parse(&plan.scenario_text(p, plan.root_seed), "<point>").ok())
            .collect()
    } else {
        vec![plan.base.scenario.clone()]
    };
    let mut regions: Vec<usize> = Vec::new();
    let mut reached: Vec<&'static str> = Vec::new();
    for sc in &scenarios {
        for r in effects::headline_regions(sc) {
            if !regions.contains(&r) {
                regions.push(r);
            }
        }
        let horizons = effects::horizons(sc, ticks(sc));
        let labels: Vec<&str> = horizons.iter().map(|h| h.label.as_str()).collect();
        for h in ["13w", "52w", "end"] {
            if labels.contains(&h) && !reached.contains(&h) {
                reached.push(h);
            }
        }
    }
    reached.sort_by_key(|h| ["13w", "52w", "end"].iter().position(|x| x == h));
    let names = &plan.base.scenario.regions;
    let mut out = Vec::new();
    for r in regions {
        for &h in &reached {
            for (m, metric) in HEADLINE.iter().enumerate() {
                out.push(Column {
                    name: format!("{}_{h}_{}", names[r].name, metric.column()),
                    region: r,
                    horizon: h,
                    metric: m,
                });
            }
        }
    }
    out
}

/// Checks the `--series` names before anything is read.
pub fn check_series(names: &[String]) -> Result<(), SweepError> {
    for n in names {
        if !SERIES.contains(&n.as_str()) {
            return Err(SweepError::Usage(format!(
                "--series {n} is not accepted; give a comma-separated list of: {}",
                SERIES.join(", ")
            )));
        }
    }
    Ok(())
}

/// A collected CSV file, streamed under its `.partial` name and renamed when all are whole.
struct Out {
    path: PathBuf,
    partial: PathBuf,
    file: BufWriter<File>,
}

impl Out {
    fn create(path: PathBuf) -> Result<Out, SweepError> {
        let partial = crate::output::partial_path(&path);
        let file = BufWriter::with_capacity(1 << 16, File::create(&partial).map_err(io_error(&partial))?);
        Ok(Out { path, partial, file })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), SweepError> {
        self.file.write_all(bytes).map_err(io_error(&self.partial))
    }

    fn finish(self) -> Result<(PathBuf, PathBuf), SweepError> {
        let partial = self.partial;
        let file =
            self.file.into_inner().map_err(|e| SweepError::Io { path: partial.clone(), source: e.into_error() })?;
        file.sync_all().map_err(io_error(&partial))?;
        Ok((partial, self.path))
    }
}

/// One collected table in the formats asked for: `STEM.csv` and/or `STEM.parquet`.
/// Rows are made in a [`Part`] (on any thread) and appended in the sweep's order.
struct Table {
    csv: Option<Out>,
    parquet: Option<ParquetFile>,
}

/// Rows of a table made away from it: the CSV text, and the same cells each read as its
/// column's kind for Parquet, so both files hold the same values.
struct Part {
    csv: Option<csv::Writer<Vec<u8>>>,
    lines: Option<String>,
    parquet: Option<Rows>,
}

impl Part {
    /// A new empty part of the same table.
    fn empty(&self) -> Part {
        Part {
            csv: self.csv.as_ref().map(|_| writer()),
            lines: self.lines.as_ref().map(|_| String::new()),
            parquet: self.parquet.as_ref().map(Rows::like),
        }
    }

    fn row<S: AsRef<[u8]>>(&mut self, row: &[S]) -> Result<(), String> {
        if let Some(w) = &mut self.csv {
            w.write_record(row).map_err(|e| e.to_string())?;
        }
        if let Some(rows) = &mut self.parquet {
            rows.csv_row(row)?;
        }
        Ok(())
    }
}

impl Table {
    fn create(
        dir: &Path,
        stem: &str,
        columns: &[(String, Kind)],
        format: Format,
        meta: &[(&str, String)],
    ) -> Result<Table, SweepError> {
        let csv = if format.csv() {
            let mut out = Out::create(dir.join(format!("{stem}.csv")))?;
            let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
            out.write(csv_line(&names).as_bytes())?;
            out.write(b"\n")?;
            Some(out)
        } else {
            None
        };
        let parquet = if format.parquet() {
            let columns: Vec<(&str, Kind)> = columns.iter().map(|(n, k)| (n.as_str(), *k)).collect();
            Some(ParquetFile::create(dir.join(format!("{stem}.parquet")), &columns, meta)?)
        } else {
            None
        };
        Ok(Table { csv, parquet })
    }

    /// An empty part; `lines`: its CSV is given as lines of text (effects), not rows.
    fn part(&self, lines: bool) -> Part {
        let csv = self.csv.is_some() && !lines;
        Part {
            csv: csv.then(writer),
            lines: (self.csv.is_some() && lines).then(String::new),
            parquet: self.parquet.as_ref().map(ParquetFile::rows),
        }
    }

    fn append(&mut self, part: Part) -> Result<(), SweepError> {
        if let Some(out) = &mut self.csv {
            if let Some(w) = part.csv {
                out.write(&w.into_inner().map_err(|e| SweepError::Failed(e.to_string()))?)?;
            }
            if let Some(text) = part.lines {
                out.write(text.as_bytes())?;
            }
        }
        if let (Some(pq), Some(rows)) = (&mut self.parquet, part.parquet) {
            pq.append(rows)?;
        }
        Ok(())
    }

    /// Appends one row made here.
    fn row<S: AsRef<[u8]>>(&mut self, row: &[S]) -> Result<(), SweepError> {
        if let Some(out) = &mut self.csv {
            let mut w = writer();
            w.write_record(row).map_err(|e| SweepError::Failed(format!("{}: {e}", out.partial.display())))?;
            out.write(&w.into_inner().map_err(|e| SweepError::Failed(e.to_string()))?)?;
        }
        if let Some(pq) = &mut self.parquet {
            pq.csv_row(row)?;
        }
        Ok(())
    }

    fn finish(self, whole: &mut Vec<(PathBuf, PathBuf)>) -> Result<(), SweepError> {
        if let Some(out) = self.csv {
            whole.push(out.finish()?);
        }
        if let Some(pq) = self.parquet {
            whole.push(pq.finish()?);
        }
        Ok(())
    }
}

/// The Parquet kind of each swept parameter's column, from the values it takes: whole
/// numbers, numbers (whole and not), true/false, dates, names, or else TOML text.
fn param_kinds(plan: &Plan) -> Vec<Kind> {
    (0..plan.params.len())
        .map(|c| {
            let values = plan.points.iter().map(|p| &p[c]);
            let all = |f: fn(&ParamValue) -> bool| values.clone().all(f);
            if all(|v| matches!(v, ParamValue::Int(_))) {
                Kind::Int
            } else if all(|v| matches!(v, ParamValue::Int(_) | ParamValue::Float(_))) {
                Kind::Float
            } else if all(|v| matches!(v, ParamValue::Bool(_))) {
                Kind::Bool
            } else if all(|v| matches!(v, ParamValue::Date(_))) {
                Kind::Date
            } else if all(|v| matches!(v, ParamValue::Str(_))) {
                Kind::Name
            } else {
                Kind::Text
            }
        })
        .collect()
}

/// The kinds of `effects.csv`'s columns.
fn effect_kind(column: &str) -> Kind {
    match column {
        "metric" | "region" | "horizon" => Kind::Name,
        "partner" | "sector" => Kind::OptName,
        "horizon_tick" => Kind::U32,
        "horizon_date" => Kind::Date,
        _ => Kind::Float,
    }
}

/// The header of each series a collect can gather, as `tradesim run` writes it.
fn series_header(name: &str) -> &'static [&'static str] {
    match name {
        "regions" => series::REGIONS_HEADER,
        "trade" => series::TRADE_HEADER,
        "sectors" => series::SECTORS_HEADER,
        _ => series::POLICY_HEADER,
    }
}

/// Collects the sweep in `dir`: every result file is written under a `.partial` name and
/// they are renamed together at the end, so a collect that fails leaves the previous
/// collect's files as they were.
pub fn collect(dir: &Path, plan: &Plan, series: &[String], format: Format) -> Result<Collected, SweepError> {
    check_series(series)?;
    let collected = write_tables(dir, plan, series, format);
    if collected.is_err() {
        // Nothing half-written stays behind: the earlier collect's files are as they were.
        for ext in ["csv", "parquet"] {
            for stem in ["runs", "effects", "summary", "timings"] {
                let _ = std::fs::remove_file(dir.join(format!("{stem}.{ext}.partial")));
            }
            for name in SERIES {
                let _ = std::fs::remove_file(dir.join("series").join(format!("{name}.{ext}.partial")));
            }
        }
        let _ = std::fs::remove_dir(dir.join("series"));
    }
    collected
}

fn write_tables(dir: &Path, plan: &Plan, series: &[String], format: Format) -> Result<Collected, SweepError> {
    let layout = Layout::new(dir);
    let me = super::host_name();
    let columns = columns(plan);
    let params = plan.param_names();
    let runs = plan.runs();
    let meta = [("root_seed", plan.root_seed.to_string()), ("scenario", plan.base.scenario.name.clone())];
    let mut lead_columns: Vec<(String, Kind)> =
        vec![("point".into(), Kind::U32), ("replicate".into(), Kind::U32), ("seed".into(), Kind::Count)];
    lead_columns.extend(params.iter().map(|p| p.to_string()).zip(param_kinds(plan)));

    let mut header = lead_columns.clone();
    header.push(("status".into(), Kind::Name));
    header.extend(columns.iter().map(|c| (c.name.clone(), Kind::Float)));
    let runs_out = Table::create(dir, "runs", &header, format, &meta)?;

    let mut header = lead_columns.clone();
    header.extend(effects::HEADER.iter().map(|c| (c.to_string(), effect_kind(c))));
    let effects_out = Table::create(dir, "effects", &header, format, &meta)?;

    let timing_columns = ["point", "replicate", "status", "host", "threads", "build_seconds", "total_seconds"];
    let timing_columns: Vec<(String, Kind)> = timing_columns.iter().map(|c| (c.to_string(), Kind::Text)).collect();
    let timings_out = Table::create(dir, "timings", &timing_columns, Format::Csv, &meta)?;

    if !series.is_empty() {
        let series_dir = dir.join("series");
        std::fs::create_dir_all(&series_dir).map_err(io_error(&series_dir))?;
    }
    let mut series_out: Vec<(String, Table)> = Vec::new();
    for name in series {
        let mut header: Vec<(String, Kind)> =
            vec![("point".into(), Kind::U32), ("replicate".into(), Kind::U32), ("world".into(), Kind::Name)];
        let file = series_header(name);
        header.extend(file.iter().map(|c| c.to_string()).zip(series::kinds(file)));
        series_out.push((name.clone(), Table::create(&dir.join("series"), name, &header, format, &meta)?));
    }

    let templates = (effects_out.part(true), series_out.iter().map(|(_, t)| t.part(false)).collect::<Vec<_>>());
    let sinks = Sinks {
        // values[point][column] over complete replicates, for the summary.
        values: vec![vec![Vec::new(); columns.len()]; plan.points.len()],
        collected: Collected {
            files: Vec::new(),
            runs: runs.len(),
            complete: 0,
            failed: 0,
            missing: 0,
            unreadable: Vec::new(),
        },
        runs_out,
        effects_out,
        timings_out,
        series_out,
    };
    // Runs are read and their rows made in parallel, two per thread at a time (at most
    // 16), while a writer appends the previous ones in the sweep's order: memory holds
    // at most three such chunks of runs, however long the sweep.
    let chunk = (2 * rayon::current_num_threads()).clamp(2, 16);
    let sinks = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(usize, Result<RunRows, SweepError>)>>(1);
        let writer = scope.spawn(move || {
            let mut sinks = sinks;
            for read in rx {
                for (point, rows) in read {
                    sinks.take(point, rows?)?;
                }
            }
            Ok::<Sinks, SweepError>(sinks)
        });
        for runs in runs.chunks(chunk) {
            let parts: Vec<(Part, Vec<Part>)> =
                runs.iter().map(|_| (templates.0.empty(), templates.1.iter().map(Part::empty).collect())).collect();
            let read: Vec<(usize, Result<RunRows, SweepError>)> = runs
                .par_iter()
                .zip(parts)
                .map(|(run, (effects, series_parts))| {
                    let parts = series.iter().zip(series_parts).collect();
                    (run.point, read_run(plan, &layout, &me, &columns, run, effects, parts))
                })
                .collect();
            if tx.send(read).is_err() {
                break; // the writer stopped on an error, which join returns
            }
        }
        drop(tx);
        writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    let Sinks { values, mut collected, runs_out, effects_out, timings_out, series_out } = sinks;

    let mut header: Vec<(String, Kind)> = vec![("point".into(), Kind::U32)];
    header.extend(lead_columns[3..].iter().cloned());
    header.push(("effect".into(), Kind::Name));
    header.push(("n".into(), Kind::Count));
    header.extend(["mean", "sd", "ci95_low", "ci95_high"].iter().map(|s| (s.to_string(), Kind::Float)));
    let mut summary = Table::create(dir, "summary", &header, format, &meta)?;
    for (point, per_column) in values.iter().enumerate() {
        for (c, xs) in per_column.iter().enumerate() {
            let mut row = vec![point.to_string()];
            row.extend(plan.points[point].iter().map(|v| v.cell()));
            row.push(columns[c].name.clone());
            let stats = Stats::of(xs);
            row.push(xs.len().to_string());
            row.extend([stats.mean, stats.sd, stats.low, stats.high].iter().map(|v| fmt_opt(*v)));
            summary.row(&row)?;
        }
    }

    let mut whole = Vec::new();
    for table in [runs_out, effects_out, summary, timings_out] {
        table.finish(&mut whole)?;
    }
    for (_, table) in series_out {
        table.finish(&mut whole)?;
    }
    // Files of an earlier collect that this one does not write again (a series not asked
    // for, a format not asked for) would no longer match the runs: they go first, so no
    // stale file sits beside new ones whatever happens next.
    for ext in ["csv", "parquet"] {
        let mut names: Vec<PathBuf> =
            ["runs", "effects", "summary"].iter().map(|stem| dir.join(format!("{stem}.{ext}"))).collect();
        names.extend(SERIES.iter().map(|name| dir.join("series").join(format!("{name}.{ext}"))));
        for path in names {
            if path.exists() && !whole.iter().any(|(_, p)| *p == path) {
                std::fs::remove_file(&path).map_err(io_error(&path))?;
            }
        }
    }
    for (partial, path) in whole {
        std::fs::rename(&partial, &path).map_err(io_error(&path))?;
        collected.files.push(path);
    }
    let series_dir = dir.join("series");
    if series_dir.is_dir() && std::fs::read_dir(&series_dir).map_err(io_error(&series_dir))?.next().is_none() {
        std::fs::remove_dir(&series_dir).map_err(io_error(&series_dir))?;
    }
    Ok(collected)
}

/// The collected tables that take each run's rows, and what the summary and the report
/// count.
struct Sinks {
    values: Vec<Vec<Vec<f64>>>,
    collected: Collected,
    runs_out: Table,
    effects_out: Table,
    timings_out: Table,
    series_out: Vec<(String, Table)>,
}

impl Sinks {
    fn take(&mut self, point: usize, rows: RunRows) -> Result<(), SweepError> {
        match rows.state {
            State::Complete => self.collected.complete += 1,
            State::Failed => self.collected.failed += 1,
            State::Missing => self.collected.missing += 1,
            State::Unreadable => {}
        }
        self.collected.unreadable.extend(rows.unreadable);
        for (c, v) in rows.headline.iter().enumerate() {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                self.values[point][c].push(v);
            }
        }
        self.effects_out.append(rows.effects)?;
        for ((_, table), part) in self.series_out.iter_mut().zip(rows.series) {
            table.append(part)?;
        }
        self.timings_out.row(&rows.timings)?;
        self.runs_out.row(&rows.row)
    }
}

/// A run as `runs.csv` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Complete,
    /// Complete, but its effects.csv could not be read.
    Unreadable,
    Failed,
    Missing,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Complete => "complete",
            State::Unreadable => "unreadable",
            State::Failed => "failed",
            State::Missing => "missing",
        }
    }
}

/// What one run adds to the collected tables, read and made on a worker.
struct RunRows {
    state: State,
    /// Its row of runs.csv, and its headline values for the summary.
    row: Vec<String>,
    headline: Vec<Option<f64>>,
    unreadable: Option<String>,
    effects: Part,
    series: Vec<Part>,
    timings: Vec<String>,
}

fn read_run(
    plan: &Plan,
    layout: &Layout,
    me: &str,
    columns: &[Column],
    run: &RunId,
    mut effects: Part,
    mut series: Vec<(&String, Part)>,
) -> Result<RunRows, SweepError> {
    let run_dir = layout.run_dir(run);
    let mut row = lead(plan, run);
    let mut headline = Vec::new();
    let mut unreadable = None;
    let state = match status::state(layout, run, me) {
        RunState::Complete => {
            let path = run_dir.join("effects.csv");
            // Every line is checked whatever the format (a run whose effects cannot be
            // read is marked, not copied), and copied only once it is whole.
            let empty = effects.empty();
            let read = std::fs::read_to_string(&path).map_err(|e| e.to_string()).and_then(|text| {
                let rows = effects::parse_csv(&text, &plan.base.scenario, |m| HEADLINE.iter().any(|h| h.metric == m))?;
                copy_effects(&mut effects, &lead(plan, run), &text)?;
                Ok(rows)
            });
            match read {
                Ok(rows) => {
                    row.push(State::Complete.name().into());
                    for col in columns {
                        let v = effects::headline_value(&rows, col.region, col.horizon, &HEADLINE[col.metric]);
                        headline.push(v);
                        row.push(fmt_opt(v));
                    }
                    for (name, part) in &mut series {
                        for world in ["scenario", "counterfactual"] {
                            let file = run_dir.join(world).join(format!("{name}.csv"));
                            copy_series(part, series_header(name), run, world, &file)?;
                        }
                    }
                    State::Complete
                }
                Err(e) => {
                    effects = empty;
                    unreadable = Some(format!("{}: {e}", path.display()));
                    State::Unreadable
                }
            }
        }
        RunState::Failed(_) => State::Failed,
        RunState::Running { .. } | RunState::Missing => State::Missing,
    };
    if state != State::Complete {
        row.push(state.name().into());
        row.extend(columns.iter().map(|_| String::new()));
    }
    let ran_in = if state == State::Failed { layout.failed_dir(run) } else { run_dir };
    Ok(RunRows {
        state,
        row,
        headline,
        unreadable,
        effects,
        series: series.into_iter().map(|(_, p)| p).collect(),
        timings: timings_row(run, state.name(), &ran_in),
    })
}

/// Checks one line of effects.csv cell by cell, as the Parquet table would read it.
fn check_effect_cells(cells: &[&str]) -> Result<(), String> {
    if cells.len() != effects::HEADER.len() {
        return Err(format!("{} cells under {} columns", cells.len(), effects::HEADER.len()));
    }
    for (cell, column) in cells.iter().zip(effects::HEADER) {
        let kind = effect_kind(column);
        if kind.parse(cell).is_none() {
            return Err(format!("column {column}: '{cell}' is not {}", kind.describe()));
        }
    }
    Ok(())
}

/// Appends one run's effects.csv lines behind its lead cells: as text for the CSV (its
/// cells are names, numbers and dates, never quoted), cell by cell for Parquet; every
/// cell is checked either way.
fn copy_effects(out: &mut Part, lead: &[String], text: &str) -> Result<(), String> {
    if let Some(lines) = &mut out.lines {
        let lead = csv_line(lead);
        lines.reserve(text.len() + text.lines().count() * (lead.len() + 1));
        for line in text.lines().skip(1) {
            lines.push_str(&lead);
            lines.push(',');
            lines.push_str(line);
            lines.push('\n');
        }
    }
    let mut cells: Vec<&str> = Vec::with_capacity(lead.len() + effects::HEADER.len());
    for (n, line) in text.lines().enumerate().skip(1) {
        cells.clear();
        cells.extend(lead.iter().map(String::as_str));
        cells.extend(line.split(','));
        let at = |e: String| format!("line {}: {e}", n + 1);
        match &mut out.parquet {
            Some(rows) => rows.csv_row(&cells).map_err(at)?,
            None => check_effect_cells(&cells[lead.len()..]).map_err(at)?,
        }
    }
    Ok(())
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().flexible(false).from_writer(Vec::new())
}

fn write_row<S: AsRef<[u8]>>(w: &mut csv::Writer<Vec<u8>>, row: &[S]) {
    w.write_record(row).expect("writing to memory");
}

/// `point, replicate, seed` and the point's parameter values.
fn lead(plan: &Plan, run: &RunId) -> Vec<String> {
    let mut row = vec![run.point.to_string(), run.replicate.to_string(), run.seed.to_string()];
    row.extend(plan.points[run.point].iter().map(|v| v.cell()));
    row
}

/// One CSV line (no line end) of `cells`, quoted where a cell needs it.
fn csv_line(cells: &[String]) -> String {
    let mut w = writer();
    write_row(&mut w, cells);
    let mut line = String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8 cells");
    line.truncate(line.trim_end_matches(['\r', '\n']).len());
    line
}

/// Appends one world's series of a run, behind `point, replicate, world`; its header must
/// be the one this tradesim writes.
fn copy_series(out: &mut Part, expected: &[&str], run: &RunId, world: &str, file: &Path) -> Result<(), SweepError> {
    let bytes = std::fs::read(file).map_err(io_error(file))?;
    let bad = |e: csv::Error| SweepError::Failed(format!("{}: {e}", file.display()));
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let this = reader.byte_headers().map_err(bad)?.clone();
    if this.iter().ne(expected.iter().map(|c| c.as_bytes())) {
        return Err(SweepError::Failed(format!(
            "{}: its columns are not the ones this tradesim writes ({} against {}); was the run made by another tradesim version?",
            file.display(),
            this.len(),
            expected.len()
        )));
    }
    let columns = this.len();
    let (point, replicate) = (run.point.to_string(), run.replicate.to_string());
    for record in reader.byte_records() {
        let record = record.map_err(bad)?;
        if record.len() != columns {
            return Err(SweepError::Failed(format!(
                "{}: a row of {} cells under {columns} columns",
                file.display(),
                record.len()
            )));
        }
        let row: Vec<&[u8]> =
            [point.as_bytes(), replicate.as_bytes(), world.as_bytes()].into_iter().chain(record.iter()).collect();
        out.row(&row).map_err(|e| SweepError::Failed(format!("{}: {e}", file.display())))?;
    }
    Ok(())
}

/// What timings.csv takes from a run's manifest.
#[derive(serde::Deserialize, Default)]
struct Ran {
    #[serde(default)]
    host: String,
    #[serde(default)]
    threads: Option<u64>,
    #[serde(default)]
    timings: RanTimings,
}

#[derive(serde::Deserialize, Default)]
struct RanTimings {
    build_seconds: Option<f64>,
    total_seconds: Option<f64>,
}

/// Where and how long a run ran, from its manifest (empty cells when it has none).
fn timings_row(run: &RunId, state: &str, dir: &Path) -> Vec<String> {
    let ran: Ran = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    vec![
        run.point.to_string(),
        run.replicate.to_string(),
        state.to_string(),
        ran.host,
        ran.threads.map(|t| t.to_string()).unwrap_or_default(),
        fmt_opt(ran.timings.build_seconds),
        fmt_opt(ran.timings.total_seconds),
    ]
}

/// Mean, standard deviation and the 95% interval of the mean (Student's t) of replicates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Stats {
    /// Summed in the replicates' order, so the same values give the same bits.
    pub fn of(xs: &[f64]) -> Stats {
        let n = xs.len();
        if n == 0 {
            return Stats { mean: None, sd: None, low: None, high: None };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Stats { mean: Some(mean), sd: None, low: None, high: None };
        }
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).map(|d| d.inverse_cdf(0.975)).unwrap_or(f64::NAN);
        let half = t * sd / (n as f64).sqrt();
        Stats { mean: Some(mean), sd: Some(sd), low: Some(mean - half), high: Some(mean + half) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicate_statistics_use_student_t() {
        let s = Stats::of(&[1.0, 2.0, 3.0]);
        assert_eq!(s.mean, Some(2.0));
        assert_eq!(s.sd, Some(1.0));
        // t(0.975, 2) = 4.302653; half-width = t · 1 / sqrt(3).
        let half = s.high.unwrap() - 2.0;
        assert!((half - 4.302_652_73 / 3f64.sqrt()).abs() < 1e-6, "{half}");
        assert_eq!(Stats::of(&[5.0]).sd, None);
        assert_eq!(Stats::of(&[]).mean, None);
    }
}
