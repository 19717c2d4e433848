"""How price elasticity estimation grows with the number of series in a category.

The category's pooled fit gives every item x store series its own intercept. It used to build
one dummy column per series (a 500-series category over three years: a 530,000 x 520 matrix);
now the intercepts are concentrated out (:func:`trendcast.decide.pricing.fit_log_linear`).
This script times ``estimate_elasticities`` (the product function behind ``trendcast price``)
on synthetic daily categories of growing size, and times the dummy-column Poisson fit of the
same pooled model in the same run as the baseline: seconds (median of ``--repeats``), peak
traced memory, the ratio to the baseline, and the largest difference between the two fits'
elasticities (they are the same estimator). Writes ``benchmarks/results/pricing_scale.json``.

    PYTHONPATH=src .venv/bin/python benchmarks/pricing_scale.py --sizes 50,150,500 --days 730
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.decide.pricing import design, estimate_elasticities

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,150,500", help="comma-separated series per category")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-max", type=int, default=500, help="largest size the dummy fit is run on")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        panel = category(n, args.days)
        secs, mb, est = measure(lambda panel=panel: estimate_elasticities(panel), args.repeats)
        pooled = float(est["elasticity"].median())
        row = {"series": n, "rows": len(panel), "seconds": round(secs, 2), "peak_mb": round(mb, 1),
               "median_item_elasticity": round(pooled, 3)}
        if n <= args.baseline_max:
            b_secs, b_mb, b_e = measure(lambda panel=panel: dummy_fit(panel), args.repeats)
            ours, _, o_e = measure(lambda panel=panel: _pooled(panel), args.repeats)
            row.update({"pooled_fit_seconds": round(ours, 2), "dummy_fit_seconds": round(b_secs, 2),
                        "dummy_fit_peak_mb": round(b_mb, 1), "ratio_vs_dummy_fit": round(ours / b_secs, 3),
                        "pooled_elasticity": round(float(o_e), 4),
                        "elasticity_difference": float(abs(o_e - b_e))})
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = {"what": "estimate_elasticities and the category's pooled fit on synthetic daily categories "
                   "(3 stores, true elasticity -1.5); baseline: the dummy-column Poisson fit, same run",
           "days": args.days, "repeats": args.repeats, "cpu_count": os.cpu_count(),
           "load_average": os.getloadavg(), "results": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")


def _pooled(panel: pd.DataFrame) -> float:
    """The category's pooled elasticity as ``estimate_elasticities`` fits it."""
    from trendcast.decide.pricing import fit_log_linear

    X, names, groups = design(panel, "unique_id")
    beta, _ = fit_log_linear(panel["y"].to_numpy(float), X, groups)
    return float(beta[names.index("log_price")])


if __name__ == "__main__":
    main()
