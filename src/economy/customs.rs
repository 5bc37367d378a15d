//! Phase 2, arrivals and customs: domestic fills from last tick enter stock; shipments due
//! now arrive, the buyer pays the tariff in force at arrival (ad valorem on invoice value)
//! to its government, and the goods that survive transport (iceberg cost) enter stock.

use crate::agents::{Cash, Government, Home, Purchasing, Shipment, ShipmentCalendar};
use crate::market::{Clock, Model, TariffTable};
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

    fn clear(&mut self) {
        self.shipped.iter_mut().for_each(|v| *v = 0.0);
        self.received.iter_mut().for_each(|v| *v = 0.0);
        self.value.iter_mut().for_each(|v| *v = 0);
        self.tariff.iter_mut().for_each(|v| *v = 0);
        self.revenue.iter_mut().for_each(|v| *v = 0);
    }
}

/// Resets buyers' per-tick flows and moves last tick's domestic fills into stock.
pub fn receive_domestic(model: Res<Model>, mut buyers: Query<(&Home, &mut Purchasing)>) {
    let sc = &*model.scenario;
    buyers.par_iter_mut().for_each(|(home, mut purchasing)| {
        let transport = sc.transport_cost(home.0 as usize, home.0 as usize);
        for line in &mut purchasing.lines {
            line.ordered = Money::ZERO;
            line.unfilled = Money::ZERO;
            line.used = 0.0;
            let shipped = std::mem::take(&mut line.domestic_next);
            let value = std::mem::take(&mut line.domestic_next_value);
            let received = shipped / (1.0 + transport);
            line.arrived_domestic = shipped;
            line.arrived_domestic_value = value;
            line.arrived_domestic_loss = shipped - received;
            line.receive(received, value.units(), false);
        }
    });
}

/// Lands the shipments due now: tariffs paid by buyers, goods into their stock, the
/// shipment entities despawned. Serial, in shipment id order, so float sums are reproducible.
pub fn clear_customs(world: &mut World) {
    let now = world.resource::<Clock>().tick;
    let due = world.resource_mut::<ShipmentCalendar>().take_due(now);
    let mut ledger = world.remove_resource::<CustomsLedger>().expect("customs ledger");
    ledger.clear();
    let model = world.resource::<Model>().scenario.clone();
    let table = world.resource::<TariffTable>();
    let mut landings = Vec::with_capacity(due.len());
    for &entity in &due {
        let Some(ship) = world.get::<Shipment>(entity).copied() else { continue };
        let (i, e, s) = (ship.destination as usize, ship.origin as usize, ship.sector as usize);
        let rate = table.rate_at_arrival(i, e, s, ship.departed, now);
        let tariff = to_cents(ship.value.0 as f64 * rate);
        let received = ship.quantity / (1.0 + model.transport_cost(e, i));
        let c = ledger.cell(i, e, s);
        ledger.shipped[c] += ship.quantity;
        ledger.received[c] += received;
        ledger.value[c] += ship.value.0;
        ledger.tariff[c] += tariff;
        landings.push((entity, ship, received, tariff));
    }
    for (entity, ship, received, tariff) in landings {
        if let Ok(mut buyer) = world.get_entity_mut(ship.buyer) {
            if let Some(mut cash) = buyer.get_mut::<Cash>() {
                cash.0 -= Money(tariff);
                ledger.revenue[ship.destination as usize] += tariff;
            }
            if let Some(mut purchasing) = buyer.get_mut::<Purchasing>() {
                let cost = (ship.value.0 + tariff) as f64 / crate::units::CENTS_PER_UNIT;
                purchasing.lines[ship.line as usize].receive(received, cost, true);
            }
        }
        world.despawn(entity);
    }
    world.insert_resource(ledger);
}

/// Credits each government with the tariffs its importers paid this tick.
pub fn collect_tariffs(ledger: Res<CustomsLedger>, mut governments: Query<(&Government, &mut Cash)>) {
    for (gov, mut cash) in &mut governments {
        cash.0 += Money(ledger.revenue[gov.region as usize]);
    }
}
