//! Money is conserved exactly and goods balance within 1e-9 (MODEL.md §3), over whole runs.

use crate::common::*;

fn check(name: &str, sc: &tradesim::Scenario) {
    for policy in [true, false] {
        let (reports, sim) = run(sc, policy, None);
        assert_identities(&format!("{name} (policy {policy})"), &sim.residuals());
        assert_eq!(reports.len() as u32, sc.ticks);
        reports.iter().for_each(assert_finite);
    }
}

#[test]
fn small_scenario_conserves_money_and_goods() {
    check("small", &embedded("small"));
}

#[test]
fn flagship_at_reduced_scale_conserves_money_and_goods() {
    check("us_china_2025 at scale 0.03", &embedded("us_china_2025").scaled(0.03));
}

#[test]
fn endogenous_retaliation_at_reduced_scale_conserves_money_and_goods() {
    check("endogenous_retaliation at scale 0.03", &embedded("endogenous_retaliation").scaled(0.03));
}

#[test]
fn money_total_is_the_same_after_a_run() {
    let sc = embedded("small");
    let mut sim = tradesim::Simulation::new(std::sync::Arc::new(sc.clone()), true);
    let before = sim.money_total();
    for _ in 0..sc.ticks {
        sim.step();
    }
    assert_eq!(sim.money_total(), before);
}

/// Households may know any number of retailers per sector (the flagship's three take a
/// fixed-size path in demand; every other count the general one). More than a region
/// has leaves empty slots.
#[test]
fn any_number_of_known_retailers_conserves_money_and_goods() {
    let text = tradesim::scenario::embedded("small").unwrap();
    for known in [1, 2, 5] {
        let sc = scenario(&format!("{text}\n[behaviour]\nknown_retailers = {known}\n"));
        assert_eq!(sc.behaviour.known_retailers, known);
        check(&format!("small with {known} known retailers"), &sc);
        let (reports, _) = run(&sc, true, Some(8));
        for report in &reports {
            assert!(report.regions.iter().all(|r| r.consumption > 0.0), "{known} known: nobody bought");
        }
    }
}

/// Firms' staff counts (tallied from households in parallel batches) are exactly the
/// number of households employed at each firm, tick after tick, through a run in which
/// households are laid off and hired.
#[test]
fn staff_counts_stay_the_households_employed_there() {
    use std::collections::HashMap;
    use tradesim::agents::{Household, Staff};
    let sc = embedded("small");
    let mut sim = tradesim::Simulation::new(std::sync::Arc::new(sc.clone()), true);
    let mut moves = 0usize;
    let mut before: Vec<u32> = Vec::new();
    for tick in 0..sc.ticks.min(60) {
        sim.step();
        let world = sim.world_mut();
        let employers: Vec<u32> = world.query::<&Household>().iter(world).map(|h| h.employer).collect();
        moves += before.iter().zip(&employers).filter(|(a, b)| a != b).count();
        let mut counted: HashMap<u32, u32> = HashMap::new();
        for &e in &employers {
            *counted.entry(e).or_default() += 1;
        }
        for staff in world.query::<&Staff>().iter(world) {
            let there = counted.get(&staff.employer).copied().unwrap_or(0);
            assert_eq!(staff.workers, there, "tick {tick}: employer {} counts the wrong staff", staff.employer);
        }
        before = employers;
    }
    assert!(moves > 100, "the run must move households between jobs to test the counts (moved {moves})");
}

/// The world starts in the steady state of its drawn network (issue 22, first step):
/// goods are in transit from tick 0, every buyer orders its forecast, so imports flow in
/// the first week and the counterfactual has no start-up collapse.
#[test]
fn the_counterfactual_starts_with_goods_in_transit_and_no_collapse() {
    let sc = crate::common::embedded("us_china_2025").scaled(0.1).counterfactual();
    // Built, before any tick: a foreign supplier has one shipment on its way per week of
    // its lead time, landing at ticks 0 to lead − 1.
    let mut built = tradesim::Simulation::new(std::sync::Arc::new(sc.clone()), false);
    let mut q = built.world_mut().query::<&tradesim::agents::Purchasing>();
    let arrivals: Vec<u32> = q.iter(built.world()).flat_map(|p| p.shipments.iter().map(|s| s.arrives)).collect();
    assert!(arrivals.contains(&0) && arrivals.iter().all(|&t| t < 7), "{:?}", &arrivals[..arrivals.len().min(20)]);
    let (reports, _) = crate::common::run(&sc, false, Some(26));
    let usa = sc.region_index("USA").unwrap();
    let at = |t: usize| &reports[t].regions[usa];
    let later: f64 = (10..20).map(|t| at(t).imports).sum::<f64>() / 10.0;
    assert!(at(0).imports > 0.8 * later, "imports at tick 0 {} against {later} later", at(0).imports);
    // No start-up collapse (the world that started empty went from 5.6 % to 9.0 % US
    // unemployment by week 13): within 1.5 pp over the first 8 weeks (0.3-0.9 pp measured
    // over seeds 2025 and 1-4 at this scale), within 3 pp over 26 (2.1-2.6 pp: the drift
    // docs/model.md's limitations describe), and output within 4 % (at most 2.3 %).
    let u0 = at(0).unemployment_rate;
    for (t, report) in reports.iter().enumerate() {
        let u = report.regions[usa].unemployment_rate;
        let bound = if t <= 8 { 0.015 } else { 0.03 };
        assert!((u - u0).abs() < bound, "week {t}: US unemployment {u:.3} against {u0:.3} at tick 0");
        let output = report.regions[usa].real_gdp / at(0).real_gdp;
        assert!((0.96..1.04).contains(&output), "week {t}: US real GDP at {output:.3} of tick 0");
    }
}

/// Financed trade imbalances (issue 22, second step): the flagship's regions run their
/// 2024 trade balances, financed by lending; the sum of net foreign assets is zero and
/// each region's change in them is its current account, to the cent, every tick (the
/// ledger checks both; a run that broke either would fail), and the deficit stays near
/// the data instead of draining the deficit region's money.
#[test]
fn trade_imbalances_are_financed_and_net_foreign_assets_close() {
    let sc = crate::common::embedded("us_china_2025").scaled(0.1).counterfactual();
    let (reports, sim) = crate::common::run(&sc, false, Some(104));
    let res = sim.residuals();
    assert_eq!((res.foreign_assets_worst, res.current_account_worst), (0, 0), "{res:?}");
    assert_eq!(res.money_worst, 0);
    let (usa, chn) = (sc.region_index("USA").unwrap(), sc.region_index("CHN").unwrap());
    let year = |r: usize, f: &dyn Fn(&tradesim::metrics::RegionRow) -> f64| {
        reports[52..].iter().map(|t| f(&t.regions[r])).sum::<f64>()
    };
    // About the data's balances (USA -1.2T, China +0.99T a year), from payments.
    let us_ca = year(usa, &|r| r.current_account);
    let cn_ca = year(chn, &|r| r.current_account);
    assert!((-1.5e12..-0.9e12).contains(&us_ca), "US current account {us_ca:e} a year");
    assert!((0.7e12..1.3e12).contains(&cn_ca), "China's current account {cn_ca:e} a year");
    // Financed by borrowing: what the USA borrows is about its deficit.
    let us_lent = year(usa, &|r| r.foreign_lending);
    assert!((us_lent / us_ca - 1.0).abs() < 0.1, "US borrowing {us_lent:e} against its deficit {us_ca:e}");
    for t in &reports {
        let sum: f64 = t.regions.iter().map(|r| r.net_foreign_assets).sum();
        let scale: f64 = t.regions.iter().map(|r| r.net_foreign_assets.abs()).sum::<f64>().max(1.0);
        assert!(sum.abs() <= 1e-9 * scale, "tick {}: net foreign assets sum to {sum}", t.tick);
    }
    let last = reports.last().unwrap();
    assert!(last.regions[usa].net_foreign_assets < -1.5e12, "{}", last.regions[usa].net_foreign_assets);
    assert!(last.regions[chn].net_foreign_assets > 1.0e12, "{}", last.regions[chn].net_foreign_assets);
    // The deficit region's money does not drain: its households' cash stays near its start.
    let cash = |t: &tradesim::metrics::TickReport| t.regions[usa].household_cash;
    let drift = cash(last) / cash(&reports[0]) - 1.0;
    assert!(drift.abs() < 0.1, "US household cash moved {drift:+.3} over two years");
}
