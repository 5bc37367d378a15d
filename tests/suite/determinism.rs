//! Same scenario and seed give byte-identical outputs for 1, 2 and 4 threads and for two
//! runs; different seeds differ (MODEL.md §8). The thread pool is per process, so each
//! thread count runs the binary in its own process.

use crate::common::{embedded, read, run_files, run_tradesim};
use std::path::Path;

/// The small scenario at twice its size, with both worlds.
fn run_binary(out: &Path, threads: u32, seed: u64) {
    run_tradesim(out, threads, &["configs/small.toml", "--scale", "2", "--seed", &seed.to_string()]);
}

/// The flagship without its counterfactual, with `args` (size, horizon), on 1 and on 2
/// threads: the two output directories under `tmp`.
fn flagship_on_one_and_two_threads(tmp: &Path, args: &[&str]) -> Vec<std::path::PathBuf> {
    flagship_on_threads(tmp, &[1, 2], args)
}

/// The flagship without its counterfactual, with `args`, on each of `threads`: the output
/// directories under `tmp`, in that order.
fn flagship_on_threads(tmp: &Path, threads: &[u32], args: &[&str]) -> Vec<std::path::PathBuf> {
    let args = [&["us_china_2025", "--no-counterfactual"], args].concat();
    threads
        .iter()
        .map(|&threads| {
            let out = tmp.join(format!("threads{threads}"));
            run_tradesim(&out, threads, &args);
            out
        })
        .collect()
}

#[test]
fn outputs_are_byte_identical_for_any_thread_count_and_differ_by_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = [1, 2, 4].iter().map(|t| tmp.path().join(format!("threads{t}"))).collect();
    for (dir, t) in dirs.iter().zip([1, 2, 4]) {
        run_binary(dir, t, 7);
    }
    let again = tmp.path().join("again");
    run_binary(&again, 2, 7);
    let other_seed = tmp.path().join("seed8");
    run_binary(&other_seed, 2, 8);
    for file in &run_files() {
        let reference = read(&dirs[0], file);
        assert!(reference.len() > 100 || file.ends_with("policy.csv"), "{file} is nearly empty");
        for dir in dirs.iter().skip(1).chain([&again]) {
            assert!(read(dir, file) == reference, "{file} differs between {} and {}", dirs[0].display(), dir.display());
        }
    }
    let differs =
        ["scenario/regions.csv", "scenario/trade.csv"].iter().all(|f| read(&other_seed, f) != read(&dirs[0], f));
    assert!(differs, "a different seed gave the same series");
}

#[test]
fn library_runs_with_the_same_seed_agree_exactly() {
    let sc = crate::common::embedded("small");
    let (a, _) = crate::common::run(&sc, true, Some(30));
    let (b, _) = crate::common::run(&sc, true, Some(30));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.regions, y.regions);
        assert_eq!(x.trade, y.trade);
        assert_eq!(x.sectors, y.sectors);
        assert_eq!(x.policy, y.policy);
    }
}

#[test]
fn scenario_and_counterfactual_share_random_numbers_before_the_first_event() {
    let sc = crate::common::embedded("small");
    let first = sc.first_policy_tick().expect("small has events");
    assert!(first >= 10, "the first event of small.toml is in April 2024, not at tick {first}");
    let (s, _) = crate::common::run(&sc, true, Some(first));
    let (c, _) = crate::common::run(&sc, false, Some(first));
    for (x, y) in s.iter().zip(&c) {
        assert_eq!(x.regions, y.regions, "tick {} differs before any policy", x.tick);
    }
}

/// The large preset (about a million households) at a reduced horizon: 1 and 2 threads give
/// byte-identical series, money is conserved exactly and goods balance within 1e-9.
#[test]
fn large_preset_is_deterministic_and_conserves_money_and_goods() {
    let tmp = tempfile::tempdir().unwrap();
    let manifests: Vec<_> = flagship_on_one_and_two_threads(tmp.path(), &["--size", "large", "--ticks", "6"])
        .into_iter()
        .map(|out| {
            let manifest: serde_json::Value = serde_json::from_slice(&read(&out, "manifest.json")).unwrap();
            (out, manifest)
        })
        .collect();
    for (out, manifest) in &manifests {
        assert_eq!(manifest["agents"]["households"], 1_086_400, "{}", out.display());
        let res = &manifest["residuals"]["scenario"];
        assert_eq!(res["money_worst"], 0, "money moved: {res}");
        let goods = res["goods_worst"].as_f64().unwrap();
        assert!(goods < 1e-9, "goods residual {goods}");
    }
    for file in ["scenario/regions.csv", "scenario/trade.csv", "scenario/sectors.csv", "scenario/policy.csv"] {
        let a = read(&manifests[0].0, file);
        assert!(file.ends_with("policy.csv") || a.len() > 1000, "{file} is nearly empty");
        assert!(a == read(&manifests[1].0, file), "{file} differs between 1 and 2 threads at the large preset");
    }
    // Foreign goods arrived and paid tariffs within the horizon.
    let trade = String::from_utf8(read(&manifests[0].0, "scenario/trade.csv")).unwrap();
    let paid: f64 = trade.lines().skip(1).filter_map(|l| l.split(',').nth(8)?.parse::<f64>().ok()).sum();
    assert!(paid > 0.0, "no tariffs were paid in six weeks");
}

/// The flagship at the medium preset over its whole horizon: the smallest preset whose
/// households (112,000) are above the serial threshold of the passes over households
/// (`threads::MIN_PARALLEL_HOUSEHOLDS`), so demand, refunds, the labour moves and income run
/// in parallel on 2 and 4 threads and serially on 1. Retailers ration in some of its weeks,
/// in the USA and China only, whose households come first in the table (about 48,000 of
/// them): on 2 threads they all fall in the first of two batches, on 4 in the first two
/// of four, so refunds from two batches are combined. All give byte-identical series.
#[test]
fn household_passes_agree_serial_and_parallel_in_weeks_of_retail_rationing() {
    const HOUSEHOLDS: usize = 112_000;
    const { assert!(HOUSEHOLDS >= tradesim::threads::MIN_PARALLEL_HOUSEHOLDS, "the household passes would run serially") };
    let tmp = tempfile::tempdir().unwrap();
    let threads = [1, 2, 4];
    let outs = flagship_on_threads(tmp.path(), &threads, &["--size", "medium"]);
    let manifest: serde_json::Value = serde_json::from_slice(&read(&outs[0], "manifest.json")).unwrap();
    assert_eq!(manifest["agents"]["households"], HOUSEHOLDS, "households at the medium preset");
    for file in ["scenario/regions.csv", "scenario/trade.csv", "scenario/sectors.csv", "scenario/policy.csv"] {
        for (out, t) in outs.iter().zip(threads).skip(1) {
            assert!(read(&outs[0], file) == read(out, file), "{file} differs between 1 and {t} threads");
        }
    }
    // Some weeks left household demand unfilled: retailers rationed and households were refunded.
    let regions = String::from_utf8(read(&outs[0], "scenario/regions.csv")).unwrap();
    let column = regions.lines().next().unwrap().split(',').position(|c| c == "shortage_rate").unwrap();
    let shortage = |line: &str| line.split(',').nth(column).and_then(|v| v.parse::<f64>().ok()).unwrap();
    let rationed = regions.lines().skip(1).filter(|l| shortage(l) > 0.0).count();
    assert!(rationed > 0, "no week of retail rationing: the refunds were never run");
}

/// A world saved between two ticks and restored into a world built again from the
/// scenario runs on exactly as the world never stopped: every later tick's report is the
/// same, bit for bit, and the state saved again after the restore is the same bytes.
#[test]
fn a_world_restored_from_its_saved_state_runs_on_bit_for_bit() {
    use tradesim::checkpoint::WorldState;
    use tradesim::engine::Simulation;
    for (name, scale, cut, after) in
        [("small", 1.0, 7, 30), ("us_china_2025", 0.02, 66, 12), ("endogenous_retaliation", 0.02, 70, 10)]
    {
        let mut sc = embedded(name);
        if scale != 1.0 {
            sc = sc.scaled(scale);
        }
        let sc = std::sync::Arc::new(sc);
        for policy in [true, false] {
            let mut a = Simulation::new(sc.clone(), policy);
            for _ in 0..cut {
                a.step();
            }
            let state = WorldState::capture(a.world_mut());
            let bytes = state.encode();
            let mut b = Simulation::new(sc.clone(), policy);
            WorldState::decode(&bytes).unwrap().apply(b.world_mut()).unwrap();
            assert_eq!(b.next_tick(), cut, "{name}");
            assert!(
                WorldState::capture(b.world_mut()).encode() == bytes,
                "{name}: the restored state saves differently"
            );
            for t in 0..after {
                let ra = format!("{:?}", a.step());
                let rb = format!("{:?}", b.step());
                assert!(ra == rb, "{name} (policy {policy}): tick {} differs after the restore", cut + t);
            }
            assert_eq!(a.residuals(), b.residuals(), "{name}");
        }
    }
}
