//! A simulation: one world, its schedule, and the clock. No IO happens here; a caller steps
//! it and reads each tick's [`TickReport`]. Many simulations can live in one process: all
//! model state is in the world (the compute thread pool is the only process-wide thing).

use crate::agents::producer::Production;
use crate::agents::{Cash, Purchasing};
use crate::market::Clock;
use crate::metrics::ledger::Residuals;
use crate::metrics::{Ledger, TickReport};
use crate::scenario::Scenario;
use crate::schedule::{Phase, SystemClock, tick_schedules};
use crate::world::build_world;
use bevy_ecs::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A region's calibrated base period (annual amounts in currency units).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegionCalibration {
    pub region: String,
    pub target_gdp: f64,
    /// Household spending a year in the base-period steady state (equals income).
    pub base_spending: f64,
    /// The scaling of foreign sourcing shares trade balancing settled on (1 = as written).
    pub import_propensity: f64,
    /// Wage per household-agent and week at which target employment holds.
    pub weekly_wage: f64,
}

pub struct Simulation {
    world: World,
    phases: Vec<(Phase, Schedule)>,
    scenario: Arc<Scenario>,
    timings: PhaseTimings,
}

/// Wall-clock time spent in each phase, and in each system of a phase, over the ticks run
/// so far (always recorded: a few dozen clock reads a tick cost nothing next to the phases).
#[derive(Debug, Clone, Default)]
pub struct PhaseTimings {
    pub ticks: u64,
    /// Indexed like [`Phase::ALL`].
    pub phase: [Duration; 9],
    /// Each system's time, in the order the tick runs them. A phase's systems add up to a
    /// little less than the phase: the clock marks between them and the schedule's own
    /// work are the difference.
    pub systems: Vec<SystemTime>,
}

/// The time spent in one system of the tick.
#[derive(Debug, Clone)]
pub struct SystemTime {
    pub phase: Phase,
    /// `module::function`.
    pub name: &'static str,
    pub spent: Duration,
}

impl PhaseTimings {
    pub fn total(&self) -> Duration {
        self.phase.iter().sum()
    }

    /// Adds another simulation's timings (a scenario and its counterfactual, which run the
    /// same systems).
    pub fn add(&mut self, other: &PhaseTimings) {
        self.ticks += other.ticks;
        for (a, b) in self.phase.iter_mut().zip(&other.phase) {
            *a += *b;
        }
        if self.systems.is_empty() {
            self.systems.clone_from(&other.systems);
            return;
        }
        debug_assert_eq!(self.systems.len(), other.systems.len(), "timings of different schedules added");
        for (a, b) in self.systems.iter_mut().zip(&other.systems) {
            debug_assert_eq!((a.phase, a.name), (b.phase, b.name), "timings of different schedules added");
            a.spent += b.spent;
        }
    }
}

impl Simulation {
    /// Builds the world of `scenario`; with `policy_enabled` false, its counterfactual.
    pub fn new(scenario: Arc<Scenario>, policy_enabled: bool) -> Simulation {
        crate::threads::ensure_pool(None);
        let mut world = build_world(scenario.clone(), policy_enabled);
        let (money, region_money, stocks, transit) = snapshot(&mut world, scenario.n_sectors());
        let mut ledger = Ledger::new(money, region_money);
        ledger.open(stocks, transit);
        world.insert_resource(ledger);
        world.insert_resource(TickReport::default());
        let tick = tick_schedules();
        world.insert_resource(SystemClock::default());
        let mut phases = tick.phases;
        for (_, schedule) in &mut phases {
            schedule.initialize(&mut world).expect("the tick schedule is well formed");
        }
        let systems =
            tick.systems.into_iter().map(|(phase, name)| SystemTime { phase, name, spent: Duration::ZERO }).collect();
        Simulation { world, phases, scenario, timings: PhaseTimings { systems, ..Default::default() } }
    }

    pub fn scenario(&self) -> &Arc<Scenario> {
        &self.scenario
    }

    /// The tick the next `step` will run.
    pub fn next_tick(&self) -> u32 {
        self.world.resource::<Clock>().tick
    }

    /// Runs one tick and returns its report.
    pub fn step(&mut self) -> &TickReport {
        for (i, (_, schedule)) in self.phases.iter_mut().enumerate() {
            let t0 = Instant::now();
            schedule.run(&mut self.world);
            self.timings.phase[i] += t0.elapsed();
        }
        let clock = self.world.resource::<SystemClock>();
        for (i, system) in self.timings.systems.iter_mut().enumerate() {
            system.spent = clock.spent(i);
        }
        self.timings.ticks += 1;
        self.world.resource_mut::<Clock>().tick += 1;
        self.world.resource::<TickReport>()
    }

    /// Time spent in each phase so far.
    pub fn timings(&self) -> &PhaseTimings {
        &self.timings
    }

    /// Worst money and goods residuals so far.
    pub fn residuals(&self) -> Residuals {
        self.world.resource::<Ledger>().residuals.clone()
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    /// The calibrated base period of each region, for the manifest.
    pub fn calibration(&self) -> Vec<RegionCalibration> {
        let model = self.world.resource::<crate::market::Model>();
        let wages = &model.base_wage;
        self.scenario
            .regions
            .iter()
            .enumerate()
            .map(|(r, region)| RegionCalibration {
                region: region.name.clone(),
                target_gdp: region.gdp,
                base_spending: model.base_consumption[r] * 52.0,
                import_propensity: model.import_propensity[r],
                weekly_wage: wages[r],
            })
            .collect()
    }

    /// Money held by all agents, cents.
    pub fn money_total(&mut self) -> i128 {
        snapshot(&mut self.world, self.scenario.n_sectors()).0
    }
}

/// Money held by all agents, and goods stocks and goods in transit by sector.
/// Money in the world and in each region, cents, and goods in stock and in transit by
/// sector, as the world was built.
fn snapshot(world: &mut World, n_sectors: usize) -> (i128, Vec<i128>, Vec<f64>, Vec<f64>) {
    let accounts = world.resource::<crate::economy::finance::ForeignAccounts>();
    let nr = accounts.in_hand.len();
    let mut region_money: Vec<i128> = (0..nr).map(|r| accounts.money(r) as i128).collect();
    let mut q = world.query::<(
        &Cash,
        Option<&crate::agents::Home>,
        Option<&crate::agents::Household>,
        Option<&crate::agents::Government>,
    )>();
    for (cash, home, household, government) in q.iter(world) {
        let region = home.map(|h| h.0).or(household.map(|h| h.region)).or(government.map(|g| g.region));
        let region = region.expect("every agent with cash lives in a region") as usize;
        region_money[region] += cash.0.0 as i128;
    }
    let money = region_money.iter().sum();
    let mut stocks = vec![0.0; n_sectors];
    let mut transit = vec![0.0; n_sectors];
    for purchasing in world.query::<&Purchasing>().iter(world) {
        for line in &purchasing.lines {
            stocks[line.sector as usize] += line.stock;
            transit[line.sector as usize] += line.domestic_next + line.abroad;
        }
    }
    for (producer, prod) in world.query::<(&crate::agents::Producer, &Production)>().iter(world) {
        stocks[producer.sector as usize] += prod.stock;
    }
    (money, region_money, stocks, transit)
}
