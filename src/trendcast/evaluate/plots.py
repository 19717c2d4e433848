"""History vs forecast with the quantile band, for a few chosen items.

HTML (interactive, Plotly) or PNG (static, matplotlib) by the output's extension. Each chosen
item gets one panel; with stores, the item's sales are summed over stores (forecast too; the
band is then the sum of the per-store quantiles, an upper bound on the spread).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from trendcast.errors import InputError
from trendcast.models.base import FORECAST, TARGET, TIME

HISTORY_DAYS = 120


def _item_frames(
    history: pd.DataFrame, forecasts: pd.DataFrame, items: Sequence[str]
) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    date = "date" if "date" in forecasts.columns else TIME
    qcols = [c for c in forecasts.columns if c.startswith("q") and c[1:].replace(".", "", 1).isdigit()]
    out = {}
    for item in items:
        h = history[history["item_id"] == item]
        f = forecasts[forecasts["item_id"] == item]
        if h.empty or f.empty:
            continue
        hist = h.groupby(TIME, as_index=False)[TARGET].sum()
        hist = hist[hist[TIME] > hist[TIME].max() - pd.Timedelta(days=HISTORY_DAYS)]
        fc = f.groupby(date, as_index=False)[[FORECAST, *qcols]].sum().rename(columns={date: TIME})
        out[item] = (hist, fc)
    if not out:
        raise InputError(f"None of the items {list(items)} has both history and a forecast.")
    return out


def _band(fc: pd.DataFrame) -> tuple[str, str] | None:
    qcols = sorted((c for c in fc.columns if c.startswith("q")), key=lambda c: float(c[1:]))
    return (qcols[0], qcols[-1]) if len(qcols) >= 2 else None


def plot_forecasts(
    history: pd.DataFrame, forecasts: pd.DataFrame, items: Sequence[str], out: str | Path
) -> Path:
    """Write the plot to ``out`` (``.html`` Plotly, ``.png`` matplotlib) and return the path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frames = _item_frames(history, forecasts, items)
    if out.suffix.lower() == ".png":
        return _png(frames, out)
    return _html(frames, out)


def _html(frames: dict[str, tuple[pd.DataFrame, pd.DataFrame]], out: Path) -> Path:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=len(frames), cols=1, subplot_titles=list(frames), shared_xaxes=False)
    for i, (_item, (hist, fc)) in enumerate(frames.items(), start=1):
        first = i == 1
        band = _band(fc)
        if band:
            lo, hi = band
            fig.add_trace(go.Scatter(x=fc[TIME], y=fc[hi], line={"width": 0}, showlegend=False,
                                     hoverinfo="skip"), row=i, col=1)
            fig.add_trace(go.Scatter(x=fc[TIME], y=fc[lo], fill="tonexty", line={"width": 0},
                                     fillcolor="rgba(31,119,180,0.2)", name=f"{lo}-{hi}",
                                     showlegend=first), row=i, col=1)
        fig.add_trace(go.Scatter(x=hist[TIME], y=hist[TARGET], name="history", line={"color": "#444"},
                                 showlegend=first), row=i, col=1)
        fig.add_trace(go.Scatter(x=fc[TIME], y=fc[FORECAST], name="forecast", line={"color": "#1f77b4"},
                                 showlegend=first), row=i, col=1)
    fig.update_layout(height=300 * len(frames), title="History and forecast", template="plotly_white")
    fig.write_html(out, include_plotlyjs=True)
    return out


def _png(frames: dict[str, tuple[pd.DataFrame, pd.DataFrame]], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(frames), 1, figsize=(10, 3 * len(frames)), squeeze=False)
    for ax, (item, (hist, fc)) in zip(axes[:, 0], frames.items(), strict=True):
        ax.plot(hist[TIME], hist[TARGET], color="#444", label="history")
        ax.plot(fc[TIME], fc[FORECAST], color="#1f77b4", label="forecast")
        band = _band(fc)
        if band:
            ax.fill_between(fc[TIME], fc[band[0]], fc[band[1]], alpha=0.2, label=f"{band[0]}-{band[1]}")
        ax.set_title(item)
        ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
