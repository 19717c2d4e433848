"""How forecast time grows with the number of series, locally and on local Dask/Spark.

Generates short synthetic daily series (weekly season, trend, Poisson noise), then times
``trendcast.engine.run_forecast`` for each model on each engine. Prints a table and writes
``benchmarks/results/scale.json`` with seconds, seconds per 1k series and the ratio to the
local engine at the same size (median of ``--repeats`` runs). A run whose time, projected
linearly from the previous size, would exceed ``--budget-s`` is skipped and recorded as such,
so the script finishes on a small shared machine.

"local" is the plain registry model in this process (statsforecast ``n_jobs=1``; LightGBM with
one thread); Dask is an in-process LocalCluster (1 worker, one thread per core); Spark is
``local[*]``. Data conversion to the engine is included in the time.

    .venv/bin/python benchmarks/scale.py --sizes 1000,10000,30000 --engines local,dask,spark
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.engine import run_forecast

RESULTS = Path(__file__).resolve().parent / "results" / "scale.json"


def synthetic_panel(n_series: int, days: int = 365, seed: int = 0) -> pd.DataFrame:
    """``n_series`` daily demand series with a weekly cycle, a mild trend and Poisson noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    level = rng.gamma(2.0, 10.0, size=(n_series, 1))
    weekly = 1 + 0.3 * np.sin(2 * np.pi * (t + rng.integers(0, 7, (n_series, 1))) / 7)
    trend = 1 + rng.normal(0, 0.001, (n_series, 1)) * t
    y = rng.poisson(np.clip(level * weekly * trend, 0.1, None)).astype(float)
    ids = np.repeat([f"S{i:06d}" for i in range(n_series)], days)
    ds = np.tile(pd.date_range("2024-01-01", periods=days, freq="D").to_numpy(), n_series)
    return pd.DataFrame({"unique_id": ids, "ds": ds, "y": y.ravel()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,30000", help="comma-separated series counts")
    parser.add_argument("--engines", default="local,dask,spark", help="comma-separated engines")
    parser.add_argument("--models", default="lightgbm,auto_ets", help="comma-separated models")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--partitions", type=int, default=None, help="data partitions (default: engine's)")
    parser.add_argument("--budget-s", type=float, default=300.0,
                        help="skip a run projected (linearly from the last size) to take longer")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    models = args.models.split(",")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    client = None
    if "dask" in engines:  # one in-process cluster for the whole run, like a user's cluster
        from dask.distributed import Client, LocalCluster

        client = Client(LocalCluster(processes=False, n_workers=1, threads_per_worker=os.cpu_count(),
                                     dashboard_address=None))
    # Warm-up (untimed): start Spark, load libraries and JIT-compiled code on a tiny panel, so
    # the timings measure forecasting rather than one-off start-up.
    tiny = synthetic_panel(20, args.days, seed=1)
    for model in models:
        for engine in engines:
            run_forecast(tiny, model, args.horizon, engine=engine, partitions=args.partitions)
    rows = []
    last: dict[tuple[str, str], tuple[int, float]] = {}  # (model, engine) -> (size, seconds)
    load_start = os.getloadavg()
    for size in sizes:
        panel = synthetic_panel(size, args.days)
        for model in models:
            for engine in engines:
                prev = last.get((model, engine))
                projected = prev[1] * size / prev[0] if prev else 0.0
                if projected > args.budget_s:
                    rows.append({"series": size, "model": model, "engine": engine, "seconds": None,
                                 "seconds_per_1k_series": None,
                                 "skipped": f"projected {projected:.0f} s > budget {args.budget_s:.0f} s"})
                    print(f"{size:>6} series  {model:<9} {engine:<6} skipped (projected "
                          f"{projected:.0f} s)", flush=True)
                    continue
                times = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    fc = run_forecast(panel, model, args.horizon, engine=engine, partitions=args.partitions)
                    times.append(time.perf_counter() - start)
                assert len(fc) == size * args.horizon
                sec = statistics.median(times)
                last[(model, engine)] = (size, sec)
                rows.append({"series": size, "model": model, "engine": engine, "seconds": round(sec, 2),
                             "seconds_per_1k_series": round(sec / size * 1000, 3), "skipped": ""})
                print(f"{size:>6} series  {model:<9} {engine:<6} {sec:8.1f} s  "
                      f"({sec / size * 1000:.2f} s per 1k series)", flush=True)
    table = pd.DataFrame(rows)
    local = table[table.engine == "local"].set_index(["series", "model"])["seconds"]
    table["ratio_vs_local"] = [
        None if r.seconds is None or pd.isna(r.seconds)
        else round(r.seconds / local.get((r.series, r.model), np.nan), 2)
        for r in table.itertuples()
    ]
    table = table.astype(object).where(table.notna(), None)
    result = {
        "what": "run_forecast wall time on synthetic daily series (median of repeats)",
        "days_per_series": args.days,
        "horizon": args.horizon,
        "models": models,
        "partitions": args.partitions,
        "budget_s": args.budget_s,
        "cpu_count": os.cpu_count(),
        "load_average_at_start": load_start,
        "machine": platform.platform(),
        "load_average_at_end": os.getloadavg(),
        "results": table.to_dict(orient="records"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(table.to_string(index=False))
    print(f"written {args.out}")
    if client is not None:
        client.close()


if __name__ == "__main__":
    main()
