"""Price what-if for one series: the stored forecast scaled by the item's price elasticity.

The elasticity comes from the decisions stage's table when it wrote one, else it is estimated
on the spot with :func:`trendcast.decide.pricing.estimate_elasticities` on the item's
category (so an item whose price never moved gets the category's pooled estimate; a
discontinued item, or one whose whole category kept its price, has none to give). The demand
curve itself is :func:`trendcast.decide.pricing.what_if`.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from trendcast.errors import NotReadyError
from trendcast.report.data import ShopData

ELASTICITY_TABLES = ("elasticities", "price_elasticities", "item_elasticities", "decisions_elasticities")


def _stored_elasticity(data: ShopData, item_id: str) -> dict[str, float] | None:
    present = data.tables()
    for table in ELASTICITY_TABLES:
        if table in present and {"item_id", "elasticity"} <= set(data.columns(table)):
            df = data.con.execute(f'SELECT * FROM "{table}" WHERE item_id = ?', [item_id]).df()
            if not df.empty:
                row = df.iloc[0]
                return {k: float(row[k]) for k in ("elasticity", "elasticity_low", "elasticity_high")
                        if k in row and pd.notna(row[k])}
    return None


def estimate_for_item(data: ShopData, panel: Callable[[], pd.DataFrame], item_id: str) -> dict[str, float]:
    """Elasticity (and its interval) for ``item_id`` from the table or a fresh estimate.

    ``panel`` returns the warehouse's daily sales panel (only called when no table has it).
    """
    stored = _stored_elasticity(data, item_id)
    if stored:
        return stored
    from trendcast.decide.pricing import estimate_elasticities

    frame = panel()
    category = frame.loc[frame["item_id"] == item_id, "category"]
    if category.empty:
        raise NotReadyError(f"No price history for item '{item_id}' to estimate an elasticity from.")
    est = estimate_elasticities(frame[frame["category"] == category.iloc[0]])
    row = est[est["item_id"] == item_id].iloc[0]
    if pd.isna(row["elasticity"]):  # discontinued, or its category's price never moved
        raise NotReadyError(f"No price elasticity for item '{item_id}': {row['basis']}.")
    return {k: float(row[k]) for k in ("elasticity", "elasticity_low", "elasticity_high")
            if k in row and pd.notna(row[k])}


def price_whatif(data: ShopData, unique_id: str, price_change: float,
                 elasticity: dict[str, float]) -> dict[str, object]:
    """Baseline vs scenario daily demand over the forecast horizon for a relative price change."""
    from trendcast.decide.pricing import what_if

    fc = data.forecasts(unique_id)
    _, item_id = data.split_id(unique_id)
    e = elasticity["elasticity"]
    rng = ((elasticity["elasticity_low"], elasticity["elasticity_high"])
           if {"elasticity_low", "elasticity_high"} <= set(elasticity) else None)
    factor = 1.0 + price_change
    curve = what_if(e, 1.0, 1.0, low=factor, high=factor, points=1, elasticity_range=rng).iloc[0]
    baseline = fc["forecast"].to_numpy()
    scenario = baseline * float(curve["demand"])
    base_units, new_units = float(baseline.sum()), float(scenario.sum())
    out: dict[str, object] = {
        "unique_id": unique_id,
        "item_id": item_id,
        "price_change": price_change,
        "elasticity": e,
        "ds": [d.strftime("%Y-%m-%d") for d in fc["ds"]],
        "baseline": [round(float(v), 4) for v in baseline],
        "scenario": [round(float(v), 4) for v in scenario],
        "units_baseline": round(base_units, 2),
        "units_scenario": round(new_units, 2),
        "revenue_change_pct": round(((factor * new_units) / base_units - 1.0) * 100, 2) if base_units else None,
    }
    if rng is not None:
        out["units_scenario_low"] = round(base_units * float(curve["demand_low"]), 2)
        out["units_scenario_high"] = round(base_units * float(curve["demand_high"]), 2)
    store, _ = data.split_id(unique_id)
    row = data.con.execute(
        """SELECT s.price, p.unit_cost FROM sales s LEFT JOIN products p USING (item_id)
           WHERE s.store_id = ? AND s.item_id = ? AND s.price IS NOT NULL ORDER BY s.date DESC LIMIT 1""",
        [store, item_id]).fetchone()
    price = float(row[0]) if row and row[0] is not None else None
    cost = float(row[1]) if row and row[1] is not None else None
    out["current_price"] = None if price is None else round(price, 2)
    out["new_price"] = None if price is None else round(price * factor, 2)
    money = ""
    if price is not None:
        base_rev, new_rev = price * base_units, price * factor * new_units
        out["revenue_baseline"], out["revenue_scenario"] = round(base_rev, 2), round(new_rev, 2)
        money = f" Price {price:,.2f} → {price * factor:,.2f}; revenue {base_rev:,.0f} → {new_rev:,.0f}"
        if cost is not None:
            base_m, new_m = (price - cost) * base_units, (price * factor - cost) * new_units
            out["unit_cost"] = round(cost, 2)
            out["margin_baseline"], out["margin_scenario"] = round(base_m, 2), round(new_m, 2)
            money += f"; margin {base_m:,.0f} → {new_m:,.0f} ({new_m - base_m:+,.0f})"
        money += "."
    out["summary"] = (
        f"A {price_change:+.0%} price change moves {len(baseline)}-{data.unit()} demand for {unique_id} from "
        f"{base_units:,.0f} to {new_units:,.0f} units (elasticity {e:.2f}"
        + (f", range {out['units_scenario_low']:,.0f}–{out['units_scenario_high']:,.0f} units" if rng else "")
        + (f"); revenue {out['revenue_change_pct']:+.1f}%." if base_units else ").")
        + money
    )
    return out
