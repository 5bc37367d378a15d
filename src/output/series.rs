//! The per-tick CSV series of one run (scenario or counterfactual): regions, trade,
//! sectors and policy. Rows are written as each tick finishes; memory does not grow with
//! the number of ticks.

use super::{OutputError, fmt_f64, fmt_opt, io_err, partial_path};
use crate::metrics::TickReport;
use crate::scenario::Scenario;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

pub const REGIONS_HEADER: &[&str] = &[
    "tick",
    "date",
    "region",
    "gdp",
    "cpi",
    "import_price_index",
    "employment",
    "unemployment_rate",
    "consumption",
    "shortage_rate",
    "tariff_revenue",
    "real_gdp",
    "imports",
    "exports",
    "wage",
    "government_cash",
    "household_cash",
    "firm_cash",
    "household_income",
    "current_account",
    "foreign_lending",
    "net_foreign_assets",
];
pub const TRADE_HEADER: &[&str] = &[
    "tick",
    "date",
    "exporter",
    "importer",
    "sector",
    "quantity",
    "value",
    "tariff_rate",
    "tariff_paid",
    "fob_price",
    "landed_price",
    "boycott",
];
pub const SECTORS_HEADER: &[&str] = &[
    "tick",
    "date",
    "region",
    "sector",
    "output",
    "producer_price",
    "retail_price",
    "retail_price_domestic",
    "retail_price_imported",
    "inventory",
    "inventory_to_sales",
    "unfilled_orders",
    "shortage_rate",
    "capacity",
    "household_demand",
    "household_spending",
];
pub const POLICY_HEADER: &[&str] =
    &["tick", "date", "government", "partner", "sector", "instrument", "old_rate", "new_rate", "cause"];

/// The file names a run directory holds, for cleanup.
pub const FILES: &[&str] = &["regions.csv", "trade.csv", "sectors.csv", "policy.csv"];

struct Csv {
    partial: PathBuf,
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
}

impl Csv {
    fn create(path: PathBuf, header: &[&str]) -> Result<Csv, OutputError> {
        let partial = partial_path(&path);
        let file = File::create(&partial).map_err(io_err(&partial))?;
        let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        writer.write_record(header).map_err(|e| csv_err(&partial, e))?;
        Ok(Csv { partial, path, writer })
    }

    fn finish(mut self) -> Result<(), OutputError> {
        self.writer.flush().map_err(io_err(&self.partial))?;
        drop(self.writer);
        fs::rename(&self.partial, &self.path).map_err(io_err(&self.path))
    }
}

fn csv_err(path: &Path, e: csv::Error) -> OutputError {
    OutputError::Io { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) }
}

/// Streams one run's series.
pub struct SeriesWriter {
    regions: Csv,
    trade: Csv,
    sectors: Csv,
    policy: Csv,
    region_names: Vec<String>,
    sector_names: Vec<String>,
    scenario: std::sync::Arc<Scenario>,
}

impl SeriesWriter {
    pub fn create(dir: &Path, scenario: std::sync::Arc<Scenario>) -> Result<SeriesWriter, OutputError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        super::remove_previous(dir, FILES)?;
        Ok(SeriesWriter {
            regions: Csv::create(dir.join("regions.csv"), REGIONS_HEADER)?,
            trade: Csv::create(dir.join("trade.csv"), TRADE_HEADER)?,
            sectors: Csv::create(dir.join("sectors.csv"), SECTORS_HEADER)?,
            policy: Csv::create(dir.join("policy.csv"), POLICY_HEADER)?,
            region_names: scenario.regions.iter().map(|r| r.name.clone()).collect(),
            sector_names: scenario.sectors.iter().map(|s| s.name.clone()).collect(),
            scenario,
        })
    }

    pub fn write(&mut self, report: &TickReport) -> Result<(), OutputError> {
        let tick = report.tick.to_string();
        let date = self.scenario.calendar.date_of(report.tick).to_string();
        let reg = &self.region_names;
        let sec = &self.sector_names;
        for r in &report.regions {
            let row = [
                tick.clone(),
                date.clone(),
                reg[r.region].clone(),
                fmt_f64(r.gdp),
                fmt_f64(r.cpi),
                fmt_f64(r.import_price_index),
                r.employment.to_string(),
                fmt_f64(r.unemployment_rate),
                fmt_f64(r.consumption),
                fmt_f64(r.shortage_rate),
                fmt_f64(r.tariff_revenue),
                fmt_f64(r.real_gdp),
                fmt_f64(r.imports),
                fmt_f64(r.exports),
                fmt_f64(r.wage),
                fmt_f64(r.government_cash),
                fmt_f64(r.household_cash),
                fmt_f64(r.firm_cash),
                fmt_f64(r.household_income),
                fmt_f64(r.current_account),
                fmt_f64(r.foreign_lending),
                fmt_f64(r.net_foreign_assets),
            ];
            self.regions.writer.write_record(&row).map_err(|e| csv_err(&self.regions.partial, e))?;
        }
        for t in &report.trade {
            let row = [
                tick.clone(),
                date.clone(),
                reg[t.exporter].clone(),
                reg[t.importer].clone(),
                sec[t.sector].clone(),
                fmt_f64(t.quantity),
                fmt_f64(t.value),
                fmt_f64(t.tariff_rate),
                fmt_f64(t.tariff_paid),
                fmt_f64(t.fob_price),
                fmt_f64(t.landed_price),
                fmt_f64(t.boycott),
            ];
            self.trade.writer.write_record(&row).map_err(|e| csv_err(&self.trade.partial, e))?;
        }
        for s in &report.sectors {
            let row = [
                tick.clone(),
                date.clone(),
                reg[s.region].clone(),
                sec[s.sector].clone(),
                fmt_f64(s.output),
                fmt_f64(s.producer_price),
                fmt_opt(s.retail_price),
                fmt_opt(s.retail_price_domestic),
                fmt_opt(s.retail_price_imported),
                fmt_f64(s.inventory),
                fmt_opt(s.inventory_to_sales),
                fmt_f64(s.unfilled_orders),
                fmt_f64(s.shortage_rate),
                fmt_f64(s.capacity),
                fmt_f64(s.household_demand),
                fmt_f64(s.household_spending),
            ];
            self.sectors.writer.write_record(&row).map_err(|e| csv_err(&self.sectors.partial, e))?;
        }
        for p in &report.policy {
            let row = [
                tick.clone(),
                date.clone(),
                reg[p.government].clone(),
                reg[p.partner].clone(),
                sec[p.sector].clone(),
                p.instrument.to_string(),
                fmt_f64(p.old),
                fmt_f64(p.new),
                p.cause.clone(),
            ];
            self.policy.writer.write_record(&row).map_err(|e| csv_err(&self.policy.partial, e))?;
        }
        Ok(())
    }

    /// Flushes and renames every file to its final name.
    pub fn finish(self) -> Result<(), OutputError> {
        self.regions.finish()?;
        self.trade.finish()?;
        self.sectors.finish()?;
        self.policy.finish()
    }
}
