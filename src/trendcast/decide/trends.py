"""Rising and falling items and categories: forecast level against the recent level.

``change = mean forecast over the next `horizon` periods / mean sales over the last `horizon`
periods - 1`` at the data's frequency (default 28 days, 13 weeks or 6 months, so both sides
span the same time); above ``rise`` is *rising*, below ``fall`` is *falling*. Columns are named
by the period (``recent_per_day``, ``forecast_per_week``, ...). An item launched inside the
recent window is averaged over the periods since its first sale, not the whole window. Items
too slow to call (under ``min_recent_units`` a day) keep their numbers with the label
``low volume``. Evidence from the text stage is attached when its tables exist: sentiment
change (last 28 days vs the 28 before, weighted by text counts) and social-post volume change
from ``signals_item_daily`` / ``signals_category_daily``; :func:`emerging_terms` lists the
text stage's bursting terms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.data.warehouse import Warehouse
from trendcast.errors import ConfigError
from trendcast.features.frequency import (
    DAYS_PER_PERIOD,
    default_horizon,
    kind,
    recent_days,
    recent_periods,
    unit,
)

LOW_VOLUME = "low volume"


def classify(change: pd.Series, rise: float = 0.10, fall: float = -0.10) -> pd.Series:
    """Label each change as rising / falling / stable."""
    if fall >= rise:
        raise ConfigError(f"The falling threshold ({fall}) must be below the rising one ({rise}).")
    return pd.Series(np.select([change > rise, change < fall], ["rising", "falling"], "stable"), index=change.index)


def rate_columns(freq: str) -> tuple[str, str]:
    """``(recent, forecast)`` column names for the data's period, e.g. ``recent_per_week``."""
    u = unit(freq)
    return f"recent_per_{u}", f"forecast_per_{u}"


def recent_rates(panel: pd.DataFrame, periods: int) -> pd.Series:
    """Mean units per period over the last ``periods`` periods, per series, counting only the
    periods since the series' first row: a product launched 20 days ago sold its units in 20
    days, and dividing by the whole window would make every launch look like it is rising."""
    dates = np.sort(panel["ds"].unique())[-periods:]
    first = panel.groupby("unique_id")["ds"].min()
    alive = len(dates) - np.searchsorted(dates, first.to_numpy(dtype=dates.dtype), side="left")
    units = panel[panel["ds"] >= dates[0]].groupby("unique_id")["y"].sum().reindex(first.index, fill_value=0.0)
    return units / np.maximum(alive, 1)


def trend_table(
    panel: pd.DataFrame,
    forecast: pd.DataFrame,
    level: str = "item",
    horizon: int | None = None,
    rise: float = 0.10,
    fall: float = -0.10,
    min_recent_units: float = 1.0,
    freq: str | None = None,
) -> pd.DataFrame:
    """One row per item or category: recent and forecast units per period, change and label.

    ``freq`` defaults to ``panel.attrs['freq']`` (else daily) and ``horizon`` to its default
    (28 days, 13 weeks, 6 months); the last ``horizon`` periods are compared with the next
    ``horizon``. Series are summed over stores first. Rows selling under ``min_recent_units``
    a *day* are labelled ``low volume`` (a change from 0.1 to 0.2 units is noise, not a trend).
    ``attrs``: ``window`` (what the numbers are) and ``note`` (how many rows are low volume).
    """
    if level not in ("item", "category"):
        raise ConfigError(f"Trend level must be 'item' or 'category'; got '{level}'.")
    freq = freq or panel.attrs.get("freq", "D")
    horizon = horizon or default_horizon(freq)
    if horizon < 1:
        raise ConfigError(f"The trend horizon must be at least 1 period; got {horizon}.")
    recent_col, forecast_col = rate_columns(freq)
    keys = panel.groupby("unique_id")[["item_id", "category"]].first()
    fc = forecast.sort_values(["unique_id", "ds"]).groupby("unique_id").head(horizon)
    fut = fc.groupby("unique_id")["forecast"].mean()
    frame = keys.join(recent_rates(panel, horizon).rename(recent_col)).join(fut.rename(forecast_col)).dropna()
    key = "item_id" if level == "item" else "category"
    agg = frame.groupby(key)[[recent_col, forecast_col]].sum()
    agg["change_pct"] = 100 * (agg[forecast_col] / agg[recent_col].where(agg[recent_col] > 0) - 1)
    agg["trend"] = classify(agg["change_pct"].fillna(0.0) / 100, rise, fall)
    low = agg[recent_col] < min_recent_units * DAYS_PER_PERIOD[kind(freq)]
    agg.loc[low, "trend"] = LOW_VOLUME
    agg = agg.round({recent_col: 3, forecast_col: 3, "change_pct": 1})
    if level == "item":
        agg = agg.join(frame.groupby("item_id")["category"].first())
    out = agg.assign(_low=low).sort_values(["_low", "change_pct"], ascending=[True, False]).drop(columns="_low")
    out = out.reset_index()
    u = unit(freq)
    out.attrs["window"] = f"units per {u}: the last {horizon} {u}s against the forecast for the next {horizon}"
    per = "a day" if u == "day" else f"a day ({min_recent_units * DAYS_PER_PERIOD[kind(freq)]:.3g} a {u})"
    out.attrs["note"] = (f"{int(low.sum())} of {len(out)} {'items' if level == 'item' else 'categories'} sell under "
                         f"{min_recent_units:g} unit {per}: too little volume to call a trend, "
                         f"labelled '{LOW_VOLUME}'.") if low.any() else ""
    return out


def _sentiment_column(df: pd.DataFrame) -> str | None:
    for name in ("sent_mean", "sentiment_mean", "sentiment", "sentiment_score", "mean_sentiment"):
        if name in df.columns:
            return name
    cand = [c for c in df.columns if "sent" in c.lower() and pd.api.types.is_numeric_dtype(df[c]) and not c.endswith("d")]
    return cand[0] if cand else None


def window_mean(sig: pd.DataFrame, key: str, col: str, start: pd.Timestamp, end: pd.Timestamp, min_texts: int = 3) -> pd.Series:
    """Per-key mean of ``col`` over ``start < date <= end``, weighted by ``n_texts`` when present
    (days without texts carry 0 in the signal tables and must not dilute the mean)."""
    part = sig[(sig["date"] > start) & (sig["date"] <= end)]
    if "n_texts" not in part.columns:
        return part.groupby(key)[col].mean()
    g = part.assign(w=part[col] * part["n_texts"]).groupby(key)[["w", "n_texts"]].sum()
    g = g[g["n_texts"] >= min_texts]
    return g["w"] / g["n_texts"]


def signal_table(wh: Warehouse, level: str) -> tuple[pd.DataFrame, str] | None:
    table, key = ("signals_item_daily", "item_id") if level == "item" else ("signals_category_daily", "category")
    if not wh.has_table(table):
        return None
    sig = wh.table(table)
    if key not in sig.columns or "date" not in sig.columns:
        return None
    sig["date"] = pd.to_datetime(sig["date"])
    return sig, key


def sentiment_change(wh: Warehouse, level: str = "item", days: int | None = None, freq: str = "D") -> pd.DataFrame | None:
    """Mean sentiment (-1..1) over the last ``days`` minus the ``days`` before, plus the change
    in social-post volume, from the text stage's daily signal tables; None when absent.

    ``days`` defaults to the recent window of the data's frequency (28 days, 8 weeks, 3 months):
    a weekly or monthly shop usually has too few texts in 28 days to compare."""
    days = days or recent_days(freq)
    found = signal_table(wh, level)
    if found is None:
        return None
    sig, key = found
    col = _sentiment_column(sig)
    if col is None:
        return None
    end = sig["date"].max()
    now = window_mean(sig, key, col, end - pd.Timedelta(days=days), end)
    before = window_mean(sig, key, col, end - pd.Timedelta(days=2 * days), end - pd.Timedelta(days=days))
    out = (now - before).rename("sentiment_change").round(3).to_frame()
    if "n_social" in sig.columns:
        recent = sig[sig["date"] > end - pd.Timedelta(days=days)].groupby(key)["n_social"].sum()
        prior = sig[(sig["date"] <= end - pd.Timedelta(days=days)) & (sig["date"] > end - pd.Timedelta(days=2 * days))].groupby(key)["n_social"].sum()
        out = out.join((100 * (recent / prior.where(prior > 0) - 1)).round(1).rename("social_posts_change_pct"), how="outer")
    return out.reset_index()


def emerging_terms(db: object, days: int = 28, top: int = 10) -> list[str]:
    """Top bursting terms of the last ``days`` from the text stage (empty when unavailable)."""
    try:
        from trendcast.text.hotspots import hotspots

        with Warehouse(db, read_only=True) as wh:  # type: ignore[arg-type]
            last = wh.con.execute("SELECT max(date) FROM texts").fetchone()[0]
        if last is None:
            return []
        hot = hotspots(db, since=str(pd.Timestamp(last) - pd.Timedelta(days=days)), top=top)  # type: ignore[arg-type]
        return [str(t) for t in hot["term"]]
    except Exception:  # noqa: BLE001 - evidence is optional; trends stand without it
        return []


def trends_with_evidence(wh: Warehouse, panel: pd.DataFrame, forecast: pd.DataFrame, level: str = "item", **kwargs: float) -> pd.DataFrame:
    """:func:`trend_table` plus the text evidence available in the warehouse."""
    out = trend_table(panel, forecast, level=level, **kwargs)
    freq = panel.attrs.get("freq", "D")
    sent = sentiment_change(wh, level, freq=freq)
    key = "item_id" if level == "item" else "category"
    if sent is not None:
        attrs = dict(out.attrs)
        out = out.merge(sent, on=key, how="left")
        out.attrs.update(attrs)
    n = recent_periods(freq)
    out.attrs["evidence"] = (f"text signals (sentiment_change: the last {n} {unit(freq)}s against the {n} before)"
                             if sent is not None else "none (no text signals in the warehouse)")
    return out
