//! Output files: per-tick CSV series streamed as a run goes, effects, and the manifest.
//!
//! Every file is written under a `.partial` name and renamed only when the run finishes,
//! so an interrupted run never leaves a file that looks complete; `manifest.json` is
//! written atomically (temporary file + rename) and says `running`, `failed` or `complete`.

pub mod manifest;
pub mod parquet;
pub mod series;

pub use manifest::{Manifest, RunStatus};
pub use series::SeriesWriter;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {source}; choose another --out directory")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{0} holds a finished run (manifest.json says complete); pass --force to overwrite it, or choose another --out"
    )]
    Finished(PathBuf),
    #[error("{0} exists and is not a directory; --out must name a directory")]
    NotADirectory(PathBuf),
}

pub fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.to_path_buf(), source }
}

/// Checks that `dir` can take a run's outputs before any simulation starts: it is not a
/// finished run (unless `force`), it can be created, and a file can be written in it.
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), OutputError> {
    if dir.exists() && !dir.is_dir() {
        return Err(OutputError::NotADirectory(dir.to_path_buf()));
    }
    let manifest = dir.join("manifest.json");
    if !force && manifest::is_complete(&manifest) {
        return Err(OutputError::Finished(dir.to_path_buf()));
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let probe = dir.join(".tradesim-write-probe");
    fs::File::create(&probe).and_then(|mut f| f.write_all(b"probe")).map_err(io_err(dir))?;
    fs::remove_file(&probe).map_err(io_err(&probe))?;
    Ok(())
}

/// What `tradesim plot` and `report` add to a run directory: a run that starts over in
/// it removes them, so no chart or page of an earlier run sits beside the new series.
pub const PLOTS_DIR: &str = "plots";
pub const CHART_FILES: &[&str] =
    &["tariffs.png", "imports.png", "prices.png", "macro.png", "shortages.png", "boycott.png"];
pub const REPORT_FILE: &str = "report.html";

/// Writes `bytes` to `path` atomically: a temporary sibling, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_atomic_parts(path, &[bytes])
}

/// Writes `parts`, one after the other, to `path` atomically.
pub fn write_atomic_parts(path: &Path, parts: &[&[u8]]) -> Result<(), OutputError> {
    let tmp = partial_path(path);
    let mut file = fs::File::create(&tmp).map_err(io_err(&tmp))?;
    let written = parts.iter().try_for_each(|p| file.write_all(p)).and_then(|_| file.sync_all()).map_err(io_err(&tmp));
    let renamed = written.and_then(|_| fs::rename(&tmp, path).map_err(io_err(path)));
    if renamed.is_err() {
        // Nothing half-written stays behind (a full disk, a directory in the way).
        let _ = fs::remove_file(&tmp);
    }
    renamed
}

/// `regions.csv` → `regions.csv.partial`.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Removes the finished files of an earlier run in `dir` that this run will write again,
/// so a failed rerun cannot leave an old complete-looking file beside new partial ones.
pub fn remove_previous(dir: &Path, names: &[&str]) -> Result<(), OutputError> {
    for name in names {
        let path = dir.join(name);
        if path.exists() {
            fs::remove_file(&path).map_err(io_err(&path))?;
        }
    }
    Ok(())
}

/// Formats a float for CSV: shortest round-trip text, never NaN or infinity (those become
/// an empty cell, which pandas reads as missing).
pub fn fmt_f64(x: f64) -> String {
    if x.is_finite() {
        let s = format!("{x}");
        if s == "-0" { "0".into() } else { s }
    } else {
        String::new()
    }
}

pub fn fmt_opt(x: Option<f64>) -> String {
    x.map(fmt_f64).unwrap_or_default()
}
