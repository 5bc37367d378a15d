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
/// Worlds with more region × sector cells are skipped: the calibration's cost grows with
/// the square of the cells, and a valid 16 KiB text can hold thousands.
pub const MAX_CELLS: usize = 150;
/// Sweep designs with more points are skipped: every point is checked as a scenario.
pub const MAX_POINTS: u64 = 64;

/// Scenario text → validated scenario → at most [`TICKS`] ticks of a world of at most
/// about [`MAX_AGENTS`] agents, which must keep its money exact and its goods balanced.
pub fn scenario_text(text: &str) {
    if text.len() > MAX_TEXT {
        return;
    }
    let Ok(sc) = crate::scenario::parse(text, "fuzz") else { return };
    if sc.n_regions() * sc.n_sectors() > MAX_CELLS {
        return;
    }
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
/// embedded scenario and the design has at most [`MAX_POINTS`] points (every point
/// checked as a scenario); nothing is read but the text and nothing is written.
pub fn sweep_text(text: &str) {
    use crate::sweep::spec::{self, Domain, Method};
    if text.len() > MAX_TEXT {
        return;
    }
    let Ok(parsed) = spec::parse(text, "fuzz", "fuzz") else { return };
    // A base that is a path would be read from the host's disk: only embedded ones.
    if crate::scenario::embedded(&parsed.base).is_none() {
        return;
    }
    let points = match parsed.method {
        Method::Grid => parsed.parameters.iter().fold(1u64, |n, p| {
            n.saturating_mul(match &p.domain {
                Domain::Values(v) => v.len() as u64,
                Domain::Range { steps, .. } => steps.unwrap_or(1) as u64,
            })
        }),
        _ => parsed.points.unwrap_or(0) as u64,
    };
    if points.saturating_mul(parsed.replicates.max(1) as u64) > MAX_POINTS {
        return;
    }
    let file = std::path::Path::new("/nonexistent-fuzz-dir/sweep.toml");
    let _ = crate::sweep::plan::Plan::from_text(text, "fuzz", file, "fuzz", crate::sweep::plan::Check::Everything);
}
