//! `tradesim plot` and `tradesim report` (issue 20, items 2 and 4): charts of any run,
//! the same from CSV and from Parquet; a page that loads in a real headless browser;
//! every kind of bad input refused with the file named and nothing drawn.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tradesim::report::{self, RunDir};

fn tradesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradesim")).args(args).output().expect("run tradesim")
}

fn fails_with(args: &[&str], code: i32, needles: &[&str]) {
    let out = tradesim(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: error does not mention '{n}':\n{err}");
    }
}

/// The flagship at a small scale for 80 weeks (past the escalation, the truce and the
/// boycotts), written as CSV and Parquet.
fn flagship_run(dir: &Path) -> PathBuf {
    let out = dir.join("flagship");
    run_tradesim(&out, 2, &["us_china_2025", "--scale", "0.03", "--ticks", "80", "--format", "both"]);
    out
}

#[test]
fn flagship_charts_have_every_panel_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    let run = RunDir::load(&flagship_run(tmp.path()), false).unwrap();
    let (charts, skipped) = report::chart::charts(&run);
    let files: Vec<&str> = charts.iter().map(|c| c.file.as_str()).collect();
    assert_eq!(files, tradesim::output::CHART_FILES, "output::CHART_FILES names every chart");
    assert!(skipped.is_empty(), "{skipped:?}");
    for c in &charts {
        for p in &c.panels {
            let drawn = p.lines.iter().filter(|l| l.points.len() >= 2).count();
            assert!(drawn >= 1, "{}: panel '{}' is empty", c.file, p.title);
            assert!(p.lines.iter().all(|l| l.points.iter().all(|(x, y)| x.is_finite() && y.is_finite())));
        }
    }
    // The story the charts tell: the US tariff on Chinese electronics goes up, and the
    // two tariffed directions each get their panels.
    let tariffs = &charts[0];
    assert_eq!(tariffs.panels.len(), 2);
    let elec = tariffs.panels[0].lines.iter().find(|l| l.label.as_deref() == Some("ELEC")).expect("ELEC line");
    let peak = elec.points.iter().map(|p| p.1).fold(0.0, f64::max);
    assert!(peak > 100.0, "US tariff on Chinese ELEC peaks at {peak}%");
    assert_eq!(charts[1].panels.len(), 4, "imports: both directions, bilateral and third countries");
}

#[test]
fn plot_writes_pngs_and_parquet_draws_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = flagship_run(tmp.path());
    let out = tradesim(&["plot", run.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pngs: Vec<PathBuf> = String::from_utf8_lossy(&out.stdout).lines().map(PathBuf::from).collect();
    assert_eq!(pngs.len(), 6);
    for png in &pngs {
        let img = image::open(png).unwrap_or_else(|e| panic!("{}: {e}", png.display())).to_rgb8();
        assert_eq!(img.width(), 1600);
        // Not blank: a chart has axes, text and lines in several colours.
        let colours: std::collections::HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 20, "{} has {} colours", png.display(), colours.len());
    }
    // The same charts from the Parquet files alone.
    for world in ["scenario", "counterfactual"] {
        for stem in ["regions", "trade", "sectors", "policy"] {
            std::fs::remove_file(run.join(world).join(format!("{stem}.csv"))).unwrap();
        }
    }
    let again = tmp.path().join("from-parquet");
    let out = tradesim(&["plot", run.to_str().unwrap(), "--out", again.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for png in &pngs {
        let name = png.file_name().unwrap();
        assert!(std::fs::read(png).unwrap() == std::fs::read(again.join(name)).unwrap(), "{name:?} differs");
    }
}

#[test]
fn a_run_without_policy_or_counterfactual_still_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("small");
    run_tradesim(&out, 1, &["small", "--ticks", "20", "--no-counterfactual"]);
    let run = RunDir::load(&out, false).unwrap();
    let (charts, skipped) = report::chart::charts(&run);
    assert!(charts.iter().any(|c| c.file == "macro.png"));
    assert!(
        skipped.iter().any(|s| s.file == "boycott.png" && s.reason == "the scenario has no boycott"),
        "{skipped:?}"
    );
    let page = tmp.path().join("page.html");
    report::report(&run, &page).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("No effects") && html.contains("data:image/png;base64,"));
}

/// `run --plot` whose charts cannot be written: the run is complete and says so, and the
/// exit code is 1 (a failure), not 2 (bad input).
#[test]
fn run_plot_failing_after_a_complete_run_is_a_failure_not_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("small");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("plots"), "a file where the charts would go").unwrap();
    let o = out.to_str().unwrap();
    fails_with(&["run", "small", "--ticks", "10", "--out", o, "--plot"], 1, &["the run is complete", "tradesim plot"]);
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"status\": \"complete\""), "{manifest}");
}

#[test]
fn bad_run_directories_are_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    fails_with(&["plot", missing.to_str().unwrap()], 2, &["no such directory"]);
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails_with(&["report", empty.to_str().unwrap()], 2, &["not a tradesim run", "manifest.json"]);

    let run = tmp.path().join("run");
    run_tradesim(&run, 1, &["small", "--ticks", "12"]);
    let manifest = run.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();

    // Not complete: refused, and drawn with --partial.
    std::fs::write(&manifest, text.replace("\"status\": \"complete\"", "\"status\": \"failed\"")).unwrap();
    fails_with(&["plot", run.to_str().unwrap()], 2, &["not complete", "failed", "--partial"]);
    let out = tradesim(&["plot", run.to_str().unwrap(), "--partial"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // A run still writing: .partial series, the last line cut short.
    std::fs::write(&manifest, text.replace("\"status\": \"complete\"", "\"status\": \"running\"")).unwrap();
    let regions = run.join("scenario/regions.csv");
    let full = std::fs::read(&regions).unwrap();
    let partial = &full[..full.len() - 40];
    std::fs::write(run.join("scenario/regions.csv.partial"), partial).unwrap();
    std::fs::remove_file(&regions).unwrap();
    fails_with(&["plot", run.to_str().unwrap()], 2, &["running", "--partial"]);
    // Stopped during the scenario half: no counterfactual yet, the scenario still drawn.
    let cf = run.join("counterfactual");
    let cf_away = tmp.path().join("cf-away");
    std::fs::rename(&cf, &cf_away).unwrap();
    let dir = RunDir::load(&run, true).unwrap();
    assert!(dir.counterfactual.is_none());
    // The last tick of a cut file is dropped, so no sum over a tick's rows is short.
    let ticks = dir.scenario.regions.num("tick");
    let last = ticks.iter().fold(0.0f64, |m, &t| m.max(t));
    let n = dir.manifest.scenario.regions.len();
    assert!(ticks.len() == n * 11 && last == 10.0, "{} rows, last tick {last}", ticks.len());
    let (charts, _) = report::chart::charts(&dir);
    assert!(charts.iter().any(|c| c.file == "macro.png"));
    std::fs::rename(&cf_away, &cf).unwrap();
    let out = tradesim(&["plot", run.to_str().unwrap(), "--partial", "--out", tmp.path().join("p").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&manifest, &text).unwrap();
    fails_with(&["plot", run.to_str().unwrap()], 2, &["scenario/regions.csv: missing"]);
    std::fs::remove_file(run.join("scenario/regions.csv.partial")).unwrap();
    std::fs::write(&regions, &full).unwrap();

    // An older format: a manifest without the scenario, a series without a column.
    let old: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut old = old.as_object().unwrap().clone();
    old.remove("scenario");
    std::fs::write(&manifest, serde_json::to_string(&old).unwrap()).unwrap();
    fails_with(&["report", run.to_str().unwrap()], 2, &["manifest.json", "scenario", "another version"]);
    std::fs::write(&manifest, &text).unwrap();
    let trade = run.join("counterfactual/trade.csv");
    let csv = std::fs::read_to_string(&trade).unwrap();
    std::fs::write(&trade, csv.replacen("landed_price", "landed", 1)).unwrap();
    fails_with(&["plot", run.to_str().unwrap()], 2, &["counterfactual/trade.csv", "landed_price", "another version"]);
    std::fs::write(&trade, &csv).unwrap();

    // An output directory that cannot be made fails before anything is drawn.
    std::fs::remove_dir_all(run.join("plots")).unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    fails_with(&["plot", run.to_str().unwrap(), "--out", file.to_str().unwrap()], 2, &["a-file"]);
    fails_with(
        &["report", run.to_str().unwrap(), "--out", file.join("r.html").to_str().unwrap()],
        2,
        &["a-file", "not a directory"],
    );
    fails_with(
        &["report", run.to_str().unwrap(), "--out", tmp.path().to_str().unwrap()],
        2,
        &["a directory; --out names the page"],
    );
    // Nothing was written beside the file or in the directory named.
    let mut left: Vec<String> =
        std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["a-file", "empty", "p", "run"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");

    // A run that starts over in the directory removes the earlier run's charts and page.
    assert!(tradesim(&["plot", run.to_str().unwrap()]).status.success());
    assert!(tradesim(&["report", run.to_str().unwrap()]).status.success());
    assert!(run.join("plots/macro.png").is_file() && run.join("report.html").is_file());
    run_tradesim(&run, 1, &["small", "--ticks", "12", "--force"]);
    assert!(!run.join("plots/macro.png").exists() && !run.join("report.html").exists());
}

/// The report in a real headless browser (Debian's chromium, which .ci/run installs):
/// it loads with nothing on the console (the page logs a chart that does not decode)
/// and its screenshot is not blank. Skipped with a message where there is no chromium,
/// unless TRADESIM_REQUIRE_BROWSER=1 (as in CI).
#[test]
fn report_loads_in_a_headless_browser() {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()));
    let Some(browser) = browser else {
        assert!(std::env::var("TRADESIM_REQUIRE_BROWSER").is_err(), "TRADESIM_REQUIRE_BROWSER is set but no chromium");
        eprintln!("skipped: no chromium on this machine (apt-get install chromium to run this test)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let run = flagship_run(tmp.path());
    let out = tradesim(&["report", run.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = run.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Policy timeline") && html.contains("US reciprocal tariff"));
    assert!(!html.contains("http://") && !html.contains("https://"), "the page must not need the network");

    let shoot = |page: &Path, shot: &Path| -> String {
        let out = Command::new(browser)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
            .arg("--window-size=1280,2400")
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("run chromium");
        assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.contains("CONSOLE")).collect::<Vec<_>>().join("\n")
    };
    let shot = tmp.path().join("shot.png");
    let console = shoot(&page, &shot);
    assert!(console.is_empty(), "console messages:\n{console}");
    let img = image::open(&shot).unwrap().to_rgb8();
    let non_white = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(non_white * 50 > img.pixels().len(), "screenshot is nearly blank: {non_white} non-white pixels");

    // The check can fail: a chart that does not decode is reported on the console.
    let i = html.find("base64,").unwrap() + 7;
    let broken = tmp.path().join("broken.html");
    std::fs::write(&broken, format!("{}AAAA{}", &html[..i], &html[i + 4000..])).unwrap();
    let console = shoot(&broken, &tmp.path().join("broken.png"));
    assert!(console.contains("chart did not load"), "{console}");
}

#[test]
fn a_sweep_plots_each_effect_against_each_parameter() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("s.toml");
    std::fs::write(
        &spec,
        "name = \"p\"\nbase = \"small\"\nseed = 3\nreplicates = 2\nticks = 20\n[sample]\nmethod = \"grid\"\n[parameters]\n\"behaviour.exporter_absorption\" = [0.0, 0.3]\n\"behaviour.retail_markup\" = [0.1, 0.2]\n",
    )
    .unwrap();
    let dir = tmp.path().join("sweep");
    let d = dir.to_str().unwrap();
    for args in [vec!["sweep", "plan", spec.to_str().unwrap(), "--out", d], vec!["sweep", "run", d, "--jobs", "2"]] {
        let out = tradesim(&args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // Not collected yet: say what to do.
    fails_with(&["plot", d], 2, &["summary.csv", "sweep collect"]);
    fails_with(&["report", d], 2, &["a sweep directory"]);
    assert!(tradesim(&["sweep", "collect", d]).status.success());
    let (charts, skipped) = report::sweep::charts(&dir).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    let files: Vec<&str> = charts.iter().map(|c| c.file.as_str()).collect();
    assert_eq!(files, ["sweep_behaviour_exporter_absorption.png", "sweep_behaviour_retail_markup.png"]);
    for c in &charts {
        assert!(!c.panels.is_empty());
        for p in &c.panels {
            // Two lines (one per value of the other parameter), two points each, and a
            // 95% interval around every mean of two replicates.
            assert_eq!(p.lines.len(), 2, "{}", p.title);
            assert!(p.lines.iter().all(|l| l.points.len() == 2), "{}", p.title);
            assert_eq!(p.intervals.len(), 4, "{}", p.title);
            assert!(p.intervals.iter().all(|i| i.low <= i.high));
        }
    }
    let out = tradesim(&["plot", d]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    assert!(dir.join("plots/sweep_behaviour_retail_markup.png").is_file());
}
