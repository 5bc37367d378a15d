#!/usr/bin/env python3
"""Print the run numbers that docs/model.md ("Known limitations") and docs/scenario.md
(the `endogenous_retaliation` row) quote, from tradesim run directories.

Any change to the random streams or the model moves them; re-run the runs and this
script, and update the docs from what it prints:

    for s in 2025 1 2; do tradesim run us_china_2025 --seed $s --out runs/s$s; done
    tradesim run us_china_2025 --scale 0.05 --out runs/scale005
    tradesim run endogenous_retaliation --out runs/endo
    python3 scripts/documented_numbers.py runs/s2025 runs/s1 runs/s2 runs/scale005 runs/endo

Standard library only. A run of `endogenous_retaliation` gets China's rule firings and
its chip shortage; any other run the flagship's numbers, which need its regions, a
counterfactual and at least 56 weeks (a run that lacks them says so and is skipped).
"""

import csv
import json
import sys
from collections import defaultdict
from pathlib import Path


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def weekly_mean(rows, first, last):
    """Mean over weeks first..=last of the per-tick sums of `value`."""
    per_tick = defaultdict(float)
    for r in rows:
        if first <= int(r["tick"]) <= last:
            per_tick[int(r["tick"])] += float(r["value"])
    return sum(per_tick.values()) / len(per_tick) if per_tick else float("nan")


def flagship(run, manifest):
    if not (run / "counterfactual").is_dir():
        print("  (run with --no-counterfactual: nothing to compare)")
        return
    regions = read_csv(run / "counterfactual" / "regions.csv")
    us = [r for r in regions if r["region"] == "USA"]
    if not us or not any(r["region"] == "CHN" for r in regions):
        print("  (no USA or CHN region: not a flagship-world run)")
        return
    trade = read_csv(run / "counterfactual" / "trade.csv")
    between = lambda exp, imp: [r for r in trade if r["exporter"] == exp and r["importer"] == imp]
    print("  counterfactual, weeks 10-55:")
    print(f"    goods CHN -> USA      {weekly_mean(between('CHN', 'USA'), 10, 55) / 1e9:6.2f} B a week")
    print(f"    goods USA -> CHN      {weekly_mean(between('USA', 'CHN'), 10, 55) / 1e9:6.2f} B a week")
    imports = [float(r["imports"]) for r in us if 10 <= int(r["tick"]) <= 55]
    print(f"    US imports            {sum(imports) / len(imports) * 52 / 1e12:6.2f} T a year")

    unemployment = {int(r["tick"]): 100 * float(r["unemployment_rate"]) for r in us}
    end = max(unemployment)
    lo = min(range(13, 53), key=lambda t: unemployment[t])
    print("  counterfactual US unemployment, %:")
    print("    " + "  ".join(f"w{t} {unemployment[t]:.1f}" for t in (0, 13, 26, 39, 52, end)))
    print(f"    lowest in weeks 13-52: {unemployment[lo]:.1f} (week {lo})")
    cpi = [float(r["cpi"]) for r in us]
    print(f"  counterfactual US CPI over the run: {100 * (cpi[-1] / cpi[0] - 1):+.2f} %")

    cal = {c["region"]: c for c in manifest["calibration"]}
    vnm = cal.get("VNM")
    print(f"  calibration: US import propensity {cal['USA']['import_propensity']:.2f}", end="")
    if vnm:
        print(f"; VNM base spending {vnm['base_spending'] / 1e12:.2f} T against GDP {vnm['target_gdp'] / 1e12:.2f} T")
    else:
        print()

    effects = read_csv(run / "effects.csv")
    print("  effects:")
    for r in effects:
        if r["metric"] == "gdp" and r["region"] in ("USA", "CHN") and r["horizon"] in ("13w", "52w") and r["pct_change"]:
            print(f"    GDP {r['region']} {r['horizon']:>4}          {100 * float(r['pct_change']):+6.2f} %")
    for r in effects:
        if (
            r["metric"] in ("retail_pass_through", "retail_pass_through_imported")
            and (r["region"], r["partner"], r["sector"]) == ("USA", "CHN", "CONS")
            and r["horizon"] in ("13w", "26w")
        ):
            print(f"    {r['metric']:<29} {r['horizon']:>4} {100 * float(r['change']):6.1f} %")


def retaliation(run, manifest):
    policy = read_csv(run / "scenario" / "policy.csv")
    firings = defaultdict(list)
    for r in policy:
        if r["government"] == "CHN" and r["partner"] == "USA":
            firings[(r["tick"], r["date"], r["old_rate"], r["new_rate"], r["cause"])].append(r["sector"])
    print("  China's changes on US goods:")
    for (tick, date, old, new, cause), sectors in firings.items():
        print(f"    week {tick} ({date}): {float(old):.1%} -> {float(new):.1%} on {len(sectors)} sectors: {cause}")
    first = manifest.get("first_policy_tick")
    chips = [r for r in read_csv(run / "scenario" / "sectors.csv") if (r["region"], r["sector"]) == ("CHN", "SEMI")]
    after = [r for r in chips if first is not None and int(r["tick"]) >= int(first)]
    if not after:
        print("  (no CHN SEMI series after the first policy week)")
        return
    peak = max(after, key=lambda r: float(r["shortage_rate"]))
    print(f"  China's chip shortage from week {first}: peak {100 * float(peak['shortage_rate']):.2f} % in week {peak['tick']} ({peak['date']})")


def main(dirs):
    if not dirs:
        sys.exit(__doc__)
    for d in map(Path, dirs):
        manifest = d / "manifest.json"
        if not manifest.is_file():
            sys.exit(f"{d}: no manifest.json; expected a directory written by `tradesim run`")
        m = json.loads(manifest.read_text())
        print(f"{d}: {m['scenario_name']}, seed {m['seed']}, scale {m['scale']}, {m['ticks']} weeks, {m['git_commit']}")
        if m["scenario_name"] == "endogenous_retaliation":
            retaliation(d, m)
        elif m["ticks"] < 56:
            print("  (fewer than 56 weeks: the numbers need weeks 10-55 and the 52-week horizon)")
        else:
            flagship(d, m)


if __name__ == "__main__":
    main(sys.argv[1:])
