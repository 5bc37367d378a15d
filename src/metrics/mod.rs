//! Phase 9, metrics: aggregates this tick's series into a [`TickReport`] (the rows of the
//! output files), checks the money and goods identities, and records what governments'
//! rules will observe next tick. It reads agents and never changes them.
//!
//! Floating-point sums over agents run in a fixed order that does not depend on the thread
//! count: producers' sector flows in fixed chunks of [`FLOWS_CHUNK`] (each summed in table
//! order, then combined chunk by chunk), each mean fob price over its destination's row
//! alone, everything else serially in query order. Two sums are made by the pass that
//! visits those agents last anyway, so that metrics need not stream them again: producers'
//! sector flows by production ([`ProducerFlows`]), and households' cash by region, an
//! integer sum in any order, by the income pass ([`HouseholdCash`]). Producers' cash and
//! staff are integer sums too.
//! The results are reproducible bit for bit.

pub mod ledger;

pub use ledger::Ledger;

use crate::agents::government::PolicyChange;
use crate::agents::producer::Production;
use crate::agents::{Cash, Government, PolicyState, Producer, Purchasing, Retailer, Shelf, Staff};
use crate::economy::customs::CustomsLedger;
use crate::economy::finance::ForeignAccounts;
use crate::market::{Clock, Model, OrderBook, ProducerBoard, TariffTable, Transfers, Wages};
use crate::threads::row_chunks;
use crate::units::CENTS_PER_UNIT;
use bevy_ecs::prelude::*;
use std::sync::Mutex;

/// What policy rules see: last tick's measurements (MODEL.md §4.1).
#[derive(Resource, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Observed {
    pub n_regions: usize,
    pub gdp: Vec<f64>,
    /// GDP smoothed over about four weeks.
    pub gdp_avg: Vec<f64>,
    pub cpi: Vec<f64>,
    /// The CPI a week earlier.
    pub cpi_previous: Vec<f64>,
    pub unemployment_rate: Vec<f64>,
    /// Shortage rate of buyers in `[region][sector]` (households and firms).
    pub shortage_rate: Vec<f64>,
    /// Imports plus exports between `[region][partner]`, currency units per week.
    pub bilateral_trade: Vec<f64>,
    /// The same, smoothed over about four weeks.
    pub bilateral_trade_avg: Vec<f64>,
}

impl Observed {
    pub fn new(model: &Model) -> Observed {
        let (nr, ns) = (model.n_regions, model.n_sectors);
        let mut trade = vec![0.0; nr * nr];
        for i in 0..nr {
            for e in 0..nr {
                if i == e {
                    continue;
                }
                for s in 0..ns {
                    let v = model.base_import_value[model.ies(i, e, s)];
                    trade[i * nr + e] += v;
                    trade[e * nr + i] += v;
                }
            }
        }
        Observed {
            n_regions: nr,
            gdp: model.base_income.clone(),
            gdp_avg: model.base_income.clone(),
            cpi: vec![1.0; nr],
            cpi_previous: vec![1.0; nr],
            unemployment_rate: model
                .households
                .iter()
                .map(|_| 1.0 - model.scenario.behaviour.target_employment)
                .collect(),
            shortage_rate: vec![0.0; nr * ns],
            bilateral_trade: trade.clone(),
            bilateral_trade_avg: trade,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionRow {
    pub region: usize,
    pub gdp: f64,
    pub real_gdp: f64,
    pub cpi: f64,
    pub import_price_index: f64,
    pub employment: u64,
    pub unemployment_rate: f64,
    pub consumption: f64,
    pub shortage_rate: f64,
    pub tariff_revenue: f64,
    pub imports: f64,
    pub exports: f64,
    pub wage: f64,
    pub government_cash: f64,
    pub household_cash: f64,
    pub firm_cash: f64,
    pub household_income: f64,
    /// Receipts from buyers abroad less payments to sellers abroad this tick (paid on
    /// dispatch, so not the arrivals `exports` − `imports` count).
    pub current_account: f64,
    /// Lent abroad this tick (negative: borrowed), `economy::finance`.
    pub foreign_lending: f64,
    /// Claims from lending plus money held above the start (sums to zero over regions).
    pub net_foreign_assets: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeRow {
    pub exporter: usize,
    pub importer: usize,
    pub sector: usize,
    /// Units that arrived this tick.
    pub quantity: f64,
    /// Invoice value of this tick's arrivals, currency units.
    pub value: f64,
    pub tariff_rate: f64,
    pub tariff_paid: f64,
    pub boycott: f64,
    pub fob_price: f64,
    pub landed_price: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SectorRow {
    pub region: usize,
    pub sector: usize,
    pub output: f64,
    pub capacity: f64,
    pub producer_price: f64,
    pub retail_price: Option<f64>,
    pub retail_price_domestic: Option<f64>,
    pub retail_price_imported: Option<f64>,
    pub inventory: f64,
    pub inventory_to_sales: Option<f64>,
    pub unfilled_orders: f64,
    pub shortage_rate: f64,
    pub household_demand: f64,
    pub household_spending: f64,
}

/// This tick's series: the rows streamed to the output files.
#[derive(Resource, Debug, Clone, Default)]
pub struct TickReport {
    pub tick: u32,
    pub regions: Vec<RegionRow>,
    pub trade: Vec<TradeRow>,
    pub sectors: Vec<SectorRow>,
    pub policy: Vec<PolicyChange>,
}

/// Per region-sector accumulators for one tick.
#[derive(Clone, Default)]
struct Cell {
    output: f64,
    capacity: f64,
    price_x_capacity: f64,
    producer_count: f64,
    price_sum: f64,
    value_added: f64,
    stock: f64,
    sales_units: f64,
    unfilled_units: f64,
    retail_sold: f64,
    retail_revenue: f64,
    retail_price_x_sold: f64,
    retail_price_sum: f64,
    retail_count: f64,
    dom_weight: f64,
    dom_price: f64,
    imp_weight: f64,
    imp_price: f64,
    buyer_ordered: f64,
    buyer_unfilled: f64,
}

impl Cell {
    /// Every accumulator, in field order (for checks that compare them bit for bit).
    fn values(&self) -> [f64; 20] {
        [
            self.output,
            self.capacity,
            self.price_x_capacity,
            self.producer_count,
            self.price_sum,
            self.value_added,
            self.stock,
            self.sales_units,
            self.unfilled_units,
            self.retail_sold,
            self.retail_revenue,
            self.retail_price_x_sold,
            self.retail_price_sum,
            self.retail_count,
            self.dom_weight,
            self.dom_price,
            self.imp_weight,
            self.imp_price,
            self.buyer_ordered,
            self.buyer_unfilled,
        ]
    }

    fn add(&mut self, o: &Cell) {
        self.output += o.output;
        self.capacity += o.capacity;
        self.price_x_capacity += o.price_x_capacity;
        self.producer_count += o.producer_count;
        self.price_sum += o.price_sum;
        self.value_added += o.value_added;
        self.stock += o.stock;
        self.sales_units += o.sales_units;
        self.unfilled_units += o.unfilled_units;
        self.retail_sold += o.retail_sold;
        self.retail_revenue += o.retail_revenue;
        self.retail_price_x_sold += o.retail_price_x_sold;
        self.retail_price_sum += o.retail_price_sum;
        self.retail_count += o.retail_count;
        self.dom_weight += o.dom_weight;
        self.dom_price += o.dom_price;
        self.imp_weight += o.imp_weight;
        self.imp_price += o.imp_price;
        self.buyer_ordered += o.buyer_ordered;
        self.buyer_unfilled += o.buyer_unfilled;
    }
}

/// Sector cells and goods flows summed over a run of firms.
pub(crate) struct SectorFlows {
    ns: usize,
    cells: Vec<Cell>,
    goods: ledger::GoodsFlows,
}

impl SectorFlows {
    pub(crate) fn new(nr: usize, ns: usize) -> SectorFlows {
        SectorFlows { ns, cells: vec![Cell::default(); nr * ns], goods: ledger::GoodsFlows::new(ns) }
    }

    fn add(&mut self, o: &SectorFlows) {
        for (a, b) in self.cells.iter_mut().zip(&o.cells) {
            a.add(b);
        }
        self.goods.add(&o.goods);
    }

    /// Whether `o` holds the same sums, bit for bit, apart from the units used (which no
    /// agent keeps after production, so a recount cannot see them).
    fn same_apart_from_use(&self, o: &SectorFlows) -> bool {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let (g, h) = (&self.goods, &o.goods);
        self.cells.len() == o.cells.len()
            && self.cells.iter().zip(&o.cells).all(|(a, b)| bits(&a.values()) == bits(&b.values()))
            && [(&g.production, &h.production), (&g.consumed, &h.consumed), (&g.loss, &h.loss)]
                .into_iter()
                .chain([(&g.stocks, &h.stocks), (&g.transit, &h.transit)])
                .all(|(a, b)| bits(a) == bits(b))
    }

    /// A purchased good of a buyer of region `r`, of which it used `used` units this tick.
    fn line(&mut self, r: usize, line: &crate::agents::InputLine, used: f64) {
        let s = line.sector as usize;
        self.goods.stocks[s] += line.stock;
        self.goods.transit[s] += line.domestic_next + line.abroad;
        self.goods.used[s] += used;
        self.goods.loss[s] += line.arrived_domestic_loss;
        let c = &mut self.cells[r * self.ns + s];
        c.stock += line.stock;
        c.buyer_ordered += line.ordered.0 as f64;
        c.buyer_unfilled += line.unfilled.0 as f64;
    }

    /// A producer as production leaves it: its output, capacity, price, stock, sales and
    /// purchased goods, with the units it used of each line (nothing after production
    /// changes them within a tick).
    pub(crate) fn producer(&mut self, p: &Producer, prod: &Production, purchasing: &Purchasing, used: &[f64]) {
        let (r, s) = (p.region as usize, p.sector as usize);
        let c = &mut self.cells[r * self.ns + s];
        c.output += prod.output;
        c.capacity += prod.capacity;
        c.price_x_capacity += prod.price * prod.capacity;
        c.producer_count += 1.0;
        c.price_sum += prod.price;
        c.value_added += prod.value_added;
        c.stock += prod.stock;
        c.sales_units += prod.shipped;
        c.unfilled_units += prod.ordered * (1.0 - prod.fill_ratio);
        self.goods.production[s] += prod.output;
        self.goods.stocks[s] += prod.stock;
        debug_assert_eq!(purchasing.lines.len(), used.len(), "units used of every line");
        for (line, &used) in purchasing.lines.iter().zip(used) {
            self.line(r, line, used);
        }
    }
}

/// Producers' [`SectorFlows`] this tick, summed by the production pass as it makes each
/// producer's output (`production::produce`), in fixed chunks of [`FLOWS_CHUNK`]
/// producers in table order, one part per chunk, which metrics adds up in order. Metrics
/// then reads no producer's lines: a second stream over every purchased good of the world
/// cost it about 4.6 ms a tick at the large preset (docs/performance.md). Nothing after
/// production changes what the parts sum within a tick (checked in debug builds).
#[derive(Resource, Default)]
pub struct ProducerFlows {
    parts: Vec<SectorFlows>,
    /// The tick they were summed in.
    tick: Option<u32>,
}

impl ProducerFlows {
    /// This tick's parts, in chunk order.
    pub(crate) fn set(&mut self, tick: u32, parts: Vec<SectorFlows>) {
        self.parts = parts;
        self.tick = Some(tick);
    }
}

/// Producers per chunk of the [`ProducerFlows`] that production sums (metrics' pass over
/// producers' cash and staff takes the same chunks; its sums are integers). Fixed, so the
/// floating-point sums (within a chunk in table order, then chunk by chunk) do not depend
/// on the thread count. Chunks start afresh in each table; all producers share one table
/// (they are spawned with the same components and none is added or removed), so the
/// chunks are those of the producers in index order.
pub const FLOWS_CHUNK: usize = 2048;

/// Firms' cash, staff and payouts, by region: integers, summed in any order.
struct FirmMoney {
    money: i128,
    firm_cash: Vec<i128>,
    /// Workers, and wages plus dividends paid to households, by region.
    employed: Vec<i64>,
    income: Vec<i64>,
    /// Producers' sales to buyers abroad this tick (cents paid on dispatch), by the
    /// producers' region, and the same by the buyers' region: the current account's two
    /// sides.
    receipts: Vec<i128>,
    payments: Vec<i128>,
}

impl FirmMoney {
    fn new(nr: usize) -> FirmMoney {
        FirmMoney {
            money: 0,
            firm_cash: vec![0; nr],
            employed: vec![0; nr],
            income: vec![0; nr],
            receipts: vec![0; nr],
            payments: vec![0; nr],
        }
    }

    /// What buyers abroad paid producer `p` (of region `e`) this tick.
    fn foreign_sales(&mut self, book: &OrderBook, board: &ProducerBoard, p: &Producer) {
        let e = p.region as usize;
        let rations = board.rations(p.idx);
        for d in (0..self.receipts.len()).filter(|&d| d != e) {
            let paid = book.producer_paid(p.idx as usize, d, rations) as i128;
            self.receipts[e] += paid;
            self.payments[d] += paid;
        }
    }

    /// Cash, staff and payouts of a firm of region `r`.
    fn firm(&mut self, r: usize, cash: &Cash, staff: &Staff, wages: &Wages) {
        self.money += cash.0.0 as i128;
        self.firm_cash[r] += cash.0.0 as i128;
        self.employed[r] += staff.workers as i64;
        self.income[r] +=
            wages.per_worker[r].0 * staff.workers as i64 + staff.dividend_per_owner.0 * staff.owners as i64;
    }

    fn add(&mut self, o: &FirmMoney) {
        self.money += o.money;
        for r in 0..self.firm_cash.len() {
            self.firm_cash[r] += o.firm_cash[r];
            self.employed[r] += o.employed[r];
            self.income[r] += o.income[r];
            self.receipts[r] += o.receipts[r];
            self.payments[r] += o.payments[r];
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn measure(
    clock: Res<Clock>,
    model: Res<Model>,
    table: Res<TariffTable>,
    pboard: Res<ProducerBoard>,
    customs: Res<CustomsLedger>,
    book: Res<OrderBook>,
    wages: Res<Wages>,
    transfers: Res<Transfers>,
    producers: Query<(&Producer, &Cash, &Staff, &Production, &Purchasing)>,
    producer_flows: Res<ProducerFlows>,
    retailers: Query<(&Retailer, &Shelf, &Purchasing, &Cash, &Staff)>,
    (household_cash, accounts): (Res<HouseholdCash>, Res<ForeignAccounts>),
    governments: Query<(&Government, &Cash, &PolicyState)>,
    mut report: ResMut<TickReport>,
    mut observed: ResMut<Observed>,
    mut ledger: ResMut<Ledger>,
) {
    let sc = &*model.scenario;
    let (nr, ns) = (model.n_regions, model.n_sectors);
    let rs = |r: usize, s: usize| r * ns + s;
    // Mean fob price by `[destination][origin][sector]` (0 where no producer).
    let mut fob_mean = vec![0.0; nr * nr * ns];

    // Producers' sector flows, summed by production in fixed chunks, added up in order.
    assert_eq!(producer_flows.tick, Some(clock.tick), "metrics ran before this tick's production pass");
    let mut flows = SectorFlows::new(nr, ns);
    for part in &producer_flows.parts {
        flows.add(part);
    }
    if cfg!(debug_assertions) {
        // Nothing after production may change what it summed: recount each chunk.
        let tables = producers.contiguous_iter().expect("producer components live in tables");
        let chunks = tables
            .flat_map(|(producers, _, _, prods, purchasing)| row_chunks((producers, prods, purchasing), FLOWS_CHUNK));
        let mut parts = producer_flows.parts.iter();
        for (producers, prods, purchasing) in chunks {
            let mut again = SectorFlows::new(nr, ns);
            for ((p, prod), purchasing) in producers.iter().zip(prods).zip(purchasing) {
                again.producer(p, prod, purchasing, &vec![0.0; purchasing.lines.len()]);
            }
            let part = parts.next().expect("a part for every chunk of producers");
            assert!(part.same_apart_from_use(&again), "producers' flows changed after production");
        }
        assert!(parts.next().is_none(), "a part for every chunk of producers");
    }
    // Their cash, staff and payouts, which change after production.
    let wages_ref = &*wages;
    let tables = producers.contiguous_iter().expect("producer components live in tables");
    let chunks = tables.flat_map(|(producers, cash, staff, _, _)| row_chunks((producers, cash, staff), FLOWS_CHUNK));
    let (book_ref, pboard_ref) = (&*book, &*pboard);
    let partials = crate::threads::par_map(chunks, |(producers, cash, staff)| {
        let mut money = FirmMoney::new(nr);
        for ((p, cash), staff) in producers.iter().zip(cash).zip(staff) {
            money.firm(p.region as usize, cash, staff, wages_ref);
            money.foreign_sales(book_ref, pboard_ref, p);
        }
        money
    });
    let mut money = FirmMoney::new(nr);
    for part in &partials {
        money.add(part);
    }
    // Mean price to each destination by origin and sector. The producers of an origin and
    // sector are one run of indices (`by_region_sector`), so each mean sums its run of a
    // row of the board, in producer order. Rows run in parallel, each summed in the same
    // order as alone, and destinations that share a row share its means.
    let (np, n_rows) = (pboard.region.len(), pboard.fob_row_of.iter().max().map_or(0, |&row| row + 1));
    let mut row_means = vec![0.0; n_rows * nr * ns];
    let rows = row_means.chunks_mut((nr * ns).max(1)).enumerate();
    crate::threads::par_map_agents(np, rows, |(row, means)| {
        let block = &pboard.fob[row * np..(row + 1) * np];
        for (k, mean) in means.iter_mut().enumerate() {
            let range = pboard.by_region_sector[k].clone();
            let mut sum = 0.0;
            for fob in &block[range.start as usize..range.end as usize] {
                sum += fob.price;
            }
            *mean = if range.is_empty() { 0.0 } else { sum / range.len() as f64 };
        }
    });
    for (d, means) in fob_mean.chunks_mut(nr * ns).enumerate() {
        let row = pboard.fob_row_of[d];
        means.copy_from_slice(&row_means[row * nr * ns..(row + 1) * nr * ns]);
    }
    let has_producers = |k: usize| !pboard.by_region_sector[k % (nr * ns)].is_empty();
    // Household flows, summed from the firm side (exact integers): what households ordered
    // from and paid retailers, how many are employed, and what they were paid.
    let mut desired = vec![0i64; nr * ns];
    let mut spent = vec![0i64; nr * ns];
    for (rt, shelf, purchasing, cash, staff) in &retailers {
        let (r, s) = (rt.region as usize, rt.sector as usize);
        money.firm(r, cash, staff, &wages);
        desired[rs(r, s)] += book.retailer_ordered.get(rt.idx as usize);
        spent[rs(r, s)] += shelf.revenue;
        let line = &purchasing.lines[0];
        // Retailers use up none of their merchandise: they sell it.
        flows.line(r, line, 0.0);
        flows.goods.consumed[s] += shelf.sold;
        let c = &mut flows.cells[rs(r, s)];
        c.retail_sold += shelf.sold;
        c.retail_revenue += shelf.revenue as f64 / CENTS_PER_UNIT;
        c.retail_price_x_sold += shelf.price * shelf.sold;
        c.retail_price_sum += shelf.price;
        c.retail_count += 1.0;
        c.value_added += shelf.revenue as f64 / CENTS_PER_UNIT - shelf.cost_of_sales;
        c.unfilled_units += shelf.ordered * (1.0 - shelf.fill_ratio);
        let weight = shelf.sold.max(1e-12);
        let imported = line.imported_share();
        c.dom_weight += weight * (1.0 - imported);
        c.dom_price += weight * (1.0 - imported) * shelf.price;
        c.imp_weight += weight * imported;
        c.imp_price += weight * imported * shelf.price;
    }
    let (
        SectorFlows { cells, mut goods, .. },
        FirmMoney { mut money, firm_cash, employed, mut income, receipts, payments },
    ) = (flows, money);
    for (r, inc) in income.iter_mut().enumerate() {
        *inc += transfers.per_household[r] * model.households[r] as i64;
    }
    let household_cash = &household_cash.by_region;
    money += household_cash.iter().sum::<i128>();
    report.policy.clear();
    let mut gov_cash = vec![0.0; nr];
    // Money held in each region: households', firms', its government's, and what its
    // external accounts hold for it.
    let mut region_money: Vec<i128> =
        (0..nr).map(|r| household_cash[r] + firm_cash[r] + accounts.money(r) as i128).collect();
    money += (0..nr).map(|r| accounts.money(r) as i128).sum::<i128>();
    for (gov, cash, policy) in &governments {
        money += cash.0.0 as i128;
        gov_cash[gov.region as usize] = cash.0.units();
        region_money[gov.region as usize] += cash.0.0 as i128;
        report.policy.extend(policy.log.iter().cloned());
    }
    let current_account: Vec<i128> = (0..nr).map(|r| receipts[r] - payments[r]).collect();
    let foreign_assets = ledger.record_foreign(clock.tick, &accounts.claims, &region_money, &current_account);
    report.policy.sort_by_key(|c| (c.government, c.partner, c.sector));
    for i in 0..nr {
        for e in 0..nr {
            for s in 0..ns {
                let c = customs.cell(i, e, s);
                goods.loss[s] += customs.shipped[c] - customs.received[c];
            }
        }
    }
    ledger.record(clock.tick, money, &goods);

    // --- trade
    report.trade.clear();
    let mut imports = vec![0.0; nr];
    let mut exports = vec![0.0; nr];
    let mut bilateral = vec![0.0; nr * nr];
    for e in 0..nr {
        for i in 0..nr {
            for s in 0..ns {
                if !sc.sectors[s].tradable {
                    continue;
                }
                let c = customs.cell(i, e, s);
                let k = (i * nr + e) * ns + s;
                let fob = fob_mean[k];
                let rate = if i == e { 0.0 } else { table.rate(i, e, s) };
                let (quantity, value, tariff) = if i == e {
                    (0.0, 0.0, 0.0)
                } else {
                    (
                        customs.received[c],
                        customs.value[c] as f64 / CENTS_PER_UNIT,
                        customs.tariff[c] as f64 / CENTS_PER_UNIT,
                    )
                };
                if i != e {
                    imports[i] += value;
                    exports[e] += value;
                    bilateral[i * nr + e] += value;
                    bilateral[e * nr + i] += value;
                }
                if i == e {
                    continue;
                }
                report.trade.push(TradeRow {
                    exporter: e,
                    importer: i,
                    sector: s,
                    quantity,
                    value,
                    tariff_rate: rate,
                    tariff_paid: tariff,
                    boycott: table.boycott(i, e, s),
                    fob_price: fob,
                    landed_price: fob * (1.0 + rate) * (1.0 + sc.transport_cost(e, i)),
                });
            }
        }
    }

    // --- sectors
    report.sectors.clear();
    let mut shortage = vec![0.0; nr * ns];
    for r in 0..nr {
        for s in 0..ns {
            let c = &cells[rs(r, s)];
            let desired = desired[rs(r, s)] as f64;
            let spent = spent[rs(r, s)] as f64;
            let wanted = desired + c.buyer_ordered;
            let missing = (desired - spent) + c.buyer_unfilled;
            shortage[rs(r, s)] = if wanted > 0.0 { (missing / wanted).clamp(0.0, 1.0) } else { 0.0 };
            let producer_price = if c.capacity > 0.0 {
                c.price_x_capacity / c.capacity
            } else if c.producer_count > 0.0 {
                c.price_sum / c.producer_count
            } else {
                0.0
            };
            let retail_price = retail_price(c);
            let sales = c.sales_units + c.retail_sold;
            report.sectors.push(SectorRow {
                region: r,
                sector: s,
                output: c.output,
                capacity: c.capacity,
                producer_price,
                retail_price,
                retail_price_domestic: (c.dom_weight > 1e-9 * (c.dom_weight + c.imp_weight))
                    .then(|| c.dom_price / c.dom_weight),
                retail_price_imported: (c.imp_weight > 1e-9 * (c.dom_weight + c.imp_weight))
                    .then(|| c.imp_price / c.imp_weight),
                inventory: c.stock,
                inventory_to_sales: (sales > 0.0).then(|| c.stock / sales),
                unfilled_orders: c.unfilled_units,
                shortage_rate: shortage[rs(r, s)],
                household_demand: desired / CENTS_PER_UNIT,
                household_spending: spent / CENTS_PER_UNIT,
            });
        }
    }

    // --- regions
    report.regions.clear();
    for r in 0..nr {
        let mut cpi_num = 0.0;
        let mut cpi_den = 0.0;
        for &s in &model.consumer_sectors {
            if let Some(p) = retail_price(&cells[rs(r, s)]) {
                let w = sc.sectors[s].budget_share;
                cpi_num += w * p / model.base_retail_price[rs(r, s)];
                cpi_den += w;
            }
        }
        let cpi = if cpi_den > 0.0 { cpi_num / cpi_den } else { 1.0 };
        let mut ipi_num = 0.0;
        let mut ipi_den = 0.0;
        for e in 0..nr {
            if e == r {
                continue;
            }
            for s in 0..ns {
                let w = model.base_import_value[model.ies(r, e, s)];
                let k = (r * nr + e) * ns + s;
                if w > 0.0 && has_producers(k) {
                    let landed = fob_mean[k] * (1.0 + table.rate(r, e, s)) * (1.0 + sc.transport_cost(e, r));
                    ipi_num += w * landed / model.base_landed_price[model.ies(r, e, s)];
                    ipi_den += w;
                }
            }
        }
        let ipi = if ipi_den > 0.0 { ipi_num / ipi_den } else { 1.0 };
        let (mut region_desired, mut region_spent) = (0.0, 0.0);
        let mut value_added = 0.0;
        for s in 0..ns {
            region_desired += desired[rs(r, s)] as f64;
            region_spent += spent[rs(r, s)] as f64;
            value_added += cells[rs(r, s)].value_added;
        }
        let tariff_revenue = customs.revenue[r] as f64 / CENTS_PER_UNIT;
        let gdp = value_added + tariff_revenue;
        let employment = employed[r].max(0) as u64;
        let h = model.households[r] as f64;
        report.regions.push(RegionRow {
            region: r,
            gdp,
            real_gdp: gdp / cpi,
            cpi,
            import_price_index: ipi,
            employment,
            unemployment_rate: if h > 0.0 { 1.0 - employment as f64 / h } else { 0.0 },
            consumption: region_spent / CENTS_PER_UNIT,
            shortage_rate: if region_desired > 0.0 {
                ((region_desired - region_spent) / region_desired).clamp(0.0, 1.0)
            } else {
                0.0
            },
            tariff_revenue,
            imports: imports[r],
            exports: exports[r],
            wage: wages.per_worker[r].units(),
            government_cash: gov_cash[r],
            household_cash: household_cash[r] as f64 / CENTS_PER_UNIT,
            firm_cash: firm_cash[r] as f64 / CENTS_PER_UNIT,
            household_income: income[r] as f64 / CENTS_PER_UNIT,
            current_account: current_account[r] as f64 / CENTS_PER_UNIT,
            foreign_lending: accounts.lent[r] as f64 / CENTS_PER_UNIT,
            net_foreign_assets: foreign_assets[r] as f64 / CENTS_PER_UNIT,
        });
    }
    report.tick = clock.tick;

    // --- what rules observe next tick
    const SMOOTH: f64 = 0.25;
    for row in &report.regions {
        let r = row.region;
        observed.gdp[r] = row.gdp;
        observed.gdp_avg[r] += SMOOTH * (row.gdp - observed.gdp_avg[r]);
        observed.cpi_previous[r] = observed.cpi[r];
        observed.cpi[r] = row.cpi;
        observed.unemployment_rate[r] = row.unemployment_rate;
    }
    observed.shortage_rate.copy_from_slice(&shortage);
    observed.bilateral_trade.copy_from_slice(&bilateral);
    for (avg, now) in observed.bilateral_trade_avg.iter_mut().zip(&bilateral) {
        *avg += SMOOTH * (now - *avg);
    }
}

fn retail_price(c: &Cell) -> Option<f64> {
    if c.retail_sold > 0.0 {
        Some(c.retail_price_x_sold / c.retail_sold)
    } else if c.retail_count > 0.0 {
        Some(c.retail_price_sum / c.retail_count)
    } else {
        None
    }
}

/// Households' cash by region, cents, after this tick's last payment to them. Summed in
/// parallel (integers, so in any order) by the pass that makes that payment
/// (`income::receive_income`), which visits every household anyway.
#[derive(Resource, Debug, Default)]
pub struct HouseholdCash {
    pub by_region: Vec<i128>,
}

impl HouseholdCash {
    /// Sums for one batch of a parallel pass over the households of `regions` regions,
    /// added to `total` when the batch ends.
    pub fn batch(total: &Mutex<Vec<i128>>, regions: usize) -> CashBatch<'_> {
        CashBatch { sums: vec![0; regions], total }
    }
}

/// One batch's household cash by region (see [`HouseholdCash::batch`]).
pub struct CashBatch<'a> {
    sums: Vec<i128>,
    total: &'a Mutex<Vec<i128>>,
}

impl CashBatch<'_> {
    #[inline]
    pub fn add(&mut self, region: usize, cents: i64) {
        self.sums[region] += cents as i128;
    }
}

impl Drop for CashBatch<'_> {
    fn drop(&mut self) {
        let mut total = self.total.lock().unwrap_or_else(|e| e.into_inner());
        for (t, s) in total.iter_mut().zip(&self.sums) {
            *t += s;
        }
    }
}

/// Clears the per-tick tallies agents add to; first system of the tick.
pub fn open_tick(mut book: ResMut<OrderBook>) {
    book.clear();
}
