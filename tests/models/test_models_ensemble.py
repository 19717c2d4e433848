"""Ensembles: weights against hand values and the registered model on the small shop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.errors import ConfigError
from trendcast.evaluate.backtest import model_frame, static_of
from trendcast.models.ensemble import (
    combine,
    inverse_error_weights,
    learn_weights,
    least_squares_weights,
)
from trendcast.models.registry import make_model


def test_inverse_error_weights_by_hand() -> None:
    w = inverse_error_weights({"a": 1.0, "b": 3.0})
    assert w == pytest.approx({"a": 0.75, "b": 0.25})


def test_least_squares_weights_by_hand() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    perfect = least_squares_weights(np.column_stack([y, y + 5.0]), y)
    np.testing.assert_allclose(perfect, [1.0, 0.0], atol=1e-6)
    cancel = least_squares_weights(np.column_stack([y + 1.0, y - 1.0]), y)  # errors cancel
    np.testing.assert_allclose(cancel, [0.5, 0.5], atol=1e-6)
    # weights stay in the simplex even when an unconstrained fit would extrapolate
    w = least_squares_weights(np.column_stack([2 * y, 3 * y]), y)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0) and w[0] == pytest.approx(1.0)


def test_least_squares_leaves_out_members_with_next_to_no_weight() -> None:
    """The target is 0.995 a + 0.005 b: b would get half a percent of the weight, costing a whole
    final fit for nothing measurable, so it gets none and a takes all; 0.7/0.3 stays as it is."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(10, 3, 500), rng.normal(10, 3, 500)
    np.testing.assert_allclose(least_squares_weights(np.column_stack([a, b]), 0.995 * a + 0.005 * b), [1.0, 0.0])
    np.testing.assert_allclose(least_squares_weights(np.column_stack([a, b]), 0.7 * a + 0.3 * b), [0.7, 0.3],
                               atol=1e-6)


def test_combine_mean_weighted_and_median() -> None:
    ds = pd.date_range("2024-01-01", periods=2)
    def frame(v: float) -> pd.DataFrame:
        return pd.DataFrame({"unique_id": "A", "ds": ds, "forecast": v, "q0.9": v + 1})
    preds = {"m1": frame(1.0), "m2": frame(2.0), "m3": frame(6.0)}
    mean = combine(preds, {"m1": 1, "m2": 1, "m3": 1})
    assert mean["forecast"].tolist() == [3.0, 3.0] and mean["q0.9"].tolist() == [4.0, 4.0]
    weighted = combine(preds, {"m1": 0.5, "m2": 0.5, "m3": 0.0})
    assert weighted["forecast"].tolist() == [1.5, 1.5]
    assert combine(preds, None, median=True)["forecast"].tolist() == [2.0, 2.0]


def test_learn_weights_prefers_the_accurate_member() -> None:
    rows = []
    hist = pd.DataFrame({"unique_id": "A", "ds": pd.date_range("2024-01-01", periods=30),
                         "y": np.arange(30.0) % 7})
    for k in range(1, 8):
        ds = pd.Timestamp("2024-01-30") + pd.Timedelta(days=k)
        y = float(k)
        rows += [{"model": "good", "cutoff": pd.Timestamp("2024-01-30"), "unique_id": "A", "ds": ds,
                  "y": y, "forecast": y + 0.1},
                 {"model": "bad", "cutoff": pd.Timestamp("2024-01-30"), "unique_id": "A", "ds": ds,
                  "y": y, "forecast": y + 3.0}]
    fc = pd.DataFrame(rows)
    for method in ("inverse_error", "least_squares"):
        w = learn_weights(fc, hist, 7, method)
        assert w["good"] > 0.9 > w["bad"], (method, w)


def test_ensemble_model_learns_weights_on_the_small_shop(small_panel: pd.DataFrame) -> None:
    last = small_panel["ds"].max() - pd.Timedelta(days=14)
    train = small_panel[small_panel["ds"] <= last]
    xf = small_panel[small_panel["ds"] > last][["unique_id", "ds", "price", "promo"]]
    model = make_model("ensemble", members=["seasonal_naive", "moving_average"], horizon=14)
    model.fit(model_frame(train), static_df=static_of(train))
    assert sum(model.weights_.values()) == pytest.approx(1.0)
    assert "least squares weights" in model.explanation_
    out = model.predict(14, X_future=xf, quantiles=[0.1, 0.9])
    assert len(out) == 14 * train["unique_id"].nunique()
    assert (out[["forecast", "q0.1", "q0.9"]] >= 0).all().all()


def test_ensemble_rejects_bad_configuration() -> None:
    with pytest.raises(ConfigError):
        make_model("ensemble", method="vote")
    with pytest.raises(ConfigError):
        make_model("ensemble", members=["ensemble"])
    with pytest.raises(ConfigError, match="Unknown model"):
        make_model("ensemble", members=["nope"])
