//! World construction: calibrate the aggregate base period (`calibrate.rs`), draw the
//! agents' networks (who supplies whom, which retailers each household knows), size every
//! agent to the demand its network will bring it, then spawn them all.
//!
//! Sizing agents from their own drawn networks (not from sector averages) is what keeps a
//! freshly built world in a steady state: a producer drawn by many buyers gets the capacity,
//! stock and staff for all of them, so no one is rationed before any policy moves.

pub mod calibrate;

pub use calibrate::{Calibration, calibrate};

use crate::agents::government::RuleState;
use crate::agents::producer::{Production, inputs_at_replacement};
use crate::agents::*;
use crate::market::*;
use crate::rng::{DrawKey, Purpose};
use crate::scenario::Scenario;
use crate::units::{CENTS_PER_UNIT, Money, quantity_for, to_cents};
use bevy_ecs::prelude::*;
use calibrate::{LabourNeed, labour_coefficients, retail_labour_cost, wages};
use std::ops::Range;
use std::sync::Arc;

/// Agents before they are spawned: layout, networks and sizes.
struct Plan {
    /// Households' weekly spending by region in the steady state of the drawn network.
    consumption: Vec<f64>,
    /// Households' weekly gross income by region there (before lending or borrowing).
    income: Vec<f64>,
    producer_ranges: Vec<Range<u32>>,
    retailer_ranges: Vec<Range<u32>>,
    n_producers: usize,
    n_retailers: usize,
    /// (region, sector) of each producer and retailer index.
    producer_place: Vec<(usize, usize)>,
    retailer_place: Vec<(usize, usize)>,
    /// Supplier slots: `[producer][line][slot]` flattened per producer, and `[retailer][slot]`.
    producer_slots: Vec<Vec<u32>>,
    retailer_slots: Vec<Vec<u32>>,
    /// Households' known retailers, `[household][consumer slot][k]` flattened per household.
    known: Vec<Vec<u32>>,
    household_region: Vec<usize>,
    /// Base-period demand: producers' output (units shipped) and retailers' sales (units).
    output: Vec<f64>,
    sales: Vec<f64>,
}

fn producer_id(nr: usize, p: usize) -> AgentId {
    AgentId(1 + nr as u64 + p as u64)
}
fn retailer_id(nr: usize, n_producers: usize, r: usize) -> AgentId {
    AgentId(1 + (nr + n_producers + r) as u64)
}

/// Suppliers of `sector` for `slots` supplier slots of the buyers of one kind in `region`
/// (one line of every producer of a region and sector, or every retailer of one): as
/// many slots go to each origin as the base-period trade shares give them, to the
/// nearest whole slot (`units::apportion`), and which buyer gets which origin is shuffled
/// by `key`. Within an origin the slots go round its producers from a drawn start, so
/// each gets nearly the same number of buyers.
///
/// Drawing every slot's origin on its own made a region's realised trade shares
/// differ from the calibrated ones by sampling noise (about ±25 % of a 2 % share at the
/// flagship's full scale, more at small scales), which moved the steady state of the
/// drawn network, region sizes and all, from seed to seed (issue 22).
fn stratified_suppliers(
    sc: &Scenario,
    cal: &Calibration,
    ranges: &[Range<u32>],
    key: DrawKey,
    slots: usize,
    region: usize,
    sector: usize,
) -> Vec<u32> {
    let (nr, ns) = (sc.n_regions(), sc.n_sectors());
    let weights: Vec<f64> = (0..nr)
        .map(|e| {
            if ranges[e * ns + sector].is_empty() || sc.capacity_multiplier[e * ns + sector] <= 0.0 {
                0.0
            } else {
                cal.flow_share[(region * ns + sector) * nr + e]
            }
        })
        .collect();
    let counts = crate::units::apportion(slots as i64, &weights);
    let mut origins: Vec<usize> = Vec::with_capacity(slots);
    for (e, &n) in counts.iter().enumerate() {
        origins.extend(std::iter::repeat_n(e, n as usize));
    }
    if origins.len() < slots {
        return vec![NONE; slots];
    }
    for i in (1..origins.len()).rev() {
        let j = key.below(2 * i as u64, i as u64 + 1) as usize;
        origins.swap(i, j);
    }
    let mut next: Vec<u64> =
        (0..nr).map(|e| key.below(2 * (slots + e) as u64 + 1, ranges[e * ns + sector].len().max(1) as u64)).collect();
    origins
        .into_iter()
        .map(|e| {
            let range = &ranges[e * ns + sector];
            let pick = range.start + (next[e] % range.len() as u64) as u32;
            next[e] += 1;
            pick
        })
        .collect()
}

impl Plan {
    fn new(sc: &Scenario, cal: &Calibration, consumer_sectors: &[usize]) -> Plan {
        let (nr, ns) = (sc.n_regions(), sc.n_sectors());
        let b = &sc.behaviour;
        let k_sup = b.suppliers_per_input as usize;
        let k_ret = b.known_retailers as usize;
        let mut producer_ranges = Vec::with_capacity(nr * ns);
        let mut producer_place = Vec::new();
        for r in 0..nr {
            for s in 0..ns {
                let start = producer_place.len() as u32;
                producer_place.extend(std::iter::repeat_n((r, s), sc.regions[r].producers_per_sector as usize));
                producer_ranges.push(start..producer_place.len() as u32);
            }
        }
        let mut retailer_ranges = Vec::with_capacity(nr * ns);
        let mut retailer_place = Vec::new();
        for r in 0..nr {
            for s in 0..ns {
                let start = retailer_place.len() as u32;
                if sc.sectors[s].is_consumer() {
                    retailer_place.extend(std::iter::repeat_n((r, s), sc.regions[r].retailers_per_sector as usize));
                }
                retailer_ranges.push(start..retailer_place.len() as u32);
            }
        }
        let (n_producers, n_retailers) = (producer_place.len(), retailer_place.len());

        // Supplier slots, stratified over the buyers of each region and sector (and line):
        // the draws of a group are keyed by its first buyer's id at "tick" 1 + line, apart
        // from every agent's own build draws (tick 0).
        let mut producer_slots: Vec<Vec<u32>> = (0..n_producers)
            .map(|p| {
                let (r, s) = producer_place[p];
                Vec::with_capacity(sc.recipe(r, s).inputs.len() * k_sup)
            })
            .collect();
        for r in 0..nr {
            for s in 0..ns {
                let group = producer_ranges[r * ns + s].clone();
                if group.is_empty() {
                    continue;
                }
                for (line, &(j, _)) in sc.recipe(r, s).inputs.iter().enumerate() {
                    let key =
                        DrawKey::new(sc.seed, producer_id(nr, group.start as usize).0, 1 + line as u64, Purpose::Build);
                    let drawn = stratified_suppliers(sc, cal, &producer_ranges, key, group.len() * k_sup, r, j);
                    for (p, slots) in group.clone().zip(drawn.chunks(k_sup)) {
                        producer_slots[p as usize].extend_from_slice(slots);
                    }
                }
            }
        }
        let mut retailer_slots: Vec<Vec<u32>> = vec![Vec::new(); n_retailers];
        for r in 0..nr {
            for s in 0..ns {
                let group = retailer_ranges[r * ns + s].clone();
                if group.is_empty() {
                    continue;
                }
                let key =
                    DrawKey::new(sc.seed, retailer_id(nr, n_producers, group.start as usize).0, 1, Purpose::Build);
                let drawn = stratified_suppliers(sc, cal, &producer_ranges, key, group.len() * k_sup, r, s);
                for (i, slots) in group.zip(drawn.chunks(k_sup)) {
                    retailer_slots[i as usize] = slots.to_vec();
                }
            }
        }

        // Households' known retailers, and the sales each unit of their region's spending
        // brings each retailer (sales are proportional to the region's spending).
        let first_household = 1 + (nr + n_producers + n_retailers) as u64;
        let mut known = Vec::new();
        let mut household_region = Vec::new();
        let mut unit_sales = vec![0.0; n_retailers];
        for r in 0..nr {
            let h = sc.regions[r].households;
            if h == 0 {
                continue;
            }
            let available: f64 = consumer_sectors
                .iter()
                .filter(|&&s| !retailer_ranges[r * ns + s].is_empty())
                .map(|&s| sc.sectors[s].budget_share)
                .sum();
            let income = 1.0 / h as f64;
            for _ in 0..h {
                let id = first_household + known.len() as u64;
                let key = DrawKey::new(sc.seed, id, 0, Purpose::Build);
                let mut list = Vec::with_capacity(consumer_sectors.len() * k_ret);
                for (slot, &s) in consumer_sectors.iter().enumerate() {
                    let range = &retailer_ranges[r * ns + s];
                    for j in 0..k_ret {
                        let pick = if range.is_empty() {
                            NONE
                        } else {
                            range.start + key.below((slot * 64 + j) as u64 + 1000, range.len() as u64) as u32
                        };
                        if pick != NONE && available > 0.0 {
                            let spend = income * sc.sectors[s].budget_share / available / k_ret as f64;
                            unit_sales[pick as usize] += spend / cal.retail_price[r * ns + s];
                        }
                        list.push(pick);
                    }
                }
                known.push(list);
                household_region.push(r);
            }
        }

        // The drawn network's flows: (supplier, buyer, units shipped per unit of the
        // buyer's output or sales), retailers' edges and producers' input edges.
        let mut retail_edges: Vec<(u32, u32, f64)> = Vec::new();
        for (i, slots) in retailer_slots.iter().enumerate() {
            let r = retailer_place[i].0;
            let valid = slots.iter().filter(|&&p| p != NONE).count();
            for &p in slots.iter().filter(|&&p| p != NONE) {
                let origin = producer_place[p as usize].0;
                retail_edges.push((p, i as u32, (1.0 + sc.transport_cost(origin, r)) / valid as f64));
            }
        }
        let mut edges: Vec<(u32, u32, f64)> = Vec::new();
        for (q, slots) in producer_slots.iter().enumerate() {
            let (r, s) = producer_place[q];
            for (line, &(_, a)) in sc.recipe(r, s).inputs.iter().enumerate() {
                let line_slots = &slots[line * k_sup..(line + 1) * k_sup];
                let valid = line_slots.iter().filter(|&&p| p != NONE).count();
                for &p in line_slots.iter().filter(|&&p| p != NONE) {
                    let origin = producer_place[p as usize].0;
                    edges.push((p, q as u32, a / valid as f64 * (1.0 + sc.transport_cost(origin, r))));
                }
            }
        }
        // Producers' output for retailers' sales: their orders plus other producers' input
        // orders, a fixed point over the network.
        let solve = |sales: &[f64]| -> Vec<f64> {
            let mut final_demand = vec![0.0; n_producers];
            for &(p, i, w) in &retail_edges {
                final_demand[p as usize] += w * sales[i as usize];
            }
            let mut output = final_demand.clone();
            for _ in 0..1000 {
                let mut next = final_demand.clone();
                for &(p, q, w) in &edges {
                    next[p as usize] += w * output[q as usize];
                }
                let change = next.iter().zip(&output).map(|(a, b)| (a - b).abs() / a.max(1e-300)).fold(0.0, f64::max);
                output = next;
                if change < 1e-12 {
                    break;
                }
            }
            output
        };

        // Spending that each region's income pays for on this network. A unit spent by
        // region s becomes income where value is added along its supply chains (at base
        // prices: a sale is income of the seller's region and a cost of the buyer's;
        // tariffs, paid and collected in the importing region, cancel there). Spending
        // equal to income in every region is the eigenvector of that income matrix: the
        // steady state of a world whose money is closed. Solved on the drawn network, not
        // only on the aggregate shares (`calibrate`), so that no region starts earning more
        // than it spends because of which suppliers its buyers happened to draw.
        let spenders: Vec<usize> = (0..nr).filter(|&r| sc.regions[r].households > 0).collect();
        // One column per spending region: (income by region, unit sales, unit output). Each is
        // its own solve, so they run in parallel and come back in the spenders' order.
        let columns: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = crate::threads::par_map(spenders.iter().copied(), |s| {
            let sales: Vec<f64> =
                (0..n_retailers).map(|i| if retailer_place[i].0 == s { unit_sales[i] } else { 0.0 }).collect();
            let output = solve(&sales);
            let mut income = vec![0.0; nr];
            let fob = |buyer: usize, p: u32| {
                let (e, k) = producer_place[p as usize];
                calibrate::fob_factor(sc, buyer, e, k)
            };
            for (i, &units) in sales.iter().enumerate() {
                let (r, k) = retailer_place[i];
                income[r] += units * cal.retail_price[r * ns + k];
            }
            for &(p, i, w) in &retail_edges {
                let r = retailer_place[i as usize].0;
                let value = w * sales[i as usize] * fob(r, p);
                income[producer_place[p as usize].0] += value;
                income[r] -= value;
            }
            for &(p, q, w) in &edges {
                let r = producer_place[q as usize].0;
                let value = w * output[q as usize] * fob(r, p);
                income[producer_place[p as usize].0] += value;
                income[r] -= value;
            }
            (income, sales, output)
        });
        let total: f64 = spenders.iter().map(|&r| cal.consumption[r]).sum();
        let mut spend: Vec<f64> = spenders.iter().map(|&r| cal.consumption[r]).collect();
        // Income by region that spending `spend` pays for.
        let earned = |spend: &[f64]| {
            let mut earned = vec![0.0; nr];
            for (k, (income, _, _)) in columns.iter().enumerate() {
                for &r in &spenders {
                    earned[r] += income[r] * spend[k];
                }
            }
            earned
        };
        for _ in 0..100_000 {
            // What regions spend out of that income, after lending and borrowing abroad
            // (`calibrate::Financing`; with balanced trade, the income itself).
            let wanted = cal.financing.spending(&earned(&spend));
            let mut next: Vec<f64> = spenders.iter().map(|&r| wanted[r]).collect();
            let sum: f64 = next.iter().sum();
            if sum.is_nan() || sum <= 0.0 {
                break;
            }
            next.iter_mut().for_each(|x| *x *= total / sum);
            let change = next.iter().zip(&spend).map(|(a, b)| (a - b).abs() / a.abs().max(1e-300)).fold(0.0, f64::max);
            spend = next;
            if change < 1e-13 {
                break;
            }
        }
        // A region that earns next to nothing on the network (no capacity at home, say)
        // would spend nothing in that steady state; such worlds keep the aggregate
        // calibration's spending, near no steady state but with every region alive.
        let degenerate = spenders
            .iter()
            .zip(&spend)
            .any(|(&r, &x)| !(x.is_finite() && x > 1e-3 * cal.consumption[r]) && cal.consumption[r] > 0.0);
        if degenerate {
            spend = spenders.iter().map(|&r| cal.consumption[r]).collect();
        }
        // Gross income at that spending, scaled as the spending was.
        let income = if degenerate {
            cal.income.clone()
        } else {
            let earned = earned(&spend);
            let wanted: f64 = cal.financing.spending(&earned).iter().sum();
            let scale = if wanted > 0.0 { spend.iter().sum::<f64>() / wanted } else { 1.0 };
            earned.iter().map(|y| (y * scale).max(0.0)).collect::<Vec<f64>>()
        };
        let mut consumption = vec![0.0; nr];
        let mut sales = vec![0.0; n_retailers];
        let mut output = vec![0.0; n_producers];
        for (k, (_, unit, unit_output)) in columns.iter().enumerate() {
            consumption[spenders[k]] = spend[k];
            for (x, u) in sales.iter_mut().zip(unit) {
                *x += spend[k] * u;
            }
            for (x, u) in output.iter_mut().zip(unit_output) {
                *x += spend[k] * u;
            }
        }
        Plan {
            consumption,
            income,
            producer_ranges,
            retailer_ranges,
            n_producers,
            n_retailers,
            producer_place,
            retailer_place,
            producer_slots,
            retailer_slots,
            known,
            household_region,
            output,
            sales,
        }
    }

    /// Mean landed cost of a buyer's valid slots, and the share of them abroad.
    fn slot_means(
        &self,
        sc: &Scenario,
        cal: &Calibration,
        slots: &[u32],
        buyer_region: usize,
        sector: usize,
    ) -> (f64, f64) {
        let (nr, ns) = (sc.n_regions(), sc.n_sectors());
        let valid: Vec<usize> =
            slots.iter().filter(|&&p| p != NONE).map(|&p| self.producer_place[p as usize].0).collect();
        if valid.is_empty() {
            return (cal.landed_avg[buyer_region * ns + sector], 0.0);
        }
        let n = valid.len() as f64;
        let landed = valid.iter().map(|&e| cal.landed[(buyer_region * nr + e) * ns + sector]).sum::<f64>() / n;
        let imported = valid.iter().filter(|&&e| e != buyer_region).count() as f64 / n;
        (landed, imported)
    }
}

/// The cash a firm holds above its buffer in the steady state, so that its first dividend
/// is its weekly profit, as every later one is: with a payout of `dividend_rate` of the
/// excess each week, the excess settles at `(1 − rate)/rate` × profit. A firm built at its
/// buffer would pay out only `rate` × profit at first, and households' income would dip.
fn steady_excess(b: &crate::scenario::Behaviour, profit: f64) -> f64 {
    if b.dividend_rate > 0.0 && profit > 0.0 { (1.0 - b.dividend_rate) / b.dividend_rate * profit } else { 0.0 }
}

/// Gives a line's supplier slots its drawn suppliers, with equal order shares.
fn set_slots(line_slots: &mut [SupplierSlot], slots: &[u32], producer_region: &[u16]) {
    let valid = slots.iter().filter(|&&p| p != NONE).count().max(1) as f64;
    for (slot, &producer) in line_slots.iter_mut().zip(slots) {
        slot.producer = producer;
        slot.origin = if producer == NONE { 0 } else { producer_region[producer as usize] };
        slot.share = if producer == NONE { 0.0 } else { 1.0 / valid };
    }
}

/// Builds a world ready to run: resources, governments, producers, retailers, households.
pub fn build_world(scenario: Arc<Scenario>, policy_enabled: bool) -> World {
    let sc = &*scenario;
    let mut cal = calibrate(sc);
    let (nr, ns) = (sc.n_regions(), sc.n_sectors());
    let b = &sc.behaviour;
    let rs = |r: usize, s: usize| r * ns + s;
    let k_sup = b.suppliers_per_input as usize;
    let consumer_sectors: Vec<usize> = (0..ns).filter(|&s| sc.sectors[s].is_consumer()).collect();
    let plan = Plan::new(sc, &cal, &consumer_sectors);
    cal.consumption.clone_from(&plan.consumption);
    cal.income.clone_from(&plan.income);
    let (n_producers, n_retailers) = (plan.n_producers, plan.n_retailers);
    let n_employers = n_producers + n_retailers;

    // Wages: employ `target_employment` of each region's households at the planned sizes.
    let mut need = LabourNeed { cost: vec![0.0; nr], workers: vec![0.0; nr] };
    for (p, &(r, s)) in plan.producer_place.iter().enumerate() {
        need.cost[r] += cal.value_share[rs(r, s)] / sc.regions[r].productivity * plan.output[p];
    }
    for (i, &(r, s)) in plan.retailer_place.iter().enumerate() {
        need.cost[r] += retail_labour_cost(sc, &cal, rs(r, s)) / sc.regions[r].productivity * plan.sales[i];
    }
    // Firms staff up to whole workers (ceil), half a worker more than they need on average.
    for &r in plan.producer_place.iter().map(|(r, _)| r).chain(plan.retailer_place.iter().map(|(r, _)| r)) {
        need.workers[r] += 0.5;
    }
    let wage = wages(sc, &need);
    let (labour_per_unit, retail_labour_per_unit) = labour_coefficients(sc, &cal, &wage);

    let mut world = World::new();

    // --- governments
    for r in 0..nr {
        let mut rate = vec![0.0; nr * ns];
        for e in 0..nr {
            for s in 0..ns {
                rate[e * ns + s] = sc.initial_tariff(r, e, s);
            }
        }
        let rules: Vec<usize> = if policy_enabled {
            (0..sc.rules.len()).filter(|&k| sc.rules[k].government == r).collect()
        } else {
            Vec::new()
        };
        let state = rules
            .iter()
            .map(|_| RuleState { streak: vec![0; ns], fired: vec![false; ns], ..Default::default() })
            .collect();
        world.spawn((
            AgentId(1 + r as u64),
            Government { region: r as u16 },
            Home(r as u16),
            Cash(Money::ZERO),
            TariffSchedule { n_sectors: ns, rate, boycott: vec![0.0; nr * ns], grace: vec![Grace::default(); nr * ns] },
            PolicyState { rules, state, ..Default::default() },
        ));
    }

    // --- producers
    let producer_region: Vec<u16> = plan.producer_place.iter().map(|&(r, _)| r as u16).collect();
    let mut staff_needed = Vec::with_capacity(n_employers);
    // Each employer's weekly profit at base, for its opening cash and its owners' income.
    let mut profits: Vec<f64> = Vec::with_capacity(n_employers);
    let mut employer_region = Vec::with_capacity(n_employers);
    let mut rows = Vec::with_capacity(n_producers);
    for p in 0..n_producers {
        let (r, s) = plan.producer_place[p];
        let recipe = sc.recipe(r, s);
        let x = plan.output[p];
        let l = labour_per_unit[rs(r, s)];
        let mut lines = Vec::with_capacity(recipe.inputs.len());
        let mut input_cost = 0.0;
        for (li, &(j, a)) in recipe.inputs.iter().enumerate() {
            let slots = &plan.producer_slots[p][li * k_sup..(li + 1) * k_sup];
            let (landed, imported) = plan.slot_means(sc, &cal, slots, r, j);
            let mut line = InputLine::new(j);
            line.forecast = a * x;
            // On hand: the cover; the lead time's worth is on its way (`fill_pipelines`).
            line.stock = line.forecast * b.input_cover_weeks;
            line.imported_stock = line.stock * imported;
            line.cost_basis = landed;
            line.replacement_cost = landed;
            input_cost += a * landed;
            lines.push(line);
        }
        let mut purchasing = Purchasing::new(lines, k_sup);
        for li in 0..recipe.inputs.len() {
            let slots = &plan.producer_slots[p][li * k_sup..(li + 1) * k_sup];
            set_slots(purchasing.suppliers.line_mut(li), slots, &producer_region);
        }
        let price = (1.0 + recipe.markup) * (wage[r] * l + input_cost);
        let staff = (l * x).ceil().max(0.0);
        staff_needed.push(staff as u32);
        let profit = x * (price - input_cost) - wage[r] * staff;
        profits.push(profit);
        employer_region.push(r as u16);
        rows.push((
            producer_id(nr, p),
            Producer { idx: p as u32, region: r as u16, sector: s as u16 },
            Home(r as u16),
            Production {
                capacity: sc.sectors[s].capacity_headroom * sc.capacity_multiplier[rs(r, s)] * x,
                base_capacity: sc.sectors[s].capacity_headroom * sc.capacity_multiplier[rs(r, s)] * x,
                labour_per_unit: l,
                markup: recipe.markup,
                price,
                unit_cost: price / (1.0 + recipe.markup),
                input_cost: inputs_at_replacement(&purchasing.lines, &recipe.inputs),
                stock: x * b.output_cover_weeks,
                forecast: x,
                planned: x,
                ordered: x,
                fill_ratio: 1.0,
                ..Default::default()
            },
            purchasing,
            Cash(Money::from_units(b.cash_buffer_weeks * x * price + steady_excess(b, profit))),
            Staff { employer: p as u32, revenue_avg: x * price, ..Default::default() },
        ));
    }
    world.spawn_batch(rows);

    // --- retailers
    let mut base_retail_num = vec![0.0; nr * ns];
    let mut base_retail_den = vec![0.0; nr * ns];
    let mut rows = Vec::with_capacity(n_retailers);
    for i in 0..n_retailers {
        let (r, s) = plan.retailer_place[i];
        let d = plan.sales[i];
        let slots = &plan.retailer_slots[i];
        let (landed, imported) = plan.slot_means(sc, &cal, slots, r, s);
        let mut line = InputLine::new(s);
        line.forecast = d;
        line.stock = d * b.retail_cover_weeks;
        line.imported_stock = line.stock * imported;
        line.cost_basis = landed;
        line.replacement_cost = landed;
        let mut purchasing = Purchasing::new(vec![line], k_sup);
        set_slots(purchasing.suppliers.line_mut(0), slots, &producer_region);
        let per_unit = retail_labour_per_unit[rs(r, s)];
        let price = (1.0 + b.retail_markup) * (landed + wage[r] * per_unit);
        base_retail_num[rs(r, s)] += price * d.max(1e-12);
        base_retail_den[rs(r, s)] += d.max(1e-12);
        let staff = (per_unit * d).ceil().max(0.0);
        staff_needed.push(staff as u32);
        let profit = d * (price - landed) - wage[r] * staff;
        profits.push(profit);
        employer_region.push(r as u16);
        rows.push((
            retailer_id(nr, n_producers, i),
            Retailer { idx: i as u32, region: r as u16, sector: s as u16 },
            Home(r as u16),
            Shelf { price, target_price: price, fill_ratio: 1.0, ordered: d, ..Default::default() },
            purchasing,
            Cash(Money::from_units(b.cash_buffer_weeks * d * price + steady_excess(b, profit))),
            Staff { employer: (n_producers + i) as u32, revenue_avg: d * price, ..Default::default() },
        ));
    }
    world.spawn_batch(rows);
    let base_retail_price: Vec<f64> = (0..nr * ns)
        .map(|k| if base_retail_den[k] > 0.0 { base_retail_num[k] / base_retail_den[k] } else { cal.retail_price[k] })
        .collect();

    // --- households: employers filled in index order up to their planned staff
    let employers_by_region: Vec<Vec<u32>> = (0..nr)
        .map(|r| (0..n_employers as u32).filter(|&e| employer_region[e as usize] == r as u16).collect())
        .collect();
    let mut cursor = vec![(0usize, 0u32); nr];
    let mut owners = vec![0u32; n_employers];
    let mut staff = vec![0u32; n_employers];
    let mut served = vec![0usize; nr];
    // Who works where and owns what, household by household.
    let mut jobs = Vec::with_capacity(plan.household_region.len());
    for &r in &plan.household_region {
        let emps = &employers_by_region[r];
        let (pos, filled) = &mut cursor[r];
        let mut employer = NONE;
        while *pos < emps.len() {
            let e = emps[*pos] as usize;
            if *filled < staff_needed[e] {
                employer = e as u32;
                *filled += 1;
                break;
            }
            *pos += 1;
            *filled = 0;
        }
        if employer != NONE {
            staff[employer as usize] += 1;
        }
        let owner_of = if emps.is_empty() { NONE } else { emps[served[r] % emps.len()] };
        served[r] += 1;
        if owner_of != NONE {
            owners[owner_of as usize] += 1;
        }
        jobs.push((employer, owner_of));
    }
    // Each household starts in its own steady state: its income is its wage (if employed)
    // and its share of its firm's profit, plus an equal part of what else its region's
    // households receive at base (transfers: the base period's income less wages and
    // profits), and its cash the level at which the budget rule spends exactly that income.
    let own_income = |&(employer, owner_of): &(u32, u32), r: usize| {
        let wage_part = if employer == NONE { 0.0 } else { wage[r] };
        let dividend = if owner_of == NONE {
            0.0
        } else {
            profits[owner_of as usize].max(0.0) / owners[owner_of as usize].max(1) as f64
        };
        wage_part + dividend
    };
    let mut own_sum = vec![0.0; nr];
    for (job, &r) in jobs.iter().zip(&plan.household_region) {
        own_sum[r] += own_income(job, r);
    }
    // Gross income is what the region earns; what its households spend (and so hold) is
    // that less what they lend abroad, or plus their part of what their region borrows.
    let lend_rate = &cal.financing.lend_rate;
    let per_household = |total: &[f64], r: usize| {
        let h = sc.regions[r].households as f64;
        if h > 0.0 { total[r] / h } else { 0.0 }
    };
    let rest: Vec<f64> = (0..nr).map(|r| per_household(&cal.income, r) - per_household(&own_sum, r)).collect();
    let borrowed: Vec<f64> = (0..nr).map(|r| cal.consumption[r] - (1.0 - lend_rate[r]) * cal.income[r]).collect();
    // What households lent in the week before tick 0, lent abroad at tick 0.
    let mut lent = vec![0i64; nr];
    let first_household = 1 + (nr + n_producers + n_retailers) as u64;
    let mut rows = Vec::with_capacity(plan.known.len());
    for (k, (known, job)) in plan.known.into_iter().zip(&jobs).enumerate() {
        let r = plan.household_region[k];
        let gross = (own_income(job, r) + rest[r]).max(0.0);
        let lends = crate::economy::finance::lent_from(lend_rate[r], Money::from_units(gross).0);
        lent[r] += lends;
        let income = (gross - lends as f64 / CENTS_PER_UNIT + per_household(&borrowed, r)).max(0.0);
        let cash = (1.0 - b.consume_income) / b.consume_wealth * income;
        let (employer, owner_of) = *job;
        rows.push((
            AgentId(first_household + k as u64),
            Household { region: r as u16, employer, owner_of, income },
            KnownRetailers::new(&known, consumer_sectors.len()),
            Budget::default(),
            Cash(Money::from_units(cash)),
        ));
    }
    world.spawn_batch(rows);

    // Staff and owners are known only now.
    let mut q = world.query::<&mut Staff>();
    for mut st in q.iter_mut(&mut world) {
        let e = st.employer as usize;
        st.workers = staff[e];
        st.target = staff[e];
        st.owners = owners[e];
    }

    // --- resources
    let nc = consumer_sectors.len();
    let model = Model {
        scenario: scenario.clone(),
        policy_enabled,
        n_regions: nr,
        n_sectors: ns,
        consumer_sectors,
        base_retail_price,
        base_landed_price: cal.landed.clone(),
        base_import_value: cal.import_value.clone(),
        households: sc.regions.iter().map(|r| r.households).collect(),
        labour_per_unit,
        retail_labour_per_unit,
        base_wage: wage.clone(),
        base_consumption: cal.consumption.clone(),
        base_income: cal.income.clone(),
        import_propensity: cal.import_propensity.clone(),
    };
    let mut tariffs = TariffTable {
        n_regions: nr,
        n_sectors: ns,
        rate: sc.initial_tariffs.clone(),
        boycott: vec![0.0; nr * nr * ns],
        grace: vec![Grace::default(); nr * nr * ns],
        announced: Vec::new(),
    };
    for r in 0..nr {
        for s in 0..ns {
            let c = tariffs.cell(r, r, s);
            tariffs.rate[c] = 0.0;
        }
    }
    let mut pboard = ProducerBoard {
        n_regions: nr,
        region: plan.producer_place.iter().map(|&(r, _)| r as u16).collect(),
        sector: plan.producer_place.iter().map(|&(_, s)| s as u16).collect(),
        price: vec![1.0; n_producers],
        fob: vec![Fob { price: 1.0, weight: 1.0 }; n_producers],
        fob_row_of: vec![0; nr],
        capacity: vec![0.0; n_producers],
        fill_ratio: vec![1.0; n_producers],
        rationing: vec![0; n_producers.div_ceil(64)],
        by_region_sector: plan.producer_ranges,
    };
    for (p, prod) in world.query::<(&Producer, &Production)>().iter(&world) {
        pboard.capacity[p.idx as usize] = prod.capacity;
    }
    let mut rboard = RetailerBoard {
        price: vec![1.0; n_retailers],
        appeal: vec![1.0; n_retailers],
        fill_ratio: vec![1.0; n_retailers],
        sector_share: vec![0.0; nr * nc],
        by_region_sector: plan.retailer_ranges,
    };
    for (r, shelf) in world.query::<(&Retailer, &Shelf)>().iter(&world) {
        rboard.price[r.idx as usize] = shelf.price;
    }
    world.insert_resource(OrderBook {
        n_producers,
        producer_ordered: Tally::new(n_producers * nr),
        producer_filled: Tally::new(n_producers * nr),
        retailer_ordered: Tally::new(n_retailers),
        retailer_filled: Tally::new(n_retailers),
    });
    world.insert_resource(EmployerBoard {
        region: employer_region,
        layoff_share: vec![0.0; n_employers],
        postings: vec![Posting::default(); n_employers],
        dividend_per_owner: vec![0; n_employers],
        capital_call_per_owner: vec![0; n_employers],
        capital_paid: Tally::new(n_employers),
        staff_moves: Tally::new(n_employers),
        vacancy_cdf: vec![Vec::new(); nr],
        job_finding: vec![0.0; nr],
    });
    world.insert_resource(Transfers { per_household: vec![0; nr], aid_per_producer: vec![(0, 0); nr] });
    world.insert_resource(crate::economy::finance::ForeignAccounts::new(&cal.financing, lent));
    world.insert_resource(crate::economy::finance::HouseholdLending { by_region: vec![0; nr] });
    world.insert_resource(pboard);
    world.insert_resource(Quotes::default());
    world.insert_resource(rboard);
    world.insert_resource(tariffs);
    world.insert_resource(Wages { per_worker: wage.iter().map(|&w| Money::from_units(w)).collect() });
    world.insert_resource(Clock { tick: 0 });
    world.insert_resource(crate::economy::customs::CustomsLedger::new(nr, ns));
    world.insert_resource(crate::metrics::Observed::new(&model));
    world.insert_resource(crate::metrics::HouseholdCash::default());
    world.insert_resource(crate::metrics::ProducerFlows::default());
    let prices: Vec<f64> = {
        let mut prices = vec![0.0; n_producers];
        for (p, prod) in world.query::<(&Producer, &Production)>().iter(&world) {
            prices[p.idx as usize] = prod.price;
        }
        prices
    };
    lay_out_buyers(&mut world, sc, &prices);
    world.insert_resource(model);
    world
}

/// Gives every buyer's heap data a fresh place, kind by kind in table order: all buyers'
/// lines, then all their supplier slots, then their shipments in transit; and fills the
/// pipelines of the steady state (`fill_pipeline`).
///
/// Each pass over buyers streams some of these kinds (arrivals: lines and shipments;
/// ordering: lines and slots; matching's fills: all three; pricing, production and
/// metrics: lines only).
/// Allocated as the world is built, a buyer's lines sit between its slots and the next
/// buyer's lines, and its shipments land wherever the allocator puts them. Laid out here,
/// the blocks of one kind follow one another in the order the passes visit them, so a
/// pass reads memory nearly in sequence; a buyer whose shipments outgrow their room (a
/// search that switched to a farther supplier) moves them, which changes nothing but where
/// they are. At the large preset this took a quarter to two fifths off the passes that
/// stream lines (the row in docs/performance.md, "What changed").
fn lay_out_buyers(world: &mut World, sc: &Scenario, prices: &[f64]) {
    let mut buyers = world.query::<(&Home, &mut Purchasing)>();
    let mut buyers: Vec<_> = buyers.iter_mut(world).collect();
    // Each kind is copied to new blocks, allocated one after another, before the old ones
    // are freed (so the new ones do not land in the holes the old ones leave).
    let mut lines: Vec<Vec<InputLine>> = buyers.iter().map(|(_, p)| p.lines.clone()).collect();
    let suppliers: Vec<Suppliers> = buyers.iter().map(|(_, p)| p.suppliers.clone()).collect();
    let mut suppliers = suppliers;
    // A foreign supplier has one shipment on its way for each week of its lead time (one
    // dispatched a week, landing `lead` weeks later).
    let shipments: Vec<Vec<Shipment>> = buyers
        .iter()
        .zip(lines.iter_mut().zip(suppliers.iter_mut()))
        .map(|((home, p), (lines, suppliers))| {
            let d = home.0 as usize;
            let in_transit = |slot: &SupplierSlot| {
                if slot.producer == NONE || slot.origin == home.0 { 0 } else { sc.lead_time(slot.origin as usize, d) }
            };
            let mut shipments = Vec::with_capacity(p.suppliers.all().iter().map(in_transit).sum::<u32>() as usize);
            fill_pipeline(sc, d, lines, suppliers, prices, &mut shipments);
            shipments
        })
        .collect();
    for (((_, purchasing), lines), (suppliers, shipments)) in
        buyers.iter_mut().zip(lines).zip(suppliers.into_iter().zip(shipments))
    {
        debug_assert!(purchasing.shipments.is_empty(), "shipments are made here");
        purchasing.lines = lines;
        purchasing.suppliers = suppliers;
        purchasing.shipments = shipments;
    }
}

/// A buyer's goods on their way at the start, as in the steady state the world is built
/// in: each supplier has shipped the line's forecast × its share every week of its lead
/// time (foreign: one shipment a week, dispatched at ticks −lead … −1 and landing at
/// 0 … lead − 1; domestic: the fill due at tick 0), paid for at the price it charges this
/// buyer's region. Their tariffs are paid when they land, at the rates then in force.
/// With the lead time's worth in transit and the cover on hand, a buyer's position is its
/// target and it orders its forecast from the first week, so nothing starts short.
fn fill_pipeline(
    sc: &Scenario,
    d: usize,
    lines: &mut [InputLine],
    suppliers: &mut Suppliers,
    prices: &[f64],
    shipments: &mut Vec<Shipment>,
) {
    let longest = (0..sc.n_regions()).map(|e| sc.lead_time(e, d)).max().unwrap_or(0) as i64;
    // Dispatch order: week by week from the earliest, then line by line and slot by slot,
    // as matching dispatches.
    for dispatched in -longest..=-1 {
        for (li, line) in lines.iter_mut().enumerate() {
            let s = line.sector as usize;
            for slot in suppliers.line_mut(li).iter_mut() {
                if slot.producer == NONE || slot.share <= 0.0 {
                    continue;
                }
                let e = slot.origin as usize;
                let lead = sc.lead_time(e, d) as i64;
                if -dispatched > lead {
                    continue;
                }
                let fob = if e == d {
                    prices[slot.producer as usize]
                } else {
                    prices[slot.producer as usize]
                        * (1.0 + sc.initial_tariff(d, e, s)).powf(-sc.regions[e].exporter_absorption)
                };
                let transport = sc.transport_cost(e, d);
                let cents = to_cents(line.forecast * slot.share * (1.0 + transport) * fob * CENTS_PER_UNIT);
                if cents <= 0 {
                    continue;
                }
                let shipped = quantity_for(cents, fob);
                slot.fob = fob;
                line.in_transit += shipped / (1.0 + transport);
                if e == d {
                    // Domestic fills arrive the tick after dispatch: only the last week's.
                    line.domestic_next += shipped;
                    line.domestic_next_value += Money(cents);
                } else {
                    line.abroad += shipped;
                    shipments.push(Shipment {
                        line: li as u16,
                        origin: e as u16,
                        arrives: (dispatched + lead) as u32,
                        quantity: shipped,
                        value: Money(cents),
                    });
                }
            }
        }
    }
}
