//! Sweep file text → checked sweep spec → its plan against an embedded base (every point
//! validated as a scenario). Never a panic: only `Ok` or an error naming the problem.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        tradesim::fuzz::sweep_text(text);
    }
});
