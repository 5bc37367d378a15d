//! Phase 4, household demand: each household sets a budget from smoothed income and cash,
//! splits it over consumer sectors (CES shares published in pricing) and, in each sector,
//! picks one of its known retailers by a logit draw on shelf price.

use crate::agents::{AgentId, Cash, Household};
use crate::market::{Clock, Model, NONE, OrderBook, RetailerBoard};
use crate::rng::{Purpose, Stream, pick_weighted};
use crate::units::Money;
use bevy_ecs::prelude::*;

/// The most known retailers per sector a scenario may give households.
pub const MAX_KNOWN: usize = 32;

/// Budget = min(cash, consume_income × smoothed income + consume_wealth × cash); orders in
/// cents go to the chosen retailers' order tallies.
pub fn plan_household_spending(
    clock: Res<Clock>,
    model: Res<Model>,
    rboard: Res<RetailerBoard>,
    book: Res<OrderBook>,
    mut households: Query<(&AgentId, &mut Household, &Cash)>,
) {
    let sc = &*model.scenario;
    let b = &sc.behaviour;
    let nc = model.consumer_sectors.len();
    let k_known = b.known_retailers as usize;
    let stream = Stream::new(sc.seed, clock.tick as u64, Purpose::RetailerChoice);
    households.par_iter_mut().for_each_init(
        || book.retailer_ordered.local(),
        |orders, (id, mut hh, cash)| {
            let hh = &mut *hh;
            let r = hh.region as usize;
            let held = cash.0.0.max(0);
            let wish = b.consume_income * hh.income + b.consume_wealth * cash.0.units();
            let budget = Money::floor_cents(wish * crate::units::CENTS_PER_UNIT).0.min(held);
            let key = stream.key(id.0);
            let mut weights = [0.0f64; MAX_KNOWN];
            for k in 0..nc {
                let share = rboard.sector_share[r * nc + k];
                let amount = Money::floor_cents(budget as f64 * share);
                hh.basket[k] = (NONE, Money::ZERO);
                if !amount.is_positive() {
                    continue;
                }
                let known = &hh.known[k * k_known..(k + 1) * k_known];
                let weights = &mut weights[..k_known];
                for (w, &j) in weights.iter_mut().zip(known) {
                    *w = if j == NONE { 0.0 } else { rboard.appeal[j as usize] };
                }
                if let Some(i) = pick_weighted(weights, key.uniform(k as u64)) {
                    hh.basket[k] = (known[i], amount);
                    orders.add(known[i] as usize, amount.0);
                }
            }
        },
    );
}
