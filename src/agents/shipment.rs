//! Shipments in transit: a foreign fill between dispatch and arrival. Tariffs are assessed
//! when it arrives (MODEL.md §4.2).

use crate::units::Money;
use bevy_ecs::prelude::*;
use std::collections::VecDeque;

#[derive(Component, Clone, Copy, Debug)]
pub struct Shipment {
    /// Selling producer's index.
    pub seller: u32,
    pub buyer: Entity,
    /// Which of the buyer's purchasing lines it fills.
    pub line: u16,
    pub sector: u16,
    pub origin: u16,
    pub destination: u16,
    /// Units as shipped; `quantity / (1 + transport)` arrive (iceberg cost).
    pub quantity: f64,
    /// Invoice value paid at dispatch.
    pub value: Money,
    pub departed: u32,
    pub arrives: u32,
}

/// Shipments by arrival tick, in the order they were spawned (ascending `AgentId`).
#[derive(Resource, Debug, Default)]
pub struct ShipmentCalendar {
    /// `due[k]` holds shipments arriving at tick `first + k`.
    pub first: u32,
    pub due: VecDeque<Vec<Entity>>,
}

impl ShipmentCalendar {
    pub fn schedule(&mut self, arrives: u32, entity: Entity) {
        let k = arrives.saturating_sub(self.first) as usize;
        while self.due.len() <= k {
            self.due.push_back(Vec::new());
        }
        self.due[k].push(entity);
    }

    /// Removes and returns the shipments due at `tick` (and any overdue).
    pub fn take_due(&mut self, tick: u32) -> Vec<Entity> {
        let mut out = Vec::new();
        while self.first <= tick {
            if let Some(v) = self.due.pop_front() {
                out.extend(v);
            }
            self.first += 1;
        }
        out
    }
}
