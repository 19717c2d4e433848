"""Crash safety: SIGKILL ``ingest`` and ``update`` at random points; nothing is lost or out of step.

After each kill the warehouse opens and holds exactly the state before the call or exactly the
state a clean run gives; for ``update`` the next run repairs an interrupted activation, after
which the active model version and the live forecasts agree and the artefact verifies.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from trendcast.engine.learn import live_version, repair, update
from trendcast.models.artefacts import active_version, load_artefact

_spec = importlib.util.spec_from_file_location(
    "hostile_faults", Path(__file__).parents[1] / "data" / "hostile" / "faults.py")
faults = sys.modules.setdefault("hostile_faults", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(faults)  # type: ignore[union-attr]

KILLS = 3
MODEL = "seasonal_naive"
H = 7


def _big_sales(path: Path, rows: int = 150_000) -> Path:
    items = [f"I{i:04d}" for i in range(rows // 200)]
    days = pd.date_range("2023-01-01", periods=200, freq="D").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"item_id": [i for i in items for _ in days],
                          "date": list(days) * len(items), "units": 1.0})
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_kill_ingest_loses_nothing(fresh_warehouse: Path, tmp_path: Path) -> None:
    sales = _big_sales(tmp_path / "sales.csv")
    before = faults.state(fresh_warehouse)
    reference = tmp_path / "reference.duckdb"
    shutil.copy(fresh_warehouse, reference)
    clean = faults.run_child({"kind": "ingest", "db": str(reference), "sales": str(sales)}, None)
    after = faults.state(reference)
    assert after != before
    for i, delay in enumerate(faults.delays(KILLS, clean.seconds, seed=12)):
        db = tmp_path / f"kill{i}.duckdb"
        shutil.copy(fresh_warehouse, db)
        faults.run_child({"kind": "ingest", "db": str(db), "sales": str(sales)}, delay)
        assert faults.state(db) in (before, after), f"kill at {delay:.2f} s left a partial load"


@pytest.mark.slow
def test_kill_update_keeps_versions_and_live_forecasts_in_step(
        hold_back: Callable[[int], tuple[Path, pd.DataFrame]], tmp_path: Path) -> None:
    db, held = hold_back(14)
    update(db, model_name=MODEL, h=H)  # v0001 and its live forecasts
    new = tmp_path / "new.csv"
    held.assign(date=pd.to_datetime(held["date"]).dt.strftime("%Y-%m-%d")).to_csv(new, index=False)
    job = {"kind": "update", "sales": str(new), "model": MODEL, "h": H}
    reference = tmp_path / "reference.duckdb"
    shutil.copy(db, reference)
    shutil.copytree(db.with_name(db.name + ".models"), reference.with_name(reference.name + ".models"))
    clean = faults.run_child({**job, "db": str(reference)}, None)
    final_sales = faults.state(reference)["sales"]
    for i, delay in enumerate(faults.delays(KILLS - 1, clean.seconds, seed=21)):
        victim = tmp_path / f"kill{i}.duckdb"
        shutil.copy(db, victim)
        shutil.copytree(db.with_name(db.name + ".models"), victim.with_name(victim.name + ".models"))
        faults.run_child({**job, "db": str(victim)}, delay)
        repair(victim, MODEL)
        active = active_version(victim, MODEL)
        assert active is not None and live_version(victim, MODEL) == active
        load_artefact(victim, MODEL, active).verify()
        update(victim, sales=new, model_name=MODEL, h=H, retrain=True)  # redoes the interrupted work
        assert faults.state(victim)["sales"] == final_sales
        assert live_version(victim, MODEL) == active_version(victim, MODEL)


def _versions_with_live(hold_back: Callable[[int], tuple[Path, pd.DataFrame]]) -> Path:
    from trendcast.engine.learn import train_version

    db, _ = hold_back(7)
    train_version(db, MODEL, h=H)  # v0001, active and live
    return db


def test_repair_finishes_a_committed_activation(hold_back) -> None:
    from trendcast.engine.learn import write_live_forecasts
    from trendcast.models.artefacts import PENDING, save_artefact, store_root

    db = _versions_with_live(hold_back)
    v1 = load_artefact(db, MODEL, 1)
    v2 = save_artefact(db, MODEL, _refit(v1), v1.train()[0], forecast=v1.forecast(), h=H, activate=False)
    (store_root(db) / MODEL / PENDING).write_text(v2.label)
    write_live_forecasts(db, MODEL, v2.version, v2.forecast())  # committed; killed before ACTIVE moved
    assert active_version(db, MODEL) == 1
    messages = repair(db, MODEL)
    assert "finished activating" in messages[0]
    assert active_version(db, MODEL) == live_version(db, MODEL) == 2
    assert not (store_root(db) / MODEL / PENDING).exists()


def test_repair_undoes_an_uncommitted_activation_and_resyncs(hold_back) -> None:
    from trendcast.engine.learn import write_live_forecasts
    from trendcast.models.artefacts import PENDING, save_artefact, set_active, store_root

    db = _versions_with_live(hold_back)
    v1 = load_artefact(db, MODEL, 1)
    v2 = save_artefact(db, MODEL, _refit(v1), v1.train()[0], forecast=v1.forecast(), h=H, activate=False)
    (store_root(db) / MODEL / PENDING).write_text(v2.label)  # killed before the transaction
    assert "never activated" in repair(db, MODEL)[0]
    assert active_version(db, MODEL) == live_version(db, MODEL) == 1
    # the state the issue found (ACTIVE=v0002, live forecasts from v0001) is repaired too
    set_active(db, MODEL, 2)
    write_live_forecasts(db, MODEL, 1, v1.forecast())
    assert "restored v0002" in repair(db, MODEL)[0]
    assert live_version(db, MODEL) == 2


def _refit(art):  # noqa: ANN001, ANN202 - an Artefact -> a fitted Forecaster
    from trendcast.models.artefacts import load_model

    return load_model(art)
