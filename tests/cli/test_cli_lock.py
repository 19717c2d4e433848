"""A warehouse held by another process: wait ``--wait`` seconds, then one line naming the holder."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from trendcast.cli import main
from trendcast.data.warehouse import LOCK_WAIT, Warehouse

HOLD = "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)"


@pytest.fixture
def held(tmp_path: Path):  # noqa: ANN201 - yields (db, holder process)
    db = tmp_path / "shop.duckdb"
    Warehouse(db).close()
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout and proc.stdout.readline().strip() == "held"
    yield db, proc
    proc.kill()
    proc.wait()
    proc.stdout.close()
    LOCK_WAIT.update(seconds=None, notify=None)


@pytest.mark.parametrize("where", ["before", "after"])
def test_waits_then_names_the_holder(held, tmp_path: Path, where: str,
                                     capsys: pytest.CaptureFixture) -> None:
    db, proc = held
    sales = tmp_path / "sales.csv"
    sales.write_text("item_id,date,units\nI1,2024-01-01,1\n")
    cmd = ["ingest", "--db", str(db), "--sales", str(sales)]
    argv = ["--wait", "1", *cmd] if where == "before" else [*cmd, "--wait", "1"]
    t0 = time.monotonic()
    rc = main(argv)
    waited = time.monotonic() - t0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc == 1 and 1.0 <= waited < 20
    assert "waiting up to 1 s" in err[0]
    assert len(err) == 2 and err[1].startswith("Error: ")
    assert f"PID {proc.pid}" in err[1] and "POST /api/v1/jobs" in err[1]
    assert "Traceback" not in "".join(err)


def test_waiting_succeeds_when_the_holder_stops(held, tmp_path: Path) -> None:
    db, proc = held
    sales = tmp_path / "sales.csv"
    sales.write_text("item_id,date,units\nI1,2024-01-01,1\n")
    subprocess.Popen([sys.executable, "-c", f"import time, os; time.sleep(1.5); os.kill({proc.pid}, 9)"])
    assert main(["--wait", "30", "ingest", "--db", str(db), "--sales", str(sales)]) == 0
    with Warehouse(db, read_only=True) as wh:
        assert wh.count("sales") == 1
