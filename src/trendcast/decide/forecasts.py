"""Where decisions get their quantile forecasts from.

Decisions never forecast on their own terms: they read the latest forecast run the evaluate
stage stored (:func:`trendcast.forecasting.latest_forecasts`), or fit a registered model
(:func:`trendcast.models.make_model`). Only when the
model registry has no usable model yet (a fresh checkout), they fall back to statsforecast's
seasonal naive with its own prediction intervals, and say so in the returned frame's
``attrs['source']``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError, NotReadyError
from trendcast.models.base import quantile_column

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
    season_length: int = 7,
    freq: str = "D",
    X_future: pd.DataFrame | None = None,
    model_params: dict[str, object] | None = None,
) -> pd.DataFrame:
    """Fit ``model`` (default: the first fast registered model) on ``unique_id, ds, y[, covariates]``.

    Returns ``unique_id, ds, forecast, q...``; ``attrs['source']`` names what produced it.
    """
    from trendcast.models import available_models, make_model

    names = available_models()
    chosen = model or next((m for m in FAST_MODELS if m in names), None)
    if model is not None and model not in names:
        raise ConfigError(f"Unknown model '{model}'. Available: {', '.join(names) or 'none yet'}.")
    if chosen is None:
        out = _statsforecast_seasonal_naive(history[["unique_id", "ds", "y"]], h, quantiles, season_length, freq)
        out.attrs["source"] = "statsforecast SeasonalNaive (no registered model available)"
        return out
    fc = make_model(chosen, season_length=season_length, freq=freq, **(model_params or {}))
    cols = ["unique_id", "ds", "y"]
    if X_future is not None:
        cols += [c for c in X_future.columns if c in history.columns and c not in cols]
    fc.fit(history[cols])
    out = fc.predict(h, X_future=X_future, quantiles=list(quantiles))
    out.attrs["source"] = f"model '{chosen}'"
    return out


def _statsforecast_seasonal_naive(
    history: pd.DataFrame, h: int, quantiles: Sequence[float], season_length: int, freq: str
) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    def level(q: float) -> int | float:
        lvl = round(abs(2 * q - 1) * 100, 6)
        return int(lvl) if lvl == int(lvl) else lvl

    levels = sorted({level(q) for q in quantiles if q != 0.5})
    sf = StatsForecast(models=[SeasonalNaive(season_length=season_length)], freq=freq, n_jobs=1)
    raw = sf.forecast(df=history, h=h, level=levels or None)
    out = raw.rename(columns={"SeasonalNaive": "forecast"})
    for q in quantiles:
        col = quantile_column(q)
        if q == 0.5:
            out[col] = out["forecast"]
            continue
        side = "hi" if q > 0.5 else "lo"
        out[col] = out[f"SeasonalNaive-{side}-{level(q)}"]
    keep = ["unique_id", "ds", "forecast", *[quantile_column(q) for q in quantiles]]
    out = out.reset_index()[keep] if "unique_id" not in out.columns else out[keep]
    num = keep[2:]
    out[num] = np.clip(out[num].to_numpy(dtype=float), 0.0, None)
    out[num[1:]] = np.sort(out[num[1:]].to_numpy(), axis=1)
    return out


def stored_forecasts(db: str | Path, panel: pd.DataFrame) -> pd.DataFrame | None:
    """The latest stored forecast run (:func:`trendcast.forecasting.latest_forecasts`) for the
    panel's series and the days after its last sale, or None when there is none usable.

    A run made before newer sales were ingested only keeps its days after the last sale, so a
    stale run ends up too short and :func:`get_forecasts` refits instead.
    """
    from trendcast.forecasting import latest_forecasts

    try:
        df = latest_forecasts(db)
    except NotReadyError:
        return None
    df = df.rename(columns={"date": "ds"})
    if not {"unique_id", "ds", "forecast"} <= set(df.columns):
        return None
    qcols = quantile_columns(df)
    if not any(q > 0.5 for q in qcols):  # safety stock needs an upper quantile
        return None
    df["ds"] = pd.to_datetime(df["ds"]).astype("datetime64[ns]")
    df = df[df["unique_id"].isin(panel["unique_id"].unique()) & (df["ds"] > panel["ds"].max())]
    if df.empty:
        return None
    model = str(df["model"].iloc[0]) if "model" in df.columns else "?"
    cols = ["unique_id", "ds", "forecast", *qcols.values()]
    out = df[cols].drop_duplicates(["unique_id", "ds"]).sort_values(["unique_id", "ds"])
    out = out.reset_index(drop=True)
    out.attrs["source"] = f"stored forecast run (model '{model}')"
    return out


def get_forecasts(
    db: str | Path,
    panel: pd.DataFrame,
    h: int,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    model: str | None = None,
) -> pd.DataFrame:
    """Stored forecasts when they cover ``h`` days for every series (and no model was asked
    for), else a fresh fit of ``model`` (default: a fast registered model)."""
    if model is None:
        stored = stored_forecasts(db, panel)
        if stored is not None:
            days = stored.groupby("unique_id").size()
            if len(days) == panel["unique_id"].nunique() and days.min() >= h:
                out = stored.groupby("unique_id").head(h).reset_index(drop=True)
                out.attrs["source"] = stored.attrs["source"]
                return out
    return fit_forecast(panel, h, quantiles, model=model)
