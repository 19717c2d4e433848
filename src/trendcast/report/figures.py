"""Plotly figures shared by the dashboard and the HTML report (one look, one code path)."""

from __future__ import annotations

from collections.abc import Callable

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


def drivers_figure(expl: pd.DataFrame, top: int = 12,
                   label: Callable[[str], str] | None = None) -> go.Figure | None:
    """Mean absolute contribution per feature (long ``feature, value`` or wide frames), named
    readably (:func:`~trendcast.features.fusion.feature_label`; the raw name shows on hover)."""
    if label is None:
        from trendcast.features.fusion import feature_label

        freq = expl.attrs.get("freq", "D")
        label = lambda name: feature_label(name, freq)  # noqa: E731
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
    fig = go.Figure(go.Bar(x=imp.to_numpy(), y=[label(str(i)) for i in imp.index], orientation="h",
                           marker_color=FORECAST_COLOUR, customdata=[str(i) for i in imp.index],
                           hovertemplate="%{y}<br>(%{customdata}): %{x:.3g}<extra></extra>"))
    scope = expl.attrs.get("scope", "")
    title = "What drives this forecast (mean |contribution|" + (f", {scope})" if scope else ")")
    fig.update_layout(title=title, xaxis_title="mean |contribution| (units)",
                      **{**LAYOUT, "hovermode": "closest", "height": 140 + 28 * len(imp),
                         "margin": dict(l=20, r=20, t=50, b=40)})
    fig.update_yaxes(automargin=True)
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
                      yaxis=dict(title="reviews per week", rangemode="tozero", tickformat=",d"),
                      yaxis2=dict(overlaying="y", side="right", range=[0.5, 5.5], tickvals=[1, 2, 3, 4, 5],
                                  title="mean stars (1–5)", showgrid=False), **LAYOUT)
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


def elasticity_figure(est: pd.DataFrame, top: int = 30) -> go.Figure | None:
    """Price elasticity per item with its interval (most price-sensitive items first)."""
    if est.empty or "elasticity" not in est.columns:
        return None
    df = est.sort_values("elasticity").head(top)
    err = {}
    if {"elasticity_low", "elasticity_high"} <= set(df.columns):
        err = dict(error_x=dict(type="data", symmetric=False,
                                array=(df["elasticity_high"] - df["elasticity"]).to_numpy(),
                                arrayminus=(df["elasticity"] - df["elasticity_low"]).to_numpy()))
    fig = go.Figure(go.Scatter(x=df["elasticity"], y=df["item_id"].astype(str), mode="markers",
                               marker=dict(color=FORECAST_COLOUR, size=8), name="elasticity", **err))
    fig.add_vline(x=-1, line=dict(color="#a0aec0", dash="dot"))
    fig.update_layout(title="Price elasticity with 95% interval (left of −1: price cuts raise revenue)",
                      xaxis_title="% change in units for a 1% price rise",
                      **{**LAYOUT, "hovermode": "closest", "height": 160 + 20 * len(df)})
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def price_curves_figure(curve: pd.DataFrame, current: float, recommended: float | None, unit: str = "day") -> go.Figure:
    """Demand (with its band), revenue and margin over a price grid for one item."""
    fig = go.Figure()
    if {"demand_low", "demand_high"} <= set(curve.columns):
        _band(fig, curve.rename(columns={"price": "ds"}), "demand_low", "demand_high", BAND_OUTER,
              "demand interval")
    fig.add_trace(go.Scatter(x=curve["price"], y=curve["demand"], name=f"units per {unit}",
                             line=dict(color=FORECAST_COLOUR, width=2)))
    fig.add_trace(go.Scatter(x=curve["price"], y=curve["revenue"], name=f"revenue per {unit}", yaxis="y2",
                             line=dict(color="#2f855a")))
    if "margin" in curve.columns:
        fig.add_trace(go.Scatter(x=curve["price"], y=curve["margin"], name=f"margin per {unit}", yaxis="y2",
                                 line=dict(color="#c05621")))
    fig.add_vline(x=current, line=dict(color=HISTORY_COLOUR, dash="dot"), annotation_text="current")
    if recommended is not None and abs(recommended - current) > 1e-9:
        fig.add_vline(x=recommended, line=dict(color="#c05621", dash="dash"), annotation_text="recommended",
                      annotation_position="bottom right")
    fig.update_layout(title="Demand, revenue and margin against price", xaxis_title="price",
                      yaxis=dict(title=f"units per {unit}", rangemode="tozero"),
                      yaxis2=dict(overlaying="y", side="right", title="money", showgrid=False),
                      **{**LAYOUT, "hovermode": "x unified"})
    return fig


def uplift_figure(uplift: pd.DataFrame, unit: str = "day", top: int = 30) -> go.Figure | None:
    """Promotion uplift (% units per promotion period: day, week, month) with its interval."""
    if uplift.empty:
        return None
    df = uplift.sort_values("uplift_pct", ascending=False).head(top)
    colours = [FORECAST_COLOUR if w else "#a0aec0" for w in df["worth_running"]]
    fig = go.Figure(go.Scatter(
        x=df["uplift_pct"], y=df["item_id"].astype(str), mode="markers", marker=dict(color=colours, size=8),
        error_x=dict(type="data", symmetric=False, array=(df["uplift_high_pct"] - df["uplift_pct"]).to_numpy(),
                     arrayminus=(df["uplift_pct"] - df["uplift_low_pct"]).to_numpy()), name="uplift"))
    fig.add_vline(x=0, line=dict(color="#a0aec0", dash="dot"))
    fig.update_layout(title="Promotion uplift with 95% interval (blue: interval above zero)",
                      xaxis_title=f"% more units in a promotion {unit} (beyond the price cut)",
                      **{**LAYOUT, "hovermode": "closest", "height": 160 + 20 * len(df)})
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def trends_figure(trends: pd.DataFrame, key: str = "item_id", top: int = 12) -> go.Figure | None:
    """The strongest risers and fallers: forecast vs recent units, in %."""
    moving = trends[trends["trend"].isin(["rising", "falling"])] if "trend" in trends.columns else trends
    if moving.empty:
        return None
    df = pd.concat([moving.nlargest(top, "change_pct"), moving.nsmallest(top, "change_pct")]).drop_duplicates(key)
    df = df.sort_values("change_pct")
    colours = ["#2f855a" if v > 0 else "#c53030" for v in df["change_pct"]]
    fig = go.Figure(go.Bar(x=df["change_pct"], y=df[key].astype(str), orientation="h", marker_color=colours))
    fig.update_layout(title="Forecast against the recent level (% change)", xaxis_title="% change",
                      **{**LAYOUT, "hovermode": "closest", "height": 160 + 22 * len(df)})
    fig.update_yaxes(automargin=True)
    return fig


def voice_figure(voice: pd.DataFrame, kind: str, top: int = 8) -> go.Figure | None:
    """Mentions per week of the most talked-about needs (or competitors)."""
    df = voice[voice["kind"] == kind]
    if df.empty:
        return None
    names = df.groupby("name")["mentions"].sum().nlargest(top).index
    fig = go.Figure()
    for name in names:
        g = df[df["name"] == name]
        fig.add_trace(go.Scatter(x=g["ds"], y=g["mentions"], mode="lines+markers", name=str(name)))
    what = "consumer needs" if kind == "need" else "competitors"
    fig.update_layout(title=f"Texts mentioning {what}, per week", yaxis=dict(title="texts", rangemode="tozero"),
                      **LAYOUT)
    return fig


def coldstart_figure(fc: pd.DataFrame, unit: str = "day") -> go.Figure:
    """A new product's forecast per store (stacked) over its first periods."""
    fig = go.Figure()
    for store, g in fc.groupby("store_id", sort=True):
        fig.add_trace(go.Scatter(x=g["ds"], y=g["forecast"], stackgroup="one", mode="lines",
                                 name=str(store) or "all stores"))
    fig.update_layout(title="New product: forecast units after launch (stacked by store)",
                      yaxis=dict(title=f"units per {unit}", rangemode="tozero"), **LAYOUT)
    return fig
