"""Which stored forecast run a decision uses."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from trendcast.data.tables import ensure
from trendcast.data.warehouse import Warehouse
from trendcast.decide.forecasts import get_forecasts
from trendcast.forecasting import load_panel


def store_run(db: Path, panel: pd.DataFrame, model: str, freq: str, periods: int, age_hours: int) -> None:
    """A forecast run of ``periods`` periods of ``freq`` after the last sale, ``age_hours`` old."""
    start = panel["ds"].max() + pd.tseries.frequencies.to_offset(freq)
    dates = pd.date_range(start, periods=periods, freq=freq)
    rows = pd.DataFrame([(uid, d) for uid in panel["unique_id"].unique() for d in dates], columns=["unique_id", "date"])
    created = datetime(2025, 1, 1) - timedelta(hours=age_hours)
    rows = rows.assign(run_id=model, created_at=created, model=model, level="series", item_id="", store_id="",
                       forecast=2.0, quantiles=json.dumps({"0.5": 2.0, "0.9": 4.0}))
    rows["date"] = rows["date"].dt.date
    with Warehouse(db) as wh:
        ensure(wh.con, "forecasts")
        ensure(wh.con, "forecast_runs")
        wh.con.register("rows", rows)
        wh.con.execute("INSERT INTO forecasts BY NAME SELECT * FROM rows")
        wh.con.execute("INSERT INTO forecast_runs (run_id, created_at, model, horizon, freq) VALUES (?, ?, ?, ?, ?)",
                       [model, created, model, periods, freq])


def test_a_newer_run_at_another_frequency_does_not_hide_the_daily_one(fresh_warehouse: Path) -> None:
    panel = load_panel(fresh_warehouse)
    store_run(fresh_warehouse, panel, "daily_run", "D", 28, age_hours=5)
    store_run(fresh_warehouse, panel, "weekly_run", "W-SUN", 8, age_hours=1)  # newest, but weekly
    fc = get_forecasts(fresh_warehouse, panel, 28)
    assert "'daily_run'" in fc.attrs["source"] and "stored" in fc.attrs["source"]
    assert fc.groupby("unique_id").size().eq(28).all() and (fc["forecast"] == 2.0).all()


def test_without_a_usable_run_the_fallback_says_why(fresh_warehouse: Path) -> None:
    panel = load_panel(fresh_warehouse)
    store_run(fresh_warehouse, panel, "weekly_run", "W-SUN", 8, age_hours=1)
    fc = get_forecasts(fresh_warehouse, panel, 28)
    assert "fitted now" in fc.attrs["source"] and "daily" in fc.attrs["source"]
