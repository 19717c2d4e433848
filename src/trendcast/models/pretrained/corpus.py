"""The pretraining corpus: synthetic series plus the *training* portions of real sets.

Three sources, mixed per batch:
- KernelSynth-style Gaussian-process draws (Ansari et al., Chronos 2024): a random sum/product
  of periodic (7, 30.4, 365.25, 52.18, 12 steps), RBF, linear and white-noise kernels, sampled
  exactly (Cholesky) on 640 steps;
- demand generators: negative-binomial and Croston-style intermittent counts with weekly and
  yearly seasonality, trends, level shifts, promotions with price cuts (elasticity), holidays
  and a past-only "buzz" signal that leads demand (the shape of trendcast's text signals);
- real data, never its evaluation windows: Walmart store-dept weekly sales without their last
  :data:`WALMART_HOLDOUT_WEEKS` weeks and the M5 level-1 daily total without its last
  :data:`M5_HOLDOUT_DAYS` days. :meth:`Corpus.manifest` records every real series' last
  included date so a test can prove nothing from an evaluation window leaks in.

Covariate slots (shared with :mod:`trendcast.models.pretrained.forecaster`): future-known
``[promo, log(price / reference price), holiday]``, past-only ``[signal_1, signal_2]``
(z-scored over the context window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.settings import shared_file

WALMART_HOLDOUT_WEEKS = 39  # benchmarks hold out the last 13; keep 3x that out of pretraining
M5_HOLDOUT_DAYS = 56  # the M5 evaluation 28 days and the validation 28 days before them
N_FUTURE, N_PAST = 3, 2
GP_LENGTH = 640


@dataclass
class RealSeries:
    """One real series' training portion with its covariate slots filled."""

    source: str
    name: str
    freq: str
    y: np.ndarray
    future: np.ndarray  # (T, N_FUTURE)
    first_date: pd.Timestamp
    last_date: pd.Timestamp  # last date included in the corpus


@dataclass
class Corpus:
    """Everything the sampler draws from; built once, deterministically, by :func:`build_corpus`."""

    gp_pool: np.ndarray  # (n, GP_LENGTH) float32
    real: list[RealSeries] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)

    def manifest(self) -> pd.DataFrame:
        """One row per real series: source, name, first and last included date, length."""
        rows = [
            {"source": r.source, "series": r.name, "freq": r.freq, "first_date": r.first_date,
             "last_date": r.last_date, "n": len(r.y)}
            for r in self.real
        ]
        return pd.DataFrame(rows, columns=["source", "series", "freq", "first_date", "last_date", "n"])

    def summary(self) -> dict[str, object]:
        by_source = self.manifest().groupby("source")["n"].agg(["count", "sum"])
        return {
            "gp_series": int(len(self.gp_pool)),
            "real": {s: {"series": int(r["count"]), "steps": int(r["sum"])} for s, r in by_source.iterrows()},
            "mixture": self.weights,
        }


# -- KernelSynth ---------------------------------------------------------------------------
def _kernel(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """One random base kernel matrix over steps ``x``."""
    d = x[:, None] - x[None, :]
    kind = rng.choice(["periodic", "periodic", "rbf", "linear", "white", "rq"])
    if kind == "periodic":
        period = rng.choice([7.0, 7.0, 30.4, 365.25, 52.18, 12.0, 4.35, 24.0])
        ell = rng.choice([0.5, 1.0, 2.0])
        return np.exp(-2 * np.sin(np.pi * np.abs(d) / period) ** 2 / ell**2)
    if kind == "rbf":
        ell = rng.choice([5.0, 20.0, 80.0, 300.0])
        return np.exp(-(d**2) / (2 * ell**2))
    if kind == "rq":
        ell, alpha = rng.choice([10.0, 50.0, 200.0]), rng.choice([0.5, 1.0, 2.0])
        return (1 + d**2 / (2 * alpha * ell**2)) ** (-alpha)
    if kind == "linear":
        t = x / len(x)
        c = rng.uniform(-0.5, 1.0)
        return rng.uniform(0.5, 3.0) * np.outer(t - c, t - c)
    return rng.choice([0.01, 0.05, 0.2]) * np.eye(len(x))


def kernel_synth(rng: np.random.Generator, n: int, length: int = GP_LENGTH, draws: int = 3) -> np.ndarray:
    """``n`` GP sample paths; each random composite kernel is drawn ``draws`` times."""
    x = np.arange(length, dtype=float)
    out = []
    while len(out) < n:
        k = _kernel(rng, x)
        for _ in range(rng.integers(0, 4)):
            other = _kernel(rng, x)
            k = k + other if rng.random() < 0.6 else k * other
        k = k + 1e-5 * np.eye(length)
        try:
            chol = np.linalg.cholesky(k)
        except np.linalg.LinAlgError:
            continue
        for z in rng.standard_normal((draws, length)):
            out.append(chol @ z)
    return np.asarray(out[:n], dtype=np.float32)


# -- demand generator ------------------------------------------------------------------------
def demand_series(rng: np.random.Generator, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A synthetic demand series with its covariates: ``y (T,), future (T, 3), past (T, 2)``."""
    daily = rng.random() < 0.7
    t = np.arange(length)
    year = 365.25 if daily else 52.18
    level = np.exp(rng.uniform(np.log(0.05), np.log(2000)))
    log_mu = np.full(length, np.log(level))
    if daily:
        log_mu += rng.uniform(0, 0.5) * np.sin(2 * np.pi * t / 7 + rng.uniform(0, 2 * np.pi))
        log_mu += rng.uniform(0, 0.2) * np.sin(4 * np.pi * t / 7 + rng.uniform(0, 2 * np.pi))
    for k in (1, 2):
        log_mu += rng.uniform(0, 0.4 / k) * np.sin(2 * np.pi * k * t / year + rng.uniform(0, 2 * np.pi))
    log_mu += rng.normal(0, 1.0) * t / length  # trend over the whole window
    for _ in range(rng.poisson(0.7)):  # level shifts
        log_mu[rng.integers(0, length) :] += rng.normal(0, 0.4)
    # promotions: runs with a price cut; demand responds through a random elasticity
    promo = np.zeros(length)
    price = np.ones(length)
    for _ in range(rng.poisson(length / (60 if daily else 10))):
        start, dur = rng.integers(0, length), rng.integers(2, 15) if daily else rng.integers(1, 4)
        promo[start : start + dur] = 1.0
        price[start : start + dur] = rng.uniform(0.6, 0.95)
    if rng.random() < 0.5:  # a permanent price change
        price[rng.integers(0, length) :] *= rng.uniform(0.8, 1.25)
    elasticity = rng.uniform(0.3, 3.0)
    log_mu += -elasticity * np.log(price) + promo * rng.uniform(0.0, 0.5)
    # holidays: a few fixed positions per year with a spike (or a dip)
    holiday = np.zeros(length)
    for pos in rng.uniform(0, year, size=rng.integers(0, 4)):
        days = np.arange(int(pos), length, year).astype(int)
        holiday[days] = 1.0
        log_mu[days] += rng.normal(0.5, 0.4)
    # a past-only leading signal: bursts that lift demand ``lag`` steps later
    buzz = np.zeros(length)
    lag = rng.integers(3, 15) if daily else rng.integers(1, 3)
    for _ in range(rng.poisson(length / 150)):
        start = rng.integers(0, length)
        buzz[start : start + rng.integers(3, 10)] += rng.uniform(1, 4)
    lift = rng.uniform(0.0, 0.15)
    log_mu[lag:] += lift * buzz[:-lag]
    mu = np.exp(np.clip(log_mu, -10, 12))
    if rng.random() < 0.3:  # Croston-style: rare occurrences with sizes
        p = np.clip(mu / (mu + rng.uniform(1, 5)), 0.02, 0.9)
        y = (rng.random(length) < p) * (1 + rng.poisson(np.maximum(mu, 0.5)))
    else:
        r = rng.uniform(0.5, 20)
        y = rng.negative_binomial(r, r / (r + mu))
    signal2 = rng.normal(size=length)  # an uninformative second signal: learn to ignore noise
    buzz_obs = buzz + rng.normal(0, 0.3, length)
    future = np.stack([promo, np.log(price / np.median(price)), holiday], axis=1)
    past = np.stack([buzz_obs, signal2], axis=1)
    return y.astype(np.float32), future.astype(np.float32), past.astype(np.float32)


# -- real sets ---------------------------------------------------------------------------------
def walmart_series(path: Path, holdout_weeks: int = WALMART_HOLDOUT_WEEKS, min_len: int = 52) -> list[RealSeries]:
    """Store x Dept weekly sales (clipped at 0), with the last ``holdout_weeks`` weeks removed.

    Weeks missing inside a series' life count as 0 sales (as the Kaggle data omits them).
    """
    df = pd.read_csv(path, parse_dates=["Date"])
    cutoff = df["Date"].max() - pd.Timedelta(weeks=holdout_weeks)
    df = df[df["Date"] <= cutoff]
    wide = df.pivot_table(index=["Store", "Dept"], columns="Date", values="Weekly_Sales", aggfunc="sum")
    wide = wide.reindex(columns=pd.date_range(wide.columns.min(), wide.columns.max(), freq="W-FRI"))
    holiday = df.groupby("Date")["IsHoliday"].max().reindex(wide.columns).astype(float).fillna(0.0)
    values = wide.to_numpy(np.float64)
    seen = np.isfinite(values)
    out = []
    for i, (store, dept) in enumerate(wide.index):
        cols = np.flatnonzero(seen[i])
        if len(cols) == 0 or cols[-1] - cols[0] + 1 < min_len:
            continue
        a, b = cols[0], cols[-1] + 1
        y = np.nan_to_num(values[i, a:b], nan=0.0).clip(min=0).astype(np.float32)
        future = np.zeros((b - a, N_FUTURE), np.float32)
        future[:, 2] = holiday.to_numpy()[a:b]
        out.append(RealSeries("walmart", f"{store}_{dept}", "W", y, future, wide.columns[a], wide.columns[b - 1]))
    return out


def m5_series(path: Path, calendar: Path | None, holdout_days: int = M5_HOLDOUT_DAYS) -> list[RealSeries]:
    """The M5 level-1 daily total without its last ``holdout_days`` days."""
    df = pd.read_csv(path, parse_dates=["date"]).sort_values("date")
    df = df.iloc[: len(df) - holdout_days]
    future = np.zeros((len(df), N_FUTURE), np.float32)
    if calendar is not None:
        cal = pd.read_csv(calendar, parse_dates=["date"])
        events = cal.set_index("date")["event_name_1"].notna()
        future[:, 2] = events.reindex(df["date"]).astype(float).fillna(0.0).to_numpy()
    y = df["sales"].to_numpy(np.float32)
    return [RealSeries("m5", "total", "D", y, future, df["date"].iloc[0], df["date"].iloc[-1])]


SHIPPED_SOURCES: tuple[str, ...] = ("m5",)


def build_corpus(
    seed: int = 0, n_gp: int = 1000, use_real: bool = True,
    sources: tuple[str, ...] = SHIPPED_SOURCES,
) -> Corpus:
    """Deterministic corpus for ``seed``; real ``sources`` are used when ../shared has them.

    The shipped weights use ``("m5",)`` only: the Walmart set states no licence, so weights
    trained on it are not shipped (pass ``("walmart", "m5")`` for a local experiment).
    """
    rng = np.random.default_rng(seed)
    real: list[RealSeries] = []
    if use_real:
        walmart = shared_file("data", "retail", "walmart", "train.csv.gz")
        if walmart is not None and "walmart" in sources:
            real += walmart_series(walmart)
        m5 = shared_file("data", "m5_level1", "m5_level1_total_d1_d1969_combined.csv")
        if m5 is not None and "m5" in sources:
            real += m5_series(m5, shared_file("data", "m5_level1", "calendar_kaggle.csv"))
    weights = {"gp": 0.3, "demand": 0.45, "walmart": 0.2, "m5": 0.05}
    sources = {r.source for r in real}
    weights = {k: v for k, v in weights.items() if k in ("gp", "demand") or k in sources}
    total = sum(weights.values())
    weights = {k: round(v / total, 4) for k, v in weights.items()}
    return Corpus(kernel_synth(rng, n_gp), real, weights)


# -- sampling windows --------------------------------------------------------------------------
def _window(
    rng: np.random.Generator, y: np.ndarray, fut: np.ndarray, past: np.ndarray,
    context: int, horizon: int, min_context: int, min_future: int,
) -> tuple[np.ndarray, ...] | None:
    n = len(y)
    lo, hi = min_context, n - min_future
    if hi < lo:
        return None
    cut = int(rng.integers(lo, hi + 1))
    start = max(0, cut - context)
    if rng.random() < 0.3:  # short histories happen: train on them too
        start = max(start, cut - int(rng.integers(min_context, context + 1)))
    ctx = np.full(context, np.nan, np.float32)
    ctx[context - (cut - start) :] = y[start:cut]
    tgt = np.zeros(horizon, np.float32)
    tmask = np.zeros(horizon, bool)
    end = min(n, cut + horizon)
    tgt[: end - cut], tmask[: end - cut] = y[cut:end], True
    f = np.zeros((context + horizon, N_FUTURE), np.float32)
    f[context - (cut - start) : context + end - cut] = fut[start:end]
    p = np.zeros((context, N_PAST), np.float32)
    seg = past[start:cut]
    if len(seg):
        p[context - (cut - start) :] = (seg - seg.mean(0)) / (seg.std(0) + 1e-6)
    return ctx, f, p, tgt, tmask


def sample_batch(
    corpus: Corpus, rng: np.random.Generator, batch_size: int, context: int, horizon: int
) -> dict[str, np.ndarray]:
    """A batch of (context, covariates, target) windows drawn from the corpus mixture."""
    names = list(corpus.weights)
    probs = np.array([corpus.weights[k] for k in names])
    by_source: dict[str, list[RealSeries]] = {}
    for r in corpus.real:
        by_source.setdefault(r.source, []).append(r)
    rows = []
    while len(rows) < batch_size:
        src = names[rng.choice(len(names), p=probs)]
        if src == "gp":
            y = corpus.gp_pool[rng.integers(len(corpus.gp_pool))]
            y = y * np.float32(np.exp(rng.normal(0, 1))) + np.float32(rng.normal(0, 2))
            fut = np.zeros((len(y), N_FUTURE), np.float32)
            past = np.zeros((len(y), N_PAST), np.float32)
            win = _window(rng, y, fut, past, context, horizon, 32, horizon)
        elif src == "demand":
            y, fut, past = demand_series(rng, int(rng.integers(context // 2, context + horizon + 1)))
            win = _window(rng, y, fut, past, context, horizon, 32, horizon // 2)
        else:
            r = by_source[src][rng.integers(len(by_source[src]))]
            past = np.zeros((len(r.y), N_PAST), np.float32)
            win = _window(rng, r.y, r.future, past, context, horizon, 20, 8)
        if win is not None:
            rows.append(win)
    ctx, fut, past, tgt, tmask = (np.stack(c) for c in zip(*rows, strict=True))
    return {"context": ctx, "future_cov": fut, "past_cov": past, "target": tgt, "target_mask": tmask}
