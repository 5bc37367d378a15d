//! What the fuzz targets (`fuzz/`, cargo-fuzz) run on each input, here so that the test
//! suite runs the same code on every input the fuzzer ever found a crash with
//! (`tests/suite/fuzz_regressions.rs`).
//!
//! Each function must return for any text: a panic, an abort or a hang is the bug the
//! fuzzer looks for. Inputs too large to be a scenario anyone writes are skipped, so that
//! time goes to the parser rather than to building huge worlds.

use crate::Simulation;
use std::sync::Arc;

/// Texts longer than this are skipped.
pub const MAX_TEXT: usize = 16 * 1024;
/// Worlds with more agents are scaled down to about this many before they run.
pub const MAX_AGENTS: u64 = 2_000;
/// Ticks run of a world that parses.
pub const TICKS: u32 = 3;

/// Scenario text → validated scenario → at most [`TICKS`] ticks of a world of at most
/// about [`MAX_AGENTS`] agents, which must keep its money exact and its goods balanced.
pub fn scenario_text(text: &str) {
    if text.len() > MAX_TEXT {
        return;
    }
    let Ok(sc) = crate::scenario::parse(text, "fuzz") else { return };
    let (h, p, r) = sc.agent_counts();
    let agents = h + p + r;
    let sc = if agents > MAX_AGENTS { sc.scaled(MAX_AGENTS as f64 / agents as f64) } else { sc };
    if crate::world::calibrate::check_feasible(&sc).is_err() {
        return;
    }
    let mut sim = Simulation::new(Arc::new(sc.clone()), true);
    for _ in 0..sc.ticks.min(TICKS) {
        sim.step();
    }
    let res = sim.residuals();
    assert_eq!(res.money_worst, 0, "money moved: {res:?}");
    assert_eq!((res.foreign_assets_worst, res.current_account_worst), (0, 0), "foreign assets: {res:?}");
    // A goods residual beyond the tolerance is not a crash: `run` reports it as an error
    // (the scenario is beyond what the arithmetic carries).
}

/// Sweep file text → checked spec → its plan against its base when the base is an
/// embedded scenario (every point checked as a scenario); nothing is written.
pub fn sweep_text(text: &str) {
    if text.len() > MAX_TEXT {
        return;
    }
    let file = std::path::Path::new("/nonexistent-fuzz-dir/sweep.toml");
    let _ = crate::sweep::plan::Plan::from_text(text, "fuzz", file, "fuzz", crate::sweep::plan::Check::Everything);
}
