//! The per-tick series of one run (scenario or counterfactual): regions, trade, sectors
//! and policy, as CSV, Parquet or both (`Format`). Each row is built once as typed values
//! and each format writes them its own way. Rows are written as each tick finishes (a
//! Parquet file in record batches of `BATCH_ROWS`, one row group each, so the writer
//! holds at most one batch); memory does not grow with the number of ticks. Files are
//! renamed to their final names only once every file of the run is written and synced.

use super::parquet::{Kind, ParquetFile, Value};
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

/// The series' file stems: `regions` is written as `regions.csv`, `regions.parquet` or both.
pub const STEMS: &[&str] = &["regions", "trade", "sectors", "policy"];

/// The CSV names of the series (the default format), for callers that read them.
pub const FILES: &[&str] = &["regions.csv", "trade.csv", "sectors.csv", "policy.csv"];

/// Every file name a run directory's series may have, in any format, for cleanup.
pub const ALL_FILES: &[&str] = &[
    "regions.csv",
    "trade.csv",
    "sectors.csv",
    "policy.csv",
    "regions.parquet",
    "trade.parquet",
    "sectors.parquet",
    "policy.parquet",
];

/// The file format of the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Csv,
    Parquet,
    Both,
}

impl Format {
    pub fn csv(self) -> bool {
        matches!(self, Format::Csv | Format::Both)
    }
    pub fn parquet(self) -> bool {
        matches!(self, Format::Parquet | Format::Both)
    }
    /// The series' file names in this format.
    pub fn files(self) -> Vec<String> {
        let mut names = Vec::new();
        for stem in STEMS {
            if self.csv() {
                names.push(format!("{stem}.csv"));
            }
            if self.parquet() {
                names.push(format!("{stem}.parquet"));
            }
        }
        names
    }
}

/// What a Parquet file records about its run in its key-value metadata.
#[derive(Debug, Clone, Default)]
pub struct RunMeta {
    pub scenario_hash: String,
    pub seed: u64,
}

/// The kind of each column of a series.
pub fn kinds(header: &[&str]) -> Vec<Kind> {
    header
        .iter()
        .map(|&c| match c {
            "tick" => Kind::U32,
            "date" => Kind::Date,
            "region" | "exporter" | "importer" | "sector" | "government" | "partner" | "instrument" => Kind::Name,
            "employment" => Kind::Count,
            "cause" => Kind::Text,
            _ => Kind::Float,
        })
        .collect()
}

/// One series file in one format.
trait Sink {
    fn row(&mut self, values: &[Value]) -> Result<(), OutputError>;
    /// Writes out and syncs what the rows so far put in the `.partial` file; its path and
    /// length, for a checkpoint (`None`: this format cannot be resumed).
    fn mark(&mut self) -> Result<Option<(PathBuf, u64)>, OutputError>;
    /// Writes out, closes and syncs the `.partial` file; returns (partial, final name),
    /// to be renamed once every file of the run is whole.
    fn finish(self: Box<Self>) -> Result<(PathBuf, PathBuf), OutputError>;
}

struct Csv {
    partial: PathBuf,
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    cells: Vec<String>,
}

impl Csv {
    fn create(path: PathBuf, header: &[&str]) -> Result<Csv, OutputError> {
        let partial = partial_path(&path);
        let file = File::create(&partial).map_err(io_err(&partial))?;
        let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        writer.write_record(header).map_err(|e| csv_err(&partial, e))?;
        Ok(Csv { partial, path, writer, cells: Vec::with_capacity(header.len()) })
    }

    /// Opens the `.partial` file of `path` (its header and rows already written) to go on
    /// writing at `bytes`, its length at a checkpoint; what was written after is cut off.
    fn reopen(path: PathBuf, header: &[&str], bytes: u64) -> Result<Csv, OutputError> {
        use std::io::{Seek, SeekFrom};
        let partial = partial_path(&path);
        let mut file = fs::OpenOptions::new().write(true).open(&partial).map_err(io_err(&partial))?;
        file.set_len(bytes).and_then(|_| file.seek(SeekFrom::End(0))).map_err(io_err(&partial))?;
        let writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        Ok(Csv { partial, path, writer, cells: Vec::with_capacity(header.len()) })
    }
}

impl Sink for Csv {
    fn row(&mut self, values: &[Value]) -> Result<(), OutputError> {
        self.cells.clear();
        for v in values {
            self.cells.push(match *v {
                Value::U32(t) => t.to_string(),
                Value::Date(_, text) | Value::Name(text) | Value::Text(text) => text.to_string(),
                Value::Float(x) => fmt_f64(x),
                Value::Opt(x) => fmt_opt(x),
                Value::Count(n) => n.to_string(),
                Value::Int(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
            });
        }
        self.writer.write_record(&self.cells).map_err(|e| csv_err(&self.partial, e))
    }

    fn mark(&mut self) -> Result<Option<(PathBuf, u64)>, OutputError> {
        self.writer.flush().map_err(io_err(&self.partial))?;
        let file = self.writer.get_ref().get_ref();
        file.sync_data().map_err(io_err(&self.partial))?;
        let bytes = file.metadata().map_err(io_err(&self.partial))?.len();
        Ok(Some((self.partial.clone(), bytes)))
    }

    fn finish(self: Box<Self>) -> Result<(PathBuf, PathBuf), OutputError> {
        let Csv { partial, path, mut writer, .. } = *self;
        writer.flush().map_err(io_err(&partial))?;
        let file = writer.into_inner().map_err(|e| io_err(&partial)(e.into_error()))?;
        file.into_inner().map_err(|e| io_err(&partial)(e.into_error()))?.sync_all().map_err(io_err(&partial))?;
        Ok((partial, path))
    }
}

fn csv_err(path: &Path, e: csv::Error) -> OutputError {
    OutputError::Io { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) }
}

impl Sink for ParquetFile {
    fn row(&mut self, values: &[Value]) -> Result<(), OutputError> {
        ParquetFile::row(self, values)
    }

    fn mark(&mut self) -> Result<Option<(PathBuf, u64)>, OutputError> {
        Ok(None)
    }

    fn finish(self: Box<Self>) -> Result<(PathBuf, PathBuf), OutputError> {
        ParquetFile::finish(*self)
    }
}

/// A series' Parquet file: its columns typed by [`kinds`], the run in its metadata.
fn parquet(path: PathBuf, header: &[&str], meta: &RunMeta) -> Result<ParquetFile, OutputError> {
    let columns: Vec<(&str, Kind)> = header.iter().copied().zip(kinds(header)).collect();
    ParquetFile::create(
        path,
        &columns,
        &[("scenario_hash", meta.scenario_hash.clone()), ("seed", meta.seed.to_string())],
    )
}

/// One series in every format asked for.
struct Series {
    sinks: Vec<Box<dyn Sink>>,
}

impl Series {
    fn create(dir: &Path, stem: &str, header: &[&str], format: Format, meta: &RunMeta) -> Result<Series, OutputError> {
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        if format.csv() {
            sinks.push(Box::new(Csv::create(dir.join(format!("{stem}.csv")), header)?));
        }
        if format.parquet() {
            sinks.push(Box::new(parquet(dir.join(format!("{stem}.parquet")), header, meta)?));
        }
        Ok(Series { sinks })
    }

    /// The CSV series, reopened at its length in `marks`.
    fn reopen(dir: &Path, stem: &str, header: &[&str], marks: &[(PathBuf, u64)]) -> Result<Series, OutputError> {
        let path = dir.join(format!("{stem}.csv"));
        let partial = partial_path(&path);
        let Some(&(_, bytes)) = marks.iter().find(|(p, _)| *p == partial) else {
            return Err(OutputError::Io {
                path: partial,
                source: std::io::Error::other("the checkpoint does not record this file's length"),
            });
        };
        Ok(Series { sinks: vec![Box::new(Csv::reopen(path, header, bytes)?)] })
    }

    fn mark(&mut self, marks: &mut Vec<(PathBuf, u64)>) -> Result<bool, OutputError> {
        for sink in &mut self.sinks {
            match sink.mark()? {
                Some(m) => marks.push(m),
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    fn row(&mut self, values: &[Value]) -> Result<(), OutputError> {
        for sink in &mut self.sinks {
            sink.row(values)?;
        }
        Ok(())
    }

    fn finish(self, whole: &mut Vec<(PathBuf, PathBuf)>) -> Result<(), OutputError> {
        for sink in self.sinks {
            whole.push(sink.finish()?);
        }
        Ok(())
    }
}

/// Streams one run's series.
pub struct SeriesWriter {
    regions: Series,
    trade: Series,
    sectors: Series,
    policy: Series,
    region_names: Vec<String>,
    sector_names: Vec<String>,
    scenario: std::sync::Arc<Scenario>,
}

impl SeriesWriter {
    pub fn create(
        dir: &Path,
        scenario: std::sync::Arc<Scenario>,
        format: Format,
        meta: &RunMeta,
    ) -> Result<SeriesWriter, OutputError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        super::remove_previous(dir, ALL_FILES)?;
        Ok(SeriesWriter {
            regions: Series::create(dir, "regions", REGIONS_HEADER, format, meta)?,
            trade: Series::create(dir, "trade", TRADE_HEADER, format, meta)?,
            sectors: Series::create(dir, "sectors", SECTORS_HEADER, format, meta)?,
            policy: Series::create(dir, "policy", POLICY_HEADER, format, meta)?,
            region_names: scenario.regions.iter().map(|r| r.name.clone()).collect(),
            sector_names: scenario.sectors.iter().map(|s| s.name.clone()).collect(),
            scenario,
        })
    }

    /// Goes on with the CSV series in `dir` from a checkpoint: each `.partial` file is cut
    /// back to its length in `marks` and written on from there.
    pub fn reopen(
        dir: &Path,
        scenario: std::sync::Arc<Scenario>,
        marks: &[(PathBuf, u64)],
    ) -> Result<SeriesWriter, OutputError> {
        Ok(SeriesWriter {
            regions: Series::reopen(dir, "regions", REGIONS_HEADER, marks)?,
            trade: Series::reopen(dir, "trade", TRADE_HEADER, marks)?,
            sectors: Series::reopen(dir, "sectors", SECTORS_HEADER, marks)?,
            policy: Series::reopen(dir, "policy", POLICY_HEADER, marks)?,
            region_names: scenario.regions.iter().map(|r| r.name.clone()).collect(),
            sector_names: scenario.sectors.iter().map(|s| s.name.clone()).collect(),
            scenario,
        })
    }

    /// Writes out and syncs every file; each `.partial` file's path and length, for a
    /// checkpoint (`None`: a series is in a format that cannot be resumed, Parquet).
    pub fn mark(&mut self) -> Result<Option<Vec<(PathBuf, u64)>>, OutputError> {
        let mut marks = Vec::new();
        for series in [&mut self.regions, &mut self.trade, &mut self.sectors, &mut self.policy] {
            if !series.mark(&mut marks)? {
                return Ok(None);
            }
        }
        Ok(Some(marks))
    }

    pub fn write(&mut self, report: &TickReport) -> Result<(), OutputError> {
        let date = self.scenario.calendar.date_of(report.tick);
        let date_text = date.to_string();
        let (tick, date) = (Value::U32(report.tick), Value::Date(date.days_since_epoch() as i32, &date_text));
        let reg = &self.region_names;
        let sec = &self.sector_names;
        use Value::{Count, Float, Name, Opt, Text};
        for r in &report.regions {
            self.regions.row(&[
                tick,
                date,
                Name(&reg[r.region]),
                Float(r.gdp),
                Float(r.cpi),
                Float(r.import_price_index),
                Count(r.employment),
                Float(r.unemployment_rate),
                Float(r.consumption),
                Float(r.shortage_rate),
                Float(r.tariff_revenue),
                Float(r.real_gdp),
                Float(r.imports),
                Float(r.exports),
                Float(r.wage),
                Float(r.government_cash),
                Float(r.household_cash),
                Float(r.firm_cash),
                Float(r.household_income),
                Float(r.current_account),
                Float(r.foreign_lending),
                Float(r.net_foreign_assets),
            ])?;
        }
        for t in &report.trade {
            self.trade.row(&[
                tick,
                date,
                Name(&reg[t.exporter]),
                Name(&reg[t.importer]),
                Name(&sec[t.sector]),
                Float(t.quantity),
                Float(t.value),
                Float(t.tariff_rate),
                Float(t.tariff_paid),
                Float(t.fob_price),
                Float(t.landed_price),
                Float(t.boycott),
            ])?;
        }
        for s in &report.sectors {
            self.sectors.row(&[
                tick,
                date,
                Name(&reg[s.region]),
                Name(&sec[s.sector]),
                Float(s.output),
                Float(s.producer_price),
                Opt(s.retail_price),
                Opt(s.retail_price_domestic),
                Opt(s.retail_price_imported),
                Float(s.inventory),
                Opt(s.inventory_to_sales),
                Float(s.unfilled_orders),
                Float(s.shortage_rate),
                Float(s.capacity),
                Float(s.household_demand),
                Float(s.household_spending),
            ])?;
        }
        for p in &report.policy {
            self.policy.row(&[
                tick,
                date,
                Name(&reg[p.government]),
                Name(&reg[p.partner]),
                Name(&sec[p.sector]),
                Name(p.instrument),
                Float(p.old),
                Float(p.new),
                Text(&p.cause),
            ])?;
        }
        Ok(())
    }

    /// Writes out and syncs every file; returns each `.partial` file with its final name,
    /// for the caller to rename once every file of the run is whole (so a failure on the
    /// way, a full disk, leaves only `.partial` files).
    pub fn finish(self) -> Result<Vec<(PathBuf, PathBuf)>, OutputError> {
        let mut whole = Vec::new();
        self.regions.finish(&mut whole)?;
        self.trade.finish(&mut whole)?;
        self.sectors.finish(&mut whole)?;
        self.policy.finish(&mut whole)?;
        Ok(whole)
    }
}
