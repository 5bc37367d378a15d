//! Phase 7, production: producers make min(capacity, plan, labour, inputs / recipe),
//! consume inputs, and set the staff they want for the next tick. The labour moves that
//! follow are in `labour.rs`.

use crate::agents::producer::Production;
use crate::agents::{INLINE_LINES, InputLine, Producer, Purchasing, Retailer, Staff};
use crate::economy::ordering::planned_output;
use crate::market::{Clock, Model};
use crate::metrics::{FLOWS_CHUNK, ProducerFlows, SectorFlows};
use crate::threads::{for_each_agent, row_chunks};
use bevy_ecs::prelude::*;
use smallvec::SmallVec;

/// The output a producer can make: the tightest of capacity, plan, staff and each input
/// (its `lines`, with the units of each per unit of output from its `recipe`).
fn feasible_output(prod: &Production, workers: u32, lines: &[InputLine], recipe: &[(usize, f64)]) -> f64 {
    let mut q = prod.capacity.min(prod.planned);
    if prod.labour_per_unit > 0.0 {
        q = q.min(workers as f64 / prod.labour_per_unit);
    }
    for (line, &(_, per_unit)) in lines.iter().zip(recipe) {
        if per_unit > 0.0 {
            q = q.min(line.stock.max(0.0) / per_unit);
        }
    }
    if q.is_finite() { q.max(0.0) } else { 0.0 }
}

/// Producers produce, in parallel over fixed chunks of their table slices; each chunk also
/// sums its producers' sector flows for this tick's metrics ([`ProducerFlows`]) as it
/// finishes each one, while its lines are still in cache.
pub fn produce(
    clock: Res<Clock>,
    model: Res<Model>,
    mut flows: ResMut<ProducerFlows>,
    mut producers: Query<(&Producer, &mut Production, &mut Purchasing, &mut Staff)>,
) {
    let (nr, ns) = (model.n_regions, model.n_sectors);
    let mut tables: Vec<_> = producers.contiguous_iter_mut().expect("producer components live in tables").collect();
    let chunks = tables.iter_mut().flat_map(|(producers, prods, purchasing, staff)| {
        let (prods, purchasing, staff) =
            (prods.bypass_change_detection(), purchasing.bypass_change_detection(), staff.bypass_change_detection());
        row_chunks((*producers, prods, purchasing, staff), FLOWS_CHUNK)
    });
    let parts = crate::threads::par_map(chunks, |(producers, prods, purchasing, staff)| {
        let mut part = SectorFlows::new(nr, ns);
        for k in 0..producers.len() {
            // Each producer's lines are heap data of their own: asked for a few ahead.
            if let Some(ahead) = purchasing.get(k + crate::cache::AHEAD) {
                crate::cache::prefetch_all(&ahead.lines);
            }
            let used = produce_one(&model, &producers[k], &mut prods[k], &mut purchasing[k], &mut staff[k]);
            part.producer(&producers[k], &prods[k], &purchasing[k], &used);
        }
        part
    });
    flows.set(clock.tick, parts);
}

/// One producer's output, input use, capacity and staff target; returns the units it used
/// of each line.
fn produce_one(
    model: &Model,
    producer: &Producer,
    prod: &mut Production,
    purchasing: &mut Purchasing,
    staff: &mut Staff,
) -> SmallVec<[f64; INLINE_LINES]> {
    let b = &model.scenario.behaviour;
    let recipe = &model.scenario.recipe(producer.region as usize, producer.sector as usize).inputs;
    debug_assert_eq!(purchasing.lines.len(), recipe.len(), "one line per recipe input");
    let q = feasible_output(prod, staff.workers, &purchasing.lines, recipe);
    let mut input_cost = 0.0;
    let mut used_by_line = SmallVec::new();
    for (line, &(_, per_unit)) in purchasing.lines.iter_mut().zip(recipe) {
        let used = (per_unit * q).min(line.stock.max(0.0));
        input_cost += used * line.cost_basis;
        used_by_line.push(used);
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
    used_by_line
}

/// Retailers staff for their forecast sales.
pub fn plan_shop_staff(model: Res<Model>, mut retailers: Query<(&Retailer, &Purchasing, &mut Staff)>) {
    for_each_agent!(retailers, |(r, purchasing, mut staff)| {
        let per_unit = model.retail_labour_per_unit[model.rs(r.region as usize, r.sector as usize)];
        let want = per_unit * purchasing.lines[0].forecast;
        staff.target = if want.is_finite() { want.ceil().clamp(0.0, u32::MAX as f64 / 2.0) as u32 } else { 0 };
    });
}
