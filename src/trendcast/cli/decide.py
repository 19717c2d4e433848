"""Decision commands: plan-inventory, price, promo, new-product, trends, alerts, recommend."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from trendcast.cli.app import app, console, progress
from trendcast.data.export import write_csv
from trendcast.data.warehouse import Warehouse
from trendcast.errors import InputError

DB_HELP = "Warehouse file (DuckDB) written by `trendcast ingest`."
OUT_HELP = "Write the full result here (.csv or .json)."
MODEL_HELP = "Forecasting model to use (default: stored forecasts, else a fast registered model)."


def _write(df: pd.DataFrame, out: Path | None) -> None:
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".json":
        out.write_text(df.to_json(orient="records", date_format="iso", indent=1, force_ascii=False), encoding="utf-8")
    else:
        write_csv(df, out)
    console.print(f"Wrote {len(df)} rows to [bold]{out}[/].")


def _show(df: pd.DataFrame, title: str, columns: list[str], limit: int = 20) -> None:
    """Print the first ``limit`` rows of ``columns`` as a Rich table (numbers rounded)."""
    table = Table(title=f"{title} ({len(df)} rows{', first ' + str(limit) if len(df) > limit else ''})")
    cols = [c for c in columns if c in df.columns]
    for c in cols:
        table.add_column(c, justify="right" if pd.api.types.is_numeric_dtype(df[c]) else "left")
    for _, row in df.head(limit).iterrows():
        table.add_row(*["-" if isinstance(v, float) and pd.isna(v) else f"{v:,.2f}" if isinstance(v, float) else str(v)
                        for v in row[cols]])
    console.print(table)


def _busy(what: str):  # noqa: ANN202 - context manager from Rich
    bar = progress()
    bar.add_task(what, total=None)
    return bar


@app.command("plan-inventory")
def plan_inventory_cmd(
    db: Path = typer.Option(..., help=DB_HELP),
    lead_time: int = typer.Option(7, help="Days from placing an order to receiving it."),
    review_period: int = typer.Option(7, help="Days between order reviews."),
    service_level: float = typer.Option(0.95, help="Target service level strictly between 0 and 1, e.g. 0.95 (see --measure)."),
    measure: str = typer.Option("cycle", help="Read --service-level as 'cycle' (chance a cycle has no stock-out) or 'fill' (share of demand served)."),
    objective: str = typer.Option("service", help="'service' (use --service-level) or 'profit' (newsvendor from price, unit cost, holding)."),
    holding_rate: float = typer.Option(0.25, help="Yearly holding cost as a share of unit cost (profit objective)."),
    model: str | None = typer.Option(None, help=MODEL_HELP),
    out: Path | None = typer.Option(None, help=OUT_HELP),
    alerts_out: Path | None = typer.Option(None, help="Write the stock-out alerts here (.csv or .json)."),
    store: bool = typer.Option(True, help="Keep the plan and alerts in the warehouse for the report and API."),
) -> None:
    """Safety stock, reorder point and order quantity per item and store, plus stock-out alerts."""
    from trendcast.decide.inventory import InventoryPolicy
    from trendcast.decide.workflows import plan_inventory, store_tables

    policy = InventoryPolicy(lead_time=lead_time, review_period=review_period, service_level=service_level, measure=measure, objective=objective, holding_rate=holding_rate)
    with _busy("forecasting and planning"):
        plan, alerts = plan_inventory(db, policy, model)
    _show(plan, f"Inventory plan (forecasts: {plan.attrs.get('source', '')})", ["unique_id", "mean_demand", "safety_stock", "reorder_point", "order_up_to", "on_hand", "order_qty"])
    if plan.attrs.get("note"):
        console.print(plan.attrs["note"], markup=False)
    if len(alerts):
        _show(alerts, "Stock-out alerts", ["unique_id", "on_hand", "days_of_cover", "p_stockout_lead", "status"], limit=10)
    _write(plan, out)
    _write(alerts, alerts_out)
    if store:
        stored = store_tables(db, {"inventory_plan": plan, "alerts": alerts})
        console.print(f"Stored warehouse table(s): {', '.join(stored)}.")


@app.command("price")
def price_cmd(
    db: Path = typer.Option(..., help=DB_HELP),
    item: list[str] = typer.Option([], help="Item(s) to analyse (repeatable); default every item."),
    objective: str = typer.Option("margin", help="Maximise 'margin' (needs unit_cost) or 'revenue'."),
    max_change: float = typer.Option(0.2, help="Allowed move from the current price, e.g. 0.2 = +/-20%."),
    min_price: float | None = typer.Option(None, help="Lowest allowed price (with --max-price; overrides --max-change)."),
    max_price: float | None = typer.Option(None, help="Highest allowed price (with --min-price)."),
    method: str = typer.Option("poisson", help="Estimator: 'poisson' (robust, keeps zero days) or 'ols' (log1p log-log)."),
    out: Path | None = typer.Option(None, help=OUT_HELP),
    curves: Path | None = typer.Option(None, help="Write what-if curves (demand, revenue, margin per price) here (.csv or .json)."),
    store: bool = typer.Option(True, help="Keep the elasticities in the warehouse (the API's what-if reads them)."),
) -> None:
    """Price elasticity per item (with 95% intervals) and a recommended price within bounds."""
    from trendcast.decide.pricing import check_bounds
    from trendcast.decide.workflows import price_recommendations, store_tables

    bounds = None
    if (min_price is None) != (max_price is None):
        raise InputError("Give both --min-price and --max-price, or neither.")
    if min_price is not None and max_price is not None:
        check_bounds(min_price, max_price)
        bounds = (min_price, max_price)
    with _busy("estimating elasticities"):
        est, recs = price_recommendations(db, objective=objective, max_change=max_change, items=item or None, method=method, bounds=bounds)
    merged = recs.merge(est[["item_id", "basis", "elasticity_low", "elasticity_high", "promo_uplift"]], on="item_id", how="left")
    _show(merged, "Price elasticity and recommendation", ["item_id", "elasticity", "elasticity_low", "elasticity_high", "basis", "current_price", "recommended_price", "objective", "margin_change_per_period"])
    _write(merged, out)
    if curves is not None:
        from trendcast.decide.pricing import what_if_curves

        with Warehouse(db, read_only=True) as wh:
            products = wh.table("products")
        _write(what_if_curves(recs, est, products, max_change=max_change), curves)
    if store and not item:  # a partial run must not replace the full table
        store_tables(db, {"elasticities": est})
        console.print("Stored warehouse table: elasticities.")


@app.command("promo")
def promo_cmd(
    db: Path = typer.Option(..., help=DB_HELP),
    plan: Path | None = typer.Option(None, help="CSV promotion calendar: item_id, date, promo; optional store_id, price. Without it: uplift per item."),
    model: str = typer.Option("lightgbm", help="Model for the plan forecast (must use future covariates to react to the plan)."),
    by: str = typer.Option("item", help="Uplift per 'item' or 'category' (without --plan)."),
    out: Path | None = typer.Option(None, help=OUT_HELP),
) -> None:
    """Promotion uplift with intervals, or the forecast under a planned promotion calendar."""
    from trendcast.decide.workflows import promo_plan_forecast, promo_uplifts

    if plan is None:
        with _busy("estimating promotion uplift"):
            up = promo_uplifts(db, by=by)
        key = "item_id" if by == "item" else "category"
        _show(up, "Promotion uplift (beyond the price cut)", [key, "promo_uplift", "promo_uplift_low", "promo_uplift_high"])
        _write(up, out)
        return
    if not plan.exists():
        raise InputError(f"Promotion plan {plan} not found.", file=str(plan))
    calendar = pd.read_csv(plan)
    with _busy(f"forecasting the plan with {model}"):
        fc = promo_plan_forecast(db, calendar, model=model)
    summary = fc.groupby("unique_id")[["forecast", "forecast_no_promo", "uplift_units"]].sum().reset_index()
    _show(summary.sort_values("uplift_units", ascending=False), "Forecast under the promotion plan (units over the horizon)", ["unique_id", "forecast", "forecast_no_promo", "uplift_units"])
    if not fc.attrs.get("uses_covariates", True):
        console.print(f"[yellow]Model '{model}' ignores promotions/prices: both scenarios are equal. Use a model with future covariates (e.g. lightgbm).[/]")
    _write(fc, out)


@app.command("new-product")
def new_product_cmd(
    db: Path = typer.Option(..., help=DB_HELP),
    category: str = typer.Option(..., help="Category of the new product."),
    price: float = typer.Option(..., help="Planned selling price."),
    title: str = typer.Option("", help="Product title (improves matching)."),
    description: str = typer.Option("", help="Product description."),
    launch: str | None = typer.Option(
        None, help="Launch date YYYY-MM-DD (default: the period after the last sale; weekly/monthly: its period)."),
    days: int | None = typer.Option(
        None, "--days", "--periods",
        help="Periods to forecast, at the data's frequency (default 28 days, 13 weeks, 6 months)."),
    k: int = typer.Option(5, help="Number of similar items to learn from."),
    out: Path | None = typer.Option(None, help=OUT_HELP),
) -> None:
    """Forecast a product with no sales from its most similar items and a learned launch curve."""
    from trendcast.decide.workflows import new_product

    item = {"category": category, "price": price, "title": title, "description": description}
    with _busy("finding similar items"):
        fc = new_product(db, item, h=days, k=k, launch=launch)
    per = fc.attrs.get("unit", "day")  # day, week or month
    column = f"units_{fc['day'].max()}{per[0]}"  # units_28d, units_13w, units_6m
    total = fc.groupby("store_id")["forecast"].sum().reset_index().rename(columns={"forecast": column})
    _show(total, "New product forecast per store", ["store_id", column])
    near = fc.attrs["neighbours"]
    named = ", ".join(near[:10]) + (f" and {len(near) - 10} more as similar" if len(near) > 10 else "")
    console.print(f"Similar items: {named} (text: {fc.attrs['text_method']}; launch curve from "
                  f"{fc.attrs['launches_in_curve']} launches; level {fc.attrs.get('level', float('nan')):,.2f} units per {per}).")
    _write(fc if per == "day" else fc.rename(columns={"day": per}), out)


@app.command("trends")
def trends_cmd(
    db: Path = typer.Option(..., help=DB_HELP),
    level: str = typer.Option("item", help="'item' or 'category'."),
    horizon: int | None = typer.Option(
        None, help="Periods of forecast compared with as many recent ones (default 28 days, 13 weeks, 6 months)."),
    rise: float = typer.Option(0.10, help="Change above which an item is rising (0.10 = +10%)."),
    fall: float = typer.Option(-0.10, help="Change below which an item is falling."),
    model: str | None = typer.Option(None, help=MODEL_HELP),
    out: Path | None = typer.Option(None, help=OUT_HELP),
) -> None:
    """Rising and falling items or categories with the evidence (forecast change, sentiment, terms)."""
    from trendcast.decide.workflows import trends

    with _busy("forecasting"):
        tr = trends(db, level=level, horizon=horizon, model=model, rise=rise, fall=fall)
    key = "item_id" if level == "item" else "category"
    rates = [c for c in tr.columns if c.startswith(("recent_per_", "forecast_per_"))]
    cols = [key, *rates, "change_pct", "trend", "sentiment_change", "social_posts_change_pct"]
    _show(tr[tr["trend"] == "rising"], "Rising", cols, limit=10)
    _show(tr[tr["trend"] == "falling"].sort_values("change_pct"), "Falling", cols, limit=10)
    console.print(f"{tr.attrs.get('window', '')} (forecasts: {tr.attrs.get('source', '')}).", markup=False)
    if tr.attrs.get("note"):
        console.print(tr.attrs["note"], markup=False)
    console.print(f"Evidence: {tr.attrs.get('evidence', 'none')}.", markup=False)
    if tr.attrs.get("emerging_terms"):
        console.print(f"Emerging terms in texts: {', '.join(tr.attrs['emerging_terms'])}")
    _write(tr, out)


@app.command("alerts")
def alerts_cmd(
    db: Path = typer.Option(..., help=DB_HELP),
    model: str | None = typer.Option(None, help=MODEL_HELP),
    out: Path | None = typer.Option(None, help=OUT_HELP),
) -> None:
    """Risk warnings: sales anomalies, sentiment drops and forecasts turning very uncertain."""
    from trendcast.decide.workflows import alerts

    with _busy("checking"):
        warn, notes = alerts(db, model)
    _show(warn, "Risk warnings", ["kind", "severity", "unique_id", "item_id", "date", "value", "detail"])
    for note in notes:
        console.print(f"[yellow]Note:[/] {note}")
    _write(warn, out)


@app.command("recommend")
def recommend_cmd(
    db: Path = typer.Option(..., help=DB_HELP),
    user: list[str] = typer.Option([], help="User token(s) as stored in the events table (repeatable); default the 5 most active."),
    k: int = typer.Option(10, help="Items per user."),
    trend_boost: float = typer.Option(0.2, help="How much predicted trend lifts a score (0 = off)."),
    out: Path | None = typer.Option(None, help=OUT_HELP),
) -> None:
    """Products for each user from co-viewed/co-bought items, boosted by predicted trend."""
    from trendcast.decide.workflows import recommendations

    with _busy("scoring"):
        recs = recommendations(db, users=user or None, k=k, trend_boost=trend_boost)
    _show(recs, "Recommendations", ["user_token", "rank", "item_id", "score", "reason"], limit=30)
    if out is not None and out.suffix.lower() == ".json":
        grouped = {u: g["item_id"].tolist() for u, g in recs.groupby("user_token")}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(grouped, indent=1), encoding="utf-8")
        console.print(f"Wrote {len(grouped)} users to [bold]{out}[/].")
    else:
        _write(recs, out)
