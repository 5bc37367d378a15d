#!/usr/bin/env bash
# Fuzzes tradesim's two text inputs with cargo-fuzz (libFuzzer), SECONDS per target
# (default 45; CI runs this): `scenario` (scenario text -> validated scenario -> a few
# ticks of a small world) and `sweep` (sweep text -> checked spec -> its plan). Installs
# cargo-fuzz if it is missing; needs the nightly toolchain (`cargo +nightly`).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Run it longer (e.g. `scripts/fuzz.sh 1800 scenario`) to search harder. New corpus
# entries go to a temporary directory; the seeds in fuzz/corpus/TARGET are only read. A
# crash leaves its input in fuzz/artifacts/TARGET/ and fails the script: fix the bug and
# keep the input in fuzz/regressions/TARGET/, which `cargo test` runs
# (tests/suite/fuzz_regressions.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-45}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario sweep)
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "$0: SECONDS must be a whole number >= 1, got '$seconds'" >&2; exit 2; }
cargo +nightly --version > /dev/null 2>&1 || { echo "$0: needs the nightly toolchain (cargo +nightly)" >&2; exit 2; }
command -v cargo-fuzz > /dev/null || cargo install cargo-fuzz --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
    echo "== fuzz $t for ${seconds}s (cargo +nightly fuzz run $t)"
    mkdir -p "$work/$t"
    # -timeout: an input that takes longer than 20 s is a hang, reported as a crash.
    log="$work/$t.log"
    if cargo +nightly fuzz run "$t" "$work/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 > "$log" 2>&1; then
        tail -n 15 "$log"
    else
        status=$?
        cat "$log"
        echo "$0: fuzz target $t failed (exit $status); its input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
