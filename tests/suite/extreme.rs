//! Extreme worlds (issue 21, item 3): each runs to its end, in the scenario and its
//! counterfactual, and keeps every identity: money exact, goods within 1e-9, net foreign
//! assets summing to zero and moving by each region's current account, every output
//! finite, and no negative stock, price, output, employment or household cash.

use crate::common::*;

/// Runs `text` for `weeks` (or its horizon) with and without policy and checks every
/// invariant on every tick; returns the reports of the run with policy.
fn survives(name: &str, text: &str, weeks: Option<u32>) -> Vec<tradesim::metrics::TickReport> {
    let sc = scenario(text);
    let mut with_policy = Vec::new();
    for policy in [true, false] {
        let (reports, sim) = run(&sc, policy, weeks);
        let what = format!("{name} (policy {policy})");
        assert_identities(&what, &sim.residuals());
        assert_eq!(reports.len() as u32, weeks.unwrap_or(sc.ticks), "{what}: every week reported");
        for t in &reports {
            assert_finite(t);
            for r in &t.regions {
                assert!(r.household_cash >= 0.0, "{what}, tick {}: {r:?}", t.tick);
                assert!((0.0..=1.0).contains(&r.unemployment_rate), "{what}, tick {}: {r:?}", t.tick);
                for v in [r.current_account, r.foreign_lending, r.net_foreign_assets] {
                    assert!(v.is_finite(), "{what}, tick {}: {r:?}", t.tick);
                }
            }
            for s in &t.sectors {
                for v in [s.output, s.inventory, s.producer_price, s.unfilled_orders, s.capacity] {
                    assert!(v >= 0.0, "{what}, tick {}: {s:?}", t.tick);
                }
                assert!((0.0..=1.0).contains(&s.shortage_rate), "{what}, tick {}: {s:?}", t.tick);
            }
        }
        if policy {
            with_policy = reports;
        }
    }
    with_policy
}

/// The tiny world with `from` replaced by `to` in its text (which must contain it).
fn tiny_with(edits: &[(&str, &str)], rest: &str) -> String {
    let mut text = tiny("", rest);
    for (from, to) in edits {
        assert!(text.contains(from), "the tiny world has no `{from}`");
        text = text.replacen(from, to, 1);
    }
    text
}

#[test]
fn an_embargo_and_its_lifting() {
    let rest = r#"
[[events]]
kind = "boycott"
government = "HOME"
partner = "PARTNER"
effective = 2024-03-04
share = 1.0

[[events]]
kind = "boycott"
government = "PARTNER"
partner = "HOME"
effective = 2024-03-04
share = 1.0

[[events]]
kind = "boycott"
government = "HOME"
partner = "PARTNER"
effective = 2024-08-05
share = 0.0

[[events]]
kind = "boycott"
government = "PARTNER"
partner = "HOME"
effective = 2024-08-05
share = 0.0
"#;
    let text = tiny("", rest);
    survives("embargo", &text, None);
    // The embargo stops the trade and its lifting brings it back.
    let sc = scenario(&text);
    let (reports, _) = run(&sc, true, None);
    let (home, partner, goods) = (0, 1, 0);
    let during = mean(&reports, 20..30, |t| imports(t, home, partner, goods));
    let before = mean(&reports, 2..8, |t| imports(t, home, partner, goods));
    let soon = mean(&reports, 33..37, |t| imports(t, home, partner, goods));
    let after = mean(&reports, 45..52, |t| imports(t, home, partner, goods));
    assert!(during < 1e-6 * before, "imports during the embargo {during} against {before} before");
    // Trade comes back, gradually: buyers replaced the suppliers they lost, and order
    // shares move back a little each week (`source_adjust`).
    assert!(
        soon > 0.0 && after > 1.5 * soon && after > 0.1 * before,
        "imports after the lifting: {soon}, then {after}, against {before} before"
    );
}

#[test]
fn tariffs_of_ten_thousand_percent_on_everything() {
    let rest = r#"
[[events]]
government = "HOME"
partner = "PARTNER"
effective = 2024-03-04
set = 100.0

[[events]]
government = "HOME"
partner = "THIRD"
effective = 2024-03-04
set = 100.0

[[events]]
government = "PARTNER"
partner = "HOME"
effective = 2024-03-04
set = 100.0
"#;
    survives("10,000% tariffs", &tiny("", rest), None);
}

#[test]
fn a_sector_with_no_capacity() {
    let rest = "[[capacity]]\nregion = \"HOME\"\nsector = \"GOODS\"\nmultiplier = 0.0\n";
    survives("no GOODS capacity at HOME", &tiny("", rest), None);
}

#[test]
fn a_region_without_households() {
    let text = tiny_with(&[("households = 300\n", "households = 0\n")], "");
    survives("THIRD without households", &text, None);
}

#[test]
fn one_firm_per_sector_everywhere() {
    let text = tiny_with(
        &[
            (
                "producers_per_sector = 12\nretailers_per_sector = 6",
                "producers_per_sector = 1\nretailers_per_sector = 1",
            ),
            (
                "producers_per_sector = 12\nretailers_per_sector = 6",
                "producers_per_sector = 1\nretailers_per_sector = 1",
            ),
            (
                "producers_per_sector = 8\nretailers_per_sector = 4",
                "producers_per_sector = 1\nretailers_per_sector = 1",
            ),
        ],
        "",
    );
    survives("one firm per sector", &text, None);
}

#[test]
fn one_household_in_the_world() {
    let text = tiny_with(
        &[
            ("households = 600\n", "households = 1\n"),
            ("households = 600\n", "households = 0\n"),
            ("households = 300\n", "households = 0\n"),
        ],
        "",
    );
    survives("one household", &text, None);
}

#[test]
fn large_financed_imbalances() {
    // HOME borrows 40 % of its GDP a year from PARTNER, and THIRD lends a little too.
    let text = tiny_with(
        &[
            ("name = \"HOME\"\ngdp = 10e12\n", "name = \"HOME\"\ngdp = 10e12\ntrade_balance = -4e12\n"),
            ("name = \"PARTNER\"\ngdp = 10e12\n", "name = \"PARTNER\"\ngdp = 10e12\ntrade_balance = 3.5e12\n"),
            ("name = \"THIRD\"\ngdp = 5e12\n", "name = \"THIRD\"\ngdp = 5e12\ntrade_balance = 0.5e12\n"),
        ],
        "",
    );
    survives("large imbalances", &text, None);
    let sc = scenario(&text);
    let (reports, _) = run(&sc, false, None);
    let last = reports.last().unwrap();
    assert!(last.regions[0].net_foreign_assets < 0.0 && last.regions[1].net_foreign_assets > 0.0, "{:?}", last.regions);
}

#[test]
fn every_tariff_changes_every_week() {
    let mut rest = String::new();
    for week in 1..52u32 {
        let day = time_add(week);
        for (gov, partner) in [("HOME", "PARTNER"), ("PARTNER", "HOME"), ("HOME", "THIRD"), ("THIRD", "HOME")] {
            let rate = if week % 2 == 0 { 0.05 } else { 0.6 + 0.01 * week as f64 };
            rest += &format!(
                "[[events]]\ngovernment = \"{gov}\"\npartner = \"{partner}\"\neffective = {day}\nannounce = {day}\nset = {rate}\n\n"
            );
        }
    }
    survives("tariffs every week", &tiny("", &rest), None);
}

#[test]
fn a_thousand_events_in_one_week() {
    let mut rest = String::new();
    for k in 0..1000 {
        let (gov, partner) = if k % 2 == 0 { ("HOME", "PARTNER") } else { ("PARTNER", "HOME") };
        rest += &format!(
            "[[events]]\ngovernment = \"{gov}\"\npartner = \"{partner}\"\neffective = 2024-04-01\nadd = 0.001\n\n"
        );
    }
    let text = tiny("", &rest);
    survives("1,000 events", &text, None);
    let sc = scenario(&text);
    let (reports, _) = run(&sc, true, None);
    // Each government's 500 increases of 0.1 point all land, on every tradable sector.
    let rate = reports
        .last()
        .unwrap()
        .trade
        .iter()
        .find(|t| t.importer == 0 && t.exporter == 1 && t.sector == 0)
        .unwrap()
        .tariff_rate;
    assert!((rate - 0.5).abs() < 1e-9, "HOME's rate on PARTNER's goods: {rate}");
}

#[test]
fn rules_that_answer_each_other_every_week_reach_their_caps() {
    let rest = r#"
[[events]]
government = "HOME"
partner = "PARTNER"
effective = 2024-02-05
add = 0.1

[[rules]]
kind = "tit_for_tat"
government = "PARTNER"
partner = "HOME"
lag_weeks = 1
match = 1.0
cap = 2.0

[[rules]]
kind = "tit_for_tat"
government = "HOME"
partner = "PARTNER"
lag_weeks = 1
match = 1.5
cap = 3.0
"#;
    let text = tiny("", rest);
    survives("tit-for-tat ping-pong", &text, None);
    let sc = scenario(&text);
    let (reports, _) = run(&sc, true, None);
    let last = reports.last().unwrap();
    let rate = |i: usize, e: usize| {
        last.trade.iter().find(|t| t.importer == i && t.exporter == e && t.sector == 0).unwrap().tariff_rate
    };

    // Each side keeps answering the other's increases until both sit at their caps.
    assert!(
        (rate(1, 0) - 2.0).abs() < 1e-9 && (rate(0, 1) - 3.0).abs() < 1e-9,
        "rates {} and {}",
        rate(1, 0),
        rate(0, 1)
    );
}

/// The `small` scenario run for 10,000 weeks (192 years) keeps every identity, and its
/// economy neither explodes nor drains: real GDP, CPI and net foreign assets stay near
/// where the first years put them. (Its peak memory is flat too: docs/performance.md.)
#[test]
fn a_ten_thousand_week_horizon() {
    let text = include_str!("../../configs/small.toml");
    assert!(text.contains("end = 2024-12-30"), "configs/small.toml changed its end date");
    let end = tradesim::calendar::Date::from_ymd(2024, 1, 1).unwrap().plus_days(7 * 10_000 - 1).to_string();
    let text = text.replace("end = 2024-12-30", &format!("end = {end}"));
    assert_eq!(scenario(&text).ticks, 10_000);
    let reports = survives("small for 10,000 weeks", &text, None);
    // Means over weeks 52..104 and over the last 52 weeks, per region.
    let mean = |weeks: std::ops::Range<usize>, f: &dyn Fn(&tradesim::metrics::RegionRow) -> f64, r: usize| {
        let n = weeks.len() as f64;
        reports[weeks].iter().map(|t| f(&t.regions[r])).sum::<f64>() / n
    };
    for r in 0..reports[0].regions.len() {
        let early = 52..104;
        let late = 10_000 - 52..10_000;
        let gdp = (mean(early.clone(), &|x| x.real_gdp, r), mean(late.clone(), &|x| x.real_gdp, r));
        let cpi = (mean(early.clone(), &|x| x.cpi, r), mean(late.clone(), &|x| x.cpi, r));
        let nfa = mean(late, &|x| x.net_foreign_assets, r);
        assert!((gdp.1 / gdp.0 - 1.0).abs() < 0.2, "region {r}: real GDP {} → {}", gdp.0, gdp.1);
        assert!((cpi.1 / cpi.0 - 1.0).abs() < 0.2, "region {r}: CPI {} → {}", cpi.0, cpi.1);
        assert!(
            nfa.abs() < 2.0 * 52.0 * gdp.1,
            "region {r}: net foreign assets {nfa} against a year's GDP {}",
            52.0 * gdp.1
        );
    }
}

/// The ISO date of week `week` of the tiny world's 2024 (it starts on Monday 1 January).
fn time_add(week: u32) -> String {
    let start = tradesim::calendar::Date::from_ymd(2024, 1, 1).unwrap();
    start.plus_days(7 * week as i64).to_string()
}
