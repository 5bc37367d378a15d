#!/usr/bin/env bash
# Executes notebooks/quickstart.ipynb on outputs made here: the flagship at a tenth of
# its agents (CSV and Parquet) and a 2-point x 2-replicate sweep of the small scenario.
# Makes a Python virtual environment with jupyter, pandas, pyarrow and matplotlib from
# PyPI (idempotent; VENV=DIR to choose where, default target/notebook-venv).
# Usage: scripts/notebook.sh [TRADESIM_BINARY]
set -euo pipefail
bin="$(realpath "${1:-$(dirname "$0")/../target/release/tradesim}")"
cd "$(dirname "$0")/.."
venv="${VENV:-target/notebook-venv}"
export DEBIAN_FRONTEND=noninteractive
# .ok is written only once every package is in, so an interrupted install is redone.
if [ ! -f "$venv/.ok" ]; then
  command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 python3-venv; }
  python3 -m venv "$venv" 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv "$venv"; }
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q jupyter nbconvert ipykernel pandas pyarrow matplotlib
  touch "$venv/.ok"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" run us_china_2025 --scale 0.1 --format both --out "$work/run" >/dev/null
cat > "$work/sweep.toml" <<'TOML'
name = "notebook"
base = "small"
seed = 7
replicates = 2
ticks = 30

[sample]
method = "grid"

[parameters]
"behaviour.exporter_absorption" = [0.0, 0.3]
TOML
"$bin" sweep plan "$work/sweep.toml" --out "$work/sweep" >/dev/null
"$bin" sweep run "$work/sweep" --jobs 2 >/dev/null
"$bin" sweep collect "$work/sweep" >/dev/null
TRADESIM_RUN="$work/run" TRADESIM_SWEEP="$work/sweep" \
  "$venv/bin/jupyter" nbconvert --to notebook --execute notebooks/quickstart.ipynb \
  --ExecutePreprocessor.timeout=300 --output-dir "$work" --output executed.ipynb
echo "notebook OK: notebooks/quickstart.ipynb executed on $work/run and $work/sweep"
