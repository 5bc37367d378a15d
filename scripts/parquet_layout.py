#!/usr/bin/env python3
"""Which layout of a sweep's collected series reads faster with polars' scan_parquet:
one Parquet file per series with point/replicate/world columns, or a hive-partitioned
dataset series/<file>/point=P/replicate=R/part.parquet?

Builds both layouts from one run's series (RUN_DIR/{scenario,counterfactual}/<file>.parquet,
written with --format parquet or both), repeated for POINTS x REPLICATES runs with every
float perturbed by a run's own noise so no two runs compress alike, written as tradesim
writes Parquet (zstd level 3; the one file in row groups of exactly 65,536 rows that span
runs, as `sweep collect` writes it; the hive layout one file per run). Then times three
queries a notebook makes, each the best of --repeat tries:

  scan-all   mean of one column by point over every run (a sweep's effect curve)
  one-point  every row of one point (a closer look at one run)
  one-pair   one bilateral flow (or region) at every point, by tick

Usage: parquet_layout.py RUN_DIR OUT_DIR [--file trade] [--points 100] [--replicates 4]
"""
import argparse
import shutil
import time
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 65_536


def write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", compression_level=3, row_group_size=ROW_GROUP)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--file", default="trade")
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--replicates", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    worlds = {w: pq.read_table(a.run_dir / w / f"{a.file}.parquet") for w in ["scenario", "counterfactual"]}
    floats = [f.name for f in worlds["scenario"].schema if pa.types.is_floating(f.type)]
    rng = np.random.default_rng(1)
    out = a.out_dir
    shutil.rmtree(out, ignore_errors=True)
    one = out / "one" / f"{a.file}.parquet"
    hive = out / "hive" / a.file
    one.parent.mkdir(parents=True)
    writer = None
    pending, pending_rows = [], 0
    t_hive = t_one = 0.0
    for p in range(a.points):
        for r in range(a.replicates):
            parts = []
            for w, t in worlds.items():
                cols = {}
                for f in floats:
                    x = t.column(f).to_numpy(zero_copy_only=False)
                    cols[f] = pa.array(x * (1 + 1e-3 * rng.standard_normal(len(x))))
                run = t
                for f, v in cols.items():
                    run = run.set_column(run.schema.get_field_index(f), f, v)
                run = run.add_column(0, "world", pa.array([w] * len(run)).dictionary_encode())
                parts.append(run)
            run = pa.concat_tables(parts)
            h0 = time.perf_counter()
            write(run, hive / f"point={p}" / f"replicate={r}" / "part.parquet")
            t_hive += time.perf_counter() - h0
            lead = run.add_column(0, "replicate", pa.array([r] * len(run), pa.uint32()))
            lead = lead.add_column(0, "point", pa.array([p] * len(run), pa.uint32()))
            if writer is None:
                writer = pq.ParquetWriter(one, lead.schema, compression="zstd", compression_level=3)
            # As tradesim writes it: row groups of exactly ROW_GROUP rows, spanning runs.
            h0 = time.perf_counter()
            pending.append(lead)
            pending_rows += len(lead)
            if pending_rows >= ROW_GROUP:
                rows = pa.concat_tables(pending)
                while len(rows) >= ROW_GROUP:
                    writer.write_table(rows.slice(0, ROW_GROUP), row_group_size=ROW_GROUP)
                    rows = rows.slice(ROW_GROUP)
                pending, pending_rows = [rows], len(rows)
            t_one += time.perf_counter() - h0
    if pending_rows:
        writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP)
    writer.close()
    size = lambda d: sum(f.stat().st_size for f in d.rglob("*.parquet"))
    files = lambda d: sum(1 for _ in d.rglob("*.parquet"))
    rows = pl.scan_parquet(one).select(pl.len()).collect().item()
    print(f"{a.file}: {a.points} points x {a.replicates} replicates = {a.points * a.replicates} runs, {rows:,} rows")
    print(f"  one file: {size(one.parent) / 1e6:8.1f} MB in {files(one.parent)} file, written in {t_one:.1f} s")
    print(f"  hive:     {size(hive) / 1e6:8.1f} MB in {files(hive)} files, written in {t_hive:.1f} s")

    sources = {
        "one file": lambda: pl.scan_parquet(one),
        "hive": lambda: pl.scan_parquet(hive / "**" / "*.parquet", hive_partitioning=True),
    }
    schema = worlds["scenario"].schema.names
    value = "value" if "value" in schema else floats[0]
    if "exporter" in schema:
        pair = (pl.col("exporter") == "CHN") & (pl.col("importer") == "USA")
    else:
        key = "region" if "region" in schema else schema[2]
        pair = pl.col(key) == worlds["scenario"].column(key)[0].as_py()
    queries = {
        "scan-all": lambda lf: lf.filter(pl.col("world") == "scenario").group_by("point").agg(pl.col(value).mean()),
        "one-point": lambda lf: lf.filter(pl.col("point") == a.points // 2),
        "one-pair": lambda lf: lf.filter(pair).group_by("point", "tick").agg(pl.col(value).sum()),
    }
    print(f"  best of {a.repeat}, seconds (polars {pl.__version__}):")
    print(f"  {'query':10} " + " ".join(f"{s:>10}" for s in sources))
    for q, make in queries.items():
        times = []
        results = []
        for s, src in sources.items():
            best = float("inf")
            for _ in range(a.repeat):
                t = time.perf_counter()
                df = make(src()).collect()
                best = min(best, time.perf_counter() - t)
            times.append(best)
            results.append(df.height)
        assert len(set(results)) == 1, f"{q}: the layouts gave {results} rows"
        print(f"  {q:10} " + " ".join(f"{t:10.3f}" for t in times) + f"   ({results[0]:,} rows)")


if __name__ == "__main__":
    main()
