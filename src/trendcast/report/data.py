"""Read-only views of the warehouse for the dashboard, the REST API and the HTML report.

Every other stage writes its own table (``forecasts``, ``signals_item_daily``, ...). This module
reads them defensively: a table that is not there yet raises :class:`NotReadyError` naming the
command that produces it, so the API answers 404 with that message and the dashboard shows a
"not computed yet" card instead of crashing. Column names vary a little between stages
(``ds`` or ``date``), so readers normalise them here, in one place.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from trendcast.data import periods
from trendcast.data.schema import NO_STORE
from trendcast.data.warehouse import SERIES_SEP, UNKNOWN_CATEGORY, period_sales_sql
from trendcast.errors import InputError, NotReadyError
from trendcast.features.frequency import unit as period_unit

log = logging.getLogger("trendcast.report")
QUANTILE_RE = re.compile(r"^q(0\.\d+)$")

# table -> the command that fills it (the hint shown when it is missing)
PRODUCERS: dict[str, str] = {
    "sales": "trendcast ingest --sales FILE",
    "texts": "trendcast ingest --texts FILE",
    "forecasts": "trendcast forecast",
    "backtest_metrics": "trendcast backtest",
    "signals_item_daily": "trendcast signals",
    "signals_category_daily": "trendcast signals",
    "hotspots": "trendcast signals",
    "inventory_plan": "trendcast plan-inventory",
    "alerts": "trendcast alerts",
    "explanations": "trendcast explain",
}

# Views other stages compute on request rather than store: view -> the table they need.
ON_DEMAND: dict[str, str] = {"hotspots": "text_scores", "inventory_plan": "sales", "alerts": "sales"}

@dataclass(frozen=True)
class Band:
    """The quantile columns drawn as an interval: outer (widest) and, when present, inner."""

    lo: str | None
    hi: str | None
    inner_lo: str | None = None
    inner_hi: str | None = None


def quantile_levels(columns: list[str]) -> dict[float, str]:
    """``{0.1: 'q0.1', 0.9: 'q0.9'}`` for the quantile columns of a forecast frame."""
    out = {float(m.group(1)): c for c in columns if (m := QUANTILE_RE.match(c))}
    return dict(sorted(out.items()))


def band_of(columns: list[str]) -> Band:
    """Pick the widest symmetric pair for the outer band and the next one for the inner band."""
    levels = quantile_levels(columns)
    lows = [q for q in levels if q < 0.5]
    highs = [q for q in levels if q > 0.5]
    if not lows or not highs:
        return Band(None, None)
    outer = Band(levels[lows[0]], levels[highs[-1]])
    if len(lows) > 1 and len(highs) > 1:
        return Band(outer.lo, outer.hi, levels[lows[1]], levels[highs[-2]])
    return outer


def series_id(store_id: str, item_id: str) -> str:
    return item_id if store_id == NO_STORE else f"{store_id}{SERIES_SEP}{item_id}"


class _Reads:
    """The two read methods of :class:`~trendcast.data.warehouse.Warehouse` the text summaries use,
    over this request's cursor (the server holds the warehouse; a second connection would wait)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def has_table(self, name: str) -> bool:
        q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
        return bool(self.con.execute(q, [name]).fetchone()[0])

    def table(self, name: str) -> pd.DataFrame:
        return self.con.execute(f'SELECT * FROM "{name}"').df()


class ShopData:
    """Reads through one DuckDB connection (a cursor per request in the API).

    With ``db`` (the warehouse path) it can also ask other stages' Python functions for views
    they compute on demand rather than store (inventory plan, alerts, hot spots).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, db: Path | None = None,
                 memo: dict[str, object] | None = None) -> None:
        self.con = con
        self.db = db
        # computed views; the server passes one dict per data generation so requests share them
        self._memo: dict[str, object] = {} if memo is None else memo

    # -- table discovery -------------------------------------------------------------------
    def tables(self) -> set[str]:
        rows = self.con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        return {r[0] for r in rows}

    def resolve(self, logical: str) -> str | None:
        """``logical`` when the warehouse has that table, else None."""
        return logical if logical in self.tables() else None

    def require(self, logical: str, what: str) -> str:
        table = self.resolve(logical)
        if table is None or self.count(table) == 0:
            hint = PRODUCERS.get(logical, "the stage that produces it")
            raise NotReadyError(f"{what} not computed yet — run `{hint}`.")
        return table

    def count(self, table: str) -> int:
        return int(self.con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    def columns(self, table: str) -> list[str]:
        q = "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position"
        return [r[0] for r in self.con.execute(q, [table]).fetchall()]

    def frame(self, logical: str, what: str, limit: int | None = None) -> pd.DataFrame:
        """Any derived table as a frame (dates normalised to ``ds``) or NotReadyError."""
        table = self.require(logical, what)
        sql = f'SELECT * FROM "{table}"' + (f" LIMIT {int(limit)}" if limit else "")
        return _normalise(self.con.execute(sql).df())

    # -- sales -----------------------------------------------------------------------------
    def status(self) -> dict[str, object]:
        """Which stages have produced their tables (the dashboard's checklist)."""
        present = self.tables()
        out: dict[str, object] = {}
        for logical in PRODUCERS:
            table = logical if logical in present else None
            ready = bool(table) and self.count(table) > 0
            source = ON_DEMAND.get(logical)
            if not ready and self.db is not None and source in present and self.count(source) > 0:
                table, ready = f"computed on demand from {source}", True
            out[logical] = {"ready": ready, "table": table, "command": PRODUCERS[logical]}
        return out

    def _config(self, key: str) -> str | None:
        """A value of the warehouse's ``config`` table (None when absent)."""
        if key not in self._memo:
            try:
                row = self.con.execute("SELECT value FROM config WHERE key = ?", [key]).fetchone()
            except duckdb.Error:
                row = None
            self._memo[key] = row[0] if row and row[0] else None
        return self._memo[key]  # type: ignore[return-value]

    def freq(self) -> str:
        """The data's period as a pandas offset alias (``config.freq``; old warehouses are daily)."""
        return str(self._config("freq") or "D")

    def data_freq(self) -> str:
        """The sales dates' own period (config ``data_freq``): finer than :meth:`freq` when daily
        sales are forecast weekly or monthly."""
        return str(self._config("data_freq") or self.freq())

    def unit(self) -> str:
        """``day``/``week``/``month``: what one row of the sales panel covers."""
        return period_unit(self.freq())

    def summary(self) -> dict[str, object]:
        self.require("sales", "Sales")
        row = self.con.execute(
            "SELECT count(DISTINCT (store_id, item_id)), count(DISTINCT item_id), min(date), max(date),"
            " sum(units) FROM sales"
        ).fetchone()
        cats = self.con.execute(
            "SELECT count(DISTINCT p.category) FROM (SELECT DISTINCT item_id FROM sales) s "
            "JOIN products p USING (item_id) WHERE p.category IS NOT NULL AND p.category <> ''").fetchone()[0]
        return {"series": int(row[0]), "items": int(row[1]), "first_day": str(row[2]),
                "last_day": str(row[3]), "units_total": float(row[4] or 0), "categories": int(cats),
                "unit": self.unit()}

    def titles(self) -> pd.Series:
        """``item_id -> title`` from the products table (empty when no titles were given)."""
        if "titles" not in self._memo:
            df = self.con.execute("SELECT item_id, title FROM products WHERE title IS NOT NULL AND title <> ''").df()
            self._memo["titles"] = df.set_index("item_id")["title"]
        return self._memo["titles"]  # type: ignore[return-value]

    def first_series(self, item_id: str) -> str:
        """The best-selling series of an item (where an item-level decision links to)."""
        row = self.con.execute(
            "SELECT store_id FROM sales WHERE item_id = ? GROUP BY store_id ORDER BY sum(units) DESC LIMIT 1",
            [item_id]).fetchone()
        if row is None:
            raise InputError(f"Unknown item '{item_id}': it has no sales.", column="item_id")
        return series_id(row[0], item_id)

    def series(self) -> pd.DataFrame:
        """``unique_id, store_id, item_id, category, title`` for every series with sales."""
        self.require("sales", "Sales")
        sql = f"""
        SELECT DISTINCT CASE WHEN s.store_id = '{NO_STORE}' THEN s.item_id
                    ELSE s.store_id || '{SERIES_SEP}' || s.item_id END AS unique_id,
               s.store_id, s.item_id, coalesce(p.category, '{UNKNOWN_CATEGORY}') AS category,
               coalesce(p.title, s.item_id) AS title
        FROM sales s LEFT JOIN products p USING (item_id) ORDER BY unique_id"""
        return self.con.execute(sql).df()

    def split_id(self, unique_id: str) -> tuple[str, str]:
        """``"S1/I001"`` -> ``("S1", "I001")``; an unknown id is an InputError (HTTP 422)."""
        store, _, item = unique_id.rpartition(SERIES_SEP)
        hit = self.con.execute(
            "SELECT 1 FROM sales WHERE store_id = ? AND item_id = ? LIMIT 1", [store or NO_STORE, item]
        ).fetchone()
        if hit is None:
            raise InputError(f"Unknown series '{unique_id}': use an id from /api/v1/series.",
                             column="unique_id")
        return store or NO_STORE, item

    def history(self, unique_id: str | None = None, category: str | None = None,
                days: int = 180) -> pd.DataFrame:
        """Units per period ``ds, y`` for one series, one category or the whole shop (last ``days``)."""
        self.require("sales", "Sales")
        where, params = "1=1", []
        if unique_id is not None:
            store, item = self.split_id(unique_id)
            where, params = "s.store_id = ? AND s.item_id = ?", [store, item]
        elif category is not None:
            where, params = "p.category = ?", [category]
        return self._units_per_period(where, params, days).drop(columns="category")

    def category_history(self, days: int = 180) -> pd.DataFrame:
        """Units per period ``category, ds, y`` for every category (last ``days``)."""
        self.require("sales", "Sales")
        return self._units_per_period("1=1", [], days, by_category=True)

    def _units_per_period(self, where: str, params: list[object], days: int,
                          by_category: bool = False) -> pd.DataFrame:
        """Units summed into the forecast's periods, a period without sales rows counted as 0.

        Daily sales forecast weekly are shown as weeks, next to the weekly forecast; and a
        missing row in an order log means nothing was sold, so a chart must not draw a line
        across it. Each selection starts at its first sale within the window.
        """
        freq = self.freq()
        category = f"coalesce(p.category, '{UNKNOWN_CATEGORY}')" if by_category else "''"
        grid = periods.grid_sql("sp.first", "last.d", freq)
        sql = f"""
        WITH s AS ({period_sales_sql(freq, self.data_freq())}),
        last AS (SELECT max(ds) AS d FROM s),
        rows AS (
            SELECT {category} AS category, s.ds, sum(s.units) AS y
            FROM s LEFT JOIN products p USING (item_id), last
            WHERE {where} AND s.ds > last.d - INTERVAL {int(days)} DAY GROUP BY ALL),
        span AS (SELECT category, min(ds) AS first FROM rows GROUP BY category)
        SELECT sp.category, CAST(g.ds AS DATE) AS ds, coalesce(r.y, 0) AS y
        FROM span sp, last, LATERAL ({grid}) g
        LEFT JOIN rows r ON r.category = sp.category AND r.ds = CAST(g.ds AS DATE)
        ORDER BY 1, 2"""
        return _normalise(self.con.execute(sql, params).df())

    # -- forecasts -------------------------------------------------------------------------
    def _forecast_run(self) -> tuple[str, str, list[object]]:
        """(table, WHERE clause, params) selecting the latest run that `trendcast forecast` stored."""
        table = self.require("forecasts", "Forecasts")
        run = self.con.execute(f'SELECT run_id FROM "{table}" ORDER BY created_at DESC LIMIT 1').fetchone()[0]
        return table, "run_id = ?", [run]

    def _forecast_rows(self, extra: str = "", params: list[object] | None = None) -> pd.DataFrame:
        """Rows of the shown run with the stored JSON quantiles as ``q0.1``... columns."""
        table, where, run_params = self._forecast_run()
        sql = f'SELECT * FROM "{table}" WHERE {where} {extra}'
        df = _normalise(self.con.execute(sql, [*run_params, *(params or [])]).df())
        if "quantiles" in df.columns:
            q = pd.DataFrame([json.loads(v) if v else {} for v in df.pop("quantiles")], index=df.index)
            q.columns = [f"q{c}" for c in q.columns]
            df = pd.concat([df, q], axis=1)
        if "unique_id" not in df.columns and {"store_id", "item_id"} <= set(df.columns):
            df["unique_id"] = [series_id(s, i) for s, i in zip(df["store_id"], df["item_id"], strict=True)]
        return df

    def _bottom_level(self) -> str | None:
        """The hierarchy level holding the sales series (the one with most distinct ids)."""
        table, where, params = self._forecast_run()
        if "level" not in self.columns(table):
            return None
        row = self.con.execute(
            f'SELECT level FROM "{table}" WHERE {where} GROUP BY level ORDER BY count(DISTINCT unique_id) DESC LIMIT 1',
            params).fetchone()
        return None if row is None else row[0]

    def forecasts(self, unique_id: str | None = None) -> pd.DataFrame:
        """Stored forecasts ``unique_id, ds, forecast, q...`` of the sales series (one run/model)."""
        extra, params = "", []
        bottom = self._bottom_level()
        if bottom is not None:
            extra, params = "AND level = ?", [bottom]
        if unique_id is not None:
            extra, params = f"{extra} AND unique_id = ?", [*params, unique_id]
        df = self._forecast_rows(extra, params)
        if unique_id is not None and df.empty:
            self.split_id(unique_id)  # raises a clear InputError for unknown ids
            raise NotReadyError(f"No forecast stored for '{unique_id}' — run `trendcast forecast`.")
        keep = ["unique_id", "ds", "forecast", *quantile_levels(list(df.columns)).values()]
        keep += [c for c in ("model",) if c in df.columns]
        return df[[c for c in keep if c in df.columns]].sort_values(["unique_id", "ds"]).reset_index(drop=True)

    def aggregate_forecasts(self, by_category: bool = False) -> pd.DataFrame:
        """Shop or category totals: stored aggregate levels when the run has them, else sums.

        A stored ``total``/``category`` level carries its own (reconciled) quantiles. Summing item
        forecasts is right for the point forecast, but quantiles do not add up: the band is then
        the sum of item quantiles, a conservative (too wide) interval, and ``attrs['band']`` says so.
        """
        level = "category" if by_category else "total"
        table, _, _ = self._forecast_run()
        if "level" in self.columns(table):
            stored = self._forecast_rows("AND level = ?", [level])
            qcols = list(quantile_levels(list(stored.columns)).values())
            if not stored.empty and qcols and stored[qcols].notna().any().any():  # has its own band
                if by_category:
                    stored["category"] = stored["unique_id"].astype(str).str.replace(r"^cat:", "", regex=True)
                keys = ["category", "ds"] if by_category else ["ds"]
                out = stored[[*keys, "forecast", *qcols]].sort_values(keys).reset_index(drop=True)
                out.attrs["band"] = "stored"
                return out
        fc = self.forecasts()
        qcols = list(quantile_levels(list(fc.columns)).values())
        if by_category:
            cats = self.series()[["unique_id", "category"]]
            fc = fc.merge(cats, on="unique_id", how="left").fillna({"category": UNKNOWN_CATEGORY})
            keys = ["category", "ds"]
        else:
            keys = ["ds"]
        out = fc.groupby(keys, as_index=False)[["forecast", *qcols]].sum()
        out.attrs["band"] = "summed"
        return out

    # -- accuracy, signals, decisions, explanations ------------------------------------------
    def metrics(self) -> pd.DataFrame:
        """Backtest leaderboard of the latest ``trendcast backtest`` (one row per model)."""
        return self.frame("backtest_metrics", "Backtest accuracy")

    def signals_item(self, item_id: str, days: int | None = None) -> pd.DataFrame:
        """One item's daily text signals (the last ``days`` days of signals, all when None)."""
        table = self.require("signals_item_daily", "Item text signals")
        sql = f'SELECT * FROM "{table}" WHERE item_id = ?{_last_days(table, days)}'
        df = _normalise(self.con.execute(sql, [item_id]).df())
        if df.empty:
            self._known("item_id", item_id)
        return df.sort_values("ds") if "ds" in df.columns else df

    def _known(self, column: str, value: str) -> None:
        """An InputError (HTTP 422) when neither the sales nor the catalogue know ``value``, so an
        empty answer means "no texts about it", never "no such item"."""
        tables = ("sales", "products") if column == "item_id" else ("products",)
        sql = " UNION ALL ".join(f"SELECT 1 FROM {t} WHERE {column} = ?" for t in tables) + " LIMIT 1"
        if self.con.execute(sql, [value] * len(tables)).fetchone() is None:
            raise InputError(f"Unknown {column.replace('_id', '')} '{value}': use one from /api/v1/series.",
                             column=column)

    def signals_category(self, category: str | None = None, days: int | None = None) -> pd.DataFrame:
        """Daily text signals per category (the last ``days`` days of signals, all when None)."""
        table = self.require("signals_category_daily", "Category text signals")
        since = _last_days(table, days)
        if category is None:
            df = self.con.execute(f'SELECT * FROM "{table}" WHERE TRUE{since}').df()
        else:
            df = self.con.execute(f'SELECT * FROM "{table}" WHERE category = ?{since}', [category]).df()
            if df.empty:
                self._known("category", category)
        df = _normalise(df)
        return df.sort_values("ds") if "ds" in df.columns else df

    def reviews_weekly(self, item_id: str) -> pd.DataFrame:
        """Reviews per week and mean star rating straight from the ``texts`` table."""
        sql = """SELECT date_trunc('week', date) AS ds, count(*) AS reviews, avg(rating) AS mean_rating
                 FROM texts WHERE item_id = ? GROUP BY 1 ORDER BY 1"""
        return _normalise(self.con.execute(sql, [item_id]).df())

    def _computed(self, key: str, what: str, command: str, compute: Callable[[Path], object]) -> object:
        """A stage function's answer for this warehouse (memoised), or NotReadyError when absent."""
        if key in self._memo:
            return self._memo[key]
        if self.db is None:
            raise NotReadyError(f"{what} not computed yet — run `{command}`.")
        value = compute(self.db)
        self._memo[key] = value
        return value

    def hotspots(self) -> pd.DataFrame:
        """Stored hot spots, else :func:`trendcast.text.hotspots.hotspots` over the last 28 days."""
        if self.resolve("hotspots"):
            return self.frame("hotspots", "Hot spots")

        def compute(db: Path) -> pd.DataFrame:
            from trendcast.text.hotspots import hotspots

            last = self.con.execute("SELECT max(date) FROM texts").fetchone()[0]
            if last is None:
                raise NotReadyError("Hot spots need texts — run `trendcast ingest --texts FILE`.")
            return hotspots(db, since=str(pd.Timestamp(last) - pd.Timedelta(days=28))[:10], top=15)

        return self._computed("hotspots", "Hot spots", "trendcast signals", compute)

    def _plan(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        def compute(db: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
            from trendcast.decide.workflows import plan_inventory

            return plan_inventory(db)

        return self._computed("plan", "Inventory plan", "trendcast plan-inventory", compute)

    def alerts(self) -> pd.DataFrame:
        """Stock-out alerts: stored, else from :func:`trendcast.decide.workflows.plan_inventory`."""
        if self.resolve("alerts"):
            return self.frame("alerts", "Inventory alerts")
        return self._plan()[1]

    def inventory_plan(self) -> pd.DataFrame:
        if self.resolve("inventory_plan"):
            return self.frame("inventory_plan", "Inventory plan")
        return self._plan()[0]

    def risk_warnings(self) -> pd.DataFrame:
        """Sales anomalies, sentiment drops and unusually wide intervals (decisions stage)."""

        def compute(db: Path) -> pd.DataFrame:
            from trendcast.decide.workflows import alerts

            frame, notes = alerts(db)
            frame.attrs["notes"] = notes
            return frame

        return self._computed("risk", "Risk warnings", "trendcast alerts", compute)

    # -- decisions (computed by trendcast.decide; surfaced here, never re-implemented) ----------
    def pricing(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(elasticities with intervals, recommended prices) from
        :func:`trendcast.decide.workflows.price_recommendations`."""

        def compute(db: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
            from trendcast.decide.workflows import price_recommendations

            return price_recommendations(db)

        return self._computed("pricing", "Price recommendations", "trendcast price", compute)  # type: ignore[return-value]

    def price_recommendations(self) -> pd.DataFrame:
        """Recommended prices, biggest expected margin (else revenue) gain first."""
        recs = self.pricing()[1].copy()
        if recs.empty:
            return recs
        recs["change_pct"] = (100 * (recs["recommended_price"] / recs["current_price"] - 1)).round(1)
        gain = recs["margin_change_per_period"].fillna(recs["revenue_change_per_period"])
        cols = ["item_id", "category", "current_price", "recommended_price", "change_pct",
                "revenue_change_per_period", "margin_change_per_period", "elasticity", "units_per_period_now",
                "units_per_period_new", "objective"]
        return recs.assign(_gain=gain).sort_values("_gain", ascending=False)[cols].reset_index(drop=True)

    def elasticities(self) -> pd.DataFrame:
        est = self.pricing()[0]
        cols = [c for c in ("item_id", "category", "elasticity", "elasticity_low", "elasticity_high", "basis",
                            "n_obs") if c in est.columns]
        return est[cols].sort_values("elasticity").reset_index(drop=True)

    def promotions(self) -> pd.DataFrame:
        """Promotion uplift per item with its interval; ``worth_running`` when the interval is above zero."""
        est = self.pricing()[0]
        need = {"promo_uplift", "promo_uplift_low", "promo_uplift_high"}
        if not need <= set(est.columns):
            raise NotReadyError("Promotion uplift needs a promo column in the sales data.")
        out = est[["item_id", "category", "promo_uplift", "promo_uplift_low", "promo_uplift_high", "basis"]].copy()
        out = out.dropna(subset=["promo_uplift"])
        for col in ("promo_uplift", "promo_uplift_low", "promo_uplift_high"):
            out[col] = (100 * out[col]).round(1)
        out = out.rename(columns={"promo_uplift": "uplift_pct", "promo_uplift_low": "uplift_low_pct",
                                  "promo_uplift_high": "uplift_high_pct"})
        out.insert(2, "worth_running", out["uplift_low_pct"] > 0)
        return out.sort_values(["worth_running", "uplift_pct"], ascending=False).reset_index(drop=True)

    def trends(self, level: str = "item") -> pd.DataFrame:
        """Rising/stable/falling items (or categories) with their text evidence."""

        def compute(db: Path) -> pd.DataFrame:
            from trendcast.decide.workflows import trends

            return trends(db, level=level)

        return self._computed(f"trends-{level}", "Trends", "trendcast trends", compute)  # type: ignore[return-value]

    def recommendations(self, users: list[str] | None = None, k: int = 10) -> pd.DataFrame:
        from trendcast.decide.workflows import recommendations

        if self.db is None:
            raise NotReadyError("Recommendations not computed yet — run `trendcast recommend`.")
        key = "recs-" + ",".join(users or [])
        if key not in self._memo:
            self._memo[key] = recommendations(self.db, users=users, k=k, trend_boost=0.0)
        return self._memo[key]  # type: ignore[return-value]

    def active_users(self, n: int = 20) -> list[str]:
        """The ``n`` users with most behaviour events (the recommendation page's picker)."""
        if "events" not in self.tables():
            return []
        rows = self.con.execute("SELECT user_token FROM events GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ?",
                                [n]).fetchall()
        return [r[0] for r in rows]

    def categories(self) -> list[str]:
        rows = self.con.execute("SELECT DISTINCT category FROM products WHERE category IS NOT NULL ORDER BY 1").fetchall()
        return [r[0] for r in rows]

    def new_product(self, item: dict[str, object], h: int | None = None) -> pd.DataFrame:
        """Cold-start forecast (per store) for a product with no sales; ``attrs`` name its neighbours."""
        from trendcast.decide.workflows import new_product

        if self.db is None:
            raise NotReadyError("A new-product forecast needs the warehouse file.")
        try:
            return new_product(self.db, item, h=h)
        except duckdb.ConnectionException:
            # the report reads read-only, so the encoder cannot cache vectors: match by TF-IDF
            from trendcast.data.warehouse import Warehouse
            from trendcast.decide.coldstart import cold_start_forecast

            with Warehouse(self.db, read_only=True) as wh:
                panel, products = wh.sales_panel(), wh.table("products")
            return cold_start_forecast(panel, products, item, h=h)

    def orders(self) -> pd.DataFrame:
        """This period's orders: series at or below their reorder point (or short before
        replenishment), with the quantity to order and the day stock runs out."""
        plan = self.inventory_plan().copy()
        if "on_hand" not in plan.columns or plan["on_hand"].isna().all():  # no counts: not "order all"
            raise NotReadyError("Stock on hand is unknown (no inventory counts), so no order can be "
                                "sized — load them with `trendcast ingest --inventory FILE`.")
        last = pd.Timestamp(self.con.execute("SELECT max(date) FROM sales").fetchone()[0])
        try:
            alerts = self.alerts()
        except NotReadyError:
            alerts = pd.DataFrame()
        if not alerts.empty and "days_of_cover" in alerts.columns:
            plan = plan.merge(alerts[["unique_id", "days_of_cover", "status"]], on="unique_id", how="left")
        else:
            plan["days_of_cover"], plan["status"] = float("nan"), None
        due = (plan["order_qty"] > 0) & ((plan["on_hand"] <= plan["reorder_point"]) | plan["status"].notna())
        out = plan[due].copy()
        # days_of_cover counts days at every frequency (plan_inventory converts weeks/months)
        out["stockout_date"] = [last + pd.Timedelta(days=max(1, math.ceil(d))) if pd.notna(d) else pd.NaT
                                for d in out["days_of_cover"]]
        out["status"] = out["status"].fillna("at reorder point")
        cols = ["unique_id", "item_id", "order_qty", "on_hand", "stockout_date", "status", "reorder_point",
                "order_up_to", "days_of_cover", "safety_stock"]
        out = out[[c for c in cols if c in out.columns]]
        return out.sort_values(["days_of_cover", "order_qty"], ascending=[True, False],
                               na_position="last").reset_index(drop=True)

    def voice(self, freq: str = "W") -> pd.DataFrame:
        """Mentions of consumer needs and competitors per week: ``ds, kind, name, mentions``."""
        if "text_scores" not in self.tables() or "mentions" not in self.columns("text_scores"):
            raise NotReadyError("Needs and competitor mentions not computed yet — run `trendcast signals`.")
        df = self.con.execute(
            "SELECT date_trunc('week', date) AS ds, trim(m) AS name, count(*) AS mentions FROM "
            "(SELECT date, unnest(string_split(mentions, ',')) AS m FROM text_scores "
            " WHERE mentions IS NOT NULL AND mentions <> '') GROUP BY ALL ORDER BY 1, 2").df()
        if df.empty:
            raise NotReadyError("No text mentions a consumer need or a competitor yet.")
        df = df[df["name"] != ""]
        df["kind"] = df["name"].map(lambda n: "competitor" if n.startswith("comp_") else "need")
        df["name"] = df["name"].str.replace(r"^(need|comp)_", "", regex=True)
        return _normalise(df[["ds", "kind", "name", "mentions"]])

    def action_counts(self) -> dict[str, tuple[int, str]]:
        """What needs a decision now: label -> (count, dashboard page). Also the narrative's facts."""
        readers: list[tuple[str, str, Callable[[], int]]] = [
            ("orders to place", "/alerts", lambda: len(self.orders())),
            ("price changes", "/pricing",
             lambda: int((self.price_recommendations()["change_pct"].abs() >= 0.5).sum())),
            ("promotions worth running", "/promotions", lambda: int(self.promotions()["worth_running"].sum())),
            ("rising items", "/trends", lambda: int((self.trends("item")["trend"] == "rising").sum())),
            ("falling items", "/trends", lambda: int((self.trends("item")["trend"] == "falling").sum())),
            ("risk warnings", "/alerts", lambda: len(self.risk_warnings())),
        ]
        out: dict[str, tuple[int, str]] = {}
        for label, page, count in readers:
            try:
                out[label] = (count(), page)
            except Exception:  # noqa: BLE001 - a stage that cannot run leaves its count out
                log.debug("action count %r unavailable", label, exc_info=True)
        return out

    def aspects(self, freq: str = "W") -> pd.DataFrame:
        """What customers praise and blame per period and aspect (:func:`~trendcast.text.aspects.aspect_summary`)."""
        from trendcast.text.aspects import aspect_summary

        return aspect_summary(self._reads(), freq=freq)

    def competitors(self, freq: str = "W") -> pd.DataFrame:
        """Competitors' share of voice and sentiment per period (:func:`~trendcast.text.competitors.competitor_summary`)."""
        from trendcast.text.competitors import competitor_summary

        return competitor_summary(self._reads(), freq=freq)

    def latest_aspects(self) -> pd.DataFrame:
        """The latest week's aspects, most criticised first (the voice page's table)."""
        df = self.aspects()
        if df.empty:
            return df
        return df[df["period"] == df["period"].max()].sort_values("sent_mean").reset_index(drop=True)

    def _reads(self) -> _Reads:
        return _Reads(self.con)

    def voice_examples(self, per_name: int = 3) -> pd.DataFrame:
        """The latest texts mentioning each need or competitor (what people actually said)."""
        if "text_scores" not in self.tables():
            raise NotReadyError("Needs and competitor mentions not computed yet — run `trendcast signals`.")
        sql = """
        WITH m AS (SELECT s.text_id, s.date, s.item_id, s.label, trim(x) AS name FROM text_scores s,
                   unnest(string_split(s.mentions, ',')) AS t(x) WHERE s.mentions IS NOT NULL AND s.mentions <> '')
        SELECT m.name, m.date, m.item_id, m.label, t.text FROM m JOIN texts t USING (text_id)
        WHERE m.name <> ''
        QUALIFY row_number() OVER (PARTITION BY m.name ORDER BY m.date DESC, m.text_id) <= ?
        ORDER BY m.name, m.date DESC"""
        df = self.con.execute(sql, [per_name]).df()
        df.insert(0, "kind", df["name"].map(lambda n: "competitor" if n.startswith("comp_") else "need"))
        df["name"] = df["name"].str.replace(r"^(need|comp)_", "", regex=True)
        return _normalise(df)

    def explanations(self, unique_id: str) -> pd.DataFrame:
        """Feature contributions for one series from the latest explanation run that has it.

        Falls back to the latest shop-wide (global) rows; ``attrs['scope']`` says which.
        """
        table = self.require("explanations", "Forecast drivers")
        cols = set(self.columns(table))
        if not {"feature", "unique_id"} <= cols:  # a wide or unknown layout: show it as stored
            df = _normalise(self.con.execute(f'SELECT * FROM "{table}"').df())
            df.attrs["scope"] = "as stored"
            return df
        order = "ORDER BY created_at DESC" if "created_at" in cols else ""
        run = "run_id" in cols
        for where, params, scope in (("unique_id = ?", [unique_id], "this series"),
                                     ("unique_id IS NULL", [], "shop-wide")):
            if run:
                row = self.con.execute(f'SELECT run_id FROM "{table}" WHERE {where} {order} LIMIT 1',
                                       params).fetchone()
                if row is None:
                    continue
                where, params = f"{where} AND run_id = ?", [*params, row[0]]
            df = _normalise(self.con.execute(f'SELECT * FROM "{table}" WHERE {where}', params).df())
            if not df.empty:
                df.attrs["scope"] = scope
                return df
        raise NotReadyError(f"No drivers stored for '{unique_id}' — run `trendcast explain`.")


def _last_days(table: str, days: int | None) -> str:
    """An SQL ``AND`` clause keeping the last ``days`` days before the table's newest date.

    Counted back from the newest signal rather than today, so a shop whose texts stopped
    arriving still sees its last stretch instead of an empty answer."""
    if days is None:
        return ""
    return f' AND date > (SELECT max(date) FROM "{table}") - INTERVAL {int(days)} DAY'


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    """``date`` -> ``ds`` and dates as pandas timestamps, so every reader sees the same names."""
    if "ds" not in df.columns and "date" in df.columns:
        df = df.rename(columns={"date": "ds"})
    if "ds" in df.columns:
        df["ds"] = pd.to_datetime(df["ds"])
    return df
