"""The pages (actions, overview, item, every decision, hot spots, alerts) as lists of sections.

A section is a titled block holding a chart, a table or a "not computed yet" note. Building a
section never raises for a missing table: the dashboard and the report show the note instead,
which tells the user the command to run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup, escape

from trendcast.data.warehouse import SERIES_SEP
from trendcast.errors import NotReadyError, TrendcastError
from trendcast.features.fusion import feature_label
from trendcast.report import figures
from trendcast.report.data import ShopData, quantile_levels
from trendcast.report.tables import (
    PAGE_SIZE,
    TableQuery,
    interactive_table,
    rows_html,
    static_table,
    table_head,
    with_titles,
)

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
    except Exception:  # another stage's bug must not take the whole page down
        log.exception("section %r failed", title)
        return Section(title, missing="Could not compute this section; the error is in the trendcast log.",
                       kind="missing")
    return section or Section(title, missing="Nothing to show for this data.", kind="missing")


def _fig(title: str, fig: go.Figure | None) -> Section | None:
    return None if fig is None else Section(title, figure_html(fig))


# -- tables ---------------------------------------------------------------------------------------


def _lead(df: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    """Columns in ``first`` (those present) moved to the front: action columns stay on screen."""
    lead = [c for c in first if c in df.columns]
    return df[lead + [c for c in df.columns if c not in lead]]


def _rates(df: pd.DataFrame) -> list[str]:
    """The trend table's units-per-period columns (``recent_per_week``...: named by the data's period)."""
    return [c for c in df.columns if c.startswith(("recent_per_", "forecast_per_"))]


def _trends_items(data: ShopData) -> pd.DataFrame:
    t = data.trends("item")
    return _lead(t, ["item_id", "trend", "change_pct", *_rates(t)])


TABLES: dict[str, tuple[str, Callable[[ShopData], pd.DataFrame]]] = {
    "orders": ("Orders to place", ShopData.orders),
    "stockouts": ("Stock-out alerts", lambda d: _lead(d.alerts(), ["unique_id", "item_id", "status",
                                                                   "days_of_cover", "on_hand"])),
    "plan": ("Inventory plan", lambda d: _lead(d.inventory_plan(), [
        "unique_id", "item_id", "order_qty", "on_hand", "order_up_to", "reorder_point", "safety_stock",
        "mean_demand"]).drop(columns=["store_id"], errors="ignore")),
    "risks": ("Risk warnings", lambda d: _lead(d.risk_warnings(), ["unique_id", "item_id", "kind", "severity"])),
    "prices": ("Price recommendations", ShopData.price_recommendations),
    "elasticities": ("Price elasticities", ShopData.elasticities),
    "promotions": ("Promotion uplift", ShopData.promotions),
    "trends": ("Rising and falling items", _trends_items),
    "category-trends": ("Category trends", lambda d: d.trends("category")),
    "hotspots": ("Hot spots", ShopData.hotspots),
    "voice-examples": ("What customers said", ShopData.voice_examples),
    "aspects": ("Aspects this week, most criticised first", ShopData.latest_aspects),
    "competitors": ("Competitors: share of voice and sentiment per week",
                    lambda d: d.competitors().sort_values(["period", "mentions"], ascending=[False, False])),
}


def table_frame(data: ShopData, name: str) -> pd.DataFrame:
    """The full table ``name`` (see :data:`TABLES`) with product titles beside item ids."""
    if name not in TABLES:
        raise NotReadyError(f"No table called '{name}'. Tables: {', '.join(TABLES)}.")
    df = TABLES[name][1](data)
    try:
        titles = data.titles()
    except Exception:  # noqa: BLE001 - titles are a nicety; a table without them still helps
        titles = None
    return with_titles(df.reset_index(drop=True), titles)


@dataclass
class TableMode:
    """How tables render: server-paged with links (dashboard) or first rows + CSV (report)."""

    interactive: bool = False
    path: str = "/"
    active: str | None = None  # the table the query applies to
    query: TableQuery = field(default_factory=TableQuery)
    base: str = ""
    frame: Callable[[ShopData, str], pd.DataFrame] = table_frame
    rows: int = PAGE_SIZE

    def html(self, data: ShopData, name: str) -> Markup:
        df = self.frame(data, name)
        if self.interactive:
            query = self.query if self.active == name else TableQuery()
            return interactive_table(name, df, query, self.path, self.base)
        return static_table(df, self.rows, name, links=False)


STATIC = TableMode()


def _table(data: ShopData, name: str, mode: TableMode, title: str | None = None,
           note: str | None = None, empty: str | None = None) -> Section:
    title = title or TABLES[name][0]
    df = mode.frame(data, name)
    if df.empty and empty:
        return Section(title, Markup(f"<p>{escape(empty)}</p>"), kind="table")
    prefix = Markup(f'<p class="source">{escape(note)}</p>') if note else Markup("")
    return Section(title, prefix + mode.html(data, name), kind="table")


# -- overview -------------------------------------------------------------------------------------


def kpis(data: ShopData) -> dict[str, str]:
    """Headline numbers for the overview (also the narrative's facts)."""
    s = data.summary()
    unit = data.unit()
    out = {"Series": f"{s['series']:,}", "Items": f"{s['items']:,}",
           "Categories": str(s["categories"]) if s["categories"] else "not given",
           "Sales from": str(s["first_day"]), "Sales to": str(s["last_day"]), "Period": unit}
    try:
        total = data.aggregate_forecasts()
        out["Forecast horizon"] = f"{len(total)} {unit}s"
        out["Forecast units (horizon)"] = f"{total['forecast'].sum():,.0f}"
    except NotReadyError:
        out["Forecast"] = "not computed yet"
    return out


def overview(data: ShopData) -> list[Section]:
    sections = [_safe("Shop", lambda: Section("Shop", Markup(_kpi_html(kpis(data))), kind="kpis"))]
    unit = data.unit()

    def total() -> Section:
        hist = data.history(days=180 if unit == "day" else 3 * 365)
        try:
            fc = data.aggregate_forecasts()
        except NotReadyError:
            fc = None
        note = " (sum of item quantiles: conservative)" if fc is not None and fc.attrs.get("band") == "summed" else ""
        fig = figures.forecast_figure(hist, fc, f"Whole shop: units per {unit} and forecast", band_note=note,
                                      unit=unit)
        section = Section("Total forecast", figure_html(fig, "total-forecast"))
        if fc is None:
            section.missing = "Forecasts not computed yet — run `trendcast forecast`."
        return section

    def categories() -> Section:
        hist = data.category_history(days=120 if unit == "day" else 2 * 365)
        try:
            fc = data.aggregate_forecasts(by_category=True)
        except NotReadyError:
            fc = None
        return Section("Category forecasts", figure_html(figures.category_figure(hist, fc, unit), "category-forecast"))

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


# -- actions (the start page) -----------------------------------------------------------------------

ACTION_ROWS = 5


def _top(df: pd.DataFrame, columns: list[str], link_base: str = "", rows: int = ACTION_ROWS,
         links: bool = True) -> Markup:
    shown = df[[c for c in columns if c in df.columns]].head(rows)
    heads = "".join(f"<th>{table_head(c)}</th>" for c in shown.columns)
    return Markup(rows_html(shown, heads, links=links, base=link_base, keys=df.loc[shown.index]))


def actions(data: ShopData, mode: TableMode = STATIC) -> list[Section]:
    """This period's decisions: counts first, then the top rows of each, linking to the items."""
    base = mode.base if mode.interactive else None
    unit = data.unit()

    def counts() -> Section:
        values = data.action_counts()
        if not values:
            raise NotReadyError("No decisions yet — run `trendcast ingest` and `trendcast forecast`.")
        cells = "".join(
            f'<a class="kpi action" href="{escape((base or "") + page) if base is not None else "#" + page[1:]}">'
            f"<span>{escape(label)}</span><b>{n:,}</b></a>"
            for label, (n, page) in values.items())
        return Section("This period", Markup(f'<div class="kpis">{cells}</div>'), kind="kpis")

    def block(title: str, frame: Callable[[], pd.DataFrame], columns: list[str], page: str,
              empty: str) -> Callable[[], Section]:
        def build() -> Section:
            df = frame()
            if df.empty:
                return Section(title, Markup(f"<p>{escape(empty)}</p>"), kind="table")
            more = (f'<p class="more"><a href="{escape((base or "") + page)}">all {len(df):,} →</a></p>'
                    if base is not None else f'<p class="more">top {min(len(df), ACTION_ROWS)} of {len(df):,}</p>')
            return Section(title, _top(df, columns, base or "", links=base is not None) + Markup(more), kind="table")
        return build

    titles = data.titles

    def titled(reader: Callable[[], pd.DataFrame]) -> Callable[[], pd.DataFrame]:
        return lambda: with_titles(reader(), titles())

    def moving(direction: str) -> pd.DataFrame:
        t = data.trends("item")
        t = t[t["trend"] == direction].sort_values("change_pct", ascending=direction == "falling")
        return _lead(t, ["item_id", "change_pct", *_rates(t)])

    blocks = [
        ("Orders to place", titled(data.orders), ["unique_id", "title", "order_qty", "on_hand", "stockout_date",
                                                 "status"], "/alerts", "No series needs an order this period."),
        ("Price changes", titled(lambda: data.price_recommendations().loc[
            lambda d: d["change_pct"].abs() >= 0.5]),
         ["item_id", "title", "current_price", "recommended_price", "change_pct", "revenue_change_per_period",
          "margin_change_per_period"], "/pricing", "No price change is supported by the data."),
        ("Promotions worth running", titled(lambda: data.promotions().loc[lambda d: d["worth_running"]]),
         ["item_id", "title", "uplift_pct", "uplift_low_pct", "uplift_high_pct"], "/promotions",
         "No promotion shows an uplift clearly above zero."),
        ("Rising items", titled(lambda: moving("rising")),
         ["item_id", "title", "change_pct", f"recent_per_{unit}", f"forecast_per_{unit}", "sentiment_change",
          "social_posts_change_pct"], "/trends",
         "No item is forecast to rise by more than 10%."),
        ("Falling items", titled(lambda: moving("falling")),
         ["item_id", "title", "change_pct", f"recent_per_{unit}", f"forecast_per_{unit}", "sentiment_change",
          "social_posts_change_pct"], "/trends",
         "No item is forecast to fall by more than 10%."),
        ("Risk warnings", titled(data.risk_warnings), ["unique_id", "title", "kind", "severity", "detail"],
         "/alerts", "No risk warnings."),
    ]
    sections = [_safe("What to act on", counts)]
    sections += [_safe(t, block(t, f, c, p, e)) for t, f, c, p, e in blocks]
    for s in sections[1:]:
        if s.title in ("Rising items", "Falling items") and not s.missing:
            window = data.trends("item").attrs.get("window", "")
            s.html = Markup(f'<p class="source">{escape(window)}</p>' if unit != "day" and window else "") + s.html
    return sections


# -- item -----------------------------------------------------------------------------------------


def forecast_table(fc: pd.DataFrame) -> pd.DataFrame:
    """The forecast with its quantiles as plain columns (``low 10%``, ``high 90%``)."""
    levels = quantile_levels(list(fc.columns))
    out = fc[["ds", "forecast", *levels.values()]].copy()
    out = out.rename(columns={c: f"quantile {q:g}" for q, c in levels.items()}).rename(columns={"ds": "period"})
    return out.round(2)


def item(data: ShopData, unique_id: str, dom_prefix: str = "") -> list[Section]:
    """History vs forecast with bands, forecast table, stock and plan, price and elasticity,
    drivers with readable names, reviews and sentiment for one series.

    ``dom_prefix`` keeps chart element ids unique when several items share one page (report).
    """
    _, item_id = data.split_id(unique_id)
    unit = data.unit()

    def forecast() -> Section:
        hist = data.history(unique_id=unique_id, days=180 if unit == "day" else 3 * 365)
        try:
            fc = data.forecasts(unique_id)
        except NotReadyError:
            fc = None
        section = Section("History and forecast",
                          figure_html(figures.forecast_figure(hist, fc, f"{unique_id}: units per {unit}", unit=unit),
                                      f"{dom_prefix}item-forecast"))
        if fc is None:
            section.missing = "Forecasts not computed yet — run `trendcast forecast`."
        else:
            section.html += Markup("<details><summary>Forecast table</summary>") + static_table(
                forecast_table(fc), rows=len(fc), name=f"forecast-{unique_id}") + Markup("</details>")
        return section

    def stock() -> Section:
        plan = data.inventory_plan()
        row = plan[plan["unique_id"] == unique_id]
        if row.empty:
            return Section("Stock and plan", missing="No plan row for this series.", kind="missing")
        r = row.iloc[0]
        values = {"On hand": "not counted" if pd.isna(r.get("on_hand")) else f"{r['on_hand']:,.0f}",
                  "Order now": "unknown" if pd.isna(r["order_qty"]) else f"{r['order_qty']:,.0f}",
                  "Order up to": f"{r['order_up_to']:,.0f}",
                  "Reorder point": f"{r['reorder_point']:,.0f}", "Safety stock": f"{r['safety_stock']:,.1f}",
                  f"Demand over {int(r['protection_days'])} days": f"{r['mean_demand']:,.1f}"}  # the plan speaks days
        try:
            orders = data.orders()
            hit = orders[orders["unique_id"] == unique_id]
            if not hit.empty and pd.notna(hit.iloc[0]["stockout_date"]):
                values["Runs out"] = pd.Timestamp(hit.iloc[0]["stockout_date"]).strftime("%Y-%m-%d")
                values["Status"] = str(hit.iloc[0]["status"])
        except NotReadyError:
            pass
        return Section("Stock and plan", Markup(_kpi_html(values)), kind="kpis")

    def price() -> Section:
        est = data.elasticities()
        e = est[est["item_id"] == item_id]
        recs = data.price_recommendations()
        rec = recs[recs["item_id"] == item_id]
        values: dict[str, str] = {}
        if not rec.empty:
            r = rec.iloc[0]
            values["Current price"] = f"{r['current_price']:,.2f}"
            values["Recommended"] = f"{r['recommended_price']:,.2f} ({r['change_pct']:+.1f}%)"
            if pd.notna(r["margin_change_per_period"]):
                values[f"Margin per {unit}"] = f"{r['margin_change_per_period']:+,.2f}"
            values[f"Revenue per {unit}"] = f"{r['revenue_change_per_period']:+,.2f}"
        if not e.empty:
            x = e.iloc[0]
            values["Elasticity"] = (str(x.get("basis", "none")) if pd.isna(x["elasticity"])  # discontinued, ...
                                    else f"{x['elasticity']:.2f} [{x['elasticity_low']:.2f}, {x['elasticity_high']:.2f}]"
                                    + (" (category)" if x.get("basis", "item") != "item" else ""))
        if not values:
            return Section("Price and elasticity", missing="No price history for this item.", kind="missing")
        link = Markup(f'<p class="more"><a href="/pricing?{urlencode({"item_id": item_id})}">'
                      "demand, revenue and margin curves →</a> · "
                      f'<a href="/copy?{urlencode({"item_id": item_id})}">write marketing copy →</a></p>')
        return Section("Price and elasticity", Markup(_kpi_html(values)) + link, kind="kpis")

    def drivers() -> Section | None:
        freq = data.freq()
        return _fig("Drivers", figures.drivers_figure(data.explanations(unique_id),
                                                      label=lambda n: feature_label(n, freq)))

    def reviews() -> Section | None:
        return _fig("Reviews", figures.reviews_figure(data.reviews_weekly(item_id)))

    def sentiment() -> Section | None:
        sig = data.signals_item(item_id)
        cols = _prefer(sig, ("sent_mean_", "neg_share_")) or None
        if cols:
            fig = figures.lines_figure(sig.rename(columns={c: feature_label(c) for c in cols}),
                                       "Sentiment over time (rolling mean)", columns=[feature_label(c) for c in cols])
        else:
            fig = figures.lines_figure(sig, "Text signals for this item")
        return _fig("Text signals", fig)

    return [_safe("History and forecast", forecast), _safe("Stock and plan", stock),
            _safe("Price and elasticity", price), _safe("Drivers", drivers),
            _safe("Reviews", reviews), _safe("Text signals", sentiment)]


# -- decision pages -------------------------------------------------------------------------------


def pricing(data: ShopData, item_id: str | None = None, mode: TableMode = STATIC) -> list[Section]:
    """Recommended prices, elasticities with intervals and one item's demand/revenue/margin curves."""
    unit = data.unit()

    def curves() -> Section:
        from trendcast.decide.pricing import what_if_curves

        recs = data.pricing()[1]
        if recs.empty:
            return Section("Price curves", missing="No item has a price history to recommend from.", kind="missing")
        chosen = item_id if item_id in set(recs["item_id"]) else str(data.price_recommendations()["item_id"].iloc[0])
        rec = recs[recs["item_id"] == chosen]
        products = data.con.execute("SELECT item_id, unit_cost FROM products WHERE item_id = ?", [chosen]).df()
        curve = what_if_curves(rec, data.pricing()[0], products)
        r = rec.iloc[0]
        fig = figures.price_curves_figure(curve, float(r["current_price"]), float(r["recommended_price"]), unit)
        titles = data.titles()
        html = figure_html(fig, "price-curves")
        if mode.interactive:
            options = "".join(f'<option value="{escape(i)}"{" selected" if i == chosen else ""}>'
                              f'{escape(i)} · {escape(titles.get(i, ""))}</option>' for i in sorted(recs["item_id"]))
            html = Markup(f"""<form class="picker" method="get" action="{mode.base}/pricing">
<label for="price-item">Item</label><select id="price-item" name="item_id" onchange="this.form.submit()">{options}</select>
<noscript><button type="submit">Show</button></noscript></form>""") + html
        return Section(f"Price curves: {chosen} {titles.get(chosen, '')}".strip(), html)

    return [_safe("Price recommendations", lambda: _table(data, "prices", mode, note=(
                f"Expected change per {unit} at the recommended price (all stores); items whose elasticity "
                "interval reaches zero keep their price."))),
            _safe("Price curves", curves),
            _safe("Price elasticity", lambda: _fig("Price elasticity", figures.elasticity_figure(data.elasticities()))),
            _safe("Price elasticities", lambda: _table(data, "elasticities", mode))]


def promotion_effect(data: ShopData, item_id: str, periods: int) -> dict[str, float]:
    """Extra units from promoting ``item_id`` for its first ``periods`` forecast periods
    (stored forecast x uplift and its interval)."""
    up = data.promotions()
    row = up[up["item_id"] == item_id]
    if row.empty:
        raise NotReadyError(f"No promotion uplift for item '{item_id}'.")
    fc = data.forecasts()
    fc = fc[fc["unique_id"].astype(str).str.rpartition(SERIES_SEP)[2] == item_id]
    base = float(fc.groupby("ds")["forecast"].sum().sort_index().head(periods).sum())
    r = row.iloc[0]
    return {"base": base, "extra": base * r["uplift_pct"] / 100, "extra_low": base * r["uplift_low_pct"] / 100,
            "extra_high": base * r["uplift_high_pct"] / 100}


def promotions(data: ShopData, item_id: str | None = None, periods: int = 7, mode: TableMode = STATIC,
               form: bool = False) -> list[Section]:
    unit = data.unit()

    def plan() -> Section:
        up = data.promotions()
        if up.empty:  # prices but no promotion day in the history
            return Section("A planned promotion's effect", missing="No promotion days in the sales history, "
                           "so there is no uplift to plan with.", kind="missing")
        chosen = item_id if item_id in set(up["item_id"]) else str(up["item_id"].iloc[0])
        eff = promotion_effect(data, chosen, periods)
        values = {"Item": chosen, f"Promotion {unit}s": str(periods),
                  "Units without promotion": f"{eff['base']:,.0f}",
                  "Extra units": f"{eff['extra']:+,.0f}",
                  "Interval": f"{eff['extra_low']:+,.0f} to {eff['extra_high']:+,.0f}"}
        html = Markup(_kpi_html(values))
        if form:
            options = "".join(f'<option value="{escape(i)}"{" selected" if i == chosen else ""}>{escape(i)}</option>'
                              for i in up["item_id"])
            html = Markup(f"""<form class="picker" method="get" action="/promotions">
<label for="promo-item">Item</label><select id="promo-item" name="item_id">{options}</select>
<label for="promo-days">{unit}s on promotion</label>
<input id="promo-days" type="number" name="periods" min="1" max="366" value="{periods}">
<button type="submit">Show effect</button></form>""") + html
        return Section("A planned promotion's effect", html, kind="kpis")

    return [_safe("A planned promotion's effect", plan),
            _safe("Promotion uplift", lambda: _fig("Promotion uplift", figures.uplift_figure(data.promotions(), unit))),
            _safe("Promotion uplift table", lambda: _table(data, "promotions", mode, note=(
                f"Uplift: % more units in a promotion {unit} beyond the price cut, with its 95% interval; "
                "worth running when the whole interval is above zero.")))]


def _trend_window(data: ShopData) -> str:
    """What the trend numbers are, e.g. "units per week: the last 13 weeks against ..."."""
    window = str(data.trends("item").attrs.get("window", "units per period: recent against the forecast"))
    return window[:1].upper() + window[1:]


def trends(data: ShopData, mode: TableMode = STATIC) -> list[Section]:
    def chart() -> Section | None:
        t = data.trends("item")
        sec = _fig("Rising and falling", figures.trends_figure(t))
        terms = t.attrs.get("emerging_terms") or []
        if sec is not None and terms:
            sec.html += Markup(f'<p class="source">Emerging terms in texts: {escape(", ".join(terms[:10]))}</p>')
        return sec

    return [_safe("Rising and falling", chart),
            _safe("Rising and falling items", lambda: _table(data, "trends", mode, note=(
                f"{_trend_window(data)}; evidence: {data.trends('item').attrs.get('evidence', 'none')}."))),
            _safe("Category trends", lambda: _table(data, "category-trends", mode))]


def voice(data: ShopData, mode: TableMode = STATIC) -> list[Section]:
    """What customers praise and blame (aspects), competitors, and example texts."""

    def aspect_trend() -> Section | None:
        df = data.aspects()
        wide = df.pivot_table(index="period", columns="aspect", values="sent_mean").reset_index()
        top = df.groupby("aspect")["mentions"].sum().nlargest(6).index.tolist()
        fig = figures.lines_figure(wide.rename(columns={"period": "ds"}),
                                   "Aspect sentiment per week (-1 to 1)", columns=top, max_lines=6)
        return _fig("Aspect sentiment over time", fig)

    return [_safe(TABLES["aspects"][0], lambda: _table(data, "aspects", mode)),
            _safe("Aspect sentiment over time", aspect_trend),
            _safe("Competitor mentions", lambda: _fig("Competitor mentions",
                                                      figures.voice_figure(data.voice(), "competitor"))),
            _safe(TABLES["competitors"][0], lambda: _table(data, "competitors", mode)),
            _safe("What customers said", lambda: _table(data, "voice-examples", mode))]


def new_product(data: ShopData, product: dict[str, object] | None, form: bool = False,
                why: str = "") -> list[Section]:
    """The cold-start form (dashboard) and the forecast with its nearest items; without a
    product, ``why`` there is none (the report says it rather than show an empty page)."""
    unit = data.unit()
    sections: list[Section] = []
    if form:
        cats = data.categories()
        p = product or {}
        options = "".join(f'<option{" selected" if c == p.get("category") else ""}>{escape(c)}</option>' for c in cats)
        sections.append(Section("Describe the new product", Markup(f"""
<form class="newproduct" method="get" action="/new-product">
  <label>Category <select name="category" id="np-category">{options}</select></label>
  <label>Price <input type="number" step="0.01" min="0.01" name="price" id="np-price" required
     value="{escape(p.get("price", ""))}"></label>
  <label>Title <input type="text" name="title" id="np-title" maxlength="200" value="{escape(p.get("title", ""))}"></label>
  <label>Description <textarea name="description" id="np-description" maxlength="2000" rows="2">{
      escape(p.get("description", ""))}</textarea></label>
  <button type="submit" id="np-submit">Forecast</button>
</form>"""), kind="form"))
    if product is None:
        if why:
            sections.append(Section("New product forecast", missing=why, kind="missing"))
        return sections

    def forecast() -> Section:
        fc = data.new_product(product)
        total = fc["forecast"].sum()
        neighbours = fc.attrs.get("neighbours", [])
        values = {f"Units in {fc['day'].max()} {unit}s": f"{total:,.0f}",
                  f"Units per {unit} (level)": f"{fc.attrs.get('daily_level', float('nan')):,.2f}",
                  "Matched by": str(fc.attrs.get("text_method", "?"))}
        near = with_titles(pd.DataFrame({"item_id": neighbours}), data.titles())
        near_html = Markup("<h3>Nearest items</h3>") + _top(near, list(near.columns), rows=len(near), links=form)
        if form:
            query = urlencode({k: product.get(k, "") for k in ("category", "price", "title", "description")})
            near_html += Markup(f'<p class="more"><a href="/copy?{escape(query)}">write marketing copy for it →</a></p>')
        return Section("New-product forecast", Markup(_kpi_html(values))
                       + figure_html(figures.coldstart_figure(fc, unit), "newproduct-forecast") + near_html)

    sections.append(_safe("New-product forecast", forecast))
    return sections


def recommendations(data: ShopData, user: str | None, form: bool = False) -> list[Section]:
    users = data.active_users()
    sections: list[Section] = []
    if not users:
        return [Section("Recommendations", missing="The warehouse has no behaviour events: run "
                        "`trendcast ingest --events FILE`.", kind="missing")]
    chosen = user if user else users[0]
    if form:
        options = "".join(f'<option{" selected" if u == chosen else ""}>{escape(u)}</option>' for u in users)
        sections.append(Section("User", Markup(f"""<form class="picker" method="get" action="/recommendations">
<label for="user">User token</label><input list="users" id="user" name="user" value="{escape(chosen)}" maxlength="128">
<datalist id="users">{options}</datalist><button type="submit">Recommend</button></form>"""), kind="form"))

    def table() -> Section:
        recs = with_titles(data.recommendations([chosen]), data.titles())
        return Section(f"Top items for {chosen}", _top(recs, [c for c in recs.columns if c != "user_token"],
                                                       rows=len(recs), links=form), kind="table")

    sections.append(_safe("Recommendations", table))
    return sections


def copy_page(data: ShopData, item_id: str | None, product: dict[str, object] | None, lang: str,
              kind: str) -> list[Section]:
    """Marketing copy or a description for an item or a new product, with the facts it used."""
    from trendcast.report.copywriting import write_copy
    from trendcast.report.narrative import LLMConfig

    items = data.series()[["item_id", "title"]].drop_duplicates("item_id")
    options = "".join(f'<option value="{escape(i)}"{" selected" if i == item_id else ""}>{escape(i)} · {escape(t)}'
                      "</option>" for i, t in zip(items["item_id"], items["title"], strict=True))
    langs = "".join(f'<option value="{v}"{" selected" if v == lang else ""}>{n}</option>'
                    for v, n in (("en", "English"), ("zh", "中文")))
    kinds = "".join(f'<option{" selected" if v == kind else ""}>{v}</option>' for v in ("marketing", "description"))
    form = Section("Write copy", Markup(f"""<form class="picker" method="get" action="/copy">
<label for="copy-item">Item</label><select id="copy-item" name="item_id">{options}</select>
<label for="copy-lang">Language</label><select id="copy-lang" name="lang">{langs}</select>
<label for="copy-kind">Kind</label><select id="copy-kind" name="kind">{kinds}</select>
<button type="submit" id="copy-submit">Write</button></form>
<p class="source">For a new product, use the New product page's form and its "write copy" link.</p>"""), kind="form")
    if item_id is None and product is None:
        return [form]

    def text() -> Section:
        if data.db is None:
            raise NotReadyError("Copy needs the warehouse file.")
        result = write_copy(data.db, item_id=item_id, product=product, lang=lang, kind=kind, llm=LLMConfig.from_env())
        f = result.facts
        facts = {"praised": ", ".join(f.praised) or "–", "criticised": ", ".join(f.criticised) or "–",
                 "buyers' words": ", ".join(f.hot_terms[:6]) or "–",
                 "price position": f.price_position or "–",
                 f"trend ({f.trend_window})": "–" if f.trend_pct is None else f"{f.trend_pct:+.1f}%",
                 "rating": "–" if f.rating is None else f"{f.rating:.1f} ({f.reviews:,} reviews)"}
        html = Markup(f'<blockquote class="copy" id="copy-text" lang="{escape(lang)}">{escape(result.text)}</blockquote>'
                      f'<p class="source">{escape(result.source)}</p><h3>Facts given to the writer</h3>'
                      f"{_kpi_html(facts)}")
        return Section(f"Copy: {f.title}", html)

    return [form, _safe("Copy", text)]


def hotspots(data: ShopData, mode: TableMode = STATIC) -> list[Section]:
    def table() -> Section:
        return _table(data, "hotspots", mode)

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
        return _fig("Category signals", figures.lines_figure(wide, f"Category text signals: {feature_label(col)}",
                                                             columns=[c for c in wide.columns if c != "ds"]))

    return [_safe("Hot spots", table), _safe("Category signals", categories)]


def alerts(data: ShopData, mode: TableMode = STATIC) -> list[Section]:
    notes = []

    def risk() -> Section:
        frame = data.risk_warnings()
        notes.extend(frame.attrs.get("notes", []))
        return _table(data, "risks", mode, note="; ".join(notes) or None, empty="No risk warnings.")

    return [_safe("Orders to place", lambda: _table(data, "orders", mode, empty="No series needs an order this period.")),
            _safe("Stock-out alerts", lambda: _table(data, "stockouts", mode,
                                                     empty="No series runs short before replenishment.")),
            _safe("Risk warnings", risk),
            _safe("Inventory plan", lambda: _table(data, "plan", mode))]


def _prefer(df: pd.DataFrame, prefixes: tuple[str, ...]) -> list[str]:
    """Rolling-window columns (``<prefix><N>d``) present in ``df``, in the order of ``prefixes``."""
    return [c for p in prefixes for c in df.columns if c.startswith(p) and c.endswith("d")
            and c[len(p):-1].isdigit()][: len(prefixes)]


def _kpi_html(values: dict[str, str]) -> str:
    cells = "".join(f'<div class="kpi"><span>{escape(k)}</span><b>{escape(v)}</b></div>'
                    for k, v in values.items())
    return f'<div class="kpis">{cells}</div>'
