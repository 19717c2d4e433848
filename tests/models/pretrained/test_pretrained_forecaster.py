"""The shipped PatchCast weights: load offline, forecast sensibly through the registry."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import torch

from trendcast.errors import NotReadyError
from trendcast.models.base import quantile_column
from trendcast.models.pretrained.forecaster import WEIGHTS_DIR, interpolate_quantiles, load_model
from trendcast.models.pretrained.model import count_parameters
from trendcast.models.registry import make_model

QS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


@pytest.fixture(autouse=True, scope="module")
def single_thread() -> Iterator[None]:
    """Tiny tensors: one thread avoids contention on a busy 2-core CI runner."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_shipped_weights_are_small_and_documented() -> None:
    model = load_model()
    assert 100_000 < count_parameters(model) < 3_000_000
    assert (WEIGHTS_DIR / "patchcast.safetensors").stat().st_size < 20_000_000  # the repo's limit for weights
    assert "Apache-2.0" in (WEIGHTS_DIR / "MODEL_CARD.md").read_text()
    record = json.loads((WEIGHTS_DIR / "training.json").read_text())
    assert record["steps"] > 0 and record["history"][-1]["val_loss"] < record["history"][0]["val_loss"]
    # Walmart states no licence: the shipped weights must not be trained on it
    assert "walmart" not in record["real_sources"] and "walmart" not in record["corpus"]["real"]


def test_zero_shot_quantiles_are_finite_and_monotone(small_panel: pd.DataFrame) -> None:
    model = make_model("patchtst_pretrained").fit(small_panel)
    fc = model.predict(14, quantiles=QS)
    assert len(fc) == small_panel["unique_id"].nunique() * 14
    q = fc[[quantile_column(x) for x in QS]].to_numpy()
    assert np.isfinite(q).all() and (np.diff(q, axis=1) >= 0).all()
    assert np.isfinite(fc["forecast"]).all() and (fc["forecast"] >= 0).all()
    # the forecast lives on the scale of the history, not at zero or blown up
    level = small_panel.groupby("unique_id")["y"].mean().mean()
    assert 0.2 * level < fc["forecast"].mean() < 5 * level


def test_long_horizon_rolls_forward_and_covariates_change_the_forecast(small_panel: pd.DataFrame) -> None:
    model = make_model("patchtst_pretrained").fit(small_panel)
    long = model.predict(80)
    assert len(long) == small_panel["unique_id"].nunique() * 80 and np.isfinite(long["forecast"]).all()
    grid = model.future_dates(14)
    no_promo = model.predict(14, X_future=grid.assign(promo=0))
    promo = model.predict(14, X_future=grid.assign(promo=1))
    assert not np.allclose(no_promo["forecast"], promo["forecast"])


def test_missing_weights_fail_in_words(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(NotReadyError, match="No PatchCast weights"):
        load_model(tmp_path)


def test_quantile_interpolation_hits_trained_levels() -> None:
    pred = np.array([[1.0, 2.0, 3.0]])
    out = interpolate_quantiles(pred, [0.1, 0.5, 0.9], [0.1, 0.3, 0.5, 0.95])
    assert np.allclose(out, [[1.0, 1.5, 2.0, 3.0]])


def test_fused_covariates_fill_the_past_slots_at_any_frequency() -> None:
    """Whatever numeric covariates the frame carries (fused signals, weekly here), the ones
    that track sales fill the two past-only slots; keys, noise-free constants never do."""
    from trendcast.models.pretrained.data import pick_past_covariates

    rng = np.random.default_rng(0)
    ds = pd.date_range("2023-01-01", periods=80, freq="W-SUN")
    frames = []
    for i in range(4):
        signal = rng.normal(size=80)
        frames.append(pd.DataFrame({
            "unique_id": f"s{i}", "ds": ds, "y": 50 + 10 * signal + rng.normal(size=80),
            "text_sentiment_mean_lag1": signal, "noise": rng.normal(size=80), "constant": 1.0,
            "holiday_CN": (np.arange(80) % 26 == 0).astype(float), "store_id": "a",
        }))
    df = pd.concat(frames, ignore_index=True)
    picked = pick_past_covariates(df)
    assert picked[0] == "text_sentiment_mean_lag1" and "constant" not in picked and "holiday_CN" not in picked
    model = make_model("patchtst_pretrained", season_length=52, freq="W-SUN").fit(df)
    assert model.describe()["past_covariates"] == picked
    fc = model.predict(13)
    assert len(fc) == 4 * 13 and np.isfinite(fc["forecast"]).all() and (fc["forecast"] >= 0).all()
    off = make_model("patchtst_pretrained", season_length=52, freq="W-SUN", use_covariates=False).fit(df)
    assert off.describe()["past_covariates"] == []


def test_past_slots_choose_among_the_candidates_given() -> None:
    """A driver known ahead (a markdown budget) tracks sales more closely than the leading
    signal, but the service passes only the leading signals as candidates: the markdown's
    history never fills a past-only slot."""
    from trendcast.models.pretrained.data import pick_past_covariates

    rng = np.random.default_rng(2)
    ds = pd.date_range("2023-01-06", periods=90, freq="W-FRI")
    markdown = rng.gamma(2.0, 1.0, 90)
    lead = rng.normal(size=90)
    df = pd.DataFrame({"unique_id": "a", "ds": ds, "y": 100 + 20 * markdown + 3 * lead + rng.normal(size=90),
                       "ext_MarkDown1": markdown, "ext_MarkDown2_lag13": lead})
    assert pick_past_covariates(df)[0] == "ext_MarkDown1"
    assert pick_past_covariates(df, among=["ext_MarkDown2_lag13"]) == ["ext_MarkDown2_lag13"]
    assert pick_past_covariates(df, among=[]) == []
    model = make_model("patchtst_pretrained", season_length=52, freq="W-FRI",
                       past_candidates=["ext_MarkDown2_lag13"]).fit(df)
    assert model.describe()["past_covariates"] == ["ext_MarkDown2_lag13"]


def test_calendar_covariates_stay_out_of_the_slots() -> None:
    """Fusion's calendar columns (``cal_*``) are neither the holiday slot nor a past signal, even
    when they track sales; a holiday column the shop supplied is the holiday slot."""
    from trendcast.models.pretrained.data import holiday_column, pick_past_covariates

    rng = np.random.default_rng(1)
    ds = pd.date_range("2024-01-01", periods=60)
    fest = (np.arange(60) % 10 == 0).astype(float)
    df = pd.DataFrame({
        "unique_id": "a", "ds": ds, "y": 20 + 15 * fest + rng.normal(size=60),
        "cal_holiday_days": fest, "cal_fest_singles_day": fest, "beh_views_lag28": rng.normal(size=60),
    })
    assert holiday_column(df) is None
    assert pick_past_covariates(df) == ["beh_views_lag28"]
    assert holiday_column(df.assign(holiday=fest)) == "holiday"
