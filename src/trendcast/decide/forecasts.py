"""Where decisions get their quantile forecasts from.

Decisions never forecast on their own terms: they read the latest forecast run the forecasting
service stored (:func:`trendcast.forecasting.latest_forecasts`), or ask that service to fit a
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
    """Stored forecasts when they cover ``h`` periods for every series (and no model was asked
    for), else a fresh fit of ``model`` (default: a fast registered model)."""
    if model is None:
        stored = stored_forecasts(db, panel)
        if stored is not None:
            days = stored.groupby("unique_id").size()
            if len(days) == panel["unique_id"].nunique() and days.min() >= h:
                out = stored.groupby("unique_id").head(h).reset_index(drop=True)
                out.attrs["source"] = stored.attrs["source"]
                return out
    return fit_forecast(panel, h, quantiles, model=model, db=db)
