//! Golden outputs: the flagship at the small preset, both worlds over the whole horizon,
//! gives exactly the series it gave when `tests/golden/us_china_2025_small.txt` was
//! written (a digest and the size of each CSV file).
//!
//! Most changes to the engine (speed, layout, refactoring) must leave every output
//! byte-identical, and this test is what checks it. A change that moves outputs on purpose
//! (a model change, a new output column) rewrites the file:
//!
//! ```text
//! TRADESIM_BLESS=1 cargo test --test suite golden
//! ```
//!
//! and its commit says why the outputs moved. The digests hold for one platform's
//! floating-point library (x86-64 Linux with glibc, the one CI and the benchmarks run
//! on): the engine's arithmetic is IEEE and the same for any thread count, but `powf`,
//! `exp` and `ln` come from the system's libm.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every CSV file a run with its counterfactual writes (the manifest records the build
/// and the machine, so it is not compared).
const FILES: &[&str] = &[
    "effects.csv",
    "scenario/regions.csv",
    "scenario/trade.csv",
    "scenario/sectors.csv",
    "scenario/policy.csv",
    "counterfactual/regions.csv",
    "counterfactual/trade.csv",
    "counterfactual/sectors.csv",
    "counterfactual/policy.csv",
];

fn golden_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/us_china_2025_small.txt")
}

/// FNV-1a, 64 bits: a digest that needs no dependency. It tells files apart; nothing here
/// guards against a file made to collide.
fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// One line per file: digest, size in bytes, path.
fn digests(dir: &Path) -> String {
    let mut out = String::new();
    for file in FILES {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()));
        writeln!(out, "{:016x} {:>9} {file}", digest(&bytes), bytes.len()).unwrap();
    }
    out
}

/// The golden file's lines without its comments.
fn expected(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(|l| format!("{l}\n")).collect()
}

#[test]
fn flagship_outputs_match_the_golden_digests() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let status = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(["run", "us_china_2025", "--size", "small", "--threads", "2", "--out"])
        .arg(&out)
        .env_remove("RUST_LOG")
        .output()
        .expect("run tradesim");
    assert!(status.status.success(), "tradesim failed: {}", String::from_utf8_lossy(&status.stderr));
    let got = digests(&out);
    let path = golden_file();
    if std::env::var_os("TRADESIM_BLESS").is_some() {
        let header = "# Digests (FNV-1a 64) and sizes of the flagship's outputs at the small preset, both\n\
                      # worlds, whole horizon: `tradesim run us_china_2025 --size small`. Checked by\n\
                      # tests/suite/golden.rs; rewrite with `TRADESIM_BLESS=1 cargo test --test suite golden`.\n";
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{header}{got}")).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let want = expected(&text);
    if got != want {
        let changed: Vec<&str> = FILES
            .iter()
            .zip(got.lines().zip(want.lines().chain(std::iter::repeat(""))))
            .filter(|(_, (g, w))| g != w)
            .map(|(file, _)| *file)
            .collect();
        panic!(
            "the flagship's outputs moved ({}) against {}.\nNow:\n{got}\
             If the change is meant to move outputs, rewrite the file with \
             `TRADESIM_BLESS=1 cargo test --test suite golden` and say why in the commit.",
            changed.join(", "),
            path.display()
        );
    }
}

#[test]
fn the_digest_tells_files_apart() {
    assert_eq!(digest(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(digest(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_ne!(digest(b"1.5,2"), digest(b"1.5,3"));
    let text = "# a comment\n0123 45 x.csv\n\n";
    assert_eq!(expected(text), "0123 45 x.csv\n");
}
