"""`trendcast update` and `trendcast models list|compare|rollback` from the command line.

A fast statistical model keeps this under a few seconds; the LightGBM path is covered in
tests/engine/test_engine_learn.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trendcast.cli import main
from trendcast.engine.learn import read_live_forecasts
from trendcast.models.artefacts import active_version, load_artefact


@pytest.fixture()
def shop(tmp_path: Path, hold_back: Callable[[int], tuple[Path, pd.DataFrame]]) -> tuple[Path, Path]:
    """A copy of the small shop without its last 14 days, and those days as a sales CSV."""
    db, held = hold_back(14)
    csv = tmp_path / "new_sales.csv"
    keep = [c for c in ("store_id", "item_id", "date", "units", "price", "promo") if c in held]
    held[keep].to_csv(csv, index=False)
    return db, csv


def test_update_list_compare_and_rollback_restore_live_forecasts(
    shop: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, csv = shop
    args = ["--db", str(db), "--model", "seasonal_naive", "--horizon", "7"]
    assert main(["update", *args]) == 0
    assert "trained" in capsys.readouterr().out
    v1 = load_artefact(db, "seasonal_naive", 1).forecast()

    assert main(["update", *args, "--sales", str(csv), "--retrain"]) == 0
    out = capsys.readouterr().out
    assert "retrained" in out and "forced" in out
    assert active_version(db, "seasonal_naive") == 2
    live = read_live_forecasts(db, "seasonal_naive")
    assert live is not None and set(live["version"]) == {2}
    assert live["ds"].min() > v1["ds"].max() - pd.Timedelta(days=7)  # forecasts moved on
    assert main(["update", *args, "--sales", str(csv)]) == 0  # the same file again (a daily cron job): no error
    out = capsys.readouterr().out
    assert "unchanged" in out and "stay as they are" in out and active_version(db, "seasonal_naive") == 2

    assert main(["models", "available"]) == 0
    assert "seasonal_naive" in capsys.readouterr().out.split()
    assert main(["models", "list", "--db", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "v0001" in listing and "v0002" in listing
    assert main(["models", "compare", "--db", str(db), "--name", "seasonal_naive"]) == 0
    assert "data to" in capsys.readouterr().out

    assert main(["models", "rollback", "--db", str(db), "--name", "seasonal_naive"]) == 0
    assert "reproduced exactly" in capsys.readouterr().out
    assert active_version(db, "seasonal_naive") == 1
    live = read_live_forecasts(db, "seasonal_naive")
    assert live is not None and set(live["version"]) == {1}
    live = live[v1.columns].sort_values(["unique_id", "ds"]).reset_index(drop=True)
    for col in v1.columns.drop(["unique_id", "ds"]):  # v1's numbers again, bit for bit
        assert np.array_equal(live[col].to_numpy(), v1[col].to_numpy()), col
    assert live["ds"].equals(v1["ds"].astype(live["ds"].dtype))


def test_rollback_without_an_older_version_is_a_clear_error(
    shop: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = shop
    assert main(["update", "--db", str(db), "--model", "naive", "--horizon", "7"]) == 0
    assert main(["models", "rollback", "--db", str(db), "--name", "naive"]) == 1
    assert "no version older" in capsys.readouterr().err


def test_explain_keeps_the_stored_version_and_asks_which_store(
    fresh_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = fresh_warehouse
    assert main(["update", "--db", str(db), "--model", "seasonal_naive", "--horizon", "7"]) == 0
    uid = read_live_forecasts(db, "seasonal_naive")["unique_id"].iloc[0]
    item = uid.split("/")[-1]
    capsys.readouterr()
    assert main(["explain", "--db", str(db), "--model", "seasonal_naive", "--item", item]) == 1
    assert "give one of these series as --item" in capsys.readouterr().err
    out = tmp_path / "drivers.csv"
    assert main(["explain", "--db", str(db), "--model", "seasonal_naive", "--item", uid, "--out", str(out)]) == 0
    assert out.exists()
    assert active_version(db, "seasonal_naive") == 1  # explained the 7-day version, did not retrain for 28 days
