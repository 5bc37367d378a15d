//! The state of a simulation between two ticks, saved and restored exactly (issue 19).
//!
//! A world is restored by building it again from its scenario, which is deterministic
//! (every draw is keyed on the seed, the tick and the agent, never on a generator's
//! state), and then overwriting what the ticks so far have changed. The rebuilt world has
//! the same entities in the same tables in the same order, so every query iterates as it
//! did and every float sum keeps its order: the ticks after a restore give the bits the
//! ticks of the world never stopped give.
//!
//! Every component and resource type in the world is one of three kinds, and a test fails
//! on a type that is in none of them (a field or type added later cannot be forgotten):
//! - [`saved_types`]: changed by the ticks and read by the next one; saved here;
//! - [`rebuilt_types`]: set when the world is built and never changed (identities, the model);
//! - [`per_tick_types`]: written by a tick before that tick reads it (boards, tallies, reports).

pub mod file;

pub use file::{Body, Checkpoint, FileMark, Header};

use crate::agents::government::{PolicyState, TariffSchedule};
use crate::agents::household::{Budget, Household};
use crate::agents::producer::Production;
use crate::agents::retailer::Shelf;
use crate::agents::{AgentId, Cash, Purchasing, Staff};
use crate::economy::finance::{ForeignAccounts, HouseholdLending};
use crate::market::{Clock, TariffTable, Wages};
use crate::metrics::{Ledger, Observed};
use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};
use std::any::TypeId;

/// One component's values, in the order a query over it visits the agents, with a
/// fingerprint of that order (the agents' ids) to check it against the rebuilt world.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved<C> {
    order: u64,
    values: Vec<C>,
}

/// The state of one world after a tick: everything the next tick reads that the ticks so
/// far have changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorldState {
    pub tick: u32,
    policy_enabled: bool,
    cash: Saved<Cash>,
    staff: Saved<Staff>,
    purchasing: Saved<Purchasing>,
    household: Saved<Household>,
    budget: Saved<Budget>,
    production: Saved<Production>,
    shelf: Saved<Shelf>,
    tariff_schedule: Saved<TariffSchedule>,
    policy_state: Saved<PolicyState>,
    clock: Clock,
    wages: Wages,
    tariff_table: TariffTable,
    observed: Observed,
    foreign_accounts: ForeignAccounts,
    household_lending: HouseholdLending,
    ledger: Ledger,
}

/// Why a saved state does not fit the world rebuilt from the scenario.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(
        "the saved {what} do not match the world this scenario builds ({detail}); the checkpoint was made from another scenario or tradesim version"
    )]
    Mismatch { what: &'static str, detail: String },
}

/// FNV-1a over the ids, in order.
fn fingerprint(ids: impl Iterator<Item = u64>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for id in ids {
        for b in id.to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn save<C: Component + Clone>(world: &mut World) -> Saved<C> {
    let mut q = world.query::<(&AgentId, &C)>();
    let order = fingerprint(q.iter(world).map(|(id, _)| id.0));
    Saved { order, values: q.iter(world).map(|(_, c)| c.clone()).collect() }
}

fn restore<C: Component<Mutability = bevy_ecs::component::Mutable>>(
    world: &mut World,
    what: &'static str,
    saved: Saved<C>,
) -> Result<(), RestoreError> {
    let mut q = world.query::<(&AgentId, &mut C)>();
    let count = q.iter(world).count();
    let order = fingerprint(q.iter(world).map(|(id, _)| id.0));
    if count != saved.values.len() || order != saved.order {
        let detail = if count != saved.values.len() {
            format!("{} saved, {count} built", saved.values.len())
        } else {
            "the agents come in another order".to_string()
        };
        return Err(RestoreError::Mismatch { what, detail });
    }
    for ((_, mut c), v) in q.iter_mut(world).zip(saved.values) {
        *c = v;
    }
    Ok(())
}

fn resource<R: Resource + Clone>(world: &World) -> R {
    world.resource::<R>().clone()
}

impl WorldState {
    /// The state of `world` between two ticks.
    pub fn capture(world: &mut World) -> WorldState {
        WorldState {
            tick: world.resource::<Clock>().tick,
            policy_enabled: world.resource::<crate::market::Model>().policy_enabled,
            cash: save(world),
            staff: save(world),
            purchasing: save(world),
            household: save(world),
            budget: save(world),
            production: save(world),
            shelf: save(world),
            tariff_schedule: save(world),
            policy_state: save(world),
            clock: resource(world),
            wages: resource(world),
            tariff_table: resource(world),
            observed: resource(world),
            foreign_accounts: resource(world),
            household_lending: resource(world),
            ledger: resource(world),
        }
    }

    /// Puts this state into `world`, freshly built from the same scenario (and with the
    /// policy on or off as when it was saved); refuses a state that does not fit it.
    pub fn apply(self, world: &mut World) -> Result<(), RestoreError> {
        let policy_enabled = world.resource::<crate::market::Model>().policy_enabled;
        if policy_enabled != self.policy_enabled {
            return Err(RestoreError::Mismatch {
                what: "world",
                detail: format!("saved with the policy {}", if self.policy_enabled { "on" } else { "off" }),
            });
        }
        restore(world, "agents' cash", self.cash)?;
        restore(world, "firms' staff", self.staff)?;
        restore(world, "buyers' purchasing", self.purchasing)?;
        restore(world, "households", self.household)?;
        restore(world, "household budgets", self.budget)?;
        restore(world, "producers", self.production)?;
        restore(world, "retailers' shelves", self.shelf)?;
        restore(world, "tariff schedules", self.tariff_schedule)?;
        restore(world, "policy states", self.policy_state)?;
        world.insert_resource(self.clock);
        world.insert_resource(self.wages);
        world.insert_resource(self.tariff_table);
        world.insert_resource(self.observed);
        world.insert_resource(self.foreign_accounts);
        world.insert_resource(self.household_lending);
        world.insert_resource(self.ledger);
        Ok(())
    }

    /// The state as bytes (postcard: serde's compact binary form; floats as their bits).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a world state always serializes")
    }

    pub fn decode(bytes: &[u8]) -> Result<WorldState, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}

/// Component and resource types the checkpoint saves.
pub fn saved_types() -> Vec<TypeId> {
    vec![
        TypeId::of::<Cash>(),
        TypeId::of::<Staff>(),
        TypeId::of::<Purchasing>(),
        TypeId::of::<Household>(),
        TypeId::of::<Budget>(),
        TypeId::of::<Production>(),
        TypeId::of::<Shelf>(),
        TypeId::of::<TariffSchedule>(),
        TypeId::of::<PolicyState>(),
        TypeId::of::<Clock>(),
        TypeId::of::<Wages>(),
        TypeId::of::<TariffTable>(),
        TypeId::of::<Observed>(),
        TypeId::of::<ForeignAccounts>(),
        TypeId::of::<HouseholdLending>(),
        TypeId::of::<Ledger>(),
    ]
}

/// Types set when the world is built and never changed by a tick.
pub fn rebuilt_types() -> Vec<TypeId> {
    use crate::agents::{
        Home, government::Government, household::KnownRetailers, producer::Producer, retailer::Retailer,
    };
    vec![
        TypeId::of::<AgentId>(),
        TypeId::of::<Home>(),
        TypeId::of::<Government>(),
        TypeId::of::<KnownRetailers>(),
        TypeId::of::<Producer>(),
        TypeId::of::<Retailer>(),
        TypeId::of::<crate::market::Model>(),
    ]
}

/// Types each tick writes before it reads them.
pub fn per_tick_types() -> Vec<TypeId> {
    use crate::market::{EmployerBoard, OrderBook, ProducerBoard, Quotes, RetailerBoard, Transfers};
    vec![
        TypeId::of::<crate::economy::customs::CustomsLedger>(),
        TypeId::of::<EmployerBoard>(),
        TypeId::of::<crate::metrics::HouseholdCash>(),
        TypeId::of::<OrderBook>(),
        TypeId::of::<ProducerBoard>(),
        TypeId::of::<crate::metrics::ProducerFlows>(),
        TypeId::of::<Quotes>(),
        TypeId::of::<RetailerBoard>(),
        TypeId::of::<crate::schedule::SystemClock>(),
        TypeId::of::<crate::metrics::TickReport>(),
        TypeId::of::<Transfers>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every component and resource of a built world is saved, rebuilt or per tick.
    #[test]
    fn every_type_in_the_world_is_classified() {
        let text = crate::scenario::embedded("endogenous_retaliation").unwrap();
        let sc = std::sync::Arc::new(crate::scenario::parse(text, "<embedded>").unwrap().scaled(0.02));
        let sim = crate::engine::Simulation::new(sc, true);
        // What bevy itself registers in a world that runs schedules.
        let mut bare = World::new();
        bare.init_resource::<bevy_ecs::schedule::Schedules>();
        bare.register_event_key::<bevy_ecs::schedule::ScheduleBuilt>();
        let builtin: Vec<TypeId> = bare.components().iter_registered().filter_map(|(_, c)| c.type_id()).collect();
        let known: Vec<TypeId> = [saved_types(), rebuilt_types(), per_tick_types()].concat();
        let mut unknown = 0;
        for (id, info) in sim.world().components().iter_registered() {
            let Some(t) = info.type_id() else { continue };
            if !builtin.contains(&t) && !known.contains(&t) {
                unknown += 1;
                // Its name shows with bevy_ecs's `debug` feature on.
                eprintln!("component {id:?} (type {t:?}) {} is not classified", info.name());
            }
        }
        assert_eq!(
            unknown, 0,
            "add every component and resource type to checkpoint::saved_types, rebuilt_types or per_tick_types"
        );
        let used = |t: &TypeId| sim.world().components().iter_registered().any(|(_, c)| c.type_id() == Some(*t));
        assert!(known.iter().all(used), "a classified type is not in the world any more");
    }
}
