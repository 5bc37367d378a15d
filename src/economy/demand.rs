//! Phase 4, household demand: each household sets a budget from smoothed income and cash,
//! splits it over consumer sectors (CES shares published in pricing) and, in each sector,
//! picks one of its known retailers by a logit draw on shelf price.
//!
//! A household pays for its orders when it places them. Matching refunds the unfilled part
//! at retailers that ration (`matching::refund_baskets`), so what a household pays in the
//! end is the filled part of its orders, as MODEL.md §4.6 says; paying up front only spares
//! a pass over every household in the weeks when no retailer rations.

use crate::agents::{AgentId, Cash, Household, Shopping};
use crate::market::{Clock, Model, NONE, OrderBook, RetailerBoard};
use crate::rng::{DrawIndex, Purpose, Stream, pick_weighted};
use crate::units::Money;
use bevy_ecs::prelude::*;

/// The most known retailers per sector a scenario may give households.
pub const MAX_KNOWN: usize = 32;

/// Budget = min(cash, consume_income × smoothed income + consume_wealth × cash); orders in
/// cents go to the chosen retailers' order tallies and are paid from cash at once.
pub fn plan_household_spending(
    clock: Res<Clock>,
    model: Res<Model>,
    rboard: Res<RetailerBoard>,
    book: Res<OrderBook>,
    mut households: Query<(&AgentId, &Household, &mut Shopping, &mut Cash)>,
) {
    let sc = &*model.scenario;
    let b = &sc.behaviour;
    let nc = model.consumer_sectors.len();
    let stream = Stream::new(sc.seed, clock.tick as u64, Purpose::RetailerChoice);
    let draws: Vec<DrawIndex> = (0..nc as u64).map(DrawIndex::new).collect();
    households.par_iter_mut().for_each_init(
        || book.retailer_ordered.local(),
        |orders, (id, hh, mut shopping, mut cash)| {
            let shopping = &mut *shopping;
            let r = hh.region as usize;
            let held = cash.0.0.max(0);
            let wish = b.consume_income * hh.income + b.consume_wealth * cash.0.units();
            let budget = Money::floor_cents(wish * crate::units::CENTS_PER_UNIT).0.min(held);
            shopping.budget = Money(budget);
            let key = stream.key(id.0);
            let shares = &rboard.sector_share[r * nc..][..nc];
            let n = shopping.per_sector();
            let (known, choices) = shopping.known_and_choices_mut();
            let mut ordered = 0;
            for (k, (choice, &share)) in choices.iter_mut().zip(shares).enumerate() {
                *choice = NONE;
                let amount = sector_amount(Money(budget), share);
                if !amount.is_positive() {
                    continue;
                }
                let known = &known[k * n..(k + 1) * n];
                if let Some(i) = pick_known(known, &rboard.appeal, key.uniform_at(draws[k])) {
                    *choice = known[i];
                    orders.add(known[i] as usize, amount.0);
                    ordered += amount.0;
                }
            }
            cash.0 -= Money(ordered);
        },
    );
}

/// Which of its `known` retailers (`NONE` slots never) a household picks with the uniform
/// draw `u`: a pick weighted by each retailer's appeal.
#[inline]
pub fn pick_known(known: &[u32], appeal: &[f64], u: f64) -> Option<usize> {
    let weight = |j: u32| retailer_weight(appeal, j);
    // Three known retailers (the default, and the flagship's) fill a fixed-size buffer the
    // compiler unrolls; any other count takes the general loop. Both make the same pick.
    if let &[a, b, c] = known {
        pick_weighted(&[weight(a), weight(b), weight(c)], u)
    } else {
        pick_known_general(known, appeal, u)
    }
}

fn pick_known_general(known: &[u32], appeal: &[f64], u: f64) -> Option<usize> {
    let mut weights = [0.0f64; MAX_KNOWN];
    let weights = &mut weights[..known.len()];
    for (w, &j) in weights.iter_mut().zip(known) {
        *w = retailer_weight(appeal, j);
    }
    pick_weighted(weights, u)
}

/// A known retailer's weight in the pick: its appeal, 0 for an empty slot.
#[inline]
fn retailer_weight(appeal: &[f64], j: u32) -> f64 {
    if j == NONE { 0.0 } else { appeal[j as usize] }
}

/// What a household with `budget` orders in a sector with budget `share`: whole cents,
/// rounded down. Demand orders it and matching pays for its filled part, both from here.
#[inline]
pub fn sector_amount(budget: Money, share: f64) -> Money {
    Money::floor_cents(budget.0 as f64 * share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::DrawKey;

    #[test]
    fn the_three_retailer_pick_is_the_general_pick() {
        let appeal = [0.0, 1.0, 0.5, 2.0, 1e-300, f64::INFINITY, 3.0];
        for case in 0..20_000u64 {
            let key = DrawKey::new(1, case, 0, Purpose::Build);
            let known: Vec<u32> = (0..3)
                .map(|i| if key.uniform(i) < 0.2 { NONE } else { key.below(10 + i, appeal.len() as u64) as u32 })
                .collect();
            let u = key.uniform(99);
            assert_eq!(pick_known(&known, &appeal, u), pick_known_general(&known, &appeal, u), "{known:?} {u}");
        }
    }
}
