//! Phase 6, matching and rationing: each seller fills orders from its stock; when orders
//! exceed stock every buyer gets the same fraction (proportional rationing, deterministic),
//! and the unfilled part is the buyer's shortage. Buyers pay on dispatch; foreign fills
//! become shipments the buyer holds until they arrive, domestic fills arrive next tick.

use crate::agents::producer::Production;
use crate::agents::{
    AgentId, Budget, Cash, Home, Household, KnownRetailers, Producer, Purchasing, Retailer, Shelf, Shipment,
};
use crate::economy::demand::Orders;
use crate::market::{Clock, LocalTally, Model, NONE, OrderBook, ProducerBoard, RetailerBoard};
use crate::scenario::Scenario;
use crate::threads::{MIN_PARALLEL_HOUSEHOLDS, for_each_agent, for_each_run, for_each_run_init, publish};
use crate::units::{Money, quantity_for};
use bevy_ecs::change_detection::ContiguousMut;
use bevy_ecs::prelude::*;

/// The share of orders a seller with `stock` can fill when buyers ordered `ordered` units.
pub fn fill_ratio(stock: f64, ordered: f64) -> f64 {
    if ordered > 0.0 { (stock.max(0.0) / ordered).min(1.0) } else { 1.0 }
}

/// Producers: units ordered from all destinations, and the share they can fill.
pub fn ration_producers(
    book: Res<OrderBook>,
    board: Res<ProducerBoard>,
    mut producers: Query<(&Producer, &mut Production)>,
) {
    for_each_run!(producers, |(producers, mut prods): (&[Producer], ContiguousMut<Production>)| {
        for (p, prod) in producers.iter().zip(prods.bypass_change_detection()) {
            let ordered = units_ordered(&book, &board, p.idx);
            prod.ordered = ordered;
            prod.fill_ratio = fill_ratio(prod.stock, ordered);
        }
    });
}

/// The units ordered from `producer` by buyers of every destination, each destination's
/// cents at its price there, summed in destination order.
#[inline]
fn units_ordered(book: &OrderBook, board: &ProducerBoard, producer: u32) -> f64 {
    let mut units = 0.0;
    for d in 0..board.n_regions {
        units += quantity_for(book.producer_ordered.get(book.pd(producer as usize, d)), board.fob(producer, d));
    }
    units
}

/// Retailers: units households ordered, and the share they can fill.
pub fn ration_retailers(book: Res<OrderBook>, mut retailers: Query<(&Retailer, &mut Shelf, &Purchasing)>) {
    for_each_agent!(retailers, |(r, mut shelf, purchasing)| {
        let ordered = quantity_for(book.retailer_ordered.get(r.idx as usize), shelf.price);
        shelf.ordered = ordered;
        shelf.fill_ratio = fill_ratio(purchasing.lines[0].stock, ordered);
    });
}

/// Copies sellers' fill ratios onto the boards buyers read them from, in parallel.
pub fn publish_fill_ratios(
    mut pboard: ResMut<ProducerBoard>,
    mut rboard: ResMut<RetailerBoard>,
    producers: Query<(&Producer, &Production)>,
    retailers: Query<(&Retailer, &Shelf)>,
) {
    let producers = producers.contiguous_iter().expect("producer components live in tables");
    publish(&mut pboard.fill_ratio, producers, |p| p.idx as usize, |_, prod| prod.fill_ratio);
    pboard.mark_rationing();
    let retailers = retailers.contiguous_iter().expect("retailer components live in tables");
    publish(&mut rboard.fill_ratio, retailers, |r| r.idx as usize, |_, shelf| shelf.fill_ratio);
}

/// Households paid for their orders when they placed them (demand); at a retailer that
/// could not fill every order they get back what was not filled, and pay the filled share
/// rounded down to the cent, which is added to the retailer's tally (see
/// [`OrderBook::retailer_paid`]). In a week when every retailer fills every order, nobody
/// is owed anything and the pass over households is skipped.
pub fn refund_baskets(
    clock: Res<Clock>,
    model: Res<Model>,
    rboard: Res<RetailerBoard>,
    book: Res<OrderBook>,
    mut households: Query<(&AgentId, &Household, &KnownRetailers, &Budget, &mut Cash)>,
) {
    // Which [region][consumer sector] has a retailer that rationed: only there are
    // households owed anything, so only there are their orders walked again.
    let nc = model.consumer_sectors.len();
    let ns = model.n_sectors;
    let rationing: Vec<bool> = (0..model.n_regions * nc)
        .map(|c| {
            let range = rboard.by_region_sector[(c / nc) * ns + model.consumer_sectors[c % nc]].clone();
            rboard.fill_ratio[range.start as usize..range.end as usize].iter().any(|&fill| fill < 1.0)
        })
        .collect();
    if !rationing.contains(&true) {
        return;
    }
    let orders = Orders::new(&model, clock.tick, &rboard);
    let min = MIN_PARALLEL_HOUSEHOLDS;
    for_each_run_init!(households, parallel_from = min, || book.retailer_filled.local(), |filled, run| {
        let (ids, hhs, known, budgets, mut cash) = run;
        let rows = ids.iter().zip(hhs).zip(known).zip(budgets).zip(cash.bypass_change_detection());
        for ((((id, hh), known), budget), cash) in rows {
            let mut refund = 0;
            let r = hh.region as usize;
            orders.each_in(*id, r, known, budget.0, &rationing[r * nc..(r + 1) * nc], |retailer, ordered| {
                let fill = rboard.fill_ratio[retailer as usize];
                if fill < 1.0 {
                    let paid = Money::floor_cents(ordered.0 as f64 * fill);
                    refund += ordered.0 - paid.0;
                    filled.add(retailer as usize, paid.0);
                }
            });
            if refund != 0 {
                cash.0 += Money(refund);
            }
        }
    });
    book.retailer_filled.settle();
}

/// Firms pay for the filled share of their orders; fills go in transit.
pub fn fill_purchases(
    clock: Res<Clock>,
    model: Res<Model>,
    board: Res<ProducerBoard>,
    book: Res<OrderBook>,
    mut buyers: Query<(&Home, &mut Purchasing, &mut Cash)>,
) {
    let sc = &*model.scenario;
    // Runs of buyers at a time, asking for each one's lines and suppliers, and where its
    // shipments will go, a few buyers ahead (heap data of their own), and for what its
    // orders will read half as far ahead.
    for_each_run_init!(buyers, || book.producer_filled.local(), |filled, (homes, mut purchasing, mut cash)| {
        let (purchasing, cash) = (purchasing.bypass_change_detection(), cash.bypass_change_detection());
        for k in 0..homes.len() {
            if let Some(ahead) = purchasing.get(k + crate::cache::AHEAD) {
                crate::cache::prefetch_all(&ahead.lines);
                crate::cache::prefetch_all(ahead.suppliers.all());
                crate::cache::prefetch_tail(&ahead.shipments);
            }
            // Half as far ahead, what those slots point at: fill ratios and tally slots.
            let next = if k == 0 { 0..FILLS_AHEAD + 1 } else { k + FILLS_AHEAD..k + FILLS_AHEAD + 1 };
            for j in next.filter(|&j| j < homes.len()) {
                prefetch_fills(&board, &book, homes[j].0 as usize, &purchasing[j], filled);
            }
            fill_buyer(sc, &board, &book, clock.tick, homes[k].0 as usize, &mut purchasing[k], &mut cash[k], filled);
        }
    });
    book.producer_filled.settle();
}

/// How many buyers ahead matching asks for the fill ratios and tally slots a buyer's
/// orders will read (see `crate::cache`).
const FILLS_AHEAD: usize = 2;

/// Asks for the fill ratio and payment-tally slot of every rationing supplier a buyer in
/// region `d` ordered from.
fn prefetch_fills(board: &ProducerBoard, book: &OrderBook, d: usize, purchasing: &Purchasing, filled: &LocalTally) {
    for slot in purchasing.suppliers.all() {
        if slot.order_cents > 0 && slot.producer != NONE && board.rations(slot.producer) {
            crate::cache::prefetch(&board.fill_ratio, slot.producer as usize);
            filled.prefetch(book.pd(slot.producer as usize, d));
        }
    }
}

/// One buyer (in region `d`) pays for the filled share of its orders, and its fills go in
/// transit.
#[allow(clippy::too_many_arguments)]
fn fill_buyer(
    sc: &Scenario,
    board: &ProducerBoard,
    book: &OrderBook,
    now: u32,
    d: usize,
    purchasing: &mut Purchasing,
    cash: &mut Cash,
    filled: &mut LocalTally,
) {
    let Purchasing { lines, suppliers, shipments, .. } = purchasing;
    for (li, line) in lines.iter_mut().enumerate() {
        for slot in suppliers.line(li) {
            let ordered = slot.order_cents;
            if ordered <= 0 || slot.producer == NONE {
                continue;
            }
            let p = slot.producer;
            // A producer that fills every order is paid the order (and its sales are what
            // was ordered from it: `OrderBook::producer_paid`); one that rations, the
            // filled share rounded down to the cent, added to its tally of payments.
            let paid = if board.rations(p) {
                let paid = Money::floor_cents(ordered as f64 * board.fill_ratio[p as usize]);
                line.unfilled.0 += ordered - paid.0;
                if !paid.is_positive() {
                    continue;
                }
                filled.add(book.pd(p as usize, d), paid.0);
                paid
            } else {
                if cfg!(debug_assertions) {
                    // Checked against the order tally when the producer settles.
                    filled.add(book.pd(p as usize, d), ordered);
                }
                Money(ordered)
            };
            cash.0 -= paid;
            let origin = slot.origin as usize;
            let shipped = quantity_for(paid.0, slot.fob);
            line.in_transit += shipped / (1.0 + sc.transport_cost(origin, d));
            if origin == d {
                line.domestic_next += shipped;
                line.domestic_next_value += paid;
            } else {
                line.abroad += shipped;
                shipments.push(Shipment {
                    line: li as u16,
                    origin: origin as u16,
                    arrives: now + sc.lead_time(origin, d),
                    quantity: shipped,
                    value: paid,
                });
            }
        }
    }
}

/// Producers collect payment and ship: stock falls by the units paid for at each destination's price.
pub fn settle_producer_sales(
    book: Res<OrderBook>,
    board: Res<ProducerBoard>,
    mut producers: Query<(&Producer, &mut Production, &mut Cash)>,
) {
    let nr = board.n_regions;
    for_each_run!(producers, |(producers, mut prods, mut cash): (
        &[Producer],
        ContiguousMut<Production>,
        ContiguousMut<Cash>
    )| {
        let (prods, cash) = (prods.bypass_change_detection(), cash.bypass_change_detection());
        for ((p, prod), cash) in producers.iter().zip(prods).zip(cash) {
            settle_producer(&book, &board, nr, p, prod, cash);
        }
    });
}

/// One producer collects payment from every destination and ships what it was paid for.
fn settle_producer(
    book: &OrderBook,
    board: &ProducerBoard,
    nr: usize,
    p: &Producer,
    prod: &mut Production,
    cash: &mut Cash,
) {
    let i = p.idx as usize;
    let rations = board.rations(p.idx);
    let (mut revenue, mut shipped) = (0, 0.0);
    for d in 0..nr {
        let paid = book.producer_paid(i, d, rations);
        revenue += paid;
        if rations {
            shipped += quantity_for(paid, board.fob(p.idx, d));
        }
        // Debug builds also tally what buyers paid a producer that filled every order:
        // exactly its orders.
        debug_assert!(rations || paid == book.producer_filled.get(book.pd(i, d)), "producer {i} to {d}");
    }
    if !rations {
        // Paid every order: what it ships is what was ordered, as rationing summed it.
        debug_assert_eq!(prod.ordered.to_bits(), units_ordered(book, board, p.idx).to_bits());
        shipped = prod.ordered;
    }
    prod.revenue = revenue;
    prod.shipped = shipped;
    prod.stock = (prod.stock - shipped).max(0.0);
    cash.0 += Money(revenue);
}

/// Retailers collect payment; stock falls by the units sold.
pub fn settle_retail_sales(
    book: Res<OrderBook>,
    rboard: Res<RetailerBoard>,
    mut retailers: Query<(&Retailer, &mut Shelf, &mut Purchasing, &mut Cash)>,
) {
    for_each_agent!(retailers, |(r, mut shelf, mut purchasing, mut cash)| {
        // The fill ratio households paid at (the board's copy of the shelf's).
        let revenue = book.retailer_paid(r.idx as usize, rboard.fill_ratio[r.idx as usize]);
        let sold = quantity_for(revenue, shelf.price);
        let line = &mut purchasing.lines[0];
        shelf.revenue = revenue;
        shelf.sold = sold;
        shelf.cost_of_sales = sold * line.cost_basis;
        line.take(sold);
        cash.0 += Money(revenue);
    });
}

#[cfg(test)]
mod tests {
    use super::fill_ratio;

    #[test]
    fn fill_ratio_is_the_share_of_orders_stock_covers() {
        assert_eq!(fill_ratio(30.0, 100.0), 0.3);
        assert_eq!(fill_ratio(300.0, 100.0), 1.0);
        assert_eq!(fill_ratio(5.0, 0.0), 1.0);
        assert_eq!(fill_ratio(-1.0, 10.0), 0.0);
    }
}
