"""PatchCast as a trendcast :class:`Forecaster`: zero-shot with the shipped weights, or
fine-tuned on the data passed to ``fit`` (``finetune="head" | "head+last" | "full" | "lora"``),
or loaded from a fine-tuned artefact directory (``weights=DIR``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from trendcast.models.base import FORECAST, ID, TIME, Capabilities, Forecaster, quantile_column
from trendcast.models.pretrained.data import (
    SeriesArrays,
    future_slots,
    panel_arrays,
    pick_past_covariates,
)
from trendcast.models.pretrained.model import WEIGHTS_DIR, PatchCast, load_model, point_forecast


def interpolate_quantiles(pred: np.ndarray, trained: Sequence[float], wanted: Sequence[float]) -> np.ndarray:
    """(..., len(trained)) -> (..., len(wanted)) by linear interpolation, flat beyond the ends."""
    trained = np.asarray(trained)
    out = np.empty(pred.shape[:-1] + (len(wanted),), pred.dtype)
    for j, q in enumerate(wanted):
        k = int(np.clip(np.searchsorted(trained, q), 1, len(trained) - 1))
        lo, hi = trained[k - 1], trained[k]
        w = float(np.clip((q - lo) / (hi - lo), 0.0, 1.0))
        out[..., j] = (1 - w) * pred[..., k - 1] + w * pred[..., k]
    return out


@torch.no_grad()
def forecast_arrays(
    model: PatchCast, arrays: SeriesArrays, future: np.ndarray, h: int, batch_size: int = 256,
    with_mean: bool = False, season: int = 0,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Quantile forecasts (n, h, Q); horizons beyond the model's roll forward on the median.

    With ``with_mean`` also the point forecast (n, h): the point head's mean when the weights
    have one, else the mean of the quantile curve. Series whose history is never negative
    (sales) get forecasts floored at 0. ``season``: the data's season length, for weights
    with seasonal inputs.
    """
    cfg = model.cfg
    model.eval()
    y, fut_hist, past = arrays.y.copy(), arrays.future.copy(), arrays.past.copy()
    chunks, means = [], []
    done = 0
    median = cfg.quantiles.index(0.5) if 0.5 in cfg.quantiles else len(cfg.quantiles) // 2
    while done < h:
        step = min(cfg.horizon, h - done)
        f_h = np.zeros((len(y), cfg.horizon, fut_hist.shape[-1]), np.float32)
        f_h[:, :step] = future[:, done : done + step]
        out, out_mean = [], []
        for s in range(0, len(y), batch_size):
            sl = slice(s, s + batch_size)
            pred, mean, _, _ = model(
                torch.from_numpy(y[sl]),
                None,
                torch.from_numpy(np.concatenate([fut_hist[sl], f_h[sl]], axis=1)),
                torch.from_numpy(past[sl]),
                return_mean=True,
                season=season,
            )
            out.append(pred[:, :step].numpy())
            out_mean.append(point_forecast(pred, mean)[:, :step].numpy())
        block = np.concatenate(out)
        chunks.append(block)
        means.append(np.concatenate(out_mean))
        done += step
        if done < h:  # roll: append the median as if observed, covariates alongside
            y = np.concatenate([y, block[:, :, median]], axis=1)[:, -cfg.context_length :]
            fut_hist = np.concatenate([fut_hist, f_h[:, :step]], axis=1)[:, -cfg.context_length :]
            past = np.concatenate([past, np.zeros((len(y), step, past.shape[-1]), np.float32)], axis=1)
            past = past[:, -cfg.context_length :]
    quantiles = np.sort(np.concatenate(chunks, axis=1), axis=-1)
    point = np.concatenate(means, axis=1)
    nonneg = ~(np.nan_to_num(arrays.y, nan=0.0) < 0).any(axis=1)
    quantiles[nonneg] = np.maximum(quantiles[nonneg], 0.0)
    point[nonneg] = np.maximum(point[nonneg], 0.0)
    return (quantiles, point) if with_mean else quantiles


def finetune_text(report: dict[str, Any]) -> str:
    """What fine-tuning did, in a sentence for the forecast's explanation."""
    if "skipped" in report:
        return f"PatchCast not fine-tuned ({report['skipped']}): the starting weights forecast."
    loss = f"validation pinball loss {report['val_loss_before']:.4f}"
    if not report["improved"]:
        return (f"PatchCast fine-tuning ({report['steps']} steps) did not beat the starting weights' {loss} by more "
                "than its noise, so they forecast.")
    return (f"PatchCast fine-tuned ({report['strategy']}, {report['steps']} steps, stopped by {report['stopped']}): "
            f"{loss} -> {report['val_loss']:.4f}.")


class PretrainedForecaster(Forecaster):
    """Pretrained PatchCast Transformer (zero-shot by default).

    Parameters (besides ``season_length``/``freq``, unused by the network itself):
    - ``weights``: a weights or fine-tuned artefact directory (default: the shipped weights);
    - ``finetune``: None for zero-shot, or a strategy from
      :data:`trendcast.models.pretrained.finetune.STRATEGIES` to fine-tune on ``fit`` data;
    - ``finetune_options``: keyword arguments for :func:`~.finetune.finetune_model`;
    - ``use_covariates``: read ``promo``, ``price`` and a holiday column when present;
    - ``past_covariates``: up to two past-only signal columns (e.g. text mentions), or
      ``"auto"`` (default): the numeric covariate columns the frame carries (fused text,
      behaviour or external signals, at any frequency) that track the target best;
    - ``past_candidates``: the columns ``"auto"`` chooses from (default: every numeric one).
      The forecasting service passes the fused signals that lead sales (text, behaviour,
      external drivers without future values), not the drivers known ahead: the slots learnt
      leading signals, and Walmart's MarkDown3 and temperature read there as such, by their
      history alone, made PatchCast's held-out WRMSSE worse (0.451; 0.421 with the rule).
    """

    name = "patchtst_pretrained"
    capabilities = Capabilities(
        future_covariates=True, past_covariates=True, native_quantiles=True, global_model=True
    )

    def __init__(
        self, season_length: int = 7, freq: str = "D", weights: str | Path | None = None,
        finetune: str | None = None, finetune_options: dict[str, Any] | None = None,
        use_covariates: bool = True, past_covariates: Sequence[str] | str = "auto",
        past_candidates: Sequence[str] | None = None, **params: object,
    ) -> None:
        super().__init__(season_length=season_length, freq=freq, **params)
        self.weights = weights
        self.finetune = finetune
        self.finetune_options = dict(finetune_options or {})
        self.use_covariates = use_covariates
        self.past_covariates = past_covariates if isinstance(past_covariates, str) else list(past_covariates)
        self.past_candidates = None if past_candidates is None else list(past_candidates)

    def _fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> None:
        self.model_ = load_model(self.weights)
        self.finetune_report_: dict[str, Any] | None = None
        self.past_columns_ = (pick_past_covariates(df, among=self.past_candidates) if self.use_covariates else []) \
            if self.past_covariates == "auto" else list(self.past_covariates)
        if self.finetune:
            from trendcast.models.pretrained.finetune import TooShortToFinetune, finetune_model

            try:
                self.model_, self.finetune_report_ = finetune_model(
                    self.model_, df, strategy=self.finetune, use_covariates=self.use_covariates,
                    past_covariates=self.past_columns_, **{"season": self.season_length, **self.finetune_options},
                )
            except TooShortToFinetune as exc:  # nothing to validate on: the base weights stay,
                self.finetune_report_ = {"improved": False, "skipped": exc.detail}  # as when tuning does not help
            self.explanation_ = finetune_text(self.finetune_report_)
        # whether this fit's training replaced the starting weights (see Capabilities.time_capped)
        self.trained_ = bool(self.finetune_report_ and self.finetune_report_["improved"])
        self.arrays_ = panel_arrays(
            df, self.model_.cfg.context_length, self.use_covariates, self.past_columns_
        )

    def _predict(self, h: int, X_future: pd.DataFrame | None, quantiles: list[float]) -> pd.DataFrame:
        cfg = self.model_.cfg
        fut = future_slots(self.arrays_, h, X_future, self.use_covariates)
        pred, point = forecast_arrays(self.model_, self.arrays_, fut, h, with_mean=True, season=self.season_length)
        grid = self.future_dates(h).sort_values([ID, TIME]).reset_index(drop=True)
        order = {uid: i for i, uid in enumerate(self.arrays_.ids)}
        rows = np.array([order[u] for u in grid[ID].drop_duplicates()])
        pred = pred[rows].reshape(-1, len(cfg.quantiles))
        out = grid.copy()
        # the point forecast estimates the mean (what squared-error metrics such as WRMSSE and
        # sums over many series reward), not the median: the point head, or the quantile mean
        out[FORECAST] = point[rows].reshape(-1)
        if quantiles:
            qv = interpolate_quantiles(pred, cfg.quantiles, quantiles)
            for j, q in enumerate(quantiles):
                out[quantile_column(q)] = qv[:, j]
        return out

    def describe(self) -> dict[str, Any]:
        """Where the weights came from (for reports and artefact metadata)."""
        folder = Path(self.weights) if self.weights else WEIGHTS_DIR
        meta = folder / "metadata.json"
        return {
            "weights": str(folder),
            "finetune": self.finetune,
            "past_covariates": getattr(self, "past_columns_", None),
            "metadata": json.loads(meta.read_text()) if meta.exists() else None,
            "finetune_report": getattr(self, "finetune_report_", None),
        }


class FinetunedForecaster(PretrainedForecaster):
    """PatchCast fine-tuned on the data passed to ``fit`` (every weight, at most ``max_steps``
    steps, early stopping on each series' last periods), then forecasting like the zero-shot
    model. The starting weights stay when tuning does not beat them on validation by more than
    its noise, or when no series is long enough to hold a validation window.

    A candidate of auto mode, which gives it the time its other candidates leave over
    (``max_seconds``); ``--model patchtst_finetuned`` fine-tunes and forecasts in one command,
    where ``trendcast finetune`` keeps the weights as an artefact instead. Held out, through the
    product path: demo 0.840 -> 0.709 WRMSSE, Walmart weekly 0.410 -> 0.401, Walmart monthly
    0.494 -> 0.336, at 18-43 s a fit on 2 cores (README, accuracy tables).
    """

    name = "patchtst_finetuned"
    capabilities = Capabilities(
        future_covariates=True, past_covariates=True, native_quantiles=True, global_model=True,
        time_capped=True,
    )

    def __init__(
        self, season_length: int = 7, freq: str = "D", strategy: str = "full", max_steps: int = 100,
        max_seconds: float | None = None, seed: int = 0, finetune_options: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        options = {"max_steps": int(max_steps), "seed": int(seed),
                   **({} if max_seconds is None else {"max_seconds": float(max_seconds)}), **(finetune_options or {})}
        super().__init__(season_length=season_length, freq=freq, finetune=strategy,
                         finetune_options=options, **params)
