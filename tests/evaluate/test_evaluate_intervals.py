"""Auto's quantile bands from backtest errors: calibrated on new data, sized to each series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.errors import ConfigError
from trendcast.evaluate.intervals import ResidualBands, series_scale
from trendcast.models.registry import make_model


def _noisy(levels: np.ndarray, days: pd.DatetimeIndex, rng: np.random.Generator) -> pd.DataFrame:
    """Series ``level + N(0, (level / 10)^2)`` each day: the right forecast is the level."""
    return pd.concat([pd.DataFrame({"unique_id": f"S{i}", "ds": days,
                                    "y": lv + rng.normal(0, lv / 10, len(days))}) for i, lv in enumerate(levels)],
                     ignore_index=True)


def test_bands_cover_what_they_promise_and_scale_with_each_series() -> None:
    rng = np.random.default_rng(0)
    levels = np.linspace(10, 200, 20)
    history = _noisy(levels, pd.date_range("2024-01-01", periods=120), rng)
    windows = []
    for k, cutoff in enumerate(pd.date_range("2024-03-01", periods=4, freq="14D")):
        w = _noisy(levels, pd.date_range(cutoff + pd.Timedelta(days=1), periods=14), np.random.default_rng(k + 1))
        windows.append(w.assign(cutoff=cutoff, forecast=w["unique_id"].str[1:].astype(int).map(dict(enumerate(levels)))))
    bands = ResidualBands.fit(pd.concat(windows, ignore_index=True), history, season=7)
    assert bands is not None and bands.horizon == 14
    future = _noisy(levels, pd.date_range("2024-05-01", periods=14), np.random.default_rng(99))
    fc = future[["unique_id", "ds"]].assign(forecast=future["unique_id"].str[1:].astype(int).map(dict(enumerate(levels))))
    out = bands.apply(fc, [0.1, 0.5, 0.9]).merge(future, on=["unique_id", "ds"])
    held = ((out["q0.1"] <= out["y"]) & (out["y"] <= out["q0.9"])).mean()
    assert held == pytest.approx(0.8, abs=0.05)
    width = (out["q0.9"] - out["q0.1"]).groupby(out["unique_id"]).mean()
    assert width["S19"] / width["S0"] == pytest.approx(20, rel=0.35)  # the level, hence the noise, is 20x
    assert np.allclose(out["q0.5"], out["forecast"])  # centred: the median is the point forecast


def test_scale_of_a_constant_or_short_series_is_never_zero() -> None:
    hist = pd.DataFrame({"unique_id": ["A"] * 10 + ["B"] * 3, "ds": list(pd.date_range("2024-01-01", periods=10))
                         + list(pd.date_range("2024-01-01", periods=3)), "y": [5.0] * 10 + [0.0, 2.0, 4.0]})
    scale = series_scale(hist, season=7)
    assert scale["A"] == pytest.approx(5.0)  # no change at all: its level
    assert scale["B"] == pytest.approx(2.0)  # shorter than a season: day-to-day change


def test_auto_takes_its_quantiles_from_its_backtest() -> None:
    rng = np.random.default_rng(3)
    panel = _noisy(np.array([20.0, 50.0, 80.0]), pd.date_range("2024-01-01", periods=150), rng)
    model = make_model("auto", candidates=["seasonal_naive", "moving_average"], horizon=14, windows=3).fit(panel)
    assert model.selection.details["intervals"]["method"] == "backtest errors"
    out = model.predict(14, quantiles=[0.1, 0.9])
    assert (out["q0.1"] <= out["forecast"]).all() and (out["forecast"] <= out["q0.9"]).all()
    members = make_model("auto", candidates=["seasonal_naive", "moving_average"], horizon=14, windows=3,
                         intervals="members").fit(panel)
    assert "intervals" not in members.selection.details
    assert members.predict(14, quantiles=[0.1, 0.9])["forecast"].tolist() == out["forecast"].tolist()
    with pytest.raises(ConfigError, match="'backtest' or 'members'"):
        make_model("auto", intervals="guess")
