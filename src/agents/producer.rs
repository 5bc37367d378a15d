//! Producers: a region-sector's firms that turn labour and inputs into output (Leontief)
//! and sell it at a cost-plus ex-works price to retailers and other producers anywhere.

use bevy_ecs::prelude::*;

/// Identity of a producer: its dense index (the producer board's row) and its place.
#[derive(Component, Clone, Copy, Debug)]
pub struct Producer {
    pub idx: u32,
    pub region: u16,
    pub sector: u16,
}

/// A producer's production and pricing state.
#[derive(Component, Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Production {
    /// Units per tick at most.
    pub capacity: f64,
    /// Capacity at the start; capacity never falls below a tenth of it.
    pub base_capacity: f64,
    /// Worker-weeks per unit.
    pub labour_per_unit: f64,
    pub markup: f64,
    /// Ex-works price, currency units per unit.
    pub price: f64,
    /// Unit cost at the last pricing (wages + inputs at replacement cost).
    pub unit_cost: f64,
    /// What the inputs of a unit cost to replace: `Σ per_unit × replacement_cost` over its
    /// lines ([`inputs_at_replacement`]). Kept by ordering, the one pass that sets
    /// replacement costs, so that pricing need not read the lines.
    pub input_cost: f64,
    /// Finished goods on hand.
    pub stock: f64,
    /// Forecast of orders, units per tick (exponential smoothing).
    pub forecast: f64,
    /// Output planned for this tick.
    pub planned: f64,
    /// This tick's flows.
    pub output: f64,
    pub ordered: f64,
    pub shipped: f64,
    pub revenue: i64,
    pub fill_ratio: f64,
    /// Value added this tick, currency units (output at price less inputs used at cost).
    pub value_added: f64,
}

/// What the inputs of one unit of output cost to replace: `Σ per_unit × replacement_cost`
/// over a producer's lines, with the units of each per unit of output from its recipe
/// (`recipe`, one input per line; see [`Production::input_cost`]).
pub fn inputs_at_replacement(lines: &[crate::agents::InputLine], recipe: &[(usize, f64)]) -> f64 {
    debug_assert_eq!(lines.len(), recipe.len(), "one line per recipe input");
    lines.iter().zip(recipe).fold(INPUTS_SUM_START, |sum, (l, &(_, per_unit))| sum + per_unit * l.replacement_cost)
}

/// Where [`inputs_at_replacement`]'s sum starts (as `Iterator::sum` of `f64` does): a pass
/// that adds the same terms in the same order from here gets the same bits.
pub const INPUTS_SUM_START: f64 = -0.0;
