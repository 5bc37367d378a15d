//! What people look at after a run: PNG charts (`tradesim plot`) and one self-contained
//! HTML page (`tradesim report`).
//!
//! This layer sits above the run: it reads a run directory's files back (manifest.json,
//! effects.csv and the series, CSV or Parquet) and never touches the model. Which regions
//! and sectors to draw comes from the scenario the manifest records (the pairs its events
//! and rules name), so it works on any scenario.

pub mod chart;
pub mod draw;
pub mod html;
pub mod sweep;
mod table;

pub use table::Table;

use crate::output::{self, RunStatus};
use crate::scenario::Scenario;
use serde::Deserialize;
use std::fs;
use std::path::{Path, PathBuf};

/// Why a run could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The directory is not a finished run, or a file in it is not what tradesim writes.
    #[error("{0}")]
    Input(String),
    /// A chart or page could not be written.
    #[error("{0}")]
    Write(String),
}

/// The part of manifest.json this layer reads.
#[derive(Debug, Deserialize)]
pub struct ManifestView {
    pub tradesim_version: String,
    pub status: RunStatus,
    pub error: Option<String>,
    pub seed: u64,
    pub scale: f64,
    pub ticks: u32,
    pub start_date: String,
    pub end_date: String,
    pub counterfactual: bool,
    pub first_policy_tick: Option<u32>,
    pub scenario: Scenario,
}

/// One world's four series.
#[derive(Debug)]
pub struct World {
    pub regions: Table,
    pub trade: Table,
    pub sectors: Table,
    pub policy: Table,
}

/// A run directory read back.
#[derive(Debug)]
pub struct RunDir {
    pub dir: PathBuf,
    pub manifest: ManifestView,
    pub scenario: World,
    pub counterfactual: Option<World>,
    /// effects.csv's text, when the run wrote it.
    pub effects: Option<String>,
}

const REGIONS: &[&str] = &["tick", "region", "real_gdp", "cpi", "unemployment_rate", "imports", "shortage_rate"];
const TRADE: &[&str] = &["tick", "exporter", "importer", "sector", "value", "tariff_rate", "landed_price"];
const SECTORS: &[&str] = &["tick", "region", "sector", "retail_price", "retail_price_imported", "shortage_rate"];
const POLICY: &[&str] =
    &["tick", "date", "government", "partner", "sector", "instrument", "old_rate", "new_rate", "cause"];

impl RunDir {
    /// Reads a run directory. A run that is not complete (still running, failed or
    /// interrupted) is refused unless `partial`, which reads what it wrote so far.
    pub fn load(dir: &Path, partial: bool) -> Result<RunDir, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::Input(format!("{}: no such directory", dir.display())));
        }
        if sweep::is_sweep(dir) {
            return Err(ReportError::Input(format!(
                "{}: a sweep directory, not a run; `tradesim plot` draws a sweep, and each run is under {}",
                dir.display(),
                dir.join("runs").display()
            )));
        }
        let path = dir.join("manifest.json");
        let text = fs::read_to_string(&path).map_err(|e| {
            ReportError::Input(format!(
                "{}: not a tradesim run directory ({} cannot be read: {e})",
                dir.display(),
                path.display()
            ))
        })?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        let manifest: ManifestView = serde_path_to_error::deserialize(de).map_err(|e| {
            ReportError::Input(format!(
                "{}: not a manifest this tradesim ({}) can read, at '{}': {}; it may be from another version: run the scenario again",
                path.display(),
                crate::VERSION,
                e.path(),
                e.inner()
            ))
        })?;
        check_indices(&manifest.scenario).map_err(|m| ReportError::Input(format!("{}: {m}", path.display())))?;
        if manifest.status != RunStatus::Complete && !partial {
            let why = manifest.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
            return Err(ReportError::Input(format!(
                "{}: the run is not complete: manifest.json says {}{why}; pass --partial to draw what it wrote so far",
                dir.display(),
                serde_json::to_value(manifest.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            )));
        }
        let world = |name: &str| -> Result<World, ReportError> {
            let d = dir.join(name);
            Ok(World {
                regions: Table::load(&d, "regions", REGIONS, partial)?,
                trade: Table::load(&d, "trade", TRADE, partial)?,
                sectors: Table::load(&d, "sectors", SECTORS, partial)?,
                policy: Table::load(&d, "policy", POLICY, partial)?,
            })
        };
        let scenario = world("scenario")?;
        // A run writes the scenario first: a partial run may have no counterfactual yet.
        let counterfactual = match (manifest.counterfactual, partial) {
            (false, _) => None,
            (true, false) => Some(world("counterfactual")?),
            (true, true) => world("counterfactual").ok(),
        };
        let effects = fs::read_to_string(dir.join("effects.csv")).ok();
        Ok(RunDir { dir: dir.to_path_buf(), manifest, scenario, counterfactual, effects })
    }
}

/// The manifest's scenario names regions and sectors by index; a hand-edited one could
/// point past the end.
fn check_indices(sc: &Scenario) -> Result<(), String> {
    let (nr, ns) = (sc.regions.len(), sc.sectors.len());
    let pairs = sc.events.iter().map(|e| (e.government, e.partner, &e.sectors));
    for (g, p, sectors) in pairs.chain(sc.rules.iter().map(|r| (r.government, r.partner, &r.sectors))) {
        if g >= nr || p >= nr || sectors.iter().any(|&s| s >= ns) {
            return Err(format!(
                "the scenario's policy names a region or sector that it does not have ({nr} regions, {ns} sectors)"
            ));
        }
    }
    Ok(())
}

/// Checks before anything is drawn that `dir` can be created and written.
pub fn prepare_out(dir: &Path) -> Result<(), ReportError> {
    output::prepare_dir(dir, true).map_err(|e| ReportError::Input(e.to_string()))
}

/// What `plot` wrote and what it left out (and why).
#[derive(Debug, Default)]
pub struct Plotted {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<Skipped>,
}

/// A chart not drawn, and why (a run without a boycott has no boycott chart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: not drawn ({})", self.file, self.reason)
    }
}

/// Draws `charts` as PNG files in `out`, each written atomically, and removes from `out`
/// the charts `skipped` names: a chart not drawn this time must not survive from an
/// earlier plot.
fn write_charts(
    skipped: &[Skipped],
    charts: &[chart::Chart],
    calendar: &crate::calendar::Calendar,
    out: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    for s in skipped {
        let stale = out.join(&s.file);
        if stale.is_file() {
            fs::remove_file(&stale).map_err(|e| ReportError::Write(format!("{}: {e}", stale.display())))?;
        }
    }
    let mut files = Vec::new();
    for c in charts {
        let png = draw::png(c, calendar)?;
        let path = out.join(&c.file);
        output::write_atomic(&path, &png).map_err(|e| ReportError::Write(e.to_string()))?;
        files.push(path);
    }
    Ok(files)
}

/// Draws the run's charts as PNG files in `out`, each written atomically.
pub fn plot(run: &RunDir, out: &Path) -> Result<Plotted, ReportError> {
    prepare_out(out)?;
    let (charts, skipped) = chart::charts(run);
    Ok(Plotted { files: write_charts(&skipped, &charts, &run.manifest.scenario.calendar, out)?, skipped })
}

/// Draws a sweep's charts (each headline effect against each swept parameter) in `out`.
pub fn plot_sweep(dir: &Path, out: &Path) -> Result<Plotted, ReportError> {
    let (charts, skipped) = sweep::charts(dir)?;
    prepare_out(out)?;
    let calendar = crate::calendar::Calendar { start: crate::calendar::Date::from_ymd(2000, 1, 1).expect("a date") };
    Ok(Plotted { files: write_charts(&skipped, &charts, &calendar, out)?, skipped })
}

/// Writes the run's report page (charts embedded) to `path`, atomically.
pub fn report(run: &RunDir, path: &Path) -> Result<(), ReportError> {
    if path.is_dir() {
        return Err(ReportError::Input(format!(
            "{}: a directory; --out names the page to write, such as {}",
            path.display(),
            path.join(output::REPORT_FILE).display()
        )));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if parent.exists() && !parent.is_dir() {
            return Err(ReportError::Input(format!(
                "{}: cannot be written, {} is not a directory",
                path.display(),
                parent.display()
            )));
        }
        prepare_out(parent)?;
    }
    let (charts, skipped) = chart::charts(run);
    let mut drawn = Vec::new();
    for c in charts {
        let png = draw::png(&c, &run.manifest.scenario.calendar)?;
        drawn.push((c, png));
    }
    let page = html::page(run, &drawn, &skipped)?;
    output::write_atomic(path, page.as_bytes()).map_err(|e| ReportError::Write(e.to_string()))
}
