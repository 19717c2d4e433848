"""How price elasticity estimation grows with the number of series in a category.

The category's pooled fit gives every item x store series its own intercept. It used to build
one dummy column per series (a 500-series category over three years: a 530,000 x 520 matrix);
now the intercepts are concentrated out (:func:`trendcast.decide.pricing.fit_log_linear`).
This script loads synthetic categories of growing size into a fresh warehouse with
``trendcast.ingest`` (daily, and summed to weeks with ``--freq D,W``) and times
``trendcast.price_recommendations`` (what ``trendcast price`` runs): seconds (median of
``--repeats``), peak RSS of the process, and the median item elasticity (the truth is -1.5).
As the baseline, in the same run, it times the category's pooled fit on the daily panel both
ways, the dummy-column Poisson fit and the concentrated one, with their ratio and the largest
difference between their elasticities (the same estimator). Writes
``benchmarks/results/pricing_scale.json``.

    PYTHONPATH=src .venv/bin/python benchmarks/pricing_scale.py --sizes 50,150,500 --days 730
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import trendcast as tc
from trendcast.decide.pricing import design, fit_log_linear

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import PeakRSS  # noqa: E402 - the benchmarks' shared memory sampler

RESULTS = Path(__file__).resolve().parent / "results" / "pricing_scale.json"


def category(n_series: int, days: int, seed: int = 0) -> pd.DataFrame:
    """One category of ``n_series`` item x store series (3 stores), daily Poisson sales with
    elasticity -1.5, each item's price stepping every two weeks (+/-15%), 5% promotion days
    (20% off, +40% on top of the price effect)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2022-01-01", periods=days)
    frames = []
    for k in range(n_series):
        item, store = f"I{k // 3:04d}", f"S{k % 3}"
        if k % 3 == 0:  # prices and promotions are set per item, the same in every store
            base = rng.uniform(5, 50)
            steps = np.repeat(rng.uniform(0.85, 1.15, days // 14 + 1), 14)[:days]
            promo = (rng.random(days) < 0.05).astype(int)
            price = base * steps * np.where(promo == 1, 0.8, 1.0)
        y = rng.poisson(rng.gamma(2.0, 2.0) * (price / base) ** -1.5 * np.exp(0.4 * promo)).astype(float)
        frames.append(pd.DataFrame({"unique_id": f"{store}/{item}", "ds": ds, "y": y, "item_id": item,
                                    "store_id": store, "category": "c", "price": price, "promo": promo}))
    panel = pd.concat(frames, ignore_index=True)
    panel.attrs["freq"] = "D"
    return panel


def dummy_fit(panel: pd.DataFrame) -> float:
    """The pooled elasticity the way it used to be fitted: one dummy column per series, Poisson
    Newton steps on the full matrix (the baseline)."""
    X, names, groups = design(panel.assign(series=panel["unique_id"]), "series")
    dummies = np.eye(int(groups.max()) + 1)[groups][:, 1:]
    full = np.column_stack([np.ones(len(X)), X, dummies])
    y = panel["y"].to_numpy(float)
    beta = np.zeros(full.shape[1])
    beta[0] = np.log(y.mean())
    for _ in range(50):
        mu = np.exp(np.clip(full @ beta, -30, 30))
        step = np.linalg.lstsq(full.T @ (full * mu[:, None]), full.T @ (y - mu), rcond=None)[0]
        beta += step
        if np.abs(step).max() < 1e-8:
            break
    return float(beta[1 + names.index("log_price")])


def measure(fn: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """Median seconds, peak traced MB of the last run, and its result."""
    times, result, peak = [], None, 0.0
    for _ in range(repeats):
        tracemalloc.start()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return statistics.median(times), peak, result


def sales_file(panel: pd.DataFrame, freq: str, folder: Path) -> Path:
    """The panel as a shop's sales export: daily rows, or summed to weeks ending Sunday."""
    sales = panel.rename(columns={"ds": "date", "y": "units"})[["date", "store_id", "item_id", "units", "price", "promo"]]
    if freq == "W":
        week = sales["date"].dt.to_period("W-SUN").dt.end_time.dt.normalize()
        sales = sales.assign(date=week).groupby(["date", "store_id", "item_id"], as_index=False).agg(
            units=("units", "sum"), price=("price", "mean"), promo=("promo", "max"))
    path = folder / f"sales_{freq}.csv"
    sales.to_csv(path, index=False)
    return path


def product_run(panel: pd.DataFrame, freq: str, repeats: int) -> dict[str, object]:
    """``trendcast.ingest`` then ``trendcast.price_recommendations`` on a fresh warehouse."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        products = pd.DataFrame({"item_id": sorted(panel["item_id"].unique()), "category": "c"})
        products.to_csv(folder / "products.csv", index=False)
        db = folder / "shop.duckdb"
        tc.ingest(db, sales=sales_file(panel, freq, folder), products=folder / "products.csv")
        times = []
        for _ in range(repeats):
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                est, _ = tc.price_recommendations(db)
                times.append(time.perf_counter() - t0)
    return {"freq": freq, "seconds": round(statistics.median(times), 2), "peak_rss_mb": round(mem.mb),
            "median_item_elasticity": round(float(est["elasticity"].median()), 3),
            "basis": est["basis"].value_counts().to_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,150,500", help="comma-separated series per category")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--freq", default="D,W", help="frequencies the shop is loaded at (D, W)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-max", type=int, default=500, help="largest size the dummy fit is run on")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        panel = category(n, args.days)
        row: dict[str, object] = {"series": n, "daily_rows": len(panel),
                                  "product": [product_run(panel, f, args.repeats) for f in args.freq.split(",")]}
        if n <= args.baseline_max:
            b_secs, b_mb, b_e = measure(lambda panel=panel: dummy_fit(panel), args.repeats)
            ours, o_mb, o_e = measure(lambda panel=panel: _pooled(panel), args.repeats)
            row.update({"pooled_fit_seconds": round(ours, 2), "pooled_fit_peak_mb": round(o_mb, 1),
                        "dummy_fit_seconds": round(b_secs, 2), "dummy_fit_peak_mb": round(b_mb, 1),
                        "ratio_vs_dummy_fit": round(ours / b_secs, 3), "pooled_elasticity": round(float(o_e), 4),
                        "elasticity_difference": float(abs(o_e - b_e))})
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = {"what": "trendcast.price_recommendations on synthetic categories loaded with trendcast.ingest "
                   "(3 stores, true elasticity -1.5); baseline: the category's pooled fit as dummy columns "
                   "vs concentrated intercepts, same run", "command": "python " + " ".join(sys.argv),
           "days": args.days, "repeats": args.repeats, "cpu_count": os.cpu_count(),
           "load_average": os.getloadavg(), "results": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")


def _pooled(panel: pd.DataFrame) -> float:
    """The category's pooled elasticity as ``estimate_elasticities`` fits it."""
    X, names, groups = design(panel, "unique_id")
    beta, _ = fit_log_linear(panel["y"].to_numpy(float), X, groups)
    return float(beta[names.index("log_price")])


if __name__ == "__main__":
    main()
