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
    # synthetic demand drawn ahead and renewed a few series per batch (see :meth:`renew`):
    # generating every window's series afresh costs more than the training step itself
    demand_pool: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    festival_share: float = 0.0  # of synthetic demand series with unannounced yearly festivals
    yearly_share: float = 0.0  # of weekly and monthly ones with a yearly profile of any shape
    flag_drop: float = 0.0  # of real-series windows drawn with their holiday flags left empty

    def draw_demand(self, rng: np.random.Generator, freq: str | None, context: int,
                    horizon: int) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
        """A fresh synthetic demand series of this corpus's recipe: ``(freq, y, future, past)``."""
        freq = freq or _pick_freq(rng)
        length = demand_length(rng, freq, context, horizon)
        return (freq, *demand_series(rng, length, freq, festival_share=self.festival_share,
                                     yearly_share=self.yearly_share))

    def renew(self, rng: np.random.Generator, k: int, context: int, horizon: int, size: int = 4096) -> None:
        """Fill the demand pool to ``size`` series, then replace ``k`` random ones."""
        while len(self.demand_pool) < size:
            self.demand_pool.append(self.draw_demand(rng, None, context, horizon))
        for i in rng.integers(0, len(self.demand_pool), size=k):
            self.demand_pool[i] = self.draw_demand(rng, None, context, horizon)

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
            "festival_share": self.festival_share,
            "yearly_share": self.yearly_share,
            "flag_drop": self.flag_drop,
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
FREQS: dict[str, float] = {"D": 0.55, "W": 0.3, "M": 0.15}  # how often each frequency is drawn
YEAR = {"D": 365.25, "W": 52.18, "M": 12.0}
# the season length each frequency's windows carry (the model's seasonal inputs; 0: none)
SEASON = {"D": 7, "W": 52, "M": 12, "Q": 4}


def _pick_freq(rng: np.random.Generator) -> str:
    return str(rng.choice(list(FREQS), p=list(FREQS.values())))


def shared_factor(rng: np.random.Generator, length: int, freq: str) -> np.ndarray:
    """Log-demand movements a whole shop shares: season, trend breaks, festivals, shocks.

    Series of one panel add this to their own level, so their *sum* carries the same shape:
    what the aggregate validation checks and where per-series biases would add up.
    """
    t = np.arange(length)
    year = YEAR[freq]
    out = np.zeros(length)
    for k in (1, 2, 3):
        out += rng.uniform(0, 0.35 / k) * np.sin(2 * np.pi * k * t / year + rng.uniform(0, 2 * np.pi))
    if freq == "D":  # a weekly profile of any shape (weekend peaks, Monday dips, ...)
        out += rng.normal(0, rng.uniform(0, 0.25), 7)[t % 7]
    # trend with a break: the slope changes once at a random point (structural break)
    slope = rng.normal(0, 0.8) / length
    out += slope * t
    if rng.random() < 0.4:
        b = int(rng.integers(length // 4, length))
        out[b:] += rng.normal(0, 1.2) / length * (t[b:] - b)
    for _ in range(rng.poisson(0.5)):  # permanent level shifts
        out[rng.integers(0, length) :] += rng.normal(0, 0.3)
    out += festivals(rng, length, freq, int(rng.poisson(0.8)))
    return out


def festivals(rng: np.random.Generator, length: int, freq: str, n: int) -> np.ndarray:
    """``n`` yearly shopping festivals as a log-demand lift: nothing in the data announces them.

    Each is a smooth bump (a few days to a few weeks of pre-sales, peak and tail) at the same
    time every year, sometimes followed by a dip (demand pulled forward). A model that has seen
    them learns that a bump in the context ends, and that a year later it comes back.
    """
    t = np.arange(length)
    year = YEAR[freq]
    out = np.zeros(length)
    for _ in range(n):
        width = rng.uniform(0.5, 6.0) if freq == "D" else rng.uniform(0.2, 0.8)  # std, in steps
        lift, dip = rng.uniform(0.2, 1.2), rng.uniform(0.1, 0.4) * (rng.random() < 0.3)
        for centre in np.arange(rng.uniform(0, year) - year, length + year, year):
            out += lift * np.exp(-0.5 * ((t - centre) / width) ** 2)
            out -= dip * np.exp(-0.5 * ((t - centre - 4 * width) / (2 * width)) ** 2)
    return out


def demand_series(
    rng: np.random.Generator, length: int, freq: str | None = None, shared: np.ndarray | None = None,
    festival_share: float = 0.0, yearly_share: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A synthetic demand series with its covariates: ``y (T,), future (T, 3), past (T, 2)``.

    ``freq`` "D", "W" or "M" (drawn when None); ``shared`` adds a panel's common log factor;
    ``festival_share`` of the series get unannounced yearly festivals (:func:`festivals`),
    ``yearly_share`` of the weekly and monthly ones a yearly profile of any shape.
    Covers what shops see: negative-binomial and intermittent counts, weekly/yearly seasons,
    trends and breaks, launches and phase-outs, promotions with price response, holidays
    (flagged or not), one-off spikes, stock-outs and a past-only leading "buzz" signal.
    """
    freq = freq or _pick_freq(rng)
    daily = freq == "D"
    t = np.arange(length)
    year = YEAR[freq]
    level = np.exp(rng.uniform(np.log(0.05), np.log(2000)))
    log_mu = np.full(length, np.log(level))
    if shared is not None:
        log_mu += shared[:length]
    if daily and rng.random() < 0.5:  # a smooth weekly wave
        log_mu += rng.uniform(0, 0.5) * np.sin(2 * np.pi * t / 7 + rng.uniform(0, 2 * np.pi))
        log_mu += rng.uniform(0, 0.2) * np.sin(4 * np.pi * t / 7 + rng.uniform(0, 2 * np.pi))
    elif daily:  # a weekly profile of any shape: weekend peaks, a busy Monday, a closed day
        log_mu += rng.normal(0, rng.uniform(0.05, 0.4), 7)[(t + rng.integers(7)) % 7]
    for k in (1, 2):
        amp = rng.uniform(0, (0.6 if freq == "M" else 0.4) / k)
        log_mu += amp * np.sin(2 * np.pi * k * t / year + rng.uniform(0, 2 * np.pi))
    if not daily and yearly_share and rng.random() < yearly_share:
        # a yearly profile of any shape, as the weekly one above: a slow September, pay-day
        # weeks, school holidays; two harmonics cannot draw it, and the model must copy it
        profile = rng.normal(0, rng.uniform(0.05, 0.3), int(np.ceil(year)))
        if rng.random() < 0.5:
            profile = (np.roll(profile, 1) + 2 * profile + np.roll(profile, -1)) / 4
        log_mu += profile[((t + rng.uniform(0, year)) % year).astype(int)]
    log_mu += rng.normal(0, 1.0) * t / length  # trend over the whole window
    if rng.random() < 0.3:  # a trend break
        b = int(rng.integers(0, length))
        log_mu[b:] += rng.normal(0, 1.0) * (t[b:] - b) / length
    for _ in range(rng.poisson(0.7)):  # level shifts
        log_mu[rng.integers(0, length) :] += rng.normal(0, 0.4)
    if rng.random() < 0.15:  # launch: a ramp-up from near nothing
        mid, width = rng.uniform(-0.1, 0.4) * length, rng.uniform(0.02, 0.15) * length
        log_mu += np.log(1 / (1 + np.exp(-(t - mid) / width)) + 1e-3)
    elif rng.random() < 0.1:  # phase-out: demand fades
        mid, width = rng.uniform(0.5, 1.1) * length, rng.uniform(0.02, 0.15) * length
        log_mu += np.log(1 / (1 + np.exp((t - mid) / width)) + 1e-3)
    # promotions: runs with a price cut; demand responds through a random elasticity
    promo = np.zeros(length)
    price = np.ones(length)
    every = {"D": 60, "W": 10, "M": 4}[freq]
    for _ in range(rng.poisson(length / every)):
        start = rng.integers(0, length)
        dur = rng.integers(2, 15) if daily else rng.integers(1, 3)
        promo[start : start + dur] = 1.0
        price[start : start + dur] = rng.uniform(0.6, 0.95)
    if rng.random() < 0.5:  # a permanent price change
        price[rng.integers(0, length) :] *= rng.uniform(0.8, 1.25)
    elasticity = rng.uniform(0.3, 3.0)
    log_mu += -elasticity * np.log(price) + promo * rng.uniform(0.0, 0.5)
    if rng.random() < 0.1:  # post-promotion dip (pulled-forward demand)
        after = np.r_[0, np.diff(promo) < 0].astype(bool)
        log_mu[np.flatnonzero(after)] -= rng.uniform(0.1, 0.5)
    # holidays: a few fixed positions per year with a spike (or a dip); the flag is often absent
    holiday = np.zeros(length)
    for pos in rng.uniform(0, year, size=rng.integers(0, 4)):
        days = np.arange(int(pos), length, year).astype(int)
        holiday[days] = 1.0
        log_mu[days] += rng.normal(0.5, 0.4)
    if rng.random() < 0.4:
        holiday[:] = 0.0
    if festival_share and rng.random() < festival_share:
        log_mu += festivals(rng, length, freq, 1 + int(rng.poisson(0.3)))
    for _ in range(rng.poisson(length / 400)):  # one-off unexplained spikes
        s = rng.integers(0, length)
        log_mu[s : s + rng.integers(1, 4)] += rng.uniform(0.3, 1.5)
    # a past-only leading signal: bursts that lift demand ``lag`` steps later
    buzz = np.zeros(length)
    lag = {"D": rng.integers(3, 15), "W": rng.integers(1, 3), "M": 1}[freq]
    for _ in range(rng.poisson(length / 150 * (1 if daily else 4))):
        start = rng.integers(0, length)
        dur = int(rng.integers(3, 10)) if daily else 1
        buzz[start : start + dur] += rng.uniform(1, 4)
    lift = rng.uniform(0.0, 0.15)
    log_mu[lag:] += lift * buzz[:-lag]
    mu = np.exp(np.clip(log_mu, -10, 12))
    if rng.random() < (0.3 if daily else 0.15):  # Croston-style: rare occurrences with sizes
        p = np.clip(mu / (mu + rng.uniform(1, 5)), 0.02, 0.9)
        y = (rng.random(length) < p) * (1 + rng.poisson(np.maximum(mu, 0.5)))
    else:
        r = rng.uniform(0.5, 20) if daily else rng.uniform(2, 60)
        y = rng.negative_binomial(r, r / (r + mu))
    if rng.random() < 0.1:  # stock-outs: runs of zero sales whatever the demand
        for _ in range(rng.poisson(2) + 1):
            s = rng.integers(0, length)
            y[s : s + rng.integers(1, 10 if daily else 2)] = 0
    signal2 = rng.normal(size=length)  # an uninformative second signal: learn to ignore noise
    buzz_obs = buzz + rng.normal(0, 0.3, length)
    future = np.stack([promo, np.log(price / np.median(price)), holiday], axis=1)
    past = np.stack([buzz_obs, signal2], axis=1)
    return y.astype(np.float32), future.astype(np.float32), past.astype(np.float32)


def demand_length(rng: np.random.Generator, freq: str, context: int, horizon: int) -> int:
    """How long a synthetic history is: days up to the context, a few years of weeks or months."""
    hi = {"D": context + horizon, "W": min(context + horizon, 320), "M": 160}[freq]
    lo = {"D": context // 2, "W": 60, "M": 30}[freq]
    return int(rng.integers(lo, hi + 1))


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


def m5_series(
    path: Path, calendar: Path | None, holdout_days: int = M5_HOLDOUT_DAYS, aggregates: bool = True,
) -> list[RealSeries]:
    """The M5 level-1 daily total without its last ``holdout_days`` days.

    With ``aggregates`` also its weekly and monthly sums, built from that same training
    portion (whole weeks and months only), so they cannot reach the held-out days either.
    """
    df = pd.read_csv(path, parse_dates=["date"]).sort_values("date")
    df = df.iloc[: len(df) - holdout_days]
    future = np.zeros((len(df), N_FUTURE), np.float32)
    if calendar is not None:
        cal = pd.read_csv(calendar, parse_dates=["date"])
        events = cal.set_index("date")["event_name_1"].notna()
        future[:, 2] = events.reindex(df["date"]).astype(float).fillna(0.0).to_numpy()
    y = df["sales"].to_numpy(np.float32)
    out = [RealSeries("m5", "total", "D", y, future, df["date"].iloc[0], df["date"].iloc[-1])]
    if aggregates:
        daily = df.set_index("date")["sales"].astype(float)
        for name, rule, freq in (("total_weekly", "W-FRI", "W"), ("total_monthly", "ME", "M")):
            grouped = daily.resample(rule)
            sums, counts = grouped.sum(), grouped.count()
            full = sums[counts == counts.max()]  # whole periods only
            # a period labelled at its end covers days up to the label: the last day used
            out.append(RealSeries("m5", name, freq, full.to_numpy(np.float32),
                                  np.zeros((len(full), N_FUTURE), np.float32), full.index[0], full.index[-1]))
    return out


def statsmodels_series() -> list[RealSeries]:
    """Public-domain real series shipped with statsmodels: weekly CO2, monthly El Nino SST,
    quarterly US consumption, investment and GDP. Not sales, but real seasonal and trending
    dynamics that synthetic draws lack; none overlaps any trendcast evaluation window.
    """
    try:
        from statsmodels import datasets  # installed with statsforecast
    except ImportError:
        return []
    out = []
    co2 = datasets.co2.load_pandas().data["co2"].interpolate(limit_direction="both")
    out.append(RealSeries("statsmodels", "co2", "W", co2.to_numpy(np.float32),
                          np.zeros((len(co2), N_FUTURE), np.float32), co2.index[0], co2.index[-1]))
    nino = datasets.elnino.load_pandas().data
    sst = nino.drop(columns="YEAR").to_numpy(np.float32).ravel()
    first, last = pd.Timestamp(int(nino["YEAR"].iloc[0]), 1, 1), pd.Timestamp(int(nino["YEAR"].iloc[-1]), 12, 1)
    out.append(RealSeries("statsmodels", "elnino", "M", sst, np.zeros((len(sst), N_FUTURE), np.float32), first, last))
    macro = datasets.macrodata.load_pandas().data
    dates = pd.PeriodIndex.from_fields(year=macro["year"].astype(int), quarter=macro["quarter"].astype(int), freq="Q")
    for col in ("realgdp", "realcons", "realinv"):
        v = macro[col].to_numpy(np.float32)
        out.append(RealSeries("statsmodels", col, "Q", v, np.zeros((len(v), N_FUTURE), np.float32),
                              dates[0].to_timestamp(), dates[-1].to_timestamp()))
    return out


SHIPPED_SOURCES: tuple[str, ...] = ("m5", "statsmodels")
MIXTURE = {"gp": 0.25, "demand": 0.58, "walmart": 0.15, "m5": 0.1, "statsmodels": 0.07}


def build_corpus(
    seed: int = 0, n_gp: int = 1000, use_real: bool = True,
    sources: tuple[str, ...] = SHIPPED_SOURCES, gp_pool: np.ndarray | None = None,
    festival_share: float = 0.0, yearly_share: float = 0.0, flag_drop: float = 0.0,
) -> Corpus:
    """Deterministic corpus for ``seed``; real ``sources`` are used when available.

    ``gp_pool``: the KernelSynth draws of an earlier build (a resumed run skips redrawing);
    ``festival_share``, ``yearly_share``: see :func:`demand_series`; ``flag_drop``: the share
    of real-series windows drawn without their holiday flags (as synthetic holidays often come).

    The shipped weights use ``("m5", "statsmodels")``: the Walmart set states no licence, so
    weights trained on it are not shipped (add ``walmart`` for a local experiment).
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
        if "statsmodels" in sources:
            real += statsmodels_series()
    present = {r.source for r in real}
    weights = {k: v for k, v in MIXTURE.items() if k in ("gp", "demand") or k in present}
    total = sum(weights.values())
    weights = {k: round(v / total, 4) for k, v in weights.items()}
    return Corpus(kernel_synth(rng, n_gp) if gp_pool is None else gp_pool, real, weights,
                  festival_share=festival_share, yearly_share=yearly_share, flag_drop=flag_drop)


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
    corpus: Corpus, rng: np.random.Generator, batch_size: int, context: int, horizon: int,
    source: str | None = None, freq: str | None = None,
) -> dict[str, np.ndarray]:
    """A batch of (context, covariates, target) windows drawn from the corpus mixture.

    ``source`` (and ``freq`` for "demand") restrict it, for validation per source and frequency.
    """
    names = [source] if source else list(corpus.weights)
    probs = np.array([1.0]) if source else np.array([corpus.weights[k] for k in names])
    by_source: dict[str, list[RealSeries]] = {}
    for r in corpus.real:
        by_source.setdefault(r.source, []).append(r)
    rows, seasons = [], []
    while len(rows) < batch_size:
        src = names[rng.choice(len(names), p=probs)]
        season = 0  # KernelSynth paths: periods of any length, none given
        if src == "gp":
            y = corpus.gp_pool[rng.integers(len(corpus.gp_pool))]
            y = y * np.float32(np.exp(rng.normal(0, 1))) + np.float32(rng.normal(0, 2))
            fut = np.zeros((len(y), N_FUTURE), np.float32)
            past = np.zeros((len(y), N_PAST), np.float32)
            win = _window(rng, y, fut, past, context, horizon, 32, horizon)
        elif src == "demand":
            if freq is None and corpus.demand_pool:
                f, y, fut, past = corpus.demand_pool[rng.integers(len(corpus.demand_pool))]
            else:
                f, y, fut, past = corpus.draw_demand(rng, freq, context, horizon)
            min_ctx, min_fut = {"D": (32, horizon // 2), "W": (26, 8), "M": (12, 6)}[f]
            win, season = _window(rng, y, fut, past, context, horizon, min_ctx, min_fut), SEASON[f]
        else:
            r = by_source[src][rng.integers(len(by_source[src]))]
            past = np.zeros((len(r.y), N_PAST), np.float32)
            y = r.y * np.float32(np.exp(rng.normal(0, 1)))  # scale-free: never memorise a level
            fut = r.future
            # a shop's data rarely flags its holidays: a model that always saw M5's event calendar
            # leant on it and missed M5's level through the product path, which has no such flags
            if corpus.flag_drop and rng.random() < corpus.flag_drop:
                fut = fut.copy()
                fut[:, 2] = 0.0
            win, season = _window(rng, y, fut, past, context, horizon, 20, 8), SEASON.get(r.freq, 0)
        if win is not None:
            rows.append(win)
            seasons.append(season)
    ctx, fut, past, tgt, tmask = (np.stack(c) for c in zip(*rows, strict=True))
    return {"context": ctx, "future_cov": fut, "past_cov": past, "target": tgt, "target_mask": tmask,
            "season": np.asarray(seasons, np.int64)}


EVAL_HORIZON = {"D": 28, "W": 13, "M": 6}  # the horizons trendcast forecasts by default


def sample_panel(
    rng: np.random.Generator, n_series: int, freq: str, context: int, horizon: int,
) -> dict[str, np.ndarray]:
    """One shop: ``n_series`` demand series sharing a common factor, all cut at the same step.

    The target covers the next :data:`EVAL_HORIZON` steps of the frequency; summing forecasts
    and actuals over the panel shows whether per-series errors cancel or add up (bias).
    """
    h = min(EVAL_HORIZON[freq], horizon)
    length = demand_length(rng, freq, context, horizon) + h
    shared = shared_factor(rng, length, freq)
    rows = []
    for _ in range(n_series):
        y, fut, past = demand_series(rng, length, freq, shared)
        cut = length - h
        start = max(0, cut - context)
        ctx = np.full(context, np.nan, np.float32)
        ctx[context - (cut - start) :] = y[start:cut]
        tgt = np.zeros(horizon, np.float32)
        tmask = np.zeros(horizon, bool)
        tgt[:h], tmask[:h] = y[cut:], True
        f = np.zeros((context + horizon, N_FUTURE), np.float32)
        f[context - (cut - start) : context + h] = fut[start:]
        p = np.zeros((context, N_PAST), np.float32)
        seg = past[start:cut]
        p[context - (cut - start) :] = (seg - seg.mean(0)) / (seg.std(0) + 1e-6)
        rows.append((ctx, f, p, tgt, tmask))
    ctx, fut, past, tgt, tmask = (np.stack(c) for c in zip(*rows, strict=True))
    return {"context": ctx, "future_cov": fut, "past_cov": past, "target": tgt, "target_mask": tmask,
            "season": np.full(n_series, SEASON[freq], np.int64)}
