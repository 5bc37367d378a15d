#!/usr/bin/env python3
"""Write docs/validation.md: the facts the flagship should reproduce, each with its source,
the published figure, the model's figure over several seeds (mean and range) and a
verdict, from tradesim run directories of `us_china_2025` (each with its counterfactual).

    for s in 2025 1 2 3 4; do tradesim run us_china_2025 --seed $s --out runs/v$s; done
    python3 scripts/validation.py runs/v2025 runs/v1 runs/v2 runs/v3 runs/v4 > docs/validation.md

Standard library only. A fact the model misses is reported as missed, never dropped. The
bands that decide a verdict are written in the table, beside the figure they judge.
"""

import csv
import json
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def in_window(row, first, last):
    return first <= date.fromisoformat(row["date"]) <= last


def flow(rows, exporter, importer, first, last, sector=None):
    """Mean weekly invoice value of arrivals from exporter to importer over the window."""
    per_tick = defaultdict(float)
    for r in rows:
        if r["exporter"] == exporter and r["importer"] == importer and in_window(r, first, last):
            if sector is None or r["sector"] == sector:
                per_tick[r["tick"]] += float(r["value"])
    return sum(per_tick.values()) / len(per_tick) if per_tick else float("nan")


def region_mean(rows, region, column, first, last):
    xs = [float(r[column]) for r in rows if r["region"] == region and in_window(r, first, last)]
    return sum(xs) / len(xs) if xs else float("nan")


def effect(rows, metric, region, partner, sector, horizon):
    for r in rows:
        if (r["metric"], r["region"], r["partner"], r["sector"], r["horizon"]) == (
            metric,
            region,
            partner,
            sector,
            horizon,
        ):
            return float(r["change"]) if r["change"] else float("nan")
    return float("nan")


def pct(a, b):
    return 100.0 * (a / b - 1.0) if b else float("nan")


D = date.fromisoformat
APR_DEC = (D("2025-04-07"), D("2025-12-29"))


def facts(run):
    """The model's figure for every fact, from one run directory."""
    sc_trade = read_csv(run / "scenario" / "trade.csv")
    cf_trade = read_csv(run / "counterfactual" / "trade.csv")
    sc_reg = read_csv(run / "scenario" / "regions.csv")
    cf_reg = read_csv(run / "counterfactual" / "regions.csv")
    eff = read_csv(run / "effects.csv")

    def trade_change(exporter, importer, first, last, sector=None):
        return pct(flow(sc_trade, exporter, importer, first, last, sector), flow(cf_trade, exporter, importer, first, last, sector))

    def region_change(region, column, first, last):
        return pct(region_mean(sc_reg, region, column, first, last), region_mean(cf_reg, region, column, first, last))

    tariffed = ["ELEC", "CONS", "MACH", "SEMI", "AGR", "AERO", "ENER"]
    border = [effect(eff, "border_pass_through", "USA", "CHN", s, "26w") for s in tariffed]
    border = [b for b in border if b == b]
    def pct_effect(metric, region):
        for r in eff:
            if (r["metric"], r["region"], r["horizon"]) == (metric, region, "52w") and r["pct_change"]:
                return 100 * float(r["pct_change"])
        return float("nan")

    return {
        "spread_gdp_usa": pct_effect("gdp", "USA"),
        "spread_gdp_chn": pct_effect("gdp", "CHN"),
        "spread_cpi_usa": pct_effect("cpi", "USA"),
        "border": sum(border) / len(border) if border else float("nan"),
        "retail": 100 * effect(eff, "retail_pass_through", "USA", "CHN", "CONS", "26w"),
        "retail_imported": 100 * effect(eff, "retail_pass_through_imported", "USA", "CHN", "CONS", "26w"),
        "us_from_china_may": trade_change("CHN", "USA", D("2025-05-05"), D("2025-06-02")),
        "us_from_vietnam": trade_change("VNM", "USA", D("2025-06-02"), D("2025-12-29")),
        "us_from_mexico": trade_change("MEX", "USA", D("2025-06-02"), D("2025-12-29")),
        "us_soy_to_china": trade_change("USA", "CHN", D("2025-06-02"), D("2025-08-25"), "AGR"),
        "brazil_farm_to_china": trade_change("BRA", "CHN", D("2025-06-02"), D("2025-12-29"), "AGR"),
        "frontloading": trade_change("CHN", "USA", D("2025-01-06"), D("2025-03-31")),
        "us_cpi_end_2025": region_change("USA", "cpi", D("2025-12-01"), D("2025-12-29")),
        "us_real_gdp": region_change("USA", "real_gdp", *APR_DEC),
        "china_real_gdp": region_change("CHN", "real_gdp", *APR_DEC),
    }


# (key, fact, published figure, source, unit, verdict band (lo, hi) for "reproduced",
#  sign a "partly" needs (+1, -1 or None))
FACTS = [
    ("border", "Border pass-through of US tariffs on Chinese goods (tariff-inclusive, 26 weeks)",
     "about 0.95–1.0", "Amiti, Redding & Weinstein 2019; Fajgelbaum et al. 2020; Cavallo, Gopinath, Neiman & Tang 2021",
     "", (0.85, 1.05), +1),
    ("retail", "US retail pass-through of the tariff on Chinese consumer goods, 26 weeks",
     "about 20 % of the tariff (imported goods); about half that overall", "Cavallo, Llamas & Vazquez 2025 (NBER w34496)",
     "%", (7.0, 14.0), +1),
    ("retail_imported", "… the same for imported goods on US shelves",
     "about 20 %", "Cavallo, Llamas & Vazquez 2025", "%", (15.0, 25.0), +1),
    ("us_from_china_may", "US imports from China, May 2025, against no tariff war",
     "about −43 % year on year (unconfirmed)", "US Census monthly trade, news reports (unconfirmed)",
     "%", (-60.0, -25.0), -1),
    ("us_from_vietnam", "Diversion: US imports from Vietnam, June–December 2025",
     "up (China's share of US imports −5 pp 2017–22, Vietnam +2 pp)", "Alfaro & Chor 2023 (the 2018–19 war)",
     "%", (5.0, 80.0), +1),
    ("us_from_mexico", "Diversion: US imports from Mexico, June–December 2025",
     "up (Mexico +0.5 pp of US imports 2017–22)", "Alfaro & Chor 2023", "%", (2.0, 50.0), +1),
    ("us_soy_to_china", "US farm (soybean) exports to China, June–August 2025",
     "zero (−100 %)", "USDA", "%", (-100.0, -80.0), -1),
    ("brazil_farm_to_china", "China's imports of Brazilian farm goods, June–December 2025",
     "up (Brazil replaced US soybeans)", "USDA; news reports", "%", (2.0, 100.0), +1),
    ("frontloading", "Front-loading: US imports from China, January–March 2025",
     "up ahead of the April tariffs (unconfirmed magnitude)", "US Census monthly trade, news reports (unconfirmed)",
     "%", (1.0, 50.0), +1),
    ("us_cpi_end_2025", "US CPI, December 2025, against no tariff war",
     "about +1.7 % on the price level in the short run (unconfirmed)", "Yale Budget Lab 2025 (unconfirmed)",
     "%", (0.8, 2.6), +1),
    ("us_real_gdp", "US real GDP, April–December 2025, against no tariff war",
     "2025 growth forecast cut by 0.9 pp (2.7 → 1.8 %)", "IMF World Economic Outlook, April 2025",
     "%", (-1.5, -0.3), -1),
    ("china_real_gdp", "China's real GDP, April–December 2025, against no tariff war",
     "2025 growth forecast cut by 0.6 pp (4.6 → 4.0 %)", "IMF World Economic Outlook, April 2025",
     "%", (-1.2, -0.2), -1),
]


def verdict(values, band, sign):
    mean = sum(values) / len(values)
    lo, hi = band
    if all(lo <= v <= hi for v in values):
        return "reproduced"
    if lo <= mean <= hi:
        return "reproduced on average (not every seed)"
    if sign is not None and mean * sign > 0:
        return "partly (right direction, outside the band)"
    return "**missed**"


def fmt(x, unit):
    if x != x:
        return "n/a"
    if unit == "%":
        return f"{x:+.1f} %"
    return f"{x:.2f}"


def main():
    runs = [Path(a) for a in sys.argv[1:]]
    if not runs:
        sys.exit(__doc__)
    seeds, commits, scales = [], set(), set()
    per_run = []
    for run in runs:
        m = json.loads((run / "manifest.json").read_text())
        if m.get("scenario_name") != "us_china_2025" or not (run / "counterfactual").is_dir():
            sys.exit(f"{run}: needs a run of us_china_2025 with its counterfactual")
        seeds.append(str(m["seed"]))
        commits.add(m.get("git_commit", "?"))
        scales.add(m.get("scale"))
        per_run.append(facts(run))
    print("# Validation: what the flagship reproduces\n")
    print(
        f"Generated by `scripts/validation.py` from {len(runs)} full runs of `us_china_2025` "
        f"(seeds {', '.join(seeds)}; scale {', '.join(str(s) for s in sorted(scales))}; "
        f"build {', '.join(sorted(commits))}), each against its own counterfactual (same seed, "
        "no policy). Regenerate it after any change that moves outputs:\n"
    )
    print("    for s in 2025 1 2 3 4; do tradesim run us_china_2025 --seed $s --out runs/v$s; done")
    print("    python3 scripts/validation.py runs/v2025 runs/v1 runs/v2 runs/v3 runs/v4 > docs/validation.md\n")
    print(
        "The model's figure is the scenario against the counterfactual over the window named "
        "(mean of weekly values), the mean over the seeds with the range in brackets. A verdict is "
        "*reproduced* when every seed falls in the band, *reproduced on average* when the mean does, "
        "*partly* when the mean has the published sign but falls outside the band, and **missed** "
        "otherwise. Published figures marked unconfirmed were not checked against their primary "
        "source. Comparisons against the counterfactual are not year-on-year changes: the data's "
        "figures include everything else that happened in 2025.\n"
    )
    print("| fact | published | source | model: mean [range] | band | verdict |")
    print("|---|---|---|---|---|---|")
    counts = defaultdict(int)
    for key, fact, published, source, unit, band, sign in FACTS:
        values = [r[key] for r in per_run]
        finite = [v for v in values if v == v]
        if not finite:
            model, v = "n/a", "**missed** (not measurable)"
        else:
            mean = sum(finite) / len(finite)
            model = f"{fmt(mean, unit)} [{fmt(min(finite), unit)} … {fmt(max(finite), unit)}]"
            v = verdict(finite, band, sign)
        counts[v.split(" (")[0].strip("*")] += 1
        band_text = f"{fmt(band[0], unit)} to {fmt(band[1], unit)}"
        print(f"| {fact} | {published} | {source} | {model} | {band_text} | {v} |")
    print()
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    print(f"Of {len(FACTS)} facts: {summary}. See docs/model.md (Known limitations) for why the misses miss.")
    print("\n## Seed noise\n")
    print(
        "The 52-week effects (`effects.csv`, `pct_change` at horizon `52w`, in percent) over the "
        "same runs, and their standard deviation over seeds (sample, n − 1) against issue 22's targets:\n"
    )
    print("| effect | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | standard deviation | target | met? |")
    print("|---|" + "---|" * len(seeds) + "---|---|---|---|")
    for key, name, target in [
        ("spread_gdp_usa", "GDP, USA", 0.25),
        ("spread_gdp_chn", "GDP, China", 0.25),
        ("spread_cpi_usa", "CPI, USA", 0.10),
    ]:
        values = [r[key] for r in per_run]
        mean = sum(values) / len(values)
        sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else float("nan")
        cells = " | ".join(f"{v:+.2f}" for v in values)
        met = "yes" if sd <= target else "no"
        print(f"| {name} | {cells} | {mean:+.2f} | {sd:.2f} pp | ≤ {target:.2f} pp | {met} |")


if __name__ == "__main__":
    main()
