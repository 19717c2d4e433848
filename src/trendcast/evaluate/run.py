"""Orchestration behind ``trendcast forecast`` / ``backtest`` and the Python API.

Reads the sales panel from the warehouse, fits a model (``auto`` by default), forecasts the
horizon with future-known covariates (price and promo: planned values from a future-plan file,
else the last known price and no promotion), reconciles across the hierarchy, writes the output
file and keeps the forecasts in the warehouse tables ``forecasts`` and ``forecast_runs`` so the
API and dashboard can read them (:func:`latest_forecasts`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from trendcast.data.warehouse import Warehouse
from trendcast.errors import ConfigError, InputError, NotReadyError
from trendcast.evaluate import backtest as bt
from trendcast.evaluate.hierarchy import (
    RECONCILE_METHODS,
    Hierarchy,
    aggregate_panel,
    build_hierarchy,
    static_frame,
)
from trendcast.models.base import FORECAST, ID, TARGET, TIME, check_quantiles, quantile_column

DEFAULT_QUANTILES = (0.1, 0.5, 0.9)
FAST_MODELS = ("seasonal_naive", "moving_average", "croston")
FORECASTS_DDL = """
CREATE TABLE IF NOT EXISTS forecasts (
    run_id VARCHAR, created_at TIMESTAMP, model VARCHAR, level VARCHAR, unique_id VARCHAR,
    item_id VARCHAR, store_id VARCHAR, date DATE, forecast DOUBLE, quantiles VARCHAR
)"""
RUNS_DDL = """
CREATE TABLE IF NOT EXISTS forecast_runs (
    run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, model VARCHAR, horizon INTEGER,
    quantiles VARCHAR, reconcile VARCHAR, explanation VARCHAR
)"""


def load_panel(db: str | Path) -> pd.DataFrame:
    """The daily sales panel of a warehouse (``NotReadyError`` when nothing is ingested)."""
    with Warehouse(db, read_only=True) as wh:
        return wh.sales_panel()


def read_future_plan(path: str | Path) -> pd.DataFrame:
    """A future-plan CSV/Parquet with ``item_id, [store_id,] date, [price], [promo]``."""
    path = Path(path)
    plan = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    for col in ("item_id", "date"):
        if col not in plan.columns:
            raise InputError("the future plan needs item_id and date columns", file=str(path), column=col)
    plan["date"] = pd.to_datetime(plan["date"], errors="coerce")
    bad = plan["date"].isna()
    if bad.any():
        raise InputError("date is not a valid YYYY-MM-DD date", file=str(path), row=int(bad.idxmax()) + 1, column="date")
    return plan


def future_frame(
    panel: pd.DataFrame, h: int, plan: pd.DataFrame | None = None, freq: str = "D"
) -> pd.DataFrame:
    """``unique_id, ds, price, promo`` for the next ``h`` days of every series.

    Without a plan, promo is 0 and price stays at its last known value; a plan overrides both
    where it has a row (other days keep the defaults).
    """
    last = panel.groupby(ID)[TIME].max()
    step = pd.tseries.frequencies.to_offset(freq)
    grid = pd.DataFrame(
        {ID: last.index.repeat(h), TIME: [d for e in last for d in pd.date_range(e + step, periods=h, freq=freq)]}
    )
    tail = panel.sort_values(TIME).groupby(ID).tail(1).set_index(ID)
    if "price" in panel.columns:
        grid["price"] = grid[ID].map(tail["price"]).astype(float)
    if "promo" in panel.columns:
        grid["promo"] = 0
    if plan is not None:
        keys = panel[[ID, "item_id", "store_id"]].drop_duplicates(ID)
        p = plan.rename(columns={"date": TIME}).copy()
        if "store_id" not in p.columns:
            p["store_id"] = None
        p["store_id"] = p["store_id"].fillna("").astype(str)
        p = p.merge(keys, on=["item_id", "store_id"], how="inner")
        for col in ("price", "promo"):
            if col in p.columns and col in grid.columns:
                upd = p.set_index([ID, TIME])[col]
                idx = pd.MultiIndex.from_frame(grid[[ID, TIME]])
                new = upd.reindex(idx).to_numpy()
                grid[col] = pd.Series(new, index=grid.index).fillna(grid[col])
        if "promo" in grid.columns:
            grid["promo"] = grid["promo"].astype(int)
    return grid


def _params(model: str, h: int, freq: str, season_length: int) -> dict[str, object]:
    params: dict[str, object] = {"season_length": season_length, "freq": freq}
    if model == "auto":
        params["horizon"] = h
    return params


def _with_keys(fc: pd.DataFrame, panel: pd.DataFrame, hierarchy: Hierarchy) -> pd.DataFrame:
    """Attach item_id/store_id/level and rename ``ds`` to ``date`` for people."""
    keys = panel[[ID, "item_id", "store_id"]].drop_duplicates(ID)
    level_of = hierarchy.level_of()
    out = fc.merge(keys, on=ID, how="left")
    out.insert(0, "level", out[ID].map(level_of).fillna(hierarchy.bottom))
    return out.rename(columns={TIME: "date"})


def forecast(
    db: str | Path,
    horizon: int,
    model: str = "auto",
    quantiles: Sequence[float] | None = DEFAULT_QUANTILES,
    reconcile: str = "bottom_up",
    out: str | Path | None = None,
    future: str | Path | pd.DataFrame | None = None,
    levels: bool = False,
    model_params: dict[str, object] | None = None,
    store: bool = True,
    on_step: Callable[[str], None] | None = None,
    engine: str = "local",
) -> pd.DataFrame:
    """Forecast every series of the warehouse ``horizon`` days ahead.

    Returns (and writes to ``out``, CSV or Parquet by extension) ``item_id, store_id, date,
    forecast, q0.1, ...`` for the bottom series; with ``levels`` also every aggregated series
    (``level``/``unique_id`` say which). ``reconcile``: ``bottom_up`` (aggregates are sums of
    the bottom), ``mint`` (MinTrace over all levels; bottom forecasts change too) or ``none``.
    ``engine``: ``local``, or ``dask``/``spark``/``ray`` to fit statistical models and LightGBM
    on a cluster through Fugue (:mod:`trendcast.engine`; target history only, no future plan).
    """
    if horizon < 1:
        raise ConfigError(f"Horizon must be at least 1 day; got {horizon}.")
    if reconcile not in RECONCILE_METHODS:
        raise ConfigError(f"--reconcile must be one of {', '.join(RECONCILE_METHODS)}; got '{reconcile}'.")
    qs = check_quantiles(quantiles)
    say = on_step or (lambda _: None)
    say("reading the warehouse")
    panel = load_panel(db)
    freq, season_length = "D", 7
    hierarchy = build_hierarchy(static_frame(panel))
    plan = read_future_plan(future) if isinstance(future, str | Path) else future
    xf = future_frame(panel, horizon, plan, freq)
    params = {**_params(model, horizon, freq, season_length), **(model_params or {})}
    say(f"fitting {model}" + ("" if engine == "local" else f" on {engine}"))
    if engine != "local":
        from trendcast.engine import run_forecast

        if reconcile == "mint" or plan is not None:
            raise ConfigError(
                f"The {engine} engine runs univariate forecasts only: use --reconcile bottom_up or "
                "none and no --future plan, or --engine local."
            )
        fc, fitted = run_forecast(panel, model, horizon, engine=engine, quantiles=qs,
                                  season_length=season_length), None
        if levels and reconcile == "bottom_up":
            agg = hierarchy.aggregate(fc, [FORECAST])
            fc = pd.concat([agg[~agg[ID].isin(fc[ID])], fc], ignore_index=True)
    elif reconcile == "mint":
        fc, fitted = bt.fit_predict(model, panel, horizon, xf, qs, hierarchy=hierarchy,
                                    reconcile_method="mint", params=params)
    else:
        fc, fitted = bt.fit_predict(model, panel, horizon, xf, qs, params=params)
        if levels and reconcile == "bottom_up":
            agg = hierarchy.aggregate(fc, [FORECAST])
            fc = pd.concat([agg[~agg[ID].isin(fc[ID])], fc], ignore_index=True)
        elif levels:  # base forecasts of every level, not reconciled
            known = [c for c in bt.DEFAULT_FUTURE_KNOWN if c in panel.columns]
            upper = aggregate_panel(panel, hierarchy, known)
            upper = upper[~upper[ID].isin(fc[ID])]
            xu = aggregate_panel(xf.assign(**{TARGET: 0.0}), hierarchy, known).drop(columns=TARGET)
            m = bt.new_model(model, **params).fit(upper)
            fc = pd.concat([m.predict(horizon, xu[xu[ID].isin(upper[ID])], qs), fc], ignore_index=True)
    if not levels:
        fc = fc[fc[ID].isin(hierarchy.tags[hierarchy.bottom])]
    result = _with_keys(fc, panel, hierarchy)
    cols = ["level", ID, "item_id", "store_id", "date", FORECAST, *(quantile_column(q) for q in qs)]
    result = result[[c for c in cols if c in result.columns]].reset_index(drop=True)
    if not levels:
        result = result.drop(columns="level")
    if not (panel["store_id"].astype(str) != "").any():
        result = result.drop(columns="store_id")
    explanation = getattr(fitted, "explanation_", "")
    if (model_params or {}).get("weights"):  # the run record says which fine-tuned weights made it
        explanation = f"weights: {model_params['weights']}" + (f"\n{explanation}" if explanation else "")
    result.attrs["explanation"] = explanation
    if out is not None:
        say("writing the output")
        write_frame(result, out)
    if store:
        result.attrs["run_id"] = store_forecasts(db, fc, panel, hierarchy, model, horizon, qs, reconcile, explanation)
    return result


def write_frame(df: pd.DataFrame, out: str | Path) -> Path:
    """CSV or Parquet by extension (``.parquet``/``.pq``; anything else is CSV)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix in (".parquet", ".pq"):
        df.to_parquet(out, index=False)
    else:
        df.to_csv(out, index=False, date_format="%Y-%m-%d")
    return out


def store_forecasts(
    db: str | Path, fc: pd.DataFrame, panel: pd.DataFrame, hierarchy: Hierarchy, model: str,
    horizon: int, quantiles: list[float], reconcile: str, explanation: str = "",
) -> str:
    """Append one run to ``forecasts``/``forecast_runs``; returns the run id."""
    run_id = uuid.uuid4().hex[:12]
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = _with_keys(fc, panel, hierarchy)
    qcols = [quantile_column(q) for q in quantiles if quantile_column(q) in rows.columns]
    rows["quantiles"] = [json.dumps({c[1:]: round(float(v), 6) for c, v in zip(qcols, vals, strict=True)})
                         for vals in rows[qcols].to_numpy()] if qcols else "{}"
    table = pd.DataFrame({
        "run_id": run_id, "created_at": now, "model": model, "level": rows["level"],
        "unique_id": rows[ID], "item_id": rows["item_id"], "store_id": rows["store_id"],
        "date": pd.to_datetime(rows["date"]).dt.date, "forecast": rows[FORECAST].astype(float),
        "quantiles": rows["quantiles"],
    })
    with Warehouse(db) as wh:
        wh.con.execute(FORECASTS_DDL)
        wh.con.execute(RUNS_DDL)
        with wh.transaction() as con:
            con.register("frame", table)
            con.execute("INSERT INTO forecasts BY NAME SELECT * FROM frame")
            con.unregister("frame")
            con.execute(
                "INSERT INTO forecast_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                [run_id, now, model, horizon, json.dumps(quantiles), reconcile, explanation],
            )
    return run_id


def store_leaderboard(db: str | Path, board: pd.DataFrame, horizon: int, windows: int) -> None:
    """Keep the latest backtest's per-model scores in ``backtest_metrics`` (dashboard, report)."""
    table = board.assign(horizon=horizon, windows=windows, created_at=datetime.now(UTC).replace(tzinfo=None))
    with Warehouse(db) as wh, wh.transaction() as con:
        con.register("board", table)
        con.execute("CREATE OR REPLACE TABLE backtest_metrics AS SELECT * FROM board")
        con.unregister("board")


def latest_forecasts(db: str | Path, run_id: str | None = None) -> pd.DataFrame:
    """Forecasts of the latest run (or ``run_id``) with quantiles as ``q0.1``... columns."""
    with Warehouse(db, read_only=True) as wh:
        if not wh.has_table("forecasts"):
            raise NotReadyError("No forecasts stored yet: run `trendcast forecast` first.")
        if run_id is None:
            row = wh.con.execute("SELECT run_id FROM forecast_runs ORDER BY created_at DESC LIMIT 1").fetchone()
            if row is None:
                raise NotReadyError("No forecasts stored yet: run `trendcast forecast` first.")
            run_id = row[0]
        df = wh.con.execute("SELECT * FROM forecasts WHERE run_id = ? ORDER BY unique_id, date", [run_id]).df()
    if df.empty:
        raise NotReadyError(f"No forecasts stored for run {run_id}.")
    q = pd.DataFrame([json.loads(s) for s in df.pop("quantiles")], index=df.index)
    q.columns = [f"q{c}" for c in q.columns]
    df["date"] = pd.to_datetime(df["date"])
    return pd.concat([df, q], axis=1)


def backtest(
    db: str | Path,
    horizon: int = 28,
    windows: int = 2,
    step: int | None = None,
    models: Sequence[str] | None = None,
    quantiles: Sequence[float] | None = DEFAULT_QUANTILES,
    reconcile: str = "none",
    out: str | Path | None = None,
    forecasts_out: str | Path | None = None,
    model_params: dict[str, dict[str, object]] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, object]:
    """Rolling-origin backtest of ``models`` on the warehouse; metrics per model and level.

    Returns the JSON-ready metrics dict (also written to ``out``); the per-window forecasts go
    to ``forecasts_out`` when given.
    """
    panel = load_panel(db)
    hierarchy = build_hierarchy(static_frame(panel))
    models = list(models) if models else list(FAST_MODELS)
    params = {m: {**_params(m, horizon, "D", 7), **((model_params or {}).get(m, {}))} for m in models}
    start = time.perf_counter()
    result = bt.backtest(
        panel, models, horizon, windows, step, quantiles, hierarchy=hierarchy,
        reconcile_method=reconcile, model_params=params, on_step=on_step,
    )
    result.metrics["seconds"] = round(time.perf_counter() - start, 2)
    board = result.leaderboard().round(4)
    result.metrics["leaderboard"] = board.to_dict(orient="records")
    store_leaderboard(db, board, horizon, windows)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.metrics, indent=2, default=str))
    if forecasts_out is not None:
        write_frame(result.forecasts, forecasts_out)
    return result.metrics


def demo_step(db: Path, out: Path) -> dict[str, str]:
    """Backtest the fast models and LightGBM (2 windows x 28 days), forecast 28 days in auto mode, plot."""
    from trendcast.evaluate.plots import plot_forecasts
    from trendcast.evaluate.selection import AutoForecaster, select

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    h, qs = 28, [0.1, 0.5, 0.9]
    panel = load_panel(db)
    hierarchy = build_hierarchy(static_frame(panel))
    models = [*FAST_MODELS, "lightgbm"]
    result = bt.backtest(panel, models, h, 2, quantiles=qs, hierarchy=hierarchy)
    selection = select(result.forecasts, panel, 7)
    result.metrics["auto"] = selection.to_dict()
    board = result.leaderboard().round(4)
    result.metrics["leaderboard"] = board.to_dict(orient="records")
    store_leaderboard(db, board, h, 2)
    (out / "metrics.json").write_text(json.dumps(result.metrics, indent=2, default=str))
    auto = AutoForecaster(candidates=models, horizon=h, selection=selection)
    fc = forecast(db, h, model="auto", quantiles=qs, out=out / "forecast.csv",
                  model_params={"candidates": models, "selection": auto.selection})
    top = panel.groupby("item_id")[TARGET].sum().nlargest(3).index.tolist()
    plot = plot_forecasts(panel, fc, top, out / "forecast_plot.html")
    best = board.iloc[0]
    return {
        "backtest": f"{len(models)} models x 2 windows x {h} days on {panel[ID].nunique()} series",
        "best model (WRMSSE)": f"{best['model']} {best['wrmsse']:.3f} (MASE {best['mase']:.3f})",
        "auto mode": selection.explanation,
        "forecast": f"{len(fc)} rows, quantiles {', '.join(map(str, qs))}",
        "files": f"{out / 'forecast.csv'}, {out / 'metrics.json'}, {plot}",
    }
