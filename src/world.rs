//! World construction: calibrate a steady state from the scenario, then spawn every agent.
//!
//! Calibration normalises every producer price to 1 in the base period (as CGE models do):
//! a unit of a good is "one currency unit's worth at base prices". Given recipes, markups,
//! initial tariffs, transport costs and sourcing shares, it solves the multi-region
//! input–output system for gross output, finds the household spending at which every
//! region's income equals its spending (the only steady state of a closed money stock),
//! and sets each region's wage so that the target share of its households is employed.
//! Agents then start at that steady state, so the warm-up has little to settle.

use crate::agents::government::RuleState;
use crate::agents::producer::Production;
use crate::agents::*;
use crate::market::*;
use crate::rng::{DrawKey, Purpose, pick_weighted};
use crate::scenario::Scenario;
use crate::units::Money;
use bevy_ecs::prelude::*;
use rand_distr::{Distribution, LogNormal};
use std::sync::Arc;

/// The calibrated base period (all per week, currency units, producer prices = 1).
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Household spending by region.
    pub consumption: Vec<f64>,
    /// Gross output by `[region][sector]`, units.
    pub output: Vec<f64>,
    /// Share of `[importer][sector]` supply received from each exporter, `[i][s][e]`.
    pub flow_share: Vec<f64>,
    /// Average landed cost per received unit, `[region][sector]`.
    pub landed_avg: Vec<f64>,
    /// Landed cost per received unit by `[importer][exporter][sector]`.
    pub landed: Vec<f64>,
    /// Units received by importers from exporters, `[i][e][s]`, valued at landed cost.
    pub import_value: Vec<f64>,
    pub retail_price: Vec<f64>,
    /// Units households buy, `[region][sector]`.
    pub retail_units: Vec<f64>,
    pub wage: Vec<f64>,
    pub labour_per_unit: Vec<f64>,
    pub retail_labour_per_unit: Vec<f64>,
    /// Income by region (equals consumption in the steady state).
    pub income: Vec<f64>,
}

fn fob_factor(sc: &Scenario, importer: usize, exporter: usize, sector: usize) -> f64 {
    if importer == exporter {
        return 1.0;
    }
    let t = sc.initial_tariff(importer, exporter, sector);
    (1.0 + t).powf(-sc.regions[exporter].exporter_absorption)
}

/// Solves the base period.
pub fn calibrate(sc: &Scenario) -> Calibration {
    let (nr, ns) = (sc.n_regions(), sc.n_sectors());
    let b = &sc.behaviour;
    let rs = |r: usize, s: usize| r * ns + s;
    let ies = |i: usize, e: usize, s: usize| (i * nr + e) * ns + s;
    let has_producers =
        |e: usize, s: usize| sc.regions[e].producers_per_sector > 0 && sc.capacity_multiplier[rs(e, s)] > 0.0;

    let mut landed = vec![0.0; nr * nr * ns];
    for i in 0..nr {
        for e in 0..nr {
            for s in 0..ns {
                let t = if i == e { 0.0 } else { sc.initial_tariff(i, e, s) };
                landed[ies(i, e, s)] = fob_factor(sc, i, e, s) * (1.0 + t) * (1.0 + sc.transport_cost(e, i));
            }
        }
    }
    let mut flow_share = vec![0.0; nr * ns * nr];
    let mut landed_avg = vec![1.0; nr * ns];
    for i in 0..nr {
        for s in 0..ns {
            let row: Vec<f64> = (0..nr)
                .map(|e| {
                    if has_producers(e, s) {
                        sc.sourcing_share(i, s, e) * landed[ies(i, e, s)].powf(-b.source_elasticity)
                    } else {
                        0.0
                    }
                })
                .collect();
            let total: f64 = row.iter().sum();
            if total > 0.0 {
                let mut avg = 0.0;
                for e in 0..nr {
                    flow_share[(i * ns + s) * nr + e] = row[e] / total;
                    avg += row[e] / total * landed[ies(i, e, s)];
                }
                landed_avg[rs(i, s)] = avg;
            }
        }
    }
    let value_share = |r: usize, s: usize| -> f64 {
        let recipe = sc.recipe(r, s);
        let inputs: f64 = recipe.inputs.iter().map(|&(j, a)| a * landed_avg[rs(r, j)]).sum();
        (1.0 / (1.0 + recipe.markup) - inputs).max(0.05 / (1.0 + recipe.markup))
    };
    let retail_price: Vec<f64> =
        (0..nr * ns).map(|k| (1.0 + b.retail_markup) * landed_avg[k] / (1.0 - b.retail_labour_share)).collect();

    let mut consumption: Vec<f64> =
        sc.regions.iter().map(|r| if r.households > 0 { r.gdp / 52.0 } else { 0.0 }).collect();
    let world_spending: f64 = consumption.iter().sum();
    let mut output = vec![0.0; nr * ns];
    let mut retail_units = vec![0.0; nr * ns];
    let mut income = vec![0.0; nr];
    let mut import_value = vec![0.0; nr * nr * ns];
    for _round in 0..400 {
        for r in 0..nr {
            for s in 0..ns {
                retail_units[rs(r, s)] = consumption[r] * sc.sectors[s].budget_share / retail_price[rs(r, s)];
            }
        }
        // Gauss–Seidel on X = final + intermediate demand, all in units shipped.
        for _ in 0..500 {
            let mut change: f64 = 0.0;
            for e in 0..nr {
                for s in 0..ns {
                    let mut demand = 0.0;
                    for i in 0..nr {
                        let ship = (1.0 + sc.transport_cost(e, i)) * flow_share[(i * ns + s) * nr + e];
                        if ship == 0.0 {
                            continue;
                        }
                        let mut received = retail_units[rs(i, s)];
                        for s2 in 0..ns {
                            if let Some(&(_, a)) = sc.recipe(i, s2).inputs.iter().find(|(j, _)| *j == s) {
                                received += a * output[rs(i, s2)];
                            }
                        }
                        demand += received * ship;
                    }
                    change = change.max((demand - output[rs(e, s)]).abs() / demand.max(1.0));
                    output[rs(e, s)] = demand;
                }
            }
            if change < 1e-13 {
                break;
            }
        }
        // Income = producer value added + retail margins + tariff revenue.
        income.iter_mut().for_each(|y| *y = 0.0);
        import_value.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..nr {
            for s in 0..ns {
                let mut received = retail_units[rs(i, s)];
                for s2 in 0..ns {
                    if let Some(&(_, a)) = sc.recipe(i, s2).inputs.iter().find(|(j, _)| *j == s) {
                        received += a * output[rs(i, s2)];
                    }
                }
                for e in 0..nr {
                    let shipped = received * flow_share[(i * ns + s) * nr + e] * (1.0 + sc.transport_cost(e, i));
                    let fob = fob_factor(sc, i, e, s);
                    income[e] += shipped * fob; // producer revenue
                    if e != i {
                        income[i] += shipped * fob * sc.initial_tariff(i, e, s);
                    }
                    import_value[ies(i, e, s)] = received * flow_share[(i * ns + s) * nr + e] * landed[ies(i, e, s)];
                }
            }
            for s in 0..ns {
                let inputs: f64 = sc.recipe(i, s).inputs.iter().map(|&(j, a)| a * landed_avg[rs(i, j)]).sum();
                income[i] -= output[rs(i, s)] * inputs;
                income[i] +=
                    consumption[i] * sc.sectors[s].budget_share - retail_units[rs(i, s)] * landed_avg[rs(i, s)];
            }
        }
        let total: f64 = (0..nr).filter(|&r| sc.regions[r].households > 0).map(|r| income[r]).sum();
        if total.is_nan() || total <= 0.0 {
            break;
        }
        let mut diff: f64 = 0.0;
        for r in 0..nr {
            let next = if sc.regions[r].households > 0 { income[r].max(0.0) * world_spending / total } else { 0.0 };
            diff = diff.max((next - consumption[r]).abs() / world_spending.max(1e-300));
            consumption[r] = next;
        }
        if diff < 1e-12 {
            break;
        }
    }

    // Wages: employ `target_employment` of each region's households.
    let mut wage = vec![0.0; nr];
    let mut labour_cost = vec![0.0; nr];
    let mut explicit_workers = vec![0.0; nr];
    for r in 0..nr {
        let prod = sc.regions[r].productivity;
        for s in 0..ns {
            match sc.recipe(r, s).labour {
                Some(l) => explicit_workers[r] += l / prod * output[rs(r, s)],
                None => labour_cost[r] += value_share(r, s) / prod * output[rs(r, s)],
            }
            labour_cost[r] +=
                b.retail_labour_share / (1.0 - b.retail_labour_share) * landed_avg[rs(r, s)] * retail_units[rs(r, s)]
                    / prod;
        }
    }
    let known: Vec<f64> = (0..nr)
        .filter_map(|r| {
            let avail = b.target_employment * sc.regions[r].households as f64 - explicit_workers[r];
            (avail > 0.0 && labour_cost[r] > 0.0).then(|| labour_cost[r] / avail)
        })
        .collect();
    let fallback = if known.is_empty() { 1.0 } else { known.iter().sum::<f64>() / known.len() as f64 };
    for r in 0..nr {
        let avail = b.target_employment * sc.regions[r].households as f64 - explicit_workers[r];
        wage[r] = if avail > 0.0 && labour_cost[r] > 0.0 { labour_cost[r] / avail } else { fallback };
    }
    let mut labour_per_unit = vec![0.0; nr * ns];
    let mut retail_labour_per_unit = vec![0.0; nr * ns];
    for r in 0..nr {
        let prod = sc.regions[r].productivity;
        for s in 0..ns {
            labour_per_unit[rs(r, s)] = match sc.recipe(r, s).labour {
                Some(l) => l / prod,
                None => value_share(r, s) / (wage[r] * prod),
            };
            retail_labour_per_unit[rs(r, s)] =
                b.retail_labour_share / (1.0 - b.retail_labour_share) * landed_avg[rs(r, s)] / (wage[r] * prod);
        }
    }
    Calibration {
        consumption,
        output,
        flow_share,
        landed_avg,
        landed,
        import_value,
        retail_price,
        retail_units,
        wage,
        labour_per_unit,
        retail_labour_per_unit,
        income,
    }
}

/// Builds a world ready to run: resources, governments, producers, retailers, households.
pub fn build_world(scenario: Arc<Scenario>, policy_enabled: bool) -> World {
    let sc = &*scenario;
    let cal = calibrate(sc);
    let (nr, ns) = (sc.n_regions(), sc.n_sectors());
    let b = &sc.behaviour;
    let rs = |r: usize, s: usize| r * ns + s;
    let k_sup = b.suppliers_per_input as usize;
    let k_ret = b.known_retailers as usize;
    let consumer_sectors: Vec<usize> = (0..ns).filter(|&s| sc.sectors[s].is_consumer()).collect();
    let mut world = World::new();
    let mut next_id: u64 = 1;
    let mut take_id = || {
        let id = next_id;
        next_id += 1;
        AgentId(id)
    };

    // --- index layout: producers then retailers, region-major.
    let mut producer_ranges = Vec::with_capacity(nr * ns);
    let mut n_producers: u32 = 0;
    for r in 0..nr {
        for _s in 0..ns {
            let n = sc.regions[r].producers_per_sector;
            producer_ranges.push(n_producers..n_producers + n);
            n_producers += n;
        }
    }
    let mut retailer_ranges = Vec::with_capacity(nr * ns);
    let mut n_retailers: u32 = 0;
    for r in 0..nr {
        for s in 0..ns {
            let n = if sc.sectors[s].is_consumer() { sc.regions[r].retailers_per_sector } else { 0 };
            retailer_ranges.push(n_retailers..n_retailers + n);
            n_retailers += n;
        }
    }
    let n_employers = (n_producers + n_retailers) as usize;
    let model_consumers = consumer_sectors.len();

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
            take_id(),
            Government { region: r as u16 },
            Home(r as u16),
            Cash(Money::ZERO),
            TariffSchedule { n_sectors: ns, rate, boycott: vec![0.0; nr * ns], grace: vec![Grace::default(); nr * ns] },
            PolicyState { rules, state, ..Default::default() },
        ));
    }

    // --- supplier draws shared by producers and retailers
    let seed = sc.seed;
    let draw_supplier = |id: AgentId, buyer_region: usize, sector: usize, line: usize, slot: usize| -> u32 {
        let key = DrawKey::new(seed, id.0, 0, Purpose::Build);
        let idx = (line * 64 + slot) as u64 * 2;
        let weights = (0..nr).map(|e| {
            if producer_ranges[rs(e, sector)].is_empty() || sc.capacity_multiplier[rs(e, sector)] <= 0.0 {
                0.0
            } else {
                sc.sourcing_share(buyer_region, sector, e)
            }
        });
        let Some(e) = pick_weighted(weights, key.uniform(idx)) else { return NONE };
        let range = &producer_ranges[rs(e, sector)];
        range.start + key.below(idx + 1, range.len() as u64) as u32
    };

    // --- producers
    let mut staff_needed: Vec<u32> = Vec::with_capacity(n_employers);
    let mut employer_region: Vec<u16> = Vec::with_capacity(n_employers);
    let mut producer_rows = Vec::with_capacity(n_producers as usize);
    for r in 0..nr {
        for s in 0..ns {
            let n = sc.regions[r].producers_per_sector;
            if n == 0 {
                continue;
            }
            let recipe = sc.recipe(r, s);
            let per_firm = cal.output[rs(r, s)] / n as f64;
            let capacity = sc.sectors[s].capacity_headroom * sc.capacity_multiplier[rs(r, s)] * per_firm;
            let l = cal.labour_per_unit[rs(r, s)];
            for _ in 0..n {
                let idx = producer_rows.len() as u32;
                let id = take_id();
                let mut lines = Vec::with_capacity(recipe.inputs.len());
                for (li, &(j, a)) in recipe.inputs.iter().enumerate() {
                    let mut line = InputLine::new(j, a, k_sup);
                    line.forecast = a * per_firm;
                    let lead = mean_lead(sc, r, j, &cal);
                    line.stock = line.forecast * (lead + b.input_cover_weeks);
                    line.cost_basis = cal.landed_avg[rs(r, j)];
                    for k in 0..k_sup {
                        line.suppliers[k].producer = draw_supplier(id, r, j, li, k);
                    }
                    lines.push(line);
                }
                let workers = (l * per_firm).round().max(0.0) as u32;
                staff_needed.push(workers);
                employer_region.push(r as u16);
                let revenue = per_firm;
                producer_rows.push((
                    id,
                    Producer { idx, region: r as u16, sector: s as u16 },
                    Home(r as u16),
                    Production {
                        capacity,
                        labour_per_unit: l,
                        markup: recipe.markup,
                        price: 1.0,
                        unit_cost: 1.0 / (1.0 + recipe.markup),
                        stock: per_firm * b.output_cover_weeks,
                        forecast: per_firm,
                        planned: per_firm,
                        ordered: per_firm,
                        fill_ratio: 1.0,
                        ..Default::default()
                    },
                    Purchasing { lines, outbox: Vec::new() },
                    Cash(Money::from_units(b.cash_buffer_weeks * revenue)),
                    Staff { employer: idx, revenue_avg: revenue, ..Default::default() },
                ));
            }
        }
    }
    world.spawn_batch(producer_rows);

    // --- retailers
    let mut retailer_rows = Vec::with_capacity(n_retailers as usize);
    for r in 0..nr {
        for &s in &consumer_sectors {
            let n = sc.regions[r].retailers_per_sector;
            if n == 0 {
                continue;
            }
            let sales = cal.retail_units[rs(r, s)] / n as f64;
            let price = cal.retail_price[rs(r, s)];
            for i in 0..n {
                let idx = retailer_ranges[rs(r, s)].start + i;
                let id = take_id();
                let mut line = InputLine::new(s, 1.0, k_sup);
                line.forecast = sales;
                line.stock = sales * (mean_lead(sc, r, s, &cal) + b.retail_cover_weeks);
                line.cost_basis = cal.landed_avg[rs(r, s)];
                line.imported_stock = line.stock * (1.0 - cal.flow_share[(r * ns + s) * nr + r]);
                for k in 0..k_sup {
                    line.suppliers[k].producer = draw_supplier(id, r, s, 0, k);
                }
                let workers = (cal.retail_labour_per_unit[rs(r, s)] * sales).round().max(0.0) as u32;
                staff_needed.push(workers);
                employer_region.push(r as u16);
                let revenue = sales * price;
                retailer_rows.push((
                    id,
                    Retailer { idx, region: r as u16, sector: s as u16 },
                    Home(r as u16),
                    Shelf { price, target_price: price, fill_ratio: 1.0, ..Default::default() },
                    Purchasing { lines: vec![line], outbox: Vec::new() },
                    Cash(Money::from_units(b.cash_buffer_weeks * revenue)),
                    Staff { employer: n_producers + idx, revenue_avg: revenue, ..Default::default() },
                ));
            }
        }
    }
    world.spawn_batch(retailer_rows);

    // --- households: employment and ownership assigned in employer order
    let mut employer_cursor = vec![0usize; nr];
    let employers_by_region: Vec<Vec<u32>> = (0..nr)
        .map(|r| (0..n_employers as u32).filter(|&e| employer_region[e as usize] == r as u16).collect())
        .collect();
    let mut owners = vec![0u32; n_employers];
    let mut staff = vec![0u32; n_employers];
    let mut household_rows = Vec::new();
    let cash_spread = LogNormal::new(-0.125, 0.5).expect("valid lognormal");
    for r in 0..nr {
        let h = sc.regions[r].households;
        if h == 0 {
            continue;
        }
        let income = cal.consumption[r] / h as f64;
        let mean_cash = (1.0 - b.consume_income) / b.consume_wealth * income;
        let emps = &employers_by_region[r];
        let mut filled = 0u32;
        for k in 0..h {
            let id = take_id();
            // Fill employers in order until their calibrated staff is reached.
            let mut employer = NONE;
            while employer_cursor[r] < emps.len() {
                let e = emps[employer_cursor[r]] as usize;
                if filled < staff_needed[e] {
                    employer = e as u32;
                    filled += 1;
                    break;
                }
                employer_cursor[r] += 1;
                filled = 0;
            }
            if employer != NONE {
                staff[employer as usize] += 1;
            }
            let owner_of = if emps.is_empty() { NONE } else { emps[k as usize % emps.len()] };
            if owner_of != NONE {
                owners[owner_of as usize] += 1;
            }
            let key = DrawKey::new(seed, id.0, 0, Purpose::Build);
            let mut known = Vec::with_capacity(consumer_sectors.len() * k_ret);
            for (slot, &s) in consumer_sectors.iter().enumerate() {
                let range = &retailer_ranges[rs(r, s)];
                for j in 0..k_ret {
                    known.push(if range.is_empty() {
                        NONE
                    } else {
                        range.start + key.below((slot * 64 + j) as u64 + 1000, range.len() as u64) as u32
                    });
                }
            }
            let cash = mean_cash * cash_spread.sample(&mut key.rng());
            household_rows.push((
                id,
                Household {
                    region: r as u16,
                    employer,
                    owner_of,
                    income,
                    known: known.into_boxed_slice(),
                    basket: vec![(NONE, Money::ZERO); consumer_sectors.len()].into_boxed_slice(),
                },
                Cash(Money::from_units(cash)),
            ));
        }
    }
    world.spawn_batch(household_rows);

    // Staff and owners are known only now; write them into the firms.
    let mut q = world.query::<&mut Staff>();
    for mut st in q.iter_mut(&mut world) {
        let e = st.employer as usize;
        st.workers = staff[e];
        st.target = staff[e];
        st.owners = owners[e];
    }

    // --- resources
    let mut base_landed_price = vec![0.0; nr * nr * ns];
    base_landed_price.copy_from_slice(&cal.landed);
    let households: Vec<u32> = sc.regions.iter().map(|r| r.households).collect();
    let model = Model {
        scenario: scenario.clone(),
        policy_enabled,
        n_regions: nr,
        n_sectors: ns,
        consumer_sectors,
        base_retail_price: cal.retail_price.clone(),
        base_landed_price,
        base_import_value: cal.import_value.clone(),
        households,
        labour_per_unit: cal.labour_per_unit.clone(),
        retail_labour_per_unit: cal.retail_labour_per_unit.clone(),
        base_wage: cal.wage.clone(),
        base_consumption: cal.consumption.clone(),
        base_output: cal.output.clone(),
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
        region: vec![0; n_producers as usize],
        sector: vec![0; n_producers as usize],
        fob: vec![1.0; n_producers as usize * nr],
        capacity: vec![0.0; n_producers as usize],
        fill_ratio: vec![1.0; n_producers as usize],
        by_region_sector: producer_ranges,
    };
    let mut q = world.query::<(&Producer, &Production)>();
    for (p, prod) in q.iter(&world) {
        pboard.region[p.idx as usize] = p.region;
        pboard.sector[p.idx as usize] = p.sector;
        pboard.capacity[p.idx as usize] = prod.capacity;
    }
    let mut rboard = RetailerBoard {
        region: vec![0; n_retailers as usize],
        sector: vec![0; n_retailers as usize],
        price: vec![1.0; n_retailers as usize],
        appeal: vec![1.0; n_retailers as usize],
        fill_ratio: vec![1.0; n_retailers as usize],
        mean_price: cal.retail_price.clone(),
        sector_share: vec![0.0; nr * model_consumers],
        by_region_sector: retailer_ranges,
    };
    let mut q = world.query::<(&Retailer, &Shelf)>();
    for (r, shelf) in q.iter(&world) {
        rboard.region[r.idx as usize] = r.region;
        rboard.sector[r.idx as usize] = r.sector;
        rboard.price[r.idx as usize] = shelf.price;
    }
    let wages = Wages { per_worker: cal.wage.iter().map(|&w| Money::from_units(w)).collect() };
    world.insert_resource(OrderBook {
        n_regions: nr,
        producer_ordered: Tally::new(n_producers as usize * nr),
        producer_filled: Tally::new(n_producers as usize * nr),
        retailer_ordered: Tally::new(n_retailers as usize),
        retailer_filled: Tally::new(n_retailers as usize),
    });
    world.insert_resource(EmployerBoard {
        region: employer_region,
        layoff_share: vec![0.0; n_employers],
        vacancies: vec![0; n_employers],
        dividend_per_owner: vec![0; n_employers],
        staff: Tally::new(n_employers),
        vacancy_cdf: vec![Vec::new(); nr],
        job_finding: vec![0.0; nr],
    });
    world.insert_resource(HouseholdTally {
        desired: Tally::new(nr * ns),
        spent: Tally::new(nr * ns),
        employed: Tally::new(nr),
        income: Tally::new(nr),
    });
    world.insert_resource(Transfers { per_household: vec![0; nr], aid_per_producer: vec![(0, 0); nr] });
    world.insert_resource(pboard);
    world.insert_resource(rboard);
    world.insert_resource(tariffs);
    world.insert_resource(wages);
    world.insert_resource(Clock { tick: 0 });
    world.insert_resource(ShipmentCalendar::default());
    world.insert_resource(NextAgentId(next_id));
    world.insert_resource(crate::economy::customs::CustomsLedger::new(nr, ns));
    world.insert_resource(crate::metrics::Observed::new(&model));
    world.insert_resource(model);
    world
}

/// The next free agent id (shipments take ids as they are spawned).
#[derive(Resource, Debug, Clone, Copy)]
pub struct NextAgentId(pub u64);

/// The average lead time of a buyer's supply of a sector at base flow shares.
fn mean_lead(sc: &Scenario, region: usize, sector: usize, cal: &Calibration) -> f64 {
    let (nr, ns) = (sc.n_regions(), sc.n_sectors());
    (0..nr).map(|e| cal.flow_share[(region * ns + sector) * nr + e] * sc.lead_time(e, region) as f64).sum()
}
