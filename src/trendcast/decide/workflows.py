"""The decision workflows on a warehouse: what each ``trendcast`` decide command runs.

Each function opens the warehouse read-only, reads what it needs and returns plain frames, so
the CLI, the API and notebooks share one code path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from trendcast.data.export import write_csv
from trendcast.data.warehouse import Warehouse
from trendcast.decide.forecasts import DEFAULT_QUANTILES, get_forecasts
from trendcast.decide.inventory import InventoryPolicy, compute_plan, stockout_alerts
from trendcast.errors import InputError, NotReadyError, TrendcastError
from trendcast.features.frequency import DAYS_PER_PERIOD, default_horizon, kind, unit

_FORECASTS: dict[tuple[str, float, int, str | None], pd.DataFrame] = {}


def _panel(wh: Warehouse) -> pd.DataFrame:
    from trendcast.forecasting import load_panel

    return load_panel(wh)


def _forecasts(wh: Warehouse, panel: pd.DataFrame, h: int, model: str | None) -> pd.DataFrame:
    """Forecasts for ``h`` periods, reused while the warehouse file is unchanged (the demo asks 4x)."""
    key = (str(wh.path.resolve()), wh.path.stat().st_mtime, h, model)
    if key not in _FORECASTS:
        _FORECASTS.clear()
        _FORECASTS[key] = get_forecasts(wh.path, panel, h, DEFAULT_QUANTILES, model)
    fc = _FORECASTS[key]
    out = fc.copy()
    out.attrs = dict(fc.attrs)
    return out


def latest_on_hand(wh: Warehouse) -> pd.DataFrame | None:
    """``unique_id, on_hand`` from the latest count per item and store; None without inventory."""
    if wh.count("inventory") == 0:
        return None
    inv = wh.con.execute(
        """SELECT item_id, store_id, on_hand FROM inventory
           QUALIFY row_number() OVER (PARTITION BY item_id, store_id ORDER BY date DESC) = 1"""
    ).df()
    inv["unique_id"] = inv["item_id"].where(inv["store_id"] == "", inv["store_id"] + "/" + inv["item_id"])
    return inv[["unique_id", "on_hand"]]


def store_tables(db: Path, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Replace warehouse tables with decision results (``inventory_plan``, ``alerts``,
    ``elasticities``), which the report and the API read instead of recomputing them."""
    written = []
    with Warehouse(db) as wh, wh.transaction() as con:
        for name, frame in tables.items():
            if frame.empty and not len(frame.columns):
                continue
            con.register("frame", frame)
            con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
            written.append(name)
    return written


def _economics(wh: Warehouse, panel: pd.DataFrame) -> pd.DataFrame:
    last_price = panel.sort_values("ds").groupby("unique_id")[["item_id", "price"]].last().reset_index()
    cost = wh.table("products")[["item_id", "unit_cost"]]
    return last_price.merge(cost, on="item_id", how="left")[["unique_id", "price", "unit_cost"]]


def plan_inventory(db: Path, policy: InventoryPolicy | None = None, model: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(plan per series, stock-out alerts). Without stock counts ``on_hand`` and ``order_qty``
    are NaN (unknown, said in ``attrs['note']``) and the alerts are empty."""
    asked = policy or InventoryPolicy()
    with Warehouse(db, read_only=True) as wh:
        panel = _panel(wh)
        freq = panel.attrs.get("freq", "D")
        policy, note = asked.in_periods(freq)  # days -> periods of the data, said in `note`
        h = max(policy.protection, default_horizon(freq))
        fc = _forecasts(wh, panel, h, model)
        on_hand = latest_on_hand(wh)
        econ = _economics(wh, panel) if policy.objective == "profit" else None
    plan = compute_plan(fc, policy, on_hand, econ)
    note = " ".join(n for n in (note, plan.attrs.get("note", "")) if n)  # e.g. on-hand unknown
    keys = panel.groupby("unique_id")[["item_id", "store_id"]].first().reset_index()
    plan = keys.merge(plan, on="unique_id")
    alerts = stockout_alerts(fc, on_hand, policy) if on_hand is not None else pd.DataFrame()
    days = DAYS_PER_PERIOD[kind(freq)]
    if days != 1:  # the plan speaks days, whatever the data's period
        plan["protection_days"] = (plan["protection_days"] * days).round().astype(int)
        if not alerts.empty:
            alerts["days_of_cover"] = (alerts["days_of_cover"] * days).round(1)
    if not alerts.empty:
        alerts = keys.merge(alerts, on="unique_id").sort_values("days_of_cover").reset_index(drop=True)
    plan.attrs.update(source=fc.attrs.get("source", ""), note=note, freq=freq, unit=unit(freq))
    return plan, alerts


def price_recommendations(
    db: Path,
    objective: str = "margin",
    max_change: float = 0.2,
    items: Sequence[str] | None = None,
    method: str = "poisson",
    bounds: tuple[float, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(elasticities with CIs, recommended prices). ``bounds`` (absolute) apply to every item asked for."""
    from trendcast.decide.pricing import ElasticityConfig, estimate_elasticities, recommend_prices

    with Warehouse(db, read_only=True) as wh:
        panel = _panel(wh)
        products = wh.table("products")
    if items:
        unknown = sorted(set(items) - set(panel["item_id"]))
        if unknown:
            raise InputError(f"No sales history for item(s) {unknown}.")
        cats = panel.loc[panel["item_id"].isin(items), "category"].unique()
        panel = panel[panel["category"].isin(cats)]  # keep the category for pooling
    est = estimate_elasticities(panel, ElasticityConfig(method=method))
    if items:
        est = est[est["item_id"].isin(items)]
    explicit = {i: bounds for i in est["item_id"]} if bounds else None
    recs = recommend_prices(panel, est, products, objective=objective, max_change=max_change, bounds=explicit)
    return est.reset_index(drop=True), recs


def promo_plan_forecast(db: Path, plan: pd.DataFrame, model: str = "lightgbm") -> pd.DataFrame:
    """Forecast under a promotion calendar (``item_id, [store_id], date, promo, [price]``)."""
    from trendcast.decide.promotion import promo_forecast

    with Warehouse(db, read_only=True) as wh:
        panel = _panel(wh)
    return promo_forecast(panel, plan, model=model)


def promo_uplifts(db: Path, by: str = "item") -> pd.DataFrame:
    from trendcast.decide.promotion import promo_uplift

    with Warehouse(db, read_only=True) as wh:
        panel = _panel(wh)
    return promo_uplift(panel, by=by)


def new_product(db: Path, item: dict[str, object], h: int | None = None, k: int = 5, launch: str | None = None) -> pd.DataFrame:
    """Cold-start forecast per store and period for a product with no sales (``h`` periods;
    default 28 days, 13 weeks or 6 months)."""
    from trendcast.decide.coldstart import cold_start_forecast

    with Warehouse(db, read_only=True) as wh:
        panel = _panel(wh)
        products = wh.table("products")
    return cold_start_forecast(panel, products, item, h=h, k=k, launch=launch, db=db)


def trends(db: Path, level: str = "item", horizon: int | None = None, model: str | None = None, rise: float = 0.10, fall: float = -0.10) -> pd.DataFrame:
    """Rising and falling items: the last ``horizon`` periods against the next ``horizon``
    (default by the data's frequency); ``attrs``: ``window``, ``note``, ``source``, terms."""
    from trendcast.decide.trends import trends_with_evidence

    with Warehouse(db, read_only=True) as wh:
        panel = _panel(wh)
        horizon = horizon or default_horizon(panel.attrs.get("freq", "D"))
        fc = _forecasts(wh, panel, horizon, model)
        out = trends_with_evidence(wh, panel, fc, level=level, horizon=horizon, rise=rise, fall=fall)
    from trendcast.decide.trends import emerging_terms

    out.attrs["source"] = fc.attrs.get("source", "")
    out.attrs["emerging_terms"] = emerging_terms(db)
    return out


def alerts(db: Path, model: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    from trendcast.decide.alerts import risk_warnings

    with Warehouse(db, read_only=True) as wh:
        panel = _panel(wh)
        fc = _forecasts(wh, panel, default_horizon(panel.attrs.get("freq", "D")), model)
        return risk_warnings(wh, panel, fc)


def recommendations(db: Path, users: Sequence[str] | None = None, k: int = 10, n_users: int = 5, trend_boost: float = 0.2) -> pd.DataFrame:
    """Top-``k`` items for ``users`` (default: the ``n_users`` most active), boosted by item trends."""
    from trendcast.decide.recommend import recommend_for_users
    from trendcast.decide.trends import LOW_VOLUME

    with Warehouse(db, read_only=True) as wh:
        if wh.count("events") == 0:
            raise NotReadyError("The warehouse has no behaviour events: run `trendcast ingest --events FILE`.")
        events = wh.table("events")
    chosen = list(users) if users else events["user_token"].value_counts().head(n_users).index.tolist()
    trend = None
    if trend_boost:
        try:
            t = trends(db, level="item")
            t = t[t["trend"] != LOW_VOLUME]  # a slow item's change is noise, not a trend to boost
            trend = t.set_index("item_id")["change_pct"] / 100
        except Exception:  # noqa: BLE001 - recommendations still work without trends
            trend = None
    return recommend_for_users(events, chosen, k=k, trend=trend, boost=trend_boost)


def demo_product(db: Path) -> dict[str, object]:
    """A made-up new product for the demo: the best-selling category at its median price."""
    with Warehouse(db, read_only=True) as wh:
        row = wh.con.execute(
            """SELECT p.category, median(s.price) AS price, sum(s.units) AS units
               FROM sales s JOIN products p USING (item_id)
               GROUP BY p.category ORDER BY units DESC LIMIT 1"""
        ).fetchone()
    if row is None:
        raise NotReadyError("No sales with a product category: cannot place a new product.")
    category, price, _ = row
    if price is None:
        raise NotReadyError("The sales have no prices: a new product is placed among items by its price.")
    return {"item_id": "NEW-1", "category": category, "price": round(float(price), 2),
            "title": f"new {category} product", "description": f"A new product in {category}."}


def demo_step(db: Path, out: Path) -> dict[str, str]:
    """Every decision on the demo warehouse, written to ``out/decisions/*.csv``.

    The inventory plan, stock-out alerts and elasticities are also stored in the warehouse
    (tables ``inventory_plan``, ``alerts``, ``elasticities``) for the report and the API.
    Returns summary lines (label -> value).
    """
    db, folder = Path(db), Path(out) / "decisions"
    folder.mkdir(parents=True, exist_ok=True)
    summary: dict[str, str] = {}

    def save(frame: pd.DataFrame, name: str) -> Path:
        path = folder / name
        write_csv(frame, path)
        return path

    plan, stock_alerts = plan_inventory(db)
    path = save(plan, "inventory_plan.csv")
    summary["inventory plan"] = f"{len(plan)} series, forecasts from {plan.attrs.get('source', '?')} -> {path}"
    path = save(stock_alerts, "stockout_alerts.csv")
    critical = int((stock_alerts.get("status", pd.Series(dtype=str)) == "critical").sum())
    summary["stock-out alerts"] = f"{len(stock_alerts)} series short before replenishment ({critical} critical) -> {path}"

    tables = {"inventory_plan": plan, "alerts": stock_alerts}

    def prices() -> None:
        est, recs = price_recommendations(db)
        path = save(est, "elasticities.csv")
        save(recs, "price_recommendations.csv")
        pooled = int((est["basis"] != "item").sum())
        summary["elasticities"] = f"median {est['elasticity'].median():.2f} over {len(est)} items ({pooled} pooled by category) -> {path}"
        from trendcast.decide.pricing import what_if_curves

        with Warehouse(db, read_only=True) as wh:
            products = wh.table("products")
        save(what_if_curves(recs, est, products), "price_whatif.csv")
        moved = recs[recs["recommended_price"] != recs["current_price"]]
        summary["price recommendations"] = (
            f"{len(moved)} of {len(recs)} items change price within +/-20% -> "
            f"{folder / 'price_recommendations.csv'}, curves {folder / 'price_whatif.csv'}"
        )
        up = est[["item_id", "category", "basis", "promo_uplift", "promo_uplift_low", "promo_uplift_high"]]
        if up["promo_uplift"].isna().all():  # prices but no promotion days: nothing to measure
            summary["promotion uplift"] = "skipped: no promotion days (no 'promo' column, or it is always 0)"
        else:
            path = save(up, "promo_uplift.csv")
            summary["promotion uplift"] = (f"median {100 * up['promo_uplift'].median():+.0f}% per promotion period "
                                           f"beyond the price cut -> {path}")
        tables["elasticities"] = est

    def launch() -> None:
        item = demo_product(db)
        fc_new = new_product(db, item)
        path = save(fc_new, "new_product_forecast.csv")
        summary["new product"] = (
            f"{item['category']} at {item['price']}: {fc_new['forecast'].sum():.0f} units over the forecast from "
            f"{', '.join(fc_new.attrs['neighbours'])} -> {path}"
        )

    # a shop without prices (or without comparable items) still gets its plan, trends and alerts
    for name, step in (("elasticities", prices), ("new product", launch)):
        try:
            step()
        except TrendcastError as exc:
            summary[name] = f"skipped: {exc}"

    tr = trends(db, level="item")
    cat = trends(db, level="category")
    path = save(tr, "trends_items.csv")
    save(cat, "trends_categories.csv")
    counts = tr["trend"].value_counts().to_dict()
    summary["trends"] = f"{counts.get('rising', 0)} rising, {counts.get('falling', 0)} falling items -> {path}"
    if cat.attrs.get("emerging_terms"):
        summary["emerging terms"] = ", ".join(cat.attrs["emerging_terms"][:8])
    warn, notes = alerts(db)
    path = save(warn, "risk_warnings.csv")
    summary["risk warnings"] = f"{len(warn)} warnings{'; ' + '; '.join(notes) if notes else ''} -> {path}"
    try:
        recs_u = recommendations(db, n_users=5)
    except NotReadyError as exc:
        summary["recommendations"] = f"skipped: {exc}"
    else:
        path = save(recs_u, "recommendations.csv")
        summary["recommendations"] = f"top-10 for {recs_u['user_token'].nunique()} users -> {path}"
    stored = store_tables(db, tables)
    summary["warehouse tables"] = ", ".join(stored)
    return summary
