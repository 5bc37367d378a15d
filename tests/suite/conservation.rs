//! Money is conserved exactly and goods balance within 1e-9 (MODEL.md §3), over whole runs.

use crate::common::*;

fn check(name: &str, sc: &tradesim::Scenario) {
    for policy in [true, false] {
        let (reports, sim) = run(sc, policy, None);
        let res = sim.residuals();
        assert_eq!(
            res.money_worst, 0,
            "{name} (policy {policy}): money moved by {} cents at tick {:?}",
            res.money_worst, res.money_worst_tick
        );
        assert!(
            res.goods_worst < 1e-9,
            "{name} (policy {policy}): goods residual {} at tick {:?} sector {:?}",
            res.goods_worst,
            res.goods_worst_tick,
            res.goods_worst_sector
        );
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
