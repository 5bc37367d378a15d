//! One focused test per mechanism, each on the tiny three-region world of `crate::common::tiny`:
//! HOME (0) buys GOODS (sector 0) from itself, PARTNER (1) and THIRD (2).

use crate::common::*;
use tradesim::agents::producer::Production;
use tradesim::agents::{Household, Producer, Purchasing, Staff};
use tradesim::market::ProducerBoard;

const HOME: usize = 0;
const PARTNER: usize = 1;
const THIRD: usize = 2;
const GOODS: usize = 0;

/// A HOME tariff on PARTNER's goods: `set` from `effective` (tick 9 = 2024-03-04 unless given).
fn tariff_event(set: f64, extra: &str) -> String {
    format!(
        r#"
[[events]]
name = "tariff"
government = "HOME"
partner = "PARTNER"
sectors = ["GOODS"]
effective = 2024-03-04
set = {set}
{extra}
"#
    )
}

fn trade_row(r: &tradesim::metrics::TickReport, importer: usize, exporter: usize) -> tradesim::metrics::TradeRow {
    r.trade.iter().find(|t| t.importer == importer && t.exporter == exporter && t.sector == GOODS).cloned().unwrap()
}

#[test]
fn tariff_raises_the_landed_price_by_the_tariff_when_absorption_is_zero() {
    for (absorption, expect_fob) in [(0.0, 1.0), (0.5, 1.5f64.powf(-0.5))] {
        let sc = scenario(&tiny(&format!("exporter_absorption = {absorption}"), &tariff_event(0.5, "")));
        let (s, _) = run(&sc, true, Some(10));
        let (c, _) = run(&sc, false, Some(10));
        let (ts, tc) = (trade_row(&s[9], HOME, PARTNER), trade_row(&c[9], HOME, PARTNER));
        assert_eq!(ts.tariff_rate, 0.5);
        let fob_ratio = ts.fob_price / tc.fob_price;
        assert!((fob_ratio - expect_fob).abs() < 1e-9, "absorption {absorption}: fob ratio {fob_ratio}");
        let landed_ratio = ts.landed_price / tc.landed_price;
        let expected = expect_fob * 1.5;
        assert!(
            (landed_ratio - expected).abs() < 1e-9,
            "absorption {absorption}: landed ratio {landed_ratio}, want {expected}"
        );
    }
}

/// A destination where an exporter absorbs part of a tariff gets a row of prices of its
/// own, net of what is absorbed; the others share the producers' own prices.
#[test]
fn only_a_destination_with_absorbed_tariffs_has_prices_of_its_own() {
    let sc = scenario(&tiny("exporter_absorption = 0.5", &tariff_event(0.5, "")));
    let (_, mut sim) = run(&sc, true, Some(10));
    let world = sim.world_mut();
    let board = world.resource::<ProducerBoard>();
    assert_ne!(board.fob_row_of[HOME], 0, "HOME taxes PARTNER's goods, which PARTNER partly absorbs");
    assert!(board.fob_row_of.iter().enumerate().all(|(d, &row)| d == HOME || row == 0), "{:?}", board.fob_row_of);
    let kept = 1.5f64.powf(-0.5);
    let mut partner_goods = 0;
    for p in 0..board.price.len() as u32 {
        let own = board.price[p as usize];
        for d in [PARTNER, THIRD] {
            assert_eq!(board.fob(p, d), own, "producer {p} to {d}");
        }
        let taxed = board.region[p as usize] as usize == PARTNER && board.sector[p as usize] as usize == GOODS;
        let expected = if taxed { own * kept } else { own };
        assert!(
            (board.fob(p, HOME) - expected).abs() <= 1e-12 * own,
            "producer {p}: {} for {expected}",
            board.fob(p, HOME)
        );
        partner_goods += taxed as usize;
    }
    assert!(partner_goods > 0);
}

/// When the absorbed tariff is lifted, its destination goes back to the shared prices.
#[test]
fn a_destination_shares_prices_again_once_its_absorbed_tariff_is_lifted() {
    let lifted = "[[events]]\nname = \"lifted\"\ngovernment = \"HOME\"\npartner = \"PARTNER\"\n\
                  sectors = [\"GOODS\"]\neffective = 2024-04-01\nset = 0.0\n";
    let sc = scenario(&tiny("exporter_absorption = 0.5", &format!("{}{lifted}", tariff_event(0.5, ""))));
    let (_, mut sim) = run(&sc, true, Some(11));
    assert_ne!(sim.world().resource::<ProducerBoard>().fob_row_of[HOME], 0, "taxed and absorbed at tick 10");
    for _ in 11..16 {
        sim.step();
    }
    let board = sim.world().resource::<ProducerBoard>();
    assert!(board.fob_row_of.iter().all(|&row| row == 0), "{:?}", board.fob_row_of);
    assert_eq!(board.fob.len(), board.price.len());
    for p in 0..board.price.len() as u32 {
        assert_eq!(board.fob(p, HOME), board.price[p as usize], "producer {p}");
    }
}

#[test]
fn tariffs_are_assessed_at_arrival_with_grace_for_goods_already_shipped() {
    let sc = scenario(&tiny("", &tariff_event(0.5, "grace_until = 2024-03-31")));
    let (s, _) = run(&sc, true, Some(20));
    // Lead time is 3 weeks: arrivals in ticks 9..12 left before the change and arrive by
    // 31 March (tick 12), so they pay the old rate (0); later arrivals pay 50%.
    for r in &s[9..12] {
        let t = trade_row(r, HOME, PARTNER);
        assert!(t.value > 0.0, "tick {}: no arrivals", r.tick);
        assert_eq!(t.tariff_paid, 0.0, "tick {}: goods in grace paid {}", r.tick, t.tariff_paid);
    }
    for r in &s[13..20] {
        let t = trade_row(r, HOME, PARTNER);
        if t.value > 0.0 {
            let rate = t.tariff_paid / t.value;
            assert!((rate - 0.5).abs() < 1e-6, "tick {}: effective rate {rate}", r.tick);
        }
    }
}

/// Each firm's staff is the households employed there, counted after weeks in which some
/// households were laid off and others hired (firms keep their staff by those moves).
#[test]
fn firms_staff_is_the_households_they_employ_after_layoffs_and_hires() {
    // A large tariff on PARTNER's goods moves workers between HOME's firms and PARTNER's.
    let sc = scenario(&tiny("", &tariff_event(1.0, "")));
    let mut sim = tradesim::Simulation::new(std::sync::Arc::new(sc), true);
    let employers = |sim: &mut tradesim::Simulation| -> Vec<u32> {
        let world = sim.world_mut();
        world.query::<&Household>().iter(world).map(|hh| hh.employer).collect()
    };
    let (mut laid_off, mut hired) = (0, 0);
    for _ in 0..30 {
        let before = employers(&mut sim);
        sim.step();
        for (was, now) in before.iter().zip(employers(&mut sim)) {
            laid_off += (*was != tradesim::market::NONE && now == tradesim::market::NONE) as u32;
            hired += (*was == tradesim::market::NONE && now != tradesim::market::NONE) as u32;
        }
    }
    assert!(laid_off > 0 && hired > 0, "{laid_off} laid off and {hired} hired: no moves to count");
    let world = sim.world_mut();
    let mut employed = std::collections::HashMap::<u32, u32>::new();
    for hh in world.query::<&Household>().iter(world) {
        *employed.entry(hh.employer).or_default() += 1;
    }
    let mut firms = 0;
    for staff in world.query::<&Staff>().iter(world) {
        assert_eq!(staff.workers, employed.get(&staff.employer).copied().unwrap_or(0), "employer {}", staff.employer);
        firms += 1;
    }
    assert!(firms > 0);
}

#[test]
fn rationing_splits_stock_proportionally_and_records_the_shortage() {
    // PARTNER's goods capacity is half its base demand: it must ration.
    let text =
        tiny("capacity_adjust = 0.0", "[[capacity]]\nregion = \"PARTNER\"\nsector = \"GOODS\"\nmultiplier = 0.5\n");
    let sc = scenario(&text);
    let (reports, mut sim) = run(&sc, true, Some(20));
    let world = sim.world_mut();
    let board = world.resource::<ProducerBoard>();
    let fill: Vec<f64> = board.fill_ratio.clone();
    let rationing: Vec<usize> = (0..fill.len()).filter(|&p| fill[p] < 0.999).collect();
    assert!(!rationing.is_empty(), "no producer rationed");
    // Sellers that fill every order are paid from the order tally, the others from the
    // payments tally: both kinds are here, and the revenues below check both.
    assert!(rationing.len() < fill.len(), "every producer rationed");
    // Every buyer of a seller gets the same fraction of its order, rounded down to the
    // cent: what each seller was paid is the sum of those fills over its buyers...
    let mut checked = 0;
    let mut paid_to = vec![0i64; fill.len()];
    let mut query = world.query::<&Purchasing>();
    for purchasing in query.iter(world) {
        for (li, line) in purchasing.lines.iter().enumerate() {
            let mut unfilled = 0;
            for slot in purchasing.suppliers.line(li).iter().filter(|s| s.order_cents > 0) {
                let f = fill[slot.producer as usize];
                let filled = (slot.order_cents as f64 * f).floor() as i64;
                paid_to[slot.producer as usize] += filled;
                unfilled += slot.order_cents - filled;
                if f < 0.999 {
                    checked += 1;
                }
            }
            // ...and the rest is the buyer's recorded shortage.
            assert_eq!(line.unfilled.0, unfilled);
        }
    }
    assert!(checked > 10, "only {checked} rationed orders seen");
    let mut producers = world.query::<(&Producer, &Production)>();
    for (p, prod) in producers.iter(world) {
        assert_eq!(prod.revenue, paid_to[p.idx as usize], "producer {} (fill {})", p.idx, fill[p.idx as usize]);
        // Sellers never ship more than they hold.
        assert!(prod.stock >= 0.0);
    }
    let shortage =
        reports.last().unwrap().sectors.iter().find(|s| s.region == HOME && s.sector == GOODS).unwrap().shortage_rate;
    assert!(shortage > 0.01, "HOME goods shortage {shortage}");
}

#[test]
fn an_announced_tariff_raises_orders_before_it_takes_effect_and_lowers_them_after() {
    let sc = scenario(&tiny("", &tariff_event(1.0, "announce = 2024-02-05")));
    let (s, _) = run(&sc, true, Some(24));
    let (c, _) = run(&sc, false, Some(24));
    // Announced at tick 5, effective at tick 9, lead 3: orders placed in ticks 5..=5 arrive in
    // 8..=8 under the old rate; orders from tick 6 on arrive at or after tick 9, under the new one.
    let before = |r: &[tradesim::metrics::TickReport]| mean(r, 8..10, |x| imports(x, HOME, PARTNER, GOODS));
    let after = |r: &[tradesim::metrics::TickReport]| mean(r, 16..24, |x| imports(x, HOME, PARTNER, GOODS));
    assert!(before(&s) > 1.05 * before(&c), "front-loading: {} vs {}", before(&s), before(&c));
    assert!(after(&s) < 0.8 * after(&c), "after: {} vs {}", after(&s), after(&c));
}

#[test]
fn a_cheaper_third_country_supplier_gains_share_after_a_tariff() {
    let sc = scenario(&tiny("", &tariff_event(0.8, "")));
    let (s, _) = run(&sc, true, Some(40));
    let (c, _) = run(&sc, false, Some(40));
    let third = |r: &[tradesim::metrics::TickReport]| mean(r, 20..40, |x| imports(x, HOME, THIRD, GOODS));
    let partner = |r: &[tradesim::metrics::TickReport]| mean(r, 20..40, |x| imports(x, HOME, PARTNER, GOODS));
    assert!(third(&s) > 1.2 * third(&c), "THIRD: {} vs {}", third(&s), third(&c));
    assert!(partner(&s) < 0.5 * partner(&c), "PARTNER: {} vs {}", partner(&s), partner(&c));
}

#[test]
fn a_boycott_stops_purchases_from_the_partner() {
    let event = r#"
[[events]]
name = "boycott"
kind = "boycott"
government = "HOME"
partner = "PARTNER"
sectors = ["GOODS"]
effective = 2024-03-04
share = 1.0
"#;
    let sc = scenario(&tiny("", event));
    let (s, _) = run(&sc, true, Some(20));
    // Orders stop at tick 9; the last shipments land 3 weeks later.
    for r in &s[12..20] {
        assert_eq!(imports(r, HOME, PARTNER, GOODS), 0.0, "tick {}", r.tick);
    }
    assert!(s[11].policy.is_empty() && s[9].policy.iter().any(|p| p.instrument == "boycott" && p.new == 1.0));
}

#[test]
fn tit_for_tat_answers_after_its_lag_and_respects_its_cap() {
    let rest = r#"
[[events]]
name = "first increase"
government = "HOME"
partner = "PARTNER"
effective = 2024-03-04
add = 0.4

[[events]]
name = "second increase"
government = "HOME"
partner = "PARTNER"
effective = 2024-05-13
add = 0.2

[[rules]]
name = "answer"
kind = "tit_for_tat"
government = "PARTNER"
partner = "HOME"
lag_weeks = 3
match = 1.0
cap = 0.3
"#;
    let sc = scenario(&tiny("", rest));
    let (s, _) = run(&sc, true, Some(30));
    let answers: Vec<_> = s.iter().flat_map(|r| r.policy.iter()).filter(|p| p.government == PARTNER).collect();
    // HOME moves at tick 9; PARTNER answers 3 ticks later, capped at 30%.
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].tick, 12);
    assert_eq!(answers[0].new, 0.3);
    assert!(answers[0].cause.contains("tit_for_tat"), "{}", answers[0].cause);
    // The second increase (tick 19) finds PARTNER at its cap: no further change.
    assert!(s.iter().any(|r| r.tick == 19 && r.policy.iter().any(|p| p.government == HOME)));
}

/// HOME and THIRD have little spare goods capacity (6%), so when a prohibitive tariff
/// diverts HOME's purchases away from PARTNER, HOME runs short.
#[test]
fn a_shortage_exemption_fires_after_its_window() {
    let threshold = 0.02;
    let rest = format!(
        r#"
[[capacity]]
region = "HOME"
sector = "GOODS"
multiplier = 0.85

[[capacity]]
region = "THIRD"
sector = "GOODS"
multiplier = 0.85

{}

[[rules]]
name = "exempt goods"
kind = "shortage_exemption"
government = "HOME"
partner = "PARTNER"
sectors = ["GOODS"]
threshold = {threshold}
window_weeks = 3
exempt_rate = 0.0
"#,
        tariff_event(3.0, "")
    );
    let sc = scenario(&tiny("capacity_adjust = 0.0", &rest));
    let (s, _) = run(&sc, true, Some(40));
    let shortage =
        |t: u32| s[t as usize].sectors.iter().find(|x| x.region == HOME && x.sector == GOODS).unwrap().shortage_rate;
    let fired = s
        .iter()
        .flat_map(|r| r.policy.iter())
        .find(|p| p.cause.contains("shortage_exemption"))
        .unwrap_or_else(|| panic!("never fired; shortages: {:?}", (0..40).map(shortage).collect::<Vec<_>>()));
    assert_eq!((fired.government, fired.partner, fired.sector, fired.new), (HOME, PARTNER, GOODS, 0.0));
    // Rules see last tick's data: the three ticks before it fired were all above threshold,
    // and no earlier run of three was.
    let t = fired.tick;
    assert!((t - 3..t).all(|k| shortage(k) > threshold), "{:?}", (t - 4..t).map(shortage).collect::<Vec<_>>());
    assert!((0..t - 1).all(|k| k < 2 || !(k - 2..=k).all(|j| shortage(j) > threshold)));
    assert!(t > 9, "fired before the tariff at tick {t}");
}

#[test]
fn tariff_revenue_is_recycled_by_the_government_rule() {
    let rest = tariff_event(0.5, "");
    for (rule, holds) in [
        ("recycling = \"hold\"", true),
        ("recycling = \"lump_sum\"", false),
        ("recycling = \"sector_aid\"\naid_sector = \"GOODS\"", false),
    ] {
        let text = tiny("", &rest).replacen(
            "producers_per_sector = 12\nretailers_per_sector = 6",
            &format!("producers_per_sector = 12\nretailers_per_sector = 6\n{rule}"),
            1,
        );
        let sc = scenario(&text);
        let (s, _) = run(&sc, true, Some(20));
        let revenue: f64 = s.iter().map(|r| r.regions[HOME].tariff_revenue).sum();
        let held = s.last().unwrap().regions[HOME].government_cash;
        assert!(revenue > 0.0);
        if holds {
            assert!((held - revenue).abs() < 0.01, "{rule}: held {held} of {revenue}");
        } else {
            // Everything is paid out but the remainder of an equal split (< 1 cent per recipient).
            assert!(held < 10.0, "{rule}: still holds {held} of {revenue}");
        }
    }
}

#[test]
fn a_second_change_in_the_same_week_keeps_the_first_ones_grace() {
    // The US reciprocal tariff pattern: +34 pp with grace, then +91 pp the next day.
    let rest = r#"
[[events]]
name = "first step, with grace"
government = "HOME"
partner = "PARTNER"
sectors = ["GOODS"]
effective = 2024-03-04
grace_until = 2024-03-31
add = 0.34

[[events]]
name = "second step, same week"
government = "HOME"
partner = "PARTNER"
sectors = ["GOODS"]
effective = 2024-03-05
add = 0.91
"#;
    let sc = scenario(&tiny("", rest));
    let (s, _) = run(&sc, true, Some(16));
    for r in &s[9..12] {
        let t = trade_row(r, HOME, PARTNER);
        assert!(t.value > 0.0 && t.tariff_paid == 0.0, "tick {}: goods in grace paid {}", r.tick, t.tariff_paid);
        assert!((t.tariff_rate - 1.25).abs() < 1e-12);
    }
    let late = trade_row(&s[14], HOME, PARTNER);
    assert!(late.value == 0.0 || (late.tariff_paid / late.value - 1.25).abs() < 1e-6, "{late:?}");
}

#[test]
fn announced_increases_of_one_cell_add_up() {
    let rest = r#"
[[events]]
name = "first step"
government = "HOME"
partner = "PARTNER"
sectors = ["GOODS"]
announce = 2024-02-05
effective = 2024-03-04
add = 0.2

[[events]]
name = "second step"
government = "HOME"
partner = "PARTNER"
sectors = ["GOODS"]
announce = 2024-02-05
effective = 2024-03-18
add = 0.3
"#;
    let sc = scenario(&tiny("", rest));
    let (_, sim) = run(&sc, true, Some(6));
    let table = sim.world().resource::<tradesim::market::TariffTable>();
    let mut announced: Vec<(u32, f64)> =
        table.announced.iter().filter(|a| a.sector == GOODS).map(|a| (a.effective_tick, a.new_rate)).collect();
    announced.sort_by_key(|a| a.0);
    assert_eq!(announced, vec![(9, 0.2), (11, 0.5)]);
    // A shipment arriving after both steps expects the sum of both.
    assert_eq!(table.expected_rate(HOME, PARTNER, GOODS, 5, 10), 0.5);
    assert_eq!(table.expected_rate(HOME, PARTNER, GOODS, 5, 4), 0.2);
    assert_eq!(table.expected_rate(HOME, PARTNER, GOODS, 5, 3), 0.0);
}

#[test]
fn households_pay_only_for_what_rationing_retailers_fill() {
    // Goods capacity everywhere at a third of base demand, shops with little cover and no
    // scarcity pricing: HOME's shops run short. Without dividends or capital calls, what
    // households hold changes by their income less what retailers were paid (checked to
    // float precision of the region's cash), and money is conserved to the cent.
    let text = tiny(
        "capacity_adjust = 0.0\ndividend_rate = 0.0\nretail_cover_weeks = 0.2\nscarcity_pricing = 0.0",
        "[[capacity]]\nregion = \"HOME\"\nsector = \"GOODS\"\nmultiplier = 0.33\n\
         [[capacity]]\nregion = \"PARTNER\"\nsector = \"GOODS\"\nmultiplier = 0.33\n\
         [[capacity]]\nregion = \"THIRD\"\nsector = \"GOODS\"\nmultiplier = 0.33\n",
    );
    let sc = scenario(&text);
    let (reports, sim) = run(&sc, true, Some(30));
    let home: Vec<_> = reports.iter().map(|r| r.regions[HOME].clone()).collect();
    let short = home.iter().filter(|r| r.shortage_rate > 0.01).count();
    assert!(short >= 3, "HOME households were short in only {short} weeks");
    for w in home.windows(2) {
        let change = w[1].household_cash - w[0].household_cash;
        let expected = w[1].household_income - w[1].consumption;
        assert!(
            (change - expected).abs() <= 1e-9 * w[1].household_cash.abs().max(1.0),
            "households' cash moved by {change}, income less spending is {expected} (shortage {})",
            w[1].shortage_rate
        );
    }
    assert_eq!(sim.residuals().money_worst, 0);
}

#[test]
fn buyers_are_built_with_room_for_exactly_the_shipments_their_suppliers_keep_in_transit() {
    // No search, so no buyer changes suppliers and what is in transit follows the build.
    let sc = scenario(&tiny("search_prob = 0.0", ""));
    let mut sim = tradesim::Simulation::new(std::sync::Arc::new(sc.clone()), true);
    let capacity = |sim: &mut tradesim::Simulation| -> Vec<usize> {
        let world = sim.world_mut();
        world.query::<&Purchasing>().iter(world).map(|p| p.shipments.capacity()).collect()
    };
    let built = capacity(&mut sim);
    assert!(built.iter().any(|&c| c > 0), "some buyer has foreign suppliers");
    let mut most = vec![0; built.len()];
    for _ in 0..12 {
        sim.step();
        let world = sim.world_mut();
        for (m, p) in most.iter_mut().zip(world.query::<&Purchasing>().iter(world)) {
            *m = (*m).max(p.shipments.len());
        }
    }
    // Each foreign supplier keeps one shipment a week of its lead time on the way: the
    // room laid out at build is what the buyers came to hold, and none had to move them.
    assert_eq!(capacity(&mut sim), built, "a buyer's shipments outgrew their room");
    assert_eq!(most, built, "buyers' most shipments in transit against the room laid out for them");
}
