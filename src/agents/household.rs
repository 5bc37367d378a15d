//! Households: earn wages, dividends and transfers; spend a budget across consumer sectors
//! at retailers they know.

use crate::units::Money;
use bevy_ecs::prelude::*;

#[derive(Component, Clone, Debug)]
pub struct Household {
    pub region: u16,
    /// Employer index, or [`crate::market::NONE`] when unemployed.
    pub employer: u32,
    /// The firm (employer index) whose dividends this household shares, or `NONE`.
    pub owner_of: u32,
    /// Smoothed weekly income, currency units.
    pub income: f64,
    /// Known retailers: `known_retailers` slots per consumer sector (retailer index or `NONE`).
    pub known: Box<[u32]>,
    /// This tick's order per consumer sector: (retailer index or `NONE`, cents).
    pub basket: Box<[(u32, Money)]>,
}
