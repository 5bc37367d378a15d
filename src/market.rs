//! Shared, published state: what agents of one phase may read about agents of another.
//!
//! Agents write only their own components. Between phases, `publish_*` systems copy what
//! others need (prices, fill ratios, tariffs) into these boards (in parallel where the
//! board is long: `threads::publish`), so a parallel phase reads a snapshot and never
//! another agent's half-written state.
//! Cross-agent sums that agents contribute to in parallel are integer cents in
//! [`Tally`] slots: integer addition commutes, so the totals are identical for any thread
//! count and any order (MODEL.md §8).

use crate::scenario::Scenario;
use crate::units::Money;
use bevy_ecs::prelude::*;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Marks "no agent" in dense index slots (defined with the agents, whose slots hold it).
pub use crate::agents::NONE;
/// One tariff cell's recent change, for in-transit grace (a government's own record).
pub use crate::agents::government::Grace;

/// The current tick.
#[derive(Resource, Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Clock {
    pub tick: u32,
}

/// A vector of integer counters that agents add to in parallel.
///
/// Agents in a parallel loop add through a [`LocalTally`] (one per batch, from
/// [`Tally::local`]), which sums privately; a locked add per agent and counter would
/// serialise memory traffic on every core. When the loop is over, [`Tally::settle`] adds
/// every batch's sums into the counters, in parallel over runs of counters (each run is
/// one task's alone, so no add needs a lock). Integer sums commute, so the totals do not
/// depend on batching.
#[derive(Debug, Default)]
pub struct Tally {
    slots: Vec<AtomicI64>,
    /// Sums of finished batches not yet added to `slots` (see [`Tally::settle`]).
    pending: Mutex<Vec<Sums>>,
    /// How many batches are in `pending`: what reads check, without taking the lock.
    unsettled: AtomicUsize,
    /// Zeroed buffers of settled batches, reused by the next ones.
    spare: Mutex<Vec<Sums>>,
}

/// One batch's sums: a value per slot, and one bit per block of [`TALLY_BLOCK`] slots it
/// added to (no bits for a tally of at most [`DENSE_TALLY`] slots, which settles them all).
#[derive(Debug, Default)]
struct Sums {
    values: Vec<i64>,
    touched: Vec<u64>,
}

/// Slots per block of a [`LocalTally`]'s touched-block bitmap.
const TALLY_BLOCK: usize = 64;

/// Slots per bitmap word: the runs [`Tally::settle`] hands to tasks are whole words.
const WORD_SLOTS: usize = TALLY_BLOCK * 64;

/// Tallies up to this long settle every slot of a batch and keep no bitmap: scanning them
/// costs less than marking blocks on every add.
const DENSE_TALLY: usize = 1 << 17;

/// Slots per task when settling (a multiple of [`WORD_SLOTS`]).
const SETTLE_RUN: usize = 16 * WORD_SLOTS;

impl Tally {
    pub fn new(len: usize) -> Tally {
        Tally { slots: (0..len).map(|_| AtomicI64::new(0)).collect(), ..Default::default() }
    }
    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        debug_assert_eq!(self.unsettled.load(Ordering::Relaxed), 0, "a tally read before its batches were settled");
        self.slots[i].load(Ordering::Relaxed)
    }

    /// Zeroes every counter (large tallies in parallel chunks).
    pub fn clear(&mut self) {
        debug_assert_eq!(*self.unsettled.get_mut(), 0, "a tally cleared with batches never settled");
        crate::threads::par_chunks_mut(&mut self.slots, 1 << 16, |_, slots| {
            for s in slots {
                *s.get_mut() = 0;
            }
        });
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Vec<Sums>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_spare(&self) -> std::sync::MutexGuard<'_, Vec<Sums>> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A private accumulator for one batch of a parallel loop; its sums reach this tally at
    /// the next [`Tally::settle`].
    pub fn local(&self) -> LocalTally<'_> {
        let sums = self.lock_spare().pop().unwrap_or_else(|| {
            let blocks = if self.slots.len() <= DENSE_TALLY { 0 } else { self.slots.len().div_ceil(TALLY_BLOCK) };
            Sums { values: vec![0; self.slots.len()], touched: vec![0; blocks.div_ceil(64)] }
        });
        LocalTally { tally: self, sums }
    }

    /// Adds the sums of every batch finished since the last call into the counters, and
    /// zeroes the batches' buffers for reuse. Every pass that adds through [`Tally::local`]
    /// calls this when its loop is over; reading a counter before then is a bug (checked
    /// in debug builds).
    pub fn settle(&self) {
        // The lock is held to the end: two settles of one tally at once would race on the
        // counters (the schedule never runs them so, but nothing else would stop it).
        let mut pending = self.lock_pending();
        let mut batches = std::mem::take(&mut *pending);
        self.unsettled.store(0, Ordering::Relaxed);
        if batches.is_empty() {
            return;
        }
        // Each run of slots, with every batch's values and bitmap words for that run.
        let runs = self.slots.len().div_ceil(SETTLE_RUN);
        let mut parts: Vec<Vec<(&mut [i64], &mut [u64])>> = (0..runs).map(|_| Vec::new()).collect();
        const { assert!(SETTLE_RUN.is_multiple_of(WORD_SLOTS), "a run is whole bitmap words") };
        let words = SETTLE_RUN / WORD_SLOTS;
        for batch in &mut batches {
            let mut touched = batch.touched.chunks_mut(words);
            for (part, values) in parts.iter_mut().zip(batch.values.chunks_mut(SETTLE_RUN)) {
                part.push((values, touched.next().unwrap_or_default()));
            }
        }
        let settle_run = |first: usize, part: &mut Vec<(&mut [i64], &mut [u64])>| {
            let slots = &self.slots[first..];
            for (values, touched) in part.iter_mut() {
                if touched.is_empty() {
                    add_run(slots, values, 0, values.len());
                }
                for (w, word) in touched.iter_mut().enumerate() {
                    let mut bits = std::mem::take(word);
                    while bits != 0 {
                        let start = (w * 64 + bits.trailing_zeros() as usize) * TALLY_BLOCK;
                        bits &= bits - 1;
                        add_run(slots, values, start, (start + TALLY_BLOCK).min(values.len()));
                    }
                }
            }
        };
        if runs == 1 {
            settle_run(0, &mut parts[0]);
        } else {
            crate::threads::par_chunks_mut(&mut parts, 1, |k, part| settle_run(k * SETTLE_RUN, &mut part[0]));
        }
        drop(parts);
        self.lock_spare().extend(batches);
        drop(pending);
    }
}

/// Adds `values[start..end]` into `slots[start..end]` and zeroes them. The caller is the
/// only one adding to those slots, so a plain load and store serve.
#[inline]
fn add_run(slots: &[AtomicI64], values: &mut [i64], start: usize, end: usize) {
    for (slot, value) in slots[start..end].iter().zip(&mut values[start..end]) {
        let v = std::mem::take(value);
        if v != 0 {
            slot.store(slot.load(Ordering::Relaxed) + v, Ordering::Relaxed);
        }
    }
}

/// One batch's private sums for a [`Tally`]; handed to it when dropped.
pub struct LocalTally<'a> {
    tally: &'a Tally,
    sums: Sums,
}

impl LocalTally<'_> {
    /// Brings slot `i` into cache ahead of an [`LocalTally::add`] (see [`crate::cache`]).
    #[inline]
    pub fn prefetch(&self, i: usize) {
        crate::cache::prefetch(&self.sums.values, i);
    }

    #[inline]
    pub fn add(&mut self, i: usize, v: i64) {
        self.sums.values[i] += v;
        if !self.sums.touched.is_empty() {
            let block = i / TALLY_BLOCK;
            self.sums.touched[block / 64] |= 1 << (block % 64);
        }
    }

    /// The batch's sums as a plain slice, when the tally is small enough to settle every
    /// slot (at most 2^17, so no touched blocks to mark): adding `v` to slot `i` is then
    /// `sums[i] += v`, the same as [`LocalTally::add`] without its test for blocks. For a
    /// pass that adds many times per agent.
    #[inline]
    pub fn dense(&mut self) -> Option<&mut [i64]> {
        if self.sums.touched.is_empty() { Some(&mut self.sums.values) } else { None }
    }
}

impl Drop for LocalTally<'_> {
    fn drop(&mut self) {
        let sums = std::mem::take(&mut self.sums);
        let mut pending = self.tally.lock_pending();
        pending.push(sums);
        self.tally.unsettled.store(pending.len(), Ordering::Relaxed);
    }
}

/// Everything derived from the scenario at build time that systems read.
#[derive(Resource, Debug, Clone)]
pub struct Model {
    pub scenario: Arc<Scenario>,
    /// Whether scheduled events and reactive rules run (false in the counterfactual).
    pub policy_enabled: bool,
    pub n_regions: usize,
    pub n_sectors: usize,
    /// Consumer sectors in order; households hold one slot per entry.
    pub consumer_sectors: Vec<usize>,
    /// Base-period retail price by `[region][sector]` (CPI base).
    pub base_retail_price: Vec<f64>,
    /// Base-period landed (tariff- and transport-inclusive) price by `[importer][exporter][sector]`.
    pub base_landed_price: Vec<f64>,
    /// Base-period import values by `[importer][exporter][sector]` (import price index weights).
    pub base_import_value: Vec<f64>,
    /// Households per region.
    pub households: Vec<u32>,
    /// Labour market: worker-weeks per unit of output by `[region][sector]`.
    pub labour_per_unit: Vec<f64>,
    /// Retail worker-weeks per unit sold by `[region][sector]`.
    pub retail_labour_per_unit: Vec<f64>,
    /// Base-period weekly wage per worker by region, currency units.
    pub base_wage: Vec<f64>,
    /// Calibrated steady-state weekly household spending by region, currency units.
    pub base_consumption: Vec<f64>,
    /// Households' weekly gross income by region in the base period (value added: the
    /// base GDP, which differs from spending by the trade balance).
    pub base_income: Vec<f64>,
    /// Importers' scaling of foreign sourcing after trade balancing (1 = as written).
    pub import_propensity: Vec<f64>,
}

impl Model {
    #[inline]
    pub fn rs(&self, region: usize, sector: usize) -> usize {
        region * self.n_sectors + sector
    }
    #[inline]
    pub fn ies(&self, importer: usize, exporter: usize, sector: usize) -> usize {
        (importer * self.n_regions + exporter) * self.n_sectors + sector
    }
}

/// Weekly wage per worker by region, in cents (indexed to CPI when the scenario says so).
#[derive(Resource, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Wages {
    pub per_worker: Vec<Money>,
}

/// A tariff change announced but not yet in force (front-loading signal).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Announcement {
    pub importer: usize,
    pub exporter: usize,
    pub sector: usize,
    pub new_rate: f64,
    pub effective_tick: u32,
    pub grace_until: Option<u32>,
}

/// The tariff and boycott table in force for the whole tick, published after the policy
/// phase from the governments' schedules. Cells are `[importer][exporter][sector]`.
#[derive(Resource, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TariffTable {
    pub n_regions: usize,
    pub n_sectors: usize,
    pub rate: Vec<f64>,
    pub boycott: Vec<f64>,
    pub grace: Vec<Grace>,
    pub announced: Vec<Announcement>,
}

impl TariffTable {
    #[inline]
    pub fn cell(&self, importer: usize, exporter: usize, sector: usize) -> usize {
        (importer * self.n_regions + exporter) * self.n_sectors + sector
    }
    #[inline]
    pub fn rate(&self, importer: usize, exporter: usize, sector: usize) -> f64 {
        self.rate[self.cell(importer, exporter, sector)]
    }
    #[inline]
    pub fn boycott(&self, importer: usize, exporter: usize, sector: usize) -> f64 {
        self.boycott[self.cell(importer, exporter, sector)]
    }

    /// The rate a shipment pays at arrival: the rate in force, or, when it departed before
    /// the last change and arrives within that change's grace period, the previous rate if
    /// that is lower (grace never makes goods pay more).
    /// `departed` is signed: shipments of the opening pipeline left before tick 0.
    pub fn rate_at_arrival(&self, importer: usize, exporter: usize, sector: usize, departed: i64, now: u32) -> f64 {
        let c = self.cell(importer, exporter, sector);
        let g = self.grace[c];
        match g.until {
            Some(until) if departed < g.changed_at as i64 && now <= until => g.previous_rate.min(self.rate[c]),
            _ => self.rate[c],
        }
    }

    /// The rate a shipment leaving now from `exporter` to `importer` expects to pay when it
    /// arrives `lead` ticks later, given announcements (MODEL.md §4.5 front-loading).
    pub fn expected_rate(&self, importer: usize, exporter: usize, sector: usize, now: u32, lead: u32) -> f64 {
        let mut rate = self.rate(importer, exporter, sector);
        let arrival = now + lead;
        let mut latest = 0;
        for a in &self.announced {
            if a.importer == importer
                && a.exporter == exporter
                && a.sector == sector
                && a.effective_tick <= arrival
                && a.effective_tick >= latest
            {
                let graced = a.grace_until.is_some_and(|g| arrival <= g);
                if !graced {
                    rate = a.new_rate;
                    latest = a.effective_tick;
                }
            }
        }
        rate
    }
}

/// What buyers see of each producer, by producer index.
#[derive(Resource, Debug, Default)]
pub struct ProducerBoard {
    pub n_regions: usize,
    /// Region of each producer.
    pub region: Vec<u16>,
    /// Ex-works price of each producer.
    pub price: Vec<f64>,
    /// Sector of each producer.
    pub sector: Vec<u16>,
    /// Prices to destinations, in rows of one entry per producer: destination `d` reads
    /// row `fob_row_of[d]` ([`ProducerBoard::fob_row`]), so buyers of one region, which run
    /// one after another, read one contiguous block. Row 0 is every producer's own price
    /// and weight, which every destination where no exporter absorbs any tariff shares; a
    /// destination where some do has a row of its own. Buyers of all those destinations
    /// then read one block, which the caches hold once (in the flagship, whose tariffs
    /// all fall on imports into the USA and China, 3 rows for 7 destinations).
    pub fob: Vec<Fob>,
    /// Which row of `fob` each destination reads.
    pub fob_row_of: Vec<usize>,
    /// Capacity, units per tick (search skips producers without any).
    pub capacity: Vec<f64>,
    /// Share of orders filled this tick (set in matching).
    pub fill_ratio: Vec<f64>,
    /// Which producers fill less than every order this tick (`fill_ratio < 1`), one bit
    /// each, 64 to a word (set in matching with `fill_ratio`; see [`ProducerBoard::rations`]).
    pub rationing: Vec<u64>,
    /// Producers of each `[region][sector]`, as a range of indices.
    pub by_region_sector: Vec<std::ops::Range<u32>>,
}

impl ProducerBoard {
    #[inline]
    pub fn fob(&self, producer: u32, dest: usize) -> f64 {
        self.fob_row(dest)[producer as usize].price
    }
    /// Every producer's price to `dest`, by producer (the board's row for `dest`).
    #[inline]
    pub fn fob_row(&self, dest: usize) -> &[Fob] {
        let n = self.region.len();
        let row = self.fob_row_of[dest];
        &self.fob[row * n..(row + 1) * n]
    }

    /// Whether `producer` fills less than every order this tick. Most producers fill every
    /// order in most weeks, and a buyer reads this bit (the whole bitmap is 11 kB at the
    /// large preset) instead of the producer's fill ratio, which lies anywhere in the world.
    #[inline]
    pub fn rations(&self, producer: u32) -> bool {
        (self.rationing[producer as usize / 64] >> (producer % 64)) & 1 != 0
    }

    /// Sets [`ProducerBoard::rationing`] from `fill_ratio`.
    pub fn mark_rationing(&mut self) {
        self.rationing.clear();
        self.rationing.extend(
            self.fill_ratio.chunks(64).map(|c| c.iter().rev().fold(0u64, |bits, &f| (bits << 1) | (f < 1.0) as u64)),
        );
    }
}

/// A producer's price to one destination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fob {
    /// Ex-works price net of the absorbed share of the destination's tariff.
    pub price: f64,
    /// `price^(−source_elasticity)`: the producer's part of its logit weight in buyers'
    /// sourcing, computed once a tick instead of once per buyer and supplier.
    pub weight: f64,
}

/// What a unit from each origin costs a buyer of each region this tick, apart from the
/// producer's own price: `[importer][exporter][sector]`, computed once a tick (tariffs
/// expected at arrival, boycotts, announcements) so buyers only multiply.
#[derive(Resource, Debug, Default)]
pub struct Quotes {
    pub n_regions: usize,
    pub n_sectors: usize,
    pub cells: Vec<Quote>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Quote {
    /// Lead time in weeks (a whole number; a float for the share-weighted line lead).
    pub lead: f64,
    /// Units shipped per unit that arrives: 1 + transport cost (iceberg).
    pub shipped_per_unit: f64,
    /// Landed cost per unit of fob price: (1 + expected tariff) × (1 + transport).
    pub landed: f64,
    /// Armington-relative cost per unit of fob price: landed / base landed cost /
    /// (1 − boycott share); infinite when boycotted entirely.
    pub cost: f64,
    /// `cost^(−source_elasticity)` (0 when boycotted entirely).
    pub weight: f64,
    /// Increase of the tariff announced for after the supply would arrive.
    pub pending_increase: f64,
}

impl Quotes {
    #[inline]
    pub fn get(&self, importer: usize, exporter: usize, sector: usize) -> &Quote {
        &self.cells[(importer * self.n_regions + exporter) * self.n_sectors + sector]
    }
    /// The quotes of every `[exporter][sector]` for buyers in `importer`.
    #[inline]
    pub fn row(&self, importer: usize) -> &[Quote] {
        let n = self.n_regions * self.n_sectors;
        &self.cells[importer * n..(importer + 1) * n]
    }
}

/// What households see of each retailer, by retailer index.
#[derive(Resource, Debug, Default)]
pub struct RetailerBoard {
    pub price: Vec<f64>,
    /// Logit weight of the retailer in household choice: price^(-elasticity), clamped to
    /// [1e-300, 1e300], or 0. Always finite and never negative (demand's pick relies on it).
    pub appeal: Vec<f64>,
    pub fill_ratio: Vec<f64>,
    /// Households' budget share by `[region][consumer slot]` this tick.
    pub sector_share: Vec<f64>,
    /// Retailers of each `[region][sector]`, as a range of indices.
    pub by_region_sector: Vec<std::ops::Range<u32>>,
}

/// Orders and fills in cents, summed over buyers in parallel.
#[derive(Resource, Debug, Default)]
pub struct OrderBook {
    pub n_producers: usize,
    /// Cents ordered from each producer by buyers of each destination, `[dest][producer]`
    /// (see [`OrderBook::pd`]).
    pub producer_ordered: Tally,
    /// Cents paid to each producer that rationed for filled orders, `[dest][producer]`;
    /// read it only through [`OrderBook::producer_paid`].
    pub(crate) producer_filled: Tally,
    /// Cents households ordered from each retailer.
    pub retailer_ordered: Tally,
    /// Cents households paid each retailer that could not fill every order; read it only
    /// through [`OrderBook::retailer_paid`].
    pub(crate) retailer_filled: Tally,
}

impl OrderBook {
    /// Cents households paid retailer `r` this tick. A retailer that filled every order
    /// (fill ratio 1) was paid exactly what was ordered from it, so households add their
    /// payments to `retailer_filled` only at retailers that rationed.
    #[inline]
    pub fn retailer_paid(&self, r: usize, fill_ratio: f64) -> i64 {
        if fill_ratio >= 1.0 { self.retailer_ordered.get(r) } else { self.retailer_filled.get(r) }
    }

    /// Cents buyers in region `dest` paid `producer` this tick. A producer that filled
    /// every order (`rations` false, see [`ProducerBoard::rations`]) was paid exactly what
    /// was ordered from it, so buyers add their payments to `producer_filled` only at
    /// producers that rationed.
    #[inline]
    pub fn producer_paid(&self, producer: usize, dest: usize, rations: bool) -> i64 {
        let i = self.pd(producer, dest);
        if rations { self.producer_filled.get(i) } else { self.producer_ordered.get(i) }
    }

    /// Index of (producer, destination) in the producer tallies.
    #[inline]
    pub fn pd(&self, producer: usize, dest: usize) -> usize {
        dest * self.n_producers + producer
    }

    pub fn clear(&mut self) {
        self.producer_ordered.clear();
        self.producer_filled.clear();
        self.retailer_ordered.clear();
        self.retailer_filled.clear();
    }
}

/// Employers (producers first, then retailers) as the labour market and income phases see them.
#[derive(Resource, Debug, Default)]
pub struct EmployerBoard {
    pub region: Vec<u16>,
    /// Fraction of current staff laid off this tick.
    pub layoff_share: Vec<f64>,
    /// What each employer posted this tick (before the moves).
    pub postings: Vec<Posting>,
    /// Dividend per owning household this tick, cents.
    pub dividend_per_owner: Vec<i64>,
    /// Capital called from each owning household this tick, cents.
    pub capital_call_per_owner: Vec<i64>,
    /// Capital owners actually paid in this tick, by employer.
    pub capital_paid: Tally,
    /// Each employer's change of staff in this tick's moves: one less for each employee
    /// laid off, one more for each hire (the staff before the moves is in `postings`).
    pub staff_moves: Tally,
    /// For each region, employers with vacancies and the running total of vacancies,
    /// for a weighted draw by binary search.
    pub vacancy_cdf: Vec<Vec<(f64, u32)>>,
    /// Probability that an unemployed household of each region finds a job this tick.
    pub job_finding: Vec<f64>,
}

/// What an employer posts to the labour market in a tick.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Posting {
    /// Fraction of its staff it lays off.
    pub layoff_share: f64,
    /// Its staff before the moves.
    pub workers: u32,
    /// Vacancies it posts.
    pub vacancies: f64,
}

/// Per-region transfers paid this tick.
#[derive(Resource, Debug, Default, Clone)]
pub struct Transfers {
    /// Lump-sum transfer per household, cents, by region.
    pub per_household: Vec<i64>,
    /// Aid per producer of the aided sector, cents, by region; with the sector.
    pub aid_per_producer: Vec<(usize, i64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rationing bitmap marks exactly the producers with a fill ratio below one, across
    /// word boundaries and in a last word that is only partly used.
    #[test]
    fn rationing_bits_are_the_fill_ratios_below_one() {
        for n in [0usize, 1, 63, 64, 65, 130] {
            let fill: Vec<f64> =
                (0..n).map(|p| if p % 3 == 1 || p == 64 { 0.5 * (p % 2) as f64 } else { 1.0 }).collect();
            let mut board = ProducerBoard { fill_ratio: fill.clone(), ..Default::default() };
            board.rationing = vec![u64::MAX; 9];
            board.mark_rationing();
            assert_eq!(board.rationing.len(), n.div_ceil(64));
            for (p, &f) in fill.iter().enumerate() {
                assert_eq!(board.rations(p as u32), f < 1.0, "producer {p} of {n}, fill {f}");
            }
        }
    }

    /// Batches add in any pattern, reuse each other's buffers, and the totals are the plain
    /// sums, for a tally that settles every slot and for one that settles touched blocks.
    #[test]
    fn batch_tallies_sum_exactly() {
        for len in [0, 1, 63, 64, 65, 5_000, DENSE_TALLY, DENSE_TALLY + 1, 3 * DENSE_TALLY + 17] {
            let tally = Tally::new(len);
            let mut expected = vec![0i64; len];
            // Two rounds, so that the second reuses the first's settled buffers.
            for round in 0..2u64 {
                for batch in 0..4u64 {
                    let mut local = tally.local();
                    // Every other batch adds through the plain slice where the tally gives one.
                    let dense = batch % 2 == 1 && len <= DENSE_TALLY;
                    assert_eq!(local.dense().is_some(), len <= DENSE_TALLY, "len {len}");
                    for k in 0..(len as u64).min(2_000) {
                        let i = ((k * 7_919 + batch * 104_729 + round * 31) % len as u64) as usize;
                        let v = (k as i64 % 11) - 5;
                        match local.dense() {
                            Some(sums) if dense => sums[i] += v,
                            _ => local.add(i, v),
                        }
                        expected[i] += v;
                    }
                }
                tally.settle();
            }
            for (i, &e) in expected.iter().enumerate() {
                assert_eq!(tally.get(i), e, "len {len}, slot {i}");
            }
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "settled")]
    fn reading_an_unsettled_tally_is_caught() {
        let tally = Tally::new(8);
        tally.local().add(3, 5);
        tally.get(3);
    }
}
