"""Hostile input: every file of the malformed corpus is rejected cleanly and changes nothing.

Clean means: exit code 1, one line naming the file (and the row and column where the problem
has one), and the warehouse file byte-identical before and after. Plus the inputs that must
load as plain data (injection strings in values) and ``--on-error skip`` loading exactly the
good rows around a huge field and an unbalanced quote.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from trendcast.cli import main
from trendcast.data.export import FORMULA_START, write_csv
from trendcast.data.ingest import ingest
from trendcast.data.validate import check_date_window, date_window
from trendcast.data.warehouse import Warehouse
from trendcast.errors import ConfigError, InputError

HERE = Path(__file__).parent / "hostile"
_spec = importlib.util.spec_from_file_location("hostile_corpus", HERE / "corpus.py")
corpus = sys.modules.setdefault("hostile_corpus", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(corpus)  # type: ignore[union-attr]
CASES = corpus.cases()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    db = folder / "wh.duckdb"
    assert main(["ingest", "--db", str(db), "--sales", str(corpus.good_sales(folder))]) == 0
    return db


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 60
    assert {c.source for c in CASES} == {"sales", "products", "events", "texts", "inventory"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rejected_cleanly(case, loaded: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = corpus.write(case, tmp_path)
    before = _digest(loaded)
    capsys.readouterr()
    rc = main(["ingest", "--db", str(loaded), f"--{case.source}", spec])
    err = capsys.readouterr().err.strip()
    assert rc == 1, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("Error: file ") and "Traceback" not in err
    assert case.name in err or spec in err
    if case.row is not None:
        assert f"row {case.row}" in err, err
    if case.column is not None:
        assert f"column '{case.column}'" in err, err
    assert _digest(loaded) == before, "a rejected load changed the warehouse"


def test_injection_strings_are_plain_data(tmp_path: Path) -> None:
    evil = ["x'; DROP TABLE sales; --", 'y"); DROP TABLE sales; --', "=cmd|' /C calc'!A0", "I\u202e001"]
    path = tmp_path / "sales.csv"
    rows = [f'"{e.replace(chr(34), chr(34) * 2)}",2024-01-0{i + 1},1' for i, e in enumerate(evil)]
    path.write_text("item_id,date,units\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ingest(tmp_path / "wh.duckdb", sales=path)
    with Warehouse(tmp_path / "wh.duckdb", read_only=True) as wh:
        stored = sorted(r[0] for r in wh.con.execute("SELECT item_id FROM sales").fetchall())
    assert stored == sorted(evil)


@pytest.mark.parametrize("bad", ["huge", "quote"])
def test_skip_mode_loads_exactly_the_good_rows(bad: str, tmp_path: Path) -> None:
    good = [f"I{i},2024-01-0{i},{i}" for i in range(1, 6)]
    line = ("IX,2024-01-09," + "9" * (10 * 1024 * 1024)) if bad == "huge" else '"IX,2024-01-09,1'
    path = tmp_path / "sales.csv"
    # the unbalanced quote is the last row: a quote that never closes takes the rest of the
    # file into its value, so everything after it would be rejected with it
    at = 2 if bad == "huge" else 6
    rows = good[: at - 1] + [line] + good[at - 1:]
    path.write_text("item_id,date,units\n" + "\n".join(rows) + "\n", encoding="utf-8")
    report = ingest(tmp_path / "wh.duckdb", sales=path, on_error="skip", rejects=tmp_path / "rej.csv")
    assert report.sources["sales"].rejected == 1
    with Warehouse(tmp_path / "wh.duckdb", read_only=True) as wh:
        ids = sorted(r[0] for r in wh.con.execute("SELECT item_id FROM sales").fetchall())
    assert ids == sorted(g.split(",")[0] for g in good)
    rejects = (tmp_path / "rej.csv").read_text(encoding="utf-8")
    assert f"sales,{path},{at}," in rejects


def test_several_frames_in_one_call(small_demo: dict, tmp_path: Path) -> None:
    """DuckDB 2 refused the second DataFrame of a call (an earlier result was still open)."""
    names = ("sales", "products", "inventory")
    report = ingest(tmp_path / "wh.duckdb", **{k: small_demo[k] for k in names})
    assert all(report.sources[k].inserted == len(small_demo[k]) for k in names)


def test_date_window_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.csv"
    path.write_text("item_id,date,units\nI1,1985-06-01,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 1, column 'date'.*1990-01-01"):
        ingest(tmp_path / "a.duckdb", sales=path)
    monkeypatch.setenv("TRENDCAST_DATE_MIN", "1980-01-01")
    assert ingest(tmp_path / "b.duckdb", sales=path).sources["sales"].inserted == 1
    assert ingest(tmp_path / "c.duckdb", sales=path, window=date_window("1985-01-01", "1986-01-01")
                  ).sources["sales"].inserted == 1
    with pytest.raises(ConfigError):
        date_window("2020-01-01", "2010-01-01")


def test_future_plan_dates_are_checked(tmp_path: Path) -> None:
    from trendcast.forecasting import read_future_plan

    plan = tmp_path / "plan.csv"
    plan.write_text("item_id,date,price\nI1,2024-01-01,3\nI1,9999-12-31,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"file .*plan.csv, row 2, column 'date': date '9999-12-31'"):
        read_future_plan(plan)
    with pytest.raises(InputError, match="row 1"):
        check_date_window(["0001-01-01"], "x.csv", "date")
    check_date_window(pd.Series(["2024-01-01", None]), "x.csv", "date")


def test_exports_escape_formulas(tmp_path: Path) -> None:
    frame = pd.DataFrame({"item_id": ["=cmd|' /C calc'!A0", "@SUM(A1)", "+1", "-2", "\tx", "\rx", "ok"],
                          "units": [-1.0, 1, 2, 3, 4, 5, 6]})
    write_csv(frame, tmp_path / "out.csv")
    back = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert all(not v.startswith(FORMULA_START) for v in back["item_id"])
    assert back["item_id"].iloc[0] == "'=cmd|' /C calc'!A0" and float(back["units"].iloc[0]) == -1.0
