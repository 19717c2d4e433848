"""Forecast combinations: the mean or median of several models, or weights learnt from how
each member did in a backtest on the training data.

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

from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError, TrendcastError
from trendcast.frame import CUTOFF
from trendcast.models.base import FORECAST, ID, TARGET, TIME, Capabilities, Forecaster
from trendcast.models.registry import make_model, model_class

METHODS = ("mean", "median", "inverse_error", "least_squares")
DEFAULT_MEMBERS = ("seasonal_naive", "auto_ets", "lightgbm")


def inverse_error_weights(errors: Mapping[str, float]) -> dict[str, float]:
    """Weights proportional to 1/error, summing to one (a perfect member takes all)."""
    err = pd.Series(errors, dtype=float).clip(lower=1e-9)
    inv = 1.0 / err
    return (inv / inv.sum()).to_dict()


def least_squares_weights(F: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to one minimising ``||F @ w - y||²`` (F: rows x members)."""
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


class EnsembleModel(Forecaster):
    """``make_model("ensemble", members=[...], method="least_squares")``.

    Parameters: ``members`` (model names; default seasonal_naive, auto_ets, lightgbm),
    ``method`` (mean, median, inverse_error, least_squares), ``horizon`` and ``windows`` of the
    weight-learning backtest (default 28 days / 13 weeks, 1 window), ``member_params``
    (name -> extra parameters), ``future_known`` (covariates given for the future), or
    ``weights`` (name -> weight) to skip learning. When the history is too short for the
    backtest, the learnt methods fall back to equal weights and ``explanation_`` says so.
    """

    name = "ensemble"
    capabilities: ClassVar[Capabilities] = Capabilities(
        future_covariates=True, past_covariates=True, static_covariates=True,
        native_quantiles=True, intermittent=True, global_model=True,
    )

    def __init__(
        self,
        members: Sequence[str] = DEFAULT_MEMBERS,
        method: str = "least_squares",
        horizon: int | None = None,
        windows: int = 1,
        member_params: Mapping[str, Mapping[str, object]] | None = None,
        future_known: Sequence[str] = ("price", "promo"),
        weights: Mapping[str, float] | None = None,
        season_length: int = 7,
        freq: str = "D",
        **params: object,
    ) -> None:
        super().__init__(season_length=season_length, freq=freq, **params)
        if method not in METHODS:
            raise ConfigError(f"Ensemble method must be one of {', '.join(METHODS)}; got '{method}'.")
        self.members = list(dict.fromkeys(members))
        if not self.members or "ensemble" in self.members:
            raise ConfigError("An ensemble needs one or more members, none of them 'ensemble'.")
        for m in self.members:
            model_class(m)  # unknown names fail now, in words
        self.method, self.horizon, self.windows = method, horizon, int(windows)
        self.member_params = {k: dict(v) for k, v in (member_params or {}).items()}
        self.future_known = tuple(future_known)
        self.weights = dict(weights) if weights else None

    def _member(self, name: str) -> Forecaster:
        return make_model(name, season_length=self.season_length, freq=self.freq,
                          **self.member_params.get(name, {}))

    def _learn(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> tuple[dict[str, float], str]:
        from trendcast.evaluate.backtest import STATIC_COLUMNS, backtest
        from trendcast.features.frequency import default_horizon

        h = self.horizon or default_horizon(self.freq)
        panel = df
        if static_df is not None:
            extra = [c for c in static_df.columns if c in STATIC_COLUMNS and c not in df.columns]
            panel = df.merge(static_df[[ID, *extra]], on=ID, how="left")
        try:  # unfitted instances: the backtest copies one per window and names it by .name
            bt = backtest(
                panel, [self._member(n) for n in self.members], h, self.windows,
                season_length=self.season_length, freq=self.freq, future_known=self.future_known,
            )
        except TrendcastError as exc:
            equal = {m: 1.0 / len(self.members) for m in self.members}
            return equal, f"equal weights: the history is too short to learn them ({exc})"
        fc = bt.forecasts
        w = learn_weights(fc, panel, self.season_length, self.method)
        w = {m: w.get(m, 0.0) for m in self.members}
        return w, f"{self.method.replace('_', ' ')} weights from a {self.windows}-window x {h}-step backtest"

    def _fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> None:
        how = "as given"
        if self.method == "mean":
            weights, how = {m: 1.0 for m in self.members}, "plain mean"
        elif self.method == "median":
            weights, how = {m: 1.0 for m in self.members}, "median of the members"
        elif self.weights is not None:
            weights = {m: float(self.weights.get(m, 0.0)) for m in self.members}
        else:
            weights, how = self._learn(df, static_df)
        self.weights_ = weights
        used = [m for m in self.members if weights.get(m, 0.0) > 0 or self.method == "median"]
        self.models_ = {m: self._member(m).fit(df, static_df=static_df) for m in used}
        shown = ", ".join(f"{m} {weights[m]:.2f}" for m in self.members)
        self.explanation_ = f"Ensemble of {', '.join(self.members)} ({how}): {shown}."

    def _predict(self, h: int, X_future: pd.DataFrame | None, quantiles: list[float]) -> pd.DataFrame:
        preds = {m: model.predict(h, X_future=X_future, quantiles=quantiles)
                 for m, model in self.models_.items()}
        return combine(preds, self.weights_, median=self.method == "median")
