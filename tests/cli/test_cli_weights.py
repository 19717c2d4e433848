"""``--weights DIR``: fine-tuned PatchCast weights from the command line, named in the run record."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from trendcast.cli import main
from trendcast.errors import ConfigError
from trendcast.models.registry import weights_params


@pytest.fixture
def weights_dir(tmp_path: Path) -> Path:
    """A weights folder shaped like `trendcast finetune`'s output (the shipped weights, copied)."""
    from trendcast.models.pretrained.forecaster import WEIGHTS_DIR

    return Path(shutil.copytree(WEIGHTS_DIR, tmp_path / "my-finetune"))


def test_weights_params_checks_model_and_folder(weights_dir: Path, tmp_path: Path) -> None:
    assert weights_params("patchtst_pretrained", None) == {}
    assert weights_params("patchtst_pretrained", weights_dir) == {"weights": str(weights_dir.resolve())}
    with pytest.raises(ConfigError, match="only applies to patchtst_pretrained"):
        weights_params("lightgbm", weights_dir)
    with pytest.raises(ConfigError, match="no config.json"):
        weights_params("patchtst_pretrained", tmp_path / "nowhere")


def test_forecast_with_weights_records_them(fresh_warehouse: Path, weights_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc.csv"
    args = ["forecast", "--db", str(fresh_warehouse), "--horizon", "7", "--out", str(out), "--reconcile", "none"]
    assert main([*args, "--model", "patchtst_pretrained", "--weights", str(weights_dir)]) == 0
    con = duckdb.connect(str(fresh_warehouse), read_only=True)
    try:
        model, explanation = con.execute(
            "SELECT model, explanation FROM forecast_runs ORDER BY created_at DESC LIMIT 1").fetchone()
    finally:
        con.close()
    assert model == "patchtst_pretrained" and f"weights: {weights_dir.resolve()}" in explanation
    assert out.exists()
    assert main([*args, "--model", "naive", "--weights", str(weights_dir)]) == 1
    assert main([*args, "--model", "patchtst_pretrained", "--weights", str(tmp_path / "typo")]) == 1
    assert main(["backtest", "--db", str(fresh_warehouse), "--models", "naive", "--weights", str(weights_dir)]) == 1
