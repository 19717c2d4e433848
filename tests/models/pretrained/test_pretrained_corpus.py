"""The pretraining corpus: deterministic, well-formed, and never touching evaluation windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.models.pretrained.corpus import (
    M5_HOLDOUT_DAYS,
    N_FUTURE,
    N_PAST,
    WALMART_HOLDOUT_WEEKS,
    Corpus,
    build_corpus,
    demand_series,
    kernel_synth,
    m5_series,
    sample_batch,
    walmart_series,
)


def _fake_walmart(path: Path, weeks: int = 120) -> pd.Timestamp:
    dates = pd.date_range("2010-02-05", periods=weeks, freq="W-FRI")
    rows = [
        {"Store": s, "Dept": d, "Date": day, "Weekly_Sales": 100.0 * s + d - (5 if i % 17 == 0 else 0),
         "IsHoliday": i % 52 == 40}
        for s in (1, 2) for d in (1, 3) for i, day in enumerate(dates)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return dates[-1]


def test_walmart_builder_drops_the_evaluation_weeks(tmp_path: Path) -> None:
    last = _fake_walmart(tmp_path / "train.csv")
    series = walmart_series(tmp_path / "train.csv")
    assert len(series) == 4
    for s in series:
        assert s.last_date <= last - pd.Timedelta(weeks=WALMART_HOLDOUT_WEEKS)
        assert len(s.y) == 120 - WALMART_HOLDOUT_WEEKS
        assert (s.y >= 0).all()  # returns clipped
        assert s.future.shape == (len(s.y), N_FUTURE)


def test_real_corpus_never_includes_held_out_windows(shared) -> None:
    walmart = shared("data", "retail", "walmart", "train.csv.gz")
    m5 = shared("data", "m5_level1", "m5_level1_total_d1_d1969_combined.csv")
    corpus = Corpus(np.zeros((1, 10), np.float32))
    corpus.real = walmart_series(walmart) + m5_series(m5, None)
    manifest = corpus.manifest()
    w_last = pd.read_csv(walmart, usecols=["Date"], parse_dates=["Date"])["Date"].max()
    w = manifest[manifest["source"] == "walmart"]
    assert len(w) > 1000
    # benchmarks hold out the last 13 weeks; the corpus stops 39 weeks before the end
    assert (w["last_date"] <= w_last - pd.Timedelta(weeks=WALMART_HOLDOUT_WEEKS)).all()
    assert (w["last_date"] < w_last - pd.Timedelta(weeks=13)).all()
    m5_dates = pd.read_csv(m5, usecols=["date"], parse_dates=["date"])["date"]
    eval_start = m5_dates.sort_values().iloc[-28]  # d_1942, the M5 evaluation window
    m = manifest[manifest["source"] == "m5"]
    assert (m["last_date"] < eval_start).all()
    assert (m["last_date"] <= m5_dates.max() - pd.Timedelta(days=M5_HOLDOUT_DAYS)).all()


def test_synthetic_sources_are_seeded_and_well_formed() -> None:
    a = kernel_synth(np.random.default_rng(1), 4, length=128)
    b = kernel_synth(np.random.default_rng(1), 4, length=128)
    assert a.shape == (4, 128) and np.array_equal(a, b) and np.isfinite(a).all()
    y, fut, past = demand_series(np.random.default_rng(2), 300)
    assert y.shape == (300,) and (y >= 0).all() and np.array_equal(y, np.round(y))
    assert fut.shape == (300, N_FUTURE) and past.shape == (300, N_PAST)


def test_batches_have_the_model_shapes() -> None:
    corpus = build_corpus(seed=0, n_gp=6, use_real=False)
    assert corpus.real == [] and set(corpus.weights) == {"gp", "demand"}
    b = sample_batch(corpus, np.random.default_rng(0), 16, context=128, horizon=32)
    assert b["context"].shape == (16, 128) and b["target"].shape == (16, 32)
    assert b["future_cov"].shape == (16, 160, N_FUTURE) and b["past_cov"].shape == (16, 128, N_PAST)
    assert b["target_mask"].any(axis=1).all()  # every window has something to learn from
    assert np.isfinite(b["context"]).any(axis=1).all()
