"""Engine overhead: trendcast's ``auto_ets`` (make_model -> fit -> predict with quantiles) against
calling statsforecast's AutoETS directly on the same series, in the same run.

Both paths forecast the same ``h`` days with the same 80% interval (q0.1/q0.9 on our side,
``level=[80]`` on statsforecast's). One warm-up run of each first (numba compilation), then
``--repeats`` timed runs each, alternating; the ratio of the medians is reported (target: the
engine adds < 15%).

    .venv/bin/python benchmarks/overhead.py --series 30 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from pathlib import Path

import pandas as pd

from trendcast.data.demo import demo_paths
from trendcast.models.registry import make_model

RESULTS = Path(__file__).resolve().parent / "results"


def demo_series(n: int) -> pd.DataFrame:
    """The first ``n`` store x item series of the bundled demo shop (daily, 731 days)."""
    sales = pd.read_csv(demo_paths()["sales"], parse_dates=["date"])
    sales["unique_id"] = sales["store_id"].astype(str) + "/" + sales["item_id"].astype(str)
    ids = sorted(sales["unique_id"].unique())[:n]
    df = sales[sales["unique_id"].isin(ids)].rename(columns={"date": "ds", "units": "y"})
    full = (
        df.set_index(["unique_id", "ds"])["y"].unstack(fill_value=0.0).stack().rename("y").reset_index()
    )  # days without a sale row are 0, as in the warehouse
    return full.sort_values(["unique_id", "ds"]).reset_index(drop=True).astype({"y": float})


def direct(df: pd.DataFrame, h: int) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    sf = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sf.forecast(df=df, h=h, level=[80])


def engine(df: pd.DataFrame, h: int) -> pd.DataFrame:
    return make_model("auto_ets", season_length=7, freq="D").fit(df).predict(h, quantiles=[0.1, 0.9])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--horizon", type=int, default=28)
    args = ap.parse_args()
    df = demo_series(args.series)
    h = args.horizon
    a, b = direct(df, h), engine(df, h)  # warm-up, and check both give the same forecast
    max_diff = float((a["AutoETS"].clip(lower=0).to_numpy() - b["forecast"].to_numpy()).__abs__().max())
    times: dict[str, list[float]] = {"statsforecast": [], "trendcast": []}
    for _ in range(args.repeats):
        for label, fn in (("statsforecast", direct), ("trendcast", engine)):
            start = time.perf_counter()
            fn(df, h)
            times[label].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["trendcast"] / med["statsforecast"]
    print(f"{df['unique_id'].nunique()} series x {df.groupby('unique_id').size().iloc[0]} days, h={h}")
    print(f"median statsforecast AutoETS: {med['statsforecast']:.2f} s; trendcast auto_ets: {med['trendcast']:.2f} s")
    print(f"overhead: {100 * (ratio - 1):+.1f}% (target < 15%); max |forecast difference| {max_diff:.2e}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "overhead.json"
    out.write_text(json.dumps({
        "series": int(df["unique_id"].nunique()), "horizon": h, "repeats": args.repeats,
        "seconds": times, "median_seconds": med, "overhead_ratio": ratio,
        "overhead_pct": 100 * (ratio - 1), "target_met": ratio < 1.15,
        "max_abs_forecast_difference": max_diff, "load_avg": list(os.getloadavg()),
    }, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
