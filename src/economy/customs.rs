//! Phase 2, arrivals and customs: domestic fills from last tick enter stock; shipments due
//! now arrive, the buyer pays the tariff in force at arrival (ad valorem on invoice value)
//! to its government, and the goods that survive transport (iceberg cost) enter stock.

use crate::agents::{Cash, Government, Home, INLINE_LINES, Purchasing};
use crate::market::{Clock, Model, TariffTable};
use crate::scenario::Scenario;
use crate::threads::row_chunks;
use crate::units::{Money, to_cents};
use bevy_ecs::prelude::*;

/// Trade cleared through customs this tick, `[importer][exporter][sector]`.
#[derive(Resource, Debug, Clone)]
pub struct CustomsLedger {
    pub n_regions: usize,
    pub n_sectors: usize,
    /// Units as shipped.
    pub shipped: Vec<f64>,
    /// Units that arrived (shipped less transport loss).
    pub received: Vec<f64>,
    pub value: Vec<i64>,
    pub tariff: Vec<i64>,
    /// Tariff revenue by importing region.
    pub revenue: Vec<i64>,
}

impl CustomsLedger {
    pub fn new(n_regions: usize, n_sectors: usize) -> CustomsLedger {
        let n = n_regions * n_regions * n_sectors;
        CustomsLedger {
            n_regions,
            n_sectors,
            shipped: vec![0.0; n],
            received: vec![0.0; n],
            value: vec![0; n],
            tariff: vec![0; n],
            revenue: vec![0; n_regions],
        }
    }

    pub fn cell(&self, importer: usize, exporter: usize, sector: usize) -> usize {
        (importer * self.n_regions + exporter) * self.n_sectors + sector
    }

    /// Adds another ledger's cells (a chunk of buyers') to this one's.
    fn add(&mut self, other: &CustomsLedger) {
        fn add_cells<T: Copy + std::ops::AddAssign>(to: &mut [T], from: &[T]) {
            for (a, &b) in to.iter_mut().zip(from) {
                *a += b;
            }
        }
        add_cells(&mut self.shipped, &other.shipped);
        add_cells(&mut self.received, &other.received);
        add_cells(&mut self.value, &other.value);
        add_cells(&mut self.tariff, &other.tariff);
        add_cells(&mut self.revenue, &other.revenue);
    }

    fn clear(&mut self) {
        self.shipped.iter_mut().for_each(|v| *v = 0.0);
        self.received.iter_mut().for_each(|v| *v = 0.0);
        self.value.iter_mut().for_each(|v| *v = 0);
        self.tariff.iter_mut().for_each(|v| *v = 0);
        self.revenue.iter_mut().for_each(|v| *v = 0);
    }
}

/// Buyers per chunk of the customs pass: fixed, so that the ledger's float sums (chunk by
/// chunk, in order) are the same for any number of threads.
const CUSTOMS_CHUNK: usize = 2048;

/// Each buyer receives its goods: first last tick's domestic fills, then the shipments due
/// now (one pass over buyers' purchasing for both). Buyers run in fixed chunks of their
/// table slices, in parallel; each chunk sums what its buyers cleared into a ledger of its
/// own, and the chunks' ledgers are added up in order.
pub fn receive_goods(
    clock: Res<Clock>,
    model: Res<Model>,
    table: Res<TariffTable>,
    mut ledger: ResMut<CustomsLedger>,
    mut parts: Local<Vec<CustomsLedger>>,
    mut buyers: Query<(&Home, &mut Purchasing, &mut Cash)>,
) {
    let sc = &*model.scenario;
    let (now, table) = (clock.tick, &*table);
    let (nr, ns) = (model.n_regions, model.n_sectors);
    let mut tables: Vec<_> = buyers.contiguous_iter_mut().expect("buyer components live in tables").collect();
    let buyers = tables.iter().map(|(homes, _, _)| homes.len()).sum();
    let chunks: Vec<_> = tables
        .iter_mut()
        .flat_map(|(homes, purchasing, cash)| {
            let rows = (*homes, purchasing.bypass_change_detection(), cash.bypass_change_detection());
            row_chunks(rows, CUSTOMS_CHUNK)
        })
        .collect();
    // One ledger per chunk, kept from tick to tick.
    parts.resize_with(chunks.len(), || CustomsLedger::new(nr, ns));
    crate::threads::par_map_agents(
        buyers,
        chunks.into_iter().zip(parts.iter_mut()),
        |((homes, purchasing, cash), part)| {
            part.clear();
            for k in 0..purchasing.len() {
                // Each buyer's lines and shipments are heap data of their own.
                if let Some(ahead) = purchasing.get(k + crate::cache::AHEAD) {
                    crate::cache::prefetch_all(&ahead.lines);
                    crate::cache::prefetch_all(&ahead.shipments);
                }
                let i = homes[k].0 as usize;
                receive_domestic(&mut purchasing[k], sc.transport_cost(i, i));
                clear_customs(&mut purchasing[k], &mut cash[k], i, now, sc, table, part);
            }
        },
    );
    ledger.clear();
    for part in parts.iter() {
        ledger.add(part);
    }
}

/// Resets a buyer's per-tick flows and moves last tick's domestic fills into stock.
fn receive_domestic(purchasing: &mut Purchasing, transport: f64) {
    for line in &mut purchasing.lines {
        line.ordered = Money::ZERO;
        line.unfilled = Money::ZERO;
        let shipped = std::mem::take(&mut line.domestic_next);
        let value = std::mem::take(&mut line.domestic_next_value);
        let received = shipped / (1.0 + transport);
        line.arrived_domestic_loss = shipped - received;
        line.receive(received, value.units(), false);
    }
}

/// Lands a buyer's shipments due now: the buyer (in region `i`) pays the tariff at arrival
/// (with in-transit grace) and the goods that survive transport enter stock. What it
/// cleared goes into `ledger`, by origin and sector.
fn clear_customs(
    purchasing: &mut Purchasing,
    cash: &mut Cash,
    i: usize,
    now: u32,
    sc: &Scenario,
    table: &TariffTable,
    ledger: &mut CustomsLedger,
) {
    let Purchasing { lines, shipments, .. } = purchasing;
    if shipments.is_empty() {
        return;
    }
    // Lands what is due and keeps the rest, in dispatch order. The same pass sums each
    // line's units still abroad over the kept shipments, in order: exactly what a recount
    // after the landings gives, without a second pass over the shipments.
    let mut inline = [0.0f64; INLINE_LINES];
    let mut spilled = Vec::new();
    let abroad: &mut [f64] = if lines.len() <= INLINE_LINES {
        &mut inline[..lines.len()]
    } else {
        spilled.resize(lines.len(), 0.0);
        &mut spilled
    };
    let mut kept = 0;
    for k in 0..shipments.len() {
        let ship = shipments[k];
        if ship.arrives > now {
            abroad[ship.line as usize] += ship.quantity;
            if kept != k {
                shipments[kept] = ship;
            }
            kept += 1;
            continue;
        }
        let line = &mut lines[ship.line as usize];
        let (e, s) = (ship.origin as usize, line.sector as usize);
        // The opening pipeline's shipments departed before tick 0 (world::fill_pipeline).
        let departed = ship.arrives as i64 - sc.lead_time(e, i) as i64;
        let rate = table.rate_at_arrival(i, e, s, departed, now);
        let tariff = to_cents(ship.value.0 as f64 * rate);
        let received = ship.quantity / (1.0 + sc.transport_cost(e, i));
        cash.0 -= Money(tariff);
        let cost = (ship.value.0 + tariff) as f64 / crate::units::CENTS_PER_UNIT;
        line.receive(received, cost, true);
        let c = ledger.cell(i, e, s);
        ledger.shipped[c] += ship.quantity;
        ledger.received[c] += received;
        ledger.value[c] += ship.value.0;
        ledger.tariff[c] += tariff;
        ledger.revenue[i] += tariff;
    }
    if kept < shipments.len() {
        shipments.truncate(kept);
        for (line, &abroad) in lines.iter_mut().zip(abroad.iter()) {
            line.abroad = abroad;
        }
    }
    debug_assert!(abroad_matches_shipments(lines, shipments), "a line's units abroad drifted from its shipments");
}

/// Whether every line's units abroad are, to the bit, its shipments' quantities summed in
/// dispatch order: what the fused sum above keeps, and what matching's dispatches add to.
fn abroad_matches_shipments(lines: &[crate::agents::InputLine], shipments: &[crate::agents::Shipment]) -> bool {
    let mut sums = vec![0.0; lines.len()];
    for ship in shipments {
        sums[ship.line as usize] += ship.quantity;
    }
    lines.iter().zip(&sums).all(|(line, sum)| line.abroad.to_bits() == sum.to_bits())
}

/// Credits each government with the tariffs its importers paid at customs this tick.
pub fn collect_tariffs(ledger: Res<CustomsLedger>, mut governments: Query<(&Government, &mut Cash)>) {
    for (gov, mut cash) in &mut governments {
        cash.0 += Money(ledger.revenue[gov.region as usize]);
    }
}
