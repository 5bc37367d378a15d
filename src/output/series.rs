//! The per-tick series of one run (scenario or counterfactual): regions, trade, sectors
//! and policy, as CSV, Parquet or both (`Format`). Each row is built once as typed values
//! and each format writes them its own way. Rows are written as each tick finishes (a
//! Parquet file in record batches of `BATCH_ROWS`, one row group each, so the writer
//! holds at most one batch); memory does not grow with the number of ticks. Files are
//! renamed to their final names only once every file of the run is written and synced.

use super::{OutputError, fmt_f64, fmt_opt, io_err, partial_path};
use crate::metrics::TickReport;
use crate::scenario::Scenario;
use arrow_array::builder::{
    Date32Builder, Float64Builder, StringBuilder, StringDictionaryBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, clap::ValueEnum)]
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

/// One row's values, typed; each format writes them its own way.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Tick(u32),
    /// Days since 1970-01-01 and the ISO text of the same date.
    Date(i32, &'a str),
    Name(&'a str),
    Float(f64),
    Opt(Option<f64>),
    Count(u64),
    Text(&'a str),
}

/// The kind of a column, which fixes its Parquet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tick,
    Date,
    /// A region, sector or instrument name: dictionary-encoded strings.
    Name,
    /// Nullable: a value that is not finite is written as null (an empty CSV cell).
    Float,
    Count,
    Text,
}

fn kinds(header: &[&str]) -> Vec<Kind> {
    header
        .iter()
        .map(|&c| match c {
            "tick" => Kind::Tick,
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
}

impl Sink for Csv {
    fn row(&mut self, values: &[Value]) -> Result<(), OutputError> {
        self.cells.clear();
        for v in values {
            self.cells.push(match *v {
                Value::Tick(t) => t.to_string(),
                Value::Date(_, text) | Value::Name(text) | Value::Text(text) => text.to_string(),
                Value::Float(x) => fmt_f64(x),
                Value::Opt(x) => fmt_opt(x),
                Value::Count(n) => n.to_string(),
            });
        }
        self.writer.write_record(&self.cells).map_err(|e| csv_err(&self.partial, e))
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

/// Rows buffered before they go to the Parquet writer as one record batch.
const BATCH_ROWS: usize = 1 << 16;

enum Builder {
    Tick(UInt32Builder),
    Date(Date32Builder),
    Name(StringDictionaryBuilder<Int32Type>),
    Float(Float64Builder),
    Count(UInt64Builder),
    Text(StringBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::Tick => Builder::Tick(UInt32Builder::new()),
            Kind::Date => Builder::Date(Date32Builder::new()),
            Kind::Name => Builder::Name(StringDictionaryBuilder::new()),
            Kind::Float => Builder::Float(Float64Builder::new()),
            Kind::Count => Builder::Count(UInt64Builder::new()),
            Kind::Text => Builder::Text(StringBuilder::new()),
        }
    }

    fn append(&mut self, v: &Value) {
        let finite = |x: f64| (x.is_finite()).then_some(if x == 0.0 { 0.0 } else { x });
        match (self, *v) {
            (Builder::Tick(b), Value::Tick(t)) => b.append_value(t),
            (Builder::Date(b), Value::Date(days, _)) => b.append_value(days),
            (Builder::Name(b), Value::Name(text)) => {
                b.append_value(text);
            }
            (Builder::Float(b), Value::Float(x)) => b.append_option(finite(x)),
            (Builder::Float(b), Value::Opt(x)) => b.append_option(x.and_then(finite)),
            (Builder::Count(b), Value::Count(n)) => b.append_value(n),
            (Builder::Text(b), Value::Text(text)) => b.append_value(text),
            (_, v) => unreachable!("a {v:?} in a column of another kind"),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Tick(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Name(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Count(b) => Arc::new(b.finish()),
            Builder::Text(b) => Arc::new(b.finish()),
        }
    }
}

struct Parquet {
    partial: PathBuf,
    path: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<BufWriter<File>>,
    builders: Vec<Builder>,
    rows: usize,
}

impl Parquet {
    fn create(path: PathBuf, header: &[&str], meta: &RunMeta) -> Result<Parquet, OutputError> {
        let partial = partial_path(&path);
        let kinds = kinds(header);
        let fields: Vec<Field> = header
            .iter()
            .zip(&kinds)
            .map(|(&name, &kind)| match kind {
                Kind::Tick => Field::new(name, DataType::UInt32, false),
                Kind::Date => Field::new(name, DataType::Date32, false),
                Kind::Name => {
                    Field::new(name, DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)), false)
                }
                Kind::Float => Field::new(name, DataType::Float64, true),
                Kind::Count => Field::new(name, DataType::UInt64, false),
                Kind::Text => Field::new(name, DataType::Utf8, false),
            })
            .collect();
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let metadata = vec![
            KeyValue::new("tradesim_version".into(), env!("CARGO_PKG_VERSION").to_string()),
            KeyValue::new("scenario_hash".into(), meta.scenario_hash.clone()),
            KeyValue::new("seed".into(), meta.seed.to_string()),
        ];
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("a valid zstd level")))
            .set_key_value_metadata(Some(metadata))
            .set_created_by(format!("tradesim {}", env!("CARGO_PKG_VERSION")))
            // One row group per batch: the writer then holds at most one batch's pages.
            .set_max_row_group_row_count(Some(BATCH_ROWS))
            .build();
        let file = File::create(&partial).map_err(io_err(&partial))?;
        let writer = ArrowWriter::try_new(BufWriter::with_capacity(1 << 16, file), schema.clone(), Some(props))
            .map_err(|e| parquet_err(&partial, e))?;
        let builders = kinds.iter().map(|&k| Builder::new(k)).collect();
        Ok(Parquet { partial, path, schema, writer, builders, rows: 0 })
    }

    /// Hands the buffered rows to the writer as one record batch (the writer cuts row
    /// groups of at most its `max_row_group_size` rows and flushes each when full).
    fn flush_batch(&mut self) -> Result<(), OutputError> {
        if self.rows == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| parquet_err(&self.partial, e))?;
        self.writer.write(&batch).map_err(|e| parquet_err(&self.partial, e))?;
        self.rows = 0;
        Ok(())
    }
}

impl Sink for Parquet {
    fn row(&mut self, values: &[Value]) -> Result<(), OutputError> {
        for (b, v) in self.builders.iter_mut().zip(values) {
            b.append(v);
        }
        self.rows += 1;
        if self.rows >= BATCH_ROWS { self.flush_batch() } else { Ok(()) }
    }

    fn finish(mut self: Box<Self>) -> Result<(PathBuf, PathBuf), OutputError> {
        self.flush_batch()?;
        let Parquet { partial, path, writer, .. } = *self;
        let file = writer.into_inner().map_err(|e| parquet_err(&partial, e))?;
        file.into_inner().map_err(|e| io_err(&partial)(e.into_error()))?.sync_all().map_err(io_err(&partial))?;
        Ok((partial, path))
    }
}

fn parquet_err(path: &Path, e: impl std::fmt::Display) -> OutputError {
    OutputError::Io { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) }
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
            sinks.push(Box::new(Parquet::create(dir.join(format!("{stem}.parquet")), header, meta)?));
        }
        Ok(Series { sinks })
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

    pub fn write(&mut self, report: &TickReport) -> Result<(), OutputError> {
        let date = self.scenario.calendar.date_of(report.tick);
        let date_text = date.to_string();
        let (tick, date) = (Value::Tick(report.tick), Value::Date(date.days_since_epoch() as i32, &date_text));
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

    /// Writes out and syncs every file, then, once all are whole, renames each to its final
    /// name: a failure on the way (a full disk) leaves only `.partial` files.
    pub fn finish(self) -> Result<(), OutputError> {
        let mut whole = Vec::new();
        self.regions.finish(&mut whole)?;
        self.trade.finish(&mut whole)?;
        self.sectors.finish(&mut whole)?;
        self.policy.finish(&mut whole)?;
        for (partial, path) in whole {
            fs::rename(&partial, &path).map_err(io_err(&path))?;
        }
        Ok(())
    }
}
