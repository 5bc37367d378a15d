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

/// The ONE place where the tick's order is set: one schedule per phase, run in
/// [`Phase::ALL`] order (each is timed on its own for `--profile`).
pub fn tick_schedules() -> Vec<(Phase, Schedule)> {
    Phase::ALL.iter().map(|&phase| (phase, phase_schedule(phase))).collect()
}

fn phase_schedule(phase: Phase) -> Schedule {
    let mut schedule = Schedule::new(Tick(phase));
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.set_build_settings(ScheduleBuildSettings { ambiguity_detection: LogLevel::Error, ..Default::default() });
    match phase {
        Phase::Policy => {
            schedule.add_systems((metrics::open_tick, policy::apply_policy, policy::publish_tariffs).chain());
        }
        Phase::Arrivals => {
            schedule.add_systems((customs::receive_goods, customs::collect_tariffs).chain());
        }
        Phase::Pricing => {
            schedule.add_systems(
                (pricing::set_producer_prices, pricing::set_shelf_prices, pricing::publish_prices).chain(),
            );
        }
        Phase::Demand => {
            schedule.add_systems(demand::plan_household_spending);
        }
        Phase::Ordering => {
            schedule.add_systems(
                (ordering::publish_quotes, ordering::place_retail_orders, ordering::place_input_orders).chain(),
            );
        }
        Phase::Matching => {
            schedule.add_systems(
                (
                    matching::ration_producers,
                    matching::ration_retailers,
                    matching::publish_fill_ratios,
                    matching::refund_baskets,
                    matching::fill_purchases,
                    matching::settle_producer_sales,
                    matching::settle_retail_sales,
                )
                    .chain(),
            );
        }
        Phase::Production => {
            schedule.add_systems(
                (
                    production::produce,
                    production::plan_shop_staff,
                    labour::post_vacancies,
                    labour::move_workers,
                    labour::count_staff,
                )
                    .chain(),
            );
        }
        Phase::Income => {
            schedule.add_systems(
                (
                    income::index_wages,
                    income::pay_wages_and_dividends,
                    income::publish_payouts,
                    income::recycle_revenue,
                    income::receive_income,
                    income::collect_capital,
                    income::receive_aid,
                )
                    .chain(),
            );
        }
        Phase::Metrics => {
            schedule.add_systems(metrics::measure);
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
        for (phase, mut schedule) in tick_schedules() {
            assert!(schedule.initialize(&mut world).is_ok(), "phase {} has ambiguous systems", phase.name());
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
