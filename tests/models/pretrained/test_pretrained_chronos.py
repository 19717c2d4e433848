"""Chronos-Bolt from a local directory, with a tiny randomly initialised checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trendcast.errors import ConfigError, NotReadyError
from trendcast.models.registry import make_model


def _tiny_checkpoint(folder: Path) -> Path:
    pytest.importorskip("chronos")
    from chronos.chronos_bolt import ChronosBoltModelForForecasting
    from transformers import T5Config

    cfg = T5Config(d_model=16, d_ff=32, num_layers=1, num_decoder_layers=1, num_heads=2, d_kv=8,
                   vocab_size=2, dropout_rate=0.0, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    cfg.chronos_config = {"context_length": 64, "prediction_length": 16, "input_patch_size": 8,
                          "input_patch_stride": 8, "quantiles": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                          "use_reg_token": True}
    cfg.chronos_pipeline_class = "ChronosBoltPipeline"
    cfg.architectures = ["ChronosBoltModelForForecasting"]
    ChronosBoltModelForForecasting(cfg).save_pretrained(folder)
    return folder


def test_local_chronos_bolt_checkpoint_forecasts(tmp_path: Path) -> None:
    path = _tiny_checkpoint(tmp_path / "bolt")
    df = pd.DataFrame({
        "unique_id": np.repeat(["a", "b", "c"], 90),
        "ds": np.tile(pd.date_range("2024-01-01", periods=90), 3),
        "y": np.random.default_rng(0).poisson(5, 270).astype(float),
    })
    fc = make_model("chronos_bolt_local", path=path).fit(df).predict(12, quantiles=[0.1, 0.5, 0.9])
    assert len(fc) == 36 and list(fc["ds"].iloc[:1]) == [pd.Timestamp("2024-03-31")]
    q = fc[["q0.1", "q0.5", "q0.9"]].to_numpy()
    assert np.isfinite(q).all() and (np.diff(q, axis=1) >= 0).all()


def test_missing_checkpoint_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="path"):
        make_model("chronos_bolt_local")
    model = make_model("chronos_bolt_local", path=tmp_path / "nothing")
    df = pd.DataFrame({"unique_id": ["a"] * 5, "ds": pd.date_range("2024-01-01", periods=5), "y": 1.0})
    with pytest.raises(NotReadyError, match="Chronos-Bolt checkpoint"):
        model.fit(df)
