//! Phase 5, ordering: retailers and producers forecast demand (exponential smoothing) and
//! order up to a target inventory position, forecast × (lead time + cover). Orders are split
//! across a buyer's suppliers by a logit on landed cost, price × (1 + tariff) × (1 + transport),
//! with the tariff expected at arrival. Occasionally a buyer samples a new supplier and
//! switches when it is cheaper by more than a threshold (trade diversion). Announced tariff
//! increases that land after a supply's arrival raise its target (front-loading).

use crate::agents::producer::{INPUTS_SUM_START, Production, inputs_at_replacement};
use crate::agents::{AgentId, INLINE_SUPPLIERS, InputLine, Producer, Purchasing, Retailer, Shelf, SupplierSlot};
use crate::market::{Clock, Fob, LocalTally, Model, NONE, OrderBook, ProducerBoard, Quote, Quotes, TariffTable};
use crate::rng::{DrawIndex, DrawKey, Purpose, Stream};
use crate::scenario::Scenario;
use crate::threads::for_each_run_init;
use crate::units::{CENTS_PER_UNIT, positive_finite, quantity_for, to_cents};
use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;

/// What a buyer needs to price and place its orders this tick.
pub struct Buyer<'a> {
    pub sc: &'a Scenario,
    pub model: &'a Model,
    pub quotes: &'a Quotes,
    pub board: &'a ProducerBoard,
    pub now: u32,
    pub region: usize,
    /// The board's prices to this buyer's region, by producer.
    pub fobs: &'a [Fob],
    /// The quotes for this buyer's region, by `[origin][sector]`.
    pub quote_row: &'a [Quote],
    /// Where this buyer's region starts in the producer tallies ([`OrderBook::pd`] of producer 0).
    pub pd_base: usize,
    /// This buyer's supplier-search draws this tick.
    pub search_key: DrawKey,
    /// The premixed index of line `k`'s search draw (index `4k`), for the first lines.
    pub search_draws: &'a [DrawIndex],
}

impl Buyer<'_> {
    /// What a unit of `sector` from `producer` (in region `origin`) costs this buyer,
    /// Armington-relative: its price here times the quote's cost factor (landed at the
    /// expected tariff, over the base period's landed cost, over 1 − boycott share);
    /// infinite when boycotted entirely. Search and the sourcing logit both rank on it.
    #[inline]
    pub fn relative_cost(&self, producer: u32, origin: u16, sector: usize) -> f64 {
        self.fobs[producer as usize].price * self.quote(origin, sector).cost
    }

    /// The quote for goods of `sector` from `origin` to this buyer.
    #[inline]
    fn quote(&self, origin: u16, sector: usize) -> &Quote {
        &self.quote_row[origin as usize * self.quotes.n_sectors + sector]
    }

    /// Asks for the board prices and order-tally slots of the suppliers in `slots`, before
    /// they are read one by one: their misses then overlap.
    pub fn prefetch(&self, slots: &[SupplierSlot], orders: &LocalTally) {
        prefetch_suppliers(self.fobs, self.pd_base, slots, orders);
    }

    /// With probability `search_prob`, samples one producer of the line's sector (any
    /// region if tradable, else home) and replaces the costliest supplier when the sample is
    /// cheaper by more than `switch_threshold`.
    #[inline]
    pub fn search(&self, line: &InputLine, slots: &mut [SupplierSlot], line_index: usize) {
        let base = line_index as u64 * 4;
        let draw = self.search_draws.get(line_index).copied().unwrap_or_else(|| DrawIndex::new(base));
        if self.search_key.uniform_at(draw) < self.sc.behaviour.search_prob {
            self.sample_supplier(line, slots, base);
        }
    }

    /// [`Buyer::search`] once its draw says search: the sample and the switch, with the
    /// line's draws from index `base`.
    #[inline(never)]
    fn sample_supplier(&self, line: &InputLine, slots: &mut [SupplierSlot], base: u64) {
        let b = &self.sc.behaviour;
        let s = line.sector as usize;
        let key = self.search_key;
        let ns = self.sc.n_sectors();
        let regions = if self.sc.sectors[s].tradable { 0..self.sc.n_regions() } else { self.region..self.region + 1 };
        let total: u64 = regions.clone().map(|r| self.board.by_region_sector[r * ns + s].len() as u64).sum();
        if total == 0 {
            return;
        }
        let mut pick = key.below(base + 1, total);
        let (mut candidate, mut origin) = (NONE, 0);
        for r in regions {
            let range = &self.board.by_region_sector[r * ns + s];
            if pick < range.len() as u64 {
                (candidate, origin) = (range.start + pick as u32, r as u16);
                break;
            }
            pick -= range.len() as u64;
        }
        if candidate == NONE
            || self.board.capacity[candidate as usize] <= 0.0
            || slots.iter().any(|slot| slot.producer == candidate)
        {
            return;
        }
        let cand_cost = self.relative_cost(candidate, origin, s);
        if !cand_cost.is_finite() {
            return;
        }
        let mut worst = None;
        let mut worst_cost = f64::NEG_INFINITY;
        for (k, slot) in slots.iter().enumerate() {
            let cost =
                if slot.producer == NONE { f64::INFINITY } else { self.relative_cost(slot.producer, slot.origin, s) };
            if cost > worst_cost {
                worst_cost = cost;
                worst = Some(k);
            }
        }
        if let Some(k) = worst
            && cand_cost < worst_cost * (1.0 - b.switch_threshold).max(0.0)
        {
            slots[k] = SupplierSlot { producer: candidate, origin, ..Default::default() };
        }
    }

    /// Orders up to the target position for one line. Each supplier's share of the line
    /// moves a fraction `source_adjust` of the way to its logit share on (Armington-relative)
    /// landed cost each tick: buyers re-source gradually, not all at once. A supplier whose
    /// goods are boycotted outright loses its share at once.
    pub fn order(&self, line: &mut InputLine, slots: &mut [SupplierSlot], cover_weeks: f64, orders: &mut LocalTally) {
        // Each supplier as priced this tick, on the stack for the usual few suppliers. Lines
        // with exactly the inline count (the default, and the flagship's) take the same
        // code with the count fixed at compile time, which the compiler specialises.
        let n = slots.len();
        if let Ok(slots) = <&mut [SupplierSlot; INLINE_SUPPLIERS]>::try_from(&mut *slots) {
            let mut priced = [Priced::default(); INLINE_SUPPLIERS];
            self.order_priced(line, slots, cover_weeks, orders, &mut priced);
        } else if n < INLINE_SUPPLIERS {
            let mut priced = [Priced::default(); INLINE_SUPPLIERS];
            self.order_priced(line, slots, cover_weeks, orders, &mut priced[..n]);
        } else {
            self.order_priced(line, slots, cover_weeks, orders, &mut vec![Priced::default(); n]);
        }
    }

    /// [`Buyer::order`] with `priced`, one entry per supplier of `line`, to work in.
    #[inline(always)]
    fn order_priced(
        &self,
        line: &mut InputLine,
        slots: &mut [SupplierSlot],
        cover_weeks: f64,
        orders: &mut LocalTally,
        priced: &mut [Priced],
    ) {
        let b = &self.sc.behaviour;
        let s = line.sector as usize;
        // Each supplier's offer (none when it cannot be bought from) and logit weight.
        let mut total_weight = 0.0;
        for (slot, p) in slots.iter_mut().zip(priced.iter_mut()) {
            slot.order_cents = 0;
            if slot.producer == NONE {
                continue;
            }
            let q = self.quote(slot.origin, s);
            let Fob { price: fob, weight: fob_weight } = self.fobs[slot.producer as usize];
            let cost = fob * q.cost;
            if !positive_finite(cost) {
                continue;
            }
            // The factored weight fob^(−σ)·quote^(−σ) can under- or overflow where the
            // product does not (extreme elasticities); then take the power of the product.
            let weight = fob_weight * q.weight;
            let w = if positive_finite(weight) {
                weight
            } else {
                let w = weight_of_cost(cost, b.source_elasticity);
                if !positive_finite(w) {
                    continue;
                }
                w
            };
            *p = Priced {
                usable: true,
                lead: q.lead,
                fob,
                shipped_per_unit: q.shipped_per_unit,
                landed: fob * q.landed,
                pending_increase: q.pending_increase,
                target: w,
                frontload: 0.0,
            };
            total_weight += w;
        }
        if total_weight <= 0.0 {
            for slot in slots.iter_mut() {
                slot.share = 0.0;
            }
            return;
        }
        // Target shares, and each share's step towards its target.
        let mut total_share = 0.0;
        for (slot, p) in slots.iter_mut().zip(priced.iter_mut()) {
            p.target /= total_weight;
            slot.share = if p.usable { slot.share + b.source_adjust * (p.target - slot.share) } else { 0.0 };
            total_share += slot.share;
        }
        // Shares summing to one; the line's lead time, replacement cost and front-loading.
        let mut lead = 0.0;
        let mut replacement = 0.0;
        let mut frontload_total = 0.0;
        for (slot, p) in slots.iter_mut().zip(priced.iter_mut()) {
            slot.share = if total_share > 0.0 { slot.share / total_share } else { p.target };
            if !p.usable {
                continue;
            }
            let share = slot.share;
            lead += share * p.lead;
            replacement += share * p.landed;
            if p.pending_increase > 0.0 {
                let strength = (p.pending_increase / b.frontload_saturation).min(1.0);
                p.frontload = b.frontload_weeks * line.forecast * share * strength;
                frontload_total += p.frontload;
            }
        }
        if positive_finite(replacement) {
            line.replacement_cost = replacement;
        }
        let wanted = line.forecast * (lead + cover_weeks) + frontload_total;
        let position = line.stock + line.in_transit;
        let units = (line.forecast + b.inventory_adjust * (wanted - position)).max(0.0);
        let early = (b.inventory_adjust * frontload_total).min(units);
        let regular = units - early;
        // The loop is written twice so that the usual line, with nothing front-loaded, pays
        // no division for it.
        if frontload_total > 0.0 {
            for (slot, p) in slots.iter_mut().zip(priced.iter()) {
                if p.usable {
                    let want = regular * slot.share + early * p.frontload / frontload_total;
                    self.place(line, slot, p, want, orders);
                }
            }
        } else {
            for (slot, p) in slots.iter_mut().zip(priced.iter()) {
                if p.usable {
                    self.place(line, slot, p, regular * slot.share, orders);
                }
            }
        }
    }

    /// Orders `want` units from the supplier in `slot`, priced as `p`, in whole cents.
    #[inline(always)]
    fn place(&self, line: &mut InputLine, slot: &mut SupplierSlot, p: &Priced, want: f64, orders: &mut LocalTally) {
        let cents = to_cents(want * p.shipped_per_unit * p.fob * CENTS_PER_UNIT);
        if cents > 0 {
            slot.order_cents = cents;
            slot.fob = p.fob;
            line.ordered.0 += cents;
            orders.add(self.pd_base + slot.producer as usize, cents);
        }
    }
}

/// Asks for the prices (`fobs`, a destination's row) and order-tally slots (from `pd_base`)
/// of the suppliers in `slots`.
#[inline]
fn prefetch_suppliers(fobs: &[Fob], pd_base: usize, slots: &[SupplierSlot], orders: &LocalTally) {
    for slot in slots {
        if slot.producer != NONE {
            crate::cache::prefetch(fobs, slot.producer as usize);
            orders.prefetch(pd_base + slot.producer as usize);
        }
    }
}

/// A supplier's logit weight from its relative cost, `cost^(−elasticity)`: only for the
/// rare supplier whose factored weight under- or overflowed, so kept out of the loop that
/// prices every supplier, which is then smaller (fewer instructions per line).
#[cold]
#[inline(never)]
fn weight_of_cost(cost: f64, elasticity: f64) -> f64 {
    cost.powf(-elasticity)
}

/// One supplier of a line as priced this tick: whether it can be bought from, what of its
/// offer the order needs, its logit weight and then target share, and its front-loaded units.
#[derive(Clone, Copy, Default)]
struct Priced {
    usable: bool,
    /// Lead time in weeks.
    lead: f64,
    fob: f64,
    shipped_per_unit: f64,
    landed: f64,
    pending_increase: f64,
    target: f64,
    frontload: f64,
}

/// What a unit from each origin costs buyers of each region this tick, apart from the
/// producer's price: expected tariff at arrival, transport, boycotts, announcements.
pub fn publish_quotes(clock: Res<Clock>, model: Res<Model>, table: Res<TariffTable>, mut quotes: ResMut<Quotes>) {
    let sc = &*model.scenario;
    let (nr, ns) = (model.n_regions, model.n_sectors);
    let elasticity = sc.behaviour.source_elasticity;
    let now = clock.tick;
    quotes.n_regions = nr;
    quotes.n_sectors = ns;
    quotes.cells.resize(nr * nr * ns, Quote::default());
    for i in 0..nr {
        for e in 0..nr {
            let lead = sc.lead_time(e, i);
            let transport = sc.transport_cost(e, i);
            for s in 0..ns {
                let (rate, boycott, pending_increase) = if e == i {
                    (0.0, 0.0, 0.0)
                } else {
                    let now_rate = table.rate(i, e, s);
                    let expected = table.expected_rate(i, e, s, now, lead);
                    let later = table.expected_rate(i, e, s, now, u32::MAX / 4);
                    (expected, table.boycott(i, e, s), (later - expected.max(now_rate)).max(0.0))
                };
                let landed = (1.0 + rate) * (1.0 + transport);
                let relative = landed / model.base_landed_price[model.ies(i, e, s)];
                let cost = if boycott >= 1.0 { f64::INFINITY } else { relative / (1.0 - boycott) };
                let weight = if cost.is_finite() && cost > 0.0 { cost.powf(-elasticity) } else { 0.0 };
                quotes.cells[(i * nr + e) * ns + s] = Quote {
                    lead: lead as f64,
                    shipped_per_unit: 1.0 + transport,
                    landed,
                    cost,
                    weight,
                    pending_increase,
                };
            }
        }
    }
}

/// The shared state every buyer reads when it orders.
#[derive(SystemParam)]
pub struct Market<'w> {
    clock: Res<'w, Clock>,
    model: Res<'w, Model>,
    quotes: Res<'w, Quotes>,
    board: Res<'w, ProducerBoard>,
    book: Res<'w, OrderBook>,
}

impl Market<'_> {
    fn search_stream(&self) -> Stream {
        Stream::new(self.model.scenario.seed, self.clock.tick as u64, Purpose::SupplierSearch)
    }

    /// The premixed draw indices of lines' search draws (see [`Buyer::search_draws`]).
    fn search_draws(&self) -> Vec<DrawIndex> {
        (0..self.model.n_sectors as u64).map(|k| DrawIndex::new(4 * k)).collect()
    }

    /// The board's prices to `region` and where the region starts in the order tally.
    fn rows(&self, region: usize) -> (&[Fob], usize) {
        (self.board.fob_row(region), self.book.pd(0, region))
    }

    /// Asks for the prices and order-tally slots of the suppliers in `slots`, of a buyer in
    /// `region` (one that is still to come: [`Buyer::prefetch`] for the buyer at hand).
    fn prefetch(&self, region: usize, slots: &[SupplierSlot], orders: &LocalTally) {
        let (fobs, pd_base) = self.rows(region);
        prefetch_suppliers(fobs, pd_base, slots, orders);
    }

    fn buyer<'b>(&'b self, region: usize, id: &AgentId, search: Stream, draws: &'b [DrawIndex]) -> Buyer<'b> {
        let (fobs, pd_base) = self.rows(region);
        Buyer {
            sc: &self.model.scenario,
            model: &self.model,
            quotes: &self.quotes,
            board: &self.board,
            now: self.clock.tick,
            region,
            fobs,
            quote_row: self.quotes.row(region),
            pd_base,
            search_key: search.key(id.0),
            search_draws: draws,
        }
    }
}

/// Retailers: forecast household demand, search, and order merchandise.
pub fn place_retail_orders(market: Market, mut retailers: Query<(&AgentId, &Retailer, &mut Shelf, &mut Purchasing)>) {
    let b = &market.model.scenario.behaviour;
    let search = market.search_stream();
    let draws = market.search_draws();
    // Runs of retailers at a time (table slices), as producers below. A retailer buys one
    // line: each asks for the suppliers of the retailer `LINES_AHEAD` on.
    let batch = || market.book.producer_ordered.local();
    for_each_run_init!(retailers, batch, |orders, (ids, retailers, mut shelves, mut purchasing)| {
        let (shelves, purchasing) = (shelves.bypass_change_detection(), purchasing.bypass_change_detection());
        for k in 0..LINES_AHEAD.min(retailers.len()) {
            market.prefetch(retailers[k].region as usize, purchasing[k].suppliers.all(), orders);
        }
        for k in 0..ids.len() {
            if let Some(ahead) = retailers.get(k + LINES_AHEAD) {
                market.prefetch(ahead.region as usize, purchasing[k + LINES_AHEAD].suppliers.all(), orders);
            }
            let (retailer, shelf, purchasing) = (&retailers[k], &mut shelves[k], &mut purchasing[k]);
            let demand = quantity_for(market.book.retailer_ordered.get(retailer.idx as usize), shelf.price);
            shelf.ordered = demand;
            let buyer = market.buyer(retailer.region as usize, &ids[k], search, &draws);
            let Purchasing { lines, suppliers, .. } = purchasing;
            let (line, slots) = (&mut lines[0], suppliers.line_mut(0));
            line.forecast += b.forecast_smoothing * (demand - line.forecast);
            buyer.search(line, slots, 0);
            buyer.order(line, slots, b.retail_cover_weeks, orders);
        }
    });
    market.book.producer_ordered.settle();
}

/// Producers: forecast orders, plan this tick's output, search, and order inputs.
pub fn place_input_orders(
    market: Market,
    mut producers: Query<(&AgentId, &Producer, &mut Production, &mut Purchasing)>,
) {
    let b = &market.model.scenario.behaviour;
    let search = market.search_stream();
    let draws = market.search_draws();
    // Runs of producers at a time (table slices). What ordering waits on is its suppliers'
    // board prices and tally slots, scattered over the world: each line asks for those of
    // the line `LINES_AHEAD` lines on, in this producer or the next one.
    let batch = || market.book.producer_ordered.local();
    for_each_run_init!(producers, batch, |orders, run| {
        let (ids, producers, mut prods, mut purchasing) = run;
        let (prods, purchasing) = (prods.bypass_change_detection(), purchasing.bypass_change_detection());
        if let Some(first) = purchasing.first() {
            for line in 0..first.lines.len().min(LINES_AHEAD) {
                market.prefetch(producers[0].region as usize, first.suppliers.line(line), orders);
            }
        }
        for k in 0..ids.len() {
            let (this, later) = purchasing.split_at_mut(k + 1);
            let (prod, purchasing) = (&mut prods[k], &mut this[k]);
            prod.forecast += b.forecast_smoothing * (prod.ordered - prod.forecast);
            prod.planned = planned_output(prod, b.output_cover_weeks, b.inventory_adjust);
            let (region, sector) = (producers[k].region as usize, producers[k].sector as usize);
            let buyer = market.buyer(region, &ids[k], search, &draws);
            let recipe = &market.model.scenario.recipe(region, sector).inputs;
            let planned = prod.planned;
            let n_lines = purchasing.lines.len();
            debug_assert_eq!(n_lines, recipe.len(), "one line per recipe input");
            // Ordering sets the lines' replacement costs, so it also keeps what pricing
            // reads of them: the sum of `inputs_at_replacement`, in the same order.
            let mut input_cost = INPUTS_SUM_START;
            for (i, &(_, per_unit)) in recipe.iter().enumerate() {
                if i + LINES_AHEAD < n_lines {
                    buyer.prefetch(purchasing.suppliers.line(i + LINES_AHEAD), orders);
                } else if let Some(next) = later.first()
                    && i + LINES_AHEAD - n_lines < next.lines.len()
                {
                    let next_region = producers[k + 1].region as usize;
                    market.prefetch(next_region, next.suppliers.line(i + LINES_AHEAD - n_lines), orders);
                }
                let (line, slots) = (&mut purchasing.lines[i], purchasing.suppliers.line_mut(i));
                line.forecast += b.forecast_smoothing * (per_unit * planned - line.forecast);
                buyer.search(line, slots, i);
                buyer.order(line, slots, b.input_cover_weeks, orders);
                input_cost += per_unit * line.replacement_cost;
            }
            prod.input_cost = input_cost;
            debug_assert_eq!(input_cost.to_bits(), inputs_at_replacement(&purchasing.lines, recipe).to_bits());
        }
    });
    market.book.producer_ordered.settle();
}

/// How many lines ahead ordering asks for suppliers' prices and tally slots (for
/// retailers, which buy one line each, that many retailers ahead). Asking
/// for all of a producer's suppliers at once (24 at the flagship's eight lines of three),
/// as before, left ordering a quarter slower at the large preset: more misses at once than
/// the processor keeps in flight; one line ahead was slower than two, three no faster.
const LINES_AHEAD: usize = 2;

/// Output that covers forecast orders and closes a share of the gap to target stock.
pub fn planned_output(prod: &Production, cover_weeks: f64, adjust: f64) -> f64 {
    let want = prod.forecast + adjust * (prod.forecast * cover_weeks - prod.stock);
    want.clamp(0.0, prod.capacity.max(0.0))
}
