#!/usr/bin/env bash
# Tests tradesim's cluster path against a real Slurm (the single-node cluster of
# scripts/slurm-local.sh; .ci/run calls this script after `cargo test`):
#
#  1. plans a sweep of the `small` scenario (100 Latin-hypercube points × 3 replicates);
#  2. writes its job-array script with `tradesim sweep slurm` and submits it with
#     `sbatch --wait`, one task at a time;
#  3. cancels one array task while it runs (`scancel JOB_TASK`);
#  4. checks that `tradesim sweep status` counts the runs it left undone and names its
#     shard, and resubmits only that shard;
#  5. checks that `tradesim sweep collect` then gives files byte-identical to a local
#     `tradesim sweep run --jobs 2` of the same sweep.
#
# Needs root (Slurm is installed and started as root) and the release binary
# (TRADESIM, default target/release/tradesim). Leaves the cluster stopped unless
# KEEP_SLURM=1.
set -euo pipefail
cd "$(dirname "$0")/.."
TRADESIM=${TRADESIM:-$PWD/target/release/tradesim}
test -x "$TRADESIM" || { echo "no tradesim binary at $TRADESIM (cargo build --release)"; exit 1; }

work=$(mktemp -d /tmp/tradesim-slurm-test-XXXXXX)
scripts/slurm-local.sh start
cleanup() {
  scancel --user="$(id -un)" >/dev/null 2>&1 || true
  [ "${KEEP_SLURM:-0}" = 1 ] || scripts/slurm-local.sh stop
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }

# 300 runs of about 0.15 s (the small scenario at 30 times its agents), 20 to a task: a
# task runs for a few seconds, long enough to be cancelled while it runs.
cat > "$work/sweep.toml" <<'EOF'
name = "slurm_test"
base = "small"
scale = 30
replicates = 3
[sample]
method = "lhs"
points = 100
[parameters]
"rules[0].cap" = { min = 0.2, max = 0.8 }
"behaviour.exporter_absorption" = { min = 0.0, max = 0.3 }
"events[0].effective" = { min = 2024-04-08, max = 2024-06-03 }
EOF

echo "== plan: the cluster's copy and the local one"
"$TRADESIM" sweep plan "$work/sweep.toml" --out "$work/cluster"
"$TRADESIM" sweep plan "$work/sweep.toml" --out "$work/local"

echo "== sweep slurm: 300 runs, 20 per task, two tasks at a time"
"$TRADESIM" sweep slurm "$work/cluster" --runs-per-task 20 --max-parallel 2 --time 10:00 --partition debug
script="$work/cluster/slurm/sweep.sbatch"
grep -q -- '--array=0-14%2' "$script" || fail "unexpected array line: $(grep array "$script")"

echo "== sbatch --wait, and cancel task 1 while it runs"
sbatch --parsable --wait "$script" > "$work/jobid" 2> "$work/sbatch.err" &
waiter=$!
for _ in $(seq 1 100); do
  [ -s "$work/jobid" ] && break
  sleep 0.1
done
job=$(cut -d';' -f1 < "$work/jobid")
[ -n "$job" ] || fail "sbatch printed no job id: $(cat "$work/sbatch.err")"
echo "job $job"
state=""
for _ in $(seq 1 600); do
  state=$(squeue -h -j "${job}_1" -o %T 2>/dev/null || true)
  [ "$state" = RUNNING ] && break
  sleep 0.1
done
[ "$state" = RUNNING ] || fail "task ${job}_1 never ran (state: '$state')"
sleep 1.5   # inside the task: some of its runs done, one in progress, some not started
scancel "${job}_1"
echo "cancelled ${job}_1"
wait "$waiter" || echo "(sbatch --wait returned non-zero: a task was cancelled, as intended)"

echo "== sweep status after the cancel"
"$TRADESIM" sweep status "$work/cluster" | tee "$work/status1.txt"
complete=$(sed -n 's/^  complete *//p' "$work/status1.txt")
[ "$complete" -ge 280 ] && [ "$complete" -lt 300 ] || fail "expected 280 to 299 complete runs after one cancelled task, not $complete"
grep -qE '^  failed +0$' "$work/status1.txt" || fail "a cancelled run is not a failed one"
grep -q 'shards with work left, of 15: --array=1$' "$work/status1.txt" || fail "status does not name shard 1 alone"
ls -d "$work"/cluster/runs/point=*/.replicate=*.partial-* >/dev/null 2>&1 \
  || echo "(the cancel fell between two runs: no half-written run was left)"

echo "== resubmit only the shards with work left"
array=$(sed -n 's/^shards with work left, of 15: --array=//p' "$work/status1.txt")
job2=$(sbatch --parsable --wait --array="$array" "$script" | cut -d';' -f1)
missing=$((300 - complete))
grep -q "shard 1/15: $missing runs done, $((20 - missing)) already complete, 0 failed" "$work"/cluster/slurm/logs/"${job2}"_1.out \
  || fail "the resubmitted task did not run exactly the $missing missing runs: $(tail -3 "$work"/cluster/slurm/logs/"${job2}"_1.out)"
"$TRADESIM" sweep status "$work/cluster" | tee "$work/status2.txt"
grep -qE '^  complete +300$' "$work/status2.txt" || fail "the sweep is not complete after the resubmission"
grep -q 'no shard of 15 has work left' "$work/status2.txt" || fail "status still lists work"
if ls -d "$work"/cluster/runs/point=*/.replicate=*.partial-* >/dev/null 2>&1; then
  fail "half-written runs were left behind"
fi
ls "$work"/cluster/slurm/logs/*_1.out >/dev/null || fail "no log of task 1 in slurm/logs"

echo "== the same sweep run locally"
"$TRADESIM" sweep run "$work/local" --jobs 2
for dir in cluster local; do
  "$TRADESIM" sweep collect "$work/$dir" --series regions >/dev/null
done
for f in runs.csv effects.csv summary.csv series/regions.csv runs.parquet effects.parquet summary.parquet series/regions.parquet; do
  cmp "$work/cluster/$f" "$work/local/$f" || fail "$f differs between the Slurm sweep and the local one"
done
echo "Slurm sweep test OK: cancelled task resubmitted, collected files byte-identical to a local run"
