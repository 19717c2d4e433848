"""Where decisions get their quantile forecasts from.

Decisions never forecast on their own terms: they read the newest forecast run the forecasting
service stored at the warehouse's frequency (:func:`trendcast.forecasting.latest_forecasts`), or
ask that service to fit a
registered model (:func:`trendcast.forecasting.fit_predict`), so a decision sees the frequency,
frames and covariates a ``trendcast forecast`` would. ``attrs['source']`` of the returned frame
says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from trendcast.errors import ConfigError, NotReadyError

DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9, 0.95)
FAST_MODELS = ("seasonal_naive", "auto_ets", "naive")


def quantile_columns(df: pd.DataFrame) -> dict[float, str]:
    """Map quantile level -> column for every ``q<level>`` column of a forecast frame."""
    out: dict[float, str] = {}
    for col in df.columns:
        if col.startswith("q"):
            try:
                level = float(col[1:])
            except ValueError:
                continue
            if 0 < level < 1:
                out[level] = col
    return dict(sorted(out.items()))


def fit_forecast(
    history: pd.DataFrame,
    h: int,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    model: str | None = None,
    season_length: int | None = None,
    freq: str | None = None,
    X_future: pd.DataFrame | None = None,
    model_params: dict[str, object] | None = None,
    db: str | Path | None = None,
) -> pd.DataFrame:
    """Fit ``model`` (default: the first fast registered model) through the forecasting service.

    With ``db`` the frames come from the warehouse (covariates fused as for ``forecast``);
    without it from ``history`` alone (``unique_id, ds, y[, covariates]``, e.g. a replay's
    past). Returns ``unique_id, ds, forecast, q...``; ``attrs['source']`` names the model.
    """
    from trendcast.features.frequency import check_freq
    from trendcast.features.frequency import season_length as season_of
    from trendcast.forecasting import Frames, build_frames, fit_predict, future_frame
    from trendcast.models import available_models

    names = available_models()
    if model is not None and model not in names:
        raise ConfigError(f"Unknown model '{model}'. Available: {', '.join(names) or 'none yet'}.")
    chosen = model or next(m for m in FAST_MODELS if m in names)
    if db is not None:
        frames = build_frames(db, h, freq=freq, panel=history)
    else:
        freq = check_freq(freq or history.attrs.get("freq", "D"))
        future = X_future if X_future is not None else future_frame(history, h, freq=freq)
        n = int(history.groupby("unique_id").size().max())
        frames = Frames(history, future, freq, h, season_of(freq, n))
    params = dict(model_params or {})
    if season_length is not None:
        params["season_length"] = season_length
    out, _ = fit_predict(frames, chosen, list(quantiles), params=params)
    out.attrs["source"] = f"model '{chosen}'"
    out.attrs["freq"] = frames.freq
    return out


RUNS_TRIED = 10  # newest runs at the warehouse's frequency looked at: older ones predate its sales


def _runs(db: str | Path) -> pd.DataFrame:
    """``run_id, created_at, model, freq`` of every stored forecast run, newest first (runs
    stored before frequencies existed were daily)."""
    from trendcast.data.warehouse import Warehouse

    with Warehouse(db, read_only=True) as wh:
        if not (wh.has_table("forecast_runs") and wh.has_table("forecasts")):
            return pd.DataFrame(columns=["run_id", "created_at", "model", "freq"])
        runs = wh.con.execute("SELECT run_id, created_at, model, freq FROM forecast_runs ORDER BY created_at DESC").df()
    runs["freq"] = runs["freq"].fillna("D")
    return runs


def _usable(df: pd.DataFrame, panel: pd.DataFrame, h: int) -> pd.DataFrame | None:
    """A stored run's rows for the panel's series after its last sale, or None unless every
    series has ``h`` periods there and an upper quantile (safety stock needs one)."""
    df = df.rename(columns={"date": "ds"})
    if not {"unique_id", "ds", "forecast"} <= set(df.columns):
        return None
    qcols = quantile_columns(df)
    if not any(q > 0.5 for q in qcols):
        return None
    df["ds"] = pd.to_datetime(df["ds"]).astype("datetime64[ns]")
    df = df[df["unique_id"].isin(panel["unique_id"].unique()) & (df["ds"] > panel["ds"].max())]
    cols = ["unique_id", "ds", "forecast", *qcols.values()]
    out = df[cols].drop_duplicates(["unique_id", "ds"]).sort_values(["unique_id", "ds"])
    size = out.groupby("unique_id").size()
    if len(size) < panel["unique_id"].nunique() or size.min() < h:
        return None
    return out.groupby("unique_id").head(h).reset_index(drop=True)


def stored_forecasts(db: str | Path, panel: pd.DataFrame, h: int = 1) -> tuple[pd.DataFrame | None, str]:
    """The newest stored forecast run usable for ``panel``, and why none was when None.

    Usable: made at the panel's frequency (a weekly run cannot feed a daily plan, and a newer
    run at another frequency must not hide an older one that fits) and covering ``h`` periods
    after the last sale for every series (a run made before newer sales were ingested keeps
    only its days after the last sale, so a stale run ends up too short).
    """
    from trendcast.features.frequency import describe, unit
    from trendcast.forecasting import latest_forecasts

    runs = _runs(db)
    if runs.empty:
        return None, "no forecast run stored"
    freq = panel.attrs.get("freq", "D")
    for run in runs[runs["freq"] == freq].head(RUNS_TRIED).itertuples():
        try:
            out = _usable(latest_forecasts(db, run.run_id), panel, h)
        except NotReadyError:
            continue
        if out is not None:
            out.attrs["source"] = f"stored forecast run of {pd.Timestamp(run.created_at):%Y-%m-%d %H:%M} (model '{run.model}')"
            out.attrs["run_id"] = run.run_id
            return out, ""
    return None, (f"no stored {describe(freq)} run covers the next {h} {unit(freq)}s of every series; "
                  f"the latest run is '{runs['model'].iloc[0]}', {describe(runs['freq'].iloc[0])}")


def get_forecasts(
    db: str | Path,
    panel: pd.DataFrame,
    h: int,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    model: str | None = None,
) -> pd.DataFrame:
    """The newest stored run that fits (:func:`stored_forecasts`) when no model was asked for,
    else a fresh fit of ``model`` (default: a fast registered model, as the CLI help and README
    promise). ``attrs['source']`` names the run, or the model fitted now and why no stored run
    was used, so a decision never switches models silently."""
    why = ""
    if model is None:
        stored, why = stored_forecasts(db, panel, h)
        if stored is not None:
            return stored
    out = fit_forecast(panel, h, quantiles, model=model, db=db)
    if why:
        out.attrs["source"] += f" fitted now ({why}; run `trendcast forecast` to store one)"
    return out
