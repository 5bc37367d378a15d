//! `sweep collect`: one table of a sweep's runs and their headline effects, every run's
//! effects in long form, a summary over replicates, timings, and optionally series.
//!
//! The result files (`runs.csv`, `effects.csv`, `summary.csv`, `series/`) hold only what
//! the runs computed, in the sweep's order, so they are byte-identical wherever and
//! however the runs ran (one machine or a cluster, any shards, resumed or not); where and
//! how long each run took goes to `timings.csv`. Runs that are not complete are rows
//! marked `failed` or `missing` in `runs.csv`, with no effects.

use super::plan::{Plan, RunId};
use super::status::{self, RunState};
use super::{Layout, SweepError, io_error};
use crate::effects::{self, HEADLINE};
use crate::output::fmt_opt;
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

/// A collected file, streamed under its `.partial` name and renamed when all are whole:
/// rows through the csv crate, or lines of text as they are.
struct Out {
    path: PathBuf,
    partial: PathBuf,
    sink: Sink,
}

enum Sink {
    Rows(Box<csv::Writer<BufWriter<File>>>),
    Lines(BufWriter<File>),
}

impl Out {
    fn create(path: PathBuf, rows: bool) -> Result<Out, SweepError> {
        let partial = crate::output::partial_path(&path);
        let file = BufWriter::new(File::create(&partial).map_err(io_error(&partial))?);
        let sink =
            if rows { Sink::Rows(Box::new(csv::WriterBuilder::new().from_writer(file))) } else { Sink::Lines(file) };
        Ok(Out { path, partial, sink })
    }

    fn row<S: AsRef<[u8]>>(&mut self, row: &[S]) -> Result<(), SweepError> {
        match &mut self.sink {
            Sink::Rows(w) => {
                w.write_record(row).map_err(|e| SweepError::Io { path: self.partial.clone(), source: e.into() })
            }
            Sink::Lines(_) => unreachable!("a file of lines takes lines"),
        }
    }

    fn lines(&mut self, text: &str) -> Result<(), SweepError> {
        match &mut self.sink {
            Sink::Lines(w) => w.write_all(text.as_bytes()).map_err(io_error(&self.partial)),
            Sink::Rows(_) => unreachable!("a file of rows takes rows"),
        }
    }

    fn finish(self) -> Result<(PathBuf, PathBuf), SweepError> {
        let partial = self.partial;
        let buffered = match self.sink {
            Sink::Rows(w) => {
                w.into_inner().map_err(|e| SweepError::Io { path: partial.clone(), source: e.into_error() })?
            }
            Sink::Lines(w) => w,
        };
        let file =
            buffered.into_inner().map_err(|e| SweepError::Io { path: partial.clone(), source: e.into_error() })?;
        file.sync_all().map_err(io_error(&partial))?;
        Ok((partial, self.path))
    }
}

/// Collects the sweep in `dir`: every result file is written under a `.partial` name and
/// they are renamed together at the end, so a collect that fails leaves the previous
/// collect's files as they were.
pub fn collect(dir: &Path, plan: &Plan, series: &[String]) -> Result<Collected, SweepError> {
    check_series(series)?;
    let layout = Layout::new(dir);
    let me = super::host_name();
    let columns = columns(plan);
    let params = plan.param_names();
    let runs = plan.runs();
    let lead_header = || -> Vec<String> {
        let mut h: Vec<String> = ["point", "replicate", "seed"].iter().map(|s| s.to_string()).collect();
        h.extend(params.iter().map(|p| p.to_string()));
        h
    };

    let mut runs_csv = Out::create(dir.join("runs.csv"), true)?;
    let mut header = lead_header();
    header.push("status".into());
    header.extend(columns.iter().map(|c| c.name.clone()));
    runs_csv.row(&header)?;

    // Each run's effects.csv lines behind its lead columns, as text: its cells are names
    // (letters, digits, '_', '-'), numbers and dates, never quoted.
    let mut effects_csv = Out::create(dir.join("effects.csv"), false)?;
    effects_csv.lines(&format!("{},{}\n", csv_line(&lead_header()), effects::HEADER.join(",")))?;

    let mut timings_csv = Out::create(dir.join("timings.csv"), true)?;
    timings_csv.row(&["point", "replicate", "status", "host", "threads", "build_seconds", "total_seconds"])?;

    if !series.is_empty() {
        let series_dir = dir.join("series");
        std::fs::create_dir_all(&series_dir).map_err(io_error(&series_dir))?;
    }
    let mut series_out: Vec<(String, Out, Option<csv::ByteRecord>)> = Vec::new();
    for name in series {
        series_out.push((name.clone(), Out::create(dir.join("series").join(format!("{name}.csv")), true)?, None));
    }

    // values[point][column] over complete replicates, for the summary.
    let mut values: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); columns.len()]; plan.points.len()];
    let mut collected =
        Collected { files: Vec::new(), runs: runs.len(), complete: 0, failed: 0, missing: 0, unreadable: Vec::new() };
    for run in &runs {
        let run_dir = layout.run_dir(run);
        let mut row = lead(plan, run);
        let state = match status::state(&layout, run, &me) {
            RunState::Complete => {
                let path = run_dir.join("effects.csv");
                let read = std::fs::read_to_string(&path).map_err(|e| e.to_string()).and_then(|text| {
                    effects::parse_csv(&text, &plan.base.scenario, |m| HEADLINE.iter().any(|h| h.metric == m))
                        .map(|rows| (text, rows))
                });
                match read {
                    Ok((text, rows)) => {
                        collected.complete += 1;
                        row.push("complete".into());
                        for (c, col) in columns.iter().enumerate() {
                            let v = effects::headline_value(&rows, col.region, col.horizon, &HEADLINE[col.metric]);
                            if let Some(v) = v.filter(|v| v.is_finite()) {
                                values[run.point][c].push(v);
                            }
                            row.push(fmt_opt(v));
                        }
                        let lead = csv_line(&lead(plan, run));
                        let mut lines = String::with_capacity(text.len() + text.lines().count() * (lead.len() + 1));
                        for line in text.lines().skip(1) {
                            lines.push_str(&lead);
                            lines.push(',');
                            lines.push_str(line);
                            lines.push('\n');
                        }
                        effects_csv.lines(&lines)?;
                        for (name, out, header) in &mut series_out {
                            for world in ["scenario", "counterfactual"] {
                                let file = run_dir.join(world).join(format!("{name}.csv"));
                                copy_series(out, header, run, world, &file)?;
                            }
                        }
                        "complete"
                    }
                    Err(e) => {
                        collected.unreadable.push(format!("{}: {e}", path.display()));
                        "unreadable"
                    }
                }
            }
            RunState::Failed(_) => {
                collected.failed += 1;
                "failed"
            }
            RunState::Running { .. } | RunState::Missing => {
                collected.missing += 1;
                "missing"
            }
        };
        if state != "complete" {
            row.push(state.into());
            row.extend(columns.iter().map(|_| String::new()));
        }
        let ran_in = if state == "failed" { layout.failed_dir(run) } else { run_dir };
        timings_row(&mut timings_csv, run, state, &ran_in)?;
        runs_csv.row(&row)?;
    }

    let mut summary = Out::create(dir.join("summary.csv"), true)?;
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(params.iter().map(|p| p.to_string()));
    header.extend(["effect", "n", "mean", "sd", "ci95_low", "ci95_high"].iter().map(|s| s.to_string()));
    summary.row(&header)?;
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

    let mut outs = vec![runs_csv, effects_csv, summary, timings_csv];
    outs.extend(series_out.into_iter().map(|(_, out, _)| out));
    let finished: Vec<(PathBuf, PathBuf)> = outs.into_iter().map(Out::finish).collect::<Result<_, _>>()?;
    for (partial, path) in finished {
        std::fs::rename(&partial, &path).map_err(io_error(&path))?;
        collected.files.push(path);
    }
    // Series an earlier collect gathered and this one was not asked for would no longer
    // match the runs: they go.
    for name in SERIES.iter().filter(|n| !series.iter().any(|s| s == *n)) {
        let _ = std::fs::remove_file(dir.join("series").join(format!("{name}.csv")));
    }
    let _ = std::fs::remove_dir(dir.join("series"));
    Ok(collected)
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

/// Appends one world's series of a run, behind `point, replicate, world`; the header
/// once, and every file's header must be the same.
fn copy_series(
    out: &mut Out,
    header: &mut Option<csv::ByteRecord>,
    run: &RunId,
    world: &str,
    file: &Path,
) -> Result<(), SweepError> {
    let bytes = std::fs::read(file).map_err(io_error(file))?;
    let bad = |e: csv::Error| SweepError::Failed(format!("{}: {e}", file.display()));
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let this = reader.byte_headers().map_err(bad)?.clone();
    let columns = this.len();
    match header {
        None => {
            let row: Vec<&[u8]> =
                [b"point".as_slice(), b"replicate", b"world"].into_iter().chain(this.iter()).collect();
            out.row(&row)?;
            *header = Some(this);
        }
        Some(first) if *first != this => {
            return Err(SweepError::Failed(format!(
                "{}: its columns differ from the first run's ({} against {}); were the runs made by different tradesim versions?",
                file.display(),
                this.len(),
                first.len()
            )));
        }
        Some(_) => {}
    }
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
        out.row(&row)?;
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
fn timings_row(w: &mut Out, run: &RunId, state: &str, dir: &Path) -> Result<(), SweepError> {
    let ran: Ran = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let row = [
        run.point.to_string(),
        run.replicate.to_string(),
        state.to_string(),
        ran.host,
        ran.threads.map(|t| t.to_string()).unwrap_or_default(),
        fmt_opt(ran.timings.build_seconds),
        fmt_opt(ran.timings.total_seconds),
    ];
    w.row(&row)
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
