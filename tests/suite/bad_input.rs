//! Bad input: every mistake in a scenario file is reported at once, with its field path and
//! line; the command line refuses bad arguments and unusable output directories before
//! simulating, and never overwrites a finished run. Also: nonsense the validator accepts
//! (absurd tariffs, embargoes, zero capacity, empty regions) must not break the model.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use tradesim::Simulation;
use tradesim::metrics::TickReport;
use tradesim::scenario::{self, Problem};

const SMALL: &str = include_str!("../../configs/small.toml");
const SMALL_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/small.toml");
const ORIGIN: &str = "bad.toml";

// ---------------------------------------------------------------- helpers

/// configs/small.toml with each `(from, to)` applied to the first occurrence of `from`;
/// a `from` of "" appends `to` at the end of the file.
fn small_with(edits: &[(&str, &str)]) -> String {
    let mut text = SMALL.to_string();
    for (from, to) in edits {
        if from.is_empty() {
            text.push('\n');
            text.push_str(to);
            text.push('\n');
        } else {
            assert!(text.contains(from), "edit target {from:?} is not in configs/small.toml");
            text = text.replacen(from, to, 1);
        }
    }
    text
}

/// The problems `scenario::parse` reports for `text`; fails if the text is accepted.
fn problems(text: &str) -> Vec<Problem> {
    match scenario::parse(text, ORIGIN) {
        Ok(_) => panic!("accepted, but it should have been refused:\n{text}"),
        Err(e) => {
            assert_eq!(e.origin, ORIGIN);
            assert!(!e.problems.is_empty(), "an error without problems");
            e.problems
        }
    }
}

/// The problem at `path` whose message contains every one of `fragments`; checks it carries a
/// line that exists in `text` and, when the path ends in a key, that this line names the key.
fn find<'a>(text: &str, problems: &'a [Problem], path: &str, fragments: &[&str]) -> &'a Problem {
    let p = problems
        .iter()
        .find(|p| p.path == path && fragments.iter().all(|f| p.message.contains(f)))
        .unwrap_or_else(|| panic!("no problem at `{path}` mentioning {fragments:?}; got:\n{}", show(problems)));
    let (line, col) = p.position.unwrap_or_else(|| panic!("no position for {p:?}"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(line >= 1 && line <= lines.len() && col >= 1, "position {line}:{col} outside the file for {p:?}");
    if !path.ends_with(']') {
        let key = path.rsplit('.').next().unwrap_or(path);
        assert!(lines[line - 1].contains(key), "line {line} ({:?}) does not name `{key}` for {p:?}", lines[line - 1]);
    }
    p
}

/// Parses `text` and checks each expected `(path, fragments)` is among its problems.
fn expect(text: &str, expected: &[(&str, &[&str])]) -> Vec<Problem> {
    let found = problems(text);
    for (path, fragments) in expected {
        find(text, &found, path, fragments);
    }
    found
}

fn show(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  {:?} {}: {}\n", p.position, p.path, p.message)).collect()
}

/// 1-based number of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle:?} not in the text")) + 1
}

/// 1-based number of the line of `text` that is exactly `line`.
fn line_exactly(text: &str, line: &str) -> usize {
    text.lines().position(|l| l == line).unwrap_or_else(|| panic!("no line {line:?} in the text")) + 1
}

/// One single-mistake case: edits to small.toml, then the path and message fragments expected.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a [&'a str]);

fn check_cases(cases: &[Case]) {
    for (edits, path, fragments) in cases {
        expect(&small_with(edits), &[(path, fragments)]);
    }
}

// ---------------------------------------------------------------- the validator

#[test]
fn small_toml_is_valid() {
    scenario::parse(SMALL, "small.toml").expect("configs/small.toml is the valid starting point of these tests");
}

#[test]
fn every_problem_of_a_file_is_reported_together() {
    let text = small_with(&[
        ("households = 400", "households = 400\ncolour = \"red\""),
        ("partner = \"PARTNER\"\nsectors", "partner = \"MARS\"\nsectors"),
        ("rate = 0.1", "rate = -0.1"),
        ("markup = 0.2", "markup = nan"),
        ("default_lead_weeks = 3", "default_lead_weeks = 0"),
    ]);
    let expected: &[(&str, &[&str])] = &[
        ("regions[0].colour", &["unknown field 'colour'", "households"]),
        ("events[0].partner", &["unknown region 'MARS'", "HOME, PARTNER"]),
        ("tariffs[0].rate", &["-0.1 is not accepted"]),
        ("sectors[0].markup", &["NaN is not accepted"]),
        ("shipping.default_lead_weeks", &["0 is not accepted"]),
    ];
    let found = expect(&text, expected);
    assert_eq!(found.len(), expected.len(), "exactly the five mistakes, no more:\n{}", show(&found));
    // Each points at its own line.
    for (path, fragments) in expected {
        let p = find(&text, &found, path, fragments);
        let needle = match *path {
            "regions[0].colour" => "colour",
            "events[0].partner" => "MARS",
            "tariffs[0].rate" => "-0.1",
            "sectors[0].markup" => "markup = nan",
            _ => "default_lead_weeks",
        };
        assert_eq!(p.position.map(|(l, _)| l), Some(line_of(&text, needle)), "{p:?}");
    }
    // The error's text names the file, each line and each path.
    let shown = scenario::parse(&text, ORIGIN).unwrap_err().to_string();
    assert!(shown.starts_with("bad.toml: 5 problems"), "{shown}");
    assert!(shown.contains(&format!("bad.toml:{}:", line_of(&text, "MARS"))), "{shown}");
    assert!(shown.contains("events[0].partner"), "{shown}");
}

#[test]
fn unknown_fields_are_named_with_the_accepted_keys() {
    let behaviour = "[behaviour]\nhiring_rte = 0.3";
    let route = "[[shipping.routes]]\nfrom = \"HOME\"\nto = \"PARTNER\"\nlead_week = 2";
    check_cases(&[
        (&[("name = ", "colour = \"blue\"\nname = ")], "colour", &["unknown field 'colour'", "start, end, seed"]),
        (
            &[("households = 300", "households = 300\nhouesholds = 5")],
            "regions[1].houesholds",
            &["unknown field 'houesholds'", "households", "producers_per_sector"],
        ),
        (&[("", behaviour)], "behaviour.hiring_rte", &["unknown field 'hiring_rte'", "hiring_rate", "firing_rate"]),
        (&[("markup = 0.15", "markup = 0.15\nelasticity = 2.0")], "sectors[2].elasticity", &["budget_share"]),
        (&[("", route)], "shipping.routes[0].lead_week", &["unknown field 'lead_week'", "lead_weeks"]),
        (&[("set = 0.6", "set = 0.6\nrate = 0.6")], "events[0].rate", &["unknown field 'rate'", "set, add"]),
    ]);
}

#[test]
fn unknown_region_and_sector_names_list_the_known_ones() {
    const REGIONS: &str = "known regions: HOME, PARTNER";
    const SECTORS: &str = "known sectors: GOODS, PARTS, SERV";
    let shares = "[[sourcing.shares]]\nimporter = \"HOME\"\nsector = \"GOODS\"\nshares = { HOME = 0.5, MARS = 0.5 }";
    let bad_importer = "[[sourcing.shares]]\nimporter = \"MARS\"\nsector = \"TOYS\"\nshares = { HOME = 1.0 }";
    let recipe = "[[recipes]]\nregion = \"HOME\"\nsector = \"GOODS\"\ninputs = { PARTS = 0.2, STEEL = 0.1 }";
    let bad_recipe = "[[recipes]]\nregion = \"MARS\"\nsector = \"TOYS\"\nlabour = 1.0";
    let capacity = "[[capacity]]\nregion = \"MARS\"\nsector = \"GOODS\"\nmultiplier = 0.5";
    check_cases(&[
        (&[("partner = \"PARTNER\"", "partner = \"MARS\"")], "events[0].partner", &["'MARS'", REGIONS]),
        (&[("government = \"HOME\"", "government = \"ATLANTIS\"")], "events[0].government", &["'ATLANTIS'", REGIONS]),
        (&[("sectors = [\"GOODS\"]", "sectors = [\"GOODS\", \"FOOD\"]")], "events[0].sectors[1]", &["'FOOD'", SECTORS]),
        (&[("exporter = \"PARTNER\"", "exporter = \"MARS\"")], "tariffs[0].exporter", &["'MARS'", REGIONS]),
        (&[("rate = 0.1", "rate = 0.1\nsectors = [\"TOYS\"]")], "tariffs[0].sectors[0]", &["'TOYS'", SECTORS]),
        (&[("", shares)], "sourcing.shares[0].shares.MARS", &["'MARS'", REGIONS]),
        (&[("", bad_importer)], "sourcing.shares[0].importer", &["'MARS'", REGIONS]),
        (&[("", bad_importer)], "sourcing.shares[0].sector", &["'TOYS'", SECTORS]),
        (&[("", recipe)], "recipes[0].inputs.STEEL", &["unknown sector 'STEEL'", SECTORS]),
        (&[("", bad_recipe)], "recipes[0].region", &["'MARS'", REGIONS]),
        (&[("", bad_recipe)], "recipes[0].sector", &["'TOYS'", SECTORS]),
        (&[("{ SERV = 0.15 }", "{ SERV = 0.15, STEEL = 0.1 }")], "sectors[1].inputs.STEEL", &["'STEEL'", SECTORS]),
        (&[("partner = \"HOME\"", "partner = \"MARS\"")], "rules[0].partner", &["'MARS'", REGIONS]),
        (&[("", capacity)], "capacity[0].region", &["'MARS'", REGIONS]),
    ]);
}

#[test]
fn negative_and_nan_rates_and_counts_are_refused() {
    let capacity = "[[capacity]]\nregion = \"HOME\"\nsector = \"GOODS\"\nmultiplier = -1.0";
    check_cases(&[
        (&[("rate = 0.1", "rate = -0.1")], "tariffs[0].rate", &["-0.1 is not accepted", "from 0 to"]),
        (&[("rate = 0.1", "rate = nan")], "tariffs[0].rate", &["NaN is not accepted"]),
        (&[("rate = 0.1", "rate = inf")], "tariffs[0].rate", &["inf is not accepted"]),
        (&[("households = 400", "households = -5")], "regions[0].households", &["-5 is not accepted", "whole number"]),
        (&[("budget_share = 0.45", "budget_share = nan")], "sectors[0].budget_share", &["NaN is not accepted"]),
        (&[("producers_per_sector = 8", "producers_per_sector = -1")], "regions[0].producers_per_sector", &["-1"]),
        (&[("retailers_per_sector = 4", "retailers_per_sector = -4")], "regions[0].retailers_per_sector", &["-4"]),
        (&[("gdp = 20e12", "gdp = -20e12")], "regions[0].gdp", &["-20000000000000 is not accepted"]),
        (&[("gdp = 20e12", "gdp = nan")], "regions[0].gdp", &["NaN is not accepted", "expected a number from 1"]),
        (&[("set = 0.6", "set = nan")], "events[0].set", &["NaN is not accepted"]),
        (&[("set = 0.6", "set = -0.6")], "events[0].set", &["-0.6 is not accepted"]),
        (&[("match = 1.0", "match = -1.0")], "rules[0].match", &["-1 is not accepted"]),
        (&[("lag_weeks = 2", "lag_weeks = -2")], "rules[0].lag_weeks", &["-2 is not accepted"]),
        (&[("seed = 7", "seed = -7")], "seed", &["-7 is not accepted"]),
        (&[("", capacity)], "capacity[0].multiplier", &["-1 is not accepted"]),
        (&[("home_share = 0.7", "home_share = 1.5")], "sourcing.home_share", &["1.5 is not accepted", "fraction"]),
    ]);
}

#[test]
fn shares_that_do_not_sum_to_one_are_refused() {
    let row = |shares: &str| format!("[[sourcing.shares]]\nimporter = \"HOME\"\nsector = \"GOODS\"\nshares = {shares}");
    let short = row("{ HOME = 0.6, PARTNER = 0.3 }");
    let over = row("{ HOME = 0.9, PARTNER = 0.9 }");
    check_cases(&[
        (
            &[("budget_share = 0.45", "budget_share = 0.5")],
            "sectors",
            &["budget_share over all sectors sums to 1.05, not 1", "GOODS=0.5"],
        ),
        (
            &[("budget_share = 0.55", "budget_share = 0.25")],
            "sectors",
            &["sums to 0.7, not 1", "GOODS=0.45, SERV=0.25"],
        ),
        (&[("", &short)], "sourcing.shares[0].shares", &["not 1", "must sum to 1"]),
        (&[("", &over)], "sourcing.shares[0].shares", &["sum to 1.8", "not 1"]),
    ]);
}

#[test]
fn events_outside_the_horizon_are_refused() {
    // small.toml runs 53 weeks: 2024-01-01 to 2025-01-05.
    const HORIZON: &[&str] = &["outside the simulated horizon", "2024-01-01 to 2025-01-05"];
    check_cases(&[
        (&[("effective = 2024-05-06", "effective = 2025-03-03")], "events[0].effective", HORIZON),
        (&[("effective = 2024-05-06", "effective = 2023-12-04")], "events[0].effective", HORIZON),
        (&[("announce = 2024-04-01", "announce = 2023-11-01")], "events[0].announce", HORIZON),
        (&[("announce = 2024-04-01", "announce = 2024-06-03")], "events[0].announce", &["announced after it takes"]),
        (&[("set = 0.6", "set = 0.6\ngrace_until = 2024-04-15")], "events[0].grace_until", &["before the effective"]),
        (&[("lag_weeks = 2", "lag_weeks = 2\nactive_from = 2026-01-05")], "rules[0].active_from", HORIZON),
        (&[("end = 2024-12-30", "end = 2023-12-30")], "end", &["before start"]),
    ]);
}

#[test]
fn lead_times_below_one_week_are_refused() {
    let route = |lead: i32| format!("[[shipping.routes]]\nfrom = \"HOME\"\nto = \"PARTNER\"\nlead_weeks = {lead}");
    let (zero, negative) = (route(0), route(-2));
    let same = "[[shipping.routes]]\nfrom = \"HOME\"\nto = \"HOME\"\nlead_weeks = 2";
    check_cases(&[
        (&[("default_lead_weeks = 3", "default_lead_weeks = 0")], "shipping.default_lead_weeks", &["from 1 to"]),
        (&[("", &zero)], "shipping.routes[0].lead_weeks", &["0 is not accepted", "from 1 to"]),
        (&[("", &negative)], "shipping.routes[0].lead_weeks", &["-2 is not accepted"]),
        (&[("", same)], "shipping.routes[0].to", &["two different regions"]),
    ]);
}

#[test]
fn a_missing_file_is_named_and_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no_such_scenario.toml");
    let err = scenario::load_file(&path).expect_err("a missing file loads");
    assert_eq!(err.origin, path.display().to_string());
    assert_eq!(err.problems.len(), 1);
    assert!(err.problems[0].message.contains("cannot read the scenario file"), "{err}");
    assert!(err.to_string().contains("no_such_scenario.toml"), "{err}");
    // A directory is not a file either.
    let err = scenario::load_file(dir.path()).expect_err("a directory loads");
    assert!(err.problems[0].message.contains("cannot read"), "{err}");
}

/// Edits small.toml `from` → `to` and checks that exactly one problem is reported, saying
/// `message`, on the line `bad_line`; returns its column.
fn sole_problem_column(from: &str, to: &str, bad_line: &str, message: &str) -> usize {
    let text = small_with(&[(from, to)]);
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{to}: {}", show(&found));
    let p = &found[0];
    assert!(p.message.contains(message), "{to}: {p:?}");
    let (line, col) = p.position.unwrap_or_else(|| panic!("{to}: no position: {p:?}"));
    assert_eq!(line, line_exactly(&text, bad_line), "{to}: {p:?}");
    col
}

#[test]
fn a_toml_syntax_error_has_a_line_and_column() {
    // (from, to, the line the error must be on, what the message says)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("households = 400", "households 400", "households 400", "expected `=`"),
        ("households = 400", "households = = 400", "households = = 400", "extra `=`"),
        ("[[sectors]]\nname = \"PARTS\"", "[[sectors]\nname = \"PARTS\"", "[[sectors]", "unclosed array table"),
        ("markup = 0.2", "markup = 0.2.5", "markup = 0.2.5", "invalid float"),
        ("name = \"HOME\"", "name = \"HOME\"\nname = \"AGAIN\"", "name = \"AGAIN\"", "duplicate key"),
        ("start = 2024-01-01", "start = 2024-13-01", "start = 2024-13-01", "invalid date"),
        ("seed = 7", "seed = \"7", "seed = \"7", "string"),
    ];
    for (from, to, bad_line, message) in cases {
        let col = sole_problem_column(from, to, bad_line, message);
        assert!(col >= 1 && col <= bad_line.len() + 1, "{to}: column {col}");
    }
}

#[test]
fn a_wrong_type_has_a_line_and_column() {
    // (from, to, what the message says); the column must point at the wrong value.
    let cases: &[(&str, &str, &str)] = &[
        ("households = 400", "households = \"many\"", "invalid type: string \"many\", expected i64"),
        ("households = 400", "households = 4.5", "expected i64"),
        ("tradable = false", "tradable = \"no\"", "expected a boolean"),
        ("rate = 0.1", "rate = \"ten percent\"", "expected f64"),
        ("start = 2024-01-01", "start = 20240101", "expected a date like 2025-04-09, found integer"),
        ("start = 2024-01-01", "start = \"next year\"", "'next year' is not a date"),
        ("sectors = [\"GOODS\"]", "sectors = \"GOODS\"", "expected a sequence"),
        ("inputs = { SERV = 0.15 }", "inputs = 0.15", "expected a map"),
    ];
    for (from, to, message) in cases {
        let col = sole_problem_column(from, to, to, message);
        let value = to.split_once(" = ").unwrap().1;
        assert!(to.get(col - 1..).is_some_and(|rest| rest.starts_with(value)), "{to}: column {col} is not the value");
    }
}

#[test]
fn a_wrong_type_does_not_hide_the_other_problems() {
    let text = small_with(&[
        ("households = 400", "households = \"many\""),
        ("partner = \"PARTNER\"", "partner = \"MARS\""),
        ("rate = 0.1", "rate = -0.1"),
    ]);
    let found = problems(&text);
    assert!(found.iter().any(|p| p.message.contains("expected i64")), "{}", show(&found));
    find(&text, &found, "events[0].partner", &["unknown region 'MARS'"]);
    find(&text, &found, "tariffs[0].rate", &["-0.1 is not accepted"]);
}

// ---------------------------------------------------------------- the command line

fn tradesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradesim")).args(args).output().expect("the tradesim binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn is_empty_or_absent(dir: &Path) -> bool {
    !dir.exists() || fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

#[test]
fn cli_validate_of_a_bad_file_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let text = small_with(&[("partner = \"PARTNER\"", "partner = \"MARS\"")]);
    fs::write(&path, &text).unwrap();
    let out = tradesim(&["validate", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    let at = format!("{}:{}:", path.display(), line_of(&text, "MARS"));
    assert!(err.contains(&at), "stderr does not contain {at:?}: {err}");
    assert!(err.contains("events[0].partner"), "{err}");

    let missing = dir.path().join("missing.toml");
    let out = tradesim(&["validate", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("missing.toml") && stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn cli_run_of_a_bad_file_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    fs::write(&path, small_with(&[("rate = 0.1", "rate = -0.1")])).unwrap();
    let out_dir = dir.path().join("out");
    let out = tradesim(&["run", path.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "--ticks", "2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("tariffs[0].rate"), "{}", stderr(&out));
    assert!(is_empty_or_absent(&out_dir), "a refused run wrote into {}", out_dir.display());
}

#[test]
fn cli_run_refuses_an_out_path_that_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    fs::write(&file, "keep me").unwrap();
    let out = tradesim(&["run", SMALL_PATH, "--out", file.to_str().unwrap(), "--ticks", "2", "--no-counterfactual"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a directory"), "{err}");
    assert!(!err.contains("done in"), "it simulated: {err}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "something was written beside the file");
}

#[test]
fn cli_run_refuses_an_out_dir_it_cannot_create() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    fs::write(&file, "keep me").unwrap();
    // A directory under a regular file cannot be created, even by root.
    let under_file = file.join("out");
    let out = tradesim(&["run", SMALL_PATH, "--out", under_file.to_str().unwrap(), "--ticks", "2"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("choose another --out"), "{err}");
    assert!(!err.contains("done in"), "it simulated: {err}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
}

#[cfg(unix)]
#[test]
fn cli_run_refuses_an_unwritable_out_dir() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    fs::create_dir(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).unwrap();
    let probe = locked.join("probe");
    if fs::write(&probe, "x").is_ok() {
        // Root (or a filesystem ignoring modes) writes anyway: nothing to check.
        eprintln!("skipped: a 0o555 directory is writable here (running as root?)");
        let _ = fs::remove_file(&probe);
        return;
    }
    for out_dir in [locked.clone(), locked.join("out")] {
        let out = tradesim(&["run", SMALL_PATH, "--out", out_dir.to_str().unwrap(), "--ticks", "2"]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains("choose another --out"), "{err}");
        assert!(!err.contains("done in"), "it simulated: {err}");
        assert!(is_empty_or_absent(&out_dir), "{}", out_dir.display());
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn cli_run_refuses_bad_scale_ticks_threads_and_seed() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out_arg = out_dir.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--scale", "0"], "--scale"),
        (&["--scale=-1"], "--scale"),
        (&["--scale", "nan"], "--scale"),
        (&["--scale", "inf"], "--scale"),
        (&["--scale", "1e12"], "--scale"),
        (&["--ticks", "0"], "--ticks"),
        (&["--ticks=-3"], "--ticks"),
        (&["--threads", "0"], "--threads"),
        (&["--seed", "many"], "--seed"),
    ];
    for (extra, flag) in cases {
        let mut args = vec!["run", SMALL_PATH, "--out", out_arg];
        args.extend_from_slice(extra);
        let out = tradesim(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(flag), "{extra:?}: {err}");
        assert!(is_empty_or_absent(&out_dir), "{extra:?} wrote into {}", out_dir.display());
    }
}

#[test]
fn cli_never_overwrites_a_finished_run_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("x");
    let args = ["run", SMALL_PATH, "--out", out_dir.to_str().unwrap(), "--ticks", "3", "--no-counterfactual"];
    let first = tradesim(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    let manifest = out_dir.join("manifest.json");
    let finished = fs::read(&manifest).unwrap();

    let second = tradesim(&args);
    let err = stderr(&second);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(fs::read(&manifest).unwrap(), finished, "the refused run touched the manifest");

    let mut forced = args.to_vec();
    forced.push("--force");
    let third = tradesim(&forced);
    assert!(third.status.success(), "{}", stderr(&third));
    assert!(fs::read_to_string(&manifest).unwrap().contains("complete"));
}

// ---------------------------------------------------------------- nonsense the model survives

/// No NaN or infinity anywhere in a report: every float field of every row (and every `Some`
/// of an optional one), found through `Debug` so fields added later are covered too.
fn assert_finite(label: &str, report: &TickReport) {
    fn check(label: &str, tick: u32, row: &dyn std::fmt::Debug) {
        let text = format!("{row:?}");
        let bad = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || "_.+-".contains(c)))
            .any(|token| matches!(token, "NaN" | "inf" | "-inf"));
        assert!(!bad, "{label}, tick {tick}: a non-finite number in {text}");
    }
    let t = report.tick;
    report.regions.iter().for_each(|r| check(label, t, r));
    report.trade.iter().for_each(|r| check(label, t, r));
    report.sectors.iter().for_each(|r| check(label, t, r));
    for change in &report.policy {
        assert!(change.old.is_finite() && change.new.is_finite(), "{label}, tick {t}: {change:?}");
    }
}

/// Runs `text` (which must be accepted) for `ticks` ticks, checking every report and the
/// money and goods identities; returns the last report.
fn survive(label: &str, text: &str, ticks: u32) -> TickReport {
    let scenario = scenario::parse(text, label).unwrap_or_else(|e| panic!("{label}: refused: {e}"));
    let mut sim = Simulation::new(Arc::new(scenario), true);
    let mut last = TickReport::default();
    for t in 0..ticks {
        let report = sim.step();
        assert_eq!(report.tick, t, "{label}");
        assert!(!report.regions.is_empty() && !report.sectors.is_empty(), "{label}: empty report at tick {t}");
        assert_finite(label, report);
        last = report.clone();
    }
    let res = sim.residuals();
    assert_eq!(res.money_worst, 0, "{label}: money is not conserved: {res:?}");
    assert!(res.goods_worst < 1e-9, "{label}: goods are not conserved: {res:?}");
    last
}

/// Either the validator refuses `text` at `path`, or the model survives it.
fn refused_or_survives(label: &str, text: &str, path: &str) {
    match scenario::parse(text, label) {
        Err(e) => assert!(e.problems.iter().any(|p| p.path == path && p.position.is_some()), "{label}: {e}"),
        Ok(_) => drop(survive(label, text, TICKS)),
    }
}

const TICKS: u32 = 30;
// Indices in small.toml.
const HOME: usize = 0;
const PARTNER: usize = 1;
const PARTS: usize = 1;

fn region_edit(region: usize, key: &str, value: &str) -> String {
    // Each region's keys appear once per region, HOME first.
    let mut text = SMALL.to_string();
    let at = text.match_indices(&format!("\n{key} = ")).nth(region).unwrap_or_else(|| panic!("no {key}")).0 + 1;
    let end = at + text[at..].find('\n').unwrap();
    text.replace_range(at..end, &format!("{key} = {value}"));
    text
}

#[test]
fn survives_a_ten_thousand_percent_tariff() {
    let text =
        small_with(&[("rate = 0.1", "rate = 100.0"), ("rate = 0.1", "rate = 100.0"), ("set = 0.6", "set = 100.0")]);
    let last = survive("tariff 100.0", &text, TICKS);
    let home_imports = last.trade.iter().filter(|t| t.importer == HOME);
    assert!(home_imports.clone().count() > 0 && home_imports.clone().all(|t| t.tariff_rate == 100.0), "{last:?}");
}

/// A producer whose own input is imported under a prohibitive tariff would raise its price
/// without end (cost-plus on its own tariff-laden output); prices are capped, money stays exact.
#[test]
fn survives_a_prohibitive_tariff_on_a_firms_own_imported_input() {
    let text = small_with(&[
        ("inputs = { PARTS = 0.3, SERV = 0.1 }", "inputs = { PARTS = 0.2, SERV = 0.1, GOODS = 0.4 }"),
        ("home_share = 0.7", "home_share = 0.1"),
        ("rate = 0.1", "rate = 100.0"),
        ("rate = 0.1", "rate = 100.0"),
    ]);
    survive("price spiral", &text, 60);
}

#[test]
fn survives_an_embargo() {
    let embargo = |gov: &str, partner: &str| {
        format!(
            "[[events]]\nname = \"embargo\"\nkind = \"boycott\"\ngovernment = \"{gov}\"\npartner = \"{partner}\"\n\
             effective = 2024-01-15\nshare = 1.0\n"
        )
    };
    let text = small_with(&[("", &embargo("HOME", "PARTNER")), ("", &embargo("PARTNER", "HOME"))]);
    let last = survive("embargo", &text, TICKS);
    assert!(!last.trade.is_empty() && last.trade.iter().all(|t| t.boycott == 1.0), "{:?}", last.trade);
}

fn zero_capacity(region: &str, sector: &str) -> String {
    format!("[[capacity]]\nregion = \"{region}\"\nsector = \"{sector}\"\nmultiplier = 0.0\n")
}

#[test]
fn survives_zero_capacity_in_a_sector() {
    let last = survive("no PARTS at home", &small_with(&[("", &zero_capacity("HOME", "PARTS"))]), TICKS);
    let parts = last.sectors.iter().find(|r| r.region == HOME && r.sector == PARTS).unwrap();
    assert!(parts.capacity == 0.0 && parts.output == 0.0, "{parts:?}");
    let nothing = ["GOODS", "PARTS", "SERV"].map(|s| zero_capacity("HOME", s));
    survive("nothing at home", &small_with(&nothing.iter().map(|z| ("", z.as_str())).collect::<Vec<_>>()), TICKS);
}

#[test]
fn survives_zero_capacity_for_a_good_everywhere() {
    let text = small_with(&[("", &zero_capacity("HOME", "GOODS")), ("", &zero_capacity("PARTNER", "GOODS"))]);
    survive("no GOODS anywhere", &text, TICKS);
}

#[test]
fn survives_a_region_without_households() {
    let last = survive("no households", &region_edit(PARTNER, "households", "0"), TICKS);
    let partner = last.regions.iter().find(|r| r.region == PARTNER).unwrap();
    assert_eq!(partner.consumption, 0.0, "{partner:?}");
    let nobody = SMALL.replace("households = 400", "households = 0").replace("households = 300", "households = 0");
    survive("no households anywhere", &nobody, TICKS);
}

#[test]
fn survives_a_region_without_producers_or_retailers() {
    let last = survive("no producers", &region_edit(PARTNER, "producers_per_sector", "0"), TICKS);
    assert!(last.sectors.iter().filter(|r| r.region == PARTNER).all(|r| r.output == 0.0), "{:?}", last.sectors);
    survive("no retailers", &region_edit(PARTNER, "retailers_per_sector", "0"), TICKS);
    let no_firms = region_edit(HOME, "producers_per_sector", "0");
    let at = no_firms.match_indices("\nproducers_per_sector = ").nth(PARTNER).unwrap().0 + 1;
    let end = at + no_firms[at..].find('\n').unwrap();
    let mut nowhere = no_firms.clone();
    nowhere.replace_range(at..end, "producers_per_sector = 0");
    let last = survive("no producers anywhere", &nowhere, TICKS);
    assert!(last.sectors.iter().all(|r| r.output == 0.0), "{:?}", last.sectors);
}

#[test]
fn a_huge_gdp_is_refused_or_survived() {
    refused_or_survives("gdp 1e18", &region_edit(HOME, "gdp", "1e18"), "regions[0].gdp");
}

#[test]
fn a_tiny_gdp_is_refused_or_survived() {
    refused_or_survives("gdp 1e-4", &region_edit(HOME, "gdp", "1e-4"), "regions[0].gdp");
}

#[test]
fn the_largest_accepted_tariff_is_refused_or_survived() {
    for rate in ["1e3", "1e6"] {
        let text = small_with(&[("rate = 0.1", &format!("rate = {rate}")), ("rate = 0.1", &format!("rate = {rate}"))]);
        refused_or_survives(&format!("tariff {rate}"), &text, "tariffs[0].rate");
    }
}

#[test]
fn a_tiny_productivity_is_refused_or_survived() {
    refused_or_survives(
        "productivity 1e-5",
        &small_with(&[("gdp = 20e12", "gdp = 20e12\nproductivity = 1e-5")]),
        "regions[0].productivity",
    );
}

#[test]
fn survives_a_region_specific_labour_coefficient() {
    // The same coefficient on the sector itself runs fine.
    survive("sector labour", &small_with(&[("markup = 0.2", "markup = 0.2\nlabour = 0.1")]), TICKS);
    let recipe = "[[recipes]]\nregion = \"HOME\"\nsector = \"GOODS\"\nlabour = 0.1";
    survive("recipe labour", &small_with(&[("", recipe)]), TICKS);
}

#[test]
fn trade_balances_that_do_not_close_or_are_too_large_are_refused() {
    check_cases(&[
        (
            &[("gdp = 20e12", "gdp = 20e12\ntrade_balance = 1e12")],
            "regions",
            &[
                "trade_balance over all regions sums to 1000000000000, not 0",
                "HOME=1000000000000",
                "give PARTNER -1000000000000 to close the world",
            ],
        ),
        (
            &[
                ("gdp = 20e12", "gdp = 20e12\ntrade_balance = 12e12"),
                ("gdp = 15e12", "gdp = 15e12\ntrade_balance = -12e12"),
            ],
            "regions[0].trade_balance",
            &["12000000000000 is not accepted", "from -10000000000000 to 10000000000000"],
        ),
        (&[("gdp = 20e12", "gdp = 20e12\ntrade_balance = nan")], "regions[0].trade_balance", &["NaN is not accepted"]),
        (
            &[("gdp = 20e12", "gdp = 20e12\ntrade_balance = \"big\"")],
            "regions[0].trade_balance",
            &["invalid type: string \"big\", expected f64"],
        ),
    ]);
}

/// A trade balance the region's trade cannot carry has no steady state near the data (the
/// calibration would shrink the region towards nothing): refused before anything runs,
/// naming the region and what to change.
#[test]
fn cli_run_refuses_a_trade_balance_the_calibration_cannot_reach() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("surplus.toml");
    let text = small_with(&[
        ("gdp = 20e12", "gdp = 20e12\ntrade_balance = 1e12"),
        ("gdp = 15e12", "gdp = 15e12\ntrade_balance = -1e12"),
        ("home_share = 0.7", "home_share = 1.0"),
    ]);
    fs::write(&path, &text).unwrap();
    let out_dir = dir.path().join("out");
    let out = tradesim(&["run", path.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "--ticks", "2"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for part in ["regions[0] (HOME)", "cannot be calibrated", "trade_balance = 1000000000000", "accepted: 0.5 to 2.0"] {
        assert!(err.contains(part), "no `{part}` in: {err}");
    }
    assert!(is_empty_or_absent(&out_dir), "a refused run wrote into {}", out_dir.display());
}

#[test]
fn a_refused_trade_balance_is_not_also_summed_and_only_regions_with_households_may_lend() {
    // Over its limit: one problem, not a second one about the sum with its advice.
    let text = small_with(&[
        ("gdp = 20e12", "gdp = 20e12\ntrade_balance = 12e12"),
        ("gdp = 15e12", "gdp = 15e12\ntrade_balance = -1e12"),
    ]);
    let problems = problems(&text);
    assert!(problems.iter().any(|p| p.path == "regions[0].trade_balance"), "{}", show(&problems));
    assert!(!problems.iter().any(|p| p.message.contains("sums to")), "{}", show(&problems));
    // A region without households cannot lend or borrow.
    check_cases(&[(
        &[
            ("households = 400", "households = 0"),
            ("gdp = 20e12", "gdp = 20e12\ntrade_balance = 1e12"),
            ("gdp = 15e12", "gdp = 15e12\ntrade_balance = -1e12"),
        ],
        "regions[0].trade_balance",
        &["a region without households cannot lend or borrow"],
    )]);
}
