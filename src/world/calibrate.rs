//! The calibrated base period: a steady state of the scenario's world at the aggregate
//! level (regions × sectors), from which agents are sized.
//!
//! Every producer price is normalised to 1 in the base period (as CGE models do): a unit of
//! a good is "one currency unit's worth at base prices". Buyers weight origins by Armington
//! preferences calibrated so that, at base prices, the scenario's sourcing shares are the
//! trade shares. Given recipes, markups, initial tariffs and transport costs, calibration
//! solves the multi-region input–output system for gross output and finds the household
//! spending at which every region's income equals its spending (the only steady state of
//! a closed money stock).

use crate::scenario::Scenario;

/// How regions finance their base-period trade balances (`economy::finance`): a surplus
/// region's households lend `lend_rate` of their gross income abroad each week; what is
/// lent in a week is lent to the deficit regions in proportion to `borrow_share`. So a
/// region's spending is its income less what it lends, or plus what it borrows.
#[derive(Debug, Clone, PartialEq)]
pub struct Financing {
    /// Share of gross household income lent abroad, by region (0 for deficit regions).
    pub lend_rate: Vec<f64>,
    /// Each deficit region's share of what is lent (0 for surplus regions; sums to 1 when
    /// anything is lent).
    pub borrow_share: Vec<f64>,
}

impl Financing {
    /// From the scenario's trade balances: a surplus region lends its balance's share of
    /// its GDP; the deficit regions borrow in proportion to their deficits.
    pub fn new(sc: &Scenario) -> Financing {
        let lend_rate =
            sc.regions.iter().map(|r| if r.trade_balance > 0.0 { r.trade_balance / r.gdp } else { 0.0 }).collect();
        let deficits: f64 = sc.regions.iter().map(|r| (-r.trade_balance).max(0.0)).sum();
        let borrow_share = sc
            .regions
            .iter()
            .map(|r| if r.trade_balance < 0.0 && deficits > 0.0 { -r.trade_balance / deficits } else { 0.0 })
            .collect();
        Financing { lend_rate, borrow_share }
    }

    /// Spending by region when regions earn `income`: surplus regions spend what they do
    /// not lend, deficit regions their income plus their share of all that is lent. The
    /// world spends what it earns.
    pub fn spending(&self, income: &[f64]) -> Vec<f64> {
        let lent: f64 = income.iter().zip(&self.lend_rate).map(|(y, t)| y.max(0.0) * t).sum();
        income
            .iter()
            .zip(&self.lend_rate)
            .zip(&self.borrow_share)
            .map(|((&y, &t), &w)| y - y.max(0.0) * t + w * lent)
            .collect()
    }
}

/// The calibrated base period (all per week, currency units, producer prices = 1).
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Household spending by region.
    pub consumption: Vec<f64>,
    /// Household gross income by region (before lending abroad or borrowing).
    pub income: Vec<f64>,
    pub financing: Financing,
    /// Each importer's scaling of its foreign sourcing shares after balancing (1 = as written).
    pub import_propensity: Vec<f64>,
    /// Share of `[importer][sector]` supply received from each exporter, `[i][s][e]`.
    pub flow_share: Vec<f64>,
    /// Average landed cost per received unit, `[region][sector]`.
    pub landed_avg: Vec<f64>,
    /// Landed cost per received unit by `[importer][exporter][sector]`.
    pub landed: Vec<f64>,
    /// Units received by importers from exporters, `[i][e][s]`, valued at landed cost.
    pub import_value: Vec<f64>,
    pub retail_price: Vec<f64>,
    /// Labour cost per unit of output at base wages, `[region][sector]`: the recipe's
    /// `labour`, or what makes the base price 1 when it is not given.
    pub value_share: Vec<f64>,
}

pub fn fob_factor(sc: &Scenario, importer: usize, exporter: usize, sector: usize) -> f64 {
    if importer == exporter {
        return 1.0;
    }
    let t = sc.initial_tariff(importer, exporter, sector);
    (1.0 + t).powf(-sc.regions[exporter].exporter_absorption)
}

/// Base-period trade shares and the prices that follow from them.
struct Flows {
    flow_share: Vec<f64>,
    landed_avg: Vec<f64>,
    retail_price: Vec<f64>,
    value_share: Vec<f64>,
}

/// Income by region and imports by `[importer][exporter][sector]` when households of each
/// region spend `consumption` a week (gross output solved on the way).
struct Economy {
    income: Vec<f64>,
    import_value: Vec<f64>,
}

/// Trade shares: the scenario's sourcing shares with each importer's foreign shares scaled
/// by its `import_propensity` (the mix of foreign origins is kept), over regions that can
/// produce.
fn flows(sc: &Scenario, landed: &[f64], import_propensity: &[f64]) -> Flows {
    let (nr, ns) = (sc.n_regions(), sc.n_sectors());
    let b = &sc.behaviour;
    let rs = |r: usize, s: usize| r * ns + s;
    let ies = |i: usize, e: usize, s: usize| (i * nr + e) * ns + s;
    let has_producers =
        |e: usize, s: usize| sc.regions[e].producers_per_sector > 0 && sc.capacity_multiplier[rs(e, s)] > 0.0;
    let mut flow_share = vec![0.0; nr * ns * nr];
    let mut landed_avg = vec![1.0; nr * ns];
    for i in 0..nr {
        for s in 0..ns {
            let foreign: f64 = (0..nr).filter(|&e| e != i).map(|e| sc.sourcing_share(i, s, e)).sum();
            // Scale the foreign part, never beyond all of the row.
            let scale = if foreign > 0.0 { import_propensity[i].min(1.0 / foreign) } else { 1.0 };
            let mut row: Vec<f64> = (0..nr)
                .map(|e| if e != i && has_producers(e, s) { sc.sourcing_share(i, s, e) * scale } else { 0.0 })
                .collect();
            row[i] = if has_producers(i, s) { 1.0 - foreign * scale } else { 0.0 };
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
    let value_share = (0..nr * ns)
        .map(|k| {
            let (r, s) = (k / ns, k % ns);
            let recipe = sc.recipe(r, s);
            if let Some(labour) = recipe.labour {
                return labour;
            }
            let inputs: f64 = recipe.inputs.iter().map(|&(j, a)| a * landed_avg[rs(r, j)]).sum();
            (1.0 / (1.0 + recipe.markup) - inputs).max(0.05 / (1.0 + recipe.markup))
        })
        .collect();
    let retail_price =
        (0..nr * ns).map(|k| (1.0 + b.retail_markup) * landed_avg[k] / (1.0 - b.retail_labour_share)).collect();
    Flows { flow_share, landed_avg, retail_price, value_share }
}

/// Gross output, household purchases, income and imports when households of each region
/// spend `consumption` a week.
fn economy(sc: &Scenario, f: &Flows, landed: &[f64], consumption: &[f64]) -> Economy {
    let (nr, ns) = (sc.n_regions(), sc.n_sectors());
    let rs = |r: usize, s: usize| r * ns + s;
    let ies = |i: usize, e: usize, s: usize| (i * nr + e) * ns + s;
    let mut output = vec![0.0; nr * ns];
    let mut retail_units = vec![0.0; nr * ns];
    for r in 0..nr {
        for s in 0..ns {
            retail_units[rs(r, s)] = consumption[r] * sc.sectors[s].budget_share / f.retail_price[rs(r, s)];
        }
    }
    // Units each importer-sector receives: households' purchases plus producers' inputs.
    let received = |output: &[f64], i: usize, s: usize| -> f64 {
        let mut units = retail_units[rs(i, s)];
        for s2 in 0..ns {
            if let Some(&(_, a)) = sc.recipe(i, s2).inputs.iter().find(|(j, _)| *j == s) {
                units += a * output[rs(i, s2)];
            }
        }
        units
    };
    // Gauss–Seidel on X = final + intermediate demand, all in units shipped.
    for _ in 0..500 {
        let mut change: f64 = 0.0;
        for e in 0..nr {
            for s in 0..ns {
                let mut demand = 0.0;
                for i in 0..nr {
                    let ship = (1.0 + sc.transport_cost(e, i)) * f.flow_share[(i * ns + s) * nr + e];
                    if ship > 0.0 {
                        demand += received(&output, i, s) * ship;
                    }
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
    let mut income = vec![0.0; nr];
    let mut import_value = vec![0.0; nr * nr * ns];
    for i in 0..nr {
        for s in 0..ns {
            let units = received(&output, i, s);
            for e in 0..nr {
                let share = f.flow_share[(i * ns + s) * nr + e];
                let shipped = units * share * (1.0 + sc.transport_cost(e, i));
                let fob = fob_factor(sc, i, e, s);
                income[e] += shipped * fob;
                if e != i {
                    income[i] += shipped * fob * sc.initial_tariff(i, e, s);
                }
                import_value[ies(i, e, s)] = units * share * landed[ies(i, e, s)];
            }
        }
        for s in 0..ns {
            let inputs: f64 = sc.recipe(i, s).inputs.iter().map(|&(j, a)| a * f.landed_avg[rs(i, j)]).sum();
            income[i] -= output[rs(i, s)] * inputs;
            income[i] += consumption[i] * sc.sectors[s].budget_share - retail_units[rs(i, s)] * f.landed_avg[rs(i, s)];
        }
    }
    Economy { income, import_value }
}

/// Solves the base period. With `sourcing.balance` (the default), each importer's foreign
/// shares are first scaled (one factor per region, the mix of origins kept) until at the
/// scenario's GDPs every region earns what it spends: with a closed money stock and no
/// capital flows, balanced trade is the only steady state, and this is what lets regions
/// keep their target size.
pub fn calibrate(sc: &Scenario) -> Calibration {
    let (nr, ns) = (sc.n_regions(), sc.n_sectors());
    let ies = |i: usize, e: usize, s: usize| (i * nr + e) * ns + s;
    let mut landed = vec![0.0; nr * nr * ns];
    for i in 0..nr {
        for e in 0..nr {
            for s in 0..ns {
                let t = if i == e { 0.0 } else { sc.initial_tariff(i, e, s) };
                landed[ies(i, e, s)] = fob_factor(sc, i, e, s) * (1.0 + t) * (1.0 + sc.transport_cost(e, i));
            }
        }
    }
    let spends = |r: usize| sc.regions[r].households > 0;
    let financing = Financing::new(sc);
    // Each region earns its GDP and spends it less what it lends abroad, or plus what it
    // borrows: its trade balance.
    let targets: Vec<f64> = (0..nr).map(|r| if spends(r) { sc.regions[r].gdp / 52.0 } else { 0.0 }).collect();
    let target_spending = financing.spending(&targets);
    let mut import_propensity = vec![1.0; nr];
    // Beyond this a region's rows are all foreign: scaling further changes nothing.
    let ceiling: Vec<f64> = (0..nr)
        .map(|i| {
            (0..ns)
                .map(|s| (0..nr).filter(|&e| e != i).map(|e| sc.sourcing_share(i, s, e)).sum::<f64>())
                .filter(|&f| f > 0.0)
                .map(|f| 1.0 / f)
                .fold(1.0, f64::max)
        })
        .collect();
    if sc.sourcing_balance && nr > 1 {
        for _round in 0..300 {
            let f = flows(sc, &landed, &import_propensity);
            let eco = economy(sc, &f, &landed, &target_spending);
            let mut worst: f64 = 0.0;
            for r in (0..nr).filter(|&r| spends(r) && eco.income[r] > 0.0) {
                // Earning more than it spends, a region can afford to import more.
                let gap = eco.income[r] / targets[r];
                worst = worst.max((gap - 1.0).abs());
                import_propensity[r] = (import_propensity[r] * gap.clamp(0.5, 2.0)).clamp(1e-3, ceiling[r]);
            }
            if worst < 1e-9 {
                break;
            }
        }
    }
    let f = flows(sc, &landed, &import_propensity);
    // Then the steady state proper: spending equals income in every region, less what it
    // lends or plus what it borrows.
    let mut consumption = target_spending.clone();
    let world_spending: f64 = consumption.iter().sum();
    let mut eco = economy(sc, &f, &landed, &consumption);
    for _round in 0..400 {
        let income: Vec<f64> = (0..nr).map(|r| if spends(r) { eco.income[r].max(0.0) } else { 0.0 }).collect();
        let wanted = financing.spending(&income);
        let total: f64 = wanted.iter().sum();
        if total.is_nan() || total <= 0.0 {
            break;
        }
        let mut diff: f64 = 0.0;
        for (r, c) in consumption.iter_mut().enumerate() {
            let next = if spends(r) { wanted[r] * world_spending / total } else { 0.0 };
            diff = diff.max((next - *c).abs() / world_spending.max(1e-300));
            *c = next;
        }
        eco = economy(sc, &f, &landed, &consumption);
        if diff < 1e-12 {
            break;
        }
    }
    let Flows { flow_share, landed_avg, retail_price, value_share } = f;
    let import_value = eco.import_value;
    let income = (0..nr).map(|r| if spends(r) { eco.income[r].max(0.0) } else { 0.0 }).collect();
    Calibration {
        consumption,
        income,
        financing,
        import_propensity,
        flow_share,
        landed_avg,
        landed,
        import_value,
        retail_price,
        value_share,
    }
}

/// How far from its GDP a region's base income may land before the calibration is
/// refused (a factor either way).
const INCOME_OFF_BY: f64 = 2.0;

/// Refuses a scenario whose base period has no steady state near its data: a region with
/// households whose calibrated income is more than [`INCOME_OFF_BY`] times above or below
/// its `gdp`. That happens when a trade balance asks more than the region's trade can
/// carry (a surplus larger than it can export, even with its import propensity at its
/// floor): the only steady state left is a region that has shrunk towards nothing.
pub fn check_feasible(sc: &Scenario) -> Result<(), String> {
    let cal = calibrate(sc);
    for (r, region) in sc.regions.iter().enumerate() {
        // A region without producers earns only retail margins and tariffs: it keeps the
        // aggregate calibration's small steady state, as it always has.
        if region.households == 0 || region.gdp <= 0.0 || region.producers_per_sector == 0 {
            continue;
        }
        let ratio = cal.income[r] * 52.0 / region.gdp;
        if !(ratio.is_finite() && (1.0 / INCOME_OFF_BY..=INCOME_OFF_BY).contains(&ratio)) {
            let (balance, advice) = if region.trade_balance != 0.0 {
                (
                    format!(" while running trade_balance = {}", region.trade_balance),
                    "its trade cannot carry that balance: give it a smaller trade_balance, or sourcing shares that let it trade more",
                )
            } else {
                (String::new(), "its producers cannot earn it: check its capacity multipliers and sourcing shares")
            };
            return Err(format!(
                "regions[{r}] ({}): the base period cannot be calibrated: the only steady state with its gdp ({}){balance} \
                 leaves the region an income of {ratio:.3} times its gdp (accepted: {:.1} to {:.1}); {advice}",
                region.name,
                region.gdp,
                1.0 / INCOME_OFF_BY,
                INCOME_OFF_BY
            ));
        }
    }
    Ok(())
}

/// Labour a region's firms need at base: the wage bill at base wages, and workers hired
/// beyond that (firms staff in whole workers).
#[derive(Debug, Clone)]
pub struct LabourNeed {
    pub cost: Vec<f64>,
    pub workers: Vec<f64>,
}

/// The weekly wage per worker at which `target_employment` of each region's households
/// are employed; regions without households (or labour demand) get the mean of the others.
pub fn wages(sc: &Scenario, need: &LabourNeed) -> Vec<f64> {
    let b = &sc.behaviour;
    let nr = sc.n_regions();
    let available = |r: usize| b.target_employment * sc.regions[r].households as f64 - need.workers[r];
    let known: Vec<f64> =
        (0..nr).filter(|&r| available(r) > 0.0 && need.cost[r] > 0.0).map(|r| need.cost[r] / available(r)).collect();
    let fallback = if known.is_empty() { 1.0 } else { known.iter().sum::<f64>() / known.len() as f64 };
    (0..nr)
        .map(|r| if available(r) > 0.0 && need.cost[r] > 0.0 { need.cost[r] / available(r) } else { fallback })
        .collect()
}

/// Worker-weeks per unit for producers and for retailers, by `[region][sector]`.
pub fn labour_coefficients(sc: &Scenario, cal: &Calibration, wage: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (nr, ns) = (sc.n_regions(), sc.n_sectors());
    let mut producer = vec![0.0; nr * ns];
    let mut retail = vec![0.0; nr * ns];
    for (r, &w) in wage.iter().enumerate().take(nr) {
        let prod = sc.regions[r].productivity;
        for s in 0..ns {
            let k = r * ns + s;
            producer[k] = cal.value_share[k] / (w * prod);
            retail[k] = retail_labour_cost(sc, cal, k) / (w * prod);
        }
    }
    (producer, retail)
}

/// Retail labour cost per unit sold at base, `k` = `[region][sector]`.
pub fn retail_labour_cost(sc: &Scenario, cal: &Calibration, k: usize) -> f64 {
    let ls = sc.behaviour.retail_labour_share;
    ls / (1.0 - ls) * cal.landed_avg[k]
}
