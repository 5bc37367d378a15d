//! Golden outputs: the flagship at the small preset, both worlds over the whole horizon,
//! gives exactly the CSV files it gave when `tests/golden/us_china_2025_small.txt` was
//! written (a digest and the size of each).
//!
//! Most changes to the engine (speed, layout, refactoring) must leave the outputs
//! byte-identical. This test checks that for one scenario at one size; the determinism
//! tests check thread counts, and the large preset's run. A change that moves outputs on
//! purpose (a model change, a new output column) rewrites the file with [`BLESS`], and its
//! commit says why the outputs moved.
//!
//! The engine's arithmetic is IEEE and the same for any thread count, but `powf`, `ln`
//! and `exp` come from the system's libm, whose last bits may differ between its
//! versions, and between the code paths it picks for a processor. The digests were
//! recorded with glibc 2.36 on x86-64 (AMD EPYC, with FMA), what CI and the benchmarks
//! run on. On another platform, bless locally to compare builds there, and do not commit
//! the file.

use crate::common::{read, run_files, run_tradesim};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The command that rewrites the golden file from the current build.
const BLESS: &str = "TRADESIM_BLESS=1 cargo test --test suite golden";

/// The run the digests are of (with `--threads 2 --out DIR`).
const RUN: &[&str] = &["us_china_2025", "--size", "small"];

fn golden_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/us_china_2025_small.txt")
}

/// FNV-1a, 64 bits: a digest that needs no dependency. It tells files apart; nothing here
/// guards against a file made to collide.
fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// One line per file of the run in `dir`: digest, size in bytes, path.
fn digests(dir: &Path) -> String {
    let mut out = String::new();
    for file in run_files() {
        let bytes = read(dir, &file);
        writeln!(out, "{:016x} {:>9} {file}", digest(&bytes), bytes.len()).unwrap();
    }
    out
}

/// The digest lines of a golden file (comments and blank lines dropped), by path.
fn by_path(text: &str) -> BTreeMap<&str, &str> {
    let lines = text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    lines.map(|l| (l.rsplit(' ').next().unwrap_or(""), l)).collect()
}

/// The paths whose lines differ between `got` and `want`, or that only one of them has.
fn changed<'a>(got: &BTreeMap<&'a str, &'a str>, want: &BTreeMap<&'a str, &'a str>) -> Vec<&'a str> {
    let paths: std::collections::BTreeSet<&str> = got.keys().chain(want.keys()).copied().collect();
    paths.into_iter().filter(|p| got.get(p) != want.get(p)).collect()
}

#[test]
fn flagship_outputs_match_the_golden_digests() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run_tradesim(&out, 2, RUN);
    let got = digests(&out);
    let path = golden_file();
    if std::env::var("TRADESIM_BLESS").as_deref() == Ok("1") {
        let header = format!(
            "# Digests (FNV-1a 64), sizes and paths of the CSV files of\n\
             # `tradesim run {} --threads 2` (both worlds, whole horizon).\n\
             # Checked by tests/suite/golden.rs; rewrite with `{BLESS}`.\n",
            RUN.join(" ")
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{header}{got}")).unwrap();
        eprintln!("golden outputs rewritten: {}", path.display());
        return;
    }
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (write it with `{BLESS}`)", path.display()));
    let moved = changed(&by_path(&got), &by_path(&text));
    assert!(
        moved.is_empty(),
        "the flagship's outputs moved ({}) against {}.\nRecorded:\n{}\nNow:\n{got}\n\
         If the change is meant to move outputs, rewrite the file with `{BLESS}` and say why in the commit.",
        moved.join(", "),
        path.display(),
        by_path(&text).values().copied().collect::<Vec<_>>().join("\n"),
    );
}

#[test]
fn the_digest_is_fnv_1a() {
    assert_eq!(digest(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(digest(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_ne!(digest(b"1.5,2"), digest(b"1.5,3"));
}

#[test]
fn a_golden_file_is_compared_file_by_file() {
    let want = by_path("# a comment\n00 1 a.csv\n\n00 2 b.csv\n00 3 c.csv\n");
    assert_eq!(want.len(), 3);
    let got = by_path("00 1 a.csv\n01 2 b.csv\n00 4 d.csv\n");
    // b's digest moved, c is no longer written, d is new.
    assert_eq!(changed(&got, &want), ["b.csv", "c.csv", "d.csv"]);
    assert!(changed(&want, &want).is_empty());
}
