"""Versioned artefacts: complete metadata, tamper detection, update with drift, exact rollback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trendcast.data.warehouse import Warehouse
from trendcast.engine.learn import read_live_forecasts, train_version, update
from trendcast.errors import ConfigError
from trendcast.models.artefacts import (
    active_version,
    check_reproduces,
    compare_artefacts,
    list_artefacts,
    load_artefact,
    load_model,
    rollback,
    store_root,
)

FAST_LGBM = {"n_estimators": 30, "num_leaves": 15, "n_jobs": 1}
H = 14


@pytest.fixture()
def split_warehouse(hold_back: Callable[[int], tuple[Path, pd.DataFrame]]) -> tuple[Path, pd.DataFrame]:
    """A copy of the small shop with its last 28 days of sales held back (returned to insert later)."""
    return hold_back(28)


def _insert(db: Path, rows: pd.DataFrame) -> None:
    with Warehouse(db) as wh:
        wh.con.register("rows", rows)
        wh.con.execute("INSERT INTO sales BY NAME SELECT * FROM rows")
        wh.con.unregister("rows")


def test_statistical_artefact_roundtrip_and_metadata(split_warehouse: tuple[Path, pd.DataFrame]) -> None:
    db, _ = split_warehouse
    _, art, _ = train_version(db, "seasonal_naive", h=H, quantiles=[0.1, 0.9])
    meta = json.loads((art.path / "meta.json").read_text())
    for key in ("name", "version", "created_at", "code_version", "spec", "data", "metrics", "files"):
        assert key in meta, key
    assert meta["pickle"] is False and meta["format"] == "refit"
    assert {"wape", "mase"} <= set(meta["metrics"]) and np.isfinite(meta["metrics"]["wape"])
    assert meta["data"]["n_series"] == 32 and meta["data"]["first_ds"] < meta["data"]["last_ds"]
    assert set(meta["files"]) >= {"train.parquet", "forecast.parquet", "static.parquet"}
    assert art.path.parent == store_root(db) / "seasonal_naive"
    check_reproduces(art)  # refit from the stored frame gives the same numbers


def test_tampered_artefact_is_refused(split_warehouse: tuple[Path, pd.DataFrame]) -> None:
    db, _ = split_warehouse
    _, art, _ = train_version(db, "naive", h=H)
    frame = pd.read_parquet(art.path / "train.parquet")
    frame.loc[0, "y"] += 1
    frame.to_parquet(art.path / "train.parquet", index=False)
    with pytest.raises(ConfigError, match="damaged"):
        load_model(load_artefact(db, "naive"))


def test_lightgbm_update_on_drift_and_exact_rollback(split_warehouse: tuple[Path, pd.DataFrame]) -> None:
    db, held = split_warehouse
    first = update(db, model_name="lightgbm", h=H, params=FAST_LGBM)  # no model yet: trains v1
    assert first.action == "trained" and first.version == 1
    v1 = load_artefact(db, "lightgbm", 1)
    assert v1.meta["spec"]["kwargs"]["n_estimators"] == 30
    assert v1.meta["format"] == "lightgbm-text+refit" and v1.meta["boosters"]
    assert (v1.path / next(iter(v1.meta["boosters"].values()))).read_text().startswith("tree")
    v1_forecast = v1.forecast()

    _insert(db, held.assign(units=held["units"] * 3.0))  # planted: demand triples
    second = update(db, model_name="lightgbm", h=H)
    assert second.action == "retrained" and second.version == 2, second.summary()
    assert second.drift is not None and second.drift.error["drift"]
    assert active_version(db, "lightgbm") == 2

    back = rollback(db, "lightgbm")
    assert back.version == 1 and active_version(db, "lightgbm") == 1
    again = load_model(back).predict(H, X_future=back.read("xfuture.parquet"))
    for col in v1_forecast.columns:  # bit-identical, not just close
        assert np.array_equal(again[col].to_numpy(), v1_forecast[col].to_numpy()), col

    listing = list_artefacts(db, "lightgbm")
    assert list(listing.version) == ["v0001", "v0002"] and list(listing.active) == [True, False]
    table = compare_artefacts(db, "lightgbm")
    assert list(table.columns) == ["v0001", "v0002"] and "metric wape" in table.index


def test_no_drift_refreshes_lightgbm_without_retraining(split_warehouse: tuple[Path, pd.DataFrame]) -> None:
    db, held = split_warehouse
    _, v1, _ = train_version(db, "lightgbm", h=H, **FAST_LGBM)
    first_days = held[held["date"] <= held["date"].min() + pd.Timedelta(days=6)]
    _insert(db, first_days)
    result = update(db, model_name="lightgbm", h=H, min_points=10_000, psi_threshold=10.0, ks_min=1.0)
    assert result.action == "refreshed" and result.version == v1.version
    live = read_live_forecasts(db, "lightgbm")
    assert live is not None and live["ds"].min() == pd.Timestamp(first_days["date"].max()) + pd.Timedelta(days=1)
    assert len(list((store_root(db) / "lightgbm").glob("v*"))) == 1
