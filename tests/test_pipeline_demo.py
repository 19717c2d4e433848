"""End to end: `trendcast demo` on a small generated shop runs every stage and writes its outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from trendcast.cli import main
from trendcast.data.demo import write_demo
from trendcast.pipeline import STEPS

SMALL = dict(n_items=12, n_stores=2, days=200, n_users=150, event_days=30, seed=5)


@pytest.mark.slow
def test_demo_runs_every_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    write_demo(data, **SMALL)
    out = tmp_path / "out"
    assert main(["demo", "--data", str(data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name, _ in STEPS:
        assert name in printed
    assert (out / "demo.duckdb").exists()
    assert (out / "report.html").stat().st_size > 10_000


def test_demo_with_broken_data_fails_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    paths = write_demo(data, **SMALL)
    paths["products"].write_text("item_id,title\nI1,x\n")  # no category column
    assert main(["demo", "--data", str(data), "--out", str(tmp_path / "out")]) != 0
    err = capsys.readouterr()
    assert "category" in (err.out + err.err)
