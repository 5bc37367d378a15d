//! Parquet outputs (issue 20, item 1): `--format parquet|both` writes the same columns and
//! values as the CSVs, with typed columns and the run's metadata, byte-identical on any
//! thread count.

use crate::common::*;
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

const STEMS: [&str; 4] = ["regions", "trade", "sectors", "policy"];

/// A Parquet file read back: its key-value metadata, its column names, and its rows as
/// the CSV writer would print them.
pub(crate) struct Read {
    pub(crate) meta: Vec<(String, String)>,
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
}

pub(crate) fn read_parquet(path: &Path) -> Read {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let meta = builder.metadata().file_metadata().key_value_metadata().cloned().unwrap_or_default();
    let meta = meta.into_iter().map(|kv| (kv.key, kv.value.unwrap_or_default())).collect();
    let schema = builder.schema().clone();
    let header = schema.fields().iter().map(|f| f.name().clone()).collect();
    let batches: Vec<RecordBatch> = builder.build().unwrap().map(|b| b.unwrap()).collect();
    let mut rows = Vec::new();
    for batch in &batches {
        for i in 0..batch.num_rows() {
            rows.push(batch.columns().iter().map(|c| cell(c.as_ref(), i)).collect());
        }
    }
    Read { meta, header, rows }
}

fn cell(column: &dyn Array, i: usize) -> String {
    if column.is_null(i) {
        return String::new();
    }
    match column.data_type() {
        DataType::UInt32 => column.as_primitive::<UInt32Type>().value(i).to_string(),
        DataType::UInt64 => column.as_primitive::<UInt64Type>().value(i).to_string(),
        DataType::Int64 => column.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Boolean => column.as_boolean().value(i).to_string(),
        DataType::Float64 => tradesim::output::fmt_f64(column.as_primitive::<Float64Type>().value(i)),
        DataType::Date32 => {
            let days = column.as_primitive::<Date32Type>().value(i);
            tradesim::calendar::Date::from_ymd(1970, 1, 1).unwrap().plus_days(days as i64).to_string()
        }
        DataType::Utf8 => column.as_string::<i32>().value(i).to_string(),
        DataType::Dictionary(_, _) => {
            let dict = column.as_dictionary::<Int32Type>();
            let key = dict.keys().value(i) as usize;
            dict.values().as_string::<i32>().value(key).to_string()
        }
        other => panic!("unexpected column type {other}"),
    }
}

pub(crate) fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

#[test]
fn parquet_holds_the_csv_values_with_types_and_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("both");
    run_tradesim(&out, 2, &["small", "--format", "both"]);
    let manifest: serde_json::Value = serde_json::from_slice(&read(&out, "manifest.json")).unwrap();
    for world in ["scenario", "counterfactual"] {
        for stem in STEMS {
            let Read { meta, header, rows } = read_parquet(&out.join(format!("{world}/{stem}.parquet")));
            let (csv_header, csv_rows) = read_csv(&out.join(format!("{world}/{stem}.csv")));
            assert_eq!(header, csv_header, "{world}/{stem}: columns");
            assert_eq!(rows.len(), csv_rows.len(), "{world}/{stem}: rows");
            assert!(!rows.is_empty() || stem == "policy", "{world}/{stem} is empty");
            for (k, (a, b)) in rows.iter().zip(&csv_rows).enumerate() {
                assert_eq!(a, b, "{world}/{stem}, row {k}");
            }
            let get = |key: &str| meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
            assert_eq!(get("scenario_hash").as_deref(), manifest["scenario_hash"].as_str(), "{world}/{stem}");
            assert_eq!(get("seed"), Some(manifest["seed"].to_string()), "{world}/{stem}");
            assert_eq!(get("tradesim_version").as_deref(), Some(env!("CARGO_PKG_VERSION")));
        }
    }
    // The policy file has rows in the scenario (the small world's tariff and its answer).
    assert!(!read_parquet(&out.join("scenario/policy.parquet")).rows.is_empty());
    // Typed columns: the tick and counts are integers, dates a date, names dictionaries.
    let file = std::fs::File::open(out.join("scenario/regions.parquet")).unwrap();
    let schema = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().schema().clone();
    let ty = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
    assert_eq!(ty("tick"), DataType::UInt32);
    assert_eq!(ty("date"), DataType::Date32);
    assert!(matches!(ty("region"), DataType::Dictionary(_, _)), "{:?}", ty("region"));
    assert_eq!(ty("employment"), DataType::UInt64);
    assert_eq!(ty("gdp"), DataType::Float64);
}

#[test]
fn parquet_alone_is_the_same_bytes_on_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    run_tradesim(&one, 1, &["small", "--format", "parquet"]);
    run_tradesim(&two, 2, &["small", "--format", "parquet"]);
    let manifest: serde_json::Value = serde_json::from_slice(&read(&one, "manifest.json")).unwrap();
    let files: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    for world in ["scenario", "counterfactual"] {
        for stem in STEMS {
            let name = format!("{world}/{stem}.parquet");
            assert!(files.contains(&name.as_str()), "manifest lists {name}: {files:?}");
            assert!(read(&one, &name) == read(&two, &name), "{name} differs between 1 and 2 threads");
            assert!(!one.join(format!("{world}/{stem}.csv")).exists(), "--format parquet wrote {stem}.csv");
        }
    }
}
