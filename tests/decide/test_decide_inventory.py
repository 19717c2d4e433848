"""Inventory formulas pinned on hand-computed cases, invalid settings, and a tiny replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trendcast.decide.inventory import (
    InventoryPolicy,
    compute_plan,
    days_of_cover,
    demand_quantile,
    newsvendor_ratio,
    protection_demand,
    simulate_policy,
    stockout_alerts,
)
from trendcast.errors import ConfigError

Z90 = stats.norm.ppf(0.9)


def flat_forecast(mean: float = 10.0, sd: float = 2.0, days: int = 28, ids: tuple[str, ...] = ("S1/A",)) -> pd.DataFrame:
    """Every day: mean ``mean``, median = mean, q0.9 = mean + z0.9 * sd (so the implied sd is ``sd``)."""
    rows = []
    for uid in ids:
        ds = pd.date_range("2024-01-01", periods=days)
        rows.append(pd.DataFrame({"unique_id": uid, "ds": ds, "forecast": mean, "q0.1": mean - Z90 * sd, "q0.5": mean, "q0.9": mean + Z90 * sd}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"service_level": 1.0}, "between 0 and 1"),
        ({"service_level": 0.0}, "between 0 and 1"),
        ({"lead_time": -1}, "Lead time cannot be negative"),
        ({"review_period": 0}, "at least 1 day"),
        ({"objective": "cheap"}, "Objective"),
        ({"rho": 1.5}, "rho"),
    ],
)
def test_invalid_policy_settings_raise_config_error(kwargs: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        InventoryPolicy(**kwargs)


def test_protection_demand_sums_means_and_variances() -> None:
    fc = flat_forecast(10.0, 2.0)
    independent = protection_demand(fc, 5, rho=0.0).iloc[0]
    assert independent["mean"] == pytest.approx(50.0)
    assert independent["sd"] == pytest.approx(np.sqrt(5 * 4.0))
    shared = protection_demand(fc, 5, rho=1.0).iloc[0]
    assert shared["sd"] == pytest.approx(10.0)  # one common error: sds add up


def test_safety_stock_reorder_point_and_order_up_to_by_hand() -> None:
    # L=2, R=3: protection 5 days, mean 50, sd sqrt(20); normal quantile at 95%.
    policy = InventoryPolicy(lead_time=2, review_period=3, service_level=0.95, rho=0.0, distribution="normal")
    on_hand = pd.DataFrame({"unique_id": ["S1/A"], "on_hand": [30.0]})
    plan = compute_plan(flat_forecast(), policy, on_hand).iloc[0]
    z = 1.6448536269514722
    assert plan["safety_stock"] == pytest.approx(z * np.sqrt(20.0))  # 7.356
    assert plan["reorder_point"] == pytest.approx(20.0 + z * np.sqrt(8.0))  # lead time only
    assert plan["order_up_to"] == 58.0  # ceil(50 + 7.356)
    assert plan["order_qty"] == 28.0


def test_gamma_quantile_matches_scipy_and_is_skewed() -> None:
    q = demand_quantile(np.array([4.0]), np.array([2.0]), 0.95, "gamma")[0]
    assert q == pytest.approx(stats.gamma.ppf(0.95, 4.0, scale=1.0))
    assert q > demand_quantile(np.array([4.0]), np.array([2.0]), 0.95, "normal")[0]
    assert demand_quantile(np.array([0.0]), np.array([0.0]), 0.95)[0] == 0.0


def test_newsvendor_critical_ratio_and_profit_plan() -> None:
    assert newsvendor_ratio(10.0, 6.0, 1.0) == pytest.approx(0.8)  # (10-6)/(10-6+1)
    with pytest.raises(ConfigError, match="price above unit cost"):
        newsvendor_ratio(5.0, 6.0, 1.0)
    policy = InventoryPolicy(lead_time=2, review_period=3, objective="profit", holding_cost=1.0, rho=0.0, distribution="normal")
    econ = pd.DataFrame({"unique_id": ["S1/A"], "price": [10.0], "unit_cost": [6.0]})
    plan = compute_plan(flat_forecast(), policy, economics=econ).iloc[0]
    assert plan["target_service"] == pytest.approx(0.8)
    assert plan["safety_stock"] == pytest.approx(stats.norm.ppf(0.8) * np.sqrt(20.0))  # 0.8416 x 4.472
    assert plan["order_up_to"] == 54.0  # newsvendor quantity: ceil(50 + 3.764)
    with pytest.raises(ConfigError, match="prices and unit costs"):
        compute_plan(flat_forecast(), policy)


def test_days_of_cover_and_stockout_alerts() -> None:
    fc = flat_forecast(10.0, 2.0, ids=("S1/A", "S1/B", "S1/C"))
    stock = pd.DataFrame({"unique_id": ["S1/A", "S1/B", "S1/C"], "on_hand": [25.0, 55.0, 500.0]})
    cover = days_of_cover(fc, stock).set_index("unique_id")["days_of_cover"]
    assert cover["S1/A"] == pytest.approx(2.5)
    assert cover["S1/C"] == 28.0  # capped at the horizon
    alerts = stockout_alerts(fc, stock, InventoryPolicy(lead_time=3, review_period=4)).set_index("unique_id")
    assert alerts.loc["S1/A", "status"] == "critical"  # runs out before an order today arrives
    assert alerts.loc["S1/B", "status"] == "order now"  # 5.5 days < 3 + 4
    assert "S1/C" not in alerts.index
    assert alerts.loc["S1/A", "p_stockout_lead"] > 0.8  # 3-day demand ~ mean 30, sd 4.9 vs 25 in stock


def test_replay_on_a_tiny_deterministic_case() -> None:
    demand = np.full((1, 6), 2.0)
    enough = simulate_policy(demand, np.array([[6.0, 6.0, 6.0]]), lead_time=1, review_period=2)
    assert enough.fill_rate == 1.0 and enough.cycle_service_level == 1.0
    assert enough.avg_stock == pytest.approx(10 / 6)  # end-of-day stock 4,2,0,2,0,2
    short = simulate_policy(demand, np.array([[4.0, 4.0, 4.0]]), lead_time=1, review_period=2)
    assert short.lost_units == pytest.approx(2.0)  # day 2: empty until the order lands on day 3
    assert short.fill_rate == pytest.approx(10 / 12)
    assert short.cycle_service_level == pytest.approx(2 / 3)
    assert short.avg_stock == pytest.approx(4 / 6)


def test_replay_with_zero_lead_time_never_runs_out_when_level_covers_a_cycle() -> None:
    res = simulate_policy(np.full((2, 4), 3.0), np.full((2, 4), 3.0), lead_time=0, review_period=1)
    assert res.fill_rate == 1.0 and res.avg_stock == 0.0


def test_expected_shortage_by_hand_and_against_integration() -> None:
    from scipy import integrate

    from trendcast.decide.inventory import expected_shortage

    # normal, level at the mean: sd * phi(0) = 2 * 0.398942
    assert expected_shortage(np.array([10.0]), np.array([2.0]), np.array([10.0]), "normal")[0] == pytest.approx(0.797885, abs=1e-6)
    k, t, level = 4.0, 1.0, 6.0  # gamma mean 4, sd 2
    numeric = integrate.quad(lambda x: (x - level) * stats.gamma.pdf(x, k, scale=t), level, np.inf)[0]
    assert expected_shortage(np.array([4.0]), np.array([2.0]), np.array([level]))[0] == pytest.approx(numeric, rel=1e-6)
    assert expected_shortage(np.array([5.0]), np.array([0.0]), np.array([3.0]))[0] == 2.0  # certain demand


def test_fill_rate_policy_loses_the_allowed_share_of_a_cycle() -> None:
    from trendcast.decide.inventory import expected_shortage, fill_rate_level

    # L=0, R=5: lost demand per cycle E[(D - S)+] must equal 5% of the cycle's mean demand (50).
    level = fill_rate_level(np.array([50.0]), np.array([np.sqrt(20.0)]), np.zeros(1), np.zeros(1), 0.95, "normal")[0]
    assert expected_shortage(np.array([50.0]), np.array([np.sqrt(20.0)]), np.array([level]), "normal")[0] == pytest.approx(2.5, abs=1e-6)
    assert 48.0 < level < 50.0  # z about -0.29: a 95% fill rate needs less than the mean here
    policy = InventoryPolicy(lead_time=2, review_period=3, measure="fill", rho=0.0)
    fill_plan = compute_plan(flat_forecast(), policy).iloc[0]
    cycle_plan = compute_plan(flat_forecast(), InventoryPolicy(lead_time=2, review_period=3, rho=0.0)).iloc[0]
    assert fill_plan["order_up_to"] < cycle_plan["order_up_to"]
    with pytest.raises(ConfigError, match="'cycle' or 'fill'"):
        InventoryPolicy(measure="both")


def test_discontinued_item_plans_no_negative_stock_and_raises_no_alert() -> None:
    # ~0.001 units a day with a long upper tail: the 95% quantile of demand is below its mean
    fc = pd.concat([flat_forecast(0.001, 0.05, ids=("S1/GONE",)), flat_forecast(10.0, 2.0, ids=("S1/A",))])
    stock = pd.DataFrame({"unique_id": ["S1/GONE", "S1/A"], "on_hand": [0.0, 0.0]})
    policy = InventoryPolicy(lead_time=7, review_period=7)
    plan = compute_plan(fc, policy, stock).set_index("unique_id")
    assert (plan["safety_stock"] >= 0).all() and (plan["order_up_to"] >= 0).all()
    assert not np.signbit(plan.loc["S1/GONE", "order_up_to"])  # 0.0, not -0.0
    assert plan.loc["S1/GONE", "order_qty"] == 0.0
    alerts = stockout_alerts(fc, stock, policy)
    assert alerts["unique_id"].tolist() == ["S1/A"]  # nothing worth covering for GONE


def test_plan_without_stock_counts_leaves_order_quantity_unknown() -> None:
    plan = compute_plan(flat_forecast(), InventoryPolicy(lead_time=2, review_period=3))
    assert plan["on_hand"].isna().all() and plan["order_qty"].isna().all()
    assert "unknown" in plan.attrs["note"]
    partial = compute_plan(flat_forecast(ids=("S1/A", "S1/B")), InventoryPolicy(lead_time=2, review_period=3),
                           pd.DataFrame({"unique_id": ["S1/A"], "on_hand": [5.0]})).set_index("unique_id")
    assert partial.loc["S1/A", "order_qty"] > 0 and np.isnan(partial.loc["S1/B", "order_qty"])
