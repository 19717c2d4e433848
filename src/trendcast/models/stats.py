"""One wrapper around Nixtla's statsforecast, so each statistical model is a few lines.

Why the statistical fit runs inside ``predict``: statsforecast's conformal intervals (used for
models without native intervals, e.g. the Croston family) are calibrated on the last ``h``
steps, so they need the horizon, which our interface only learns at predict time. ``fit``
validates and keeps the target; ``predict`` calls ``StatsForecast.forecast`` (fit + forecast in
one pass, which is also statsforecast's fastest path) and caches the result per horizon.

Quantiles map to statsforecast levels: q < 0.5 -> ``lo-(100-200q)``, q > 0.5 -> ``hi-(200q-100)``,
q = 0.5 -> the point forecast. Series too short for two conformal windows (< 2h+1 points) get
the spread of a Naive model's native interval around their own point forecast instead, so every
series always gets quantiles. The Croston family forecasts a rate, not a median: its quantiles
are those of the series' own demand, scaled to that rate (:func:`intermittent_quantiles`).
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from trendcast.models.base import (
    FORECAST,
    ID,
    TARGET,
    TIME,
    Capabilities,
    Forecaster,
    quantile_column,
)

MEAN = "__mean__"


def quantile_levels(quantiles: list[float]) -> dict[float, tuple[str, float]]:
    """Map each quantile to (side, level) in statsforecast's terms; the median maps to the mean."""
    out: dict[float, tuple[str, float]] = {}
    for q in quantiles:
        level = round(abs(200.0 * q - 100.0), 6)
        level = int(level) if float(level).is_integer() else level
        out[q] = ("mean", 0) if level == 0 else ("lo" if q < 0.5 else "hi", level)
    return out


def _levels(quantiles: list[float]) -> list[Any]:
    return sorted({lv for side, lv in quantile_levels(quantiles).values() if side != "mean"})


def _pick(frame: pd.DataFrame, alias: str, quantiles: list[float]) -> pd.DataFrame:
    """statsforecast's ``alias``, ``alias-lo-80`` ... columns -> ``forecast`` and ``q0.1`` ..."""
    out = frame[[ID, TIME]].copy()
    out[FORECAST] = frame[alias].to_numpy(dtype=float)
    for q, (side, lv) in quantile_levels(quantiles).items():
        col = alias if side == "mean" else f"{alias}-{side}-{lv}"
        out[quantile_column(q)] = frame[col].to_numpy(dtype=float)
    return out


class StatsForecastModel(Forecaster):
    """Base for every statsforecast model. Subclasses implement :meth:`_sf_model`.

    Parameters: ``n_jobs`` (statsforecast processes), ``conformal_windows`` (calibration windows
    for models without native intervals).
    """

    native_intervals: ClassVar[bool] = True
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(
        self,
        season_length: int = 7,
        freq: str = "D",
        n_jobs: int = 1,
        conformal_windows: int = 2,
        **params: object,
    ) -> None:
        super().__init__(season_length=season_length, freq=freq, **params)
        self.n_jobs = int(n_jobs)
        self.conformal_windows = max(2, int(conformal_windows))

    # -- hooks ---------------------------------------------------------------------------------
    def _sf_model(self, key: object) -> Any:
        """The statsforecast model object for one group of series (see :meth:`_groups`)."""
        raise NotImplementedError

    def _groups(self, lengths: pd.Series) -> pd.Series:
        """Group key per series (index unique_id); models that need long history override it."""
        return pd.Series(0, index=lengths.index)

    # -- Forecaster ----------------------------------------------------------------------------
    def _fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> None:
        self.train_ = df[[ID, TIME, TARGET]].astype({TARGET: float})
        self.lengths_ = self.train_.groupby(ID).size()
        self._cache: dict[tuple[int, tuple[float, ...]], pd.DataFrame] = {}

    def _predict(self, h: int, X_future: pd.DataFrame | None, quantiles: list[float]) -> pd.DataFrame:
        key = (h, tuple(quantiles))
        if key not in self._cache:
            groups = self._groups(self.lengths_)
            parts = [
                self._forecast_group(self.train_[self.train_[ID].isin(ids.index)], g, h, quantiles)
                for g, ids in groups.groupby(groups)
            ]
            out = pd.concat(parts, ignore_index=True)
            self._cache[key] = self._repair(out, h, quantiles)
        return self._cache[key].copy()

    # -- internals -----------------------------------------------------------------------------
    def _run(self, df: pd.DataFrame, model: Any, h: int, levels: list[Any], conformal: bool) -> pd.DataFrame:
        from statsforecast import StatsForecast
        from statsforecast.models import Naive
        from statsforecast.utils import ConformalIntervals

        intervals = None
        if levels and conformal:
            intervals = ConformalIntervals(h=h, n_windows=self.conformal_windows)
        sf = StatsForecast(models=[model], freq=self.freq, n_jobs=self.n_jobs, fallback_model=Naive())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sf.forecast(df=df, h=h, level=levels or None, prediction_intervals=intervals)

    def _forecast_group(self, df: pd.DataFrame, key: object, h: int, quantiles: list[float]) -> pd.DataFrame:
        model = self._sf_model(key)
        alias = model.alias
        levels = _levels(quantiles)
        if levels and self.capabilities.intermittent:
            point = _pick(self._run(df, model, h, [], conformal=False), alias, [])
            return intermittent_quantiles(point, df, quantiles)
        if not levels or self.native_intervals:
            return _pick(self._run(df, model, h, levels, conformal=False), alias, quantiles)
        sizes = df.groupby(ID).size()
        short = sizes.index[sizes < 2 * h + 1]
        parts = []
        long_df = df[~df[ID].isin(short)]
        if not long_df.empty:
            parts.append(_pick(self._run(long_df, model, h, levels, conformal=True), alias, quantiles))
        if len(short):
            parts.append(self._short_series(df[df[ID].isin(short)], model, h, quantiles))
        return pd.concat(parts, ignore_index=True)

    def _repair(self, out: pd.DataFrame, h: int, quantiles: list[float]) -> pd.DataFrame:
        """Series a model cannot handle (too short for its window, degenerate fit) get Naive."""
        from statsforecast.models import Naive

        cols = [FORECAST, *(quantile_column(q) for q in quantiles)]
        bad = out.loc[~np.isfinite(out[cols].to_numpy(dtype=float)).all(axis=1), ID].unique()
        if not len(bad):
            return out
        df = self.train_[self.train_[ID].isin(bad)]
        naive = _pick(self._run(df, Naive(), h, _levels(quantiles), conformal=False), "Naive", quantiles)
        for col in cols:  # a one-point series has no residual spread: collapse to the point
            naive[col] = naive[col].fillna(naive[FORECAST])
        return pd.concat([out[~out[ID].isin(bad)], naive], ignore_index=True)

    def _short_series(self, df: pd.DataFrame, model: Any, h: int, quantiles: list[float]) -> pd.DataFrame:
        """Too short to calibrate: own point forecast plus the spread of Naive's native interval."""
        from statsforecast.models import Naive

        point = _pick(self._run(df, model, h, [], conformal=False), model.alias, [])
        naive = _pick(self._run(df, Naive(), h, _levels(quantiles), conformal=False), "Naive", quantiles)
        for q in quantiles:
            col = quantile_column(q)
            spread = (naive[col] - naive[FORECAST]).to_numpy()
            point[col] = point[FORECAST].to_numpy() + np.nan_to_num(spread)
        return point


def intermittent_quantiles(point: pd.DataFrame, history: pd.DataFrame, quantiles: list[float]) -> pd.DataFrame:
    """Quantiles of a period's demand for rate forecasts (Croston, TSB, ADIDA, IMAPA).

    A slow mover sells nothing in most periods and a lump in a few: a symmetric interval around
    a rate of 0.2 units calls 0.2 its median and misses the periods that sell 3. Here demand is
    0 with the share of periods the series sold nothing in, otherwise a sale size drawn from its
    own history, the sizes scaled so the mixture's mean is the forecast rate. Quantiles of that
    mixture: 0 up to the share of empty periods, then the sizes' empirical quantiles.
    """
    hist = history[[ID, TARGET]]
    sold = hist[hist[TARGET] > 0]
    p = (sold.groupby(ID).size() / hist.groupby(ID).size()).reindex(point[ID].unique()).fillna(0.0)
    sizes = {uid: np.sort(g.to_numpy(dtype=float)) for uid, g in sold.groupby(ID)[TARGET]}
    out = point.copy()
    rate = out[FORECAST].clip(lower=0.0).to_numpy(dtype=float)
    for q in quantiles:
        # per unit of forecast rate (the mixture's mean is the forecast): 0 up to the empty share
        per_rate = pd.Series({uid: float(np.quantile(s, (q - 1.0 + p[uid]) / p[uid])) / (p[uid] * s.mean())
                             for uid, s in sizes.items() if uid in p.index and q > 1.0 - p[uid]}, dtype=float)
        out[quantile_column(q)] = rate * out[ID].map(per_rate).fillna(0.0).to_numpy()
    return out
