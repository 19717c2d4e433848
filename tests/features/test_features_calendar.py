"""LightGBM's calendar columns: what each date gets, and that a panel's rows get their date's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.features.calendar import CALENDAR_COLUMNS, add_calendar, calendar_features


def test_calendar_features_of_known_days() -> None:
    days = pd.DatetimeIndex(["2024-11-11", "2024-11-29", "2024-12-02", "2024-11-10"])
    cal = calendar_features(days)
    assert cal["hol_singles_day"].tolist() == [1, 0, 0, 0]
    assert cal["hol_black_friday"].tolist() == [0, 1, 0, 0]  # the day after the 4th Thursday
    assert cal["hol_cyber_monday"].tolist() == [0, 0, 1, 0]
    assert cal["cal_dayofweek"].tolist() == [0, 4, 0, 6] and cal["cal_is_weekend"].tolist() == [0, 0, 0, 1]
    assert cal["hol_days_to_festival"].iloc[3] == 1  # the eve of Double 11


def test_add_calendar_gives_every_row_its_own_dates_features() -> None:
    """Computed once per distinct date and spread to the rows: shuffled rows of many series, an
    odd index and a stale calendar column must come out as if each row were computed alone."""
    rng = np.random.default_rng(0)
    dates = pd.date_range("2023-12-20", periods=60)
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], 60), "ds": np.tile(dates, 3), "y": 1.0})
    df = df.sample(frac=1.0, random_state=1).set_index(pd.Index(rng.permutation(180) * 7))
    df["cal_month"] = -1  # stale: replaced
    before = df.copy()
    out = add_calendar(df)
    expected = calendar_features(df["ds"])
    expected.index = df.index
    pd.testing.assert_frame_equal(out[list(CALENDAR_COLUMNS)], expected[list(CALENDAR_COLUMNS)])
    assert list(out.columns) == ["unique_id", "ds", "y", *CALENDAR_COLUMNS]
    pd.testing.assert_frame_equal(df, before)  # the input is left as it was
    assert list(add_calendar(df, columns=("cal_month",)).columns) == ["unique_id", "ds", "y", "cal_month"]
    fresh = df.drop(columns="cal_month")
    add_calendar(fresh)
    assert list(fresh.columns) == ["unique_id", "ds", "y"]  # nothing to replace: still untouched
