//! The agents of the world and their components. One file per economic noun; the
//! mechanisms that change them live in `economy/`.
//!
//! Every agent carries a stable [`AgentId`] assigned from the scenario at build time:
//! outputs and random streams key on it, never on the ECS `Entity` bits. Shipments are
//! records held by their buyer and need no id of their own.

pub mod government;
pub mod household;
pub mod producer;
pub mod retailer;
pub mod shipment;

use crate::units::Money;
use bevy_ecs::prelude::*;

pub use government::{Government, PolicyState, TariffSchedule};

/// Marks "no agent" in dense index slots (a supplier slot, an employer, an owner).
pub const NONE: u32 = u32::MAX;
pub use household::{Budget, Household, KnownRetailers};
pub use producer::Producer;
pub use retailer::{Retailer, Shelf};
pub use shipment::Shipment;

/// A stable agent identifier (MODEL.md §2).
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentId(pub u64);

/// Money an agent holds. May go negative for firms (an overdraft at zero interest), never
/// for households, which spend only what they hold.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cash(pub Money);

/// The region an agent lives in.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Home(pub u16);

/// A firm's workforce: its place in the employer index, its staff and its payouts.
#[derive(Component, Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Staff {
    /// Employer index: producers first, then retailers.
    pub employer: u32,
    /// Households employed here after this tick's labour moves.
    pub workers: u32,
    /// Staff the firm wants next tick.
    pub target: u32,
    /// Households that own this firm and share its dividends.
    pub owners: u32,
    /// Smoothed weekly revenue, currency units (sets the cash buffer).
    pub revenue_avg: f64,
    /// Dividend paid to each owner this tick.
    pub dividend_per_owner: Money,
    /// Capital asked of each owner this tick, when cash is below the buffer.
    pub capital_call_per_owner: Money,
}

/// Supplier slots per line that ordering prices on the stack: the default
/// `suppliers_per_input` (more take a heap buffer).
pub const INLINE_SUPPLIERS: usize = 3;

/// Lines of a buyer that passes keep per-line sums for on the stack (customs' units
/// abroad, production's units used): a buyer has one line per input sector, and more
/// take a heap buffer.
pub const INLINE_LINES: usize = 16;

/// One supplier relationship of a buyer for one input.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SupplierSlot {
    /// Producer index, or [`NONE`].
    pub producer: u32,
    /// The producer's region (kept with it: every pass over slots needs it).
    pub origin: u16,
    /// Cents ordered from it this tick (set for every slot in ordering, kept until the
    /// next ordering: the record of the last order).
    pub order_cents: i64,
    /// Its price to this buyer when the order was placed (what matching converts the
    /// filled cents to units at; prices do not change between ordering and matching).
    pub fob: f64,
    /// Its share of the line's orders (moves gradually toward the logit share).
    pub share: f64,
}

/// The supplier slots of all of a buyer's lines: `per_line` for each line, line by line
/// (producer `NONE` for an empty slot). Search replaces slots; their number never changes.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Suppliers {
    slots: Vec<SupplierSlot>,
    per_line: usize,
}

impl Suppliers {
    /// `per_line` empty slots for each of `lines` lines.
    pub fn new(lines: usize, per_line: usize) -> Suppliers {
        let empty = SupplierSlot { producer: NONE, ..Default::default() };
        Suppliers { slots: vec![empty; lines * per_line], per_line }
    }

    /// The slots of line `line`.
    pub fn line(&self, line: usize) -> &[SupplierSlot] {
        &self.slots[line * self.per_line..(line + 1) * self.per_line]
    }

    /// The slots of line `line`, to change.
    pub fn line_mut(&mut self, line: usize) -> &mut [SupplierSlot] {
        &mut self.slots[line * self.per_line..(line + 1) * self.per_line]
    }

    /// Every slot, line by line.
    pub fn all(&self) -> &[SupplierSlot] {
        &self.slots
    }
}

/// One purchased good of a buyer: a producer's input or a retailer's merchandise. Its
/// suppliers are kept apart, in [`Purchasing::suppliers`]. What a producer uses of it per
/// unit of output is in its recipe (`Scenario::recipe`, one input per line, in the same
/// order): every pass over the world's lines streams them from memory, so a line holds only
/// what the passes need of it line by line.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct InputLine {
    pub sector: u16,
    /// Units on hand.
    pub stock: f64,
    /// Units on hand that came from abroad (for the domestic/imported retail price split).
    pub imported_stock: f64,
    /// Average landed cost per unit on hand, currency units (inventory accounting).
    pub cost_basis: f64,
    /// What a unit costs to replace now: suppliers' landed costs weighted by order shares
    /// (what firms price on).
    pub replacement_cost: f64,
    /// Units (as they will arrive) paid for and not yet arrived.
    pub in_transit: f64,
    /// Units as shipped of this line's foreign shipments in transit (kept in step with
    /// `Purchasing::shipments` for the goods balance).
    pub abroad: f64,
    /// Domestic fills arriving next tick: units as shipped, and their invoice value.
    pub domestic_next: f64,
    pub domestic_next_value: Money,
    /// Demand forecast for this good, units per tick.
    pub forecast: f64,
    /// This tick's flows: ordered and unfilled cents; the part of domestic arrivals lost in
    /// transport. (The units production uses up are summed for the metrics as it uses them:
    /// `metrics::ProducerFlows`.)
    pub ordered: Money,
    pub unfilled: Money,
    pub arrived_domestic_loss: f64,
}

impl InputLine {
    pub fn new(sector: usize) -> InputLine {
        InputLine {
            sector: sector as u16,
            stock: 0.0,
            imported_stock: 0.0,
            cost_basis: 1.0,
            in_transit: 0.0,
            abroad: 0.0,
            domestic_next: 0.0,
            domestic_next_value: Money::ZERO,
            forecast: 0.0,
            replacement_cost: 1.0,
            ordered: Money::ZERO,
            unfilled: Money::ZERO,
            arrived_domestic_loss: 0.0,
        }
    }

    /// Adds `units` landed at total cost `cost` (currency units) to stock, at average cost.
    pub fn receive(&mut self, units: f64, cost: f64, imported: bool) {
        if units <= 0.0 {
            return;
        }
        let total = self.stock + units;
        self.cost_basis = (self.stock.max(0.0) * self.cost_basis + cost) / total;
        self.stock = total;
        if imported {
            self.imported_stock += units;
        }
        self.in_transit = (self.in_transit - units).max(0.0);
    }

    /// Removes `units` from stock, keeping the imported share.
    pub fn take(&mut self, units: f64) {
        if self.stock > 0.0 {
            let share = (units / self.stock).clamp(0.0, 1.0);
            self.imported_stock -= self.imported_stock * share;
        }
        self.stock = (self.stock - units).max(0.0);
    }

    /// Share of stock that came from abroad.
    pub fn imported_share(&self) -> f64 {
        if self.stock > 0.0 { (self.imported_stock / self.stock).clamp(0.0, 1.0) } else { 0.0 }
    }
}

/// What a buyer (producer or retailer) purchases, holds and has on order.
#[derive(Component, Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Purchasing {
    pub lines: Vec<InputLine>,
    /// Each line's suppliers. Kept apart from the lines because only ordering and matching
    /// read them: the passes that stream every line of the world (arrivals, pricing,
    /// production, metrics) then carry no supplier bytes, and those passes are bound by
    /// memory bandwidth.
    pub suppliers: Suppliers,
    /// Foreign fills on their way, in dispatch order.
    pub shipments: Vec<Shipment>,
}

impl Purchasing {
    /// A buyer of `lines`, with `per_line` empty supplier slots for each.
    pub fn new(lines: Vec<InputLine>, per_line: usize) -> Purchasing {
        let suppliers = Suppliers::new(lines.len(), per_line);
        Purchasing { lines, suppliers, shipments: Vec::new() }
    }
}
