#!/usr/bin/env bash
# Measures the sweep layer (docs/performance.md, "Sweeps"):
#  - the rate of `sweep run --jobs 2` against `--jobs 1` on a 300-run sweep of the
#    `small` scenario (alternating pairs, fresh directories each time);
#  - the sweep machinery's own time on that sweep: planning, a second `sweep run` that
#    finds everything complete (skipping), and `sweep collect`, against the runs' time;
#  - `sweep collect` over 1,000 runs, in each --format.
#
# Usage: scripts/bench_sweep.sh [WORK_DIR [PAIRS]]   (default: a new directory in /tmp, 3 pairs)
# Nothing is deleted until the end: on ext4, creating files soon after many were deleted
# costs far more kernel time (ext4's recently_deleted inode scan; seen with perf here), which
# would make later runs slower than earlier ones. The work directory is removed at the end
# unless KEEP=1.
# Needs the release binary (TRADESIM, default target/release/tradesim).
set -euo pipefail
cd "$(dirname "$0")/.."
TRADESIM=${TRADESIM:-$PWD/target/release/tradesim}
work=${1:-$(mktemp -d /tmp/tradesim-bench-sweep-XXXXXX)}
pairs=${2:-3}
mkdir -p "$work"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

sweep_file() { # name points replicates
  cat > "$work/$1.toml" <<EOF
name = "$1"
base = "small"
replicates = $3
[sample]
method = "lhs"
points = $2
[parameters]
"rules[0].cap" = { min = 0.2, max = 0.8 }
"behaviour.exporter_absorption" = { min = 0.0, max = 0.3 }
EOF
}

sweep_file s300 100 3
: > "$work/times.txt"
for pair in $(seq 1 "$pairs"); do
  for jobs in 1 2; do
    dir="$work/run_${pair}_$jobs"
    rm -rf "$dir"
    t=$(now); "$TRADESIM" sweep plan "$work/s300.toml" --out "$dir" >/dev/null; plan=$(elapsed "$t")
    t=$(now); "$TRADESIM" sweep run "$dir" --jobs "$jobs" 2>/dev/null; run=$(elapsed "$t")
    t=$(now); "$TRADESIM" sweep run "$dir" --jobs "$jobs" 2>/dev/null; skip=$(elapsed "$t")
    t=$(now); "$TRADESIM" sweep collect "$dir" >/dev/null 2>&1; collect=$(elapsed "$t")
    t=$(now); "$TRADESIM" sweep collect "$dir" --format csv >/dev/null 2>&1; collect_csv=$(elapsed "$t")
    echo "$pair $jobs $plan $run $skip $collect $collect_csv" | tee -a "$work/times.txt"
  done
done
col() { awk -v j="$1" -v c="$2" '$2 == j {print $c}' "$work/times.txt" | median; }
run1=$(col 1 4); run2=$(col 2 4)
plan=$(awk '{print $3}' "$work/times.txt" | median)
skip=$(awk '{print $5}' "$work/times.txt" | median)
collect=$(awk '{print $6}' "$work/times.txt" | median)
collect_csv=$(awk '{print $7}' "$work/times.txt" | median)
echo
echo "300 runs of small, medians of $pairs alternating pairs (seconds):"
printf '  --jobs 1: %.2f s (%.1f runs/s)   --jobs 2: %.2f s (%.1f runs/s)   ratio %.2f\n' \
  "$run1" "$(echo "300 / $run1" | bc -l)" "$run2" "$(echo "300 / $run2" | bc -l)" "$(echo "$run1 / $run2" | bc -l)"
printf '  plan %.3f s, skip (all complete) %.3f s, collect %.3f s: %.1f%% of the runs'"'"' time on 1 job, %.1f%% on 2\n' \
  "$plan" "$skip" "$collect" "$(echo "100 * ($plan + $skip + $collect) / $run1" | bc -l)" \
  "$(echo "100 * ($plan + $skip + $collect) / $run2" | bc -l)"
printf '  with collect --format csv %.3f s: %.1f%% on 1 job, %.1f%% on 2\n' "$collect_csv" \
  "$(echo "100 * ($plan + $skip + $collect_csv) / $run1" | bc -l)" \
  "$(echo "100 * ($plan + $skip + $collect_csv) / $run2" | bc -l)"

sweep_file s1000 500 2
dir="$work/collect_1000"
"$TRADESIM" sweep plan "$work/s1000.toml" --out "$dir" >/dev/null
"$TRADESIM" sweep run "$dir" --jobs 2 2>/dev/null
for format in csv parquet both; do
  t=$(now); "$TRADESIM" sweep collect "$dir" --format $format >/dev/null 2>&1; c1=$(elapsed "$t")
  t=$(now); "$TRADESIM" sweep collect "$dir" --format $format --series regions,trade >/dev/null 2>&1; c2=$(elapsed "$t")
  printf '1,000 runs, --format %s: collect %.2f s; with --series regions,trade %.2f s (%s of series)\n' \
    "$format" "$c1" "$c2" "$(du -sh "$dir/series" | cut -f1)"
done
