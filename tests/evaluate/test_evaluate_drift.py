"""Drift checks fire on planted shifts and stay quiet on stationary data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.evaluate.drift import check_drift, covariate_drift, error_drift, live_errors, psi


def _series(n_series: int = 10, days: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_series):
        ds = pd.date_range("2024-01-01", periods=days, freq="D")
        level = 20 + 5 * i
        y = level + 4 * np.sin(2 * np.pi * np.arange(days) / 7) + rng.normal(0, 2, days)
        rows.append(pd.DataFrame({"unique_id": f"S{i}", "ds": ds, "y": y.clip(0),
                                  "price": rng.normal(50, 5, days), "promo": rng.binomial(1, 0.1, days)}))
    return pd.concat(rows, ignore_index=True)


def test_psi_is_small_for_same_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(0, 1, 5000)
    assert psi(ref, rng.normal(0, 1, 2000)) < 0.05
    assert psi(ref, rng.normal(1.0, 1, 2000)) > 0.25
    flags = rng.binomial(1, 0.1, 5000)
    assert psi(flags, rng.binomial(1, 0.1, 2000)) < 0.05
    assert psi(flags, rng.binomial(1, 0.5, 2000)) > 0.25


def test_covariate_drift_flags_only_the_shifted_column() -> None:
    data = _series()
    ref, cur = data[data.ds < "2024-04-01"], data[data.ds >= "2024-04-01"].copy()
    quiet = covariate_drift(ref, cur)
    assert set(quiet.feature) == {"price", "promo"} and not quiet.drift.any()
    cur["price"] = cur["price"] * 1.3  # planted: a 30% price rise
    loud = covariate_drift(ref, cur).set_index("feature")
    assert loud.loc["price", "drift"] and not loud.loc["promo", "drift"]


def _seasonal_naive_forecast(train: pd.DataFrame, future: pd.DataFrame) -> pd.DataFrame:
    last_week = train.groupby("unique_id").tail(7).copy()
    last_week["dow"] = last_week.ds.dt.dayofweek
    fc = future[["unique_id", "ds"]].assign(dow=future.ds.dt.dayofweek)
    fc = fc.merge(last_week[["unique_id", "dow", "y"]], on=["unique_id", "dow"])
    return fc.rename(columns={"y": "forecast"}).drop(columns="dow")


def test_error_drift_fires_on_a_level_shift_but_not_on_stationary_data() -> None:
    data = _series()
    train, hold = data[data.ds < "2024-03-18"], data[(data.ds >= "2024-03-18") & (data.ds < "2024-04-01")]
    backtest = live_errors(_seasonal_naive_forecast(train, hold), hold, train)
    full_train = data[data.ds < "2024-04-01"]
    live = data[(data.ds >= "2024-04-01") & (data.ds < "2024-04-15")].copy()
    fc = _seasonal_naive_forecast(full_train, live)

    calm = error_drift(live_errors(fc, live, full_train), backtest)
    assert calm["n_points"] == 140 and not calm["drift"]

    shifted = live.assign(y=live.y * 2.0)  # planted: demand doubles
    loud = error_drift(live_errors(fc, shifted, full_train), backtest)
    assert loud["drift"] and loud["wape_ratio"] > 1.5

    too_few = error_drift(live_errors(fc.head(5), shifted, full_train), backtest, min_points=28)
    assert not too_few["drift"]


def test_check_drift_combines_both_checks() -> None:
    data = _series()
    train = data[data.ds < "2024-04-01"]
    live = data[data.ds >= "2024-04-01"]
    fc = _seasonal_naive_forecast(train, live)
    backtest = {"wape": 1.0, "mase": 10.0}  # generous: no error drift
    report = check_drift(fc, live, train, backtest, live.assign(price=live.price + 20))
    assert report.drift and "price" in report.summary()
    assert not check_drift(fc, live, train, backtest, live).drift


def test_calendar_columns_and_a_handful_of_new_rows_are_not_drift() -> None:
    """A new week's calendar always differs from the training window's mix, and 15 new rows
    are too few to judge a distribution: neither may trigger a retrain."""
    data = _series()
    data["cal_days_to_festival"] = (data.ds.dt.dayofyear % 30).astype(float)
    train, live = data[data.ds < "2024-04-01"], data[data.ds >= "2024-04-01"]
    backtest = {"wape": 1.0, "mase": 10.0}
    fc = _seasonal_naive_forecast(train, live)
    planted = live.assign(cal_days_to_festival=0.0)  # a festival day: calendar values far from the window's
    report = check_drift(fc, live, train, backtest, planted)
    assert not report.drift and "cal_days_to_festival" not in set(report.covariates.feature)
    few = live.head(15).assign(price=live.price.head(15) + 20)
    assert not check_drift(fc, live, train, backtest, few, min_points=28).drift
    assert check_drift(fc, live, train, backtest, few, min_points=10).drift
