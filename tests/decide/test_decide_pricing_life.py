"""Selling life, no-evidence cases, missing columns and per-period labels of the price decisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.decide.pricing import ElasticityConfig, estimate_elasticities, recommend_prices
from trendcast.decide.promotion import promo_uplift
from trendcast.errors import InputError


def category_panel(e: float = -1.5, lift: float = 0.5, days: int = 360, stop: dict[str, int] | None = None, seed: int = 1) -> pd.DataFrame:
    """Poisson daily sales of four items in one category, prices moving +/-20% every 10 days and
    +/-10% slowly, 8% promotion days (20% off, plus the ``lift``).

    ``stop``: item -> day index after which it sells nothing (rows stay, zero-filled, with the
    last price carried forward, as the warehouse does for a discontinued item).
    """
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-01", periods=days)
    frames = []
    for k, item in enumerate("ABCD"):
        base_price = 10.0 + 5 * k
        steps = np.repeat(rng.uniform(0.8, 1.2, days // 10 + 1), 10)[:days]
        regular = base_price * steps * (1 + 0.1 * np.sin(np.arange(days) / 30))
        promo = (rng.random(days) < 0.08).astype(int)
        price = np.where(promo == 1, regular * 0.8, regular)
        mu = 20.0 * (price / base_price) ** e * np.exp(lift * promo)
        y = rng.poisson(mu).astype(float)
        end = (stop or {}).get(item)
        if end is not None:
            y[end:] = 0.0
            price[end:], promo[end:] = price[end - 1], 0
        frames.append(pd.DataFrame({"unique_id": f"S1/{item}", "ds": ds, "y": y, "item_id": item, "store_id": "S1",
                                    "category": "c", "price": price, "promo": promo}))
    panel = pd.concat(frames, ignore_index=True)
    panel.attrs["freq"] = "D"
    return panel


def test_discontinued_item_does_not_distort_its_category() -> None:
    panel = category_panel(stop={"B": 120, "D": 150})
    est = estimate_elasticities(panel).set_index("item_id")
    for item in "AC":
        assert est.loc[item, "elasticity"] == pytest.approx(-1.5, abs=0.3)
        assert est.loc[item, "promo_uplift"] == pytest.approx(np.exp(0.5) - 1, abs=0.25)
    for item in "BD":
        assert est.loc[item, "basis"] == "discontinued"
        assert np.isnan(est.loc[item, "elasticity"]) and np.isnan(est.loc[item, "promo_uplift"])
    recs = recommend_prices(panel, est.reset_index(), pd.DataFrame({"item_id": list("ABCD"), "unit_cost": 5.0})).set_index("item_id")
    for item in "BD":
        assert recs.loc[item, "recommended_price"] == recs.loc[item, "current_price"]
        assert "discontinued" in recs.loc[item, "objective"]
    up = promo_uplift(panel).set_index("item_id")
    assert up.loc["B", "basis"] == "discontinued" and np.isnan(up.loc["B", "promo_uplift"])


def test_stopped_selling_recently_or_slow_mover_is_not_discontinued() -> None:
    panel = category_panel(stop={"B": 350})  # 10 quiet days after selling most days: too soon to call
    assert (estimate_elasticities(panel)["basis"] != "discontinued").all()


def test_leading_zero_days_before_launch_are_not_evidence() -> None:
    panel = category_panel()
    late = panel["item_id"].eq("C") & (panel["ds"] < panel["ds"].min() + pd.Timedelta(days=200))
    launch = panel.loc[panel["item_id"].eq("C") & ~late, "price"].iloc[0]
    panel.loc[late, ["y", "promo", "price"]] = [0.0, 0, launch]  # C launched on day 200; zero-filled before
    est = estimate_elasticities(panel, ElasticityConfig(shrink=False)).set_index("item_id")
    assert est.loc["C", "elasticity"] == pytest.approx(-1.5, abs=0.3)
    assert est.loc["C", "promo_uplift"] == pytest.approx(np.exp(0.5) - 1, abs=0.15)


def monthly_flat_panel() -> pd.DataFrame:
    """Monthly sales of items whose price never changes (each item its own price)."""
    rng = np.random.default_rng(3)
    ds = pd.date_range("2022-01-01", periods=30, freq="MS")
    frames = [pd.DataFrame({"unique_id": item, "ds": ds, "y": rng.poisson(100 + 40 * k, len(ds)).astype(float), "item_id": item,
                            "store_id": "", "category": "c", "price": 10.0 + k, "promo": 0}) for k, item in enumerate(["M0", "M1", "M2", "M3"])]
    panel = pd.concat(frames, ignore_index=True)
    panel.attrs["freq"] = "MS"
    return panel


def test_no_price_variation_anywhere_gives_no_elasticity_and_keeps_the_price() -> None:
    panel = monthly_flat_panel()
    est = estimate_elasticities(panel)
    assert (est["basis"] == "no price variation").all()
    assert est[["elasticity", "elasticity_low", "elasticity_high", "promo_uplift"]].isna().all().all()
    recs = recommend_prices(panel, est, objective="revenue")
    assert (recs["recommended_price"] == recs["current_price"]).all()
    assert recs["objective"].str.contains("no price variation").all()


def test_missing_price_or_promo_column_says_what_to_add() -> None:
    panel = monthly_flat_panel()
    with pytest.raises(InputError, match="no price column.*add a 'price' column"):
        estimate_elasticities(panel.assign(price=np.nan))
    with pytest.raises(InputError, match="no promotion days.*'promo' column"):
        promo_uplift(panel)


@pytest.mark.parametrize("freq", ["D", "W-MON", "MS"])
def test_recommendation_columns_are_per_period_not_daily(freq: str) -> None:
    panel = category_panel()
    panel.attrs["freq"] = freq
    recs = recommend_prices(panel, estimate_elasticities(panel), objective="revenue")
    assert {"units_per_period_now", "units_per_period_new", "revenue_change_per_period"} <= set(recs.columns)
    assert not [c for c in recs.columns if c.startswith("daily")]


def test_price_that_only_moves_with_the_season_says_why_it_is_kept() -> None:
    """Weekly shop, summer price 20% up every year: price and season cannot be told apart."""
    rng = np.random.default_rng(5)
    ds = pd.date_range("2021-01-04", periods=156, freq="W-MON")
    summer = ds.month.isin([6, 7, 8]).astype(float)
    frames = []
    for k, item in enumerate("ABC"):
        price = (10.0 + k) * (1 + 0.2 * summer)
        y = rng.poisson(50 * (1 + 0.5 * summer)).astype(float)  # demand rises in summer too
        frames.append(pd.DataFrame({"unique_id": f"S1/{item}", "ds": ds, "y": y, "item_id": item, "store_id": "S1",
                                    "category": "c", "price": price, "promo": 0}))
    panel = pd.concat(frames, ignore_index=True)
    panel.attrs["freq"] = "W-MON"
    est = estimate_elasticities(panel)
    assert (est["price_confounding"] > 0.99).all()
    # no arbitrary estimate with a falsely narrow interval from a singular design (it was +0.24 [0.19, 0.28])
    assert est["elasticity"].isna().all() and (est["basis"] == "price moved only with the season").all()
    recs = recommend_prices(panel, est, objective="revenue")
    assert (recs["recommended_price"] == recs["current_price"]).all()
    assert recs["objective"].str.contains("came with the season").all()
    moving = estimate_elasticities(category_panel())  # prices stepping on their own: nothing to explain
    assert (moving["price_confounding"] < 0.8).all()
