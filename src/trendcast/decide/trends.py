"""Rising and falling items and categories: forecast level against the recent level.

``change = mean daily forecast over the next `horizon` days / mean daily sales over the last
`recent_days` - 1``; above ``rise`` is *rising*, below ``fall`` is *falling*. Evidence from the
text stage is attached when its tables exist: sentiment change (last 28 days vs the 28 before,
weighted by text counts) and social-post volume change from ``signals_item_daily`` /
``signals_category_daily``; :func:`emerging_terms` lists the text stage's bursting terms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.data.warehouse import Warehouse
from trendcast.errors import ConfigError


def classify(change: pd.Series, rise: float = 0.10, fall: float = -0.10) -> pd.Series:
    """Label each change as rising / falling / stable."""
    if fall >= rise:
        raise ConfigError(f"The falling threshold ({fall}) must be below the rising one ({rise}).")
    return pd.Series(np.select([change > rise, change < fall], ["rising", "falling"], "stable"), index=change.index)


def trend_table(
    panel: pd.DataFrame,
    forecast: pd.DataFrame,
    level: str = "item",
    recent_days: int = 28,
    horizon: int = 28,
    rise: float = 0.10,
    fall: float = -0.10,
    min_recent_units: float = 1.0,
) -> pd.DataFrame:
    """One row per item or category: recent and forecast daily units, change and label.

    Series are summed over stores first. Items selling fewer than ``min_recent_units`` a day
    over the recent window are left out (a change from 0.1 to 0.2 units is noise, not a trend).
    """
    if level not in ("item", "category"):
        raise ConfigError(f"Trend level must be 'item' or 'category'; got '{level}'.")
    keys = panel.groupby("unique_id")[["item_id", "category"]].first()
    last = panel["ds"].max()
    recent = panel[panel["ds"] > last - pd.Timedelta(days=recent_days)]
    periods = max(recent["ds"].nunique(), 1)  # days, or weeks/months at a coarser frequency
    rec = recent.groupby("unique_id")["y"].sum() / periods  # per period, like the forecast
    fc = forecast.sort_values(["unique_id", "ds"]).groupby("unique_id").head(horizon)
    fut = fc.groupby("unique_id")["forecast"].mean()
    frame = keys.join(rec.rename("recent_daily")).join(fut.rename("forecast_daily")).dropna()
    key = "item_id" if level == "item" else "category"
    agg = frame.groupby(key)[["recent_daily", "forecast_daily"]].sum()
    agg = agg[agg["recent_daily"] >= min_recent_units]
    agg["change_pct"] = 100 * (agg["forecast_daily"] / agg["recent_daily"] - 1)
    agg["trend"] = classify(agg["change_pct"] / 100, rise, fall)
    agg = agg.round({"recent_daily": 3, "forecast_daily": 3, "change_pct": 1})
    if level == "item":
        agg["category"] = frame.groupby("item_id")["category"].first()
    return agg.sort_values("change_pct", ascending=False).reset_index()


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


def sentiment_change(wh: Warehouse, level: str = "item", days: int = 28) -> pd.DataFrame | None:
    """Mean sentiment (-1..1) over the last ``days`` minus the ``days`` before, plus the change
    in social-post volume, from the text stage's daily signal tables; None when absent."""
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
    sent = sentiment_change(wh, level)
    key = "item_id" if level == "item" else "category"
    if sent is not None:
        out = out.merge(sent, on=key, how="left")
    out.attrs["evidence"] = "text signals" if sent is not None else "none (no text signals in the warehouse)"
    return out
