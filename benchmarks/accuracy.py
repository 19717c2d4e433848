"""Accuracy benchmark: trendcast's auto mode against plain peers, scored by one independent WRMSSE
over the hierarchy on held-out periods, with wall time and peak memory.

Everything trendcast does goes through the product path: the training part is loaded with
``trendcast.ingest`` into a fresh warehouse and forecast with ``trendcast.forecast`` (auto mode
and each of auto's candidates alone). The plain peers are what an analyst would write without
trendcast: statsforecast AutoETS and AutoTheta with the data's season, and an mlforecast
LightGBM with plain lags and calendar features. The WRMSSE here is written from the M5
definition and shares no code with trendcast's metrics: per level, RMSSE of the aggregated
series scaled by the one-step naive MSE from its first sale, weighted by its share of the last
28 days of sales, averaged over the levels the data has (total, store, category, store x
category, item, store x item; Walmart: total, store, dept, store x dept).

Data (``--data``, comma-separated):
- ``demo``: the bundled demo shop, daily, last 28 days held out;
- ``m5``: the M5 total (level 1), daily, d_1942-d_1969 held out (the M5 test period);
- ``walmart``: Walmart stores 1-30 (``--stores``), Store x Dept weekly, last 13 weeks held out;
  needs a warehouse that stores weekly data (``--freq W-FRI`` is passed to the API when it
  accepts ``freq``; without it the run stops and says so).

    PYTHONPATH=src .venv/bin/python benchmarks/accuracy.py --data demo,m5
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

import trendcast as tc

RESULTS = Path(__file__).resolve().parent / "results"
ID, TIME = "unique_id", "ds"


class PeakRSS:
    """Peak resident memory of this process (and its workers) while the block runs, sampled."""

    def __enter__(self) -> PeakRSS:
        self.proc = psutil.Process(os.getpid())
        self.peak = self._rss()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._watch, daemon=True)
        self._t.start()
        return self

    def _rss(self) -> int:
        total = self.proc.memory_info().rss
        for child in self.proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()

    @property
    def mb(self) -> float:
        return self.peak / 2**20


def timed(fn: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, dict[str, float]]:
    with PeakRSS() as mem:
        start = time.perf_counter()
        out = fn()
        secs = time.perf_counter() - start
    return out, {"seconds": round(secs, 1), "peak_rss_mb": round(mem.mb, 1)}


# -- data sets in the input contract ---------------------------------------------------------
class Dataset:
    """Sales and products in trendcast's input contract, the held-out part and the scoring levels."""

    def __init__(self, name: str, sales: pd.DataFrame, products: pd.DataFrame, freq: str, season: int,
                 h: int, notes: list[str]) -> None:
        self.name, self.freq, self.season, self.h, self.notes = name, freq, season, h, notes
        sales = sales.assign(store_id=sales.get("store_id", pd.Series("", index=sales.index)).fillna(""))
        step = pd.tseries.frequencies.to_offset(freq)
        self.cutoff = sales["date"].max() - h * step
        self.train_sales = sales[sales["date"] <= self.cutoff].reset_index(drop=True)
        self.products = products
        full = sales.merge(products[["item_id", "category"]], on="item_id", how="left")
        full[ID] = np.where(full["store_id"] != "", full["store_id"] + "/" + full["item_id"], full["item_id"])
        self.full = full.rename(columns={"date": TIME, "units": "y"})
        known = self.full.loc[self.full[TIME] <= self.cutoff, ID].unique()
        dates = pd.date_range(self.cutoff + step, periods=h, freq=freq)
        grid = pd.DataFrame({ID: np.repeat(known, h), TIME: np.tile(dates, len(known))})
        sold = self.full[self.full[TIME] > self.cutoff].groupby([ID, TIME], as_index=False)["y"].sum()
        self.test = grid.merge(sold, on=[ID, TIME], how="left").fillna({"y": 0.0})  # no row: sold 0


def demo() -> Dataset:
    from trendcast.data.demo import demo_paths

    paths = demo_paths()
    sales = pd.read_csv(paths["sales"], parse_dates=["date"])
    products = pd.read_csv(paths["products"])
    return Dataset("demo", sales, products, "D", 7, 28, ["bundled demo shop, last 28 days held out"])


def m5(folder: Path) -> Dataset:
    raw = pd.read_csv(folder / "m5_level1_total_d1_d1969_combined.csv", parse_dates=["date"])
    sales = pd.DataFrame({"item_id": "total", "date": raw["date"], "units": raw["sales"].astype(float)})
    products = pd.DataFrame({"item_id": ["total"], "category": ["total"]})
    return Dataset("m5_level1", sales, products, "D", 7, 28,
                   ["M5 total unit sales; train d_1..d_1941, held out d_1942..d_1969 (28 days)"])


def walmart(folder: Path, stores: int) -> Dataset:
    tr = pd.read_csv(folder / "train.csv.gz", parse_dates=["Date"])
    tr = tr[tr["Store"] <= stores]
    sales = pd.DataFrame({
        "store_id": "S" + tr["Store"].astype(str), "item_id": "D" + tr["Dept"].astype(str),
        "date": tr["Date"], "units": tr["Weekly_Sales"].clip(lower=0.0),
    })
    products = pd.DataFrame({"item_id": sorted(sales["item_id"].unique())})
    products["category"] = products["item_id"]  # the dept is both the item and its category
    return Dataset("walmart", sales, products, "W-FRI", 52, 13,
                   [f"Walmart stores 1-{stores}, Store x Dept weekly, negative weeks (returns) set to 0, "
                    "last 13 weeks held out"])


# -- independent WRMSSE --------------------------------------------------------------------------
def levels_of(ds: Dataset) -> dict[str, list[str]]:
    stores = (ds.full["store_id"] != "").any()
    if ds.name == "walmart":
        return {"total": [], "store": ["store_id"], "dept": ["item_id"], "store_dept": ["store_id", "item_id"]}
    lv = {"total": [], "category": ["category"], "item": ["item_id"]}
    if stores:
        lv = {"total": [], "store": ["store_id"], "category": ["category"], "store_category": ["store_id", "category"],
              "item": ["item_id"], "store_item": ["store_id", "item_id"]}
    if ds.full[ID].nunique() == 1:
        lv = {"total": []}
    return lv


def wrmsse(ds: Dataset, fc: pd.DataFrame) -> dict[str, float]:
    """M5 WRMSSE of bottom forecasts ``unique_id, ds, forecast`` on the held-out periods."""
    keys = ds.full.drop_duplicates(ID).set_index(ID)[["store_id", "item_id", "category"]]
    hist = training_panel(ds)
    test = ds.test.merge(fc[[ID, TIME, "forecast"]], on=[ID, TIME], how="left")
    missing = int(test["forecast"].isna().sum())
    if missing:
        raise SystemExit(f"{missing} held-out rows have no forecast")
    out = {}
    for name, cols in levels_of(ds).items():
        def key(frame: pd.DataFrame, cols: list[str] = cols) -> pd.Series:
            if not cols:
                return pd.Series("total", index=frame.index)
            return frame[ID].map(keys[cols].astype(str).agg("|".join, axis=1))
        h = hist.assign(g=key(hist)).groupby(["g", TIME])["y"].sum().unstack(TIME).fillna(0.0)
        t = test.assign(g=key(test)).groupby(["g", TIME])[["y", "forecast"]].sum()
        scores, weights = [], []
        for g, row in h.iterrows():
            vals = row.to_numpy()
            nz = np.flatnonzero(vals != 0)
            if not len(nz):
                continue
            scale = np.mean(np.diff(vals[nz[0]:]) ** 2)
            if not scale > 0:
                continue
            tt = t.loc[g]
            scores.append(np.sqrt(np.mean((tt["y"].to_numpy() - tt["forecast"].to_numpy()) ** 2) / scale))
            weights.append(vals[h.columns > ds.cutoff - pd.Timedelta(days=28)].sum())
        w = np.asarray(weights, dtype=float)
        out[name] = float(np.sum(w / w.sum() * np.asarray(scores)))
    out["wrmsse"] = float(np.mean(list(out.values())))
    return out


def training_panel(ds: Dataset) -> pd.DataFrame:
    """``unique_id, ds, y`` up to the cutoff on a regular grid: a missing period inside a series' life sold 0."""
    train = ds.full[ds.full[TIME] <= ds.cutoff]
    first = train.groupby(ID)[TIME].min()
    grid = pd.concat([pd.DataFrame({ID: uid, TIME: pd.date_range(start, ds.cutoff, freq=ds.freq)})
                      for uid, start in first.items()], ignore_index=True)
    panel = grid.merge(train.groupby([ID, TIME], as_index=False)["y"].sum(), on=[ID, TIME], how="left")
    return panel.fillna({"y": 0.0})


# -- plain peers -----------------------------------------------------------------------------------
def plain_stats(ds: Dataset, panel: pd.DataFrame, which: str) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta

    model = {"auto_ets": AutoETS, "auto_theta": AutoTheta}[which](season_length=ds.season)
    sf = StatsForecast(models=[model], freq=ds.freq, n_jobs=-1)
    out = sf.forecast(df=panel[[ID, TIME, "y"]], h=ds.h)
    return out.rename(columns={out.columns[-1]: "forecast"}).assign(forecast=lambda d: d["forecast"].clip(lower=0))


def plain_lightgbm(ds: Dataset, panel: pd.DataFrame) -> pd.DataFrame:
    import lightgbm as lgb
    from mlforecast import MLForecast

    lags = sorted({1, 2, 3, ds.season, 2 * ds.season} & set(range(1, len(panel) + 1)))
    features = ["dayofweek", "month"] if ds.freq == "D" else ["month"]
    mlf = MLForecast(models={"lgb": lgb.LGBMRegressor(verbosity=-1, n_jobs=1, random_state=0)}, freq=ds.freq,
                     lags=lags, date_features=features)
    mlf.fit(panel[[ID, TIME, "y"]], static_features=[])
    out = mlf.predict(ds.h)
    return out.rename(columns={"lgb": "forecast"}).assign(forecast=lambda d: d["forecast"].clip(lower=0))


# -- the product path ------------------------------------------------------------------------------
def warehouse(ds: Dataset, folder: Path) -> Path:
    db = folder / f"{ds.name}.duckdb"
    kwargs = {"freq": ds.freq} if "freq" in inspect.signature(tc.ingest).parameters else {}
    files = {"sales": folder / "sales.csv", "products": folder / "products.csv"}
    ds.train_sales.to_csv(files["sales"], index=False, date_format="%Y-%m-%d")
    ds.products.to_csv(files["products"], index=False)
    tc.ingest(db, **files, **kwargs)
    return db


def product_forecast(ds: Dataset, db: Path, model: str, params: dict[str, object]) -> pd.DataFrame:
    kwargs: dict[str, object] = {}
    sig = inspect.signature(tc.forecast).parameters
    if "freq" in sig:
        kwargs["freq"] = ds.freq
    elif ds.freq != "D":
        raise SystemExit(f"{ds.name}: this build's trendcast.forecast has no freq parameter (daily only); "
                         "run after the frequency work is merged.")
    fc = tc.forecast(db, ds.h, model=model, quantiles=None, store=False, model_params=params or None, **kwargs)
    fc = fc.rename(columns={"date": TIME})
    if "store_id" in fc.columns:
        fc[ID] = np.where(fc["store_id"].fillna("") != "", fc["store_id"].fillna("") + "/" + fc["item_id"], fc["item_id"])
    else:
        fc[ID] = fc["item_id"]
    fc[TIME] = pd.to_datetime(fc[TIME])
    return fc


def run(ds: Dataset, time_budget: float | None, work: Path, skip: set[str],
        skip_peers: bool = False) -> dict[str, object]:
    from trendcast.evaluate.selection import default_candidates

    print(f"\n== {ds.name}: {ds.full[ID].nunique()} series, train to {ds.cutoff.date()}, horizon {ds.h}", flush=True)
    for n in ds.notes:
        print("   note:", n)
    db = warehouse(ds, work)
    panel = training_panel(ds)
    results: dict[str, dict[str, object]] = {}

    def score(name: str, fc: pd.DataFrame, run: dict[str, float], kind: str) -> None:
        results[name] = {"kind": kind, **wrmsse(ds, fc), **run}
        r = results[name]
        print(f"   {name:24s} WRMSSE {r['wrmsse']:.3f}  {r['seconds']:7.1f} s  {r['peak_rss_mb']:7.0f} MB", flush=True)

    steps: list[str] = []

    def on_progress(step: object) -> None:
        line = step.line()  # type: ignore[attr-defined]
        steps.append(line)
        print("     ", line, flush=True)

    params: dict[str, object] = {"on_progress": on_progress}
    if time_budget:
        params["time_budget"] = time_budget
    explanation = ""

    def auto() -> pd.DataFrame:
        nonlocal explanation
        fc = product_forecast(ds, db, "auto", params)
        explanation = fc.attrs.get("explanation", "")
        return fc

    fc, t = timed(auto)
    score("auto", fc, t, "trendcast auto")
    if skip_peers:  # peers are deterministic: another run's results file has them
        print(f"   plain peers skipped: {explanation}")
        return {"dataset": ds.name, "time_budget": time_budget, "results": results,
                "auto_explanation": explanation, "auto_steps": steps,
                "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
                "command": " ".join([Path(sys.executable).name, *sys.argv])}
    for peer in ("auto_ets", "auto_theta"):
        fc, t = timed(lambda peer=peer: plain_stats(ds, panel, peer))
        score(f"plain {peer}", fc, t, "plain peer")
    fc, t = timed(lambda: plain_lightgbm(ds, panel))
    score("plain lightgbm", fc, t, "plain peer")
    for cand in default_candidates():
        if cand in skip:
            results[f"candidate {cand}"] = {"kind": "skipped", "note": "--skip-candidates"}
            continue
        try:
            fc, t = timed(lambda cand=cand: product_forecast(ds, db, cand, {}))
        except Exception as exc:  # noqa: BLE001 - recorded: a candidate that fails alone is a finding
            results[f"candidate {cand}"] = {"kind": "failed", "error": f"{type(exc).__name__}: {exc}"}
            print(f"   candidate {cand} failed: {exc}", flush=True)
            continue
        score(f"candidate {cand}", fc, t, "auto candidate alone")
    best_peer = min((k for k, v in results.items() if v["kind"] == "plain peer"), key=lambda k: results[k]["wrmsse"])
    best_cand = min((k for k, v in results.items() if v["kind"] == "auto candidate alone"),
                    key=lambda k: results[k]["wrmsse"])
    a = results["auto"]["wrmsse"]
    targets = {
        "auto_vs_best_plain_peer": round(a / results[best_peer]["wrmsse"], 4), "best_plain_peer": best_peer,
        "auto_le_0.95x_best_plain_peer": bool(a <= 0.95 * results[best_peer]["wrmsse"]),
        "auto_vs_best_own_candidate": round(a / results[best_cand]["wrmsse"], 4), "best_own_candidate": best_cand,
        "auto_within_2pct_of_best_candidate": bool(a <= 1.02 * results[best_cand]["wrmsse"]),
    }
    print("   explanation:", explanation)
    print("   targets:", targets, flush=True)
    return {
        "dataset": ds.name, "notes": ds.notes, "freq": ds.freq, "season_length": ds.season, "horizon": ds.h,
        "cutoff": str(ds.cutoff.date()), "n_series": int(ds.full[ID].nunique()),
        "levels": list(levels_of(ds)), "time_budget": time_budget, "results": results, "targets": targets,
        "auto_explanation": explanation, "auto_steps": steps,
        "cpu_count": os.cpu_count(), "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="demo,m5", help="comma-separated: demo, m5, walmart")
    ap.add_argument("--stores", type=int, default=30, help="Walmart stores 1..N")
    ap.add_argument("--time-budget", type=float, default=None, help="auto's --time-budget (default: its own)")
    ap.add_argument("--auto-only", action="store_true", help="only auto (peers and candidates from another run)")
    ap.add_argument("--tag", default="", help="suffix of the results file, e.g. _budget300")
    ap.add_argument("--skip-candidates", default="", help="auto candidates not to run alone (slow machines)")
    args = ap.parse_args()
    from trendcast.settings import shared_file

    skip = {c.strip() for c in args.skip_candidates.split(",") if c.strip()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in [d.strip() for d in args.data.split(",") if d.strip()]:
        if name == "demo":
            ds = demo()
        else:
            sub = ("m5_level1",) if name == "m5" else ("retail", "walmart")
            folder = shared_file("data", *sub)
            if folder is None:
                print(f"{name}: ../shared/data/{'/'.join(sub)} is absent, skipped")
                continue
            ds = m5(folder) if name == "m5" else walmart(folder, args.stores)
        with tempfile.TemporaryDirectory() as work:
            report = run(ds, args.time_budget, Path(work), skip, args.auto_only)
        out = RESULTS / f"accuracy_{ds.name}{args.tag}.json"
        out.write_text(json.dumps(report, indent=2, default=str))
        print(f"   written {out}")


if __name__ == "__main__":
    main()
