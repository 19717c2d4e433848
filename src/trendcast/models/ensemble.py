"""Forecast combinations: the mean or median of several models, or weights learnt from how
each member did in a backtest on the training data. This module holds the arithmetic; the
``ensemble`` model that runs the backtest is :class:`trendcast.evaluate.ensemble.EnsembleModel`.

Combining is the most reliable accuracy gain in forecasting (M4, M5): errors of different
model families partly cancel. Weights are learnt in one of two ways:

- ``inverse_error``: weight proportional to 1 / (member's mean scaled absolute error, MASE);
- ``least_squares``: non-negative weights summing to one that minimise the squared error of
  the combined backtest forecast (each series divided by its own scale, so big series do not
  decide alone) - constrained least squares, "stacking" in its simplest robust form.

Quantiles are combined like the point forecast, column by column (Vincentisation: averaging
quantile functions), which keeps them ordered.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from trendcast.frame import CUTOFF
from trendcast.models.base import FORECAST, ID, TARGET, TIME


def inverse_error_weights(errors: Mapping[str, float]) -> dict[str, float]:
    """Weights proportional to 1/error, summing to one (a perfect member takes all)."""
    err = pd.Series(errors, dtype=float).clip(lower=1e-9)
    inv = 1.0 / err
    return (inv / inv.sum()).to_dict()


MIN_WEIGHT = 0.01  # least-squares members below this share are left out and the rest refitted


def least_squares_weights(F: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to one minimising ``||F @ w - y||²`` (F: rows x members).

    Members that would get under :data:`MIN_WEIGHT` are left out and the others' weights
    refitted: such a member moves the combination by under 1% of its gap to the rest, yet costs
    a whole final fit (on Walmart AutoTheta took 27 s of auto's forecast for under 0.005 of it).
    """
    w = _simplex_least_squares(F, y)
    keep = w >= MIN_WEIGHT
    if keep.all() or not keep.any():
        return w
    out = np.zeros_like(w)
    out[keep] = _simplex_least_squares(F[:, keep], y)
    return out


def _simplex_least_squares(F: np.ndarray, y: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    k = F.shape[1]
    if k == 1:
        return np.ones(1)
    # The loss only needs the k x k Gram matrix: one pass over the rows, then tiny iterations.
    n = max(len(y), 1)
    scale = float(np.mean(F**2)) or 1.0  # keep the objective near 1 for the optimiser
    G, b, yy = F.T @ F, F.T @ y, float(y @ y)

    def loss(w: np.ndarray) -> float:
        return float(w @ G @ w - 2.0 * b @ w + yy) / (n * scale)

    def grad(w: np.ndarray) -> np.ndarray:
        return 2.0 * (G @ w - b) / (n * scale)

    res = minimize(
        loss, np.full(k, 1.0 / k), jac=grad, method="SLSQP", bounds=[(0.0, 1.0)] * k,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
        options={"ftol": 1e-12, "maxiter": 200},
    )
    w = np.clip(res.x, 0.0, None)
    return w / w.sum() if w.sum() > 0 else np.full(k, 1.0 / k)


def series_scales(forecasts: pd.DataFrame, history: pd.DataFrame, season_length: int) -> pd.Series:
    """In-sample seasonal-naive MAE per (cutoff, series), from history up to each cutoff.

    Series whose history has no variation get a scale of 1 (plain MAE): within a series every
    model shares the scale, so the ranking is unaffected.
    """
    hist = history[[ID, TIME, TARGET]].sort_values([ID, TIME])
    cuts = forecasts[[CUTOFF, ID]].drop_duplicates()
    h = hist.merge(cuts, on=ID)
    h = h[h[TIME] <= h[CUTOFF]]
    h["d"] = h.groupby([CUTOFF, ID])[TARGET].diff(season_length).abs()
    scale = h.groupby([CUTOFF, ID])["d"].mean()
    return scale.where(scale > 0, 1.0).fillna(1.0).rename("scale")


def series_errors(forecasts: pd.DataFrame, scale: pd.Series) -> pd.DataFrame:
    """Scaled absolute error (MASE) per (model, cutoff, series)."""
    fc = forecasts.assign(err=(forecasts[TARGET] - forecasts[FORECAST]).abs())
    mae = fc.groupby(["model", CUTOFF, ID], as_index=False)["err"].mean()
    mae = mae.merge(scale.reset_index(), on=[CUTOFF, ID], how="left")
    mae["error"] = mae["err"] / mae["scale"].fillna(1.0)
    return mae[["model", CUTOFF, ID, "error"]]


def learn_weights(forecasts: pd.DataFrame, history: pd.DataFrame, season_length: int,
                  method: str) -> dict[str, float]:
    """Member weights from backtest ``forecasts`` (``model, cutoff, unique_id, ds, y, forecast``)."""
    scale = series_scales(forecasts, history, season_length)
    if method == "inverse_error":
        err = series_errors(forecasts, scale).groupby("model")["error"].mean()
        return inverse_error_weights(err.to_dict())
    wide = forecasts.pivot_table(index=[CUTOFF, ID, TIME], columns="model", values=FORECAST).dropna()
    y = forecasts.drop_duplicates([CUTOFF, ID, TIME]).set_index([CUTOFF, ID, TIME])[TARGET]
    s = scale.reindex(wide.index.droplevel(TIME)).to_numpy()
    w = least_squares_weights(wide.to_numpy() / s[:, None], y.reindex(wide.index).to_numpy() / s)
    return dict(zip(wide.columns, w.tolist(), strict=True))


def combine(preds: Mapping[str, pd.DataFrame], weights: Mapping[str, float] | None,
            median: bool = False) -> pd.DataFrame:
    """Combine member forecasts (same ids, dates and columns) by weighted mean or median."""
    names = list(preds)
    cols = [c for c in preds[names[0]].columns if c not in (ID, TIME)]
    keys = preds[names[0]][[ID, TIME]].reset_index(drop=True)
    stack = np.stack([
        keys.merge(preds[n], on=[ID, TIME], how="left")[cols].to_numpy(dtype=float) for n in names
    ])  # (members, rows, cols)
    if median:
        values = np.nanmedian(stack, axis=0)
    else:
        w = np.array([float((weights or {}).get(n, 1.0)) for n in names])[:, None, None]
        w = np.where(np.isnan(stack), 0.0, w)
        values = np.nansum(np.nan_to_num(stack) * w, axis=0) / np.clip(w.sum(axis=0), 1e-12, None)
    out = keys.copy()
    out[cols] = values
    return out
