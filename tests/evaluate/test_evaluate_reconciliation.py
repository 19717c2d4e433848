"""Auto mode's reconciliation: bottom-up unless MinT clearly wins the backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.evaluate import reconciliation as rec
from trendcast.evaluate.backtest import model_frame, static_of
from trendcast.evaluate.reconciliation import Aggregates, choose_reconciliation
from trendcast.evaluate.selection import select
from trendcast.models.registry import make_model

H = 14


def _shop(items: int = 6, days: int = 120, category_is_item: bool = False) -> pd.DataFrame:
    """Two stores; every store sells every item; a weekly cycle plus noise."""
    rng = np.random.default_rng(0)
    ds = pd.date_range("2024-01-01", periods=days)
    parts = []
    for store in ("S1", "S2"):
        for i in range(items):
            y = rng.poisson(rng.uniform(5, 15) * (1 + 0.3 * np.sin(np.arange(days) * 2 * np.pi / 7)))
            cat = f"I{i}" if category_is_item else f"C{i % 2}"
            parts.append(pd.DataFrame({"unique_id": f"{store}/I{i}", "ds": ds, "y": y.astype(float),
                                       "item_id": f"I{i}", "store_id": store, "category": cat}))
    return pd.concat(parts, ignore_index=True)


def _backtest(hist: pd.DataFrame, bias: list[float]) -> pd.DataFrame:
    """Two candidates whose item forecasts share a bias per window (sign changing): small per
    item, it adds up at store and total level, and no bias factor can learn it."""
    rng = np.random.default_rng(1)
    cutoffs = [hist["ds"].max() - pd.Timedelta(days=H * (len(bias) - k)) for k in range(len(bias))]
    rows = []
    for cutoff, b in zip(cutoffs, bias, strict=True):
        act = hist[(hist["ds"] > cutoff) & (hist["ds"] <= cutoff + pd.Timedelta(days=H))]
        for model in ("a", "b"):
            fc = act["y"].to_numpy() * (1 + b) + rng.normal(0, 1.0, len(act))
            rows.append(act[["unique_id", "ds", "y"]].assign(model=model, cutoff=cutoff, forecast=fc))
    return pd.concat(rows, ignore_index=True)


def _aggregates_forecast_as(hist: pd.DataFrame, factor: float):  # noqa: ANN202
    """A stand-in for fitting a model on the aggregated series: ``factor`` x their actual sums."""
    agg = Aggregates.of(hist)
    truth = agg.panel(hist, [])

    def fake(name, upper, h, xf, quantiles, **_):  # noqa: ANN001, ANN202
        cutoff = upper["ds"].max()
        out = truth[(truth["ds"] > cutoff) & (truth["ds"] <= cutoff + pd.Timedelta(days=h))
                    & truth["unique_id"].isin(set(upper["unique_id"]))]
        return out[["unique_id", "ds"]].assign(forecast=out["y"] * factor), None

    return fake


def _choose(hist: pd.DataFrame, fc: pd.DataFrame, time_left: float = 1e6):  # noqa: ANN202
    sel = select(fc, hist, season_length=7)
    return choose_reconciliation(
        hist, fc, sel, h=H, freq="D", season_length=7, future_known=[],
        params=lambda m: {}, costs={"a": 0.1, "b": 0.1}, time_left=time_left,
    )


def test_aggregates_forecast_each_distinct_set_of_series_once() -> None:
    """Walmart's department is both item and category, and each store x department is one
    series: those aggregates reuse a forecast instead of fitting the same data again."""
    agg = Aggregates.of(_shop(items=3, category_is_item=True))
    bottom = set(agg.hierarchy.tags[agg.hierarchy.bottom])
    upper = set(agg.hierarchy.S["unique_id"]) - bottom
    assert len(agg.fit_ids) == 1 + 2 + 3  # total, two stores, three departments
    assert set(agg.fit_ids) | set(agg.copy_of) == upper
    assert sum(src in bottom for src in agg.copy_of.values()) == 6  # store x category = the series


def test_mint_is_chosen_when_the_aggregated_series_are_forecast_better(monkeypatch: pytest.MonkeyPatch) -> None:
    hist = _shop()
    monkeypatch.setattr(rec, "fit_predict", _aggregates_forecast_as(hist, 1.0))
    choice = _choose(hist, _backtest(hist, [0.15, -0.15, 0.15, -0.15]))
    assert choice.method == "mint"
    assert all(m < b for m, b in zip(choice.scores["mint"], choice.scores["bottom_up"], strict=True))
    assert choice.text().startswith("Reconciliation: MinT, because it beat bottom-up")


def test_bottom_up_stays_when_the_aggregated_series_are_forecast_worse(monkeypatch: pytest.MonkeyPatch) -> None:
    hist = _shop()
    monkeypatch.setattr(rec, "fit_predict", _aggregates_forecast_as(hist, 1.4))
    choice = _choose(hist, _backtest(hist, [0.02, -0.02, 0.02, -0.02]))
    assert choice.method == "bottom_up" and len(choice.scores["mint"]) == 4
    assert choice.text().startswith("Reconciliation: bottom-up, the default")


def test_mint_is_not_compared_without_time_or_hierarchy(monkeypatch: pytest.MonkeyPatch) -> None:
    hist = _shop()
    monkeypatch.setattr(rec, "fit_predict", _aggregates_forecast_as(hist, 1.0))
    fc = _backtest(hist, [0.15, -0.15, 0.15])
    slow = _choose(hist, fc, time_left=1.0)
    assert slow.method == "bottom_up" and not slow.scores and "time budget" in slow.note
    flat = hist.drop(columns=["item_id", "category", "store_id"])
    assert choose_reconciliation(flat, fc, select(fc, flat, 7), h=H, freq="D", season_length=7, future_known=[],
                                 params=lambda m: {}, costs={}, time_left=1e6).method == "bottom_up"


def test_auto_forecaster_reconciles_its_bottom_forecasts_with_mint() -> None:
    hist = _shop()
    train = hist[hist["ds"] <= hist["ds"].max() - pd.Timedelta(days=H)]
    out = {}
    for method in ("bottom_up", "mint"):
        model = make_model("auto", candidates=["seasonal_naive", "auto_ets"], horizon=H, windows=2, strategy="ensemble",
                           reconcile=method)
        model.fit(model_frame(train), static_df=static_of(train))
        out[method] = model.predict(H, quantiles=[0.1, 0.9]).sort_values(["unique_id", "ds"]).reset_index(drop=True)
        assert model.reconcile_.method == method
    assert "Reconciliation: MinT (as asked)." in model.explanation_
    bu, mint = out["bottom_up"], out["mint"]
    assert bu[["unique_id", "ds"]].equals(mint[["unique_id", "ds"]])
    # seasonal naive of a sum is the sum of seasonal naives; AutoETS (fitted parameters) of a sum is not
    assert not np.allclose(bu["forecast"], mint["forecast"])
    shift = mint["forecast"] - bu["forecast"]
    for q in ("q0.1", "q0.9"):  # intervals move with the mean (where no clip at zero intervenes)
        live = (mint[q] > 0) & (bu[q] > 0)
        assert live.mean() > 0.5 and np.allclose((mint[q] - bu[q])[live], shift[live])
    with pytest.raises(Exception, match="MinT reconciliation needs the product hierarchy"):
        make_model("auto", candidates=["seasonal_naive"], horizon=H, reconcile="mint").fit(model_frame(train))
