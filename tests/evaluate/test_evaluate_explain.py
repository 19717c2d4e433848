"""SHAP values add up to the model's prediction; permutation importance; the explanations table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.evaluate.explain import (
    BASE,
    global_importance,
    load_explanations,
    permutation_importance,
    shap_forecast,
    store_explanations,
    top_drivers,
)
from trendcast.forecasting import future_frame, training_frames
from trendcast.models.registry import make_model

H = 7
FAST = {"n_estimators": 30, "num_leaves": 15, "n_jobs": 1}


def test_shap_values_sum_to_the_prediction(small_panel: pd.DataFrame) -> None:
    df, static = training_frames(small_panel)
    model = make_model("lightgbm", **FAST).fit(df, static_df=static)
    x_future = future_frame(small_panel, H)
    shap = shap_forecast(model, H, X_future=x_future)
    forecast = model.predict(H, X_future=x_future)

    raw = shap.groupby(["unique_id", "ds"])["value"].sum()  # features + expected value
    joined = forecast.set_index(["unique_id", "ds"])["forecast"].to_frame().join(raw)
    assert len(joined) == len(forecast) == 32 * H
    # Tweedie objective: the booster's raw output is log(mean demand)
    assert np.allclose(np.exp(joined["value"]), joined["forecast"], rtol=1e-6, atol=1e-9)
    assert set(shap["step"]) == set(range(1, H + 1))
    assert shap.loc[shap.feature == BASE, "value"].nunique() == 1  # one expected value

    glob = global_importance(shap)
    assert BASE not in set(glob.feature) and glob.importance.is_monotonic_decreasing
    assert "promo" in set(glob.feature) and "lag1" in set(glob.feature)
    drivers = top_drivers(shap, forecast.unique_id.iloc[0], k=3)
    assert len(drivers) == 3 and drivers.ds.nunique() == 1

    one = forecast.unique_id.iloc[5]
    only = shap_forecast(model, H, X_future=x_future, ids=[one])  # what `trendcast explain` asks for
    assert set(only["unique_id"]) == {one}
    pd.testing.assert_frame_equal(only, shap[shap["unique_id"] == one].reset_index(drop=True))


def test_permutation_importance_is_zero_for_a_model_that_ignores_covariates(small_panel: pd.DataFrame) -> None:
    df, _ = training_frames(small_panel[small_panel.unique_id.isin(small_panel.unique_id.unique()[:4])])
    imp = permutation_importance(lambda: make_model("seasonal_naive"), df, H, n_repeats=1)
    assert set(imp.feature) == {"price", "promo"}
    assert np.allclose(imp.importance, 0.0) and (imp.baseline_wape > 0).all()


def test_explanations_table_roundtrip(fresh_warehouse: Path) -> None:
    db = fresh_warehouse
    frame = pd.DataFrame({"unique_id": ["S1/I001"] * 2, "ds": pd.to_datetime(["2024-01-01"] * 2),
                          "feature": ["lag1", "promo"], "value": [0.5, -0.25]})
    run = store_explanations(db, frame, model="lightgbm", kind="shap")
    store_explanations(db, pd.DataFrame({"feature": ["lag1"], "importance": [0.4]}),
                       model="lightgbm", kind="shap_global", run_id=run)
    back = load_explanations(db, run)
    assert len(back) == 3 and set(back.kind) == {"shap", "shap_global"}
    assert back.loc[back.feature == "promo", "value"].item() == -0.25
