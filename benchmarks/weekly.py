"""Weekly data through the product path: Walmart store x department sales from ``../shared``,
ingested as CSV files a shop would give, then ``trendcast.forecast`` and ``trendcast.backtest``.

What it checks: the warehouse detects the weekly frequency (Fridays), the forecast comes out on
the 13 Fridays after the data, the backtest scores 13-week windows with a 52-week season, and
the peak memory of forecasting every series (target: under 2 GB). Walmart's ``Weekly_Sales``
are dollars and sometimes negative (returns); they are clipped at 0 and read as units.

    TRENDCAST_SHARED=../shared .venv/bin/python benchmarks/weekly.py --stores 30 --models seasonal_naive,lightgbm

Writes ``benchmarks/results/weekly_walmart.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from trendcast.settings import shared_file

RESULTS = Path(__file__).resolve().parent / "results"


def walmart_files(folder: Path, stores: int) -> dict[str, Path]:
    """Walmart train.csv mapped to the input contract (sales and products CSVs) in ``folder``."""
    path = shared_file("data", "retail", "walmart", "train.csv.gz")
    if path is None:
        raise SystemExit("../shared/data/retail/walmart/train.csv.gz is not present")
    raw = pd.read_csv(path)
    raw = raw[raw["Store"] <= stores]
    sales = pd.DataFrame({
        "store_id": "S" + raw["Store"].astype(str), "item_id": "D" + raw["Dept"].astype(str),
        "date": raw["Date"], "units": raw["Weekly_Sales"].clip(lower=0.0),
        "promo": raw["IsHoliday"].astype(int),
    })
    products = pd.DataFrame({"item_id": sorted(sales["item_id"].unique())})
    products["category"] = "dept"
    files = {"sales": folder / "sales.csv", "products": folder / "products.csv"}
    sales.to_csv(files["sales"], index=False)
    products.to_csv(files["products"], index=False)
    return files


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=30)
    parser.add_argument("--models", default="seasonal_naive,lightgbm")
    parser.add_argument("--windows", type=int, default=1)
    args = parser.parse_args()

    import trendcast as tc

    models = args.models.split(",")
    out: dict[str, object] = {"stores": args.stores, "models": models}
    with tempfile.TemporaryDirectory() as tmp:
        files = walmart_files(Path(tmp), args.stores)
        db = Path(tmp) / "walmart.duckdb"
        start = time.perf_counter()
        report = tc.ingest(db, **files)
        out["ingest_seconds"] = round(time.perf_counter() - start, 2)
        out["freq"] = report.freq
        for model in models:
            start = time.perf_counter()
            fc = tc.forecast(db, model=model, quantiles=[0.1, 0.5, 0.9])
            out[f"forecast_{model}"] = {
                "seconds": round(time.perf_counter() - start, 2), "series": int(fc["date"].size // fc.attrs["horizon"]),
                "horizon": fc.attrs["horizon"], "first_date": str(fc["date"].min().date()),
                "weekdays": sorted(fc["date"].dt.day_name().unique()), "peak_rss_mb": round(peak_mb()),
            }
        start = time.perf_counter()
        metrics = tc.backtest(db, windows=args.windows, models=models)
        out["backtest_seconds"] = round(time.perf_counter() - start, 2)
        out["backtest_config"] = {k: metrics["config"][k] for k in ("horizon", "freq", "season_length", "cutoffs")}
        out["leaderboard"] = metrics["leaderboard"]
        out["errors"] = metrics["errors"]
    out["peak_rss_mb"] = round(peak_mb())
    out["command"] = f"python benchmarks/weekly.py --stores {args.stores} --models {args.models} --windows {args.windows}"
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / "weekly_walmart.json"
    target.write_text(json.dumps(out, indent=2, default=str))
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
