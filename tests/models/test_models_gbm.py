"""LightGBM's own calendar features follow the data's frequency; its threads follow the free cores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.models.gbm import LightGBMModel


@pytest.mark.parametrize(("freq", "season", "periods"), [("D", 7, 120), ("MS", 12, 36)])
def test_monthly_data_gets_no_weekday_or_festival_day_features(freq: str, season: int, periods: int) -> None:
    rng = np.random.default_rng(0)
    ds = pd.date_range("2022-01-01", periods=periods, freq=freq)
    df = pd.concat([pd.DataFrame({"unique_id": f"S{i}", "ds": ds, "y": rng.poisson(20, periods).astype(float)})
                    for i in range(3)], ignore_index=True)
    model = LightGBMModel(season_length=season, freq=freq, n_estimators=5).fit(df)
    cols = set(model.training_features(3).columns)
    assert "cal_month" in cols
    daily = {"cal_dayofweek", "cal_is_weekend", "hol_christmas", "hol_days_to_festival"}
    assert daily <= cols if freq == "D" else not daily & cols  # the 1st's weekday would name each month


def test_threads_change_the_speed_not_the_forecast(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default LightGBM uses the cores other programs leave free (two threads halve auto's
    LightGBM windows on an idle 2-core machine); with deterministic, column-wise histograms the
    trees, and so the forecasts, are the same whatever the thread count."""
    from trendcast.models import gbm

    rng = np.random.default_rng(1)
    ds = pd.date_range("2023-01-01", periods=200, freq="D")
    df = pd.concat([pd.DataFrame({"unique_id": f"S{i}", "ds": ds,
                                  "y": rng.poisson(5 + 3 * i + 4 * (ds.dayofweek >= 5)).astype(float),
                                  "price": rng.uniform(5, 9, len(ds))}) for i in range(20)], ignore_index=True)
    future = pd.concat([pd.DataFrame({"unique_id": f"S{i}", "ds": pd.date_range("2023-07-20", periods=14),
                                      "price": 7.0}) for i in range(20)], ignore_index=True)
    monkeypatch.setattr(gbm, "free_cores", lambda: 2)
    assert LightGBMModel().regressor_params()["n_jobs"] == 2
    assert LightGBMModel(n_jobs=1).regressor_params()["n_jobs"] == 1
    runs = [LightGBMModel(n_jobs=n, n_estimators=60).fit(df).predict(14, X_future=future, quantiles=[0.1, 0.9])
            for n in (1, 2)]
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_fit_shares_the_callers_columns_and_leaves_its_frame_alone() -> None:
    """A shop's panel has millions of rows: fitting keeps views of the caller's columns (pandas
    copy-on-write, turned on by ``import trendcast``), not copies, and writes nothing into them."""
    import trendcast  # noqa: F401 - its import turns copy-on-write on

    assert pd.get_option("mode.copy_on_write") is True
    rng = np.random.default_rng(2)
    ds = pd.date_range("2023-01-01", periods=60, freq="D")
    df = pd.concat([pd.DataFrame({"unique_id": f"S{i}", "ds": ds, "y": rng.poisson(5, len(ds)).astype(float),
                                  "price": rng.uniform(5, 9, len(ds))}) for i in range(4)], ignore_index=True)
    static = pd.DataFrame({"unique_id": [f"S{i}" for i in range(4)], "category": ["a", "a", "b", "b"]})
    before = df.copy()
    model = LightGBMModel(n_estimators=5).fit(df, static_df=static)
    assert np.shares_memory(model.train_["price"].to_numpy(), df["price"].to_numpy())
    assert model.static_ == ["category"]
    assert model.train_.groupby("unique_id")["category"].first().tolist() == ["a", "a", "b", "b"]
    model.predict(7, pd.DataFrame({"unique_id": np.repeat([f"S{i}" for i in range(4)], 7),
                                   "ds": np.tile(pd.date_range(ds[-1] + pd.Timedelta(days=1), periods=7), 4),
                                   "price": 7.0}))
    pd.testing.assert_frame_equal(df, before)
