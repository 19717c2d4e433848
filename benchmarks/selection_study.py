"""How well does auto mode's choice, made on backtest windows, hold on the held-out periods?

For each data set of ``benchmarks/accuracy.py`` this runs, through the forecasting service
(the warehouse, fusion and covariates exactly as ``trendcast forecast --model auto`` sees
them): auto's own budgeted backtest of every default candidate over ``--windows`` windows
with no time limit, and every candidate fitted on the whole training part and scored on the
held-out periods with the benchmark's independent WRMSSE. It then replays selection rules on
the first k backtest windows (k = 2 .. windows) and scores what each rule would have forecast
on the held-out periods, beside the best candidate alone. The raw forecasts are cached under
``--work`` so replays are cheap.

    TRENDCAST_SHARED=../shared PYTHONPATH=src .venv/bin/python benchmarks/selection_study.py --data m5,demo

``--reconcile`` adds, for auto's choice on every window, bottom-up against MinT: what auto's
reconciliation backtest says and both scored on the held-out periods.

``--rules`` replays variants of auto's choosing rule instead (written to
``selection_rules.json``): leaving the default ensemble only for a way that beats it by one
standard error (the product's rule) or by two, without level-bias factors, never leaving it,
and with or without half of the ensemble mixed into a pick that replaces it (the product
mixes). ``--data`` also takes ``NAME:W`` / ``NAME:M``, the sales resampled as in ``accuracy.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy as acc  # noqa: E402

from trendcast.evaluate import selection  # noqa: E402
from trendcast.evaluate.metrics import CUTOFF  # noqa: E402
from trendcast.evaluate.reconciliation import Aggregates, choose_reconciliation, forecast_upper  # noqa: E402
from trendcast.evaluate.selection import (  # noqa: E402
    COMPARED,
    AutoForecaster,
    default_candidates,
    select,
)
from trendcast.forecasting import Frames, build_frames, fit_predict  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def dataset(spec: str, shared: Path, stores: int) -> acc.Dataset:
    name, _, to = spec.partition(":")
    if name == "demo":
        ds = acc.demo()
    elif name == "m5":
        ds = acc.m5(shared / "data" / "m5_level1")
    else:
        ds = acc.walmart(shared / "data" / "retail" / "walmart", stores)
    return acc.resample(ds, to) if to else ds


def to_bench_ids(fc: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Service forecasts with the benchmark's series ids (store/item)."""
    keys = panel[["unique_id", "item_id", "store_id"]].drop_duplicates("unique_id")
    return acc.with_bench_ids(fc.merge(keys, on="unique_id", how="left"))


def collect(ds: acc.Dataset, work: Path, windows: int, skip: set[str]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], Frames, AutoForecaster]:
    """Auto's backtest forecasts (fitted through the forecasting service, as ``trendcast forecast``
    does, with no time limit), every candidate's held-out forecasts (cached under ``work``), the
    service's frames and auto (for its candidates' parameters)."""
    cache = work / ds.name
    cache.mkdir(parents=True, exist_ok=True)
    bt_path = cache / f"backtest_{windows}.parquet"
    db = acc.warehouse(ds, work) if not (work / f"{ds.name}.duckdb").exists() else work / f"{ds.name}.duckdb"
    frames = build_frames(db, ds.h, covariates="auto", country=ds.country)
    candidates = [c for c in default_candidates() if c not in skip]
    auto = AutoForecaster(candidates=candidates, windows=windows, time_budget=1e6,
                          on_progress=lambda s: print("    ", s.line(), flush=True), **frames.params("auto"))
    if not bt_path.exists():
        t0 = time.time()
        _, auto = fit_predict(frames, auto, None)  # the service fits a copy and returns it
        res = auto.backtest_
        print(f"   backtest {res.windows} windows and final fit in {time.time() - t0:.0f} s; costs {res.costs}", flush=True)
        res.forecasts.to_parquet(bt_path)
    else:
        auto.n_series_ = int(frames.panel["unique_id"].nunique())  # what the candidates' parameters depend on
    held: dict[str, pd.DataFrame] = {}
    for name in candidates:
        path = cache / f"heldout_{name}.parquet"
        if not path.exists():
            t0 = time.time()
            fc, _ = fit_predict(frames, name, None, params=auto.candidate_params(name))
            fc.to_parquet(path)
            print(f"   {name} held-out fit in {time.time() - t0:.0f} s", flush=True)
        held[name] = pd.read_parquet(path)
    return pd.read_parquet(bt_path), held, frames, auto


def reconcile_replay(ds: acc.Dataset, bt: pd.DataFrame, held: dict[str, pd.DataFrame], frames: Frames,
                     auto: AutoForecaster) -> dict[str, object]:
    """Bottom-up against MinT for auto's choice on every backtest window: what auto's
    reconciliation backtest says (no time limit), and both scored on the held-out periods."""
    panel = frames.panel
    sel = select(bt, panel, ds.season)
    t0 = time.time()
    choice = choose_reconciliation(
        panel, bt, sel, h=ds.h, freq=frames.freq, season_length=frames.season_length,
        future_known=frames.future_known, params=auto.candidate_params, costs={}, time_left=1e9)
    seconds = time.time() - t0
    ids = list(panel["unique_id"].unique())
    bottom = sel.combine({m: held[m] for m in sel.models_needed}, ids)
    agg = Aggregates.of(panel)
    known = [c for c in frames.future_known if c in panel.columns]
    xf = frames.x_future()
    upper = forecast_upper(agg, sel, panel, xf if known else None, ds.h, known, auto.candidate_params)
    mint = agg.mint(bottom, upper)
    return {
        "strategy": sel.strategy + ("+bias" if sel.bias else ""), "backtest": choice.to_dict(),
        "backtest_seconds": round(seconds, 1), "aggregates_fitted": len(agg.fit_ids),
        "held_out_bottom_up": round(acc.wrmsse(ds, to_bench_ids(bottom, panel))["wrmsse"], 4),
        "held_out_mint": round(acc.wrmsse(ds, to_bench_ids(mint, panel))["wrmsse"], 4),
    }


def replay(ds: acc.Dataset, bt: pd.DataFrame, held: dict[str, pd.DataFrame], panel: pd.DataFrame,
           season: int, strategies: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    keyed = {m: to_bench_ids(p, panel) for m, p in held.items()}
    for m, p in keyed.items():
        out[f"alone {m}"] = round(acc.wrmsse(ds, p)["wrmsse"], 4)
    cutoffs = sorted(bt[CUTOFF].unique(), reverse=True)
    ids = list(panel["unique_id"].unique())
    for k in range(2, len(cutoffs) + 1):
        sub = bt[bt[CUTOFF].isin(cutoffs[:k])]
        for strat in strategies:
            sel = select(sub, panel, season, strat)
            fc = sel.combine({m: held[m] for m in sel.models_needed}, ids)
            score = acc.wrmsse(ds, to_bench_ids(fc, panel))["wrmsse"]
            label = sel.strategy + ("+bias" if sel.bias else "")
            out[f"k={k} {strat} -> {label}"] = round(score, 4)
            if strat == "auto":
                out[f"k={k} auto backtest"] = {k2: round(v, 4) for k2, v in sorted(sel.scores.items(), key=lambda kv: kv[1])[:6]}
    return out


RULES = {  # label -> (standard errors to leave the default, strategy, bias, share of the default mixed in)
    "one standard error, half the ensemble mixed into a pick (product)": (1.0, "auto", "auto", 0.5),
    "one standard error, nothing mixed in": (1.0, "auto", "auto", 0.0),
    "two standard errors, nothing mixed in": (2.0, "auto", "auto", 0.0),
    "one standard error, no bias factors, nothing mixed in": (1.0, "auto", "off", 0.0),
    "always the inverse-error ensemble": (1.0, "ensemble", "off", 0.0),
}


def rule_replay(ds: acc.Dataset, bt: pd.DataFrame, held: dict[str, pd.DataFrame], panel: pd.DataFrame,
                season: int) -> dict[str, object]:
    """Each rule of :data:`RULES` on the first k backtest windows, scored on the held-out periods."""
    keyed = {m: to_bench_ids(p, panel) for m, p in held.items()}
    out: dict[str, object] = {"alone": {m: round(acc.wrmsse(ds, p)["wrmsse"], 4) for m, p in keyed.items()}}
    cutoffs = sorted(bt[CUTOFF].unique(), reverse=True)
    ids = list(panel["unique_id"].unique())
    for label, (errors, strategy, bias, share) in RULES.items():
        selection.CLEAR_ERRORS, selection.HEDGE_SHARE = errors, share
        try:
            row = {}
            for k in range(2, len(cutoffs) + 1):
                sel = select(bt[bt[CUTOFF].isin(cutoffs[:k])], panel, season, strategy, bias=bias)
                fc = sel.combine({m: held[m] for m in sel.models_needed}, ids)
                row[f"k={k}"] = {"chose": sel.strategy + ("+bias" if sel.bias else ""),
                                 "wrmsse": round(acc.wrmsse(ds, to_bench_ids(fc, panel))["wrmsse"], 4)}
        finally:
            selection.CLEAR_ERRORS, selection.HEDGE_SHARE = 1.0, 0.5
        if row:
            row["mean over k"] = round(float(np.mean([v["wrmsse"] for v in row.values()])), 4)
        out[label] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="m5,demo")
    ap.add_argument("--windows", type=int, default=6)
    ap.add_argument("--stores", type=int, default=30)
    ap.add_argument("--skip", default="", help="candidates left out (e.g. auto_ets on Walmart: minutes a window)")
    ap.add_argument("--work", default="out/selection_study")
    ap.add_argument("--strategies", default=",".join(("auto", *COMPARED)))
    ap.add_argument("--reconcile", action="store_true", help="also bottom-up vs MinT for auto's choice")
    ap.add_argument("--rules", action="store_true", help="replay variants of the choosing rule instead")
    args = ap.parse_args()
    shared = Path(os.environ.get("TRENDCAST_SHARED", "../shared"))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    report = {}
    for name in args.data.split(","):
        ds = dataset(name, shared, args.stores)
        print(f"== {ds.name}", flush=True)
        bt, held, frames, auto = collect(ds, work, args.windows, set(filter(None, args.skip.split(","))))
        panel = frames.panel[["unique_id", "ds", "y", "item_id", "store_id", "category"]]
        if args.rules:
            report[ds.name] = rule_replay(ds, bt, held, panel, ds.season)
            print(json.dumps(report[ds.name], indent=1), flush=True)
            continue
        res = replay(ds, bt, held, panel, ds.season, args.strategies.split(","))
        if args.reconcile:
            res["reconciliation"] = reconcile_replay(ds, bt, held, frames, auto)
        for k, v in res.items():
            print(f"   {k}: {v}", flush=True)
        report[ds.name] = res
    path = RESULTS / ("selection_rules.json" if args.rules else "selection_study.json")
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**old, **report}, indent=1))


if __name__ == "__main__":
    main()
