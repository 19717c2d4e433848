"""Risk warnings: unusual sales, sudden sentiment drops and forecasts turning very uncertain.

- Sales anomalies: robust z-score of each period against the trailing ``window``-period median, with
  the median absolute deviation (x 1.4826) as scale, floored at ``sqrt(median + 1)`` so that
  slow movers (MAD 0) do not flag every sale.
- Sentiment drops: last ``recent`` days' mean sentiment vs the ``baseline`` days before, from the
  text stage's ``signals_item_daily`` (skipped, and said so, when that table is absent).
- Interval blow-ups: the forecast's relative 80% interval width over its first week ``(q0.9 - q0.1) / forecast``
  against the series' own historical relative spread ``(P90 - P10) / mean`` of recent sales;
  a ratio above ``ratio`` means the model is much less sure than history suggests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.data.warehouse import Warehouse
from trendcast.decide.forecasts import quantile_columns
from trendcast.decide.trends import _sentiment_column, signal_table, window_mean
from trendcast.features.frequency import kind, periods_from_days

COLUMNS = ["kind", "severity", "unique_id", "item_id", "date", "value", "detail"]


def sales_anomalies(panel: pd.DataFrame, window: int = 28, threshold: float = 4.0, recent: int = 14) -> pd.DataFrame:
    """Periods among the shop's last ``recent`` whose robust z-score exceeds ``threshold`` in size.

    Both windows count periods of the data, so a monthly shop is checked over its last
    months, not over the 14 days that hold only its newest month."""
    df = panel[["unique_id", "item_id", "ds", "y"]].sort_values(["unique_id", "ds"]).reset_index(drop=True)
    g = df.groupby("unique_id")["y"]
    med = g.transform(lambda s: s.rolling(window, min_periods=window // 2).median().shift(1))
    dev = (df["y"] - med).abs()
    mad = dev.groupby(df["unique_id"]).transform(lambda s: s.rolling(window, min_periods=window // 2).median().shift(1))
    scale = np.maximum(1.4826 * mad, np.sqrt(med + 1.0))
    df["expected"] = med
    df["robust_z"] = (df["y"] - med) / scale
    dates = np.sort(df["ds"].unique())
    since = dates[-min(recent, len(dates))]
    hits = df[(df["ds"] >= since) & (df["robust_z"].abs() > threshold)]
    return pd.DataFrame(
        {
            "kind": "sales anomaly",
            "severity": np.where(hits["robust_z"].abs() > 2 * threshold, "high", "medium"),
            "unique_id": hits["unique_id"],
            "item_id": hits["item_id"],
            "date": hits["ds"].dt.date.astype(str),
            "value": hits["robust_z"].round(2),
            "detail": [
                f"sold {y:g} vs usual {e:.1f} ({'spike' if z > 0 else 'drop'})"
                for y, e, z in zip(hits["y"], hits["expected"], hits["robust_z"], strict=True)
            ],
        },
        columns=COLUMNS,
    )


def sentiment_drops(wh: Warehouse, recent: int = 14, baseline: int = 56, min_drop: float = 0.3) -> pd.DataFrame | None:
    """Items whose mean sentiment (-1..1, weighted by text counts, at least 3 texts per window)
    fell by more than ``min_drop``; None without text signals."""
    found = signal_table(wh, "item")
    if found is None:
        return None
    sig, key = found
    col = _sentiment_column(sig)
    if col is None:
        return None
    end = sig["date"].max()
    now = window_mean(sig, key, col, end - pd.Timedelta(days=recent), end)
    prev = window_mean(sig, key, col, end - pd.Timedelta(days=recent + baseline), end - pd.Timedelta(days=recent))
    drop = (prev - now).dropna()
    drop = drop[drop > min_drop].sort_values(ascending=False)
    return pd.DataFrame(
        {
            "kind": "sentiment drop",
            "severity": np.where(drop > 2 * min_drop, "high", "medium"),
            "unique_id": "",
            "item_id": drop.index,
            "date": end.date().isoformat(),
            "value": drop.round(3).to_numpy(),
            "detail": [f"mean sentiment fell by {d:.2f} (last {recent} days vs {baseline} before)" for d in drop],
        },
        columns=COLUMNS,
    )


def interval_blowups(
    panel: pd.DataFrame, forecast: pd.DataFrame, ratio: float = 2.5, history_days: int = 91, first_days: int = 7
) -> pd.DataFrame:
    """Series whose forecast interval over the first ``first_days`` is ``ratio`` times wider
    (relative to level) than their recent history's spread."""
    qs = quantile_columns(forecast)
    lo, hi = (qs.get(0.1), qs.get(0.9)) if 0.1 in qs and 0.9 in qs else (qs[min(qs)], qs[max(qs)]) if qs else (None, None)
    if lo is None or lo == hi:
        return pd.DataFrame(columns=COLUMNS)
    fc = forecast.sort_values(["unique_id", "ds"]).groupby("unique_id").head(first_days)
    fc = fc.groupby("unique_id").agg(width=(hi, "mean"), low=(lo, "mean"), level=("forecast", "mean"))
    rel_fc = (fc["width"] - fc["low"]) / fc["level"].clip(lower=0.5)
    last = panel["ds"].max()
    recent = panel[panel["ds"] > last - pd.Timedelta(days=history_days)]
    hist = recent.groupby("unique_id")["y"].agg(p90=lambda s: s.quantile(0.9), p10=lambda s: s.quantile(0.1), mean="mean")
    rel_hist = (hist["p90"] - hist["p10"]) / hist["mean"].clip(lower=0.5)
    both = pd.DataFrame({"fc": rel_fc, "hist": rel_hist}).dropna()
    both = both[both["hist"] > 0]
    both["ratio"] = both["fc"] / both["hist"]
    hits = both[both["ratio"] > ratio].sort_values("ratio", ascending=False)
    items = panel.groupby("unique_id")["item_id"].first()
    return pd.DataFrame(
        {
            "kind": "uncertain forecast",
            "severity": np.where(hits["ratio"] > 2 * ratio, "high", "medium"),
            "unique_id": hits.index,
            "item_id": hits.index.map(items),
            "date": forecast["ds"].min().date().isoformat() if len(forecast) else last.date().isoformat(),
            "value": hits["ratio"].round(2).to_numpy(),
            "detail": [f"interval {f:.2f}x the level vs {h:.2f}x in history" for f, h in zip(hits["fc"], hits["hist"], strict=True)],
        },
        columns=COLUMNS,
    )


def risk_warnings(wh: Warehouse, panel: pd.DataFrame, forecast: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """All warnings in one frame (high severity first) and notes about checks that were skipped."""
    notes: list[str] = []
    freq = panel.attrs.get("freq", "D")  # windows in periods of the data: 28 days, 13 weeks, 12 months
    window, recent = {"D": (28, 14), "W": (13, 4), "M": (12, 3)}[kind(freq)]
    parts = [sales_anomalies(panel, window=window, recent=recent),
             interval_blowups(panel, forecast, first_days=periods_from_days(7, freq))]
    drops = sentiment_drops(wh)
    if drops is None:
        notes.append("sentiment drops skipped: no text signals (signals_item_daily) in the warehouse")
    else:
        parts.append(drops)
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=COLUMNS), notes
    out = pd.concat(parts, ignore_index=True)
    out["_rank"] = out["severity"].map({"high": 0, "medium": 1})
    out = out.sort_values(["_rank", "kind", "value"], ascending=[True, True, False]).drop(columns="_rank")
    return out.reset_index(drop=True), notes
