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
//! agents do so in parallel (`par_iter_mut`; passes over fewer than 2,048 agents, such as
//! the governments, serially; passes over households, below 32,768) and write only the
//! agent they visit.
//! [`tick_schedules`] are built with ambiguity detection set to error, so two systems that
//! could conflict without an order between them fail the build (and the tests).

use crate::economy::{customs, demand, finance, income, labour, matching, ordering, policy, pricing, production};
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
    /// Each system's phase and name (`module::function`); the `i`-th is the one
    /// [`SystemClock::spent`] calls `i`.
    pub systems: Vec<(Phase, &'static str)>,
}

/// Wall-clock time spent in each system of the tick so far. Clock marks chained between a
/// phase's systems write it, when the world has one: one clock read per system, next to
/// passes over thousands of agents.
#[derive(Resource, Debug, Default)]
pub struct SystemClock {
    last: Option<Instant>,
    /// By system, in [`TickSchedules::systems`] order.
    spent: Vec<Duration>,
}

impl SystemClock {
    /// The time charged so far to the `i`-th system of the tick.
    pub fn spent(&self, i: usize) -> Duration {
        self.spent.get(i).copied().unwrap_or_default()
    }
}

/// The mark that opens a phase: the clock starts.
fn start_clock(world: &mut World) {
    if let Some(mut clock) = world.get_resource_mut::<SystemClock>() {
        clock.last = Some(Instant::now());
    }
}

/// The mark after the `i`-th system of the tick: the time since the previous mark is its.
fn charge(i: usize) -> impl FnMut(&mut World) {
    move |world: &mut World| {
        let Some(mut clock) = world.get_resource_mut::<SystemClock>() else { return };
        let now = Instant::now();
        if let Some(last) = clock.last {
            if clock.spent.len() <= i {
                clock.spent.resize(i + 1, Duration::ZERO);
            }
            clock.spent[i] += now - last;
        }
        clock.last = Some(now);
    }
}

/// Adds `$system`s to `$schedule`, chained, with a clock mark before the first and after
/// each one (see [`SystemClock`]; the first is the tick's `$first`-th system); evaluates to
/// their names, `module::function`.
macro_rules! add_timed_chain {
    ($schedule:ident, $first:expr; $($system:path),+ $(,)?) => {{
        let mut marks = ($first..).map(charge);
        $schedule.add_systems((start_clock, $($system, marks.next().expect("an endless range")),+).chain());
        vec![$(stringify!($system)),+]
    }};
}

/// The ONE place where the tick's order is set: one schedule per phase, run in
/// [`Phase::ALL`] order (each phase, and each system in it, is timed for `--profile`).
pub fn tick_schedules() -> TickSchedules {
    let mut systems = Vec::new();
    let mut phases = Vec::new();
    for phase in Phase::ALL {
        let (schedule, names) = phase_schedule(phase, systems.len());
        systems.extend(names.into_iter().map(|name| (phase, name)));
        phases.push((phase, schedule));
    }
    TickSchedules { phases, systems }
}

/// One phase's schedule, whose first system is the tick's `first`-th, and the names of its
/// systems in the order it runs them.
fn phase_schedule(phase: Phase, first: usize) -> (Schedule, Vec<&'static str>) {
    let mut schedule = Schedule::new(Tick(phase));
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.set_build_settings(ScheduleBuildSettings { ambiguity_detection: LogLevel::Error, ..Default::default() });
    let names = match phase {
        Phase::Policy => {
            add_timed_chain!(schedule, first; metrics::open_tick, policy::apply_policy, policy::publish_tariffs)
        }
        Phase::Arrivals => add_timed_chain!(schedule, first; customs::receive_goods, customs::collect_tariffs),
        Phase::Pricing => add_timed_chain!(schedule, first;
            pricing::set_producer_prices,
            pricing::set_shelf_prices,
            pricing::publish_prices,
        ),
        Phase::Demand => add_timed_chain!(schedule, first; demand::plan_household_spending),
        Phase::Ordering => add_timed_chain!(schedule, first;
            ordering::publish_quotes,
            ordering::place_retail_orders,
            ordering::place_input_orders,
        ),
        Phase::Matching => add_timed_chain!(schedule, first;
            matching::ration_producers,
            matching::ration_retailers,
            matching::publish_fill_ratios,
            matching::refund_baskets,
            matching::fill_purchases,
            matching::settle_producer_sales,
            matching::settle_retail_sales,
        ),
        Phase::Production => add_timed_chain!(schedule, first;
            production::produce,
            production::plan_shop_staff,
            labour::post_vacancies,
            labour::move_workers,
            labour::count_staff,
        ),
        Phase::Income => add_timed_chain!(schedule, first;
            income::index_wages,
            income::pay_wages_and_dividends,
            income::publish_payouts,
            income::recycle_revenue,
            finance::lend_abroad,
            income::receive_income,
            finance::collect_lending,
            income::collect_capital,
            income::receive_aid,
        ),
        Phase::Metrics => add_timed_chain!(schedule, first; metrics::measure),
    };
    (schedule, names)
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
        world.insert_resource(crate::metrics::Ledger::new(0, vec![]));
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
        let listed: Vec<_> = timings.systems.iter().map(|s| (s.phase, s.name)).collect();
        assert_eq!(listed, tick.systems);
        for (i, phase) in Phase::ALL.iter().enumerate() {
            let systems: Duration = timings.systems.iter().filter(|s| s.phase == *phase).map(|s| s.spent).sum();
            let whole = timings.phase[i];
            assert!(systems <= whole, "phase {}: systems {systems:?} > {whole:?}", phase.name());
        }
        // The biggest passes of the small world take far longer than a clock tick.
        for name in ["customs::receive_goods", "demand::plan_household_spending", "matching::fill_purchases"] {
            let system = timings.systems.iter().find(|s| s.name == name).unwrap();
            assert!(system.spent > Duration::ZERO, "{name} was never charged");
        }
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
