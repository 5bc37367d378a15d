//! Phase 7, production: producers make min(capacity, plan, labour, inputs / recipe),
//! consume inputs, and set the staff they want for the next tick. The labour moves that
//! follow are in `labour.rs`.

use crate::agents::producer::Production;
use crate::agents::{Producer, Purchasing, Retailer, Staff};
use crate::economy::ordering::planned_output;
use crate::market::Model;
use crate::threads::{for_each_agent, for_each_run};
use bevy_ecs::prelude::*;

/// The output a producer can make: the tightest of capacity, plan, staff and each input.
pub fn feasible_output(prod: &Production, workers: u32, purchasing: &Purchasing) -> f64 {
    let mut q = prod.capacity.min(prod.planned);
    if prod.labour_per_unit > 0.0 {
        q = q.min(workers as f64 / prod.labour_per_unit);
    }
    for line in &purchasing.lines {
        if line.per_unit > 0.0 {
            q = q.min(line.stock.max(0.0) / line.per_unit);
        }
    }
    if q.is_finite() { q.max(0.0) } else { 0.0 }
}

pub fn produce(model: Res<Model>, mut producers: Query<(&Producer, &mut Production, &mut Purchasing, &mut Staff)>) {
    // Runs of producers at a time, asking for each one's lines a few producers ahead (they
    // are heap data of their own).
    for_each_run!(producers, |(producers, mut prods, mut purchasing, mut staff)| {
        let (prods, purchasing, staff) =
            (prods.bypass_change_detection(), purchasing.bypass_change_detection(), staff.bypass_change_detection());
        for k in 0..producers.len() {
            if let Some(ahead) = purchasing.get(k + crate::cache::AHEAD) {
                crate::cache::prefetch_all(&ahead.lines);
            }
            produce_one(&model, &producers[k], &mut prods[k], &mut purchasing[k], &mut staff[k]);
        }
    });
}

/// One producer's output, input use, capacity and staff target.
fn produce_one(
    model: &Model,
    producer: &Producer,
    prod: &mut Production,
    purchasing: &mut Purchasing,
    staff: &mut Staff,
) {
    let b = &model.scenario.behaviour;
    let q = feasible_output(prod, staff.workers, purchasing);
    let mut input_cost = 0.0;
    for line in &mut purchasing.lines {
        let used = (line.per_unit * q).min(line.stock.max(0.0));
        input_cost += used * line.cost_basis;
        line.used = used;
        line.take(used);
    }
    prod.output = q;
    prod.stock += q;
    prod.value_added = q * prod.price - input_cost;
    // Capacity moves slowly toward headroom over forecast orders (investment), never
    // below a tenth of where it started, and never from zero.
    let headroom = model.scenario.sectors[producer.sector as usize].capacity_headroom;
    let wanted = (headroom * prod.forecast).max(0.1 * prod.base_capacity);
    if prod.base_capacity > 0.0 && wanted.is_finite() {
        prod.capacity += b.capacity_adjust * (wanted - prod.capacity);
    }
    // Staff for the next tick's plan, given the stock just made.
    let next = planned_output(prod, b.output_cover_weeks, b.inventory_adjust);
    staff.target = (prod.labour_per_unit * next).ceil().clamp(0.0, u32::MAX as f64 / 2.0) as u32;
}

/// Retailers staff for their forecast sales.
pub fn plan_shop_staff(model: Res<Model>, mut retailers: Query<(&Retailer, &Purchasing, &mut Staff)>) {
    for_each_agent!(retailers, |(r, purchasing, mut staff)| {
        let per_unit = model.retail_labour_per_unit[model.rs(r.region as usize, r.sector as usize)];
        let want = per_unit * purchasing.lines[0].forecast;
        staff.target = if want.is_finite() { want.ceil().clamp(0.0, u32::MAX as f64 / 2.0) as u32 } else { 0 };
    });
}
