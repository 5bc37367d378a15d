//! A Parquet file written as rows of typed values: the series of a run and the tables a
//! sweep's collect gathers are written through it. Rows are buffered into Arrow builders
//! and handed to the `parquet` crate's `ArrowWriter` as a record batch of `BATCH_ROWS`
//! rows, one row group each, so the writer holds at most one batch; zstd level 3. The
//! file is written under its `.partial` name, synced, and renamed by the caller once every
//! file it writes with it is whole.

use super::{OutputError, io_err, partial_path};
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder, StringDictionaryBuilder, UInt32Builder,
    UInt64Builder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One cell, typed; a CSV writer and a Parquet writer each write it their own way.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    /// A tick, a sweep point or a replicate.
    U32(u32),
    /// Days since 1970-01-01 and the ISO text of the same date (the text for CSV).
    Date(i32, &'a str),
    Name(&'a str),
    Float(f64),
    Opt(Option<f64>),
    Count(u64),
    Int(i64),
    Bool(bool),
    Text(&'a str),
    /// A missing cell of a nullable column (an empty CSV cell).
    Null,
}

/// The kind of a column, which fixes its Parquet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UInt32: a tick, a point, a replicate.
    U32,
    /// Date32.
    Date,
    /// A region, sector, instrument or status: dictionary-encoded strings.
    Name,
    /// The same, nullable: an empty CSV cell is null (an effect with no partner).
    OptName,
    /// Float64, nullable: a value that is not finite is written as null (an empty CSV
    /// cell), and −0 as 0, as the CSV writes them.
    Float,
    /// UInt64: a count of people, a seed.
    Count,
    /// Int64.
    Int,
    /// Boolean.
    Bool,
    /// Utf8.
    Text,
}

impl Kind {
    fn field(self, name: &str) -> Field {
        let dictionary = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        match self {
            Kind::U32 => Field::new(name, DataType::UInt32, false),
            Kind::Date => Field::new(name, DataType::Date32, false),
            Kind::Name => Field::new(name, dictionary(), false),
            Kind::OptName => Field::new(name, dictionary(), true),
            Kind::Float => Field::new(name, DataType::Float64, true),
            Kind::Count => Field::new(name, DataType::UInt64, false),
            Kind::Int => Field::new(name, DataType::Int64, false),
            Kind::Bool => Field::new(name, DataType::Boolean, false),
            Kind::Text => Field::new(name, DataType::Utf8, false),
        }
    }

    /// What a cell of this kind holds, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::U32 | Kind::Count => "a whole number from 0",
            Kind::Date => "a date such as 2025-04-09",
            Kind::Name => "a name",
            Kind::OptName => "a name or nothing",
            Kind::Float => "a finite number or nothing",
            Kind::Int => "a whole number",
            Kind::Bool => "true or false",
            Kind::Text => "text",
        }
    }

    /// The value of a CSV cell in a column of this kind, as tradesim wrote it (shortest
    /// round-trip numbers, ISO dates, empty for missing); `None` if the cell is not one
    /// (tradesim never writes a number that is not finite: NaN and inf are refused).
    pub fn parse<'a>(self, cell: &'a str) -> Option<Value<'a>> {
        if cell.is_empty() && matches!(self, Kind::Float | Kind::OptName) {
            return Some(Value::Null);
        }
        Some(match self {
            Kind::U32 => Value::U32(cell.parse().ok()?),
            Kind::Date => Value::Date(cell.parse::<crate::calendar::Date>().ok()?.days_since_epoch() as i32, cell),
            Kind::Name | Kind::OptName => Value::Name(cell),
            Kind::Float => Value::Float(cell.parse().ok().filter(|x: &f64| x.is_finite())?),
            Kind::Count => Value::Count(cell.parse().ok()?),
            Kind::Int => Value::Int(cell.parse().ok()?),
            Kind::Bool => Value::Bool(cell.parse().ok()?),
            Kind::Text => Value::Text(cell),
        })
    }
}

enum Builder {
    U32(UInt32Builder),
    Date(Date32Builder),
    Name(StringDictionaryBuilder<Int32Type>),
    Float(Float64Builder),
    Count(UInt64Builder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
    Text(StringBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::U32 => Builder::U32(UInt32Builder::new()),
            Kind::Date => Builder::Date(Date32Builder::new()),
            Kind::Name | Kind::OptName => Builder::Name(StringDictionaryBuilder::new()),
            Kind::Float => Builder::Float(Float64Builder::new()),
            Kind::Count => Builder::Count(UInt64Builder::new()),
            Kind::Int => Builder::Int(Int64Builder::new()),
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
            Kind::Text => Builder::Text(StringBuilder::new()),
        }
    }

    /// Appends `v`; a value of another kind than the column's is refused.
    fn append(&mut self, v: &Value) -> Result<(), String> {
        let finite = |x: f64| (x.is_finite()).then_some(if x == 0.0 { 0.0 } else { x });
        match (self, *v) {
            (Builder::U32(b), Value::U32(t)) => b.append_value(t),
            (Builder::Date(b), Value::Date(days, _)) => b.append_value(days),
            (Builder::Name(b), Value::Name(text)) => {
                b.append_value(text);
            }
            (Builder::Float(b), Value::Float(x)) => b.append_option(finite(x)),
            (Builder::Float(b), Value::Opt(x)) => b.append_option(x.and_then(finite)),
            (Builder::Count(b), Value::Count(n)) => b.append_value(n),
            (Builder::Int(b), Value::Int(n)) => b.append_value(n),
            (Builder::Bool(b), Value::Bool(x)) => b.append_value(x),
            (Builder::Text(b), Value::Text(text)) => b.append_value(text),
            (Builder::Name(b), Value::Null) => b.append_null(),
            (Builder::Float(b), Value::Null) => b.append_null(),
            (_, v) => return Err(format!("{v:?} in a column of another kind")),
        }
        Ok(())
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::U32(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Name(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Count(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Text(b) => Arc::new(b.finish()),
        }
    }
}

/// Rows buffered before they go to the Parquet writer as one record batch.
pub const BATCH_ROWS: usize = 1 << 16;

/// Rows of a Parquet file's columns, built in memory (on any thread) and handed to its
/// [`ParquetFile`] as one record batch.
pub struct Rows {
    schema: SchemaRef,
    kinds: Vec<Kind>,
    builders: Vec<Builder>,
    len: usize,
}

impl Rows {
    fn new(schema: SchemaRef, kinds: Vec<Kind>) -> Rows {
        let builders = kinds.iter().map(|&k| Builder::new(k)).collect();
        Rows { schema, kinds, builders, len: 0 }
    }

    /// No rows, of the same columns.
    pub fn like(&self) -> Rows {
        Rows::new(self.schema.clone(), self.kinds.clone())
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a row of values, one per column, each of its column's kind.
    pub fn row(&mut self, values: &[Value]) -> Result<(), String> {
        if values.len() != self.builders.len() {
            return Err(format!("a row of {} values under {} columns", values.len(), self.builders.len()));
        }
        for ((b, v), field) in self.builders.iter_mut().zip(values).zip(self.schema.fields()) {
            if matches!(v, Value::Null) && !field.is_nullable() {
                return Err(format!("column {}: a missing value where one is required", field.name()));
            }
            b.append(v).map_err(|e| format!("column {}: {e}", field.name()))?;
        }
        self.len += 1;
        Ok(())
    }

    /// Appends a row given as the cells tradesim writes to CSV, each read as its column's
    /// kind; a cell that is not one is refused, naming the column.
    pub fn csv_row<S: AsRef<[u8]>>(&mut self, cells: &[S]) -> Result<(), String> {
        if cells.len() != self.kinds.len() {
            return Err(format!("a row of {} values under {} columns", cells.len(), self.kinds.len()));
        }
        let mut values = Vec::with_capacity(cells.len());
        for (cell, (kind, field)) in cells.iter().zip(self.kinds.iter().zip(self.schema.fields())) {
            let text = std::str::from_utf8(cell.as_ref()).ok();
            match text.and_then(|t| kind.parse(t)) {
                Some(v) => values.push(v),
                None => {
                    return Err(format!(
                        "column {}: '{}' is not {}",
                        field.name(),
                        String::from_utf8_lossy(cell.as_ref()),
                        kind.describe()
                    ));
                }
            }
        }
        self.row(&values)
    }

    /// The rows as a record batch (none if there are none); the rows are then empty.
    fn take_batch(&mut self) -> Result<Option<RecordBatch>, String> {
        if self.len == 0 {
            return Ok(None);
        }
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        self.len = 0;
        RecordBatch::try_new(self.schema.clone(), columns).map(Some).map_err(|e| e.to_string())
    }
}

/// One Parquet file being written.
pub struct ParquetFile {
    partial: PathBuf,
    path: PathBuf,
    writer: ArrowWriter<BufWriter<File>>,
    buffer: Rows,
    /// Batches appended and not yet written, fewer than `BATCH_ROWS` rows in all: the
    /// writer is given batches of exactly `BATCH_ROWS` rows (and the rest at the end), so
    /// the bytes do not depend on how the rows came (the encoder cuts pages by batch).
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

impl ParquetFile {
    /// Creates `path`'s `.partial` file with these columns and key-value metadata (the
    /// tradesim version is always recorded).
    pub fn create(
        path: PathBuf,
        columns: &[(&str, Kind)],
        meta: &[(&str, String)],
    ) -> Result<ParquetFile, OutputError> {
        let partial = partial_path(&path);
        let schema: SchemaRef = Arc::new(Schema::new(columns.iter().map(|&(n, k)| k.field(n)).collect::<Vec<_>>()));
        let mut metadata = vec![KeyValue::new("tradesim_version".into(), env!("CARGO_PKG_VERSION").to_string())];
        metadata.extend(meta.iter().map(|(k, v)| KeyValue::new(k.to_string(), v.clone())));
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("a valid zstd level")))
            .set_key_value_metadata(Some(metadata))
            .set_created_by(format!("tradesim {}", env!("CARGO_PKG_VERSION")))
            // Row groups of at most one batch: the writer then holds at most one batch's pages.
            .set_max_row_group_row_count(Some(BATCH_ROWS))
            .build();
        let file = File::create(&partial).map_err(io_err(&partial))?;
        let writer = ArrowWriter::try_new(BufWriter::with_capacity(1 << 16, file), schema.clone(), Some(props))
            .map_err(|e| parquet_err(&partial, e))?;
        let buffer = Rows::new(schema, columns.iter().map(|&(_, k)| k).collect());
        Ok(ParquetFile { partial, path, writer, buffer, pending: Vec::new(), pending_rows: 0 })
    }

    /// The `.partial` name the file is written under.
    pub fn partial(&self) -> &Path {
        &self.partial
    }

    /// An empty set of rows of this file's columns, to fill elsewhere and [`append`](Self::append).
    pub fn rows(&self) -> Rows {
        self.buffer.like()
    }

    pub fn row(&mut self, values: &[Value]) -> Result<(), OutputError> {
        self.buffer.row(values).map_err(|e| parquet_err(&self.partial, e))?;
        if self.buffer.len() + self.pending_rows >= BATCH_ROWS { self.flush() } else { Ok(()) }
    }

    /// Appends a row given as CSV cells (see [`Rows::csv_row`]).
    pub fn csv_row<S: AsRef<[u8]>>(&mut self, cells: &[S]) -> Result<(), OutputError> {
        self.buffer.csv_row(cells).map_err(|e| parquet_err(&self.partial, e))?;
        if self.buffer.len() + self.pending_rows >= BATCH_ROWS { self.flush() } else { Ok(()) }
    }

    /// Appends rows made by [`rows`](Self::rows), after those buffered.
    pub fn append(&mut self, mut rows: Rows) -> Result<(), OutputError> {
        self.take_buffer()?;
        if let Some(batch) = rows.take_batch().map_err(|e| parquet_err(&self.partial, e))? {
            self.pending_rows += batch.num_rows();
            self.pending.push(batch);
        }
        self.write_pending(false)
    }

    fn flush(&mut self) -> Result<(), OutputError> {
        self.take_buffer()?;
        self.write_pending(false)
    }

    /// Moves the buffered rows to the pending batches.
    fn take_buffer(&mut self) -> Result<(), OutputError> {
        if let Some(batch) = self.buffer.take_batch().map_err(|e| parquet_err(&self.partial, e))? {
            self.pending_rows += batch.num_rows();
            self.pending.push(batch);
        }
        Ok(())
    }

    /// Writes the pending rows in batches of `BATCH_ROWS`; with `all`, the rest too.
    fn write_pending(&mut self, all: bool) -> Result<(), OutputError> {
        if self.pending_rows < BATCH_ROWS && !(all && self.pending_rows > 0) {
            return Ok(());
        }
        let bad = |e: arrow_schema::ArrowError| parquet_err(&self.partial, e);
        let schema = self.buffer.schema.clone();
        let mut rows = if self.pending.len() == 1 {
            self.pending.pop().expect("one batch")
        } else {
            arrow_select::concat::concat_batches(&schema, &self.pending).map_err(bad)?
        };
        self.pending.clear();
        while rows.num_rows() >= BATCH_ROWS || (all && rows.num_rows() > 0) {
            let n = rows.num_rows().min(BATCH_ROWS);
            self.writer.write(&rows.slice(0, n)).map_err(|e| parquet_err(&self.partial, e))?;
            rows = rows.slice(n, rows.num_rows() - n);
        }
        self.pending_rows = rows.num_rows();
        if self.pending_rows > 0 {
            self.pending.push(rows);
        }
        Ok(())
    }

    /// Writes out, closes and syncs the `.partial` file; returns (partial, final name).
    pub fn finish(mut self) -> Result<(PathBuf, PathBuf), OutputError> {
        self.take_buffer()?;
        self.write_pending(true)?;
        let ParquetFile { partial, path, writer, .. } = self;
        let file = writer.into_inner().map_err(|e| parquet_err(&partial, e))?;
        file.into_inner().map_err(|e| io_err(&partial)(e.into_error()))?.sync_all().map_err(io_err(&partial))?;
        Ok((partial, path))
    }
}

fn parquet_err(path: &Path, e: impl std::fmt::Display) -> OutputError {
    OutputError::Io { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [(&str, Kind); 4] =
        [("tick", Kind::U32), ("region", Kind::Name), ("partner", Kind::OptName), ("value", Kind::Float)];

    fn cells(i: usize) -> [String; 4] {
        let partner = if i.is_multiple_of(7) { String::new() } else { format!("R{}", i % 5) };
        [(i / 10).to_string(), format!("R{}", i % 3), partner, crate::output::fmt_f64(i as f64 * 0.37 - 900.0)]
    }

    #[test]
    fn csv_cells_are_read_as_their_column_kind() {
        assert!(matches!(Kind::Float.parse(""), Some(Value::Null)));
        assert!(matches!(Kind::OptName.parse(""), Some(Value::Null)));
        assert!(matches!(Kind::Name.parse(""), Some(Value::Name(""))));
        assert!(matches!(Kind::Date.parse("2025-04-09"), Some(Value::Date(20187, _))));
        assert!(Kind::U32.parse("").is_none() && Kind::U32.parse("-1").is_none());
        assert!(Kind::Float.parse("1,5").is_none() && Kind::Date.parse("2025-02-30").is_none());
        assert!(Kind::Float.parse("NaN").is_none() && Kind::Float.parse("inf").is_none(), "tradesim writes neither");
        let mut rows = Rows::new(Arc::new(Schema::new(vec![Kind::U32.field("tick")])), vec![Kind::U32]);
        let err = rows.csv_row(&["x"]).unwrap_err();
        assert!(err.contains("column tick") && err.contains("'x'"), "{err}");
        assert!(rows.csv_row(&["1", "2"]).unwrap_err().contains("2 values under 1 columns"));
        let mut names = Rows::new(Arc::new(Schema::new(vec![Kind::Name.field("region")])), vec![Kind::Name]);
        let err = names.row(&[Value::Null]).unwrap_err();
        assert!(err.contains("column region") && err.contains("required"), "{err}");
    }

    /// The same rows give the same bytes whether they come one by one or in parts of any
    /// size: the writer is always handed batches of `BATCH_ROWS`.
    #[test]
    fn the_bytes_do_not_depend_on_how_the_rows_came() {
        let dir = tempfile::tempdir().unwrap();
        let n = 2 * BATCH_ROWS + 12_345;
        let one = dir.path().join("one.parquet");
        let mut file = ParquetFile::create(one.clone(), &COLUMNS, &[("seed", "7".into())]).unwrap();
        for i in 0..n {
            file.csv_row(&cells(i)).unwrap();
        }
        let (partial, path) = file.finish().unwrap();
        std::fs::rename(partial, path).unwrap();
        for sizes in [vec![1, 999, 70_000], vec![BATCH_ROWS], vec![3, 40_000, 7]] {
            let other = dir.path().join("parts.parquet");
            let mut file = ParquetFile::create(other.clone(), &COLUMNS, &[("seed", "7".into())]).unwrap();
            let mut i = 0;
            let mut k = 0;
            while i < n {
                let mut rows = file.rows();
                for _ in 0..sizes[k % sizes.len()].min(n - i) {
                    rows.csv_row(&cells(i)).unwrap();
                    i += 1;
                }
                file.append(rows).unwrap();
                // A row between parts goes through the buffer, in order.
                if k % 2 == 1 && i < n {
                    file.csv_row(&cells(i)).unwrap();
                    i += 1;
                }
                k += 1;
            }
            let (partial, path) = file.finish().unwrap();
            std::fs::rename(partial, path).unwrap();
            assert!(std::fs::read(&one).unwrap() == std::fs::read(&other).unwrap(), "parts of {sizes:?}");
        }
    }
}
