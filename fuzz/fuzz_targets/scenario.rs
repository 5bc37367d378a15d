//! Scenario text → validated scenario → a few ticks of a small world. Never a panic, an
//! abort or a hang: only `Ok` or a `ScenarioError`, and a world that keeps its identities.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        tradesim::fuzz::scenario_text(text);
    }
});
