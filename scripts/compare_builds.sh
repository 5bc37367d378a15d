#!/usr/bin/env bash
# Compares two builds of tradesim back to back: runs them in alternating pairs, each run
# `tradesim run SCENARIO --size SIZE --ticks TICKS --no-counterfactual --profile`, and
# prints for every phase and system the median and minimum ms per tick of each build, the
# median of the paired differences (B - A) and in how many pairs B was faster.
#
#   scripts/compare_builds.sh PAIRS BUILD_A BUILD_B [THREADS]
#
# Environment: SIZE (default large), TICKS (default 12), SCENARIO (default us_china_2025),
# ONLY (a regular expression of the rows to print; default all), DIGITS (decimals printed;
# default 2: the small preset's passes need 3).
#
# Why pairs: a VM's speed can drift by 10-40% within minutes (the EPYC machine's did), so
# only builds compared close together in time say what a change bought; the paired
# difference cancels most of the drift that a comparison of separate minimums keeps
# (docs/performance.md).
set -euo pipefail

usage() {
    echo "usage: $0 PAIRS BUILD_A BUILD_B [THREADS]   (PAIRS >= 1; builds are tradesim binaries)" >&2
    exit 2
}
[ $# -ge 3 ] && [ $# -le 4 ] || usage
pairs=$1 a=$2 b=$3 threads=${4:-2}
[[ $pairs =~ ^[1-9][0-9]*$ ]] || { echo "$0: PAIRS must be a whole number >= 1, got '$pairs'" >&2; usage; }
[[ $threads =~ ^[1-9][0-9]*$ ]] || { echo "$0: THREADS must be a whole number >= 1, got '$threads'" >&2; usage; }
[[ ${DIGITS-2} =~ ^[0-9]$ ]] || { echo "$0: DIGITS must be a whole number from 0 to 9, got '${DIGITS}'" >&2; exit 2; }
for bin in "$a" "$b"; do
    [ -x "$bin" ] || { echo "$0: '$bin' is not an executable file" >&2; exit 2; }
done
command -v python3 > /dev/null || { echo "$0: needs python3 (standard library only)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows="$work/rows"
: > "$rows"
for i in $(seq "$pairs"); do
    for side in A B; do
        bin=$a
        [ "$side" = B ] && bin=$b
        log="$work/run.log"
        if ! "$bin" run "${SCENARIO:-us_china_2025}" --size "${SIZE:-large}" --ticks "${TICKS:-12}" \
            --no-counterfactual --profile --threads "$threads" --out "$work/out" --force > "$log" 2>&1; then
            echo "$0: build $side ($bin) failed on pair $i:" >&2
            tail -5 "$log" >&2
            exit 1
        fi
        # The profile's rows: a phase or system name, then its ms per tick.
        grep -E '^  +[a-z_:]+ +[0-9]' "$log" | awk -v i="$i" -v s="$side" '{print i, s, $1, $2}' >> "$rows"
    done
done

python3 - "$rows" "${ONLY:-.}" << 'PY'
import collections, os, re, statistics, sys

rows, only = sys.argv[1], re.compile(sys.argv[2])
digits = int(os.environ.get("DIGITS", "2"))
times = collections.defaultdict(dict)
for line in open(rows):
    pair, side, name, ms = line.split()
    times[name][(int(pair), side)] = float(ms)
print(f"{'phase or system':34s} {'A median':>9s} {'A min':>8s} {'B median':>9s} {'B min':>8s} {'B-A median':>11s}  B faster")
for name in sorted(times):
    if not only.search(name):
        continue
    t = times[name]
    pairs = sorted({p for p, _ in t if (p, "A") in t and (p, "B") in t})
    if not pairs:
        # A system one build has and the other has not (added, renamed or removed).
        only_in = "A" if any(s == "A" for _, s in t) else "B"
        print(f"{name:34s} only in build {only_in}: median {statistics.median(t.values()):.{digits}f}")
        continue
    a = [t[(p, "A")] for p in pairs]
    b = [t[(p, "B")] for p in pairs]
    diffs = [y - x for x, y in zip(a, b)]
    faster = sum(d < 0 for d in diffs)
    n = digits
    print(f"{name:34s} {statistics.median(a):9.{n}f} {min(a):8.{n}f} {statistics.median(b):9.{n}f} {min(b):8.{n}f}"
          f" {statistics.median(diffs):+11.{n}f}  {faster}/{len(diffs)}")
PY
