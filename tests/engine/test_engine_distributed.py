"""Dask, Spark and (when installed) Ray give the same forecasts as the local engine (tiny data)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trendcast.engine import check_engine, run_forecast
from trendcast.errors import ConfigError

H = 7


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(6):
        ds = pd.date_range("2024-01-01", periods=120, freq="D")
        y = 10 + i + 3 * np.sin(2 * np.pi * np.arange(120) / 7) + rng.normal(0, 1, 120)
        rows.append(pd.DataFrame({"unique_id": f"S{i}", "ds": ds, "y": np.clip(y, 0, None)}))
    return pd.concat(rows, ignore_index=True)


def _same(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-5) -> None:
    assert list(a.columns) == list(b.columns)
    assert a[["unique_id", "ds"]].astype(str).equals(b[["unique_id", "ds"]].astype(str))
    vals = [c for c in a.columns if c not in ("unique_id", "ds")]
    np.testing.assert_allclose(a[vals].to_numpy(float), b[vals].to_numpy(float), rtol=rtol, atol=1e-6)


def test_unknown_engine_and_lightgbm_quantiles_are_explained(panel: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="Choose one of"):
        check_engine("hadoop")
    with pytest.raises(ConfigError, match="point forecasts"):
        run_forecast(panel, "lightgbm", H, engine="dask", quantiles=[0.1])
    with pytest.raises(ConfigError, match="runs locally only"):
        run_forecast(panel, "auto", H, engine="dask")
    try:
        import ray  # noqa: F401
    except ImportError:  # not installed here: the error says how to get it
        with pytest.raises(ConfigError, match="pip install 'ray'"):
            check_engine("ray")


@pytest.fixture(scope="module")
def dask_client() -> Iterator[object]:
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


def test_dask_matches_local(panel: pd.DataFrame, dask_client: object) -> None:
    local = run_forecast(panel, "auto_ets", H, quantiles=[0.1, 0.9])
    _same(local, run_forecast(panel, "auto_ets", H, engine="dask", quantiles=[0.1, 0.9]))
    assert list(local.columns) == ["unique_id", "ds", "forecast", "q0.1", "q0.9"]
    _same(run_forecast(panel, "lightgbm", H), run_forecast(panel, "lightgbm", H, engine="dask"))


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed; Spark cannot start")
    pyspark_sql = pytest.importorskip("pyspark.sql")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("trendcast-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.spark
def test_spark_matches_local(panel: pd.DataFrame, spark: object) -> None:
    local = run_forecast(panel, "seasonal_naive", H, quantiles=[0.1, 0.9])
    _same(local, run_forecast(panel, "seasonal_naive", H, engine="spark", quantiles=[0.1, 0.9]))
    # one partition: the per-partition LightGBM is the local global model
    _same(run_forecast(panel, "lightgbm", H), run_forecast(panel, "lightgbm", H, engine="spark", partitions=1))


def test_cli_forecast_on_dask_matches_local(
    fresh_warehouse: Path, dask_client: object, tmp_path: Path
) -> None:
    from trendcast.cli import main

    args = ["forecast", "--db", str(fresh_warehouse), "--horizon", "7", "--model", "seasonal_naive",
            "--quantiles", "0.1,0.9"]
    assert main([*args, "--out", str(tmp_path / "local.csv")]) == 0
    assert main([*args, "--engine", "dask", "--out", str(tmp_path / "dask.csv")]) == 0
    local, dask = pd.read_csv(tmp_path / "local.csv"), pd.read_csv(tmp_path / "dask.csv")
    pd.testing.assert_frame_equal(local, dask)
    assert main([*args, "--engine", "dask", "--reconcile", "mint"]) == 1


def test_ray_matches_local(panel: pd.DataFrame) -> None:
    """Ray is optional (not installed by `make test`): `pip install ray` runs this check."""
    ray = pytest.importorskip("ray")
    try:
        local = run_forecast(panel, "seasonal_naive", H, quantiles=[0.1, 0.9])
        _same(local, run_forecast(panel, "seasonal_naive", H, engine="ray", quantiles=[0.1, 0.9]))
        _same(run_forecast(panel, "lightgbm", H), run_forecast(panel, "lightgbm", H, engine="ray", partitions=1))
    finally:
        ray.shutdown()
