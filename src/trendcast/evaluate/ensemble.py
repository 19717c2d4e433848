"""The ``ensemble`` model: members combined by mean, median, or weights learnt from how each
did in a backtest on the training data (the arithmetic is :mod:`trendcast.models.ensemble`).

It lives with the evaluation code because learning the weights *is* a backtest, like ``auto``
(:mod:`trendcast.evaluate.selection`), which chooses among such combinations itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

import pandas as pd

from trendcast.errors import ConfigError, TrendcastError
from trendcast.evaluate.backtest import STATIC_COLUMNS, backtest
from trendcast.features.frequency import default_horizon
from trendcast.models.base import ID, Capabilities, Forecaster
from trendcast.models.ensemble import combine, learn_weights
from trendcast.models.registry import make_model, model_class

METHODS = ("mean", "median", "inverse_error", "least_squares")
DEFAULT_MEMBERS = ("seasonal_naive", "auto_ets", "lightgbm")


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
