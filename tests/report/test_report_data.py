"""Reading other stages' tables: run-based forecasts with JSON quantiles and hierarchy levels."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from trendcast.data.warehouse import Warehouse
from trendcast.errors import InputError, NotReadyError
from trendcast.report.data import ShopData


@pytest.fixture
def run_db(fresh_warehouse: Path) -> Path:
    """Two forecast runs in the evaluate stage's layout (levels, JSON quantiles, run ids)."""
    db = fresh_warehouse
    rows = []
    for run, created, scale in (("old", "2024-01-01", 100.0), ("new", "2024-02-01", 1.0)):
        for day in pd.date_range("2023-08-29", periods=3):
            for uid, level in (("S1/I001", "store_item"), ("S2/I001", "store_item"), ("total", "total")):
                f = scale * (10.0 if level == "total" else 4.0)
                qs = {"0.1": f - 1, "0.9": f + 1} if level != "total" else {"0.1": f - 2, "0.9": f + 2}
                rows.append({"run_id": run, "created_at": pd.Timestamp(created), "model": "auto", "level": level,
                             "unique_id": uid, "item_id": uid.split("/")[-1], "store_id": uid.split("/")[0],
                             "date": day.date(), "forecast": f, "quantiles": json.dumps(qs)})
    con = duckdb.connect(str(db))
    con.register("rows", pd.DataFrame(rows))
    con.execute("CREATE TABLE forecasts AS SELECT * FROM rows")
    con.close()
    return db


def test_latest_run_bottom_level_and_json_quantiles(run_db: Path) -> None:
    con = duckdb.connect(str(run_db), read_only=True)
    try:
        data = ShopData(con)
        fc = data.forecasts()
        assert set(fc["unique_id"]) == {"S1/I001", "S2/I001"}  # total is not a sales series
        assert (fc["forecast"] == 4.0).all() and (fc["q0.9"] == 5.0).all()  # newest run only
        total = data.aggregate_forecasts()
        assert total.attrs["band"] == "stored" and (total["q0.9"] == 12.0).all()  # stored level's own band
        summed = data.aggregate_forecasts(by_category=True)  # no category level stored: sums items
        assert summed.attrs["band"] == "summed" and (summed["forecast"] == 8.0).all()
        with pytest.raises(InputError, match="Unknown series"):
            data.forecasts("S9/I999")
        with pytest.raises(NotReadyError, match="No forecast stored for 'S1/I002'"):
            data.forecasts("S1/I002")
    finally:
        con.close()


def test_metrics_are_the_stored_backtest_leaderboard(api_db: Path, run_db: Path) -> None:
    con = duckdb.connect(str(api_db), read_only=True)
    try:
        board = ShopData(con).metrics()
    finally:
        con.close()
    assert set(board["model"]) == {"seasonal_naive", "naive"}
    assert {"wrmsse", "mase", "horizon", "windows"} <= set(board.columns) and (board["horizon"] == 14).all()
    con = duckdb.connect(str(run_db), read_only=True)
    try:
        with pytest.raises(NotReadyError, match="trendcast backtest"):
            ShopData(con).metrics()  # no backtest has run on this warehouse
    finally:
        con.close()


def test_explanations_per_series_else_shop_wide(run_db: Path) -> None:
    from trendcast.report.figures import drivers_figure

    rows = pd.DataFrame({
        "run_id": ["r1"] * 4 + ["r0"] * 2, "model": "lightgbm", "kind": ["shap"] * 4 + ["shap_global"] * 2,
        "unique_id": ["S1/I001"] * 4 + [None, None], "ds": None,
        "feature": ["price", "lag7", "price", "lag7", "promo", "lag1"], "value": [-2.0, 1.0, -4.0, 3.0, 0.5, 0.2],
        "created_at": pd.Timestamp("2024-01-01"),
    })
    con = duckdb.connect(str(run_db))
    try:
        con.register("rows", rows)
        con.execute("CREATE TABLE explanations AS SELECT * FROM rows")
        data = ShopData(con)
        mine = data.explanations("S1/I001")
        assert mine.attrs["scope"] == "this series" and len(mine) == 4
        other = data.explanations("S2/I001")
        assert other.attrs["scope"] == "shop-wide" and set(other["feature"]) == {"promo", "lag1"}
        fig = drivers_figure(mine)
        assert list(fig.data[0].y) == ["units sold 7 days ago", "unit price"]  # readable names
        assert list(fig.data[0].customdata) == ["lag7", "price"] and list(fig.data[0].x) == [2.0, 3.0]  # mean |value|
    finally:
        con.close()


def _shop(path: Path, sales: pd.DataFrame, freq: str) -> Warehouse:
    """A warehouse holding daily ``sales`` (with a products row per item), forecast at ``freq``."""
    wh = Warehouse(path)
    wh.con.register("frame", sales)
    wh.con.execute("INSERT INTO sales BY NAME SELECT * FROM frame")
    wh.con.execute("INSERT INTO products BY NAME SELECT DISTINCT item_id, 'toys' AS category FROM frame")
    wh.set_config("data_freq", "D")
    wh.set_config("freq", freq)
    return wh


def test_history_counts_empty_days_as_zero(tmp_path: Path) -> None:
    days = pd.date_range("2024-03-01", periods=10)
    sales = pd.DataFrame({"store_id": "S1", "item_id": "A", "date": days.delete([3, 4]).date, "units": 2.0})
    with _shop(tmp_path / "d.duckdb", sales, "D") as wh:
        data = ShopData(wh.con)
        hist, cats = data.history(unique_id="S1/A"), data.category_history()
    assert list(hist["ds"]) == list(days) and hist["y"].tolist() == [2.0] * 3 + [0.0] * 2 + [2.0] * 5
    assert cats["category"].eq("toys").all() and cats["y"].tolist() == hist["y"].tolist()


def test_history_of_daily_sales_forecast_weekly_is_weekly(tmp_path: Path) -> None:
    """The chart sits next to a weekly forecast: weeks summed, an unsold week 0, a part week left out."""
    days = pd.date_range("2024-03-04", "2024-04-02")  # Monday 4 March .. Tuesday 2 April
    sales = pd.DataFrame({"store_id": "S1", "item_id": "A", "date": days.date, "units": 1.0})
    sales = sales[~sales["date"].between(pd.Timestamp("2024-03-18").date(), pd.Timestamp("2024-03-24").date())]
    with _shop(tmp_path / "w.duckdb", sales, "W-SUN") as wh:
        hist = ShopData(wh.con).history(days=365)
    assert list(hist["ds"].dt.strftime("%m-%d")) == ["03-10", "03-17", "03-24", "03-31"]
    assert hist["y"].tolist() == [7.0, 7.0, 0.0, 7.0]  # the week ending 7 April is not over
