"""Report tests reuse the API suite's warehouse builder: real statsforecast forecasts + metrics."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from trendcast.api.auth import create_token
from trendcast.data.warehouse import Warehouse

H = 14


def add_forecast_tables(db: Path) -> None:
    """Fit seasonal naive and naive (statsforecast, with intervals) and store forecasts + metrics."""
    from statsforecast import StatsForecast
    from statsforecast.models import Naive, SeasonalNaive

    with Warehouse(db) as wh:
        panel = wh.sales_panel()[["unique_id", "ds", "y"]]
    last = panel["ds"].max()
    train, test = panel[panel["ds"] <= last - pd.Timedelta(days=H)], panel[panel["ds"] > last - pd.Timedelta(days=H)]
    models = [SeasonalNaive(season_length=7), Naive()]
    sf = StatsForecast(models=models, freq="D", n_jobs=1)
    bt = sf.forecast(df=train, h=H).merge(test, on=["unique_id", "ds"])
    rows = [{"model": m, "mae": float((bt[m] - bt["y"]).abs().mean()),
             "wape": float((bt[m] - bt["y"]).abs().sum() / bt["y"].abs().sum())} for m in ("SeasonalNaive", "Naive")]
    fc = StatsForecast(models=[SeasonalNaive(season_length=7)], freq="D", n_jobs=1).forecast(
        df=panel, h=H, level=[80, 50])
    fc = fc.rename(columns={"SeasonalNaive": "forecast", "SeasonalNaive-lo-80": "q0.1", "SeasonalNaive-hi-80": "q0.9",
                            "SeasonalNaive-lo-50": "q0.25", "SeasonalNaive-hi-50": "q0.75"})
    fc = fc[["unique_id", "ds", "forecast", "q0.1", "q0.25", "q0.75", "q0.9"]].assign(model="seasonal_naive")
    num = ["forecast", "q0.1", "q0.25", "q0.75", "q0.9"]
    fc[num] = fc[num].clip(lower=0.0)  # the forecaster contract: demand is never negative
    con = duckdb.connect(str(db))
    con.register("fc", fc)
    con.execute("CREATE OR REPLACE TABLE forecasts AS SELECT * FROM fc")
    con.register("m", pd.DataFrame(rows))
    con.execute("CREATE OR REPLACE TABLE backtest_metrics AS SELECT * FROM m")
    con.close()


@pytest.fixture(scope="session")
def api_db(tmp_path_factory: pytest.TempPathFactory, small_warehouse: Path) -> Path:
    path = tmp_path_factory.mktemp("api") / "api.duckdb"
    shutil.copy(small_warehouse, path)
    add_forecast_tables(path)
    return path


@pytest.fixture(scope="session")
def tokens(api_db: Path) -> dict[str, str]:
    """An admin token and a reader token in ``api_db``."""
    with Warehouse(api_db) as wh:
        return {"admin": create_token(wh.con, "admin", admin=True), "reader": create_token(wh.con, "reader")}
