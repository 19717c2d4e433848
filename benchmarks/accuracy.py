"""Accuracy benchmark: seasonal naive, AutoETS, LightGBM and auto mode in one run, scored by
WRMSSE (M5 definition) and per hierarchy level on a held-out final period.

Data (``--data``):
- ``walmart`` (default): ../shared/data/retail/walmart, mapped to the input contract as
  series = Store x Dept, weekly; Weekly_Sales (dollars) is the target with negative weeks
  (returns) clipped to 0; IsHoliday and MarkDown1-5 (missing -> 0) are future-known covariates
  (holidays are on the calendar, markdowns are planned promotions). Weeks missing inside a
  series' life are 0. The last 13 weeks are held out. Hierarchy: total, store, dept, store x dept.
- ``demo``: the bundled demo shop (daily; last 28 days held out; full product hierarchy).
- a path to a ``.duckdb`` warehouse: as demo.

Run time and peak memory (RSS growth, sampled) per model are printed and written with the
scores to ``benchmarks/results/accuracy_<dataset>.json``.

    .venv/bin/python benchmarks/accuracy.py --data walmart
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from trendcast.evaluate.backtest import backtest, model_frame, static_of
from trendcast.evaluate.hierarchy import build_hierarchy, static_frame
from trendcast.evaluate.metrics import evaluate
from trendcast.evaluate.selection import select
from trendcast.models.registry import make_model
from trendcast.settings import shared_file

RESULTS = Path(__file__).resolve().parent / "results"
BASE_MODELS = ("seasonal_naive", "auto_ets", "croston", "lightgbm")


class PeakRSS:
    """Peak resident memory above the starting point while the block runs (sampled every 20 ms)."""

    def __enter__(self) -> PeakRSS:
        self.proc = psutil.Process(os.getpid())
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._watch, daemon=True)
        self._t.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def mb(self) -> float:
        return (self.peak - self.start) / 2**20


def load_walmart(folder: Path, max_series: int | None) -> tuple[pd.DataFrame, list[str]]:
    notes = []
    tr = pd.read_csv(folder / "train.csv.gz", parse_dates=["Date"])
    neg = int((tr["Weekly_Sales"] < 0).sum())
    tr["Weekly_Sales"] = tr["Weekly_Sales"].clip(lower=0)
    notes.append(f"{neg} negative Weekly_Sales (returns) clipped to 0")
    feats = pd.read_csv(folder / "features.csv.gz", parse_dates=["Date"])
    md = [f"MarkDown{i}" for i in range(1, 6)]
    feats[md] = feats[md].fillna(0.0)
    feats["IsHoliday"] = feats["IsHoliday"].astype(int)
    tr["unique_id"] = tr["Store"].astype(str) + "/" + tr["Dept"].astype(str)
    end = tr["Date"].max()
    first = tr.groupby("unique_id")["Date"].min()
    rows = []
    for uid, start in first.items():  # full weekly grid of each series' life; missing weeks = 0
        rows.append(pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, end, freq="W-FRI")}))
    grid = pd.concat(rows, ignore_index=True)
    panel = grid.merge(tr.rename(columns={"Date": "ds", "Weekly_Sales": "y"})[["unique_id", "ds", "y"]],
                       on=["unique_id", "ds"], how="left")
    panel["y"] = panel["y"].fillna(0.0)
    panel["store_id"] = panel["unique_id"].str.split("/").str[0]
    panel["item_id"] = panel["unique_id"].str.split("/").str[1]
    panel["category"] = panel["item_id"]
    f = feats.rename(columns={"Date": "ds", "IsHoliday": "is_holiday"})
    f["store_id"] = f["Store"].astype(str)
    panel = panel.merge(f[["store_id", "ds", "is_holiday", *md]], on=["store_id", "ds"], how="left")
    panel[["is_holiday", *md]] = panel[["is_holiday", *md]].fillna(0.0)
    panel = panel.rename(columns={m: m.lower() for m in md})
    # seasonal naive and the MASE scale need > 1 year of training history
    n = panel.groupby("unique_id").size()
    keep = n.index[n >= 52 + 13 + 13]
    notes.append(f"{len(keep)} of {len(n)} Store x Dept series kept (>= 78 weeks of history)")
    if max_series:
        keep = pd.Index(np.random.default_rng(0).choice(keep, max_series, replace=False))
        notes.append(f"random sample of {max_series} series (seed 0, --max-series) to fit the time budget")
    return panel[panel["unique_id"].isin(keep)].sort_values(["unique_id", "ds"]).reset_index(drop=True), notes


def load_m5_total(folder: Path) -> tuple[pd.DataFrame, list[str], dict[str, object]]:
    """The M5 total (level 1) with SNAP days and calendar events as future-known covariates."""
    sales = pd.read_csv(folder / "m5_level1_total_d1_d1969_combined.csv", parse_dates=["date"])
    cal = pd.read_csv(folder / "calendar_kaggle.csv", parse_dates=["date"])
    cal["event"] = cal["event_name_1"].notna().astype(int)
    for kind in ("Sporting", "Cultural", "National", "Religious"):
        cal[f"event_{kind.lower()}"] = (cal["event_type_1"] == kind).astype(int)
    cols = ["snap_CA", "snap_TX", "snap_WI", "event", "event_sporting", "event_cultural",
            "event_national", "event_religious"]
    panel = sales.merge(cal[["date", *cols]], on="date", how="left").rename(columns={"date": "ds", "sales": "y"})
    panel = panel.assign(unique_id="total", item_id="total", store_id="", category="total")
    panel["y"] = panel["y"].astype(float)
    published: dict[str, object] = {}
    xlsx = folder / "Scores and Ranks.xlsx"
    if xlsx.exists():
        bench = pd.read_excel(xlsx, sheet_name="Accuracy-Benchmarks (AL)", header=1)
        bench = bench.rename(columns={bench.columns[0]: "benchmark"}).set_index("benchmark")
        published = {str(k): float(v) for k, v in bench["L1"].dropna().items()}
        top = pd.read_excel(xlsx, sheet_name="Accuracy-Top50 (AL)", header=1)
        published["winner (YJ_STU)"] = float(top.iloc[0]["L1"])
    notes = ["M5 total unit sales d_1..d_1969; train to d_1941, forecast d_1942..d_1969 (28 days)",
             "future-known covariates: SNAP days per state and calendar events (Kaggle calendar)"]
    return panel[["unique_id", "ds", "y", "item_id", "store_id", "category", *cols]], notes, published


def walmart_levels(panel: pd.DataFrame) -> dict[str, pd.Series]:
    st = panel.drop_duplicates("unique_id").set_index("unique_id")
    return {
        "total": pd.Series("total", index=st.index),
        "store": "store:" + st["store_id"],
        "dept": "dept:" + st["item_id"],
        "store_dept": pd.Series(st.index, index=st.index),
    }


def load_warehouse_panel(db: Path | None) -> pd.DataFrame:
    from trendcast.data.warehouse import Warehouse

    if db is None:
        from trendcast.data.demo import DEMO_FILES, demo_paths
        from trendcast.data.ingest import ingest

        db = Path(tempfile.mkdtemp()) / "demo.duckdb"
        paths = demo_paths()
        ingest(db, **{k: paths[k] for k in DEMO_FILES})
    with Warehouse(db, read_only=True) as wh:
        return wh.sales_panel()


def timed(fn: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, float, float]:
    with PeakRSS() as mem:
        start = time.perf_counter()
        out = fn()
        secs = time.perf_counter() - start
    return out, secs, mem.mb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="walmart", help="walmart, demo or a warehouse .duckdb path")
    ap.add_argument("--max-series", type=int, default=None, help="only the first N series (quick runs)")
    ap.add_argument("--windows", type=int, default=2, help="backtest windows auto mode selects on")
    ap.add_argument("--extra", default="", help="more models to score, e.g. lstm,transformer,ensemble")
    args = ap.parse_args()

    notes: list[str] = []
    published: dict[str, object] = {}
    extra = [m.strip() for m in args.extra.split(",") if m.strip()]
    if args.data == "m5":
        folder = shared_file("data", "m5_level1")
        if folder is None:
            raise SystemExit("../shared/data/m5_level1 is absent: nothing to benchmark.")
        panel, notes, published = load_m5_total(folder)
        freq, season, h, name = "D", 7, 28, "m5_level1"
        known = tuple(c for c in panel.columns if c.startswith(("snap_", "event")))
        levels = {"total": pd.Series("total", index=["total"])}
        params = {}
    elif args.data == "walmart":
        folder = shared_file("data", "retail", "walmart")
        if folder is None:
            raise SystemExit("../shared/data/retail/walmart is absent: nothing to benchmark.")
        panel, notes = load_walmart(folder, args.max_series)
        freq, season, h, name = "W-FRI", 52, 13, "walmart"
        known = ("is_holiday", "markdown1", "markdown2", "markdown3", "markdown4", "markdown5")
        levels = walmart_levels(panel)
        params = {"lightgbm": {"lags": (1, 2, 3, 4, 8, 13, 26, 52)}}
        notes.append("held out the last 13 weeks (2012-08-03 .. 2012-10-26)")
    else:
        db = None if args.data == "demo" else Path(args.data)
        panel = load_warehouse_panel(db)
        if args.max_series:
            panel = panel[panel["unique_id"].isin(panel["unique_id"].unique()[: args.max_series])]
        freq, season, h, name = "D", 7, 28, "demo" if db is None else Path(args.data).stem
        known = ("price", "promo")
        levels = build_hierarchy(static_frame(panel)).keys
        params = {}
        notes.append("held out the last 28 days")

    cutoff = panel["ds"].max() - pd.tseries.frequencies.to_offset(freq) * h
    train, test = panel[panel["ds"] <= cutoff], panel[panel["ds"] > cutoff]
    xf = test[["unique_id", "ds", *known]]
    actual = test[["unique_id", "ds", "y"]]
    print(f"{name}: {panel['unique_id'].nunique()} series, train to {cutoff.date()}, horizon {h}")
    for n in notes:
        print("  note:", n)

    def fit_predict(model: str) -> pd.DataFrame:
        m = make_model(model, season_length=season, freq=freq, **params.get(model, {}))
        m.fit(model_frame(train), static_df=static_of(train))
        return m.predict(h, X_future=xf)

    for m in extra:  # deep models train for this horizon; the ensemble learns on the training part
        if m == "ensemble":
            params[m] = {"members": list(BASE_MODELS), "member_params": params, "horizon": h,
                         "future_known": known, "method": "least_squares"}
        elif m in ("lstm", "tcn", "transformer"):
            params[m] = {"horizon": h, "future_known": known}

    preds: dict[str, pd.DataFrame] = {}
    runs: dict[str, dict[str, float]] = {}
    for model in (*BASE_MODELS, *extra):
        fc, secs, mb = timed(lambda model=model: fit_predict(model))
        preds[model] = fc
        runs[model] = {"seconds": round(secs, 1), "peak_rss_mb": round(mb, 1)}
        print(f"  {model}: {secs:.1f} s, peak +{mb:.0f} MB")

    # Auto mode: backtest the same candidates on the training part only, select, combine.
    def auto() -> pd.DataFrame:
        bt = backtest(train, list(BASE_MODELS), h, args.windows, season_length=season, freq=freq,
                      future_known=known, model_params=params)
        sel = select(bt.forecasts, train, season)
        auto.selection = sel  # type: ignore[attr-defined]
        return sel.combine({m: preds[m] for m in sel.models_needed}, list(train["unique_id"].unique()))

    fc, secs, mb = timed(auto)
    preds["auto"] = fc
    sel = auto.selection  # type: ignore[attr-defined]
    fit_secs = sum(runs[m]["seconds"] for m in sel.models_needed)
    runs["auto"] = {"seconds": round(secs + fit_secs, 1), "selection_seconds": round(secs, 1),
                    "peak_rss_mb": round(mb, 1)}
    print(f"  auto: {secs:.1f} s selection + {fit_secs:.1f} s final fits; {sel.explanation}")

    hist = train[["unique_id", "ds", "y", *(["price"] if "price" in train.columns else [])]]
    results: dict[str, object] = {}
    for model, fc in preds.items():
        scored = fc.merge(actual, on=["unique_id", "ds"], how="inner")
        results[model] = {**evaluate(scored, hist, season, levels=levels), **runs[model]}
    base = results["seasonal_naive"]["wrmsse"]
    print(f"\n{'model':16s} {'WRMSSE':>8s} {'vs snaive':>10s} {'MASE':>7s} " + " ".join(f"{lv:>12s}" for lv in levels))
    for model, r in results.items():
        lv = " ".join(f"{r['levels'][k]['wrmsse']:12.3f}" for k in levels)
        print(f"{model:16s} {r['wrmsse']:8.3f} {100 * (r['wrmsse'] / base - 1):+9.1f}% {r['bottom']['mase']:7.3f} {lv}")
    best = results["auto"]["wrmsse"]
    targets = {
        "auto_25pct_below_seasonal_naive": bool(best <= 0.75 * base),
        "auto_below_auto_ets_bottom_up": bool(best < results["auto_ets"]["wrmsse"]),
    }
    print("targets:", targets)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"accuracy_{name}.json"
    out.write_text(json.dumps({
        "dataset": name, "notes": notes, "horizon": h, "freq": freq, "season_length": season,
        "n_series": int(panel["unique_id"].nunique()), "cutoff": str(cutoff.date()),
        "reconciliation": "bottom-up (all levels are sums of the bottom forecasts)",
        "auto": sel.to_dict(), "targets": targets, "results": results,
        "published_m5_level1_rmsse": published,
        "cpu_count": os.cpu_count(), "load_avg_at_end": list(np.round(os.getloadavg(), 2)),
    }, indent=2, default=str))
    print(f"written {out}")


if __name__ == "__main__":
    main()
