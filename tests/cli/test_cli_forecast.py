"""``trendcast forecast`` / ``backtest`` in auto mode: time budget, explanation and progress
lines when the output is not a terminal (logs, CI, cron)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trendcast.cli import main


def test_forecast_auto_prints_plain_progress_lines_and_the_explanation(
    fresh_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fc.csv"
    code = main(["forecast", "--db", str(fresh_warehouse), "--horizon", "7", "--time-budget", "0.001",
                 "--quantiles", "0.5", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert out.exists()
    lines = captured.err.splitlines()
    assert "reading the warehouse" in lines
    assert any(line.startswith("backtest seasonal_naive window 1/") and "done in" in line for line in lines)
    assert any("dropped (time budget" in line for line in lines)
    assert any(line.startswith("fit seasonal_naive: done in") for line in lines)
    assert "\x1b[" not in captured.err  # no terminal control codes in a log
    explanation = next(line for line in captured.out.splitlines() if line.startswith("Auto mode used"))
    assert "WRMSSE" in explanation and "Not compared:" in explanation  # one line, not wrapped
    assert "Reconciliation: bottom-up (MinT not compared: one backtest window)" in explanation
    covariates = next(line for line in captured.out.splitlines() if line.startswith("Covariates:"))
    assert "[cal_" in covariates  # raw column names in brackets are printed, not read as Rich markup


def test_time_budget_must_be_positive(fresh_warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["forecast", "--db", str(fresh_warehouse), "--time-budget", "-5"])
    assert code != 0
    assert "--time-budget must be a positive number of seconds" in capsys.readouterr().err
