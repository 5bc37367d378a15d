//! Every input the fuzzer ever crashed on (`fuzz/regressions/<target>/`), and the seed
//! corpus (`fuzz/corpus/<target>/`), through the fuzz targets' own code
//! (`tradesim::fuzz`): each must now return (an `Ok` or an error), not panic.

use std::path::Path;

fn inputs(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep"))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            String::from_utf8(bytes).ok().map(|t| (p.display().to_string(), t))
        })
        .collect()
}

/// Runs `f` on every seed and every kept crash input of `target`; each must return.
fn all_return(target: &str, f: fn(&str)) {
    let mut n = 0;
    for dir in [format!("fuzz/corpus/{target}"), format!("fuzz/regressions/{target}")] {
        for (name, text) in inputs(&dir) {
            assert!(std::panic::catch_unwind(|| f(&text)).is_ok(), "{name} panics");
            n += 1;
        }
    }
    assert!(n >= 3, "the seed corpus of {target} is there ({n} inputs)");
}

#[test]
fn scenario_inputs_that_crashed_the_fuzzer_now_return() {
    all_return("scenario", tradesim::fuzz::scenario_text);
}

#[test]
fn sweep_inputs_that_crashed_the_fuzzer_now_return() {
    all_return("sweep", tradesim::fuzz::sweep_text);
}
