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
- ``demo``: the bundled demo shop with its events and texts (up to the cutoff), daily, last 28
  days held out; ``--covariates auto,none`` runs auto with and without fusion;
- ``m5``: the M5 total (level 1), daily, d_1942-d_1969 held out (the M5 test period), US holidays;
- ``walmart``: Walmart stores 1-30 (``--stores``), Store x Dept weekly, last 13 weeks held out; the
  warehouse must detect ``W-FRI`` itself; ``features.csv.gz`` is ingested as the ``covariates``
  source (rows up to the last held-out week: the future rows are how fusion learns which columns
  are known ahead).

``--resample W`` or ``--resample M`` first sums each data set to weeks or months (whole periods
only; Walmart's weeks spread over their days first; its covariates file left out): the same
shops at another frequency, horizon 13 weeks or 6 months, season 52 or 12.

Each auto run prints the ``trendcast`` CLI line that reproduces its figure, and for every
trendcast forecast (with the CLI's default quantiles) the bottom-level 80% interval coverage
and weighted quantile loss. On a slow machine
``--reuse TAG`` takes the plain peers from an earlier results file, ``--skip-candidates`` /
``--no-candidates`` leave out auto's candidates run alone.

    PYTHONPATH=src .venv/bin/python benchmarks/accuracy.py --data demo,m5,walmart --covariates auto,none

``--intervals backtest,members`` runs auto with its quantiles from its own backtest errors (the
default) and with the chosen models' own intervals, on the same warehouse.
"""

from __future__ import annotations

import argparse
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
    """Peak memory of this process and its workers while the block runs, sampled: the sum of RSS
    (counts pages a forked worker shares with its parent once per process, so it overstates) and
    the sum of PSS (shared pages split between the processes sharing them: the real footprint)."""

    def __enter__(self) -> PeakRSS:
        self.proc = psutil.Process(os.getpid())
        self.peak, self.peak_pss = self._sizes()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._watch, daemon=True)
        self._t.start()
        return self

    def _sizes(self) -> tuple[int, int]:
        rss = pss = 0
        for proc in [self.proc, *self.proc.children(recursive=True)]:
            try:
                info = proc.memory_full_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        return rss, pss

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            rss, pss = self._sizes()
            self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)

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
    return out, {"seconds": round(secs, 1), "peak_rss_mb": round(mem.mb, 1),
                 "peak_pss_mb": round(mem.peak_pss / 2**20, 1)}


# -- data sets in the input contract ---------------------------------------------------------
class Dataset:
    """Sales and products in trendcast's input contract, the held-out part and the scoring levels."""

    def __init__(self, name: str, sales: pd.DataFrame, products: pd.DataFrame, freq: str, season: int,
                 h: int, notes: list[str], extra: dict[str, pd.DataFrame] | None = None,
                 country: str | None = None) -> None:
        self.name, self.freq, self.season, self.h, self.notes = name, freq, season, h, notes
        self.country, self.sales, self.given_extra = country, sales, extra or {}
        sales = sales.assign(store_id=sales.get("store_id", pd.Series("", index=sales.index)).fillna(""))
        step = pd.tseries.frequencies.to_offset(freq)
        self.cutoff = sales["date"].max() - h * step
        self.train_sales = sales[sales["date"] <= self.cutoff].reset_index(drop=True)
        self.products = products
        # Other sources (events, texts, covariates), cut so nothing after the forecast dates is loaded:
        # past-only signals stop at the cutoff; covariates may reach the held-out dates (values
        # published ahead, e.g. planned markdowns), which is how fusion learns they are known.
        self.extra = {}
        for kind, frame in (extra or {}).items():
            when = pd.to_datetime(frame["timestamp" if kind == "events" else "date"])
            last = sales["date"].max() if kind == "covariates" else self.cutoff + pd.Timedelta(days=1)
            self.extra[kind] = frame[when < last + pd.Timedelta(days=1) if kind == "covariates" else when < last]
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
    extra = {k: pd.read_csv(paths[k]) for k in ("events", "texts")}
    return Dataset("demo", sales, products, "D", 7, 28,
                   ["bundled demo shop with its events and texts up to the cutoff, last 28 days held out"], extra)


def m5(folder: Path) -> Dataset:
    raw = pd.read_csv(folder / "m5_level1_total_d1_d1969_combined.csv", parse_dates=["date"])
    sales = pd.DataFrame({"item_id": "total", "date": raw["date"], "units": raw["sales"].astype(float)})
    products = pd.DataFrame({"item_id": ["total"], "category": ["total"]})
    return Dataset("m5_level1", sales, products, "D", 7, 28,
                   ["M5 total unit sales (US stores, so US holidays); train d_1..d_1941, "
                    "held out d_1942..d_1969 (28 days)"], country="US")


def walmart(folder: Path, stores: int) -> Dataset:
    tr = pd.read_csv(folder / "train.csv.gz", parse_dates=["Date"])
    tr = tr[tr["Store"] <= stores]
    sales = pd.DataFrame({
        "store_id": "S" + tr["Store"].astype(str), "item_id": "D" + tr["Dept"].astype(str),
        "date": tr["Date"], "units": tr["Weekly_Sales"].clip(lower=0.0),
    })
    products = pd.DataFrame({"item_id": sorted(sales["item_id"].unique())})
    products["category"] = products["item_id"]  # the dept is both the item and its category
    feats = pd.read_csv(folder / "features.csv.gz", parse_dates=["Date"])
    feats = feats[feats["Store"] <= stores]
    cov = pd.concat([
        pd.DataFrame({"date": feats["Date"], "store_id": "S" + feats["Store"].astype(str)}),
        feats[["Temperature", "Fuel_Price", *[f"MarkDown{i}" for i in range(1, 6)], "CPI", "Unemployment"]],
        feats["IsHoliday"].astype(bool).astype(int).rename("IsHoliday"),
    ], axis=1)
    return Dataset("walmart", sales, products, "W-FRI", 52, 13,
                   [f"Walmart stores 1-{stores}, Store x Dept weekly, negative weeks (returns) set to 0, "
                    "last 13 weeks held out; features.csv.gz as covariates (store_id, date, Temperature, "
                    "Fuel_Price, MarkDown1-5, CPI, Unemployment, IsHoliday 0/1) up to the last held-out week"],
                   {"covariates": cov}, country="US")


def resample(ds: Dataset, to: str) -> Dataset:
    """The same shop's sales summed to weeks (``W``, ending Sunday) or months (``M``, dated on
    the 1st), as a shop that exports weekly or monthly figures would give them: whole periods
    only (a partial first or last period would look like a sales drop); units and revenue
    summed (weekly source figures spread evenly over their seven days first), price averaged,
    promo = any promotion in the period. Events and texts stay as
    they are (dated: fusion counts them per period); a ``covariates`` file is left out."""
    period, freq, season, h = {"W": ("W-SUN", "W-SUN", 52, 13), "M": ("M", "MS", 12, 6)}[to]
    s = ds.sales.copy()
    if ds.freq != "D":  # weekly figures: spread over their seven days (a shop's own export would add days up)
        days = pd.to_timedelta(np.tile(np.arange(-6, 1), len(s)), unit="D")
        s = s.loc[s.index.repeat(7)].assign(date=lambda d: d["date"] + days)
        s = s.assign(**{c: s[c] / 7 for c in ("units", "revenue") if c in s})
    p = s["date"].dt.to_period(period)
    first, last = s["date"].min(), s["date"].max()
    whole = (p.dt.start_time >= first) & (p.dt.end_time.dt.normalize() <= last)
    s, p = s[whole], p[whole]
    s["date"] = p.dt.start_time if to == "M" else p.dt.end_time.dt.normalize()
    keys = [c for c in ("store_id", "item_id") if c in s.columns]
    agg = {c: f for c, f in (("units", "sum"), ("revenue", "sum"), ("price", "mean"), ("promo", "max")) if c in s}
    s = s.groupby([*keys, "date"], as_index=False).agg(agg)
    extra = {k: v for k, v in ds.given_extra.items() if k != "covariates"}
    label = {"W": "weekly", "M": "monthly"}[to]
    notes = [f"{ds.name} resampled to {label} ({freq}, whole periods only, season {season}), last {h} held out",
             *([] if "covariates" not in ds.given_extra else ["its covariates file is left out"])]
    return Dataset(f"{ds.name}_{label}", s.reset_index(drop=True), ds.products, freq, season, h, notes, extra,
                   country=ds.country)


# -- independent WRMSSE --------------------------------------------------------------------------
def levels_of(ds: Dataset) -> dict[str, list[str]]:
    stores = (ds.full["store_id"] != "").any()
    if ds.name.startswith("walmart"):
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


def interval_scores(ds: Dataset, fc: pd.DataFrame) -> dict[str, float]:
    """Bottom-level quantile quality: how often the 80% interval ``[q0.1, q0.9]`` held what sold
    (0.8 is calibrated), and the weighted quantile loss over 0.1/0.5/0.9 (GluonTS's mean wQL:
    2 x summed pinball loss / summed units; lower is better). Empty without quantiles."""
    qs = [q for q in (0.1, 0.5, 0.9) if f"q{q}" in fc.columns]
    if len(qs) < 3:
        return {}
    test = ds.test.merge(fc[[ID, TIME, *(f"q{q}" for q in qs)]], on=[ID, TIME], how="left")
    y = test["y"].to_numpy()
    cover = float(np.mean((test["q0.1"].to_numpy() <= y) & (y <= test["q0.9"].to_numpy())))
    loss = [np.sum(np.maximum(q * (y - test[f"q{q}"]), (q - 1) * (y - test[f"q{q}"]))) for q in qs]
    return {"coverage_80": round(cover, 4), "wql": round(float(2 * np.mean(loss) / np.abs(y).sum()), 4)}


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
    from statsforecast.models import AutoETS, AutoTheta, Naive

    model = {"auto_ets": AutoETS, "auto_theta": AutoTheta}[which](season_length=ds.season)
    # statsforecast's own fallback for series too short for the model (AutoETS refuses "tiny datasets")
    sf = StatsForecast(models=[model], freq=ds.freq, n_jobs=-1, fallback_model=Naive())
    out = sf.forecast(df=panel[[ID, TIME, "y"]], h=ds.h)
    return out.rename(columns={out.columns[-1]: "forecast"}).assign(forecast=lambda d: d["forecast"].clip(lower=0))


def plain_lightgbm(ds: Dataset, panel: pd.DataFrame) -> pd.DataFrame:
    import lightgbm as lgb
    from mlforecast import MLForecast

    longest = int(panel.groupby(ID).size().max())  # a lag must leave a horizon of rows to learn from
    lags = sorted({1, 2, 3, ds.season, 2 * ds.season} & set(range(1, max(2, longest - ds.h + 1))))
    features = ["dayofweek", "month"] if ds.freq == "D" else ["month"]
    mlf = MLForecast(models={"lgb": lgb.LGBMRegressor(verbosity=-1, n_jobs=1, random_state=0)}, freq=ds.freq,
                     lags=lags, date_features=features)
    mlf.fit(panel[[ID, TIME, "y"]], static_features=[])
    out = mlf.predict(ds.h)
    return out.rename(columns={"lgb": "forecast"}).assign(forecast=lambda d: d["forecast"].clip(lower=0))


# -- the product path ------------------------------------------------------------------------------
def warehouse(ds: Dataset, folder: Path) -> Path:
    """Ingest the training part (and the other sources) into a fresh warehouse; the warehouse
    detects the frequency itself, and the run stops when it is not the data's."""
    from trendcast.data.warehouse import Warehouse

    db = folder / f"{ds.name}.duckdb"
    files = {"sales": folder / "sales.csv", "products": folder / "products.csv"}
    ds.train_sales.to_csv(files["sales"], index=False, date_format="%Y-%m-%d")
    ds.products.to_csv(files["products"], index=False)
    for kind, frame in ds.extra.items():
        files[kind] = folder / f"{kind}.csv"
        frame.to_csv(files[kind], index=False, date_format="%Y-%m-%d")
    tc.ingest(db, **files)
    with Warehouse(db, read_only=True) as wh:
        detected = wh.frequency()
    print(f"   warehouse frequency detected: {detected}", flush=True)
    if detected != ds.freq:
        raise SystemExit(f"{ds.name}: the warehouse detected frequency {detected}, expected {ds.freq}")
    return db


def cli_command(ds: Dataset, covariates: str, time_budget: float | None, intervals: str = "backtest") -> str:
    """The trendcast CLI line that gives the same figure as the API call here."""
    ing = " ".join(f"--{k} {k}.csv" for k in ("sales", "products", *ds.extra))
    fc = f"trendcast forecast --db {ds.name}.duckdb --horizon {ds.h} --model auto --covariates {covariates}"
    if ds.country:
        fc += f" --country {ds.country}"
    if time_budget:
        fc += f" --time-budget {time_budget:g}"
    if intervals != "backtest":
        fc += f" --intervals {intervals}"
    return f"trendcast ingest --db {ds.name}.duckdb {ing} && {fc} --out forecast.csv"


def product_forecast(ds: Dataset, db: Path, model: str, params: dict[str, object],
                     covariates: str = "auto") -> pd.DataFrame:
    # the CLI's default quantiles, so the time is what the printed command takes
    fc = tc.forecast(db, ds.h, model=model, store=False, model_params=params or None,
                     covariates=covariates, country=ds.country)
    fc = with_bench_ids(fc.rename(columns={"date": TIME}))
    fc[TIME] = pd.to_datetime(fc[TIME])
    return fc


def with_bench_ids(fc: pd.DataFrame) -> pd.DataFrame:
    """``unique_id`` as this benchmark names series: ``store/item``, or ``item`` without stores."""
    store = fc["store_id"].fillna("").astype(str) if "store_id" in fc.columns else pd.Series("", index=fc.index)
    return fc.assign(**{ID: np.where(store != "", store + "/" + fc["item_id"].astype(str), fc["item_id"].astype(str))})


def reused(ds: Dataset, tag: str, candidates: bool = False) -> dict[str, dict[str, object]]:
    """Plain peers from an earlier results file of the same data (they read only the sales and do
    not depend on trendcast), so a slow machine can re-run trendcast's side alone; with
    ``candidates`` also auto's candidates alone (same warehouse and covariates: re-run auto only)."""
    path = RESULTS / f"accuracy_{ds.name}{tag}.json"
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    from trendcast.evaluate.selection import default_candidates

    current = {f"candidate {c}" for c in default_candidates()}  # a candidate auto no longer runs is left out
    return {k: {"reused_from": f"{path.name} ({old.get('command', '')})", **v}
            for k, v in old.get("results", {}).items() if v.get("kind") == "plain peer"
            or (candidates and k in current and v.get("kind") in ("auto candidate alone", "skipped", "failed"))}


def run(ds: Dataset, time_budget: float | None, work: Path, skip: set[str], variants: list[tuple[str, str]],
        reuse: dict[str, dict[str, object]], out: Path, candidates: bool = True) -> dict[str, object]:
    """Auto (once per covariates choice), the plain peers and the candidates alone; the results
    file is rewritten after every figure, so a run cut short keeps what it measured."""
    from trendcast.evaluate.selection import default_candidates

    print(f"\n== {ds.name}: {ds.full[ID].nunique()} series, train to {ds.cutoff.date()}, horizon {ds.h}", flush=True)
    for n in ds.notes:
        print("   note:", n)
    db = warehouse(ds, work)
    panel = training_panel(ds)
    results: dict[str, dict[str, object]] = {}
    autos: dict[str, dict[str, object]] = {}

    def report() -> dict[str, object]:
        return _report(ds, time_budget, results, autos)

    def score(name: str, fc: pd.DataFrame, run: dict[str, float], kind: str) -> None:
        results[name] = {"kind": kind, **wrmsse(ds, fc), **interval_scores(ds, fc), **run}
        out.write_text(json.dumps(report(), indent=2, default=str))
        r = results[name]
        band = f"  80% interval held {r['coverage_80']:.1%}, wQL {r['wql']:.3f}" if "wql" in r else ""
        print(f"   {name:28s} WRMSSE {r['wrmsse']:.3f}  {r['seconds']:7.1f} s  {r['peak_rss_mb']:7.0f} MB RSS"
              f"  {r['peak_pss_mb']:7.0f} MB PSS{band}", flush=True)

    for cov, intervals in variants:
        steps: list[str] = []

        def on_progress(step: object, steps: list[str] = steps) -> None:
            line = step.line()  # type: ignore[attr-defined]
            steps.append(line)
            print("     ", line, flush=True)

        params: dict[str, object] = {"on_progress": on_progress, "intervals": intervals}
        if time_budget:
            params["time_budget"] = time_budget
        fc, t = timed(lambda cov=cov, params=params: product_forecast(ds, db, "auto", params, cov))
        name = " ".join(["auto", *([f"covariates={cov}"] if cov != "auto" else []),
                         *([f"intervals={intervals}"] if intervals != "backtest" else [])])
        cli = cli_command(ds, cov, time_budget, intervals)
        autos[name] = {"explanation": fc.attrs.get("explanation", ""), "steps": steps, "cli": cli}
        score(name, fc, t, "trendcast auto")
        results[name].update(covariates=cov, cli=cli)
        print("   explanation:", autos[name]["explanation"], flush=True)
        print("   same figure from the CLI:", results[name]["cli"], flush=True)
    for k, v in reuse.items():
        results[k] = v
        if "wrmsse" in v:
            print(f"   {k:28s} WRMSSE {v['wrmsse']:.3f}  {v['seconds']:7.1f} s  (reused)", flush=True)
    peers = not any(v.get("kind") == "plain peer" for v in reuse.values())
    if peers:  # cheapest first: AutoETS with a long season is by far the slowest, it runs last
        fc, t = timed(lambda: plain_lightgbm(ds, panel))
        score("plain lightgbm", fc, t, "plain peer")
        fc, t = timed(lambda: plain_stats(ds, panel, "auto_theta"))
        score("plain auto_theta", fc, t, "plain peer")
    for cand in default_candidates() if candidates else []:
        if f"candidate {cand}" in results:
            continue
        if cand in skip:
            results[f"candidate {cand}"] = {"kind": "skipped", "note": "--skip-candidates"}
            continue
        try:
            fc, t = timed(lambda cand=cand: product_forecast(ds, db, cand, {}, variants[0][0]))
        except Exception as exc:  # noqa: BLE001 - recorded: a candidate that fails alone is a finding
            results[f"candidate {cand}"] = {"kind": "failed", "error": f"{type(exc).__name__}: {exc}"}
            print(f"   candidate {cand} failed: {exc}", flush=True)
            continue
        score(f"candidate {cand}", fc, t, "auto candidate alone")
    if peers:
        fc, t = timed(lambda: plain_stats(ds, panel, "auto_ets"))
        score("plain auto_ets", fc, t, "plain peer")
    rep = report()
    for name, t in rep["targets"].items():
        print(f"   targets {name}:", t, flush=True)
    out.write_text(json.dumps(rep, indent=2, default=str))
    return rep


def _report(ds: Dataset, time_budget: float | None, results: dict[str, dict[str, object]],
            autos: dict[str, dict[str, object]]) -> dict[str, object]:
    targets: dict[str, object] = {}
    peers = [k for k, v in results.items() if v["kind"] == "plain peer" and "wrmsse" in v]
    cands = [k for k, v in results.items() if v["kind"] == "auto candidate alone" and "wrmsse" in v]
    for name in autos:
        if "wrmsse" not in results[name]:
            continue
        a = results[name]["wrmsse"]
        t: dict[str, object] = {}
        if peers:
            best_peer = min(peers, key=lambda k: results[k]["wrmsse"])
            t.update({"auto_vs_best_plain_peer": round(a / results[best_peer]["wrmsse"], 4), "best_plain_peer": best_peer,
                      "auto_le_0.95x_best_plain_peer": bool(a <= 0.95 * results[best_peer]["wrmsse"])})
        if cands:
            best_cand = min(cands, key=lambda k: results[k]["wrmsse"])
            t.update({"auto_vs_best_own_candidate": round(a / results[best_cand]["wrmsse"], 4),
                      "best_own_candidate": best_cand,
                      "auto_within_2pct_of_best_candidate": bool(a <= 1.02 * results[best_cand]["wrmsse"]),
                      "candidates_run_alone": len(cands)})
        else:
            t["auto_within_2pct_of_best_candidate"] = "not measured: no candidate run alone (--no-candidates)"
        targets[name] = t
    return {
        "dataset": ds.name, "notes": ds.notes, "freq": ds.freq, "season_length": ds.season, "horizon": ds.h,
        "country": ds.country, "sources": ["sales", "products", *ds.extra],
        "cutoff": str(ds.cutoff.date()), "n_series": int(ds.full[ID].nunique()),
        "levels": list(levels_of(ds)), "time_budget": time_budget, "results": results, "targets": targets,
        "auto": autos, "cpu_count": os.cpu_count(), "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def load(name: str, stores: int = 30) -> Dataset | None:
    """``demo``, ``m5`` or ``walmart`` (stores 1..``stores``); None, said, when ../shared lacks it."""
    from trendcast.settings import shared_file

    if name == "demo":
        return demo()
    sub = ("m5_level1",) if name == "m5" else ("retail", "walmart")
    folder = shared_file("data", *sub)
    if folder is None:
        print(f"{name}: ../shared/data/{'/'.join(sub)} is absent, skipped")
        return None
    return m5(folder) if name == "m5" else walmart(folder, stores)


def load_spec(spec: str, stores: int = 30) -> Dataset | None:
    """``NAME`` or ``NAME:W`` / ``NAME:M``: :func:`load`, then summed to weeks or months (:func:`resample`)."""
    name, _, to = spec.partition(":")
    ds = load(name, stores)
    return resample(ds, to) if ds is not None and to else ds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="demo,m5", help="comma-separated: demo, m5, walmart")
    ap.add_argument("--stores", type=int, default=30, help="Walmart stores 1..N")
    ap.add_argument("--time-budget", type=float, default=None, help="auto's --time-budget (default: its own)")
    ap.add_argument("--covariates", default="auto", help="auto runs, comma-separated: auto, none (e.g. auto,none)")
    ap.add_argument("--intervals", default="backtest",
                    help="auto's quantiles, comma-separated: backtest, members (e.g. backtest,members)")
    ap.add_argument("--reuse", default=None, metavar="TAG",
                    help="take the plain peers from results/accuracy_<data><TAG>.json (slow machines)")
    ap.add_argument("--reuse-candidates", action="store_true", help="with --reuse, auto's candidates alone too")
    ap.add_argument("--rerun-candidates", default="",
                    help="with --reuse-candidates, candidates to run again (e.g. new weights)")
    ap.add_argument("--no-candidates", action="store_true", help="do not run auto's candidates alone")
    ap.add_argument("--resample", default="", choices=["", "W", "M"],
                    help="sum each data set to weeks (W) or months (M) first: other frequencies, same shops")
    ap.add_argument("--tag", default="", help="suffix of the results file, e.g. _budget300")
    ap.add_argument("--skip-candidates", default="", help="auto candidates not to run alone (slow machines)")
    args = ap.parse_args()

    variants = [(c.strip(), i.strip()) for c in args.covariates.split(",") if c.strip()
                for i in args.intervals.split(",") if i.strip()]
    skip = {c.strip() for c in args.skip_candidates.split(",") if c.strip()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in [d.strip() for d in args.data.split(",") if d.strip()]:
        ds = load(name, args.stores)
        if ds is None:
            continue
        if args.resample:
            ds = resample(ds, args.resample)
        with tempfile.TemporaryDirectory() as work:
            reuse = reused(ds, args.reuse, args.reuse_candidates) if args.reuse is not None else {}
            for cand in filter(None, args.rerun_candidates.split(",")):
                reuse.pop(f"candidate {cand.strip()}", None)
            out = RESULTS / f"accuracy_{ds.name}{args.tag}.json"
            run(ds, args.time_budget, Path(work), skip, variants, reuse, out, not args.no_candidates)
        print(f"   written {out}")


if __name__ == "__main__":
    main()
