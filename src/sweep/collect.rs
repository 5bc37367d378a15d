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
use crate::output::{fmt_opt, write_atomic};
use statrs::distribution::{ContinuousCDF, StudentsT};
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
}

/// One headline effect column: a region at a horizon, one metric.
struct Column {
    name: String,
    region: usize,
    horizon: &'static str,
    metric: usize,
}

/// The headline columns of this sweep: the base scenario's headline regions, at the
/// headline horizons its runs reach.
fn columns(plan: &Plan) -> Vec<Column> {
    let sc = &plan.base.scenario;
    let ticks = plan.spec.ticks.unwrap_or(sc.ticks);
    let horizons = effects::horizons(sc, ticks);
    let labels = effects::headline_horizons(horizons.iter().map(|h| h.label.as_str()));
    let mut out = Vec::new();
    for r in effects::headline_regions(sc) {
        for &h in &labels {
            for (m, metric) in HEADLINE.iter().enumerate() {
                out.push(Column {
                    name: format!("{}_{h}_{}", sc.regions[r].name, metric.column()),
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

/// Collects the sweep in `dir`.
pub fn collect(dir: &Path, plan: &Plan, series: &[String]) -> Result<Collected, SweepError> {
    check_series(series)?;
    let layout = Layout::new(dir);
    let me = super::host_name();
    let columns = columns(plan);
    let params = plan.param_names();
    let runs = plan.runs();

    let mut runs_csv = writer();
    let mut header: Vec<String> = ["point", "replicate", "seed"].iter().map(|s| s.to_string()).collect();
    header.extend(params.iter().map(|p| p.to_string()));
    header.push("status".into());
    header.extend(columns.iter().map(|c| c.name.clone()));
    write_row(&mut runs_csv, &header);

    // Each run's effects.csv lines behind its lead columns, as text: its cells are names
    // (letters, digits, '_', '-'), numbers and dates, never quoted.
    let mut effects_csv = String::new();
    let mut header: Vec<String> = ["point", "replicate", "seed"].iter().map(|s| s.to_string()).collect();
    header.extend(params.iter().map(|p| p.to_string()));
    effects_csv.push_str(&csv_line(&header));
    effects_csv.push(',');
    effects_csv.push_str(&effects::HEADER.join(","));
    effects_csv.push('\n');

    let mut timings_csv = writer();
    write_row(&mut timings_csv, &["point", "replicate", "status", "host", "threads", "build_seconds", "total_seconds"]);

    let mut series_out: Vec<(String, csv::Writer<Vec<u8>>, bool)> =
        series.iter().map(|s| (s.clone(), writer(), false)).collect();

    // values[point][column] over complete replicates, for the summary.
    let mut values: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); columns.len()]; plan.points.len()];
    let (mut complete, mut failed, mut missing) = (0, 0, 0);
    for run in &runs {
        let run_dir = layout.run_dir(run);
        let state = status::state(&layout, run, &me);
        let mut row = lead(plan, run);
        match state {
            RunState::Complete => {
                complete += 1;
                let path = run_dir.join("effects.csv");
                let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
                let rows = effects::parse_csv(&text, &plan.base.scenario, |m| HEADLINE.iter().any(|h| h.metric == m))
                    .map_err(|e| SweepError::Failed(format!("{}: {e}", path.display())))?;
                row.push("complete".into());
                for (c, col) in columns.iter().enumerate() {
                    let v = effects::headline_value(&rows, col.region, col.horizon, &HEADLINE[col.metric]);
                    if let Some(v) = v.filter(|v| v.is_finite()) {
                        values[run.point][c].push(v);
                    }
                    row.push(fmt_opt(v));
                }
                let lead = csv_line(&lead(plan, run));
                for line in text.lines().skip(1) {
                    effects_csv.push_str(&lead);
                    effects_csv.push(',');
                    effects_csv.push_str(line);
                    effects_csv.push('\n');
                }
                timings_row(&mut timings_csv, run, "complete", &run_dir);
                for (name, w, with_header) in &mut series_out {
                    for world in ["scenario", "counterfactual"] {
                        let file = run_dir.join(world).join(format!("{name}.csv"));
                        copy_series(w, with_header, run, world, &file)?;
                    }
                }
            }
            other => {
                if matches!(other, RunState::Failed(_)) {
                    failed += 1;
                } else {
                    missing += 1;
                }
                let name = if matches!(other, RunState::Failed(_)) { "failed" } else { "missing" };
                row.push(name.into());
                row.extend(columns.iter().map(|_| String::new()));
                timings_row(&mut timings_csv, run, name, &layout.failed_dir(run));
            }
        }
        write_row(&mut runs_csv, &row);
    }

    let mut summary = writer();
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(params.iter().map(|p| p.to_string()));
    header.extend(["effect", "n", "mean", "sd", "ci95_low", "ci95_high"].iter().map(|s| s.to_string()));
    write_row(&mut summary, &header);
    for (point, per_column) in values.iter().enumerate() {
        for (c, xs) in per_column.iter().enumerate() {
            let mut row = vec![point.to_string()];
            row.extend(plan.points[point].iter().map(|v| v.cell()));
            row.push(columns[c].name.clone());
            let stats = Stats::of(xs);
            row.push(xs.len().to_string());
            row.extend([stats.mean, stats.sd, stats.low, stats.high].iter().map(|v| fmt_opt(*v)));
            write_row(&mut summary, &row);
        }
    }

    let mut outputs: Vec<(String, Vec<u8>)> = vec![
        ("runs.csv".into(), bytes(runs_csv)?),
        ("effects.csv".into(), effects_csv.into_bytes()),
        ("summary.csv".into(), bytes(summary)?),
        ("timings.csv".into(), bytes(timings_csv)?),
    ];
    if !series_out.is_empty() {
        let series_dir = dir.join("series");
        std::fs::create_dir_all(&series_dir).map_err(io_error(&series_dir))?;
        for (name, w, _) in series_out {
            outputs.push((format!("series/{name}.csv"), bytes(w)?));
        }
    }
    let mut files = Vec::new();
    for (name, content) in outputs {
        let path = dir.join(name);
        write_atomic(&path, &content)?;
        files.push(path);
    }
    Ok(Collected { files, runs: runs.len(), complete, failed, missing })
}

fn bytes(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, SweepError> {
    w.into_inner().map_err(|e| SweepError::Failed(e.to_string()))
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

/// Appends one world's series of a run, behind `point, replicate, world`; the header once.
fn copy_series(
    w: &mut csv::Writer<Vec<u8>>,
    with_header: &mut bool,
    run: &RunId,
    world: &str,
    file: &Path,
) -> Result<(), SweepError> {
    let bytes = std::fs::read(file).map_err(io_error(file))?;
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    if !*with_header {
        let header = reader.byte_headers().map_err(|e| SweepError::Failed(format!("{}: {e}", file.display())))?.clone();
        let row: Vec<&[u8]> = [b"point".as_slice(), b"replicate", b"world"].into_iter().chain(header.iter()).collect();
        write_row(w, &row);
        *with_header = true;
    }
    let (point, replicate) = (run.point.to_string(), run.replicate.to_string());
    for record in reader.byte_records() {
        let record = record.map_err(|e| SweepError::Failed(format!("{}: {e}", file.display())))?;
        let row: Vec<&[u8]> =
            [point.as_bytes(), replicate.as_bytes(), world.as_bytes()].into_iter().chain(record.iter()).collect();
        write_row(w, &row);
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
fn timings_row(w: &mut csv::Writer<Vec<u8>>, run: &RunId, state: &str, dir: &Path) {
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
    write_row(w, &row);
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
