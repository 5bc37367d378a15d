//! Phase 4, household demand: each household sets a budget from smoothed income and cash,
//! splits it over consumer sectors (CES shares published in pricing) and, in each sector,
//! picks one of its known retailers by a logit draw on shelf price.
//!
//! A household pays for its orders when it places them. Matching refunds the unfilled part
//! at retailers that ration (`matching::refund_baskets`), so what a household pays in the
//! end is the filled part of its orders, as MODEL.md §4.6 says; paying up front only spares
//! a pass over every household in the weeks when no retailer rations.

use crate::agents::{AgentId, Budget, Cash, Household, KnownRetailers};
use crate::market::{Clock, Model, OrderBook, RetailerBoard};
use crate::rng::{DrawIndex, DrawKey, Purpose, Stream, pick_weighted};
use crate::scenario::Behaviour;
use crate::threads::{MIN_PARALLEL_HOUSEHOLDS, for_each_run_init};
use crate::units::Money;
use bevy_ecs::prelude::*;

/// The most known retailers per sector a scenario may give households (the schema's
/// limit, which the validator enforces).
pub const MAX_KNOWN: usize = crate::scenario::MAX_KNOWN_RETAILERS;

/// Budget = min(cash, consume_income × smoothed income + consume_wealth × cash); orders in
/// cents go to the chosen retailers' order tallies and are paid from cash at once.
pub fn plan_household_spending(
    clock: Res<Clock>,
    model: Res<Model>,
    rboard: Res<RetailerBoard>,
    book: Res<OrderBook>,
    mut households: Query<(&AgentId, &Household, &KnownRetailers, &mut Budget, &mut Cash)>,
) {
    let b = &model.scenario.behaviour;
    let orders = Orders::new(&model, clock.tick, &rboard);
    // Whole runs of households at a time (table slices), so that the pass pays no
    // per-household call or change-detection tick: nothing in tradesim reads change ticks.
    let min = MIN_PARALLEL_HOUSEHOLDS;
    for_each_run_init!(households, parallel_from = min, || book.retailer_ordered.local(), |tally, run| {
        let (ids, hhs, known, mut budgets, mut cash) = run;
        let (budgets, cash) = (budgets.bypass_change_detection(), cash.bypass_change_detection());
        let rows = ids.iter().zip(hhs).zip(known).zip(budgets).zip(cash);
        // Five adds a household: a tally that needs no touched blocks (every tally of
        // retailers up to 2^17 of them) takes them as plain adds to a slice.
        match tally.dense() {
            Some(sums) => spend(b, &orders, rows, |retailer, cents| sums[retailer] += cents),
            None => spend(b, &orders, rows, |retailer, cents| tally.add(retailer, cents)),
        }
    });
    book.retailer_ordered.settle();
}

/// One run of households sets its budgets and places its orders: `add(retailer, cents)`
/// for each order, paid from cash at once.
#[inline(always)]
fn spend<'r>(
    b: &Behaviour,
    orders: &Orders,
    rows: impl Iterator<Item = ((((&'r AgentId, &'r Household), &'r KnownRetailers), &'r mut Budget), &'r mut Cash)>,
    mut add: impl FnMut(usize, i64),
) {
    for ((((id, hh), known), budget), cash) in rows {
        let held = cash.0.0.max(0);
        let wish = b.consume_income * hh.income + b.consume_wealth * cash.0.units();
        budget.0 = Money(Money::floor_cents(wish * crate::units::CENTS_PER_UNIT).0.min(held));
        let mut ordered = 0;
        orders.each(*id, hh.region as usize, known, budget.0, |retailer, amount| {
            add(retailer as usize, amount.0);
            ordered += amount.0;
        });
        cash.0 -= Money(ordered);
    }
}

/// What households' orders this tick depend on besides their own state: the retailer
/// choice draws, retailers' appeal and the sector budget shares. Demand places orders
/// through it, and matching's refunds walk the very same orders again from it (none of
/// these change in between), so a household's choices need not be stored.
pub struct Orders<'a> {
    stream: Stream,
    /// One premixed draw index per consumer sector.
    draws: Vec<DrawIndex>,
    appeal: &'a [f64],
    /// Budget shares by `[region][consumer slot]`.
    shares: &'a [f64],
    consumer_sectors: usize,
}

impl<'a> Orders<'a> {
    pub fn new(model: &Model, tick: u32, rboard: &'a RetailerBoard) -> Orders<'a> {
        let nc = model.consumer_sectors.len();
        Orders {
            stream: Stream::new(model.scenario.seed, tick as u64, Purpose::RetailerChoice),
            draws: (0..nc as u64).map(DrawIndex::new).collect(),
            appeal: &rboard.appeal,
            shares: &rboard.sector_share,
            consumer_sectors: nc,
        }
    }

    /// Calls `order(retailer, amount)` for each consumer sector in which household `id` of
    /// `region` orders this tick with `budget`: `amount` is the sector's part of the budget
    /// ([`sector_amount`]) and `retailer` the one its draw picks among those it knows.
    #[inline]
    pub fn each(
        &self,
        id: AgentId,
        region: usize,
        known: &KnownRetailers,
        budget: Money,
        order: impl FnMut(u32, Money),
    ) {
        self.walk(id, region, known, budget, |_| true, order);
    }

    /// [`Orders::each`] for only the consumer sectors `k` with `sectors[k]` (one flag per
    /// consumer sector): the orders in those sectors are the same, the others are skipped
    /// without drawing (each sector has its own draw).
    #[inline]
    pub fn each_in(
        &self,
        id: AgentId,
        region: usize,
        known: &KnownRetailers,
        budget: Money,
        sectors: &[bool],
        order: impl FnMut(u32, Money),
    ) {
        if sectors.contains(&true) {
            self.walk(id, region, known, budget, |k| sectors[k], order);
        }
    }

    #[inline]
    fn walk(
        &self,
        id: AgentId,
        region: usize,
        known: &KnownRetailers,
        budget: Money,
        wanted: impl Fn(usize) -> bool,
        order: impl FnMut(u32, Money),
    ) {
        let key = self.stream.key(id.0);
        let nc = self.consumer_sectors;
        let shares = &self.shares[region * nc..][..nc];
        let all = known.all();
        debug_assert_eq!(all.len(), known.per_sector() * nc, "known retailers for every consumer sector");
        // Three known retailers per sector (the default, and the flagship's) take the pick
        // written out for three; any other count the general loop. Both make the same pick.
        match known.per_sector() {
            3 => {
                let sectors = all.as_chunks::<3>().0.iter();
                self.sectors(key, shares, sectors, budget, wanted, order, |known, u| {
                    pick_of_three(weights(known, self.appeal), u)
                });
            }
            0 => {}
            n => {
                let sectors = all.chunks_exact(n);
                self.sectors(key, shares, sectors, budget, wanted, order, |known, u| {
                    pick_known_general(known, self.appeal, u)
                });
            }
        }
    }

    /// The loop of [`Orders::walk`] over consumer sectors, each with its known retailers
    /// (`K` is `[u32; 3]` or `[u32]`) picked from by `pick`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn sectors<'k, K: AsRef<[u32]> + ?Sized + 'k>(
        &self,
        key: DrawKey,
        shares: &[f64],
        sectors: impl Iterator<Item = &'k K>,
        budget: Money,
        wanted: impl Fn(usize) -> bool,
        mut order: impl FnMut(u32, Money),
        pick: impl Fn(&K, f64) -> Option<usize>,
    ) {
        for (k, ((&share, known), &draw)) in shares.iter().zip(sectors).zip(&self.draws).enumerate() {
            if !wanted(k) {
                continue;
            }
            let amount = sector_amount(budget, share);
            if !amount.is_positive() {
                continue;
            }
            if let Some(i) = pick(known, key.uniform_at(draw)) {
                order(known.as_ref()[i], amount);
            }
        }
    }
}

/// The weights of three known retailers: their appeal, 0 for an empty slot.
#[inline]
fn weights(known: &[u32; 3], appeal: &[f64]) -> [f64; 3] {
    known.map(|j| retailer_weight(appeal, j))
}

/// Which of its `known` retailers (`NONE` slots never) a household picks with the uniform
/// draw `u`, a pick weighted by each retailer's appeal: the general loop, for any number
/// of known retailers (three take [`pick_of_three`], which makes the same pick).
fn pick_known_general(known: &[u32], appeal: &[f64], u: f64) -> Option<usize> {
    let mut weights = [0.0f64; MAX_KNOWN];
    let weights = &mut weights[..known.len()];
    for (w, &j) in weights.iter_mut().zip(known) {
        *w = retailer_weight(appeal, j);
    }
    pick_weighted(weights, u)
}

/// [`pick_weighted`] of three weights that are finite and not negative, as retailers'
/// appeal always is: the same running sums in the same order, so the same pick, without
/// the checks for weights that cannot occur.
///
/// The pick is the number of running sums at or below `target`, counted without branches
/// (which way a draw falls cannot be predicted). Below the total only the first two sums
/// can be, and the one they point past has weight; only when rounding lifts `target` to
/// the total (u within an ulp of 1) is the pick the last retailer with weight, on a branch
/// that is all but never taken.
#[inline]
fn pick_of_three(w: [f64; 3], u: f64) -> Option<usize> {
    debug_assert!(w.iter().all(|x| x.is_finite() && *x >= 0.0), "unusable appeal {w:?}");
    let first_two = w[0] + w[1];
    let total = first_two + w[2];
    if total <= 0.0 || total.is_nan() {
        return None;
    }
    let target = u * total;
    // Written this way round so that a target that is not a number (u = 0 with a total
    // that overflowed) counts no sums, as the count of three does.
    if total <= target {
        Some(if w[2] > 0.0 {
            2
        } else if w[1] > 0.0 {
            1
        } else {
            0
        })
    } else {
        Some((w[0] <= target) as usize + (first_two <= target) as usize)
    }
}

/// A known retailer's weight in the pick: its appeal, 0 for an empty slot (`NONE` is past
/// the end of the board, so one comparison serves for both).
#[inline]
fn retailer_weight(appeal: &[f64], j: u32) -> f64 {
    appeal.get(j as usize).copied().unwrap_or(0.0)
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
    use crate::market::NONE;

    #[test]
    fn the_three_retailer_pick_is_the_general_pick() {
        // Appeal as the board holds it: finite, not negative, clamped to [1e-300, 1e300] or 0.
        let appeal = [0.0, 1.0, 0.5, 2.0, 1e-300, 1e300, 3.0, 1e300, 0.0, 1e-300];
        for case in 0..20_000u64 {
            let key = DrawKey::new(1, case, 0, Purpose::Build);
            let known: Vec<u32> = (0..3)
                .map(|i| if key.uniform(i) < 0.2 { NONE } else { key.below(10 + i, appeal.len() as u64) as u32 })
                .collect();
            let three: [u32; 3] = known.clone().try_into().unwrap();
            for u in [key.uniform(99), 0.0, 0.5, 1.0 - f64::EPSILON / 2.0] {
                let fast = pick_of_three(weights(&three, &appeal), u);
                assert_eq!(fast, pick_known_general(&known, &appeal, u), "{known:?} {u}");
            }
        }
    }
}
