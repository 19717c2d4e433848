"""forecast/backtest orchestration, the warehouse table, plots and the CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trendcast.cli import main
from trendcast.evaluate.hierarchy import build_hierarchy, static_frame
from trendcast.forecasting import backtest, forecast, future_frame, latest_forecasts


def test_future_frame_defaults_and_plan(small_panel: pd.DataFrame) -> None:
    xf = future_frame(small_panel, 3)
    last = small_panel["ds"].max()
    assert xf["ds"].min() == last + pd.Timedelta(days=1) and (xf["promo"] == 0).all()
    uid = small_panel["unique_id"].iloc[0]
    last_price = small_panel[small_panel["unique_id"] == uid]["price"].iloc[-1]
    assert (xf[xf["unique_id"] == uid]["price"] == last_price).all()
    row = small_panel[small_panel["unique_id"] == uid].iloc[0]
    plan = pd.DataFrame({"item_id": [row["item_id"]], "store_id": [row["store_id"]],
                         "date": [last + pd.Timedelta(days=2)], "price": [1.0], "promo": [1]})
    xp = future_frame(small_panel, 3, plan).set_index(["unique_id", "ds"])
    assert xp.loc[(uid, last + pd.Timedelta(days=2)), "promo"] == 1
    assert xp.loc[(uid, last + pd.Timedelta(days=2)), "price"] == 1.0
    assert xp.loc[(uid, last + pd.Timedelta(days=1)), "promo"] == 0


def test_forecast_writes_file_and_table(fresh_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc.parquet"
    fc = forecast(fresh_warehouse, 7, model="seasonal_naive", quantiles=[0.1, 0.9], out=out)
    assert list(fc.columns) == ["unique_id", "item_id", "store_id", "date", "forecast", "q0.1", "q0.9"]
    assert len(fc) == 7 * fc["unique_id"].nunique()
    assert pd.read_parquet(out).shape == fc.shape
    stored = latest_forecasts(fresh_warehouse)
    assert stored["run_id"].nunique() == 1 and len(stored) == len(fc)
    assert np.allclose(stored["q0.9"].to_numpy(), fc["q0.9"].to_numpy())


@pytest.mark.parametrize("method", ["bottom_up", "mint"])
def test_forecast_levels_add_up(fresh_warehouse: Path, small_panel: pd.DataFrame, method: str) -> None:
    fc = forecast(fresh_warehouse, 5, model="moving_average", quantiles=[], reconcile=method, levels=True, store=False)
    h = build_hierarchy(static_frame(small_panel))
    assert set(fc["level"]) == set(h.levels)
    bottom = fc[fc["level"] == h.bottom].rename(columns={"date": "ds"})
    summed = h.aggregate(bottom, ["forecast"]).merge(
        fc.rename(columns={"date": "ds"}), on=["unique_id", "ds"], suffixes=("_sum", "")
    )
    assert len(summed) == len(fc)
    assert np.abs(summed["forecast_sum"] - summed["forecast"]).max() < 1e-6


def test_backtest_api_writes_json(fresh_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    metrics = backtest(fresh_warehouse, horizon=7, windows=2, models=["naive", "seasonal_naive"], out=out)
    on_disk = json.loads(out.read_text())
    assert set(on_disk["models"]) == {"naive", "seasonal_naive"}
    assert "store_item" in on_disk["models"]["naive"]["levels"]
    assert metrics["leaderboard"][0]["model"] in {"naive", "seasonal_naive"}


def test_cli_forecast_backtest_plot(fresh_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    assert main(["forecast", "--db", str(fresh_warehouse), "--horizon", "7", "--model", "naive", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert {"item_id", "store_id", "date", "forecast", "q0.1", "q0.5", "q0.9"} <= set(df.columns)
    items = ",".join(df["item_id"].unique()[:2])
    for ext in ("html", "png"):
        plot = tmp_path / f"p.{ext}"
        assert main(["plot", "--db", str(fresh_warehouse), "--items", items, "--out", str(plot)]) == 0
        assert plot.stat().st_size > 1000
    m = tmp_path / "m.json"
    code = main(["backtest", "--db", str(fresh_warehouse), "--horizon", "7", "--windows", "1", "--models", "naive", "--out", str(m)])
    assert code == 0 and "naive" in json.loads(m.read_text())["models"]
    assert main(["forecast", "--db", str(fresh_warehouse), "--quantiles", "0.1,abc", "--out", str(out)]) == 1
