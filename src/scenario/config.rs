//! The scenario file as written: TOML deserialised with serde, before any checking.
//!
//! Every field a user may leave out is an `Option` here; defaults and cross-checks live in
//! `validate.rs`, which turns a [`ScenarioConfig`] into a [`super::Scenario`].
//! Unknown keys are not refused by serde (that would stop at the first); `load` collects
//! them all with `serde_ignored` and reports them together with every other problem.

use crate::calendar::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct ScenarioConfig {
    pub name: Option<String>,
    pub description: Option<String>,
    /// First day of tick 0.
    pub start: Option<Date>,
    /// Last day simulated: the run covers every week from `start` up to and including this date.
    pub end: Option<Date>,
    pub seed: Option<i64>,
    #[serde(default)]
    pub regions: Vec<RegionConfig>,
    #[serde(default)]
    pub sectors: Vec<SectorConfig>,
    #[serde(default)]
    pub recipes: Vec<RecipeConfig>,
    #[serde(default)]
    pub capacity: Vec<CapacityConfig>,
    pub shipping: Option<ShippingConfig>,
    pub sourcing: Option<SourcingConfig>,
    pub behaviour: Option<BehaviourConfig>,
    #[serde(default)]
    pub tariffs: Vec<TariffConfig>,
    #[serde(default)]
    pub events: Vec<EventConfig>,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
}

/// A region (country or bloc) and its agents.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct RegionConfig {
    pub name: Option<String>,
    /// Annual GDP in currency units: sets the region's size in the world's money stock.
    pub gdp: Option<f64>,
    pub households: Option<i64>,
    pub producers_per_sector: Option<i64>,
    pub retailers_per_sector: Option<i64>,
    /// Divides every recipe's labour per unit in this region.
    pub productivity: Option<f64>,
    /// Share of a destination's tariff this region's exporters absorb in their price.
    pub exporter_absorption: Option<f64>,
    /// What the government does with tariff revenue: "hold", "lump_sum" or "sector_aid".
    pub recycling: Option<String>,
    /// Share of the government's cash paid out per tick under its recycling rule.
    pub recycling_share: Option<f64>,
    /// The sector whose producers receive aid under "sector_aid".
    pub aid_sector: Option<String>,
    /// Annual balance of trade in the base period (exports less imports, currency units):
    /// positive for a surplus region, which lends it abroad, negative for a deficit region,
    /// which borrows it. Balances over all regions sum to zero.
    pub trade_balance: Option<f64>,
}

/// A sector and its default recipe.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct SectorConfig {
    pub name: Option<String>,
    pub tradable: Option<bool>,
    /// Share of household budgets spent on this sector at base prices (0 = not a consumer good).
    pub budget_share: Option<f64>,
    /// Producers' markup over unit cost.
    pub markup: Option<f64>,
    /// Units of each input sector per unit of output.
    #[serde(default)]
    pub inputs: BTreeMap<String, f64>,
    /// Labour per unit of output at base wages (0.3 = labour worth 30% of a base price);
    /// derived so that the base price is 1 when absent.
    pub labour: Option<f64>,
    /// Capacity over base-year output.
    pub capacity_headroom: Option<f64>,
}

/// A region-specific recipe for one sector.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct RecipeConfig {
    pub region: Option<String>,
    pub sector: Option<String>,
    pub inputs: Option<BTreeMap<String, f64>>,
    pub labour: Option<f64>,
    pub markup: Option<f64>,
}

/// A capacity multiplier for one region-sector (0 = no capacity at all).
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct CapacityConfig {
    pub region: Option<String>,
    pub sector: Option<String>,
    pub multiplier: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct ShippingConfig {
    /// Ad valorem iceberg cost of delivery inside a region.
    pub domestic_transport: Option<f64>,
    pub default_lead_weeks: Option<i64>,
    pub default_transport: Option<f64>,
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct RouteConfig {
    pub from: Option<String>,
    pub to: Option<String>,
    pub lead_weeks: Option<i64>,
    pub transport: Option<f64>,
    /// Also set the reverse route (default true).
    pub both_ways: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct SourcingConfig {
    /// Default share of a buyer's supplier slots in its own region, for tradable sectors.
    pub home_share: Option<f64>,
    /// Scale each importer's foreign shares so trade balances at the regions' GDPs (default true).
    pub balance: Option<bool>,
    #[serde(default)]
    pub shares: Vec<SourcingShareConfig>,
}

/// Initial sourcing of one importer-sector across exporters; shares must sum to 1.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct SourcingShareConfig {
    pub importer: Option<String>,
    pub sector: Option<String>,
    #[serde(default)]
    pub shares: BTreeMap<String, f64>,
}

/// Behavioural parameters; see docs/model.md for each.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct BehaviourConfig {
    pub target_employment: Option<f64>,
    pub consume_income: Option<f64>,
    pub consume_wealth: Option<f64>,
    pub income_smoothing: Option<f64>,
    pub sector_price_elasticity: Option<f64>,
    pub retailer_choice_elasticity: Option<f64>,
    pub known_retailers: Option<i64>,
    pub retail_markup: Option<f64>,
    pub retail_labour_share: Option<f64>,
    pub retail_reprice_prob: Option<f64>,
    pub retail_reprice_down_prob: Option<f64>,
    pub retail_cover_weeks: Option<f64>,
    pub exporter_absorption: Option<f64>,
    pub producer_price_adjust: Option<f64>,
    pub scarcity_pricing: Option<f64>,
    pub output_cover_weeks: Option<f64>,
    pub input_cover_weeks: Option<f64>,
    pub forecast_smoothing: Option<f64>,
    pub inventory_adjust: Option<f64>,
    pub suppliers_per_input: Option<i64>,
    pub source_elasticity: Option<f64>,
    pub search_prob: Option<f64>,
    pub switch_threshold: Option<f64>,
    pub frontload_weeks: Option<f64>,
    pub frontload_saturation: Option<f64>,
    pub hiring_rate: Option<f64>,
    pub firing_rate: Option<f64>,
    pub job_match_efficiency: Option<f64>,
    pub dividend_rate: Option<f64>,
    pub cash_buffer_weeks: Option<f64>,
    pub capacity_headroom: Option<f64>,
    pub wage_indexation: Option<f64>,
    pub capacity_adjust: Option<f64>,
    pub source_adjust: Option<f64>,
    pub wage_flexibility: Option<f64>,
}

/// An initial tariff: in force from tick 0 in the scenario and its counterfactual.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct TariffConfig {
    pub importer: Option<String>,
    pub exporter: Option<String>,
    /// Sector names, or absent for every tradable sector.
    pub sectors: Option<Vec<String>>,
    pub rate: Option<f64>,
}

/// A scheduled policy change.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct EventConfig {
    pub name: Option<String>,
    /// "tariff" (default) or "boycott".
    pub kind: Option<String>,
    /// The importing government that makes the change.
    pub government: Option<String>,
    /// The exporter the change applies to.
    pub partner: Option<String>,
    pub sectors: Option<Vec<String>>,
    /// New rate (tariff events): exactly one of `set` and `add`.
    pub set: Option<f64>,
    /// Change in rate, in fractions (0.10 = +10 percentage points); may be negative.
    pub add: Option<f64>,
    /// Boycott share (boycott events): 1 = stop buying entirely, 0 = lift the boycott.
    pub share: Option<f64>,
    pub announce: Option<Date>,
    pub effective: Option<Date>,
    /// Goods shipped before `effective` that arrive by this date pay the old rate.
    pub grace_until: Option<Date>,
    /// Where the numbers come from.
    pub source: Option<String>,
}

/// A reactive policy rule.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
pub struct RuleConfig {
    pub name: Option<String>,
    /// "tit_for_tat", "shortage_exemption" or "de_escalation".
    pub kind: Option<String>,
    pub government: Option<String>,
    pub partner: Option<String>,
    pub sectors: Option<Vec<String>>,
    pub active_from: Option<Date>,
    pub active_until: Option<Date>,
    // tit_for_tat
    pub lag_weeks: Option<i64>,
    #[serde(rename = "match")]
    pub match_share: Option<f64>,
    pub cap: Option<f64>,
    // shortage_exemption
    pub threshold: Option<f64>,
    pub window_weeks: Option<i64>,
    pub exempt_rate: Option<f64>,
    // de_escalation
    pub trade_drop: Option<f64>,
    pub gdp_loss: Option<f64>,
    pub baseline_weeks: Option<i64>,
    pub rate: Option<f64>,
}
