"""Trend tables: per-item life, windows at the data's frequency, low-volume rows."""

from __future__ import annotations

import pandas as pd
import pytest

from trendcast.decide.trends import LOW_VOLUME, trend_table


def panel_of(series: dict[str, list[float]], ds: pd.DatetimeIndex, freq: str) -> pd.DataFrame:
    """One store; each item's values are its last periods (a short list = a late launch)."""
    rows = [pd.DataFrame({"unique_id": f"S1/{i}", "ds": ds[len(ds) - len(y):], "y": y, "item_id": i,
                          "store_id": "S1", "category": "c"}) for i, y in series.items()]
    panel = pd.concat(rows, ignore_index=True)
    panel.attrs["freq"] = freq
    return panel


def forecast_of(values: dict[str, list[float]], start: pd.Timestamp, freq: str) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"unique_id": f"S1/{i}", "ds": pd.date_range(start, periods=len(v), freq=freq),
                                    "forecast": v}) for i, v in values.items()], ignore_index=True)


def test_new_item_rate_counts_only_the_days_it_existed() -> None:
    ds = pd.date_range("2024-01-01", periods=90)
    panel = panel_of({"OLD": [10.0] * 90, "NEW": [6.4] * 20}, ds, "D")  # NEW launched 20 days ago
    fc = forecast_of({"OLD": [10.0] * 28, "NEW": [5.31] * 28}, ds[-1] + pd.Timedelta(days=1), "D")
    t = trend_table(panel, fc).set_index("item_id")
    assert t.loc["NEW", "recent_per_day"] == pytest.approx(6.4)  # not 128 units / 28 days = 4.57
    assert t.loc["NEW", "change_pct"] == pytest.approx(-17.0, abs=0.1)
    assert t.loc["NEW", "trend"] == "falling"


def test_weekly_windows_match_and_columns_say_per_week() -> None:
    ds = pd.date_range("2024-01-01", periods=40, freq="W-MON")
    history = [70.0] * 27 + [50.0] * 9 + [100.0] * 4  # last 13 weeks average 65.38
    panel = panel_of({"A": history, "SLOW": [3.0] * 40}, ds, "W-MON")  # 3 a week: under 1 a day
    fc = forecast_of({"A": [100.0] * 4 + [65.0] * 9, "SLOW": [3.0] * 13}, ds[-1] + pd.Timedelta(weeks=1), "W-MON")
    t = trend_table(panel, fc).set_index("item_id")
    assert {"recent_per_week", "forecast_per_week"} <= set(t.columns)
    assert not any("daily" in c for c in t.columns)
    assert t.loc["A", "recent_per_week"] == pytest.approx(850 / 13, abs=1e-3)  # 13 weeks, not 4
    assert t.loc["A", "forecast_per_week"] == pytest.approx(985 / 13, abs=1e-3)  # the next 13 weeks
    assert t.loc["SLOW", "trend"] == LOW_VOLUME
    assert "13 weeks" in t.attrs["window"] and "per week" in t.attrs["window"]
    short = trend_table(panel, fc, horizon=4).set_index("item_id")
    assert short.loc["A", "recent_per_week"] == pytest.approx(100.0)  # the last 4 weeks
    assert short.loc["A", "forecast_per_week"] == pytest.approx(100.0)  # against the next 4


def test_monthly_compares_six_months_with_six() -> None:
    ds = pd.date_range("2023-01-01", periods=24, freq="MS")
    panel = panel_of({"A": [300.0] * 18 + [600.0] * 6}, ds, "MS")
    fc = forecast_of({"A": [600.0] * 6}, ds[-1] + pd.DateOffset(months=1), "MS")
    t = trend_table(panel, fc).set_index("item_id")
    assert t.loc["A", "recent_per_month"] == pytest.approx(600.0)
    assert t.loc["A", "change_pct"] == pytest.approx(0.0) and t.loc["A", "trend"] == "stable"


def test_intermittent_items_keep_their_numbers_and_say_why() -> None:
    ds = pd.date_range("2024-01-01", periods=60)
    panel = panel_of({f"P{i}": [1.0 if d % 4 == 0 else 0.0 for d in range(60)] for i in range(3)}, ds, "D")
    fc = forecast_of({f"P{i}": [0.3] * 28 for i in range(3)}, ds[-1] + pd.Timedelta(days=1), "D")
    for level in ("item", "category"):
        t = trend_table(panel, fc, level=level)
        assert len(t) == (3 if level == "item" else 1)
        assert t[["recent_per_day", "forecast_per_day", "change_pct"]].notna().all().all()
        assert (t["trend"] == LOW_VOLUME).all()
    assert "1 unit a day" in t.attrs["note"]
