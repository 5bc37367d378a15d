//! Phase 3, pricing: producers set cost-plus ex-works prices and, per destination, absorb
//! a share of its tariff (border pass-through); retailers reprice with Calvo stickiness
//! toward a markup over the cost of their inventory (retail pass-through).

use crate::agents::producer::Production;
use crate::agents::{AgentId, Producer, Purchasing, Retailer, Shelf};
use crate::market::{Clock, Fob, Model, ProducerBoard, RetailerBoard, TariffTable, Wages};
use crate::rng::{Purpose, Stream};
use crate::threads::{for_each_agent, for_each_run, publish};
use crate::units::{MAX_PRICE, MIN_PRICE};
use bevy_ecs::change_detection::ContiguousMut;
use bevy_ecs::prelude::*;

/// Producer price: p ← p + adjust × ((1 + markup) × unit cost × scarcity − p), where unit
/// cost is wages per unit plus inputs at replacement cost (what they cost to buy now),
/// and scarcity raises the price when last tick's orders were rationed.
pub fn set_producer_prices(model: Res<Model>, wages: Res<Wages>, mut producers: Query<(&Producer, &mut Production)>) {
    let b = &model.scenario.behaviour;
    // Inputs at replacement cost come from `Production::input_cost`, kept by ordering, so
    // this pass streams producers' own state and reads no lines.
    for_each_run!(producers, |(producers, mut prods): (&[Producer], ContiguousMut<Production>)| {
        for (producer, prod) in producers.iter().zip(prods.bypass_change_detection()) {
            let wage = wages.per_worker[producer.region as usize].units();
            prod.unit_cost = wage * prod.labour_per_unit + prod.input_cost;
            let scarcity = 1.0 + b.scarcity_pricing * (1.0 - prod.fill_ratio).clamp(0.0, 1.0);
            let target = (1.0 + prod.markup) * prod.unit_cost * scarcity;
            let price = prod.price + b.producer_price_adjust * (target - prod.price);
            prod.price = if price.is_finite() { price.clamp(MIN_PRICE, MAX_PRICE) } else { prod.price };
        }
    });
}

/// Retail price: the target is (1 + retail markup) × (goods at replacement cost + retail
/// wages per unit); the retailer moves to it this tick with probability
/// `retail_reprice_prob` when it is above the shelf price, `retail_reprice_down_prob` when below.
pub fn set_shelf_prices(
    clock: Res<Clock>,
    model: Res<Model>,
    wages: Res<Wages>,
    mut retailers: Query<(&AgentId, &Retailer, &mut Shelf, &Purchasing)>,
) {
    let sc = &*model.scenario;
    let b = &sc.behaviour;
    let reprice = Stream::new(sc.seed, clock.tick as u64, Purpose::Reprice);
    for_each_agent!(retailers, |(id, retailer, mut shelf, purchasing): (
        &AgentId,
        &Retailer,
        Mut<Shelf>,
        &Purchasing
    )| {
        let (r, s) = (retailer.region as usize, retailer.sector as usize);
        let wage = wages.per_worker[r].units();
        let goods = purchasing.lines[0].replacement_cost;
        let target = (1.0 + b.retail_markup) * (goods + wage * model.retail_labour_per_unit[model.rs(r, s)]);
        if !target.is_finite() {
            return;
        }
        shelf.target_price = target.clamp(MIN_PRICE, MAX_PRICE);
        let u = reprice.key(id.0).uniform(0);
        let prob = if shelf.target_price > shelf.price { b.retail_reprice_prob } else { b.retail_reprice_down_prob };
        if u < prob {
            shelf.price = shelf.target_price;
        }
    });
}

/// Producers per parallel chunk when publishing prices.
const PRODUCER_CHUNK: usize = 4096;

/// Publishes producers' prices to each destination and retailers' shelf prices and appeal.
/// A producer's price to a foreign destination is p × (1 + tariff)^(−absorption): with
/// absorption 0 the tariff passes fully into the landed price.
pub fn publish_prices(
    model: Res<Model>,
    table: Res<TariffTable>,
    mut pboard: ResMut<ProducerBoard>,
    mut rboard: ResMut<RetailerBoard>,
    producers: Query<(&Producer, &Production)>,
    retailers: Query<(&Retailer, &Shelf)>,
) {
    let sc = &*model.scenario;
    let nr = model.n_regions;
    let pboard = &mut *pboard;
    let tables: Vec<_> = producers.contiguous_iter().expect("producer components live in tables").collect();
    let index = |p: &Producer| p.idx as usize;
    publish(&mut pboard.capacity, tables.iter().copied(), index, |_, prod| prod.capacity);
    publish(&mut pboard.price, tables.iter().copied(), index, |_, prod| prod.price);
    // Each producer's price to each destination and the weight buyers' sourcing logit gives
    // it, in parallel chunks of producers (each entry depends only on its producer).
    let elasticity = sc.behaviour.source_elasticity;
    let ns = model.n_sectors;
    // What absorption leaves of a producer's price at each destination, by
    // `[dest][origin][sector]`: (1 + tariff)^(−absorption), 1 where nothing is absorbed.
    let kept: Vec<f64> = (0..nr * nr * ns)
        .map(|k| {
            let (d, o, s) = (k / (nr * ns), k / ns % nr, k % ns);
            let absorption = sc.regions[o].exporter_absorption;
            if d == o || absorption == 0.0 { 1.0 } else { (1.0 + table.rate(d, o, s)).powf(-absorption) }
        })
        .collect();
    // Row 0 of the board for every destination where nothing is absorbed, a row of its own
    // for each of the others (`ProducerBoard::fob`).
    let mut own_rows = Vec::new();
    for d in 0..nr {
        let absorbs = kept[d * nr * ns..(d + 1) * nr * ns].iter().any(|&f| f != 1.0);
        pboard.fob_row_of[d] = if absorbs {
            own_rows.push(d);
            own_rows.len()
        } else {
            0
        };
    }
    let np = pboard.region.len();
    pboard.fob.resize((1 + own_rows.len()) * np, Fob { price: 1.0, weight: 1.0 });
    let (region, sector, price) = (&pboard.region, &pboard.sector, &pboard.price);
    let (shared, own) = pboard.fob.split_at_mut(np);
    // Row 0: each producer's own price and `price^(−source_elasticity)`.
    crate::threads::par_chunks_mut(shared, PRODUCER_CHUNK, |first, fobs| {
        for (k, fob) in fobs.iter_mut().enumerate() {
            let p = price[first + k];
            *fob = Fob { price: p, weight: p.powf(-elasticity) };
        }
    });
    let shared = &*shared;
    // The other rows in one parallel pass; a chunk that straddles two rows is taken a row
    // at a time.
    crate::threads::par_chunks_mut(own, PRODUCER_CHUNK, |first, mut fobs| {
        let mut at = first;
        while !fobs.is_empty() {
            let (d, p0) = (own_rows[at / np], at % np);
            let n = (np - p0).min(fobs.len());
            let (block, rest) = std::mem::take(&mut fobs).split_at_mut(n);
            let kept = &kept[d * nr * ns..(d + 1) * nr * ns];
            for (k, fob) in block.iter_mut().enumerate() {
                let p = p0 + k;
                let factor = kept[region[p] as usize * ns + sector[p] as usize];
                *fob = if factor == 1.0 {
                    shared[p]
                } else {
                    let net = (price[p] * factor).clamp(MIN_PRICE, MAX_PRICE);
                    Fob { price: net, weight: net.powf(-elasticity) }
                };
            }
            at += block.len();
            fobs = rest;
        }
    });
    let b = &sc.behaviour;
    let rboard = &mut *rboard;
    let tables: Vec<_> = retailers.contiguous_iter().expect("retailer components live in tables").collect();
    let index = |r: &Retailer| r.idx as usize;
    publish(&mut rboard.price, tables.iter().copied(), index, |_, shelf| shelf.price);
    publish(&mut rboard.appeal, tables.iter().copied(), index, |r, shelf| {
        let relative = shelf.price / model.base_retail_price[model.rs(r.region as usize, r.sector as usize)];
        let appeal = relative.powf(-b.retailer_choice_elasticity).clamp(1e-300, 1e300);
        // NaN (no meaningful price) becomes 0, so the board holds only usable weights.
        if appeal > 0.0 { appeal } else { 0.0 }
    });
    // Households split budgets over sectors by CES on each sector's mean shelf price
    // relative to the base period: share ∝ budget_share × (P / P_base)^(1 − elasticity).
    let nc = model.consumer_sectors.len();
    for r in 0..nr {
        let mut total = 0.0;
        for (k, &s) in model.consumer_sectors.iter().enumerate() {
            let range = rboard.by_region_sector[model.rs(r, s)].clone();
            let weight = if range.is_empty() {
                0.0
            } else {
                let mean = range.clone().map(|i| rboard.price[i as usize]).sum::<f64>() / range.len() as f64;
                let relative = mean / model.base_retail_price[model.rs(r, s)];
                sc.sectors[s].budget_share * relative.powf(1.0 - b.sector_price_elasticity)
            };
            let weight = if weight.is_finite() { weight } else { 0.0 };
            rboard.sector_share[r * nc + k] = weight;
            total += weight;
        }
        for k in 0..nc {
            let share = &mut rboard.sector_share[r * nc + k];
            *share = if total > 0.0 { *share / total } else { 0.0 };
        }
    }
}
