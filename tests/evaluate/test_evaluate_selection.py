"""Auto mode: per-series picks, ensemble weights and the registered ``auto`` model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.evaluate.backtest import model_frame, static_of
from trendcast.evaluate.selection import select
from trendcast.models.registry import make_model


def _history() -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=20)
    return pd.concat([pd.DataFrame({"unique_id": u, "ds": ds, "y": np.arange(20.0) % 3 + 1}) for u in "AB"])


def _forecasts(err: dict[tuple[str, str], float]) -> pd.DataFrame:
    """Backtest forecasts for 2 windows x 2 series with a fixed error per (model, series)."""
    rows = []
    for cutoff in (pd.Timestamp("2024-01-10"), pd.Timestamp("2024-01-15")):
        for (model, uid), e in err.items():
            for k in range(1, 4):
                rows.append({"model": model, "cutoff": cutoff, "unique_id": uid,
                             "ds": cutoff + pd.Timedelta(days=k), "y": 10.0, "forecast": 10.0 + e})
    return pd.DataFrame(rows)


def test_per_series_pick_wins_when_models_specialise() -> None:
    fc = _forecasts({("m1", "A"): 0.0, ("m1", "B"): 5.0, ("m2", "A"): 5.0, ("m2", "B"): 0.0})
    sel = select(fc, _history(), season_length=1)
    assert sel.strategy == "per_series"
    assert sel.picks == {"A": "m1", "B": "m2"}
    assert sel.scores["per_series"] == 0.0 < sel.scores["ensemble"]
    assert "m1 for 1 series" in sel.explanation


def test_ensemble_wins_when_errors_cancel() -> None:
    fc = _forecasts({("m1", "A"): 2.0, ("m1", "B"): 2.0, ("m2", "A"): -2.0, ("m2", "B"): -2.0})
    sel = select(fc, _history(), season_length=1)
    assert sel.strategy == "ensemble"
    assert sel.weights == {"m1": 0.5, "m2": 0.5}
    assert sel.scores["ensemble"] == 0.0
    assert "Weights (inverse backtest error): m1 0.50, m2 0.50" in sel.explanation


def test_auto_forecaster_is_registered_and_forecasts(small_panel: pd.DataFrame) -> None:
    last = small_panel["ds"].max() - pd.Timedelta(days=14)
    train = small_panel[small_panel["ds"] <= last]
    model = make_model("auto", candidates=["seasonal_naive", "moving_average"], horizon=14)
    model.fit(model_frame(train), static_df=static_of(train))
    xf = small_panel[small_panel["ds"] > last][["unique_id", "ds", "price", "promo"]]
    out = model.predict(14, X_future=xf, quantiles=[0.1, 0.9])
    assert len(out) == 14 * train["unique_id"].nunique()
    assert out[["forecast", "q0.1", "q0.9"]].notna().all().all()
    assert (out["q0.1"] <= out["q0.9"]).all()
    assert model.explanation_.startswith("Auto mode used the")
    assert set(model.selection.models_needed) <= {"seasonal_naive", "moving_average"}


def test_by_pattern_sends_intermittent_series_to_the_croston_family() -> None:
    """LightGBM is right on smooth series and erratic on intermittent ones (good on one window,
    bad on the other); Croston is steady on intermittent series. Per-series picks chase the
    last window and lose; choosing by demand class wins, and says so."""
    ds = pd.date_range("2024-01-01", periods=20)
    smooth = np.arange(20.0) % 3 + 1
    sparse = np.where(np.arange(20) % 4 == 0, 5.0, 0.0)
    hist = pd.concat([pd.DataFrame({"unique_id": u, "ds": ds, "y": smooth if u.startswith("A") else sparse})
                      for u in ("A1", "A2", "B1", "B2")])
    err = {  # (model, series) -> error in window 1, window 2
        ("lightgbm", "A1"): (0, 0), ("lightgbm", "A2"): (0, 0), ("lightgbm", "B1"): (0, 4), ("lightgbm", "B2"): (4, 0),
        ("croston", "A1"): (5, 5), ("croston", "A2"): (5, 5), ("croston", "B1"): (1, 1), ("croston", "B2"): (1, 1),
    }
    rows = []
    for w, cutoff in enumerate((pd.Timestamp("2024-01-10"), pd.Timestamp("2024-01-15"))):
        for (model, uid), e in err.items():
            for k in range(1, 4):
                rows.append({"model": model, "cutoff": cutoff, "unique_id": uid,
                             "ds": cutoff + pd.Timedelta(days=k), "y": 10.0, "forecast": 10.0 + e[w]})
    sel = select(pd.DataFrame(rows), hist, season_length=1, bias="off")
    assert sel.strategy == "by_pattern"
    assert sel.scores["by_pattern"] < min(sel.scores[s] for s in ("per_series", "ensemble", "single", "stacking"))
    assert sel.picks == {"A1": "lightgbm", "A2": "lightgbm", "B1": "croston", "B2": "croston"}
    assert sel.details["demand_patterns"] == {"smooth": 2, "intermittent": 2}
    assert "croston for intermittent series" in sel.explanation
