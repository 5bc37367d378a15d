//! Shipments in transit: a foreign fill between dispatch and arrival. Tariffs are assessed
//! when it arrives (MODEL.md §4.2).
//!
//! A shipment is a record held by its buyer (in [`crate::agents::Purchasing`]), not an ECS
//! entity of its own: a large world dispatches hundreds of thousands of fills a week, and
//! spawning and despawning an entity for each, serially, cost more than the rest of the
//! arrivals phase. Held by the buyer, shipments are dispatched and cleared in parallel,
//! each buyer touching only its own.

use crate::units::Money;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shipment {
    /// Selling producer's index.
    pub seller: u32,
    /// Which of the buyer's purchasing lines it fills.
    pub line: u16,
    pub origin: u16,
    /// Units as shipped; `quantity / (1 + transport)` arrive (iceberg cost).
    pub quantity: f64,
    /// Invoice value paid at dispatch.
    pub value: Money,
    pub departed: u32,
    pub arrives: u32,
}
