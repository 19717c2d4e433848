"""LightGBM's own calendar features follow the data's frequency."""

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
