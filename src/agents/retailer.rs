//! Retailers: buy a consumer sector's goods from producers anywhere, hold weeks of cover,
//! and sell to their region's households at a sticky (Calvo) shelf price. They are what
//! separates border prices from shelf prices.

use bevy_ecs::prelude::*;

#[derive(Component, Clone, Copy, Debug)]
pub struct Retailer {
    pub idx: u32,
    pub region: u16,
    pub sector: u16,
}

/// A retailer's selling state; its merchandise is the single line of its `Purchasing`.
#[derive(Component, Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Shelf {
    /// Shelf price, currency units per unit.
    pub price: f64,
    /// The price it would set if it repriced now.
    pub target_price: f64,
    /// This tick's flows.
    pub ordered: f64,
    pub sold: f64,
    pub revenue: i64,
    pub fill_ratio: f64,
    /// Cost of goods sold this tick, currency units.
    pub cost_of_sales: f64,
}
