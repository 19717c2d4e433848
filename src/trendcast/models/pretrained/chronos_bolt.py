"""Chronos-Bolt (Amazon, Apache-2.0) from a LOCAL checkpoint directory, as a Forecaster.

trendcast never downloads weights: point ``path`` at a directory holding a Chronos-Bolt
checkpoint (``config.json`` + ``model.safetensors``, e.g. copied from a machine with hub
access). Needs the ``chronos-forecasting`` package (and ``transformers``); both import lazily.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from trendcast.errors import ConfigError, NotReadyError
from trendcast.models.base import (
    FORECAST,
    ID,
    TARGET,
    TIME,
    Capabilities,
    Forecaster,
    quantile_column,
)
from trendcast.models.pretrained.forecaster import interpolate_quantiles


def load_pipeline(path: str | Path):  # noqa: ANN201 - chronos is an optional import
    """``BaseChronosPipeline.from_pretrained`` on a local directory, offline, on CPU."""
    folder = Path(path)
    if not (folder / "config.json").exists():
        raise NotReadyError(
            f"No Chronos-Bolt checkpoint at {folder}: expected a directory with config.json and "
            "model.safetensors (trendcast does not download weights)."
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from chronos import BaseChronosPipeline
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError(
            "Chronos-Bolt needs the 'chronos-forecasting' package: pip install chronos-forecasting."
        ) from exc
    return BaseChronosPipeline.from_pretrained(str(folder), device_map="cpu", dtype=torch.float32)


class ChronosBoltLocal(Forecaster):
    """Zero-shot Chronos-Bolt forecasts from a local checkpoint (``path=DIR``, required)."""

    name = "chronos_bolt_local"
    capabilities = Capabilities(native_quantiles=True, global_model=True)

    def __init__(self, season_length: int = 7, freq: str = "D", path: str | Path | None = None,
                 batch_size: int = 256, **params: object) -> None:
        super().__init__(season_length=season_length, freq=freq, **params)
        if path is None:
            raise ConfigError("chronos_bolt_local needs path=DIR pointing at a local Chronos-Bolt checkpoint.")
        self.path = Path(path)
        self.batch_size = batch_size

    def _fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> None:
        self.pipeline_ = load_pipeline(self.path)
        self.history_ = [torch.tensor(g.to_numpy(dtype=np.float32)) for _, g in df.groupby(ID, sort=True)[TARGET]]
        self.ids_ = sorted(df[ID].unique())

    def _predict(self, h: int, X_future: pd.DataFrame | None, quantiles: list[float]) -> pd.DataFrame:
        trained = list(self.pipeline_.quantiles)
        blocks = []
        for s in range(0, len(self.history_), self.batch_size):
            q, _ = self.pipeline_.predict_quantiles(
                self.history_[s : s + self.batch_size], prediction_length=h, quantile_levels=trained
            )
            blocks.append(q.numpy())
        pred = np.sort(np.concatenate(blocks), axis=-1)  # (n, h, Q)
        grid = self.future_dates(h).sort_values([ID, TIME]).reset_index(drop=True)
        flat = pred.reshape(-1, len(trained))
        out = grid.copy()
        out[FORECAST] = interpolate_quantiles(flat, trained, [0.5])[:, 0]
        if quantiles:
            qv = interpolate_quantiles(flat, trained, quantiles)
            for j, q in enumerate(quantiles):
                out[quantile_column(q)] = qv[:, j]
        return out
