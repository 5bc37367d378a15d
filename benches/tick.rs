//! Criterion benchmarks: world construction and one whole tick, on the small scenario and
//! on the flagship at reduced scale. `cargo bench` runs them; set `TRADESIM_BENCH_QUICK=1`
//! for a short run on a small machine.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::Duration;
use tradesim::Simulation;
use tradesim::scenario::{self, Scenario};

fn scenarios() -> Vec<(String, Scenario)> {
    let load = |name: &str| scenario::parse(scenario::embedded(name).unwrap(), name).unwrap();
    vec![("small".into(), load("small")), ("flagship_x0.1".into(), load("us_china_2025").scaled(0.1))]
}

fn agents(sc: &Scenario) -> u64 {
    let (h, p, r) = sc.agent_counts();
    h + p + r
}

fn configure() -> Criterion {
    let quick = std::env::var_os("TRADESIM_BENCH_QUICK").is_some();
    let c = Criterion::default().sample_size(if quick { 10 } else { 30 });
    if quick { c.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500)) } else { c }
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    for (name, sc) in scenarios() {
        let sc = Arc::new(sc);
        group.throughput(Throughput::Elements(agents(&sc)));
        group.bench_function(&name, |b| b.iter(|| Simulation::new(sc.clone(), true)));
    }
    group.finish();
}

fn tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick");
    for (name, sc) in scenarios() {
        let sc = Arc::new(sc);
        group.throughput(Throughput::Elements(agents(&sc)));
        // A world warmed up past the first weeks' transients, stepped one tick per iteration.
        let mut sim = Simulation::new(sc.clone(), true);
        for _ in 0..20 {
            sim.step();
        }
        group.bench_function(&name, |b| {
            b.iter_batched_ref(
                || (),
                |_| {
                    if sim.next_tick() >= sc.ticks {
                        sim = Simulation::new(sc.clone(), true);
                    }
                    sim.step().tick
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group! { name = benches; config = configure(); targets = build, tick }
criterion_main!(benches);
