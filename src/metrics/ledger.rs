//! The two identities every tick must keep (MODEL.md §3):
//! money is constant, and for every sector
//! production = intermediate use + household consumption + Δinventories + Δin-transit
//!              + transport loss (the iceberg cost of delivery).

use bevy_ecs::prelude::*;
use serde::Serialize;

/// One tick's goods flows and stocks by sector.
#[derive(Debug, Clone)]
pub struct GoodsFlows {
    pub production: Vec<f64>,
    pub used: Vec<f64>,
    pub consumed: Vec<f64>,
    pub loss: Vec<f64>,
    /// Stocks held by producers (output and inputs) and retailers.
    pub stocks: Vec<f64>,
    /// Goods in transit, as shipped (shipments and domestic fills due next tick).
    pub transit: Vec<f64>,
}

impl GoodsFlows {
    pub fn new(n_sectors: usize) -> GoodsFlows {
        let z = vec![0.0; n_sectors];
        GoodsFlows {
            production: z.clone(),
            used: z.clone(),
            consumed: z.clone(),
            loss: z.clone(),
            stocks: z.clone(),
            transit: z,
        }
    }

    /// Adds another set of flows, sector by sector.
    pub fn add(&mut self, o: &GoodsFlows) {
        let pairs = [
            (&mut self.production, &o.production),
            (&mut self.used, &o.used),
            (&mut self.consumed, &o.consumed),
            (&mut self.loss, &o.loss),
            (&mut self.stocks, &o.stocks),
            (&mut self.transit, &o.transit),
        ];
        for (a, b) in pairs {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }
}

/// Worst residuals so far, reported in the manifest.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Residuals {
    /// Money at the start, cents.
    pub money_initial: i128,
    /// Largest |money now − money at start| seen, cents.
    pub money_worst: i128,
    pub money_worst_tick: Option<u32>,
    /// Largest relative goods-balance residual seen over sectors and ticks.
    pub goods_worst: f64,
    pub goods_worst_tick: Option<u32>,
    pub goods_worst_sector: Option<usize>,
    /// Largest |sum over regions of net foreign assets| seen, cents (0 when every claim
    /// has its debtor and money is conserved).
    pub foreign_assets_worst: i128,
    pub foreign_assets_worst_tick: Option<u32>,
    /// Largest |change in a region's net foreign assets − its current account| seen, cents.
    pub current_account_worst: i128,
    pub current_account_worst_tick: Option<u32>,
    pub current_account_worst_region: Option<usize>,
}

#[derive(Resource, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ledger {
    pub residuals: Residuals,
    previous: Option<(Vec<f64>, Vec<f64>)>,
    /// Money held in each region when the world was built, cents.
    region_money_initial: Vec<i128>,
    /// Each region's net foreign assets at the last tick recorded (0 at the start).
    foreign_assets: Vec<i128>,
}

impl Ledger {
    /// The ledger of a world that holds `money_initial` cents, `region_money_initial` in
    /// each region.
    pub fn new(money_initial: i128, region_money_initial: Vec<i128>) -> Ledger {
        let foreign_assets = vec![0; region_money_initial.len()];
        Ledger {
            residuals: Residuals { money_initial, ..Default::default() },
            previous: None,
            region_money_initial,
            foreign_assets,
        }
    }

    /// Each region's net foreign assets (its `claims` from lending plus the money it holds
    /// above what it held at the start), after checking that they sum to zero and that
    /// each moved by its `current_account` since the last tick.
    pub fn record_foreign(
        &mut self,
        tick: u32,
        claims: &[i128],
        region_money: &[i128],
        current_account: &[i128],
    ) -> Vec<i128> {
        let nfa: Vec<i128> = (0..claims.len())
            .map(|r| claims[r] + region_money[r] - self.region_money_initial.get(r).copied().unwrap_or(0))
            .collect();
        let res = &mut self.residuals;
        let sum = nfa.iter().sum::<i128>().abs();
        if sum > res.foreign_assets_worst || res.foreign_assets_worst_tick.is_none() {
            res.foreign_assets_worst = res.foreign_assets_worst.max(sum);
            res.foreign_assets_worst_tick = Some(tick);
        }
        for (r, (now, before)) in nfa.iter().zip(&self.foreign_assets).enumerate() {
            let gap = (now - before - current_account[r]).abs();
            if gap > res.current_account_worst || res.current_account_worst_tick.is_none() {
                res.current_account_worst = res.current_account_worst.max(gap);
                res.current_account_worst_tick = Some(tick);
                res.current_account_worst_region = Some(r);
            }
        }
        self.foreign_assets.clone_from(&nfa);
        nfa
    }

    /// Starts the goods accounts from the stocks of the freshly built world.
    pub fn open(&mut self, stocks: Vec<f64>, transit: Vec<f64>) {
        self.previous = Some((stocks, transit));
    }

    pub fn record(&mut self, tick: u32, money: i128, goods: &GoodsFlows) {
        let gap = (money - self.residuals.money_initial).abs();
        if gap > self.residuals.money_worst || self.residuals.money_worst_tick.is_none() {
            self.residuals.money_worst = self.residuals.money_worst.max(gap);
            self.residuals.money_worst_tick = Some(tick);
        }
        if let Some((stocks, transit)) = &self.previous {
            for s in 0..goods.production.len() {
                let uses = goods.used[s]
                    + goods.consumed[s]
                    + (goods.stocks[s] - stocks[s])
                    + (goods.transit[s] - transit[s])
                    + goods.loss[s];
                // Relative to everything that moved or stood in the sector this tick, so a
                // sector whose stocks have drained is not judged against nothing.
                let scale = [
                    goods.production[s],
                    goods.used[s],
                    goods.consumed[s],
                    goods.loss[s],
                    goods.stocks[s],
                    stocks[s],
                    goods.transit[s],
                    transit[s],
                ]
                .iter()
                .fold(1e-300_f64, |m, v| m.max(v.abs()));
                let residual = (goods.production[s] - uses).abs() / scale;
                if residual > self.residuals.goods_worst || !residual.is_finite() {
                    self.residuals.goods_worst = if residual.is_finite() { residual } else { f64::MAX };
                    self.residuals.goods_worst_tick = Some(tick);
                    self.residuals.goods_worst_sector = Some(s);
                }
            }
        }
        self.previous = Some((goods.stocks.clone(), goods.transit.clone()));
    }
}
