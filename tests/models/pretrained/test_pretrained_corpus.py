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
    festivals,
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


def test_windows_carry_the_season_of_their_frequency() -> None:
    """Demand windows are told their season (the model's seasonal inputs); KernelSynth's are not."""
    corpus = build_corpus(seed=0, n_gp=6, use_real=False)
    rng = np.random.default_rng(0)
    for freq, season in (("D", 7), ("W", 52), ("M", 12)):
        b = sample_batch(corpus, rng, 8, context=128, horizon=32, source="demand", freq=freq)
        assert b["season"].tolist() == [season] * 8
    assert sample_batch(corpus, rng, 8, context=128, horizon=32, source="gp")["season"].tolist() == [0] * 8
    from trendcast.models.pretrained.corpus import sample_panel

    assert sample_panel(rng, 4, "M", context=128, horizon=32)["season"].tolist() == [12] * 4


def test_flag_drop_leaves_that_share_of_real_windows_without_holiday_flags(tmp_path: Path) -> None:
    """Real windows are drawn without their holiday flags at the recipe's rate, never otherwise;
    the stored series keep their flags."""
    _fake_walmart(tmp_path / "train.csv", weeks=200)
    real = walmart_series(tmp_path / "train.csv")
    assert all(r.future[:, 2].sum() > 0 for r in real)

    def flagged_share(flag_drop: float) -> float:
        corpus = Corpus(np.zeros((1, 10), np.float32), real, {"walmart": 1.0}, flag_drop=flag_drop)
        b = sample_batch(corpus, np.random.default_rng(0), 400, context=128, horizon=32)
        return float((b["future_cov"][:, :, 2].sum(axis=1) > 0).mean())

    kept = flagged_share(0.0)
    assert kept > 0.9  # nearly every 160-week window holds a flagged week
    assert abs(flagged_share(0.5) - kept / 2) < 0.1
    assert flagged_share(1.0) == 0.0
    assert all(r.future[:, 2].sum() > 0 for r in real)


SENTINEL = 1e9  # a value only the evaluation windows hold: finding it anywhere is a leak


def test_m5_builder_never_yields_evaluation_days(tmp_path: Path) -> None:
    """Daily, weekly and monthly M5 series: no value from d_1942 on (nor the 28 days before)."""
    dates = pd.date_range("2011-01-29", periods=1969, freq="D")
    sales = np.arange(1969, dtype=float) + 30_000
    sales[1941 - 28 :] = SENTINEL  # d_1914..d_1969: validation and evaluation days
    path = tmp_path / "m5.csv"
    pd.DataFrame({"d": [f"d_{i + 1}" for i in range(1969)], "date": dates, "sales": sales}).to_csv(path, index=False)
    series = m5_series(path, None)
    assert {s.freq for s in series} == {"D", "W", "M"}
    for s in series:
        assert s.y.max() < SENTINEL, s.name
        assert s.last_date < dates[1941 - 28], s.name
    daily = next(s for s in series if s.freq == "D")
    assert np.array_equal(daily.y, sales[: 1969 - M5_HOLDOUT_DAYS].astype(np.float32))


def test_walmart_builder_never_yields_the_last_13_weeks(tmp_path: Path) -> None:
    last = _fake_walmart(tmp_path / "train.csv")
    raw = pd.read_csv(tmp_path / "train.csv", parse_dates=["Date"])
    raw.loc[raw["Date"] > last - pd.Timedelta(weeks=13), "Weekly_Sales"] = SENTINEL
    raw.to_csv(tmp_path / "train.csv", index=False)
    assert all(s.y.max() < SENTINEL for s in walmart_series(tmp_path / "train.csv"))


def test_shipped_corpus_sources_stop_before_every_evaluation_window(shared) -> None:
    """The corpus the shipped weights used, as built here: M5 (all aggregates) ends before
    d_1914, and no Walmart series is in it at all (no licence)."""
    m5 = shared("data", "m5_level1", "m5_level1_total_d1_d1969_combined.csv")
    corpus = build_corpus(seed=0, n_gp=3)
    manifest = corpus.manifest()
    assert "walmart" not in set(manifest["source"])
    m5_dates = pd.read_csv(m5, usecols=["date"], parse_dates=["date"])["date"].sort_values()
    m = manifest[manifest["source"] == "m5"]
    assert set(m["freq"]) == {"D", "W", "M"}
    assert (m["last_date"] < m5_dates.iloc[-M5_HOLDOUT_DAYS]).all()
    # every window the sampler cuts from M5 holds only training-portion values (up to rescaling)
    daily = next(r for r in corpus.real if r.source == "m5" and r.freq == "D")
    full = pd.read_csv(m5)["sales"].to_numpy(np.float32)
    assert len(daily.y) == len(full) - M5_HOLDOUT_DAYS and np.array_equal(daily.y, full[: len(daily.y)])


def test_demand_generator_covers_every_frequency_and_panels_share_a_shape() -> None:
    rng = np.random.default_rng(3)
    for freq in ("D", "W", "M"):
        y, fut, past = demand_series(rng, 120, freq)
        assert y.shape == (120,) and (y >= 0).all() and np.isfinite(fut).all() and np.isfinite(past).all()
    from trendcast.models.pretrained.corpus import sample_panel

    panel = sample_panel(rng, 8, "W", context=128, horizon=32)
    assert panel["context"].shape == (8, 128) and panel["target_mask"].sum(axis=1).tolist() == [13] * 8


def test_festivals_end_and_come_back_a_year_later() -> None:
    """A festival in the context is a bump that ends: its lift is gone half a year later."""
    f = festivals(np.random.default_rng(0), 3 * 365, "D", 1)
    top = int(np.argmax(f[:365]))
    assert f[top] > 0.2 and abs(f[top + 365] - f[top]) < 0.05 * f[top]
    assert abs(f[(top + 182) % len(f)]) < 0.01 * f[top]
    assert not festivals(np.random.default_rng(0), 100, "W", 0).any()


def test_yearly_profiles_make_weekly_series_repeat_a_year_later() -> None:
    """``yearly_share`` gives weekly series a profile of any shape that recurs after 52 weeks."""

    def lag52_correlation(share: float) -> float:
        rng, out = np.random.default_rng(5), []
        for _ in range(100):
            y, _, _ = demand_series(rng, 260, "W", yearly_share=share)
            dev = np.log1p(y) - np.convolve(np.log1p(y), np.ones(13) / 13, "same")  # detrended
            if dev.std() > 0:
                out.append(np.corrcoef(dev[52:], dev[:-52])[0, 1])
        return float(np.nanmean(out))

    assert lag52_correlation(1.0) > lag52_correlation(0.0) + 0.02
