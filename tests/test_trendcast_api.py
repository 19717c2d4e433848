"""The Python API: every public name resolves lazily to a callable without importing torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

import trendcast


@pytest.mark.parametrize("name", sorted(trendcast.API))
def test_public_name_resolves(name: str) -> None:
    assert callable(getattr(trendcast, name))


def test_unknown_name_is_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'fit_everything'"):
        trendcast.fit_everything  # noqa: B018


def test_import_is_light() -> None:
    code = "import sys, trendcast; print(any(m in sys.modules for m in ('torch', 'lightgbm', 'pyspark')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_readme_python_session(small_demo: dict, tmp_path) -> None:
    """The README's Python example, run as written on the small generated shop."""
    db = tmp_path / "shop.duckdb"
    files = {}
    for name in ("sales", "products", "texts"):
        files[name] = tmp_path / f"{name}.csv"
        small_demo[name].to_csv(files[name], index=False)
    tc = trendcast
    tc.ingest(db, sales=files["sales"], products=files["products"], texts=files["texts"])
    tc.build_signals(db)
    metrics = tc.backtest(db, horizon=14, windows=2, models=["seasonal_naive", "lightgbm"])
    assert {row["model"] for row in metrics["leaderboard"]} == {"seasonal_naive", "lightgbm"}
    fc = tc.forecast(db, horizon=14, model="auto", quantiles=[0.1, 0.5, 0.9])
    assert (fc["q0.1"] <= fc["q0.9"]).all() and len(fc) == 14 * 32
    plan, alerts = tc.plan_inventory(db)
    assert len(plan) == 32
    tc.build_report(db, tmp_path / "report.html")
    assert (tmp_path / "report.html").stat().st_size > 10_000
