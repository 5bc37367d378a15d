//! Shipments in transit: a foreign fill between dispatch and arrival. Tariffs are assessed
//! when it arrives (MODEL.md §4.2).
//!
//! A shipment is a record held by its buyer (in [`crate::agents::Purchasing`]), not an ECS
//! entity of its own: a large world dispatches hundreds of thousands of fills a week, and
//! spawning and despawning an entity for each, serially, cost more than the rest of the
//! arrivals phase. Held by the buyer, shipments are dispatched and cleared in parallel,
//! each buyer touching only its own.

use crate::units::Money;

/// A foreign fill on its way to its buyer.
///
/// Customs reads every shipment in transit every week, so a shipment holds only what it
/// needs (24 bytes): it departed its lead time before it arrives (`Scenario::lead_time`
/// from its origin to the buyer's region, fixed for the run), and nothing reads which
/// producer sold it (its sale is in the seller's books).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Shipment {
    /// Which of the buyer's purchasing lines it fills.
    pub line: u16,
    pub origin: u16,
    /// The tick it arrives.
    pub arrives: u32,
    /// Units as shipped; `quantity / (1 + transport)` arrive (iceberg cost).
    pub quantity: f64,
    /// Invoice value paid at dispatch.
    pub value: Money,
}
