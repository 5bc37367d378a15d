//! The tick: nine phases in the order of MODEL.md §4, declared here and nowhere else.
//!
//! One tick is one week:
//!
//! 1. [`Phase::Policy`]: governments apply scheduled events and evaluate their rules on
//!    last tick's observations; the resulting tariff table is in force for the whole tick.
//! 2. [`Phase::Arrivals`]: domestic fills and due shipments arrive; importers pay tariffs.
//! 3. [`Phase::Pricing`]: producers set ex-works prices (with exporter absorption),
//!    retailers reprice with Calvo stickiness.
//! 4. [`Phase::Demand`]: households budget and order from retailers.
//! 5. [`Phase::Ordering`]: retailers and producers forecast, search suppliers and order.
//! 6. [`Phase::Matching`]: sellers ration stock proportionally; buyers pay; fills ship.
//! 7. [`Phase::Production`]: producers produce; firms hire and lay off; households move.
//! 8. [`Phase::Income`]: wages, dividends, revenue recycling.
//! 9. [`Phase::Metrics`]: this tick's series and identity checks.
//!
//! Within a phase, systems that touch the same data are chained; systems that iterate
//! agents do so in parallel (`par_iter_mut`; passes over a handful of agents, such as the
//! governments, serially) and write only the agent they visit.
//! [`tick_schedules`] are built with ambiguity detection set to error, so two systems that
//! could conflict without an order between them fail the build (and the tests).

use crate::economy::{customs, demand, income, labour, matching, ordering, policy, pricing, production};
use crate::metrics;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, ScheduleLabel, SingleThreadedExecutor};
use std::time::{Duration, Instant};

/// The label of one phase's schedule.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tick(pub Phase);

/// The phases of a tick, in order (see the module docs for the order's one description).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// 1. Scheduled events and reactive rules; publish the tariff table.
    Policy,
    /// 2. Domestic fills and shipments arrive; tariffs are paid at customs.
    Arrivals,
    /// 3. Producer prices, exporter absorption, sticky retail prices.
    Pricing,
    /// 4. Household budgets and orders to retailers.
    Demand,
    /// 5. Forecasts, supplier search, and orders to producers.
    Ordering,
    /// 6. Proportional rationing, payment on dispatch, shipments.
    Matching,
    /// 7. Production and the labour market.
    Production,
    /// 8. Wages, dividends and revenue recycling.
    Income,
    /// 9. Aggregate series and identity checks.
    Metrics,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::Policy,
        Phase::Arrivals,
        Phase::Pricing,
        Phase::Demand,
        Phase::Ordering,
        Phase::Matching,
        Phase::Production,
        Phase::Income,
        Phase::Metrics,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Policy => "policy",
            Phase::Arrivals => "arrivals",
            Phase::Pricing => "pricing",
            Phase::Demand => "demand",
            Phase::Ordering => "ordering",
            Phase::Matching => "matching",
            Phase::Production => "production",
            Phase::Income => "income",
            Phase::Metrics => "metrics",
        }
    }
}

/// The tick's schedules, one per phase in [`Phase::ALL`] order, and the systems they run,
/// in the order they run them.
pub struct TickSchedules {
    pub phases: Vec<(Phase, Schedule)>,
    /// Each system's phase and name (`module::function`), indexed like
    /// [`SystemClock::spent`].
    pub systems: Vec<(Phase, &'static str)>,
}

/// Wall-clock time spent in each system of the tick so far, indexed like
/// [`TickSchedules::systems`]. Clock marks chained between a phase's systems write it:
/// one clock read per system, next to passes over thousands of agents.
#[derive(Resource, Debug)]
pub struct SystemClock {
    last: Instant,
    pub spent: Vec<Duration>,
}

impl SystemClock {
    pub fn new(systems: usize) -> SystemClock {
        SystemClock { last: Instant::now(), spent: vec![Duration::ZERO; systems] }
    }
}

/// The mark that opens a phase: the clock starts.
fn start_clock(world: &mut World) {
    world.resource_mut::<SystemClock>().last = Instant::now();
}

/// The mark after system `k`: its time since the previous mark is charged to it.
fn charge(k: usize) -> impl FnMut(&mut World) {
    move |world: &mut World| {
        let mut clock = world.resource_mut::<SystemClock>();
        let now = Instant::now();
        let spent = now - clock.last;
        clock.spent[k] += spent;
        clock.last = now;
    }
}

/// `(a, b, …).chain()` with a clock mark before the first system and after each one; each
/// system is listed in `$systems` (a `Vec<(Phase, &str)>`) under `$phase`, by its path.
macro_rules! timed_chain {
    ($systems:ident, $phase:expr; $($system:path),+ $(,)?) => {
        (
            start_clock,
            $(
                $system,
                charge({
                    $systems.push(($phase, stringify!($system)));
                    $systems.len() - 1
                }),
            )+
        )
            .chain()
    };
}

/// The ONE place where the tick's order is set: one schedule per phase, run in
/// [`Phase::ALL`] order (each phase, and each system in it, is timed for `--profile`).
pub fn tick_schedules() -> TickSchedules {
    let mut systems = Vec::new();
    let phases = Phase::ALL.iter().map(|&phase| (phase, phase_schedule(phase, &mut systems))).collect();
    TickSchedules { phases, systems }
}

fn phase_schedule(phase: Phase, systems: &mut Vec<(Phase, &'static str)>) -> Schedule {
    let mut schedule = Schedule::new(Tick(phase));
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.set_build_settings(ScheduleBuildSettings { ambiguity_detection: LogLevel::Error, ..Default::default() });
    match phase {
        Phase::Policy => {
            schedule.add_systems(
                timed_chain!(systems, phase; metrics::open_tick, policy::apply_policy, policy::publish_tariffs),
            );
        }
        Phase::Arrivals => {
            schedule.add_systems(timed_chain!(systems, phase; customs::receive_goods, customs::collect_tariffs));
        }
        Phase::Pricing => {
            schedule.add_systems(timed_chain!(systems, phase;
                pricing::set_producer_prices,
                pricing::set_shelf_prices,
                pricing::publish_prices,
            ));
        }
        Phase::Demand => {
            schedule.add_systems(timed_chain!(systems, phase; demand::plan_household_spending));
        }
        Phase::Ordering => {
            schedule.add_systems(timed_chain!(systems, phase;
                ordering::publish_quotes,
                ordering::place_retail_orders,
                ordering::place_input_orders,
            ));
        }
        Phase::Matching => {
            schedule.add_systems(timed_chain!(systems, phase;
                matching::ration_producers,
                matching::ration_retailers,
                matching::publish_fill_ratios,
                matching::refund_baskets,
                matching::fill_purchases,
                matching::settle_producer_sales,
                matching::settle_retail_sales,
            ));
        }
        Phase::Production => {
            schedule.add_systems(timed_chain!(systems, phase;
                production::produce,
                production::plan_shop_staff,
                labour::post_vacancies,
                labour::move_workers,
                labour::count_staff,
            ));
        }
        Phase::Income => {
            schedule.add_systems(timed_chain!(systems, phase;
                income::index_wages,
                income::pay_wages_and_dividends,
                income::publish_payouts,
                income::recycle_revenue,
                income::receive_income,
                income::collect_capital,
                income::receive_aid,
            ));
        }
        Phase::Metrics => {
            schedule.add_systems(timed_chain!(systems, phase; metrics::measure));
        }
    }
    schedule
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Bevy's ambiguity check, as an error: no two systems that touch the same data may be
    /// unordered, which is what keeps the tick deterministic.
    #[test]
    fn the_tick_has_no_ambiguous_systems() {
        let scenario = crate::scenario::parse(crate::scenario::embedded("small").unwrap(), "small").unwrap();
        let mut world = crate::world::build_world(Arc::new(scenario), true);
        world.insert_resource(crate::metrics::TickReport::default());
        world.insert_resource(crate::metrics::Ledger::new(0));
        for (phase, mut schedule) in tick_schedules().phases {
            assert!(schedule.initialize(&mut world).is_ok(), "phase {} has ambiguous systems", phase.name());
        }
    }

    #[test]
    fn every_system_of_the_tick_is_named_and_timed() {
        let scenario = crate::scenario::parse(crate::scenario::embedded("small").unwrap(), "small").unwrap();
        let mut sim = crate::engine::Simulation::new(Arc::new(scenario), true);
        let tick = tick_schedules();
        for (phase, mut schedule) in tick.phases {
            schedule.initialize(sim.world_mut()).unwrap();
            let named = tick.systems.iter().filter(|(p, _)| *p == phase).count();
            // Each system, a clock mark after it and one before the first.
            assert_eq!(schedule.systems_len(), 2 * named + 1, "phase {} has unnamed systems", phase.name());
        }
        assert!(tick.systems.contains(&(Phase::Matching, "matching::fill_purchases")));
        for _ in 0..3 {
            sim.step();
        }
        let timings = sim.timings();
        assert_eq!(timings.systems.len(), tick.systems.len());
        for (i, phase) in Phase::ALL.iter().enumerate() {
            let systems: Duration = timings.systems.iter().filter(|(p, ..)| p == phase).map(|s| s.2).sum();
            assert!(
                systems <= timings.phase[i],
                "phase {}: systems {systems:?} > {:?}",
                phase.name(),
                timings.phase[i]
            );
        }
        assert!(timings.systems.iter().any(|s| s.2 > Duration::ZERO));
    }

    #[test]
    fn phases_are_listed_in_tick_order() {
        let names: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            ["policy", "arrivals", "pricing", "demand", "ordering", "matching", "production", "income", "metrics"]
        );
    }
}
