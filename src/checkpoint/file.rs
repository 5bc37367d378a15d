//! The checkpoint file, `OUT/checkpoint/state.bin`: what `tradesim run --resume OUT`
//! continues from.
//!
//! Layout (docs/outputs.md):
//! 1. the 20 bytes `tradesim checkpoint\n`;
//! 2. the format version, a little-endian u32 ([`FORMAT_VERSION`]);
//! 3. the header's length, a little-endian u32, then the header as JSON ([`Header`]: the
//!    tradesim version, the scenario and its content hash, the overrides, the world saved
//!    and its tick, the body's length and CRC-32), then the header's CRC-32;
//! 4. the body ([`Body`]), in postcard (serde's compact binary form; floats as their bits).
//!
//! It is written under a temporary name, synced and renamed, then its directory synced:
//! the previous checkpoint stays whole until the new one is.

use super::WorldState;
use crate::effects::{Run, SavedEffects};
use crate::engine::RegionCalibration;
use crate::metrics::ledger::Residuals;
use crate::output::manifest::Timings;
use crate::output::series::Format;
use crate::output::{OutputError, io_err};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The checkpoint's directory in a run directory.
pub const DIR: &str = "checkpoint";
/// The checkpoint's file in [`DIR`].
pub const FILE: &str = "state.bin";
/// The version of the layout and of the body's types; a file of another version is refused.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 20] = b"tradesim checkpoint\n";
/// A header longer than this is damage, not a header.
const MAX_HEADER: u32 = 1 << 20;

/// What a checkpoint says about itself: enough to refuse one that does not belong to the
/// run, the scenario or this tradesim, before its body is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub tradesim_version: String,
    pub scenario_name: String,
    /// The scenario's file, or `<embedded NAME>`, as the run was given it.
    pub scenario_source: String,
    /// The content hash of the scenario's text (the manifest's `scenario_hash`).
    pub scenario_hash: String,
    /// The run's overrides as given (`None`: the scenario's own); threads do not matter.
    pub seed: Option<u64>,
    pub ticks: Option<u32>,
    pub scale: f64,
    pub counterfactual: bool,
    pub format: Format,
    pub checkpoint_every: Option<u32>,
    /// The world saved, and how many of its ticks have run.
    pub run: Run,
    pub tick: u32,
    pub body_bytes: u64,
    pub body_crc32: u32,
}

/// Everything the run needs to go on from the tick saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Body {
    /// The world of `Header::run` after `Header::tick` ticks.
    pub world: WorldState,
    /// Both runs' effect windows so far.
    pub effects: SavedEffects,
    /// The residuals of the runs finished before this one.
    pub residuals: Vec<Residuals>,
    pub calibration: Vec<RegionCalibration>,
    pub timings: Timings,
    /// Every series file written so far and its length at the checkpoint.
    pub files: Vec<FileMark>,
}

/// A series file (its `.partial` name, relative to the run directory) and its length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMark {
    pub path: String,
    pub bytes: u64,
}

/// A checkpoint read and checked.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub header: Header,
    pub body: Body,
}

/// `OUT/checkpoint/state.bin`.
pub fn path(out: &Path) -> PathBuf {
    out.join(DIR).join(FILE)
}

/// Writes the checkpoint of the run in `out` (the header's body fields are filled in
/// here); returns its size in bytes. On failure the previous checkpoint is left as it was.
pub fn write(out: &Path, mut header: Header, body: &Body) -> Result<u64, OutputError> {
    let dir = out.join(DIR);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let body = postcard::to_stdvec(body).expect("a checkpoint body always serializes");
    header.body_bytes = body.len() as u64;
    header.body_crc32 = crc32fast::hash(&body);
    let head = serde_json::to_vec(&header).expect("a checkpoint header always serializes");
    let mut front = Vec::with_capacity(MAGIC.len() + 12 + head.len());
    front.extend_from_slice(MAGIC);
    front.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    front.extend_from_slice(&(head.len() as u32).to_le_bytes());
    front.extend_from_slice(&head);
    front.extend_from_slice(&crc32fast::hash(&head).to_le_bytes());
    let file = dir.join(FILE);
    crate::output::write_atomic_parts(&file, &[&front, &body])?;
    std::fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(io_err(&dir))?;
    Ok((front.len() + body.len()) as u64)
}

/// Reads the header of the checkpoint in `out` only (what `--resume` shows and checks
/// before it loads the scenario); the error names the file and the problem.
pub fn read_header(out: &Path) -> Result<Header, String> {
    let file = path(out);
    let bytes = read_file(out, &file)?;
    Ok(split(&file, &bytes)?.0)
}

/// Reads and checks the checkpoint in `out`; the error names the file and the problem.
pub fn read(out: &Path) -> Result<Checkpoint, String> {
    let file = path(out);
    let bytes = read_file(out, &file)?;
    let (header, body) = split(&file, &bytes)?;
    let body: Body = postcard::from_bytes(body).map_err(|e| {
        format!("{}: the saved state does not decode ({e}) although its checksum matches", file.display())
    })?;
    if body.world.tick != header.tick {
        return Err(format!(
            "{}: the header says tick {}, the saved world is at tick {}",
            file.display(),
            header.tick,
            body.world.tick
        ));
    }
    Ok(Checkpoint { header, body })
}

fn read_file(out: &Path, file: &Path) -> Result<Vec<u8>, String> {
    if !out.is_dir() {
        return Err(format!("{}: no such run directory", out.display()));
    }
    std::fs::read(file).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "{}: no checkpoint; a run writes one every N weeks with --checkpoint-every N, and when a \
                 signal (SIGTERM, SIGINT) stops it",
                file.display()
            )
        } else {
            format!("{}: {e}", file.display())
        }
    })
}

/// Checks the layout, the version and both checksums; the header and the body's bytes.
fn split<'a>(file: &Path, bytes: &'a [u8]) -> Result<(Header, &'a [u8]), String> {
    let f = file.display();
    let truncated = |what: &str| format!("{f}: truncated ({} bytes; it ends inside the {what})", bytes.len());
    if bytes.is_empty() {
        return Err(format!("{f}: empty (0 bytes), not a tradesim checkpoint"));
    }
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(if MAGIC.starts_with(bytes) {
            truncated("first line")
        } else {
            format!("{f}: not a tradesim checkpoint (it does not start with `tradesim checkpoint`)")
        });
    }
    let word = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
    let at = MAGIC.len();
    let version = word(at).ok_or_else(|| truncated("format version"))?;
    if version != FORMAT_VERSION {
        return Err(format!(
            "{f}: checkpoint format version {version}; this tradesim ({}) reads version {FORMAT_VERSION}",
            crate::VERSION
        ));
    }
    let len = word(at + 4).ok_or_else(|| truncated("header"))?;
    if len > MAX_HEADER {
        return Err(format!("{f}: damaged (a header of {len} bytes)"));
    }
    let start = at + 8;
    let end = start + len as usize;
    let head = bytes.get(start..end).ok_or_else(|| truncated("header"))?;
    let crc = word(end).ok_or_else(|| truncated("header"))?;
    if crc != crc32fast::hash(head) {
        return Err(format!("{f}: the header is damaged (its checksum does not match)"));
    }
    let header: Header =
        serde_json::from_slice(head).map_err(|e| format!("{f}: the header does not read as a checkpoint's ({e})"))?;
    if header.tradesim_version != crate::VERSION {
        return Err(format!(
            "{f}: written by tradesim {}; this is tradesim {}. Resume with tradesim {}, or start the run again",
            header.tradesim_version,
            crate::VERSION,
            header.tradesim_version
        ));
    }
    let body = &bytes[end + 4..];
    if body.len() as u64 != header.body_bytes {
        return Err(format!(
            "{f}: truncated: the header says {} bytes of saved state, the file holds {}",
            header.body_bytes,
            body.len()
        ));
    }
    if crc32fast::hash(body) != header.body_crc32 {
        return Err(format!("{f}: the saved state is damaged (its checksum does not match)"));
    }
    Ok((header, body))
}
