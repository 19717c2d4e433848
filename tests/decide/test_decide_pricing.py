"""Elasticity and uplift recovered exactly on noiseless data; price optimum by hand; bad bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.decide.pricing import (
    ElasticityConfig,
    estimate_elasticities,
    optimal_price,
    recommend_prices,
    what_if,
)
from trendcast.decide.promotion import future_covariates, promo_uplift
from trendcast.errors import ConfigError, InputError


def constant_elasticity_panel(e: float = -1.5, lift: float = 0.3, days: int = 400, seed: int = 0, flat_item: bool = False) -> pd.DataFrame:
    """Expected units exactly ``200 * price**e * exp(lift * promo) * weekday effect`` (no noise)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-01", periods=days)
    frames = []
    for store, mult in (("S1", 1.0), ("S2", 0.6)):
        price = np.repeat(rng.uniform(8, 12, days // 20), 20)
        promo = (rng.random(days) < 0.1).astype(int)
        price = np.where(promo == 1, price * rng.uniform(0.7, 0.9, days), price)
        dow = 1 + 0.3 * (ds.dayofweek >= 5)
        y = 200 * mult * price**e * np.exp(lift * promo) * dow
        frames.append(pd.DataFrame({"unique_id": f"{store}/A", "ds": ds, "y": y, "item_id": "A", "store_id": store, "category": "c", "price": price, "promo": promo}))
        if flat_item:
            frames.append(pd.DataFrame({"unique_id": f"{store}/B", "ds": ds, "y": y * 0.5 + 1, "item_id": "B", "store_id": store, "category": "c", "price": 10.0, "promo": 0}))
    return pd.concat(frames, ignore_index=True)


def test_noiseless_constant_elasticity_and_uplift_are_recovered() -> None:
    est = estimate_elasticities(constant_elasticity_panel(), ElasticityConfig(shrink=False)).iloc[0]
    assert est["basis"] == "item"
    assert est["elasticity"] == pytest.approx(-1.5, abs=1e-3)
    assert est["promo_uplift"] == pytest.approx(np.exp(0.3) - 1, abs=1e-3)
    assert est["elasticity_low"] <= -1.5 <= est["elasticity_high"]


def test_ols_log_log_recovers_on_large_counts() -> None:
    panel = constant_elasticity_panel()
    panel["y"] *= 1000  # log1p(y) ~ log(y) when y is large
    est = estimate_elasticities(panel, ElasticityConfig(method="ols", shrink=False)).iloc[0]
    assert est["elasticity"] == pytest.approx(-1.5, abs=0.01)


def test_item_without_price_variation_uses_category_pool() -> None:
    est = estimate_elasticities(constant_elasticity_panel(flat_item=True)).set_index("item_id")
    assert est.loc["B", "basis"] == "category pooled"
    assert est.loc["B", "log_price_sd"] == 0.0
    assert est.loc["A", "basis"] == "item"


def test_optimal_price_closed_form() -> None:
    # margin (p - 10) p^-2 peaks at c e / (1 + e) = 10 * -2 / -1 = 20
    assert optimal_price(-2.0, 15, 25, unit_cost=10, objective="margin") == pytest.approx(20.0)
    assert optimal_price(-2.0, 22, 30, unit_cost=10, objective="margin") == pytest.approx(22.0)
    assert optimal_price(-0.5, 15, 25, unit_cost=10, objective="margin") == pytest.approx(25.0)  # inelastic: top of range
    assert optimal_price(-2.0, 15, 25, objective="revenue") == pytest.approx(15.0)
    assert optimal_price(-0.5, 15, 25, objective="revenue") == pytest.approx(25.0)
    curve = what_if(-2.0, 20.0, 100.0, unit_cost=10, low=15, high=25, points=11)
    assert curve.loc[curve["margin"].idxmax(), "price"] == pytest.approx(20.0)
    assert curve.loc[curve["price"] == 20.0, "demand"].iloc[0] == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: optimal_price(-2.0, 30, 20, unit_cost=10), "reversed"),
        (lambda: what_if(-2.0, 20.0, 100.0, low=25, high=15), "reversed"),
        (lambda: optimal_price(-2.0, 10, 20, objective="volume"), "Objective"),
        (lambda: optimal_price(-2.0, 10, 20, unit_cost=None, objective="margin"), "unit cost"),
        (lambda: ElasticityConfig(method="magic"), "method"),
        (lambda: ElasticityConfig(confidence=1.2), "Confidence"),
    ],
)
def test_invalid_pricing_settings(call: object, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        call()


def test_recommend_prices_moves_elastic_item_towards_margin_optimum() -> None:
    panel = constant_elasticity_panel(e=-3.0)
    est = estimate_elasticities(panel, ElasticityConfig(shrink=False))
    products = pd.DataFrame({"item_id": ["A"], "unit_cost": [5.0]})
    rec = recommend_prices(panel, est, products, objective="margin", max_change=0.5).iloc[0]
    assert rec["recommended_price"] == pytest.approx(7.5, rel=0.01)  # 5 * -3 / -2
    assert rec["margin_change_per_period"] >= 0
    with pytest.raises(ConfigError, match="max_change"):
        recommend_prices(panel, est, products, max_change=1.5)


def test_promo_uplift_by_category_and_future_covariates() -> None:
    panel = constant_elasticity_panel()
    up = promo_uplift(panel, by="category").iloc[0]
    assert up["promo_uplift"] == pytest.approx(np.exp(0.3) - 1, abs=1e-3)
    last = panel["ds"].max()
    plan = pd.DataFrame({"item_id": ["A"], "date": [last + pd.Timedelta(days=3)], "promo": [1]})
    fut = future_covariates(panel, plan)
    assert len(fut) == 2 * 3  # two stores x three days up to the plan's end
    promo_rows = fut[fut["promo"] == 1]
    assert len(promo_rows) == 2 and (promo_rows["price"] < promo_rows["regular_price"]).all()
    with pytest.raises(InputError, match="before the first day"):
        future_covariates(panel, plan.assign(date=[last]))


def test_unsold_days_take_the_regular_or_other_store_price() -> None:
    from trendcast.decide.pricing import repair_unsold_prices

    ds = pd.date_range("2024-01-01", periods=4)
    # S1: promotion at 8 on day 1; days 2-3 had no sales row, so the panel carried 8 forward.
    s1 = pd.DataFrame({"unique_id": "S1/A", "ds": ds, "y": [3.0, 9.0, 0.0, 0.0], "item_id": "A", "store_id": "S1",
                       "category": "c", "price": [10.0, 8.0, 8.0, 8.0], "promo": [0, 1, 0, 0]})
    # S2 sold on day 3 at a promotion price of 7.5: that day's price is known from it.
    s2 = s1.assign(unique_id="S2/A", store_id="S2", y=[1.0, 2.0, 4.0, 0.0], price=[10.0, 8.0, 7.5, 7.5], promo=[0, 1, 1, 0])
    out = repair_unsold_prices(pd.concat([s1, s2], ignore_index=True)).set_index(["store_id", "ds"])
    assert out.loc[("S1", ds[2]), "price"] == 7.5 and out.loc[("S1", ds[2]), "promo"] == 1  # other store
    assert out.loc[("S1", ds[3]), "price"] == 10.0 and out.loc[("S1", ds[3]), "promo"] == 0  # last regular
    assert out.loc[("S1", ds[1]), "price"] == 8.0  # selling days are left alone


def test_monthly_base_demand_is_the_last_three_regular_months() -> None:
    """A promotion in the last month must not leave a monthly shop with no base demand."""
    ds = pd.date_range("2023-01-01", periods=12, freq="MS")
    units = [50.0] * 8 + [40.0, 60.0, 80.0, 300.0]
    panel = pd.DataFrame({"unique_id": "A", "ds": ds, "y": units, "item_id": "A", "store_id": "", "category": "c",
                          "price": [10.0] * 11 + [8.0], "promo": [0] * 11 + [1]})
    panel.attrs["freq"] = "MS"
    est = pd.DataFrame({"item_id": ["A"], "category": ["c"], "elasticity": [-2.0], "elasticity_low": [-2.5],
                        "elasticity_high": [-1.5], "basis": ["item"]})
    rec = recommend_prices(panel, est, objective="revenue", max_change=0.1).iloc[0]
    assert rec["current_price"] == 10.0
    assert rec["units_per_period_now"] == pytest.approx(70.0)  # (60 + 80) / 2: the promotion month is left out
    weekly = panel.assign(ds=pd.date_range("2023-01-06", periods=12, freq="W-FRI"))
    weekly.attrs["freq"] = "W-FRI"
    assert recommend_prices(weekly, est, objective="revenue").iloc[0]["units_per_period_now"] == pytest.approx(
        np.mean(units[4:11]), abs=0.01)  # 8 weeks less the promotion week (figures rounded to cents)


@pytest.mark.parametrize("method", ["poisson", "ols"])
def test_group_intercepts_concentrated_out_match_the_dummy_regression(method: str) -> None:
    """The fit keeps one intercept per series without a dummy column per series (a 500-series
    category made a 2 GB design); slopes and robust covariance must equal the dummy fit's."""
    from trendcast.decide.pricing import design, fit_log_linear

    rng = np.random.default_rng(4)
    n_series, days = 12, 150
    ds = np.tile(pd.date_range("2024-01-01", periods=days), n_series)
    series = np.repeat([f"s{k}" for k in range(n_series)], days)
    price = np.exp(rng.normal(0, 0.2, n_series * days)) * np.repeat(rng.uniform(5, 50, n_series), days)
    promo = (rng.random(n_series * days) < 0.1).astype(int)
    level = np.repeat(rng.normal(1, 0.8, n_series), days)
    y = rng.poisson(np.exp(level - 1.3 * np.log(price / 20) + 0.4 * promo)).astype(float)
    y[series == "s3"] = 0.0  # a series that never sold: no evidence either way
    df = pd.DataFrame({"ds": ds, "series": series, "price": price, "promo": promo, "y": y})
    X, names, groups = design(df, "series")
    beta, cov = fit_log_linear(y, X, groups, method)

    dummies = pd.get_dummies(df["series"], drop_first=True).to_numpy(float)
    full = np.column_stack([np.ones(len(X)), X, dummies])
    keep = df["series"].to_numpy() != "s3" if method == "poisson" else np.ones(len(X), bool)
    full, yy = full[keep], y[keep]
    full = np.delete(full, np.flatnonzero(full.std(axis=0) == 0)[1:], axis=1)  # s3's dummy: all 0 now
    if method == "ols":
        z = np.log1p(yy)
        b, *_ = np.linalg.lstsq(full, z, rcond=None)
        resid = z - full @ b
        ref_cov = resid @ resid / (len(z) - full.shape[1]) * np.linalg.pinv(full.T @ full)
    else:
        import statsmodels.api as sm

        fit = sm.GLM(yy, full, family=sm.families.Poisson()).fit(cov_type="HC0", tol=1e-12)
        b, ref_cov = fit.params, fit.cov_params()
    k = len(names)
    np.testing.assert_allclose(beta, b[1:k + 1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.diag(cov), np.diag(ref_cov)[1:k + 1], rtol=1e-3)
    assert X.shape[1] == k < 25  # the design does not grow with the number of series
