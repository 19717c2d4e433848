"""Shared fixtures: a small generated shop (seconds to build) and its warehouse/panel.

Every suite runs on this generated data; tests that need ../shared real data use
``shared_path`` and skip cleanly when the file is absent.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from trendcast.data.demo import generate_demo
from trendcast.data.warehouse import Warehouse
from trendcast.settings import shared_file

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SMALL = dict(n_items=16, n_stores=2, days=240, n_users=200, event_days=30, seed=3)


@pytest.fixture(scope="session")
def small_demo() -> dict[str, object]:
    """16 items x 2 stores x 240 days, every source, with ground truth in ``['truth']``."""
    return generate_demo(**SMALL)


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory, small_demo: dict) -> Path:
    """A warehouse file filled straight from the small demo frames (bypassing ingest validation)."""
    path = tmp_path_factory.mktemp("wh") / "small.duckdb"
    with Warehouse(path) as wh:
        for name in ("sales", "products", "texts", "inventory"):
            frame = small_demo[name].copy()
            if name == "texts":
                frame.insert(0, "text_id", [f"t{i}" for i in range(len(frame))])
            wh.con.register("frame", frame)
            wh.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
            wh.con.unregister("frame")
    return path


@pytest.fixture
def fresh_warehouse(small_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of ``small_warehouse`` for tests that write (forecast runs, artefacts):
    the session copy must stay as built, or later tests see other tests' tables."""
    path = tmp_path / "fresh.duckdb"
    shutil.copy(small_warehouse, path)
    return path


@pytest.fixture
def hold_back(fresh_warehouse: Path) -> Callable[[int], tuple[Path, pd.DataFrame]]:
    """``hold_back(days)``: ``fresh_warehouse`` without its last ``days`` days of sales, and those
    rows, to load later as the new data that continuous learning receives."""

    def cut(days: int) -> tuple[Path, pd.DataFrame]:
        with Warehouse(fresh_warehouse) as wh:
            last = wh.con.execute("SELECT max(date) FROM sales").fetchone()[0]
            cutoff = (pd.Timestamp(last) - pd.Timedelta(days=days)).date()
            held = wh.con.execute("SELECT * FROM sales WHERE date > ?", [cutoff]).df()
            wh.con.execute("DELETE FROM sales WHERE date > ?", [cutoff])
        return fresh_warehouse, held

    return cut


@pytest.fixture(scope="session")
def small_panel(small_warehouse: Path) -> pd.DataFrame:
    """Daily long frame ``unique_id, ds, y, item_id, store_id, category, price, promo`` of the small shop."""
    with Warehouse(small_warehouse, read_only=True) as wh:
        return wh.sales_panel()


@pytest.fixture(scope="session")
def api_db(tmp_path_factory: pytest.TempPathFactory, small_warehouse: Path) -> Path:
    """The small warehouse after `trendcast backtest` and `trendcast forecast` (14 days, 4 quantiles):
    what the API, dashboard and report read."""
    from trendcast.forecasting import backtest, forecast

    path = tmp_path_factory.mktemp("served") / "served.duckdb"
    shutil.copy(small_warehouse, path)
    backtest(path, horizon=14, windows=1, models=["seasonal_naive", "naive"], quantiles=[0.1, 0.9])
    forecast(path, 14, model="seasonal_naive", quantiles=[0.1, 0.25, 0.75, 0.9])
    return path


@pytest.fixture(scope="session")
def tokens(api_db: Path) -> dict[str, str]:
    """An admin token and a reader token in ``api_db``."""
    from trendcast.api.auth import create_token

    with Warehouse(api_db) as wh:
        return {"admin": create_token(wh.con, "admin", admin=True), "reader": create_token(wh.con, "reader")}


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test when it is absent."""
    path = shared_file(*parts)
    if path is None:
        pytest.skip(f"../shared/{'/'.join(parts)} is not present")
    return path


@pytest.fixture
def shared() -> Callable[..., Path]:
    """``shared("data", "x.csv")``: a ../shared file, or skip (tests cannot import conftest)."""
    return shared_path
