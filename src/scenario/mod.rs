//! Scenarios: the TOML file a researcher edits ([`config::ScenarioConfig`]) and the checked,
//! index-resolved [`Scenario`] the engine runs.
//!
//! `load_file` and `parse` report *every* problem of a file at once, each with its field
//! path, its line and column when the file has it, and what would be accepted.

pub mod config;
mod embedded;
mod locate;
pub mod schema;
mod validate;

pub use embedded::{EMBEDDED, embedded, embedded_names};
pub use locate::position_of_offset;

use crate::calendar::Calendar;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// One thing wrong with a scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Field path such as `events[2].partner` (empty for a whole-file problem).
    pub path: String,
    /// 1-based line and column in the file, when known.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

/// Everything wrong with one scenario file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ScenarioError {
    /// The file (or `<embedded NAME>`).
    pub origin: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_problems(f, &self.origin, &self.problems)
    }
}

/// `ORIGIN: N problems`, then one line per problem with its place: how every input file's
/// problems are reported (scenario files, sweep files).
pub fn write_problems(f: &mut fmt::Formatter<'_>, origin: &str, problems: &[Problem]) -> fmt::Result {
    let n = problems.len();
    write!(f, "{origin}: {n} problem{}", if n == 1 { "" } else { "s" })?;
    for p in problems {
        write!(f, "\n  {origin}")?;
        if let Some((line, col)) = p.position {
            write!(f, ":{line}:{col}")?;
        }
        if p.path.is_empty() {
            write!(f, ": {}", p.message)?;
        } else {
            write!(f, ": {}: {}", p.path, p.message)?;
        }
    }
    Ok(())
}

/// The most known retailers per sector a scenario may give households (a limit of the
/// schema; demand's stack buffer of weights is this long).
pub const MAX_KNOWN_RETAILERS: usize = 32;

/// A region (country or bloc) as the engine uses it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Region {
    pub name: String,
    /// Annual GDP target in currency units; sets the region's share of final demand.
    pub gdp: f64,
    pub households: u32,
    pub producers_per_sector: u32,
    pub retailers_per_sector: u32,
    pub productivity: f64,
    pub exporter_absorption: f64,
    pub recycling: Recycling,
    /// Annual base-period trade balance (exports − imports), currency units; financed by
    /// lending between regions (`economy::finance`). 0 = balanced trade.
    pub trade_balance: f64,
}

/// What a government does with its tariff revenue each tick (MODEL.md §4.8).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Recycling {
    /// Keep it.
    Hold,
    /// Pay `share` of cash to the region's households in equal parts.
    LumpSum { share: f64 },
    /// Pay `share` of cash to the region's producers of `sector` in equal parts (farm aid).
    SectorAid { sector: usize, share: f64 },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sector {
    pub name: String,
    pub tradable: bool,
    /// Base-period share of household budgets; 0 means households do not buy it.
    pub budget_share: f64,
    pub capacity_headroom: f64,
}

impl Sector {
    /// Households buy this sector through retailers.
    pub fn is_consumer(&self) -> bool {
        self.budget_share > 0.0
    }
}

/// A Leontief recipe for one region-sector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recipe {
    /// (input sector, units per unit of output), inputs with positive coefficients only.
    pub inputs: Vec<(usize, f64)>,
    /// Labour per unit of output, measured as its cost at base-period wages (so 0.3 = labour
    /// worth 30% of a base price); `None` = whatever makes the base-period price 1.
    /// Regional productivity divides it.
    pub labour: Option<f64>,
    pub markup: f64,
}

/// Behavioural parameters (docs/model.md explains each).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Behaviour {
    pub target_employment: f64,
    pub consume_income: f64,
    pub consume_wealth: f64,
    pub income_smoothing: f64,
    pub sector_price_elasticity: f64,
    pub retailer_choice_elasticity: f64,
    /// Retailers each household knows per consumer sector, 1 to [`MAX_KNOWN_RETAILERS`].
    pub known_retailers: u32,
    pub retail_markup: f64,
    pub retail_labour_share: f64,
    pub retail_reprice_prob: f64,
    pub retail_reprice_down_prob: f64,
    pub retail_cover_weeks: f64,
    pub exporter_absorption: f64,
    pub producer_price_adjust: f64,
    pub scarcity_pricing: f64,
    pub output_cover_weeks: f64,
    pub input_cover_weeks: f64,
    pub forecast_smoothing: f64,
    pub inventory_adjust: f64,
    pub suppliers_per_input: u32,
    pub source_elasticity: f64,
    pub search_prob: f64,
    pub switch_threshold: f64,
    pub frontload_weeks: f64,
    pub frontload_saturation: f64,
    pub hiring_rate: f64,
    pub firing_rate: f64,
    pub job_match_efficiency: f64,
    pub dividend_rate: f64,
    pub cash_buffer_weeks: f64,
    pub wage_indexation: f64,
    pub capacity_adjust: f64,
    pub source_adjust: f64,
    pub wage_flexibility: f64,
}

/// A scheduled policy change (MODEL.md §5).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub name: String,
    pub kind: EventKind,
    /// Importing region whose government acts.
    pub government: usize,
    /// Exporting region the change applies to.
    pub partner: usize,
    pub sectors: Vec<usize>,
    pub announce_tick: Option<u32>,
    pub effective_tick: u32,
    pub grace_until_tick: Option<u32>,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", content = "value", rename_all = "snake_case")]
pub enum EventKind {
    SetTariff(f64),
    AddTariff(f64),
    Boycott(f64),
}

/// A reactive policy rule (MODEL.md §5).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub government: usize,
    pub partner: usize,
    pub sectors: Vec<usize>,
    pub active_from: u32,
    pub active_until: u32,
    pub kind: RuleKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RuleKind {
    /// After `lag` ticks, answer a partner's average tariff increase on our exports in the
    /// rule's sectors by `match_share` × the increase, each rate capped at `cap`.
    TitForTat { lag: u32, match_share: f64, cap: f64 },
    /// When our shortage rate in a sector stays above `threshold` for `window` ticks, cut
    /// the partner's rate in that sector to `exempt_rate`.
    ShortageExemption { threshold: f64, window: u32, exempt_rate: f64 },
    /// When bilateral trade is down by `trade_drop` (or our GDP by `gdp_loss`) against the
    /// `baseline` ticks before `active_from`, for `window` ticks, set the partner's rates to `rate`.
    DeEscalation { trade_drop: Option<f64>, gdp_loss: Option<f64>, window: u32, baseline: u32, rate: f64 },
}

/// A checked scenario with names resolved to indices. Matrices are flat, row-major.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub calendar: Calendar,
    /// Number of weekly ticks simulated.
    pub ticks: u32,
    pub seed: u64,
    pub regions: Vec<Region>,
    pub sectors: Vec<Sector>,
    /// `[region][sector]`
    pub recipes: Vec<Recipe>,
    /// `[region][sector]`
    pub capacity_multiplier: Vec<f64>,
    /// Lead time in ticks, `[from][to]`; the diagonal is 1 (domestic delivery).
    pub lead: Vec<u32>,
    /// Ad valorem (iceberg) transport cost, `[from][to]`.
    pub transport: Vec<f64>,
    /// Initial share of supplier slots, `[importer][sector][exporter]`; rows sum to 1.
    pub sourcing: Vec<f64>,
    /// Balance trade at the regions' GDPs by scaling importers' foreign shares (see `world::calibrate`).
    pub sourcing_balance: bool,
    pub behaviour: Behaviour,
    /// Tariff rates in force at tick 0, `[importer][exporter][sector]`.
    pub initial_tariffs: Vec<f64>,
    pub events: Vec<Event>,
    pub rules: Vec<Rule>,
    /// FNV-1a hash of the file's text, hex.
    pub content_hash: String,
}

impl Scenario {
    /// The (government, partner) pairs its events and rules name, in the order they first
    /// appear: the pairs the policy is about.
    pub fn policy_pairs(&self) -> Vec<(usize, usize)> {
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let named = self.events.iter().map(|e| (e.government, e.partner));
        for pair in named.chain(self.rules.iter().map(|r| (r.government, r.partner))) {
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
        pairs
    }

    pub fn n_regions(&self) -> usize {
        self.regions.len()
    }
    pub fn n_sectors(&self) -> usize {
        self.sectors.len()
    }
    pub fn recipe(&self, region: usize, sector: usize) -> &Recipe {
        &self.recipes[region * self.n_sectors() + sector]
    }
    pub fn lead_time(&self, from: usize, to: usize) -> u32 {
        self.lead[from * self.n_regions() + to]
    }
    pub fn transport_cost(&self, from: usize, to: usize) -> f64 {
        self.transport[from * self.n_regions() + to]
    }
    pub fn sourcing_share(&self, importer: usize, sector: usize, exporter: usize) -> f64 {
        let (r, s) = (self.n_regions(), self.n_sectors());
        self.sourcing[(importer * s + sector) * r + exporter]
    }
    pub fn initial_tariff(&self, importer: usize, exporter: usize, sector: usize) -> f64 {
        let (r, s) = (self.n_regions(), self.n_sectors());
        self.initial_tariffs[(importer * r + exporter) * s + sector]
    }
    pub fn region_index(&self, name: &str) -> Option<usize> {
        self.regions.iter().position(|r| r.name == name)
    }
    pub fn sector_index(&self, name: &str) -> Option<usize> {
        self.sectors.iter().position(|s| s.name == name)
    }

    /// Where "after the shock" is counted from (effects' horizons, the pre-war baseline of
    /// de-escalation rules): the first tick at which a policy event is announced or takes
    /// effect; in a scenario of rules only, the first tick a rule is active.
    pub fn first_policy_tick(&self) -> Option<u32> {
        let events = self.events.iter().map(|e| e.announce_tick.unwrap_or(e.effective_tick)).min();
        events.or_else(|| self.rules.iter().map(|r| r.active_from).min())
    }

    /// The same world with every policy event and rule switched off (MODEL.md §7).
    pub fn counterfactual(&self) -> Scenario {
        let mut cf = self.clone();
        cf.events.clear();
        cf.rules.clear();
        cf
    }

    /// The same scenario with agent counts multiplied by `factor` (at least one agent of
    /// each kind a region had). Aggregate money and goods stay the same: each agent is bigger.
    pub fn scaled(&self, factor: f64) -> Scenario {
        let mut s = self.clone();
        let scale = |n: u32| -> u32 { if n == 0 { 0 } else { ((n as f64 * factor).round() as u32).max(1) } };
        for r in &mut s.regions {
            r.households = scale(r.households);
            r.producers_per_sector = scale(r.producers_per_sector);
            r.retailers_per_sector = scale(r.retailers_per_sector);
        }
        s
    }

    /// Total agents by kind: (households, producers, retailers).
    pub fn agent_counts(&self) -> (u64, u64, u64) {
        let consumer = self.sectors.iter().filter(|s| s.is_consumer()).count() as u64;
        let n_s = self.n_sectors() as u64;
        self.regions.iter().fold((0, 0, 0), |(h, p, r), reg| {
            (
                h + reg.households as u64,
                p + reg.producers_per_sector as u64 * n_s,
                r + reg.retailers_per_sector as u64 * consumer,
            )
        })
    }
}

/// Reads and checks a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, &origin),
        Err(e) => Err(ScenarioError {
            origin,
            problems: vec![Problem {
                path: String::new(),
                position: None,
                message: format!(
                    "cannot read the scenario file ({e}); give a path to a .toml file, or one of the embedded scenarios: {}",
                    embedded_names().join(", ")
                ),
            }],
        }),
    }
}

/// Parses and checks scenario text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    validate::parse_and_validate(text, origin)
}

/// FNV-1a 64-bit hash, hex: identifies a scenario's text in the manifest.
pub fn content_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
