"""The forecasting service: the one place that turns a warehouse into forecasts.

``forecast``, ``backtest``, ``update`` (:mod:`trendcast.engine.learn`), the decisions
(:mod:`trendcast.decide.forecasts`), the API jobs and the distributed engine all come here, so
they read the same panel at the same frequency, build the same training and future frames and
fit models the same way:

1. :func:`load_panel`: the sales panel at the warehouse's frequency (``--freq`` may ask for a
   coarser one); one row per series per period;
2. :func:`build_frames`: the future frame for the horizon (price and promo from a ``--future``
   plan, else the last price and no promotion), then every other source fused into covariates
   (:func:`trendcast.features.fusion.fuse`, ``--covariates``, ``--country``);
3. :func:`fit_predict`: fit a registered model and forecast, reconciled across the hierarchy;
4. the run is kept in the warehouse (``forecasts``, ``forecast_runs``: model, horizon in
   periods, frequency and the covariates used) for the report, the API and the decisions.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from trendcast.data.export import write_csv
from trendcast.data.periods import period_label
from trendcast.data.tables import ensure
from trendcast.data.validate import check_date_window
from trendcast.data.warehouse import Warehouse
from trendcast.errors import ConfigError, InputError, NotReadyError
from trendcast.evaluate import backtest as bt
from trendcast.evaluate.hierarchy import (
    RECONCILE_METHODS,
    Hierarchy,
    aggregate_panel,
    bottom_up_levels,
    build_hierarchy,
    static_frame,
)
from trendcast.features.frequency import check_freq, default_horizon, season_length, unit
from trendcast.features.fusion import Covariate, describe, fuse
from trendcast.frame import FORECAST, ID, TARGET, TIME, check_quantiles, quantile_column
from trendcast.models.base import Forecaster

DEFAULT_QUANTILES = (0.1, 0.5, 0.9)
FAST_MODELS = ("seasonal_naive", "moving_average", "croston")
FUTURE_KNOWN = bt.DEFAULT_FUTURE_KNOWN  # price and promo: a shop knows its own plans
STATIC = bt.STATIC_COLUMNS
# the pretrained models (zero-shot and fine-tuned), whose past-only slots take the leading signals
PRETRAINED = ("patchtst_pretrained", "patchtst_finetuned")


# -- panel and frames ------------------------------------------------------------------------
def load_panel(db: str | Path | Warehouse, freq: str | None = None) -> pd.DataFrame:
    """The sales panel at ``freq`` (default: the warehouse's own); ``attrs['freq']`` says which.

    ``NotReadyError`` when nothing is ingested; ``ConfigError`` when ``freq`` is finer than the
    sales (weekly sales cannot be split into days).
    """
    if isinstance(db, Warehouse):
        return db.sales_panel(freq)
    with Warehouse(db, read_only=True) as wh:
        return wh.sales_panel(freq)


def read_future_plan(path: str | Path) -> pd.DataFrame:
    """A future-plan CSV/Parquet with ``item_id, [store_id,] date, [price], [promo]``."""
    path = Path(path)
    plan = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    for col in ("item_id", "date"):
        if col not in plan.columns:
            raise InputError("the future plan needs item_id and date columns", file=str(path), column=col)
    check_date_window(plan["date"], str(path), "date")
    plan["date"] = pd.to_datetime(plan["date"], errors="coerce")
    bad = plan["date"].isna()
    if bad.any():
        raise InputError("date is not a valid YYYY-MM-DD date", file=str(path), row=int(bad.idxmax()) + 1, column="date")
    return plan


def future_frame(
    panel: pd.DataFrame, h: int, plan: pd.DataFrame | None = None, freq: str | None = None
) -> pd.DataFrame:
    """``unique_id, ds, [price], [promo]`` for the next ``h`` periods of every series.

    Without a plan, promo is 0 and price stays at its last known value; a plan overrides both
    where it has a row (other periods keep the defaults). Plan dates are read at the panel's
    frequency: a daily plan for a weekly shop counts for the week each day falls in (mean
    price, promotion if any day has one).
    """
    freq = check_freq(freq or panel.attrs.get("freq", "D"))
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
        p[TIME] = period_label(p[TIME], freq)
        if "store_id" not in p.columns:
            p["store_id"] = None
        p["store_id"] = p["store_id"].fillna("").astype(str)
        p = p.merge(keys, on=["item_id", "store_id"], how="inner")
        agg = {c: ("mean" if c == "price" else "max") for c in ("price", "promo") if c in p.columns}
        p = p.groupby([ID, TIME], as_index=False).agg(agg) if agg else p
        for col in ("price", "promo"):
            if col in p.columns and col in grid.columns:
                upd = p.set_index([ID, TIME])[col]
                idx = pd.MultiIndex.from_frame(grid[[ID, TIME]])
                new = upd.reindex(idx).to_numpy()
                grid[col] = pd.Series(new, index=grid.index).fillna(grid[col])
        if "promo" in grid.columns:
            grid["promo"] = grid["promo"].astype(int)
    if "price" in grid.columns:  # a series that never had a price: 0 marks "unknown", as in training
        grid["price"] = grid["price"].fillna(0.0)
    return grid


def _tidy_covariates(panel: pd.DataFrame) -> pd.DataFrame:
    """Optional columns the shop never gave are dropped; a missing price becomes 0 ("unknown").

    A promo column without a single promotion is dropped too (the panel fills it with 0).

    A sales file without prices must forecast exactly like a frame of ``unique_id, ds, y``, so
    an all-empty price column is removed instead of reaching the models as NaN.
    """
    out = panel
    if "promo" in out.columns and not out["promo"].fillna(0).astype(bool).any():
        out = out.drop(columns="promo")  # never on promotion: nothing to learn, nothing to plan
    if "price" in out.columns:
        if out["price"].isna().all():
            out = out.drop(columns="price")
        else:
            out = out.assign(price=out["price"].fillna(0.0).astype(float))
    out.attrs = dict(panel.attrs)
    return out


def training_frames(panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model frame (``unique_id, ds, y`` and numeric covariates) and the static frame."""
    df = bt.model_frame(_tidy_covariates(panel))
    static = panel[[ID, *[c for c in STATIC if c in panel.columns]]].drop_duplicates(ID)
    return df.reset_index(drop=True), static.reset_index(drop=True)


@dataclass
class Frames:
    """What one fit needs, built once by :func:`build_frames`."""

    panel: pd.DataFrame  # unique_id, ds, y, item_id, store_id, category, covariates
    future: pd.DataFrame  # unique_id, ds and the future-known covariates for the horizon
    freq: str
    horizon: int
    season_length: int
    covariates: list[Covariate] = field(default_factory=list)

    @property
    def future_known(self) -> list[str]:
        """Covariates with values for the horizon: price, promo, and every fused covariate.

        :func:`~trendcast.features.fusion.fuse` already shifts past-only signals (text,
        behaviour, external drivers without future values) so that each horizon value is known
        at forecast time; the models must take them as given, not lag them a second time.
        """
        known = [c for c in FUTURE_KNOWN if c in self.panel.columns]
        return known + [c.name for c in self.covariates if c.name not in known]

    def train(self) -> pd.DataFrame:
        return training_frames(self.panel)[0]

    def static(self) -> pd.DataFrame:
        return training_frames(self.panel)[1]

    def x_future(self) -> pd.DataFrame:
        """``X_future`` for the models: ids, dates and the future-known columns only."""
        cols = [c for c in self.future_known if c in self.future.columns]
        return self.future[[ID, TIME, *cols]].reset_index(drop=True)

    @property
    def leading(self) -> list[str]:
        """The fused signals that lead sales (text, behaviour, external drivers without future
        values, each shifted by the horizon), as opposed to the drivers known ahead."""
        return [c.name for c in self.covariates if not c.future_known]

    def params(self, model: str) -> dict[str, object]:
        """Constructor arguments every model gets: season, frequency (and auto's horizon); the
        pretrained model's past-only slots choose among the leading signals only."""
        params: dict[str, object] = {"season_length": self.season_length, "freq": self.freq}
        pretrained = {"past_candidates": self.leading}
        if model in PRETRAINED:
            params.update(pretrained)
        if model == "auto":  # its own backtests must see the fused covariates as the final fit does
            params.update(horizon=self.horizon, future_known=self.future_known,
                          model_params=dict.fromkeys(PRETRAINED, pretrained))
        return params

    def covariate_record(self) -> list[dict[str, object]]:
        """The covariates used, as stored with the run and printed in the explanation."""
        return [{"name": c.name, "label": c.label, "source": c.source, "future_known": c.future_known}
                for c in self.covariates]


def build_frames(
    db: str | Path | Warehouse,
    horizon: int | None = None,
    *,
    freq: str | None = None,
    future: str | Path | pd.DataFrame | None = None,
    covariates: str | Sequence[str] = "auto",
    country: str | None = None,
    panel: pd.DataFrame | None = None,
) -> Frames:
    """Panel, future frame and covariates for a forecast of ``horizon`` periods.

    ``horizon`` defaults to 28 days / 13 weeks / 6 months; ``freq`` to the warehouse's own;
    ``future`` is a plan of prices and promotions; ``covariates`` and ``country`` go to
    :func:`~trendcast.features.fusion.fuse`. ``panel`` reuses a panel already read.
    """
    own = not isinstance(db, Warehouse)
    wh = Warehouse(db, read_only=True) if own else db
    try:
        panel = wh.sales_panel(freq) if panel is None else panel
        freq = check_freq(freq or panel.attrs.get("freq") or wh.frequency())
        h = default_horizon(freq) if horizon is None else int(horizon)
        if h < 1:
            raise ConfigError(f"Horizon must be at least 1 {unit(freq)}; got {h}.")
        plan = read_future_plan(future) if isinstance(future, str | Path) else future
        panel = _tidy_covariates(panel)
        panel.attrs["freq"] = freq
        xf = future_frame(panel, h, plan, freq)
        fused = fuse(wh, panel, xf, freq, h, covariates=covariates, country=country)
    finally:
        if own:
            wh.close()
    fused_panel = fused.panel
    fused_panel.attrs["freq"] = freq
    n_periods = int(fused_panel.groupby(ID).size().max())
    return Frames(fused_panel, fused.future, freq, h, season_length(freq, n_periods), list(fused.used))


def fit_predict(
    frames: Frames,
    model: str | Forecaster,
    quantiles: Sequence[float] | None = DEFAULT_QUANTILES,
    *,
    hierarchy: Hierarchy | None = None,
    reconcile: str = "none",
    params: dict[str, object] | None = None,
) -> tuple[pd.DataFrame, Forecaster]:
    """Fit ``model`` on the frames' history and forecast their horizon (reconciled with
    ``mint`` when asked); returns the forecasts and the fitted model."""
    name = model if isinstance(model, str) else bt.model_name(model)
    full = {**frames.params(name), **(params or {})} if isinstance(model, str) else None
    xf = frames.x_future()
    return bt.fit_predict(
        model, frames.panel, frames.horizon, xf if len(xf.columns) > 2 else None,
        check_quantiles(quantiles),
        hierarchy=hierarchy, reconcile_method=reconcile, future_known=frames.future_known,
        params=full,
    )


def _with_keys(fc: pd.DataFrame, panel: pd.DataFrame, hierarchy: Hierarchy) -> pd.DataFrame:
    """Attach item_id/store_id/level and rename ``ds`` to ``date`` for people."""
    keys = panel[[ID, "item_id", "store_id"]].drop_duplicates(ID)
    level_of = hierarchy.level_of()
    out = fc.merge(keys, on=ID, how="left")
    out.insert(0, "level", out[ID].map(level_of).fillna(hierarchy.bottom))
    return out.rename(columns={TIME: "date"})


def forecast(
    db: str | Path,
    horizon: int | None = None,
    model: str = "auto",
    quantiles: Sequence[float] | None = DEFAULT_QUANTILES,
    reconcile: str = "auto",
    out: str | Path | None = None,
    future: str | Path | pd.DataFrame | None = None,
    levels: bool = False,
    model_params: dict[str, object] | None = None,
    store: bool = True,
    on_step: Callable[[str], None] | None = None,
    engine: str = "local",
    freq: str | None = None,
    covariates: str | Sequence[str] = "auto",
    country: str | None = None,
) -> pd.DataFrame:
    """Forecast every series of the warehouse ``horizon`` periods ahead.

    Returns (and writes to ``out``, CSV or Parquet by extension) ``item_id, store_id, date,
    forecast, q0.1, ...`` for the bottom series, dated at the warehouse's frequency (or
    ``freq``); with ``levels`` also every aggregated series (``level``/``unique_id`` say
    which). ``horizon`` counts periods (default 28 days / 13 weeks / 6 months).
    ``reconcile``: ``auto`` (auto mode chooses bottom-up or MinT by backtest; other models
    use bottom-up), ``bottom_up`` (aggregates are sums of the bottom), ``mint`` (MinTrace over
    all levels; bottom forecasts change too) or ``none``. ``covariates``: ``auto``, ``none`` or
    names (see :func:`~trendcast.features.fusion.fuse`); ``country`` picks the holidays.
    ``engine``: ``local``, or ``dask``/``spark``/``ray`` to fit statistical models and LightGBM
    on a cluster through Fugue (:mod:`trendcast.engine`; target history only, no future plan).
    """
    if reconcile not in ("auto", *RECONCILE_METHODS):
        raise ConfigError(f"--reconcile must be auto or one of {', '.join(RECONCILE_METHODS)}; got '{reconcile}'.")
    qs = check_quantiles(quantiles)
    if model == "auto" and engine == "local" and reconcile in ("auto", "mint"):
        # auto mode reconciles itself (MinT chosen by backtest, or as asked): its bottom forecasts
        # come back coherent, so the levels are their sums
        model_params = {**(model_params or {}), "reconcile": reconcile}
        reconcile = "bottom_up"
    elif reconcile == "auto":
        reconcile = "bottom_up"
    started = time.perf_counter()
    say = on_step or (lambda _: None)
    say("reading the warehouse")
    frames = build_frames(db, horizon, freq=freq, future=future, covariates=covariates, country=country)
    panel, h = frames.panel, frames.horizon
    hierarchy = build_hierarchy(static_frame(panel))
    if model == "auto" and engine == "local":  # auto's time budget caps the whole forecast
        model_params = {**(model_params or {}), "time_spent": time.perf_counter() - started}
    params = {**frames.params(model), **(model_params or {})}
    say(f"fitting {model}" + ("" if engine == "local" else f" on {engine}"))
    if engine != "local":
        from trendcast.engine import run_forecast

        if reconcile == "mint" or future is not None:
            raise ConfigError(
                f"The {engine} engine runs univariate forecasts only: use --reconcile bottom_up or "
                "none and no --future plan, or --engine local."
            )
        fc, fitted = run_forecast(panel, model, h, engine=engine, quantiles=qs,
                                  season_length=frames.season_length, freq=frames.freq), None
        if levels and reconcile == "bottom_up":
            agg = bottom_up_levels(fc, panel, hierarchy, frames.season_length)
            fc = pd.concat([agg[~agg[ID].isin(fc[ID])], fc], ignore_index=True)
    elif reconcile == "mint":
        fc, fitted = fit_predict(frames, model, qs, hierarchy=hierarchy, reconcile="mint",
                                 params=model_params)
    else:
        fc, fitted = fit_predict(frames, model, qs, params=model_params)
        if levels and reconcile == "bottom_up":
            agg = bottom_up_levels(fc, panel, hierarchy, frames.season_length)
            fc = pd.concat([agg[~agg[ID].isin(fc[ID])], fc], ignore_index=True)
        elif levels:  # base forecasts of every level, not reconciled
            known = [c for c in frames.future_known if c in panel.columns]
            upper = aggregate_panel(panel, hierarchy, known)
            upper = upper[~upper[ID].isin(fc[ID])]
            xf = frames.x_future()
            xu = aggregate_panel(xf.assign(**{TARGET: 0.0}), hierarchy, known).drop(columns=TARGET)
            m = bt.new_model(model, **params).fit(upper)
            fc = pd.concat([m.predict(h, xu[xu[ID].isin(upper[ID])], qs), fc], ignore_index=True)
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
    weights = (model_params or {}).get("weights")  # the run record says which fine-tuned weights made it
    explanation = "\n".join(filter(None, [f"weights: {weights}" if weights else "", explanation,
                                           describe(frames.covariates)]))
    result.attrs.update(explanation=explanation, freq=frames.freq, horizon=h,
                        covariates=frames.covariate_record())
    if out is not None:
        say("writing the output")
        write_frame(result, out)
    chosen = getattr(fitted, "reconcile_", None)  # auto mode's own choice
    reconcile = chosen.method if chosen is not None else reconcile
    result.attrs["reconcile"] = reconcile
    if store:
        result.attrs["run_id"] = store_forecasts(
            db, fc, panel, hierarchy, model, h, qs, reconcile, explanation,
            freq=frames.freq, covariates=frames.covariate_record(),
        )
    return result


def write_frame(df: pd.DataFrame, out: str | Path) -> Path:
    """CSV or Parquet by extension (``.parquet``/``.pq``; anything else is CSV)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix in (".parquet", ".pq"):
        df.to_parquet(out, index=False)
    else:
        write_csv(df, out, date_format="%Y-%m-%d")
    return out


def store_forecasts(
    db: str | Path, fc: pd.DataFrame, panel: pd.DataFrame, hierarchy: Hierarchy, model: str,
    horizon: int, quantiles: list[float], reconcile: str, explanation: str = "",
    freq: str = "D", covariates: list[dict[str, object]] | None = None,
) -> str:
    """Append one run to ``forecasts``/``forecast_runs`` (with its frequency and the
    covariates used); returns the run id."""
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
        ensure(wh.con, "forecasts")
        ensure(wh.con, "forecast_runs")
        with wh.transaction() as con:
            con.register("frame", table)
            con.execute("INSERT INTO forecasts BY NAME SELECT * FROM frame")
            con.unregister("frame")
            con.execute(
                "INSERT INTO forecast_runs (run_id, created_at, model, horizon, quantiles, reconcile, "
                "explanation, freq, covariates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, now, model, horizon, json.dumps(quantiles), reconcile, explanation, freq,
                 json.dumps(covariates or [])],
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
        run = wh.con.execute("SELECT * FROM forecast_runs WHERE run_id = ?", [run_id]).df()
        freq = wh.frequency()
    if df.empty:
        raise NotReadyError(f"No forecasts stored for run {run_id}.")
    q = pd.DataFrame([json.loads(s) for s in df.pop("quantiles")], index=df.index)
    q.columns = [f"q{c}" for c in q.columns]
    df["date"] = pd.to_datetime(df["date"])
    out = pd.concat([df, q], axis=1)
    if len(run) and "freq" in run.columns and isinstance(run["freq"].iloc[0], str):
        freq = run["freq"].iloc[0]  # runs stored before frequencies existed were daily
    out.attrs.update(run_id=run_id, freq=freq)
    return out


def backtest(
    db: str | Path,
    horizon: int | None = None,
    windows: int = 2,
    step: int | None = None,
    models: Sequence[str] | None = None,
    quantiles: Sequence[float] | None = DEFAULT_QUANTILES,
    reconcile: str = "none",
    out: str | Path | None = None,
    forecasts_out: str | Path | None = None,
    model_params: dict[str, dict[str, object]] | None = None,
    on_step: Callable[[str], None] | None = None,
    freq: str | None = None,
    covariates: str | Sequence[str] = "auto",
    country: str | None = None,
) -> dict[str, object]:
    """Rolling-origin backtest of ``models`` on the warehouse; metrics per model and level.

    ``horizon`` and ``step`` count periods of the warehouse's frequency (or ``freq``); the
    models see the same frames and covariates as :func:`forecast`. Returns the JSON-ready
    metrics dict (also written to ``out``); the per-window forecasts go to ``forecasts_out``.
    """
    frames = build_frames(db, horizon, freq=freq, covariates=covariates, country=country)
    hierarchy = build_hierarchy(static_frame(frames.panel))
    models = list(models) if models else list(FAST_MODELS)
    params = {m: {**frames.params(m), **((model_params or {}).get(m, {}))} for m in models}
    start = time.perf_counter()
    result = bt.backtest(
        frames.panel, models, frames.horizon, windows, step, quantiles,
        season_length=frames.season_length, freq=frames.freq, future_known=frames.future_known,
        hierarchy=hierarchy, reconcile_method=reconcile, model_params=params, on_step=on_step,
    )
    result.metrics["seconds"] = round(time.perf_counter() - start, 2)
    result.metrics["config"]["covariates"] = frames.covariate_record()
    board = result.leaderboard().round(4)
    result.metrics["leaderboard"] = board.to_dict(orient="records")
    store_leaderboard(db, board, frames.horizon, windows)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.metrics, indent=2, default=str))
    if forecasts_out is not None:
        write_frame(result.forecasts, forecasts_out)
    return result.metrics


def demo_step(db: Path, out: Path) -> dict[str, str]:
    """Backtest the fast models and LightGBM (2 windows of the default horizon), forecast in
    auto mode, plot."""
    from trendcast.evaluate.plots import plot_forecasts
    from trendcast.evaluate.selection import AutoForecaster, select

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    qs = [0.1, 0.5, 0.9]
    frames = build_frames(db)
    panel, h = frames.panel, frames.horizon
    hierarchy = build_hierarchy(static_frame(panel))
    models = [*FAST_MODELS, "lightgbm"]
    result = bt.backtest(panel, models, h, 2, quantiles=qs, hierarchy=hierarchy,
                         season_length=frames.season_length, freq=frames.freq,
                         future_known=frames.future_known,
                         model_params={m: frames.params(m) for m in models})
    selection = select(result.forecasts, panel, frames.season_length)
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
        "backtest": f"{len(models)} models x 2 windows x {h} {unit(frames.freq)}s on {panel[ID].nunique()} series",
        "best model (WRMSSE)": f"{best['model']} {best['wrmsse']:.3f} (MASE {best['mase']:.3f})",
        "auto mode": selection.explanation,
        "forecast": f"{len(fc)} rows, quantiles {', '.join(map(str, qs))}",
        "files": f"{out / 'forecast.csv'}, {out / 'metrics.json'}, {plot}",
    }
