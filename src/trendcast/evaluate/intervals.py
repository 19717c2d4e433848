"""Auto's quantiles from its own backtest errors (split conformal, scaled per series).

Each candidate brings its own intervals (LightGBM's conformal ones from two extra fits,
statsforecast's from its likelihood), and a weighted mix of them is only as well calibrated as
its members: on the demo shop LightGBM's 80% interval held 64.5% of the held-out days. Auto has
something better at hand: the backtest it already ran. The chosen combination's errors on those
windows, divided by each series' scale (its mean absolute seasonal difference, as in MASE), are
pooled by how far ahead they were made and centred on their median; a quantile of the forecast
is the forecast plus that quantile of the pooled errors times the series' scale. The median is
the point forecast itself: whether the level needs correcting is auto's own decision (its bias
correction must beat the noise), not something to slip in through the quantiles. One interval
shape for every series, sized to each, and calibrated on periods the models had not seen.
On the held-out periods of the demo shop, M5 level 1 and Walmart this beat the members' own
intervals on weighted quantile loss (``benchmarks/accuracy.py`` reports coverage and wQL).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trendcast.evaluate.metrics import CUTOFF
from trendcast.frame import FORECAST, ID, TARGET, TIME, quantile_column

BUCKETS = 4  # horizon steps are pooled in up to this many groups (errors grow with the lead)
MIN_ERRORS = 50  # a group with fewer errors uses the errors of every step


def series_scale(history: pd.DataFrame, season: int) -> pd.Series:
    """Per series: mean absolute difference over ``season`` periods (1 when the history is
    shorter), or the mean level where that is 0 (a constant series), floored at a tiny value."""
    h = history.sort_values([ID, TIME])
    y, ids = h[TARGET].astype(float), h[ID]
    by = y.groupby(ids)
    seasonal = by.diff(season).abs().groupby(ids).mean()
    daily = by.diff(1).abs().groupby(ids).mean()
    scale = seasonal.where(by.size() > season, daily).fillna(0.0)
    return scale.where(scale > 0, y.abs().groupby(ids).mean()).fillna(0.0).clip(lower=1e-9)


@dataclass
class ResidualBands:
    """Scaled backtest errors of one forecaster, by lead-time group, and each series' scale."""

    errors: dict[int, np.ndarray]  # group -> sorted scaled errors (actual - forecast) / scale, median 0
    scale: pd.Series
    horizon: int
    non_negative: bool

    @classmethod
    def fit(cls, backtest: pd.DataFrame, history: pd.DataFrame, season: int) -> ResidualBands | None:
        """From ``cutoff, unique_id, ds, y, forecast`` rows of the combined backtest forecasts;
        None when there are too few errors to say anything."""
        bt = backtest.dropna(subset=[TARGET, FORECAST])
        if len(bt) < MIN_ERRORS:
            return None
        scale = series_scale(history, season)
        step = bt.groupby([CUTOFF, ID])[TIME].rank(method="first").astype(int).to_numpy()
        horizon = int(step.max())
        scaled = ((bt[TARGET] - bt[FORECAST]) / bt[ID].map(scale)).to_numpy(dtype=float)
        group = _group(step, horizon)
        errors = {-1: np.sort(scaled - np.median(scaled))}
        for g in np.unique(group):
            part = scaled[group == g]
            if len(part) >= MIN_ERRORS:
                errors[int(g)] = np.sort(part - np.median(part))
        return cls(errors, scale, horizon, bool((history[TARGET] >= 0).all()))

    def apply(self, forecast: pd.DataFrame, quantiles: list[float]) -> pd.DataFrame:
        """``forecast`` (``unique_id, ds, forecast``) with a column per quantile."""
        out = forecast.sort_values([ID, TIME]).reset_index(drop=True)
        step = out.groupby(ID).cumcount().to_numpy() + 1
        group = _group(np.minimum(step, self.horizon), self.horizon)
        scale = out[ID].map(self.scale).fillna(float(self.scale.median())).to_numpy(dtype=float)
        point = out[FORECAST].to_numpy(dtype=float)
        for q in quantiles:
            shift = np.array([np.quantile(self.errors.get(int(g), self.errors[-1]), q) for g in range(BUCKETS)])
            value = point + shift[group] * scale
            out[quantile_column(q)] = np.maximum(value, 0.0) if self.non_negative else value
        return out

    def to_dict(self) -> dict[str, object]:
        """What the bands rest on (for the explanation and the stored run)."""
        pooled = self.errors[-1]
        return {"errors": int(len(pooled)), "groups": sorted(g for g in self.errors if g >= 0),
                "scaled_error_p10_p90": [round(float(np.quantile(pooled, 0.1)), 3),
                                         round(float(np.quantile(pooled, 0.9)), 3)]}


def _group(step: np.ndarray, horizon: int) -> np.ndarray:
    """Lead-time group (0 .. BUCKETS - 1) of each 1-based step."""
    return np.minimum((step - 1) * BUCKETS // max(horizon, 1), BUCKETS - 1)
