//! Criterion benchmarks at the three size presets (docs/performance.md): world
//! construction, one whole tick, and each of the nine phases of a tick. Throughput is in
//! agents, so criterion's "elem/s" is agents per second; a table of ms per tick and ns per
//! agent for every phase is printed after the phase benchmarks.
//!
//! `cargo bench` runs them all. On a small machine:
//! - `TRADESIM_BENCH_QUICK=1` takes 10 samples over short measurement windows;
//! - `TRADESIM_BENCH_SIZES=small,medium` limits the presets (default: all three).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::Duration;
use tradesim::Simulation;
use tradesim::profile::SizePreset;
use tradesim::scenario::{self, Scenario};
use tradesim::schedule::Phase;

/// Ticks run before measuring, past the first weeks' transients (first foreign arrivals).
const WARM_UP_TICKS: u32 = 12;

fn presets() -> Vec<(SizePreset, Arc<Scenario>)> {
    let flagship = scenario::parse(scenario::embedded("us_china_2025").unwrap(), "us_china_2025").unwrap();
    let wanted = std::env::var("TRADESIM_BENCH_SIZES").unwrap_or_default();
    SizePreset::ALL
        .into_iter()
        .filter(|p| wanted.is_empty() || wanted.split(',').any(|w| w.trim() == p.name()))
        .map(|p| (p, Arc::new(flagship.scaled(p.scale_for(flagship.agent_counts().0)))))
        .collect()
}

fn agents(sc: &Scenario) -> u64 {
    let (h, p, r) = sc.agent_counts();
    h + p + r
}

fn configure() -> Criterion {
    let quick = std::env::var_os("TRADESIM_BENCH_QUICK").is_some();
    let c = Criterion::default().sample_size(10);
    if quick {
        c.measurement_time(Duration::from_secs(1)).warm_up_time(Duration::from_millis(200))
    } else {
        c.measurement_time(Duration::from_secs(10)).warm_up_time(Duration::from_secs(2))
    }
}

/// A warmed-up simulation that restarts when it reaches the scenario's end.
struct Stepper {
    sc: Arc<Scenario>,
    sim: Simulation,
}

impl Stepper {
    fn new(sc: Arc<Scenario>) -> Stepper {
        let mut sim = Simulation::new(sc.clone(), true);
        for _ in 0..WARM_UP_TICKS {
            sim.step();
        }
        Stepper { sc, sim }
    }

    /// Runs one tick and returns the time each phase took.
    fn step(&mut self) -> [Duration; 9] {
        if self.sim.next_tick() >= self.sc.ticks {
            *self = Stepper::new(self.sc.clone());
        }
        let before = self.sim.timings().phase;
        self.sim.step();
        let after = self.sim.timings().phase;
        std::array::from_fn(|i| after[i] - before[i])
    }
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    for (preset, sc) in presets() {
        group.throughput(Throughput::Elements(agents(&sc)));
        group.bench_function(preset.name(), |b| b.iter(|| Simulation::new(sc.clone(), true)));
    }
    group.finish();
}

fn tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick");
    for (preset, sc) in presets() {
        group.throughput(Throughput::Elements(agents(&sc)));
        let mut stepper = Stepper::new(sc.clone());
        group.bench_function(preset.name(), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| stepper.step().iter().sum::<Duration>()).sum())
        });
    }
    group.finish();
}

/// Each phase on its own: whole ticks run, only the phase's time counts.
fn phases(c: &mut Criterion) {
    let mut table = Vec::new();
    for (preset, sc) in presets() {
        let n = agents(&sc);
        let mut group = c.benchmark_group(format!("phase/{}", preset.name()));
        group.throughput(Throughput::Elements(n));
        let mut stepper = Stepper::new(sc.clone());
        let mut seen = [(Duration::ZERO, 0u64); 9];
        for (i, phase) in Phase::ALL.iter().enumerate() {
            group.bench_function(phase.name(), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let t = stepper.step();
                        total += t[i];
                        for (k, d) in t.iter().enumerate() {
                            seen[k].0 += *d;
                            seen[k].1 += 1;
                        }
                    }
                    total
                })
            });
        }
        group.finish();
        table.push((preset, n, seen));
    }
    // Mean over every tick the phase benchmarks ran (warm-up included).
    eprintln!("\nper phase, mean over all ticks run above:");
    eprintln!("{:<8} {:<11} {:>10} {:>10}", "preset", "phase", "ms/tick", "ns/agent");
    for (preset, n, seen) in table {
        let mut tick = 0.0;
        for (phase, (total, count)) in Phase::ALL.iter().zip(seen) {
            let ms = total.as_secs_f64() * 1e3 / count.max(1) as f64;
            tick += ms;
            eprintln!("{:<8} {:<11} {:>10.3} {:>10.1}", preset.name(), phase.name(), ms, ms * 1e6 / n as f64);
        }
        eprintln!("{:<8} {:<11} {:>10.3} {:>10.1}", preset.name(), "tick", tick, tick * 1e6 / n as f64);
    }
}

criterion_group! { name = benches; config = configure(); targets = build, tick, phases }
criterion_main!(benches);
