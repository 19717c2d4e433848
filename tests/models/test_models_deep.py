"""Deep models: they learn a plain weekly pattern, roll past their trained horizon, use
future-known covariates and the helpers behave as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.models.deep import TRAIN_QUANTILES, _phase, interpolate_grid
from trendcast.models.registry import make_model

TINY = {"max_steps": 150, "batch_size": 32, "hidden_size": 16, "horizon": 7, "input_size": 21,
        "val_every": 25}


def _weekly(n_series: int = 6, days: int = 120, promo: bool = False) -> pd.DataFrame:
    """Series with a strong weekday pattern at different levels (and an optional promo lift)."""
    rng = np.random.default_rng(0)
    ds = pd.date_range("2024-01-01", periods=days)
    pattern = np.array([1.0, 1.0, 1.2, 1.4, 2.0, 3.0, 0.5])
    rows = []
    for i in range(n_series):
        level = 5.0 * (i + 1)
        p = (rng.random(days) < 0.15).astype(float) if promo else np.zeros(days)
        y = level * pattern[ds.dayofweek] * (1 + 1.5 * p) + rng.normal(0, 0.2, days)
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": np.clip(y, 0, None), "promo": p}))
    return pd.concat(rows, ignore_index=True)


def test_phase_is_the_weekday_for_daily_data() -> None:
    ds = pd.Series(pd.date_range("2024-01-01", periods=14))  # a Monday
    assert (_phase(ds, "D", 7) == ds.dt.dayofweek.to_numpy()).all()
    weekly = pd.Series(pd.date_range("2024-01-05", periods=3, freq="W-FRI"))
    assert list(np.diff(_phase(weekly, "W-FRI", 52))) == [1.0, 1.0]


def test_interpolate_grid() -> None:
    pred = np.array([[0.0, 10.0, 20.0]])
    out = interpolate_grid(pred, (0.1, 0.5, 0.9), [0.05, 0.3, 0.5, 0.7, 0.99])
    np.testing.assert_allclose(out, [[0.0, 5.0, 10.0, 15.0, 20.0]])


@pytest.mark.parametrize("name", ["lstm", "tcn", "transformer"])
def test_deep_models_learn_a_weekly_pattern(name: str) -> None:
    df = _weekly()
    cut = df["ds"].max() - pd.Timedelta(days=7)
    train, test = df[df["ds"] <= cut], df[df["ds"] > cut]
    model = make_model(name, **TINY).fit(train[["unique_id", "ds", "y"]])
    fc = model.predict(7, quantiles=[0.1, 0.9]).merge(test, on=["unique_id", "ds"])
    mae = (fc["y"] - fc["forecast"]).abs().mean()
    flat = train.groupby("unique_id")["y"].mean()  # a model that ignores the weekday
    mae_flat = (fc["y"] - fc["unique_id"].map(flat)).abs().mean()
    assert mae < 0.7 * mae_flat, (mae, mae_flat)
    assert model.steps_trained_ <= TINY["max_steps"]
    assert (fc["q0.1"] <= fc["q0.9"]).all()


def test_longer_horizon_rolls_forward_and_future_covariates_are_used() -> None:
    df = _weekly(n_series=3, days=90, promo=True)
    model = make_model("lstm", **{**TINY, "max_steps": 20}).fit(df)
    assert model.future_cols_ == ["promo"]
    grid = model.future_dates(16)
    out_no = model.predict(16, X_future=grid.assign(promo=0.0))
    out_yes = model.predict(16, X_future=grid.assign(promo=1.0))
    assert len(out_no) == 3 * 16 and np.isfinite(out_no["forecast"]).all()
    assert not np.allclose(out_no["forecast"], out_yes["forecast"])  # the promo input matters
    carried = model.predict(16)  # no X_future: the last known value is carried forward
    assert len(carried) == 3 * 16


def test_training_grid_covers_the_usual_quantiles() -> None:
    assert TRAIN_QUANTILES[0] <= 0.05 and TRAIN_QUANTILES[-1] >= 0.95 and 0.5 in TRAIN_QUANTILES
