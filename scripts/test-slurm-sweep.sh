#!/usr/bin/env bash
# Tests tradesim's cluster path against a real Slurm (the single-node cluster of
# scripts/slurm-local.sh; .ci/run calls this script after `cargo test`):
#
#  1. plans a sweep of the `small` scenario (12 points × 2 replicates);
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

# Runs of about half a second (the small scenario at 100 times its agents), eight to a
# task: a task runs for a few seconds, long enough to be cancelled while it runs.
cat > "$work/sweep.toml" <<'EOF'
name = "slurm_test"
base = "small"
scale = 100
replicates = 2
[parameters]
"rules[0].cap" = { min = 0.2, max = 0.8, steps = 4 }
"behaviour.exporter_absorption" = [0.0, 0.1, 0.2]
EOF

echo "== plan: the cluster's copy and the local one"
"$TRADESIM" sweep plan "$work/sweep.toml" --out "$work/cluster"
"$TRADESIM" sweep plan "$work/sweep.toml" --out "$work/local"

echo "== sweep slurm: 24 runs, 8 per task, one task at a time"
"$TRADESIM" sweep slurm "$work/cluster" --runs-per-task 8 --max-parallel 1 --time 10:00 --partition debug
script="$work/cluster/slurm/sweep.sbatch"
grep -q -- '--array=0-2%1' "$script" || fail "unexpected array line: $(grep array "$script")"

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
grep -qE '^  complete +(1[0-9]|2[0-3])$' "$work/status1.txt" || fail "expected 10 to 23 complete runs after one cancelled task"
grep -qE '^  failed +0$' "$work/status1.txt" || fail "a cancelled run is not a failed one"
grep -q 'shards with work left, of 3: --array=1$' "$work/status1.txt" || fail "status does not name shard 1 alone"
ls -d "$work"/cluster/runs/point=*/.replicate=*.partial-* >/dev/null 2>&1 \
  || echo "(the cancel fell between two runs: no half-written run was left)"

echo "== resubmit only the shards with work left"
array=$(sed -n 's/^shards with work left, of 3: --array=//p' "$work/status1.txt")
sbatch --wait --array="$array" "$script"
"$TRADESIM" sweep status "$work/cluster" | tee "$work/status2.txt"
grep -qE '^  complete +24$' "$work/status2.txt" || fail "the sweep is not complete after the resubmission"
grep -q 'no shard of 3 has work left' "$work/status2.txt" || fail "status still lists work"
if ls -d "$work"/cluster/runs/point=*/.replicate=*.partial-* >/dev/null 2>&1; then
  fail "half-written runs were left behind"
fi
ls "$work"/cluster/slurm/logs/*_1.out >/dev/null || fail "no log of task 1 in slurm/logs"

echo "== the same sweep run locally"
"$TRADESIM" sweep run "$work/local" --jobs 2
for dir in cluster local; do
  "$TRADESIM" sweep collect "$work/$dir" --series regions >/dev/null
done
for f in runs.csv effects.csv summary.csv series/regions.csv; do
  cmp "$work/cluster/$f" "$work/local/$f" || fail "$f differs between the Slurm sweep and the local one"
done
echo "Slurm sweep test OK: cancelled task resubmitted, collected files byte-identical to a local run"
