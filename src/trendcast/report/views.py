"""The pages (overview, item, hot spots, alerts) as lists of sections.

A section is a titled block holding a chart, a table or a "not computed yet" note. Building a
section never raises for a missing table: the dashboard and the report show the note instead,
which tells the user the command to run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup, escape

from trendcast.errors import NotReadyError, TrendcastError
from trendcast.report import figures
from trendcast.report.data import ShopData

TABLE_ROWS = 50
log = logging.getLogger("trendcast.report")


@dataclass
class Section:
    title: str
    html: Markup = field(default_factory=lambda: Markup(""))
    missing: str | None = None  # the "not computed yet" message
    kind: str = "figure"  # figure | table | kpis | missing


def figure_html(fig: go.Figure, div_id: str | None = None) -> Markup:
    """A Plotly figure as a ``<div>`` plus script; plotly.js itself is loaded once by the page."""
    html = fig.to_html(include_plotlyjs=False, full_html=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})
    return Markup(html)


def table_html(df: pd.DataFrame, rows: int = TABLE_ROWS) -> Markup:
    """An escaped HTML table of the first ``rows`` rows, numbers rounded for reading."""
    shown = df.head(rows).copy()
    for col in shown.select_dtypes("number").columns:
        shown[col] = shown[col].round(3)
    for col in shown.select_dtypes("datetime").columns:
        shown[col] = shown[col].dt.strftime("%Y-%m-%d")
    return Markup(shown.to_html(index=False, classes="data", border=0, escape=True, na_rep="–"))


def _safe(title: str, build: Callable[[], Section | None]) -> Section:
    """Build one section; a missing input or a failing stage shows as a note, not a broken page."""
    try:
        section = build()
    except NotReadyError as exc:
        return Section(title, missing=str(exc), kind="missing")
    except TrendcastError as exc:
        return Section(title, missing=f"Could not compute this: {exc}", kind="missing")
    except Exception as exc:  # another stage's bug must not take the whole page down
        log.exception("section %r failed", title)
        return Section(title, missing=f"Could not compute this ({type(exc).__name__}: {exc}).", kind="missing")
    return section or Section(title, missing="Nothing to show for this data.", kind="missing")


def _fig(title: str, fig: go.Figure | None) -> Section | None:
    return None if fig is None else Section(title, figure_html(fig))


def kpis(data: ShopData) -> dict[str, str]:
    """Headline numbers for the overview (also the narrative's facts)."""
    s = data.summary()
    out = {"Series": f"{s['series']:,}", "Items": f"{s['items']:,}", "Categories": str(s["categories"]),
           "Sales from": str(s["first_day"]), "Sales to": str(s["last_day"])}
    try:
        total = data.aggregate_forecasts()
        out["Forecast horizon"] = f"{len(total)} {data.unit}s"
        out["Forecast units (horizon)"] = f"{total['forecast'].sum():,.0f}"
    except NotReadyError:
        out["Forecast"] = "not computed yet"
    return out


def overview(data: ShopData) -> list[Section]:
    sections = [_safe("Shop", lambda: Section("Shop", Markup(_kpi_html(kpis(data))), kind="kpis"))]

    def total() -> Section:
        hist = data.history(days=180)
        try:
            fc = data.aggregate_forecasts()
        except NotReadyError:
            fc = None
        note = " (sum of item quantiles: conservative)" if fc is not None and fc.attrs.get("band") == "summed" else ""
        fig = figures.forecast_figure(hist, fc, f"Whole shop: units per {data.unit} and forecast",
                                      band_note=note, unit=data.unit)
        section = Section("Total forecast", figure_html(fig, "total-forecast"))
        if fc is None:
            section.missing = "Forecasts not computed yet — run `trendcast forecast`."
        return section

    def categories() -> Section:
        hist = data.category_history(days=120)
        try:
            fc = data.aggregate_forecasts(by_category=True)
        except NotReadyError:
            fc = None
        return Section("Category forecasts", figure_html(figures.category_figure(hist, fc, data.unit), "category-forecast"))

    def accuracy() -> Section | None:
        m = data.metrics()
        fig = figures.accuracy_figure(m)
        html = (figure_html(fig) if fig is not None else Markup("")) + table_html(m, 20)
        return Section("Backtest accuracy", html)

    def stages() -> Section:
        rows = [{"output": name, "ready": "yes" if st["ready"] else "no", "made by": st["command"]}
                for name, st in data.status().items()]
        return Section("Pipeline outputs", table_html(pd.DataFrame(rows)), kind="table")

    sections += [_safe("Total forecast", total), _safe("Category forecasts", categories),
                 _safe("Backtest accuracy", accuracy), _safe("Pipeline outputs", stages)]
    return sections


def item(data: ShopData, unique_id: str, dom_prefix: str = "") -> list[Section]:
    """History vs forecast with bands, drivers, reviews and sentiment for one series.

    ``dom_prefix`` keeps chart element ids unique when several items share one page (report).
    """
    _, item_id = data.split_id(unique_id)

    def forecast() -> Section:
        hist = data.history(unique_id=unique_id, days=180)
        try:
            fc = data.forecasts(unique_id)
        except NotReadyError:
            fc = None
        section = Section("History and forecast",
                          figure_html(figures.forecast_figure(hist, fc, f"{unique_id}: units per {data.unit}", unit=data.unit),
                                      f"{dom_prefix}item-forecast"))
        if fc is None:
            section.missing = "Forecasts not computed yet — run `trendcast forecast`."
        return section

    def drivers() -> Section | None:
        return _fig("Drivers", figures.drivers_figure(data.explanations(unique_id)))

    def reviews() -> Section | None:
        return _fig("Reviews", figures.reviews_figure(data.reviews_weekly(item_id)))

    def sentiment() -> Section | None:
        sig = data.signals_item(item_id)
        cols = _prefer(sig, ("sent_mean_", "neg_share_")) or None
        title = "Sentiment over time (rolling mean)" if cols else "Text signals for this item"
        return _fig("Text signals", figures.lines_figure(sig, title, columns=cols))

    return [_safe("History and forecast", forecast), _safe("Drivers", drivers),
            _safe("Reviews", reviews), _safe("Text signals", sentiment)]


def hotspots(data: ShopData) -> list[Section]:
    def table() -> Section:
        return Section("Hot spots", table_html(data.hotspots()), kind="table")

    def categories() -> Section | None:
        sig = data.signals_category()
        if "category" not in sig.columns:
            return _fig("Category signals", figures.lines_figure(sig, "Category text signals"))
        num = [c for c in sig.select_dtypes("number").columns]
        if not num:
            return None
        col = next(iter(_prefer(sig, ("n_social_", "burst_max_", "n_texts_"))), None) or num[0]
        wide = sig.pivot_table(index="ds", columns="category", values=col, aggfunc="sum").reset_index()
        wide.columns = [str(c) for c in wide.columns]
        return _fig("Category signals", figures.lines_figure(wide, f"Category text signals: {col}",
                                                             columns=[c for c in wide.columns if c != "ds"]))

    return [_safe("Hot spots", table), _safe("Category signals", categories)]


def alerts(data: ShopData) -> list[Section]:
    def alert_table() -> Section:
        frame = data.alerts()
        if frame.empty:
            return Section("Stock-out alerts", Markup("<p>No series runs short before replenishment.</p>"))
        return Section("Stock-out alerts", table_html(frame), kind="table")

    def risk_table() -> Section:
        frame = data.risk_warnings()
        notes = "".join(f"<p class=\"source\">{escape(n)}</p>" for n in frame.attrs.get("notes", []))
        body = table_html(frame) if not frame.empty else Markup("<p>No risk warnings.</p>")
        return Section("Risk warnings", Markup(notes) + body, kind="table")

    def plan_table() -> Section:
        return Section("Inventory plan", table_html(data.inventory_plan()), kind="table")

    return [_safe("Stock-out alerts", alert_table), _safe("Risk warnings", risk_table),
            _safe("Inventory plan", plan_table)]


def _prefer(df: pd.DataFrame, prefixes: tuple[str, ...]) -> list[str]:
    """Rolling-window columns (``<prefix><N>d``) present in ``df``, in the order of ``prefixes``."""
    return [c for p in prefixes for c in df.columns if c.startswith(p) and c.endswith("d")
            and c[len(p):-1].isdigit()][: len(prefixes)]


def _kpi_html(values: dict[str, str]) -> str:
    cells = "".join(f'<div class="kpi"><span>{escape(k)}</span><b>{escape(v)}</b></div>'
                    for k, v in values.items())
    return f'<div class="kpis">{cells}</div>'
