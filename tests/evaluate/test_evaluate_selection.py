"""Auto mode: per-series picks, ensemble weights and the registered ``auto`` model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.evaluate.backtest import model_frame, static_of
from trendcast.evaluate.selection import _choose, clearly_better, select, short_backtest_horizon
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


def test_a_pick_that_replaces_the_default_keeps_half_of_the_default_ensemble() -> None:
    """A pick that beats the ensemble over a few windows was also the luckiest: the forecast mixes
    the two half and half, and the explanation gives the mix's own held-out score."""
    fc = _forecasts({("m1", "A"): 0.0, ("m1", "B"): 5.0, ("m2", "A"): 5.0, ("m2", "B"): 0.0})
    sel = select(fc, _history(), season_length=1)
    assert sel.strategy == "per_series" and sel.hedge == {"m1": 0.5, "m2": 0.5}
    assert sel.details["hedge_wrmsse"] > sel.scores["per_series"]  # here the picks were perfect
    preds = {m: pd.DataFrame({"unique_id": ["A", "B"], "ds": pd.Timestamp("2024-02-01"), "forecast": v})
             for m, v in (("m1", [10.0, 20.0]), ("m2", [30.0, 40.0]))}
    out = sel.combine(preds, ["A", "B"]).set_index("unique_id")["forecast"]
    assert out.to_dict() == {"A": 0.5 * 10.0 + 0.5 * 20.0, "B": 0.5 * 40.0 + 0.5 * 30.0}
    assert "mixes in 50% of the default inverse-error ensemble" in sel.explanation
    assert sel.models_needed == ["m1", "m2"] == sel.models_for_unseen
    forced = select(fc, _history(), season_length=1, strategy="per_series")
    assert not forced.hedge  # asked for: as asked
    kept = select(_forecasts({("m1", "A"): 2.0, ("m1", "B"): 2.0, ("m2", "A"): -2.0, ("m2", "B"): -2.0}),
                  _history(), season_length=1)
    assert kept.strategy == "ensemble" and not kept.hedge


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


def _shop(n_items: int = 12, days: int = 90, seed: int = 0) -> pd.DataFrame:
    """A small two-store shop with a hierarchy (store, category, item)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=days)
    rows = []
    for store in ("S1", "S2"):
        for i in range(n_items):
            level = rng.uniform(5, 15)
            y = rng.poisson(level * (1 + 0.3 * np.sin(np.arange(days) * 2 * np.pi / 7)))
            rows.append(pd.DataFrame({"unique_id": f"{store}/I{i}", "ds": ds, "y": y.astype(float),
                                      "item_id": f"I{i}", "store_id": store, "category": f"C{i % 3}"}))
    return pd.concat(rows, ignore_index=True)


def _planted(hist: pd.DataFrame, h: int, cutoffs: list[pd.Timestamp], make: dict) -> pd.DataFrame:
    """Backtest forecasts: actuals from ``hist``; each model's forecast from ``make[model](y, k, rng)``."""
    rng = np.random.default_rng(1)
    rows = []
    for k, cutoff in enumerate(cutoffs):
        act = hist[(hist["ds"] > cutoff) & (hist["ds"] <= cutoff + pd.Timedelta(days=h))]
        for model, fn in make.items():
            rows.append(act[["unique_id", "ds", "y"]].assign(model=model, cutoff=cutoff,
                                                             forecast=fn(act["y"].to_numpy(), k, rng)))
    return pd.concat(rows, ignore_index=True)


def test_auto_picks_what_wins_across_levels_not_item_mase() -> None:
    """Model 'sharp' is closest per item (lowest MASE) but every series shares a bias whose sign
    changes from window to window, so it adds up at store, category and total level and no bias
    factor can fix it; 'steady' has larger errors per item that cancel across series. Choosing
    by item-level MASE (the old auto mode) picks 'sharp'; auto must pick 'steady'."""
    hist = _shop()
    h = 14
    cutoffs = [hist["ds"].max() - pd.Timedelta(days=h * (3 - k)) for k in range(3)]
    sign = [1.0, -1.0, 1.0]
    fc = _planted(hist, h, cutoffs, {
        "sharp": lambda y, k, rng: y + sign[k] * 2.5 + rng.normal(0, 0.3, len(y)),
        "steady": lambda y, k, rng: np.clip(y + rng.normal(0, 4.0, len(y)), 0, None),
    })
    sel = select(fc, hist, season_length=7)
    table = sel.details["backtest_scores"]
    assert table["model:sharp"]["mase"] < table["model:steady"]["mase"]  # item level prefers sharp
    assert table["model:sharp"]["total"] > 2 * table["model:steady"]["total"]  # the total does not
    assert table["model:sharp"]["wrmsse"] > table["model:steady"]["wrmsse"]
    assert sel.details["levels"] == ["total", "store", "category", "store_category", "item", "store_item"]
    if sel.strategy == "single":
        assert sel.fallback == "steady"
    else:
        assert sel.strategy in ("ensemble", "stacking")
        assert sel.weights["steady"] > sel.weights["sharp"]
    assert "store x category" in sel.explanation and "Runner-up" in sel.explanation


def test_bias_correction_is_used_when_it_helps_out_of_window() -> None:
    """A model 20% too high in every window: the learnt factor (about 1/1.2) removes it."""
    hist = _shop(seed=2)
    h = 14
    cutoffs = [hist["ds"].max() - pd.Timedelta(days=h * (3 - k)) for k in range(3)]
    fc = _planted(hist, h, cutoffs, {
        "high": lambda y, k, rng: 1.2 * y + rng.normal(0, 0.5, len(y)),
        "noisy": lambda y, k, rng: np.clip(y + rng.normal(0, 5.0, len(y)), 0, None),
    })
    sel = select(fc, hist, season_length=7)
    assert sel.bias and abs(sel.bias["high"] - 1 / 1.2) < 0.03
    assert sel.scores[sel.strategy + "+bias"] < sel.scores[sel.strategy]
    assert "level-bias correction" in sel.explanation
    off = select(fc, hist, season_length=7, bias="off")
    assert not off.bias and all(not k.endswith("+bias") for k in off.scores)


def test_stacking_learns_weights_that_cancel_errors() -> None:
    """m1 = y + 2e and m2 = y - e: weights 1/3 and 2/3 cancel e exactly at every level; m3 is
    noise and gets no weight. Inverse-error weights cannot find that combination."""
    hist = _shop(seed=4)
    h = 14
    cutoffs = [hist["ds"].max() - pd.Timedelta(days=h * (3 - k)) for k in range(3)]
    noise = np.random.default_rng(7).normal(0, 3.0, 10**5)
    fc = _planted(hist, h, cutoffs, {
        "m1": lambda y, k, rng: y + 2 * noise[k * len(y): (k + 1) * len(y)],
        "m2": lambda y, k, rng: y - noise[k * len(y): (k + 1) * len(y)],
        "m3": lambda y, k, rng: y + rng.normal(0, 3.0, len(y)),
    })
    sel = select(fc, hist, season_length=7, bias="off")
    assert sel.strategy == "stacking"
    assert sel.weights["m1"] == pytest.approx(1 / 3, abs=0.02)
    assert sel.weights["m2"] == pytest.approx(2 / 3, abs=0.02)
    assert sel.weights["m3"] < 0.02
    assert sel.scores["stacking"] < 0.05 < sel.scores["ensemble"]
    assert "Weights (learnt on backtest forecasts)" in sel.explanation


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _fake_fit_predict(clock: _FakeClock, costs: dict[str, float]):
    """fit_predict stand-in: 'fitting' a model advances the clock by its cost; forecasts last value."""

    def fit_predict(name, train, h, X_future, quantiles, **kwargs):  # noqa: ANN001, ANN202
        clock.now += costs[name]
        last = train.sort_values("ds").groupby("unique_id").tail(1)
        rows = [pd.DataFrame({"unique_id": u, "ds": pd.date_range(d + pd.Timedelta(days=1), periods=h),
                              "forecast": y}) for u, d, y in zip(last["unique_id"], last["ds"], last["y"], strict=True)]
        return pd.concat(rows, ignore_index=True), None

    return fit_predict


def _offset_fit_predict(clock: _FakeClock, costs: dict[str, float], shop: pd.DataFrame, offset: dict[str, float]):
    """Like :func:`_fake_fit_predict`, but each model forecasts the actual sales plus its offset."""
    actual = shop.set_index(["unique_id", "ds"])["y"]
    fake = _fake_fit_predict(clock, costs)

    def fit_predict(name, *args, **kwargs):  # noqa: ANN001, ANN202
        fc, _ = fake(name, *args, **kwargs)
        truth = actual.reindex(pd.MultiIndex.from_frame(fc[["unique_id", "ds"]])).to_numpy()
        return fc.assign(forecast=truth + offset[name]), None

    return fit_predict


@pytest.mark.parametrize("spent", [0.0, 25.0])
def test_time_budget_drops_the_slowest_candidate_and_keeps_two_windows(monkeypatch: pytest.MonkeyPatch,
                                                                       spent: float) -> None:
    """A 40 s budget; or 65 s of which reading the data had spent 25 s: the same plan."""
    from trendcast.evaluate import selection as sel_mod
    from trendcast.evaluate.progress import AutoStep

    clock = _FakeClock()
    costs = {"fast": 1.0, "mid": 3.0, "slow": 20.0}
    monkeypatch.setattr(sel_mod, "fit_predict", _fake_fit_predict(clock, costs))
    steps: list[AutoStep] = []
    res = sel_mod.budgeted_backtest(
        _shop(), list(costs), 7, 3, budget=40.0 + spent, season_length=7, freq="D",
        params=lambda name: {}, on_progress=steps.append, clock=clock, spent=spent,
    )
    # window 1 costs 24 s of 40: 'slow' cannot get a second window, the other two get all three
    assert set(res.dropped) == {"slow"} and "too slow" in res.dropped["slow"]
    assert res.windows == 3
    assert set(res.forecasts["model"]) == {"fast", "mid"}
    assert res.forecasts["cutoff"].nunique() == 3
    final_fit = (costs["fast"] + costs["mid"]) * sel_mod.FINAL_FIT_FACTOR
    assert clock.now + final_fit <= 40.0  # backtest plus the reserved final fit stay in the budget
    assert [s.status for s in steps if s.model == "slow"] == ["start", "done", "dropped"]
    assert steps[-1].line() == "backtest mid window 3/3: done in 3.0 s"


def test_time_budget_keeps_the_strong_slow_candidate_over_the_weak_cheaper_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """After window 1 only one of 'weak' (10 s) and 'strong' (15 s) fits two windows: the one with
    the better first-window WRMSSE stays, not the cheaper one."""
    from trendcast.evaluate import selection as sel_mod

    clock = _FakeClock()
    costs = {"cheap": 1.0, "weak": 10.0, "strong": 15.0}
    shop = _shop()
    offset = {"cheap": 3.0, "weak": 4.0, "strong": 0.5}
    monkeypatch.setattr(sel_mod, "fit_predict", _offset_fit_predict(clock, costs, shop, offset))
    res = sel_mod.budgeted_backtest(
        shop, list(costs), 7, 3, budget=66.0, season_length=7, freq="D", params=lambda name: {}, clock=clock,
    )
    assert set(res.dropped) == {"weak"} and "too slow" in res.dropped["weak"]
    assert set(res.forecasts["model"]) == {"cheap", "strong"} and res.windows == 2


def test_time_budget_keeps_a_cheap_candidate_that_costs_next_to_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """'strong' (15 s a window) just fits a second window in 48 s; 'cheap' (0.5 s) tips the sum
    over by a second. Dropping it would save nothing measurable and leave auto one model."""
    from trendcast.evaluate import selection as sel_mod

    clock = _FakeClock()
    costs = {"cheap": 0.5, "strong": 15.0}
    shop = _shop()
    monkeypatch.setattr(sel_mod, "fit_predict", _offset_fit_predict(clock, costs, shop, {"cheap": 3.0, "strong": 0.5}))
    res = sel_mod.budgeted_backtest(
        shop, list(costs), 7, 3, budget=48.0, season_length=7, freq="D", params=lambda name: {}, clock=clock,
    )
    assert not res.dropped and res.windows == 2
    assert set(res.forecasts["model"]) == {"cheap", "strong"}
    assert clock.now + 15.5 * sel_mod.FINAL_FIT_FACTOR <= 48.0 * (1 + sel_mod.NEGLIGIBLE_SHARE)


def test_time_budget_stops_after_one_window_when_the_best_candidate_cannot_have_two(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Dropping 'strong' (the best in window 1) to give the cheap one a second window would leave
    auto choosing among weak models: it stops after one window with every candidate instead."""
    from trendcast.evaluate import selection as sel_mod

    clock = _FakeClock()
    costs = {"cheap": 1.0, "strong": 15.0}
    shop = _shop()
    monkeypatch.setattr(sel_mod, "fit_predict", _offset_fit_predict(clock, costs, shop, {"cheap": 3.0, "strong": 0.5}))
    res = sel_mod.budgeted_backtest(
        shop, list(costs), 7, 3, budget=30.0, season_length=7, freq="D", params=lambda name: {}, clock=clock,
    )
    assert res.windows == 1 and not res.dropped
    assert set(res.forecasts["model"]) == {"cheap", "strong"}
    assert select(res.forecasts, shop, season_length=7).strategy == "ensemble"


def test_time_budget_does_not_start_a_statistical_model_predicted_too_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """AutoETS takes 1 s a series here: the timed warm-up fit predicts 24 s a window for the
    24 series, and two windows plus the final fit (75.6 s) exceed the 60 s budget, so it never
    starts; with a 100 s budget it runs."""
    from trendcast.evaluate import selection as sel_mod

    per_series = {"fast": 0.01, "auto_ets": 1.0}
    shop = _shop()
    for budget, ran in ((60.0, False), (100.0, True)):
        clock = _FakeClock()
        fake = _fake_fit_predict(clock, dict.fromkeys(per_series, 0.0))

        def fit_predict(name, train, *args, clock=clock, fake=fake, **kwargs):  # noqa: ANN001, ANN202
            clock.now += per_series[name] * train["unique_id"].nunique()
            return fake(name, train, *args, **kwargs)

        monkeypatch.setattr(sel_mod, "fit_predict", fit_predict)
        res = sel_mod.budgeted_backtest(shop, list(per_series), 7, 2, budget=budget, season_length=7, freq="D",
                                        params=lambda name: {}, clock=clock)
        assert ("auto_ets" in set(res.forecasts["model"])) is ran
        if not ran:
            assert "predicted 24 s a window" in res.dropped["auto_ets"]


def test_time_budget_does_not_start_a_statistical_model_the_candidates_before_it_left_no_room_for(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """AutoETS is predicted at 24 s a window (75.6 s with its second window and final fit): with
    LightGBM-like 'gbm' at 10 s it starts in a 100 s budget, at 30 s it does not, since after
    the warm-up and 'gbm' only 64 s are left. It used to start whenever it fitted the whole budget alone, then ran
    a first window that could never have a second."""
    from trendcast.evaluate import selection as sel_mod
    from trendcast.evaluate.progress import AutoStep

    shop = _shop()
    n = shop["unique_id"].nunique()
    for gbm_cost, ran in ((10.0, True), (30.0, False)):
        clock = _FakeClock()
        per_series = {"gbm": gbm_cost / n, "auto_ets": 24.0 / n}
        fake = _fake_fit_predict(clock, dict.fromkeys(per_series, 0.0))

        def fit_predict(name, train, *args, clock=clock, fake=fake, per_series=per_series, **kwargs):  # noqa: ANN001, ANN202
            clock.now += per_series[name] * train["unique_id"].nunique()
            return fake(name, train, *args, **kwargs)

        monkeypatch.setattr(sel_mod, "fit_predict", fit_predict)
        steps: list[AutoStep] = []
        res = sel_mod.budgeted_backtest(shop, list(per_series), 7, 2, budget=100.0, season_length=7, freq="D",
                                        params=lambda name: {}, on_progress=steps.append, clock=clock)
        assert any(s.model == "auto_ets" and s.status == "start" for s in steps) is ran
        if not ran:  # after the warm-up (6 s) and 'gbm' (30 s)
            assert "do not fit in the 64 s left of the time budget of 100 s" in res.dropped["auto_ets"]
            assert clock.now == 36.0  # the warm-up and 'gbm' only, no AutoETS window that could not have a second


def test_time_budget_keeps_candidates_that_finished_two_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    from trendcast.evaluate import selection as sel_mod

    clock = _FakeClock()
    per_call = {"fast": iter([1.0, 1.0]), "slow": iter([10.0, 16.0])}  # 'slow' gets slower (busy machine)
    fake = _fake_fit_predict(clock, {"fast": 0.0, "slow": 0.0})

    def fit_predict(name, *args, **kwargs):  # noqa: ANN001, ANN202
        clock.now += next(per_call[name])
        return fake(name, *args, **kwargs)

    monkeypatch.setattr(sel_mod, "fit_predict", fit_predict)
    res = sel_mod.budgeted_backtest(
        _shop(), ["fast", "slow"], 7, 3, budget=36.0, season_length=7, freq="D", params=lambda name: {}, clock=clock,
    )
    # window 1 (11 s) leaves room for a second; after it the budget is spent, but both have two windows
    assert res.windows == 2 and not res.dropped
    assert set(res.forecasts["model"]) == {"fast", "slow"}


def test_time_budget_plans_with_the_dearest_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The most recent window (most history) cost 10 s, the older ones 5 s: the final fit, on
    all the history, is planned at the 10 s, so it still fits when it costs that much."""
    from trendcast.evaluate import selection as sel_mod

    clock = _FakeClock()
    per_call = iter([10.0] + [5.0] * 7)
    fake = _fake_fit_predict(clock, {"gbm": 0.0})

    def fit_predict(name, *args, **kwargs):  # noqa: ANN001, ANN202
        clock.now += next(per_call)
        return fake(name, *args, **kwargs)

    monkeypatch.setattr(sel_mod, "fit_predict", fit_predict)
    res = sel_mod.budgeted_backtest(
        _shop(days=200), ["gbm"], 7, 8, budget=50.0, season_length=7, freq="D", params=lambda name: {}, clock=clock,
    )
    assert res.windows >= 2
    assert clock.now + sel_mod.FINAL_FIT_FACTOR * 10.0 <= 50.0


def test_time_budget_spent_in_the_first_window_stops_there(monkeypatch: pytest.MonkeyPatch) -> None:
    from trendcast.evaluate import selection as sel_mod

    clock = _FakeClock()
    costs = {"fast": 1.0, "slow": 30.0, "never": 1.0}
    monkeypatch.setattr(sel_mod, "fit_predict", _fake_fit_predict(clock, costs))
    res = sel_mod.budgeted_backtest(
        _shop(), list(costs), 7, 3, budget=40.0, season_length=7, freq="D", params=lambda name: {}, clock=clock,
    )
    assert "never" in res.dropped and "time budget" in res.dropped["never"]  # not started after 50%
    assert set(res.forecasts["model"]) == {"fast"} and res.windows == 3  # "slow" made way for more windows


def test_auto_forecaster_reports_progress_and_respects_a_small_budget(small_panel: pd.DataFrame) -> None:
    from trendcast.evaluate.progress import AutoStep

    steps: list[AutoStep] = []
    train = small_panel[small_panel["ds"] <= small_panel["ds"].max() - pd.Timedelta(days=14)]
    model = make_model("auto", candidates=["seasonal_naive", "croston", "auto_ets"], horizon=14,
                       time_budget=1e-3, on_progress=steps.append)
    model.fit(model_frame(train), static_df=static_of(train))
    out = model.predict(14)
    assert len(out) == 14 * train["unique_id"].nunique()
    assert model.selection.details["dropped"].keys() == {"croston", "auto_ets"}
    assert "Not compared: croston (time budget" in model.explanation_
    stages = [s.stage for s in steps]
    assert stages[0] == "backtest" and "select" in stages and stages[-1] == "predict"


def test_one_window_means_the_default_ensemble_without_bias_correction() -> None:
    """With one window nothing is held out: a pick, learnt weights or a bias factor would be
    scored on the data they came from, so auto keeps its default inverse-error ensemble."""
    hist = _shop(seed=5)
    h = 14
    fc = _planted(hist, h, [hist["ds"].max() - pd.Timedelta(days=h)], {
        "high": lambda y, k, rng: 1.3 * y,
        "noisy": lambda y, k, rng: np.clip(y + rng.normal(0, 6.0, len(y)), 0, None),
    })
    sel = select(fc, hist, season_length=7)
    assert sel.strategy == "ensemble" and not sel.bias
    assert set(sel.details["ranking"]) == {"ensemble"}
    assert "on 1 backtest window (in-sample)" in sel.explanation


def test_a_lucky_mean_does_not_replace_the_default() -> None:
    """A lower mean WRMSSE that comes from one window is luck: the one-standard-error rule keeps
    the default ensemble; a way that wins window after window replaces it; a bias factor must
    also beat the same way without it."""
    base = np.array([0.75, 0.75, 0.75, 0.75])
    lucky = np.array([0.20, 0.80, 0.80, 0.80])  # mean 0.65 < 0.75, worse in three windows of four
    steady = np.array([0.60, 0.62, 0.61, 0.60])
    assert lucky.mean() < base.mean() and not clearly_better(lucky, base)
    assert clearly_better(steady, base)
    assert not clearly_better(steady[:1], base[:1])  # one window: no noise estimate, no switch
    halves = base - np.array([0.10, 0.0, 0.10, 0.0])  # better in half the windows: 1.7 errors
    assert clearly_better(halves, base) and not clearly_better(halves, base, errors=2.0)
    assert _choose(["single", "ensemble"], {"single": lucky, "ensemble": base}) == "ensemble"
    assert _choose(["single", "ensemble"], {"single": steady, "ensemble": base}) == "single"
    noisy_gain = steady + np.array([-0.05, 0.03, -0.04, 0.03])  # lower mean, not a clear gain
    folds = {"single+bias": noisy_gain, "single": steady, "ensemble": base}
    assert _choose(["single+bias", "single", "ensemble"], folds) == "single"


def test_a_young_shop_is_compared_over_a_shorter_horizon() -> None:
    """45 days cannot hold two 28-day windows: the candidates are compared 12 days ahead instead of
    auto falling back to seasonal naive, which repeats last week's noise."""
    rng = np.random.default_rng(0)
    ds = pd.date_range("2024-03-01", periods=45)
    panel = pd.concat([pd.DataFrame({"unique_id": u, "ds": ds, "y": rng.poisson(lam, 45).astype(float)})
                       for u, lam in (("A", 20.0), ("B", 5.0))], ignore_index=True)
    assert short_backtest_horizon(panel, 7, 28) == 12  # 45 - 2 x 12 = 21 >= 7 + 12
    assert short_backtest_horizon(panel, 7, 10) is None  # the full horizon fits
    assert short_backtest_horizon(panel.groupby("unique_id").head(9), 7, 28) is None
    model = make_model("auto", candidates=["seasonal_naive", "moving_average"], horizon=28, windows=2)
    model.fit(panel)
    assert model.selection.details["backtest_horizon"] == 12
    assert model.selection.scores["model:moving_average"] < model.selection.scores["model:seasonal_naive"]
    assert "compared 12 periods ahead" in model.explanation_
    assert len(model.predict(28)) == 2 * 28
    young = make_model("auto", candidates=["seasonal_naive", "moving_average"], horizon=28).fit(
        panel.groupby("unique_id").head(9))
    assert young.explanation_.startswith("Auto mode could not backtest")


def test_one_window_drops_candidates_whose_final_fit_no_longer_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Window 1 used 52 of 60 s and the best ('strong') cannot have a second: auto stops there, and
    'slow' (its final fit 40 s of the 8 left) goes too, instead of running the budget 5x over."""
    from trendcast.evaluate import selection as sel_mod

    clock = _FakeClock()
    costs = {"cheap": 1.0, "strong": 15.0, "slow": 35.0}
    shop = _shop()
    monkeypatch.setattr(sel_mod, "fit_predict", _offset_fit_predict(
        clock, costs, shop, {"cheap": 3.0, "strong": 0.5, "slow": 2.0}))
    res = sel_mod.budgeted_backtest(
        shop, list(costs), 7, 3, budget=60.0, season_length=7, freq="D", params=lambda name: {}, clock=clock,
    )
    assert res.windows == 1 and set(res.dropped) == {"slow"} and "final fit" in res.dropped["slow"]
    assert set(res.forecasts["model"]) == {"cheap", "strong"}


@pytest.mark.parametrize("budget", [40.0, 80.0])
def test_time_budget_gives_the_fine_tuned_model_only_the_time_the_others_leave(
        monkeypatch: pytest.MonkeyPatch, budget: float) -> None:
    """'fast' and 'mid' cost 4 s a window: three windows and their final fits take 16.6 s. Of a
    40 s budget that leaves under 5 s of training a fit for the fine-tuned PatchCast (listed
    first, run last), so it does not run; of 80 s it trains as long as leaves the others all
    three windows, in the backtest and in auto's final fit alike."""
    from trendcast.evaluate import selection as sel_mod

    clock = _FakeClock()
    fake = _fake_fit_predict(clock, {"fast": 1.0, "mid": 3.0, "patchtst_finetuned": 0.0})
    caps: list[float] = []

    def fit_predict(name, *args, params, **kwargs):  # noqa: ANN001, ANN202
        fc, _ = fake(name, *args, params=params, **kwargs)
        if name == "patchtst_finetuned":  # trains for its max_seconds; data and forecast take the rest
            caps.append(params["max_seconds"])
            clock.now += params["max_seconds"] / sel_mod.TRAIN_SHARE
            fc["forecast"] += 1.0
        return fc, None

    monkeypatch.setattr(sel_mod, "fit_predict", fit_predict)
    res = sel_mod.budgeted_backtest(
        _shop(), ["patchtst_finetuned", "fast", "mid"], 7, 3, budget=budget, season_length=7, freq="D",
        params=lambda name: {}, clock=clock,
    )
    assert res.windows == 3 and {"fast", "mid"} <= set(res.forecasts["model"])
    if budget == 40.0:
        assert not caps and "under 5 s" in res.dropped["patchtst_finetuned"]
        return
    assert len(caps) == 3 and len(set(caps)) == 1 and caps[0] >= sel_mod.MIN_TRAIN_SECONDS
    assert res.caps == {"patchtst_finetuned": caps[0]}
    final = sel_mod.FINAL_FIT_FACTOR * (4.0 + caps[0] / sel_mod.TRAIN_SHARE)
    assert clock.now + final <= budget + 1e-9
    auto = sel_mod.AutoForecaster()
    auto.backtest_ = res
    assert auto.candidate_params("patchtst_finetuned")["max_seconds"] == caps[0]
    assert "max_seconds" not in auto.candidate_params("fast")


def test_a_fine_tuned_model_that_kept_its_weights_everywhere_is_not_counted_twice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Fine-tuning that kept the starting weights in every window (no series long enough to
    validate on) forecasts exactly as the zero-shot model: an ensemble would count it twice."""
    from trendcast.evaluate import selection as sel_mod

    clock = _FakeClock()
    monkeypatch.setattr(sel_mod, "fit_predict", _fake_fit_predict(
        clock, {"patchtst_pretrained": 1.0, "fast": 1.0, "patchtst_finetuned": 1.0}))
    res = sel_mod.budgeted_backtest(
        _shop(), ["fast", "patchtst_pretrained", "patchtst_finetuned"], 7, 3, budget=200.0, season_length=7,
        freq="D", params=lambda name: {}, clock=clock,
    )
    assert "were fast's in every window" in res.dropped["patchtst_finetuned"]
    assert set(res.forecasts["model"]) == {"fast", "patchtst_pretrained"} and res.caps == {}


@pytest.mark.parametrize("others", [True, False])
def test_a_fine_tuned_member_that_kept_its_starting_weights_hands_its_weight_on(others: bool) -> None:
    """Its backtest weight was earned by tuned forecasts; a final fit that did not tune (40 days:
    no room for a 28-day validation window) forecasts zero-shot, so the other members take its
    weight in proportion. Alone it keeps it: there is no one to hand it to."""
    from trendcast.evaluate.selection import Selection

    shop = _shop(n_items=3, days=40)
    frame = model_frame(shop)
    weights = {"seasonal_naive": 0.6, "patchtst_finetuned": 0.4} if others else {"patchtst_finetuned": 1.0}
    sel = Selection("ensemble", {}, dict(weights), {}, fallback="seasonal_naive", explanation="Chosen.")
    auto = make_model("auto", selection=sel, reconcile="bottom_up").fit(frame)
    out = auto.predict(7)
    alone = make_model("seasonal_naive" if others else "patchtst_pretrained").fit(frame).predict(7)
    np.testing.assert_allclose(out["forecast"].to_numpy(), alone["forecast"].to_numpy(), rtol=1e-6)
    assert auto.selection.weights == weights  # as learnt: a later fit may tune it again
    if others:
        assert auto.selection.details["untrained_weight_moved"] == {"patchtst_finetuned": 0.4}
        assert "patchtst_finetuned (weight 0.40) kept its starting weights" in auto.explanation_
    else:
        assert "untrained_weight_moved" not in auto.selection.details
        assert "kept its starting weights" not in auto.explanation_
