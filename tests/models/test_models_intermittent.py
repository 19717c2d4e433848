"""Quantiles of the Croston family are those of intermittent demand: mostly zero, sometimes a lump."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.models.registry import make_model


@pytest.mark.parametrize("name", ["croston", "tsb"])
def test_intermittent_quantiles_cover_and_call_the_median_zero(name: str) -> None:
    rng = np.random.default_rng(0)
    n, days, h = 40, 300, 28
    y = rng.binomial(1, 0.15, (n, days + h)) * (1 + rng.poisson(2.0, (n, days + h)))
    ds = pd.date_range("2024-01-01", periods=days + h)
    full = pd.DataFrame({"unique_id": np.repeat([f"S{i}" for i in range(n)], days + h),
                         "ds": np.tile(ds, n), "y": y.ravel().astype(float)})
    train, test = full[full.ds < ds[days]], full[full.ds >= ds[days]]
    fc = make_model(name).fit(train).predict(h, quantiles=[0.1, 0.5, 0.9])
    assert (fc["q0.1"] == 0).all() and (fc["q0.5"] == 0).all()  # 85% of days sell nothing
    assert (fc["q0.9"] > fc["forecast"]).mean() > 0.9  # a series selling on under 10% of days has q0.9 = 0
    joined = fc.merge(test, on=["unique_id", "ds"])
    inside = (joined["y"] >= joined["q0.1"]) & (joined["y"] <= joined["q0.9"])
    assert 0.8 <= inside.mean() <= 0.97  # was ~0.6 with symmetric conformal intervals around the rate


def test_a_series_that_never_sold_has_zero_quantiles() -> None:
    ds = pd.date_range("2024-01-01", periods=60)
    df = pd.DataFrame({"unique_id": np.repeat(["dead", "alive"], 60), "ds": np.tile(ds, 2),
                       "y": np.r_[np.zeros(60), np.tile([0.0, 0.0, 4.0], 20)]})
    fc = make_model("croston").fit(df).predict(7, quantiles=[0.1, 0.9]).set_index("unique_id")
    assert (fc.loc["dead", ["forecast", "q0.1", "q0.9"]].to_numpy() == 0).all()
    assert (fc.loc["alive", "q0.9"] > 0).all()
