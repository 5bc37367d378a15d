//! A series file read back into columns: names and dates as text, everything else as
//! numbers (an empty CSV cell or a Parquet null is NaN). CSV or Parquet, whichever the run
//! wrote; with `partial`, a `.partial` CSV of a run that has not finished, up to its last
//! whole line.

use super::ReportError;
use crate::calendar::Date;
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int32Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Columns held as text; every other column is a number.
const TEXT: [&str; 9] =
    ["date", "region", "exporter", "importer", "sector", "government", "partner", "instrument", "cause"];

#[derive(Debug, Default)]
pub struct Table {
    pub path: PathBuf,
    pub rows: usize,
    text: HashMap<String, Vec<String>>,
    num: HashMap<String, Vec<f64>>,
}

impl Table {
    /// Reads `dir/stem.csv`, else `dir/stem.parquet`, else (with `partial`)
    /// `dir/stem.csv.partial`, and checks that it has every column of `needed`.
    pub fn load(dir: &Path, stem: &str, needed: &[&str], partial: bool) -> Result<Table, ReportError> {
        let csv = dir.join(format!("{stem}.csv"));
        let parquet = dir.join(format!("{stem}.parquet"));
        let partial_csv = dir.join(format!("{stem}.csv.partial"));
        let table = if csv.is_file() {
            read_csv(&csv, false)?
        } else if parquet.is_file() {
            read_parquet(&parquet)?
        } else if partial && partial_csv.is_file() {
            let mut t = read_csv(&partial_csv, true)?;
            if t.text.is_empty() && t.num.is_empty() {
                return Err(ReportError::Input(format!(
                    "{}: the run has not written anything yet",
                    partial_csv.display()
                )));
            }
            t.drop_last_tick();
            t
        } else {
            let also = if partial { ", nor a .csv.partial" } else { "" };
            return Err(ReportError::Input(format!(
                "{}: missing (and no {stem}.parquet{also}); the run did not write this series",
                csv.display()
            )));
        };
        for column in needed {
            if !table.text.contains_key(*column) && !table.num.contains_key(*column) {
                return Err(ReportError::Input(format!(
                    "{}: has no column '{column}'; it was written by another version of tradesim (this is {}), run the scenario again",
                    table.path.display(),
                    crate::VERSION
                )));
            }
        }
        Ok(table)
    }

    /// Drops the rows of the last tick, which a run still writing may have cut short (a
    /// tick's rows are adjacent).
    fn drop_last_tick(&mut self) {
        let Some(ticks) = self.num.get("tick") else { return };
        let Some(&last) = ticks.last() else { return };
        let keep = ticks.iter().position(|&t| t == last).unwrap_or(ticks.len());
        for column in self.num.values_mut() {
            column.truncate(keep);
        }
        for column in self.text.values_mut() {
            column.truncate(keep);
        }
        self.rows = keep;
    }

    /// A text column; empty when the file does not have it (`load` checks the needed ones).
    pub fn text(&self, column: &str) -> &[String] {
        self.text.get(column).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A numeric column; empty when the file does not have it.
    pub fn num(&self, column: &str) -> &[f64] {
        self.num.get(column).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Row indices whose text columns equal the given values.
    pub fn rows_where(&self, filters: &[(&str, &str)]) -> Vec<usize> {
        let cols: Vec<(&[String], &str)> = filters.iter().map(|(c, v)| (self.text(c), *v)).collect();
        if cols.iter().any(|(c, _)| c.len() != self.rows) {
            return Vec::new();
        }
        (0..self.rows).filter(|&i| cols.iter().all(|(c, v)| c[i] == *v)).collect()
    }
}

fn read_csv(path: &Path, partial: bool) -> Result<Table, ReportError> {
    let bytes = fs::read(path).map_err(|e| ReportError::Input(format!("{}: {e}", path.display())))?;
    // A run still writing may have stopped in the middle of a line.
    let bytes = if partial {
        match bytes.iter().rposition(|&b| b == b'\n') {
            Some(end) => &bytes[..=end],
            None => &bytes[..0],
        }
    } else {
        &bytes[..]
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let bad = |e: csv::Error| ReportError::Input(format!("{}: {e}", path.display()));
    let header: Vec<String> = reader.headers().map_err(bad)?.iter().map(str::to_string).collect();
    let mut table = Table { path: path.to_path_buf(), ..Table::default() };
    let is_text: Vec<bool> = header.iter().map(|h| TEXT.contains(&h.as_str())).collect();
    let mut text: Vec<Vec<String>> = vec![Vec::new(); header.len()];
    let mut num: Vec<Vec<f64>> = vec![Vec::new(); header.len()];
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(bad)?;
        for (c, cell) in record.iter().enumerate() {
            if is_text[c] {
                text[c].push(cell.to_string());
            } else if cell.is_empty() {
                num[c].push(f64::NAN);
            } else {
                num[c].push(cell.parse().map_err(|_| {
                    ReportError::Input(format!(
                        "{}: line {}: column '{}' holds '{cell}', not a number",
                        path.display(),
                        line + 2,
                        header[c]
                    ))
                })?);
            }
        }
        table.rows += 1;
    }
    for (c, name) in header.into_iter().enumerate() {
        if is_text[c] {
            table.text.insert(name, std::mem::take(&mut text[c]));
        } else {
            table.num.insert(name, std::mem::take(&mut num[c]));
        }
    }
    Ok(table)
}

fn read_parquet(path: &Path) -> Result<Table, ReportError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let bad = |e: &dyn std::fmt::Display| ReportError::Input(format!("{}: {e}", path.display()));
    let file = fs::File::open(path).map_err(|e| bad(&e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(&e))?;
    let mut table = Table { path: path.to_path_buf(), ..Table::default() };
    // The columns exist even when the file has no rows (a counterfactual's policy.parquet).
    for field in builder.schema().fields() {
        let text = matches!(field.data_type(), DataType::Utf8 | DataType::Dictionary(_, _) | DataType::Date32);
        // (Other types are refused below, when their first batch is read.)
        if text {
            table.text.insert(field.name().clone(), Vec::new());
        } else {
            table.num.insert(field.name().clone(), Vec::new());
        }
    }
    let reader = builder.build().map_err(|e| bad(&e))?;
    let epoch = Date::from_ymd(1970, 1, 1).expect("1970-01-01 is a date");
    for batch in reader {
        let batch = batch.map_err(|e| bad(&e))?;
        table.rows += batch.num_rows();
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            let name = field.name().clone();
            match column.data_type() {
                DataType::Utf8 => {
                    let a = column.as_string::<i32>();
                    table.text.entry(name).or_default().extend((0..a.len()).map(|i| a.value(i).to_string()));
                }
                DataType::Dictionary(key, value) if **key == DataType::Int32 && **value == DataType::Utf8 => {
                    let d = column.as_dictionary::<Int32Type>();
                    let values = d.values().as_string::<i32>();
                    let out = table.text.entry(name).or_default();
                    out.extend(
                        d.keys().iter().map(|k| k.map(|k| values.value(k as usize).to_string()).unwrap_or_default()),
                    );
                }
                DataType::Date32 => {
                    let a = column.as_primitive::<Date32Type>();
                    let out = table.text.entry(name).or_default();
                    out.extend(a.iter().map(|d| d.map(|d| epoch.plus_days(d as i64).to_string()).unwrap_or_default()));
                }
                _ => {
                    let values = numbers(column).ok_or_else(|| {
                        bad(&format!("column '{name}' has type {}, which tradesim does not write", column.data_type()))
                    })?;
                    table.num.entry(name).or_default().extend(values);
                }
            }
        }
    }
    Ok(table)
}

fn numbers(column: &ArrayRef) -> Option<Vec<f64>> {
    let v = match column.data_type() {
        DataType::Float64 => column.as_primitive::<Float64Type>().iter().map(|x| x.unwrap_or(f64::NAN)).collect(),
        DataType::UInt32 => column.as_primitive::<UInt32Type>().iter().map(|x| x.map_or(f64::NAN, f64::from)).collect(),
        DataType::UInt64 => {
            column.as_primitive::<UInt64Type>().iter().map(|x| x.map_or(f64::NAN, |x| x as f64)).collect()
        }
        _ => return None,
    };
    Some(v)
}
