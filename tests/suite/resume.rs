//! Checkpoints and resume (issue 19): a run stopped anywhere, by a signal or a crash, and
//! resumed from its checkpoint writes the bytes of the run never stopped, on any thread
//! count; a checkpoint that does not fit the run, the scenario or the files is refused
//! before anything changes; a checkpoint that cannot be written fails the run and keeps
//! the previous one.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tradesim::checkpoint;
use tradesim::effects::Run;
use tradesim::output::RunStatus;
use tradesim::run::{self, Progress, RunError, RunOptions};
use tradesim::scenario::{self, Scenario};

fn embedded(name: &str) -> Scenario {
    scenario::parse(scenario::embedded(name).unwrap(), &format!("<embedded {name}>")).unwrap()
}

/// Every file under `dir` but the manifest, by path, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, into);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if rel != "manifest.json" {
                    into.insert(rel, std::fs::read(&path).unwrap());
                }
            }
        }
    }
    let mut all = BTreeMap::new();
    walk(dir, dir, &mut all);
    all
}

fn assert_same_files(what: &str, got: &Path, want: &Path) {
    let (got, want) = (files(got), files(want));
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "{what}: other files");
    for (name, bytes) in &want {
        assert!(&got[name] == bytes, "{what}: {name} differs from the run never stopped");
    }
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// What to do after a given week.
type Hook<'a> = Box<dyn FnMut() + 'a>;

/// Progress that sets the stop flag (as the signal handler does) after week `tick` of
/// `run`, and runs `hook` after a given week (to break or copy files mid-run).
struct StopAt<'a> {
    at: Option<(Run, u32)>,
    flag: Arc<AtomicBool>,
    label: String,
    hook: Option<(Run, u32, Hook<'a>)>,
}

impl<'a> StopAt<'a> {
    fn new(at: Option<(Run, u32)>) -> StopAt<'a> {
        StopAt { at, flag: Arc::new(AtomicBool::new(false)), label: String::new(), hook: None }
    }
}

impl Progress for StopAt<'_> {
    fn begin(&mut self, label: &str, _: u32) {
        self.label = label.to_string();
    }
    fn tick(&mut self, done: u32) {
        if let Some((run, tick)) = self.at
            && run.label() == self.label
            && tick == done
        {
            self.flag.store(true, Ordering::SeqCst);
        }
        if let Some((run, tick, hook)) = &mut self.hook
            && run.label() == self.label
            && *tick == done
        {
            hook();
        }
    }
    fn end(&mut self) {}
}

fn options(out: &Path, scale: f64, ticks: Option<u32>, every: Option<u32>, stop: &Arc<AtomicBool>) -> RunOptions {
    let mut opts = RunOptions::new(out);
    opts.scale = scale;
    opts.ticks = ticks;
    opts.checkpoint_every = every;
    opts.stop = Some(stop.clone());
    opts
}

/// Resumes the run in `out` from its checkpoint, stopping again at `at`.
fn resume(sc: &Scenario, out: &Path, at: Option<(Run, u32)>) -> Result<run::RunSummary, RunError> {
    let saved = checkpoint::file::read(out).unwrap_or_else(|e| panic!("{e}"));
    let mut opts = run::resume_options(&saved.header, out);
    let mut progress = StopAt::new(at);
    opts.stop = Some(progress.flag.clone());
    run::resume(sc.clone(), saved, &opts, &mut progress)
}

fn interrupted_at(result: Result<run::RunSummary, RunError>, run: Run, tick: u32) {
    match result {
        Err(RunError::Interrupted(s)) => {
            assert_eq!((s.run, s.tick), (run, tick));
            assert!(s.checkpoint.is_some(), "a CSV run stopped writes a checkpoint");
        }
        Err(e) => panic!("expected a stop after week {tick} of the {} run, got: {e}", run.label()),
        Ok(_) => panic!("expected a stop after week {tick} of the {} run, the run completed", run.label()),
    }
}

/// The test's worlds: the small scenario whole (an event, then a rule answering it), the
/// flagship at 2 % of its agents for 80 weeks (the first tariffs, the 145 % peak and the
/// Geneva truce fall in them), and its endogenous-retaliation variant (China's answers
/// come from rules).
const WORLDS: [(&str, f64, Option<u32>); 3] =
    [("small", 1.0, None), ("us_china_2025", 0.02, Some(80)), ("endogenous_retaliation", 0.02, Some(80))];

#[test]
fn a_run_stopped_anywhere_and_resumed_writes_the_bytes_of_a_run_never_stopped() {
    use Run::{Counterfactual as C, Scenario as S};
    let tmp = tempfile::tempdir().unwrap();
    for (name, scale, ticks) in WORLDS {
        let sc = embedded(name);
        let n = ticks.unwrap_or(sc.ticks);
        let reference = tmp.path().join(format!("{name}-reference"));
        let never = Arc::new(AtomicBool::new(false));
        let done = run::run(sc.clone(), &options(&reference, scale, ticks, None, &never), &mut StopAt::new(None))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = manifest(&reference);
        // Checkpoints along the way do not change a byte of the outputs.
        let every = tmp.path().join(format!("{name}-every"));
        run::run(sc.clone(), &options(&every, scale, ticks, Some(7), &never), &mut StopAt::new(None)).unwrap();
        assert_same_files(name, &every, &reference);
        let m = manifest(&every);
        assert_eq!(m["timings"]["checkpoints"], 2 * (n / 7) - u32::from(n % 7 == 0), "{name}");
        assert!(m["timings"]["checkpoint_bytes"].as_u64().unwrap() > 1000, "{name}");
        assert!(!every.join("checkpoint").exists(), "{name}: a complete run keeps no checkpoint");

        // Chains of stops: the first week; just before and just after the first policy
        // event and the first rule firing; after a week of rationing; the last week of
        // the policy run (its files whole, the counterfactual not begun); the
        // counterfactual's first and last but one weeks; three stops in one run.
        let (event, rule, rationing) = moments(&reference);
        assert!(event < rule && rule < n && rationing < n, "{name}: {event} {rule} {rationing}");
        let mut chains: Vec<Vec<(Run, u32)>> =
            [1, event, event + 1, rule, rule + 1, rationing + 1, n].into_iter().map(|t| vec![(S, t)]).collect();
        chains.extend([vec![(C, 1)], vec![(C, n - 1)], vec![(S, n / 3), (S, n / 3 + 1), (C, n / 2)]]);
        for (i, chain) in chains.iter().enumerate() {
            let what = format!("{name}, stops {chain:?}");
            let out = tmp.path().join(format!("{name}-{i}"));
            let mut progress = StopAt::new(Some(chain[0]));
            let opts = options(&out, scale, ticks, None, &progress.flag.clone());
            interrupted_at(run::run(sc.clone(), &opts, &mut progress), chain[0].0, chain[0].1);
            let m = manifest(&out);
            assert_eq!(m["status"], "interrupted", "{what}");
            assert_eq!(m["interrupted"]["run"], chain[0].0.label(), "{what}");
            assert_eq!(m["interrupted"]["tick"], chain[0].1, "{what}");
            assert_eq!(m["interrupted"]["checkpoint"], "checkpoint/state.bin", "{what}");
            for (k, &next) in chain.iter().enumerate().skip(1) {
                interrupted_at(resume(&sc, &out, Some(next)), next.0, next.1);
                assert_eq!(manifest(&out)["resumed"], k as u64, "{what}");
            }
            let summary = resume(&sc, &out, None).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_same_files(&what, &out, &reference);
            let got = manifest(&out);
            assert_eq!(got["status"], "complete", "{what}");
            assert_eq!(got["resumed"], chain.len() as u64, "{what}");
            assert_eq!(got["interrupted"], serde_json::Value::Null, "{what}");
            for field in ["residuals", "calibration", "files", "scenario_hash", "seed", "ticks", "scale", "agents"] {
                assert_eq!(got[field], want[field], "{what}: manifest {field}");
            }
            assert_eq!(summary.effects.len(), done.effects.len(), "{what}");
            assert_eq!(summary.headline, done.headline, "{what}");
        }
    }
}

/// The ticks of the first policy event and of the first rule firing (or, without one, of
/// the next event) in a run's `policy.csv`, and the first tick after the event with a
/// shortage in `sectors.csv`.
fn moments(dir: &Path) -> (u32, u32, u32) {
    let rows = |file: &str| {
        let mut r = csv::Reader::from_path(dir.join("scenario").join(file)).unwrap();
        let head = r.headers().unwrap().clone();
        let col = move |name: &str| head.iter().position(|h| h == name).unwrap();
        (r.records().map(|r| r.unwrap()).collect::<Vec<_>>(), col)
    };
    let (policy, col) = rows("policy.csv");
    let (tick, cause) = (col("tick"), col("cause"));
    let ticks = |event: bool| {
        policy.iter().filter(move |r| r[cause].starts_with("event") == event).map(|r| r[tick].parse::<u32>().unwrap())
    };
    let event = ticks(true).next().unwrap();
    // A world whose rules do not fire in the weeks run: its second policy change.
    let rule = ticks(false).next().or_else(|| ticks(true).find(|&t| t > event)).unwrap();
    let (sectors, col) = rows("sectors.csv");
    let (tick, shortage) = (col("tick"), col("shortage_rate"));
    let rationing = sectors
        .iter()
        .map(|r| (r[tick].parse::<u32>().unwrap(), r[shortage].parse::<f64>().unwrap()))
        .find(|&(t, s)| t > event && s > 0.0)
        .unwrap()
        .0;
    (event, rule, rationing)
}

/// A crash (no signal, no last checkpoint) leaves the series longer than the latest
/// periodic checkpoint saw, and a manifest that says `running`: the resume cuts the
/// files back to the checkpoint and writes on.
#[test]
fn a_run_resumed_after_a_crash_from_an_earlier_checkpoint_writes_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (name, scale, ticks) = WORLDS[1];
    let sc = embedded(name);
    let never = Arc::new(AtomicBool::new(false));
    let reference = tmp.path().join("reference");
    run::run(sc.clone(), &options(&reference, scale, ticks, None, &never), &mut StopAt::new(None)).unwrap();
    for (at, stop) in [((Run::Scenario, 31), (Run::Scenario, 45)), ((Run::Scenario, 71), (Run::Counterfactual, 12))] {
        let out = tmp.path().join(format!("crash-{}", stop.1));
        let ck = checkpoint::file::path(&out);
        let kept = tmp.path().join("kept.bin");
        let mut progress = StopAt::new(Some(stop));
        let (ck2, kept2) = (ck.clone(), kept.clone());
        // Week 31 (71) is the first week after the checkpoint of week 30 (70): copy it aside.
        progress.hook = Some((
            at.0,
            at.1,
            Box::new(move || {
                std::fs::copy(&ck2, &kept2).unwrap();
            }),
        ));
        let opts = options(&out, scale, ticks, Some(10), &progress.flag.clone());
        interrupted_at(run::run(sc.clone(), &opts, &mut progress), stop.0, stop.1);
        // As a crash leaves it: the earlier checkpoint, longer files, a running manifest.
        std::fs::copy(&kept, &ck).unwrap();
        let text = std::fs::read_to_string(out.join("manifest.json")).unwrap();
        std::fs::write(out.join("manifest.json"), text.replace("\"interrupted\"", "\"running\"")).unwrap();
        assert_eq!(checkpoint::file::read_header(&out).unwrap().tick, at.1 - 1);
        resume(&sc, &out, None).unwrap();
        assert_same_files("resumed after a crash", &out, &reference);
    }
}

/// A checkpoint that cannot be written fails the run, saying where, and leaves the
/// previous checkpoint whole: the run resumes from it.
#[test]
fn a_checkpoint_that_cannot_be_written_fails_the_run_and_keeps_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = embedded("small");
    let never = Arc::new(AtomicBool::new(false));
    let reference = tmp.path().join("reference");
    run::run(sc.clone(), &options(&reference, 1.0, None, None, &never), &mut StopAt::new(None)).unwrap();
    let out = tmp.path().join("run");
    let blocker = checkpoint::file::path(&out).with_extension("bin.partial");
    let mut progress = StopAt::new(None);
    let b = blocker.clone();
    // After the checkpoint of week 10, a directory where the next one is written.
    progress.hook = Some((Run::Scenario, 11, Box::new(move || std::fs::create_dir(&b).unwrap())));
    let err = run::run(sc.clone(), &options(&out, 1.0, None, Some(10), &never), &mut progress).unwrap_err();
    assert!(matches!(err, RunError::Output(_)), "{err}");
    assert!(err.to_string().contains("state.bin.partial"), "{err}");
    let m = manifest(&out);
    assert_eq!(m["status"], "failed");
    assert!(m["error"].as_str().unwrap().contains("state.bin.partial"), "{m}");
    assert_eq!(checkpoint::file::read(&out).unwrap().header.tick, 10, "the previous checkpoint stays");
    std::fs::remove_dir(&blocker).unwrap();
    resume(&sc, &out, None).unwrap();
    assert_same_files("resumed after a failed checkpoint", &out, &reference);
}

/// A run stopped with Parquet series cannot be resumed (the file is not cut back): it
/// says so, writes no checkpoint, and the manifest says where it stopped.
#[test]
fn a_parquet_run_stopped_says_it_has_no_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut progress = StopAt::new(Some((Run::Scenario, 5)));
    let mut opts = options(&out, 1.0, None, None, &progress.flag.clone());
    opts.format = tradesim::output::series::Format::Parquet;
    match run::run(embedded("small"), &opts, &mut progress) {
        Err(RunError::Interrupted(s)) => {
            assert_eq!((s.run, s.tick, s.checkpoint.clone()), (Run::Scenario, 5, None));
            assert!(RunError::Interrupted(s).to_string().contains("--format csv can"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!out.join("checkpoint").exists());
    let m = manifest(&out);
    assert_eq!(m["status"], "interrupted");
    assert_eq!(m["interrupted"]["checkpoint"], serde_json::Value::Null);
    assert_eq!(RunStatus::Interrupted, serde_json::from_value(m["status"].clone()).unwrap());
}

fn tradesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradesim")).args(args).output().expect("the tradesim binary runs")
}

/// Whether some series file in `out` is longer than its checkpoint says: the run wrote on
/// after it.
fn written_past_checkpoint(out: &Path) -> bool {
    checkpoint::file::read(out).is_ok_and(|saved| {
        saved.body.files.iter().any(|m| std::fs::metadata(out.join(&m.path)).is_ok_and(|md| md.len() > m.bytes))
    })
}

/// Starts `tradesim run ARGS` and sends it `signal` once its checkpoint exists (a
/// periodic one) and the run has written on past it, so the kill falls mid-run.
fn kill_after_first_checkpoint(out: &Path, args: &[&str], signal: &str) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_tradesim"))
        .arg("run")
        .args(args)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ck = checkpoint::file::path(out);
    let started = Instant::now();
    while !ck.exists() || !written_past_checkpoint(out) {
        assert!(started.elapsed() < Duration::from_secs(300), "no checkpoint after 5 minutes");
        std::thread::sleep(Duration::from_millis(2));
    }
    let kill = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    child.wait_with_output().unwrap()
}

/// The binary, stopped by a real SIGTERM or killed outright (SIGKILL) on one thread and
/// resumed on two, writes the bytes of the run never stopped.
#[test]
fn the_binary_stopped_by_sigterm_or_killed_resumes_on_another_thread_count_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = tmp.path().join("reference");
    // 120 weeks and a checkpoint every 20: the signal falls well before the end and
    // (nearly always) before the next checkpoint.
    let args = ["--scale", "0.05", "--ticks", "120"];
    let out = tradesim(&[&["run", "--threads", "2", "--out", reference.to_str().unwrap()], &args[..]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (signal, code) in [("-TERM", Some(3)), ("-KILL", None)] {
        let dir = tmp.path().join(&signal[1..]);
        let run_args = [&args[..], &["--threads", "1", "--checkpoint-every", "20"]].concat();
        let stopped = kill_after_first_checkpoint(&dir, &run_args, signal);
        let err = String::from_utf8_lossy(&stopped.stderr);
        assert_eq!(stopped.status.code(), code, "{signal}: {err}");
        if code.is_some() {
            assert!(
                err.contains("interrupted after week") && err.contains("resume with: tradesim run --resume"),
                "{err}"
            );
            assert_eq!(manifest(&dir)["status"], "interrupted");
        } else {
            assert_eq!(manifest(&dir)["status"], "running");
            assert!(written_past_checkpoint(&dir), "the kill fell after a checkpoint: nothing to cut back");
        }
        let resumed = tradesim(&["run", "--resume", dir.to_str().unwrap(), "--threads", "2"]);
        let err = String::from_utf8_lossy(&resumed.stderr);
        assert!(resumed.status.success(), "{signal}: {err}");
        assert!(err.contains("resuming the"), "{err}");
        assert_same_files(signal, &dir, &reference);
        let m = manifest(&dir);
        assert_eq!((m["status"].as_str(), m["resumed"].as_u64()), (Some("complete"), Some(1)));
        assert_eq!(m["checkpoint_every"], 20);
        // A complete run cannot be resumed again.
        let again = tradesim(&["run", "--resume", dir.to_str().unwrap()]);
        assert_eq!(again.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&again.stderr).contains("no checkpoint"));
    }
}

/// Every file under `dir` with its bytes and the manifest too: what a refused command
/// must leave as it was.
fn snapshot(dir: &Path) -> (BTreeMap<String, Vec<u8>>, Vec<u8>) {
    (files(dir), std::fs::read(dir.join("manifest.json")).unwrap())
}

fn refused(what: &str, args: &[&str], needles: &[&str], dir: &Path) {
    let before = snapshot(dir);
    let out = tradesim(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    for n in needles {
        assert!(err.contains(n), "{what}: the error does not say '{n}':\n{err}");
    }
    assert!(snapshot(dir) == before, "{what}: the refused command changed {}", dir.display());
}

/// An interrupted run of the small scenario, stopped by SIGTERM mid-run, in `dir`.
fn interrupted_run(dir: &Path) {
    let sc = embedded("small");
    let mut progress = StopAt::new(Some((Run::Counterfactual, 40)));
    let mut opts = options(dir, 1.0, None, None, &progress.flag.clone());
    opts.scenario_source = "<embedded small>".into();
    interrupted_at(run::run(sc, &opts, &mut progress), Run::Counterfactual, 40);
}

/// Each way a resume can be given the wrong thing exits 2, names the file and the
/// problem, and changes nothing in the run directory.
#[test]
fn a_checkpoint_that_does_not_fit_is_refused_and_nothing_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    interrupted_run(&dir);
    let d = dir.to_str().unwrap();
    let ck = checkpoint::file::path(&dir);
    let good = std::fs::read(&ck).unwrap();
    let damaged = |what: &str, bytes: Vec<u8>, needles: &[&str]| {
        std::fs::write(&ck, bytes).unwrap();
        refused(what, &["run", "--resume", d], &[&["state.bin"], needles].concat(), &dir);
        std::fs::write(&ck, &good).unwrap();
    };
    damaged("truncated", good[..good.len() - 100].to_vec(), &["truncated"]);
    damaged("empty", Vec::new(), &["empty (0 bytes)"]);
    // A checkpoint that cannot be read still stops a new run over it.
    std::fs::write(&ck, b"").unwrap();
    refused(
        "a new run over an unreadable checkpoint",
        &["run", "small", "--out", d],
        &["cannot be read", "--force"],
        &dir,
    );
    std::fs::write(&ck, &good).unwrap();
    damaged("cut in the first line", good[..7].to_vec(), &["truncated", "first line"]);
    damaged("not a checkpoint", b"PAR1 something else entirely".to_vec(), &["not a tradesim checkpoint"]);
    let mut other = good.clone();
    other[20] = 9; // the format version
    damaged("another format version", other, &["format version 9"]);
    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 1;
    damaged("a flipped bit in the state", flipped, &["checksum"]);
    let mut head = good.clone();
    let at = 28 + good[28..].iter().position(|&b| b == b':').unwrap() + 2;
    head[at] ^= 1;
    damaged("a flipped bit in the header", head, &["checksum"]);
    // A whole, consistent checkpoint of another tradesim: the header rewritten, its
    // checksum too.
    let len = u32::from_le_bytes(good[24..28].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&good[28..28 + len]).unwrap();
    header["tradesim_version"] = "0.0.0-other".into();
    let head = serde_json::to_vec(&header).unwrap();
    let mut other = good[..24].to_vec();
    other.extend_from_slice(&(head.len() as u32).to_le_bytes());
    other.extend_from_slice(&head);
    other.extend_from_slice(&crc32fast::hash(&head).to_le_bytes());
    other.extend_from_slice(&good[28 + len + 4..]);
    damaged("another tradesim's checkpoint", other, &["written by tradesim 0.0.0-other"]);

    // The manifest: of a complete run, of another scenario's run.
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let hash = m["scenario_hash"].as_str().unwrap().to_string();
    for (what, field, value, needle) in [
        ("a complete manifest", "status", "complete", "the run is complete"),
        ("another scenario's manifest", "scenario_hash", "0123456789abcdef", "belongs to another run"),
    ] {
        m[field] = value.into();
        std::fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&m).unwrap()).unwrap();
        refused(what, &["run", "--resume", d], &["manifest.json", needle], &dir);
        m["status"] = "interrupted".into();
        m["scenario_hash"] = hash.clone().into();
    }
    std::fs::write(dir.join("manifest.json"), &text).unwrap();

    // The scenario: another scenario, or this one's text changed.
    refused("another scenario", &["run", "--resume", d, "us_china_2025"], &["changed since the checkpoint"], &dir);
    let changed = tmp.path().join("small.toml");
    std::fs::write(&changed, format!("{}\n# edited\n", scenario::embedded("small").unwrap())).unwrap();
    refused(
        "the scenario's text changed",
        &["run", "--resume", d, changed.to_str().unwrap()],
        &["small.toml", "hash"],
        &dir,
    );

    // The series files: one shorter than the checkpoint saw, one gone.
    let series = dir.join("counterfactual/regions.csv.partial");
    let bytes = std::fs::read(&series).unwrap();
    let cut = checkpoint::file::read(&dir)
        .unwrap()
        .body
        .files
        .iter()
        .find(|f| f.path.ends_with("counterfactual/regions.csv.partial"))
        .unwrap()
        .bytes;
    std::fs::write(&series, &bytes[..cut as usize - 1]).unwrap();
    refused("a series file shorter", &["run", "--resume", d], &["regions.csv.partial", "shorter"], &dir);
    std::fs::remove_file(&series).unwrap();
    refused("a series file removed", &["run", "--resume", d], &["regions.csv.partial", "moved or removed"], &dir);
    std::fs::write(&series, &bytes).unwrap();

    // The options: a new run over it without --force, a resume with overrides, a
    // directory with no run, checkpoints of a Parquet run, a checkpoint every 0 weeks.
    refused("a new run over it", &["run", "small", "--out", d], &["resume it with", "--force"], &dir);
    refused("--resume with --seed", &["run", "--resume", d, "--seed", "3"], &["--seed"], &dir);
    refused("--resume with --out", &["run", "--resume", d, "--out", d], &["--out"], &dir);
    let none = tmp.path().join("none");
    let out = tradesim(&["run", "--resume", none.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such run directory"));
    assert!(!none.exists());
    let fresh = tmp.path().join("fresh");
    for (args, needle) in [
        (vec!["--checkpoint-every", "0"], "0 is not in 1.."),
        (vec!["--checkpoint-every", "x"], "invalid digit"),
        (vec!["--checkpoint-every", "5", "--format", "parquet"], "--checkpoint-every needs the CSV series"),
        (vec!["--checkpoint-every", "5", "--format", "both"], "--checkpoint-every needs the CSV series"),
    ] {
        let out = tradesim(&[&["run", "small", "--out", fresh.to_str().unwrap()], &args[..]].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!fresh.exists(), "{args:?}: wrote {}", fresh.display());
    }

    // And after all that, the run resumes to the bytes of the run never stopped.
    let reference = tmp.path().join("reference");
    let out = tradesim(&["run", "small", "--out", reference.to_str().unwrap()]);
    assert!(out.status.success());
    let out = tradesim(&["run", "--resume", d]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_same_files("resumed after the refusals", &dir, &reference);
}

/// A stop in the counterfactual's last week is no stop: the run is complete. A resume
/// removes the charts drawn from the stopped run (`plot --partial`), and takes back to
/// `.partial` the whole files that a process dying while it renamed them had renamed.
#[test]
fn a_resume_clears_partial_charts_and_takes_back_files_renamed_before_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = embedded("small");
    let reference = tmp.path().join("reference");
    let mut progress = StopAt::new(Some((Run::Counterfactual, sc.ticks)));
    let opts = options(&reference, 1.0, None, None, &progress.flag.clone());
    let summary = run::run(sc.clone(), &opts, &mut progress).expect("a stop in the last week completes the run");
    assert_eq!(summary.manifest.status, RunStatus::Complete);
    assert!(!reference.join("checkpoint").exists());

    let dir = tmp.path().join("charts");
    interrupted_run(&dir);
    let plot = tradesim(&["plot", "--partial", dir.to_str().unwrap()]);
    assert!(plot.status.success(), "{}", String::from_utf8_lossy(&plot.stderr));
    assert!(std::fs::read_dir(dir.join("plots")).unwrap().count() > 0, "plot --partial drew nothing");
    resume(&sc, &dir, None).unwrap();
    assert_same_files("charts drawn before the resume", &dir, &reference);

    // As a process leaves it that died renaming the finished files: the scenario's under
    // their final names, one of the counterfactual's too, longer than the checkpoint saw.
    let dir = tmp.path().join("renamed");
    interrupted_run(&dir);
    let mut renamed = 0;
    for entry in std::fs::read_dir(dir.join("scenario")).unwrap() {
        let path = entry.unwrap().path();
        if let Some(done) = path.to_str().unwrap().strip_suffix(".partial") {
            std::fs::rename(&path, done).unwrap();
            renamed += 1;
        }
    }
    assert!(renamed >= 4, "{renamed} scenario files");
    let cf = dir.join("counterfactual/regions.csv");
    let mut bytes = std::fs::read(cf.with_extension("csv.partial")).unwrap();
    bytes.extend_from_slice(b"9999,written after the checkpoint\n");
    std::fs::write(&cf, bytes).unwrap();
    std::fs::remove_file(cf.with_extension("csv.partial")).unwrap();
    resume(&sc, &dir, None).unwrap();
    assert_same_files("files renamed before a crash", &dir, &reference);
}
