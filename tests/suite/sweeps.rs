//! Sweeps through the real binary: planning is deterministic; runs resume, skip what is
//! complete, redo what a killed process left, record failures and go on; the collected
//! files are byte-identical for any number of jobs and any sharding, and each run is the
//! run `tradesim run` gives for its scenario; every bad input is refused with exit code 2
//! and nothing written. (The same against a real Slurm: `scripts/test-slurm-sweep.sh`.)

use crate::parquet::{read_csv, read_parquet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The small scenario over a 4 × 3 grid with 2 replicates: 24 runs of a few ms each.
const SWEEP: &str = r#"
name = "small_grid"
base = "small"
replicates = 2
[parameters]
"rules[0].cap" = { min = 0.2, max = 0.8, steps = 4 }
"behaviour.exporter_absorption" = [0.0, 0.1, 0.2]
"#;

/// The collected result files, which must not depend on how the runs ran.
const RESULTS: [&str; 8] = [
    "runs.csv",
    "effects.csv",
    "summary.csv",
    "series/regions.csv",
    "runs.parquet",
    "effects.parquet",
    "summary.parquet",
    "series/regions.parquet",
];

fn tradesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(args)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .expect("run tradesim")
}

fn ok(args: &[&str]) -> String {
    let out = tradesim(args);
    assert!(out.status.success(), "tradesim {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// Runs `args`, which must fail with `code`; returns stderr.
fn fails(args: &[&str], code: i32) -> String {
    let out = tradesim(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "tradesim {args:?}: expected exit {code}; stderr:\n{stderr}");
    stderr
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn plan(tmp: &Path, name: &str, file: &Path) -> PathBuf {
    let dir = tmp.join(name);
    ok(&["sweep", "plan", s(file), "--out", s(&dir)]);
    dir
}

/// A count line of `sweep status`.
fn count(name: &str, n: usize) -> String {
    format!("  {name:9} {n:>7}")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn collected_results_are_the_same_bytes_for_any_jobs_and_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "sweep.toml", SWEEP);
    let one = plan(tmp.path(), "one", &file);
    let sharded = plan(tmp.path(), "sharded", &file);
    for f in ["sweep.toml", "points.csv", "base.toml"] {
        assert_eq!(read(&one.join(f)), read(&sharded.join(f)), "planning twice gave another {f}");
    }
    let points = String::from_utf8(read(&one.join("points.csv"))).unwrap();
    assert_eq!(points.lines().count(), 25, "a header and 24 runs");
    assert!(
        points
            .starts_with("point,replicate,seed,rules[0].cap,behaviour.exporter_absorption\n0,0,7,0.2,0\n0,1,8,0.2,0\n"),
        "{points}"
    );

    let out = ok(&["sweep", "run", s(&one), "--jobs", "1"]);
    assert!(out.contains("24 runs done, 0 already complete, 0 failed"), "{out}");
    for shard in ["2/3", "0/3", "1/3"] {
        ok(&["sweep", "run", s(&sharded), "--jobs", "2", "--shard", shard]);
    }
    let again = ok(&["sweep", "run", s(&sharded), "--jobs", "2"]);
    assert!(again.contains("0 runs done, 24 already complete"), "a second run resumes with nothing to do: {again}");
    for dir in [&one, &sharded] {
        ok(&["sweep", "collect", s(dir), "--series", "regions"]);
    }
    for f in RESULTS {
        assert!(
            read(&one.join(f)) == read(&sharded.join(f)),
            "{f} differs between --jobs 1 and three shards on 2 jobs"
        );
    }
    let runs = String::from_utf8(read(&one.join("runs.csv"))).unwrap();
    assert_eq!(runs.lines().count(), 25);
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    assert_eq!(&header[..6], ["point", "replicate", "seed", "rules[0].cap", "behaviour.exporter_absorption", "status"]);
    assert!(
        header.contains(&"HOME_13w_gdp_pct_change") && header.contains(&"PARTNER_end_border_pass_through"),
        "{header:?}"
    );
    assert!(runs.lines().skip(1).all(|l| l.split(',').nth(5) == Some("complete")), "{runs}");
    // Collecting twice gives the same bytes.
    let before: Vec<Vec<u8>> = RESULTS.iter().map(|f| read(&one.join(f))).collect();
    let before_runs = before[0].clone();
    ok(&["sweep", "collect", s(&one), "--series", "regions"]);
    for (f, b) in RESULTS.iter().zip(before) {
        assert!(read(&one.join(f)) == b, "collecting again changed {f}");
    }
    // The summary has one row per point and headline effect, with replicates counted.
    let summary = String::from_utf8(read(&one.join("summary.csv"))).unwrap();
    let effects_per_point = header.len() - 6;
    assert_eq!(summary.lines().count(), 1 + 12 * effects_per_point);
    assert!(summary.lines().nth(1).unwrap().contains(",HOME_13w_gdp_pct_change,2,"), "{summary}");

    // Each Parquet table holds its CSV's columns and values, typed, with the sweep's metadata.
    for stem in ["runs", "effects", "summary", "series/regions"] {
        let pq = read_parquet(&one.join(format!("{stem}.parquet")));
        let (header, rows) = read_csv(&one.join(format!("{stem}.csv")));
        assert_eq!(pq.header, header, "{stem}: columns");
        assert_eq!(pq.rows.len(), rows.len(), "{stem}: rows");
        for (k, (a, b)) in pq.rows.iter().zip(&rows).enumerate() {
            assert_eq!(a, b, "{stem}.parquet against {stem}.csv, row {k}");
        }
        let get = |key: &str| pq.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("tradesim_version"), Some(env!("CARGO_PKG_VERSION")), "{stem}");
        assert_eq!(get("scenario"), Some("small"), "{stem}");
    }
    let ty = |stem: &str, column: &str| parquet_type(&one.join(format!("{stem}.parquet")), column);
    assert_eq!(ty("runs", "point"), "UInt32");
    assert_eq!(ty("runs", "seed"), "UInt64");
    assert_eq!(ty("runs", "rules[0].cap"), "Float64");
    assert_eq!(ty("runs", "status"), "Dictionary(Int32, Utf8)");
    assert_eq!(ty("effects", "horizon_date"), "Date32");
    assert_eq!(ty("effects", "horizon_tick"), "UInt32");
    assert_eq!(ty("summary", "n"), "UInt64");
    assert_eq!(ty("series/regions", "world"), "Dictionary(Int32, Utf8)");
    assert_eq!(ty("series/regions", "employment"), "UInt64");
    // An effect with no partner has a null there (the CSV's empty cell); names never do.
    let effects = one.join("effects.parquet");
    assert!(null_count(&effects, "partner") > 0 && null_count(&effects, "region") == 0);

    // --format csv writes only CSV and removes the Parquet tables an earlier collect wrote.
    ok(&["sweep", "collect", s(&one), "--format", "csv"]);
    for stem in ["runs", "effects", "summary", "series/regions"] {
        assert!(!one.join(format!("{stem}.parquet")).exists(), "{stem}.parquet outlived --format csv");
    }
    assert!(read(&one.join("runs.csv")) == before_runs, "--format csv changed runs.csv");
    // With only Parquet, plot says how to get the summary.csv it reads.
    ok(&["sweep", "collect", s(&one), "--format", "parquet"]);
    assert!(!one.join("summary.csv").exists() && one.join("summary.parquet").exists());
    let err = fails(&["plot", s(&one)], 2);
    assert!(err.contains("--format parquet") && err.contains("--format both"), "{err}");
}

/// The nulls in a Parquet file's column.
fn null_count(path: &Path, column: &str) -> usize {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    reader.map(|b| b.unwrap().column_by_name(column).expect("the column").null_count()).sum()
}

/// The Arrow type of a Parquet file's column, as Arrow prints it.
fn parquet_type(path: &Path, column: &str) -> String {
    let file = std::fs::File::open(path).unwrap();
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = builder.schema();
    format!("{}", schema.field_with_name(column).unwrap_or_else(|e| panic!("{}: {e}", path.display())).data_type())
}

#[test]
fn each_run_of_a_sweep_is_the_run_its_scenario_gives() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "sweep.toml", SWEEP);
    let dir = plan(tmp.path(), "sweep", &file);
    ok(&["sweep", "run", s(&dir), "--jobs", "2", "--shard", "0/4"]);
    let run = dir.join("runs/point=2/replicate=1");
    let scenario = String::from_utf8(read(&run.join("scenario.toml"))).unwrap();
    // The base file with the point's values and the replicate's seed set, comments kept.
    // Point 2: the first cap (0.2) with the third absorption (0.2).
    assert!(
        scenario.contains("seed = 8")
            && scenario.contains("cap = 0.2")
            && scenario.contains("exporter_absorption = 0.2"),
        "{scenario}"
    );
    assert!(scenario.starts_with("# A tiny two-region world"), "{scenario}");
    let alone = tmp.path().join("alone");
    ok(&["run", s(&run.join("scenario.toml")), "--threads", "1", "--out", s(&alone)]);
    for f in crate::common::run_files() {
        assert!(
            read(&run.join(&f)) == read(&alone.join(&f)),
            "{f}: the sweep's run differs from tradesim run of its scenario.toml"
        );
    }
}

#[test]
fn half_written_runs_are_redone_and_failures_recorded_while_the_sweep_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "sweep.toml", SWEEP);
    let dir = plan(tmp.path(), "sweep", &file);
    let reference = plan(tmp.path(), "reference", &file);
    ok(&["sweep", "run", s(&reference), "--jobs", "2"]);
    ok(&["sweep", "collect", s(&reference)]);

    // Point 5 cannot be written (a file stands where its directory goes): both its
    // replicates fail, are recorded, and the other 22 runs complete.
    std::fs::create_dir_all(dir.join("runs")).unwrap();
    write(&dir.join("runs"), "point=5", "in the way");
    let stderr = fails(&["sweep", "run", s(&dir), "--jobs", "2"], 1);
    assert!(stderr.contains("22 runs done, 0 already complete, 2 failed"), "{stderr}");
    assert!(
        stderr.contains("point 5 replicate 0") && stderr.contains("runs/point=5"),
        "the error names the run and the path: {stderr}"
    );
    let status = ok(&["sweep", "status", s(&dir)]);
    assert!(status.contains(&count("complete", 22)) && status.contains(&count("failed", 2)), "{status}");
    assert!(status.contains("point 5 replicate 1 (seed 8)"), "{status}");
    assert!(dir.join("failed/point=5/replicate=1/failure.json").is_file());
    let collect = ok(&["sweep", "collect", s(&dir)]);
    assert!(collect.contains("2 runs failed, 0 are missing and 0 unreadable"), "{collect}");
    let runs = String::from_utf8(read(&dir.join("runs.csv"))).unwrap();
    assert_eq!(runs.lines().filter(|l| l.contains(",failed,")).count(), 2, "{runs}");

    // A run in progress on another machine has a temporary directory touched in the last
    // minutes: left to it. One killed there stops being touched: redone after five minutes.
    // One on this machine whose process is gone is redone at once. None counts complete.
    std::fs::remove_file(dir.join("runs/point=5")).unwrap();
    let point3 = dir.join("runs/point=3");
    std::fs::rename(point3.join("replicate=0"), point3.join(".replicate=0.partial-somehost-1")).unwrap();
    std::fs::write(point3.join(".replicate=0.partial-somehost-1/regions.csv.partial"), "half").unwrap();
    // A dead process on this machine (pid beyond the kernel's limit) left another.
    let host = tradesim::output::manifest::host_name();
    std::fs::create_dir_all(point3.join(format!(".replicate=1.partial-{host}-99999999"))).unwrap();
    std::fs::remove_dir_all(point3.join("replicate=1")).unwrap();
    let status = ok(&["sweep", "status", s(&dir)]);
    for (state, n) in [("complete", 20), ("failed", 2), ("running", 1), ("missing", 1)] {
        assert!(status.contains(&count(state, n)), "{state} {n}: {status}");
    }
    assert!(status.contains("point 3 replicate 0 on somehost (pid 1)"), "{status}");
    let out = ok(&["sweep", "run", s(&dir), "--jobs", "2"]);
    assert!(out.contains("3 runs done, 20 already complete, 0 failed, 1 left to another process"), "{out}");
    assert!(
        point3.join(".replicate=0.partial-somehost-1/regions.csv.partial").exists(),
        "another's work is not touched"
    );
    let stale = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::open(point3.join(".replicate=0.partial-somehost-1")).unwrap().set_modified(stale).unwrap();
    let status = ok(&["sweep", "status", s(&dir)]);
    assert!(status.contains(&count("missing", 1)) && status.contains(&count("running", 0)), "{status}");
    let out = ok(&["sweep", "run", s(&dir), "--jobs", "2"]);
    assert!(out.contains("1 runs done, 23 already complete, 0 failed, 0 left"), "{out}");
    assert!(!dir.join("failed/point=5").exists(), "a run that now completed keeps no failure record");
    let left: Vec<_> = std::fs::read_dir(&point3).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "only replicate=0 and replicate=1 remain: {left:?}");
    ok(&["sweep", "collect", s(&dir)]);
    for f in ["runs.csv", "effects.csv", "summary.csv"] {
        assert!(read(&dir.join(f)) == read(&reference.join(f)), "{f} differs from an uninterrupted sweep");
    }
}

#[test]
fn a_sweep_file_changed_since_planning_is_refused_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "sweep.toml", SWEEP);
    let dir = plan(tmp.path(), "sweep", &file);
    write(tmp.path(), "sweep.toml", &SWEEP.replace("replicates = 2", "replicates = 3"));
    let e = fails(&["sweep", "run", s(&dir), "--shard", "0/24"], 2);
    assert!(
        e.contains("has changed since this sweep was planned")
            && e.contains("planned: replicates = 2")
            && e.contains("now:     replicates = 3"),
        "{e}"
    );
    assert!(!dir.join("runs").exists(), "nothing ran");
    let out = ok(&["sweep", "run", s(&dir), "--shard", "0/24", "--force"]);
    assert!(out.contains("1 runs done"), "{out}");
    // Planning the changed file into the same directory is refused too, touching nothing.
    let before: Vec<Vec<u8>> = ["sweep.toml", "points.csv", "base.toml"].iter().map(|f| read(&dir.join(f))).collect();
    let e = fails(&["sweep", "plan", s(&file), "--out", s(&dir)], 2);
    assert!(e.contains("holds another planned sweep"), "{e}");
    let after: Vec<Vec<u8>> = ["sweep.toml", "points.csv", "base.toml"].iter().map(|f| read(&dir.join(f))).collect();
    assert!(before == after, "a refused plan leaves the planned sweep as it was");
}

#[test]
fn bad_sweep_input_gets_exit_code_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "unknown path",
            "[parameters]\n\"behaviour.exporter_absorbtion\" = [0.1]\n",
            "unknown key 'exporter_absorbtion' in `behaviour`; did you mean 'exporter_absorption'?",
        ),
        (
            "no such element",
            "[parameters]\n\"rules[3].cap\" = [0.1]\n",
            "rules[3] does not exist; the base scenario has 1: rules[0] to rules[0]",
        ),
        (
            "wrong type",
            "[parameters]\n\"rules[0].cap\" = [\"high\"]\n",
            "the value high gives an invalid scenario: rules[0].cap: invalid type: string \"high\"",
        ),
        (
            "out of range",
            "[parameters]\n\"behaviour.exporter_absorption\" = [0.1, 1.5]\n",
            "the value 1.5 gives an invalid scenario: behaviour.exporter_absorption: 1.5 is not accepted",
        ),
        ("empty list", "[parameters]\n\"rules[0].cap\" = []\n", "parameters.\"rules[0].cap\": empty"),
        ("min > max", "[parameters]\n\"rules[0].cap\" = { min = 0.8, max = 0.2, steps = 3 }\n", "min > max"),
        (
            "steps < 1",
            "[parameters]\n\"rules[0].cap\" = { min = 0.2, max = 0.8, steps = 0 }\n",
            "steps: 0 is not accepted",
        ),
        (
            "points = 0",
            "[sample]\nmethod = \"lhs\"\npoints = 0\n[parameters]\n\"rules[0].cap\" = { min = 0.2, max = 0.8 }\n",
            "sample.points: 0 is not accepted",
        ),
        (
            "no such sampler",
            "[sample]\nmethod = \"montecarlo\"\n",
            "unknown sampler 'montecarlo'; accepted here: grid, random, lhs, sobol",
        ),
        (
            "a date out of the horizon",
            "[parameters]\n\"events[0].effective\" = [2024-05-06, 2031-01-01]\n",
            "2031-01-01 is outside the simulated horizon",
        ),
        (
            "values valid alone but not together",
            "[parameters]\n\"events[0].announce\" = [2024-04-01, 2024-04-29]\n\"events[0].effective\" = [2024-04-22, 2024-05-06]\n",
            "1 of 4 points give an invalid scenario",
        ),
    ];
    for (what, body, expected) in cases {
        let file = write(tmp.path(), "bad.toml", &format!("base = \"small\"\n{body}"));
        let out = tmp.path().join("out");
        let e = fails(&["sweep", "plan", s(&file), "--out", s(&out)], 2);
        assert!(e.contains(expected), "{what}: expected '{expected}' in:\n{e}");
        assert!(e.contains("bad.toml:"), "{what}: the error names the file and line:\n{e}");
        assert!(!out.exists(), "{what}: nothing may be written");
    }
    let file = write(tmp.path(), "bad.toml", "base = \"no_such_scenario\"\n");
    let e = fails(&["sweep", "plan", s(&file), "--out", s(&tmp.path().join("out"))], 2);
    assert!(
        e.contains("bad.toml:1:8: base: 'no_such_scenario' is neither a scenario file")
            && e.contains("embedded: us_china_2025"),
        "{e}"
    );

    let good = write(tmp.path(), "good.toml", SWEEP);
    let dir = plan(tmp.path(), "sweep", &good);
    for (shard, expected) in
        [("3/3", "--shard 3/3 is not accepted"), ("0/0", "--shard 0/0 is not accepted"), ("x", "expected I/N")]
    {
        let e = fails(&["sweep", "run", s(&dir), "--shard", shard], 2);
        assert!(e.contains(expected), "{e}");
    }
    let not_planned = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&not_planned).unwrap();
    for cmd in ["run", "status", "collect", "slurm"] {
        let e = fails(&["sweep", cmd, s(&not_planned)], 2);
        assert!(e.contains("is not a planned sweep"), "sweep {cmd}: {e}");
    }
    let e = fails(&["sweep", "collect", s(&dir), "--series", "regions,prices"], 2);
    assert!(
        e.contains("--series prices is not accepted; give a comma-separated list of: regions, trade, sectors, policy"),
        "{e}"
    );
    let e = fails(&["sweep", "slurm", s(&dir), "--time", "1h"], 2);
    assert!(e.contains("--time 1h is not accepted"), "{e}");
    assert!(!dir.join("slurm").exists(), "a refused slurm command writes nothing");
    // --submit without sbatch: refused before the script is written.
    let out = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(["sweep", "slurm", s(&dir), "--submit"])
        .env("PATH", tmp.path())
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("sbatch is not on the PATH"), "{e}");
    assert!(!dir.join("slurm").exists());
    // A directory that is not empty and not a sweep is not planned into.
    write(&not_planned, "notes.txt", "mine");
    let e = fails(&["sweep", "plan", s(&good), "--out", s(&not_planned)], 2);
    assert!(e.contains("is not empty and is not a planned sweep"), "{e}");
}

#[test]
fn the_slurm_script_runs_each_task_on_its_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "sweep.toml", SWEEP);
    let dir = plan(tmp.path(), "sweep", &file);
    let out = ok(&[
        "sweep",
        "slurm",
        s(&dir),
        "--runs-per-task",
        "5",
        "--max-parallel",
        "3",
        "--partition",
        "debug",
        "--time",
        "10:00",
    ]);
    assert!(out.contains("24 runs in 5 array tasks of at most 5 runs"), "{out}");
    let script = String::from_utf8(read(&dir.join("slurm/sweep.sbatch"))).unwrap();
    let abs = std::path::absolute(&dir).unwrap();
    for line in [
        "#SBATCH --array=0-4%3".to_string(),
        "#SBATCH --partition=debug".into(),
        "#SBATCH --time=10:00".into(),
        "#SBATCH --signal=B:TERM@120".into(),
        "#SBATCH --requeue".into(),
        format!("#SBATCH --output={}/slurm/logs/%A_%a.out", abs.display()),
        format!("DEFAULT_TRADESIM='{}'", env!("CARGO_BIN_EXE_tradesim")),
        "TRADESIM=\"${TRADESIM:-$DEFAULT_TRADESIM}\"".into(),
        format!(
            "exec \"$TRADESIM\" sweep run '{}' --shard \"${{SLURM_ARRAY_TASK_ID}}/5\" --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\"",
            abs.display()
        ),
    ] {
        assert!(script.lines().any(|l| l == line), "missing `{line}` in:\n{script}");
    }
    assert!(dir.join("slurm/logs").is_dir());
    // Run task 3 as Slurm would (the script's exec line, with the task's variables).
    let status = Command::new("bash")
        .arg(dir.join("slurm/sweep.sbatch"))
        .env("SLURM_ARRAY_TASK_ID", "3")
        .env("SLURM_CPUS_PER_TASK", "2")
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let report = ok(&["sweep", "status", s(&dir)]);
    assert!(report.contains(&count("complete", 5)), "task 3 of 5 has runs 14..19: {report}");
    assert!(report.contains("shards with work left, of 5: --array=0-2,4"), "{report}");
    assert!(report.contains(&format!("sbatch --array=0-2,4%3 {}/slurm/sweep.sbatch", abs.display())), "{report}");
    // Another cut into tasks would overlap the array already written: refused, unchanged.
    let before = read(&dir.join("slurm/sweep.sbatch"));
    let e = fails(&["sweep", "slurm", s(&dir), "--runs-per-task", "3"], 2);
    assert!(e.contains("cuts the runs into 5 tasks; these options give 8"), "{e}");
    let e = fails(&["sweep", "slurm", s(&dir), "--runs-per-task", "5", "--partition", "a b"], 2);
    assert!(e.contains("--partition a b is not accepted"), "{e}");
    assert!(read(&dir.join("slurm/sweep.sbatch")) == before, "a refused sweep slurm leaves the script as it was");
    ok(&["sweep", "slurm", s(&dir), "--runs-per-task", "3", "--force"]);
    assert!(String::from_utf8(read(&dir.join("slurm/sweep.sbatch"))).unwrap().contains("#SBATCH --array=0-7\n"));
}

/// Reads the value at a validator-style path (`behaviour.x`, `events[1].effective`) of a
/// scenario file.
fn value_at(doc: &toml::Table, path: &str) -> String {
    let mut here = toml::Value::Table(doc.clone());
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, Some(i.trim_end_matches(']').parse::<usize>().unwrap())),
            None => (part, None),
        };
        here = here.get(key).unwrap_or_else(|| panic!("{path}: no {key}")).clone();
        if let Some(i) = index {
            here = here.get(i).unwrap().clone();
        }
    }
    match here {
        toml::Value::String(s) => s,
        toml::Value::Float(x) => tradesim::output::fmt_f64(x),
        other => other.to_string(),
    }
}

#[test]
fn every_run_uses_the_values_and_seed_points_csv_records() {
    let tmp = tempfile::tempdir().unwrap();
    // A Latin hypercube with elements named and indexed, a date range, a whole-number field
    // and whole-number bounds on a number field; independent seeds.
    let file = write(
        tmp.path(),
        "lhs.toml",
        r#"
base = "small"
seeds = "independent"
seed = 40
replicates = 2
ticks = 30
[sample]
method = "lhs"
points = 6
[parameters]
'rules["Partner answers"].cap' = { min = 0, max = 1 }
"events[0].effective" = { min = 2024-04-08, max = 2024-06-03 }
"behaviour.known_retailers" = { min = 1, max = 4 }
"regions[HOME].exporter_absorption" = [0.0, 0.25]
"#,
    );
    let dir = plan(tmp.path(), "lhs", &file);
    let out = ok(&["sweep", "plan", s(&file), "--out", s(&dir)]);
    assert!(out.contains("already holds this plan"), "{out}");
    ok(&["sweep", "run", s(&dir), "--jobs", "2"]);
    let points = String::from_utf8(read(&dir.join("points.csv"))).unwrap();
    let mut lines = points.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let fields = ["rules[0].cap", "events[0].effective", "behaviour.known_retailers", "regions[0].exporter_absorption"];
    let mut seeds = Vec::new();
    let mut caps = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let run = dir.join(format!("runs/point={}/replicate={}", cells[0], cells[1]));
        let doc: toml::Table = String::from_utf8(read(&run.join("scenario.toml"))).unwrap().parse().unwrap();
        assert_eq!(value_at(&doc, "seed"), cells[2], "{}: seed", run.display());
        for (k, field) in fields.iter().enumerate() {
            assert_eq!(value_at(&doc, field), cells[3 + k], "{}: {} ({field})", run.display(), header[3 + k]);
        }
        seeds.push(cells[2].to_string());
        caps.push(cells[3].parse::<f64>().unwrap());
    }
    seeds.sort();
    seeds.dedup();
    assert_eq!(seeds.len(), 12, "independent seeds differ for every run");
    assert!(caps.iter().any(|c| c.fract() != 0.0), "whole-number bounds on a number field draw numbers: {caps:?}");
    ok(&["sweep", "collect", s(&dir)]);
    let runs = String::from_utf8(read(&dir.join("runs.csv"))).unwrap();
    assert!(runs.lines().next().unwrap().contains("HOME_13w_gdp_pct_change"), "{runs}");
    assert!(!runs.lines().next().unwrap().contains("52w"), "no run of 30 weeks reaches 52 weeks");
}

#[test]
fn two_paths_to_one_field_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "dup.toml",
        "base = \"small\"\n[parameters]\n\"rules[0].cap\" = [0.1, 0.2]\n'rules[\"Partner answers\"].cap' = [0.3]\n",
    );
    let e = fails(&["sweep", "plan", s(&file), "--out", s(&tmp.path().join("o"))], 2);
    assert!(e.contains("sets rules[0].cap, which another parameter already sets (rules[0].cap)"), "{e}");
}

#[test]
fn a_dry_run_times_a_run_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "sweep.toml", SWEEP);
    let out = ok(&["sweep", "plan", s(&file), "--dry-run"]);
    assert!(out.contains("12 points × 2 replicates = 24 runs"), "{out}");
    assert!(out.contains("core-hours for 24 runs") && out.contains("--array=0-2 (3 tasks"), "{out}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1, "only the sweep file");
}

#[test]
fn a_signal_stops_a_sweep_cleanly_and_the_same_command_resumes_it() {
    let tmp = tempfile::tempdir().unwrap();
    // Runs of a few tenths of a second, one at a time: the signal comes mid-sweep.
    let file = write(tmp.path(), "sweep.toml", &format!("scale = 40\n{SWEEP}"));
    let dir = plan(tmp.path(), "sweep", &file);
    let reference = plan(tmp.path(), "reference", &file);
    let child = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .args(["sweep", "run", s(&dir), "--jobs", "1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let runs = dir.join("runs");
    let started = std::time::Instant::now();
    while !runs.join("point=1").exists() && started.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "a stopped sweep exits with 3: {stderr}");
    assert!(stderr.contains("stopped by a signal") && stderr.contains("the same command resumes it"), "{stderr}");
    let status = ok(&["sweep", "status", s(&dir)]);
    assert!(status.contains(&count("running", 0)) && status.contains(&count("failed", 0)), "{status}");
    assert!(!status.contains(&count("missing", 0)), "the sweep stopped before its end: {status}");
    ok(&["sweep", "run", s(&dir), "--jobs", "2"]);
    ok(&["sweep", "run", s(&reference), "--jobs", "2"]);
    for d in [&dir, &reference] {
        ok(&["sweep", "collect", s(d)]);
    }
    for f in ["runs.csv", "effects.csv", "summary.csv"] {
        assert!(read(&dir.join(f)) == read(&reference.join(f)), "{f}: a stopped and resumed sweep differs");
    }
}

/// Each kind of swept value gets its Parquet type (whole numbers Int64, numbers Float64,
/// dates Date32, arrays their TOML text), and every cell of each Parquet table equals its
/// CSV's, TOML text with commas included.
#[test]
fn collected_parameters_are_typed_by_their_values() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "kinds.toml",
        r#"
name = "kinds"
base = "small"
replicates = 1
ticks = 30
[parameters]
"rules[0].lag_weeks" = [1, 3]
"rules[0].match" = [1, 0.5]
"events[0].sectors" = [["GOODS"], ["GOODS", "PARTS"]]
"events[0].effective" = [2024-05-06, 2024-06-03]
"#,
    );
    let dir = plan(tmp.path(), "kinds", &file);
    ok(&["sweep", "run", s(&dir), "--jobs", "2"]);
    ok(&["sweep", "collect", s(&dir)]);
    for stem in ["runs", "effects", "summary"] {
        let pq = read_parquet(&dir.join(format!("{stem}.parquet")));
        let (header, rows) = read_csv(&dir.join(format!("{stem}.csv")));
        assert_eq!(pq.header, header, "{stem}");
        assert_eq!(pq.rows, rows, "{stem}.parquet against {stem}.csv");
    }
    let ty = |column: &str| parquet_type(&dir.join("runs.parquet"), column);
    assert_eq!(ty("rules[0].lag_weeks"), "Int64");
    assert_eq!(ty("rules[0].match"), "Float64");
    assert_eq!(ty("events[0].sectors"), "Utf8");
    assert_eq!(ty("events[0].effective"), "Date32");
    let runs = read_parquet(&dir.join("runs.parquet"));
    let sectors = runs.header.iter().position(|h| h == "events[0].sectors").unwrap();
    assert!(runs.rows.iter().any(|r| r[sectors] == r#"["GOODS", "PARTS"]"#), "{:?}", runs.rows[1]);
}

/// A run whose effects.csv has a cell that is not what tradesim writes is marked
/// unreadable, with either format; a collect that fails (a run's series from another
/// version) leaves no .partial file and the earlier collect's files as they were.
#[test]
fn a_bad_run_is_marked_and_a_failed_collect_leaves_nothing_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "sweep.toml", SWEEP);
    let dir = plan(tmp.path(), "sweep", &file);
    ok(&["sweep", "run", s(&dir), "--jobs", "2", "--shard", "0/6"]);
    ok(&["sweep", "collect", s(&dir), "--series", "regions"]);
    let before: Vec<Vec<u8>> = RESULTS.iter().map(|f| read(&dir.join(f))).collect();

    let run = dir.join("runs/point=0/replicate=0");
    let effects = std::fs::read_to_string(run.join("effects.csv")).unwrap();
    let line = effects.lines().find(|l| l.starts_with("output,")).expect("an output effect");
    let mut cells: Vec<&str> = line.split(',').collect();
    cells[7] = "NaNx";
    std::fs::write(run.join("effects.csv"), effects.replacen(line, &cells.join(","), 1)).unwrap();
    for format in ["csv", "both"] {
        let out = ok(&["sweep", "collect", s(&dir), "--format", format]);
        assert!(out.contains("unreadable") && out.contains("NaNx"), "--format {format}: {out}");
        let runs = String::from_utf8(read(&dir.join("runs.csv"))).unwrap();
        assert!(runs.lines().nth(1).unwrap().contains(",unreadable"), "--format {format}: {runs}");
    }
    std::fs::write(run.join("effects.csv"), &effects).unwrap();
    ok(&["sweep", "collect", s(&dir), "--series", "regions"]);

    let regions = run.join("scenario/regions.csv");
    let text = std::fs::read_to_string(&regions).unwrap();
    std::fs::write(&regions, text.replacen("tick,date,region,", "tick,day,region,", 1)).unwrap();
    let err = fails(&["sweep", "collect", s(&dir), "--series", "regions"], 1);
    assert!(err.contains("regions.csv") && err.contains("another tradesim version"), "{err}");
    for sub in ["", "series"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            assert!(!name.ends_with(".partial"), "{sub}/{name} left behind by a failed collect");
        }
    }
    for (f, b) in RESULTS.iter().zip(before) {
        assert!(read(&dir.join(f)) == b, "a failed collect changed {f}");
    }
}
