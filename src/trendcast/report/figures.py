"""Plotly figures shared by the dashboard and the HTML report (one look, one code path)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from trendcast.report.data import band_of

HISTORY_COLOUR = "#4a5568"
FORECAST_COLOUR = "#2b6cb0"
BAND_OUTER = "rgba(43,108,176,0.15)"
BAND_INNER = "rgba(43,108,176,0.30)"
LAYOUT = dict(
    template="plotly_white",
    height=360,
    margin=dict(l=50, r=20, t=50, b=40),
    legend=dict(orientation="h", y=-0.15),
    hovermode="x unified",
)


def _band(fig: go.Figure, fc: pd.DataFrame, lo: str, hi: str, fill: str, name: str) -> None:
    fig.add_trace(go.Scatter(x=fc["ds"], y=fc[hi], mode="lines", line=dict(width=0),
                             showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=fc["ds"], y=fc[lo], mode="lines", line=dict(width=0), fill="tonexty",
                             fillcolor=fill, name=name))


def forecast_figure(history: pd.DataFrame, forecast: pd.DataFrame | None, title: str,
                    band_note: str = "", unit: str = "day") -> go.Figure:
    """History (``ds, y``) followed by the forecast with its quantile band(s)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=history["ds"], y=history["y"], mode="lines", name="actual",
                             line=dict(color=HISTORY_COLOUR, width=1.5)))
    if forecast is not None and not forecast.empty:
        band = band_of(list(forecast.columns))
        if band.lo and band.hi:
            _band(fig, forecast, band.lo, band.hi, BAND_OUTER,
                  f"{band.lo[1:]}–{band.hi[1:]} quantile band{band_note}")
        if band.inner_lo and band.inner_hi:
            _band(fig, forecast, band.inner_lo, band.inner_hi, BAND_INNER,
                  f"{band.inner_lo[1:]}–{band.inner_hi[1:]} band")
        fig.add_trace(go.Scatter(x=forecast["ds"], y=forecast["forecast"], mode="lines", name="forecast",
                                 line=dict(color=FORECAST_COLOUR, width=2)))
    fig.update_layout(title=title, yaxis_title=f"units per {unit}", **LAYOUT)
    return fig


def category_figure(history: pd.DataFrame, forecast: pd.DataFrame | None, unit: str = "day") -> go.Figure:
    """One line per category: solid history, dotted forecast of the same colour."""
    fig = go.Figure()
    palette = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568"]
    for i, (cat, hist) in enumerate(history.groupby("category", sort=True)):
        colour = palette[i % len(palette)]
        fig.add_trace(go.Scatter(x=hist["ds"], y=hist["y"], mode="lines", name=str(cat),
                                 legendgroup=str(cat), line=dict(color=colour, width=1)))
        if forecast is not None and not forecast.empty:
            fc = forecast[forecast["category"] == cat]
            fig.add_trace(go.Scatter(x=fc["ds"], y=fc["forecast"], mode="lines", name=f"{cat} forecast",
                                     legendgroup=str(cat), showlegend=False,
                                     line=dict(color=colour, width=2, dash="dot")))
    fig.update_layout(title=f"Units per {unit} by category (dotted: forecast)", yaxis_title=f"units per {unit}",
                      **LAYOUT)
    return fig


def drivers_figure(expl: pd.DataFrame, top: int = 12) -> go.Figure | None:
    """Mean absolute contribution per feature (long ``feature, value`` or wide frames)."""
    value_col = next((c for c in ("shap_value", "shap", "contribution", "value", "importance")
                      if c in expl.columns), None)
    if "feature" in expl.columns and value_col:
        imp = expl.groupby("feature")[value_col].apply(lambda s: s.abs().mean())
    else:
        skip = {"unique_id", "item_id", "store_id", "ds", "model", "version", "base_value", "forecast",
                "run_id", "kind", "created_at"}
        num = expl[[c for c in expl.columns if c not in skip]].select_dtypes("number")
        if num.empty:
            return None
        imp = num.abs().mean()
    imp = imp.sort_values().tail(top)
    from trendcast.features.fusion import feature_label  # readable names, raw name on hover

    freq = expl.attrs.get("freq", "D")
    fig = go.Figure(go.Bar(x=imp.to_numpy(), y=[feature_label(str(i), freq) for i in imp.index],
                           orientation="h", marker_color=FORECAST_COLOUR,
                           customdata=[str(i) for i in imp.index],
                           hovertemplate="%{y}<br>feature %{customdata}: %{x:.3g}<extra></extra>"))
    scope = expl.attrs.get("scope", "")
    title = "What drives this forecast (mean |contribution|" + (f", {scope})" if scope else ")")
    fig.update_layout(title=title, **{**LAYOUT, "hovermode": "closest", "height": 120 + 28 * len(imp)})
    return fig


def lines_figure(df: pd.DataFrame, title: str, columns: list[str] | None = None,
                 max_lines: int = 4) -> go.Figure | None:
    """Numeric columns of a dated frame as lines (signals over time)."""
    if "ds" not in df.columns or df.empty:
        return None
    skip = {"ds", "item_id", "store_id", "unique_id", "category"}
    cols = columns or [c for c in df.select_dtypes("number").columns if c not in skip][:max_lines]
    if not cols:
        return None
    fig = go.Figure()
    for col in cols:
        fig.add_trace(go.Scatter(x=df["ds"], y=df[col], mode="lines", name=col))
    fig.update_layout(title=title, **LAYOUT)
    return fig


def reviews_figure(weekly: pd.DataFrame) -> go.Figure | None:
    """Reviews per week (bars) and mean star rating (line, right axis)."""
    if weekly.empty:
        return None
    fig = go.Figure()
    fig.add_trace(go.Bar(x=weekly["ds"], y=weekly["reviews"], name="reviews per week",
                         marker_color="#a0aec0"))
    if weekly["mean_rating"].notna().any():
        fig.add_trace(go.Scatter(x=weekly["ds"], y=weekly["mean_rating"], name="mean rating",
                                 yaxis="y2", mode="lines+markers", line=dict(color="#c05621")))
    fig.update_layout(title="Reviews and rating over time",
                      yaxis2=dict(overlaying="y", side="right", range=[0, 5.5], title="stars"), **LAYOUT)
    return fig


def accuracy_figure(metrics: pd.DataFrame) -> go.Figure | None:
    """Bar chart of the first error metric per model (lower is better)."""
    if "model" not in metrics.columns:
        return None
    metric = next((c for c in ("wrmsse", "mase", "MASE", "wape", "WAPE", "rmsse", "smape", "mae", "rmse", "crps")
                   if c in metrics.columns), None)
    if metric is None:
        return None
    per_model = metrics.groupby("model")[metric].mean().sort_values()
    fig = go.Figure(go.Bar(x=[str(m) for m in per_model.index], y=per_model.to_numpy(),
                           marker_color=FORECAST_COLOUR))
    fig.update_layout(title=f"Backtest accuracy by model ({metric}, lower is better)",
                      **{**LAYOUT, "hovermode": "closest"})
    return fig
