"""Frequency detection from sales dates, period labels, and the panel at a frequency."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trendcast.data.periods import detect, period_label
from trendcast.data.warehouse import Warehouse


@pytest.mark.parametrize(
    ("dates", "freq"),
    [
        (pd.date_range("2024-01-01", periods=30, freq="D").delete([3, 4, 10]), "D"),  # gaps are fine
        (pd.date_range("2024-01-05", periods=20, freq="W-FRI").delete([2, 7]), "W-FRI"),
        (pd.date_range("2024-01-01", periods=12, freq="MS"), "MS"),
        (pd.date_range("2024-01-31", periods=12, freq="ME").delete([4]), "ME"),
        (pd.DatetimeIndex(["2024-01-01", "2024-01-08"]), "D"),  # too few dates to tell
        (pd.date_range("2024-01-01", periods=12, freq="MS") + pd.Timedelta(days=14), "MS"),  # the 15th
        (pd.date_range("2024-01-31", periods=12, freq="BME"), "MS"),  # last business day
    ],
)
def test_detect(dates: pd.DatetimeIndex, freq: str) -> None:
    assert detect(dates) == freq


def test_mixed_or_irregular_dates_follow_no_frequency() -> None:
    fridays = pd.date_range("2024-01-05", periods=20, freq="W-FRI")
    assert detect(fridays.append(pd.DatetimeIndex(["2024-02-06"]))) is None
    assert detect(pd.date_range("2024-01-01", periods=20, freq="3D")) is None
    assert detect(pd.date_range("2024-01-15", periods=8, freq="QS") + pd.Timedelta(days=14)) is None  # quarters


def _loaded(path: Path, sales: pd.DataFrame) -> Warehouse:
    """A warehouse holding ``sales``, its frequency detected (the caller closes it)."""
    wh = Warehouse(path)
    wh.con.register("frame", sales)
    wh.con.execute("INSERT INTO sales BY NAME SELECT * FROM frame")
    wh.set_config("freq", wh.detect_frequency())
    return wh


def test_monthly_sales_dated_mid_month_are_labelled_by_month(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-01", periods=6, freq="MS") + pd.Timedelta(days=14)
    sales = pd.DataFrame({"store_id": "", "item_id": "A", "date": days.delete([2]).date, "units": 5.0})
    with _loaded(tmp_path / "m.duckdb", sales) as wh:
        panel = wh.sales_panel()
    assert list(panel["ds"].dt.strftime("%m-%d")) == ["01-01", "02-01", "03-01", "04-01", "05-01", "06-01"]
    assert panel["y"].tolist() == [5.0, 5.0, 0.0, 5.0, 5.0, 5.0]  # the last month (15 June) is kept


def test_period_labels() -> None:
    days = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-07", "2024-01-08", "2024-02-29"]))
    assert list(period_label(days, "W-SUN").dt.strftime("%m-%d")) == ["01-07", "01-07", "01-14", "03-03"]
    assert list(period_label(days, "MS").dt.strftime("%m-%d")) == ["01-01", "01-01", "01-01", "02-01"]
    assert list(period_label(days, "ME").dt.strftime("%m-%d")) == ["01-31", "01-31", "01-31", "02-29"]


def test_weekly_panel_fills_missing_weeks_not_days(tmp_path: Path) -> None:
    weeks = pd.date_range("2024-01-05", periods=10, freq="W-FRI")
    sales = pd.DataFrame({"store_id": "", "item_id": "A", "date": weeks.delete([4]).date, "units": 3.0})
    with _loaded(tmp_path / "w.duckdb", sales) as wh:
        panel = wh.sales_panel()
        monthly = wh.sales_panel("MS")
    assert panel.attrs["freq"] == "W-FRI" and list(panel["ds"]) == list(weeks)
    assert panel["y"].tolist() == [3.0] * 4 + [0.0] + [3.0] * 5
    # summed into months; March is not over by the last Friday (8 March), so it is left out
    assert list(monthly["ds"].dt.strftime("%Y-%m")) == ["2024-01", "2024-02"]
    assert monthly["y"].tolist() == [12.0, 9.0]  # 2 February had no row
