"""The one forecaster interface, in the spirit of scikit-learn and Nixtla's statsforecast.

Input: a long frame with ``unique_id`` (series key), ``ds`` (timestamp), ``y`` (target) and any
number of covariate columns. Output of :meth:`Forecaster.predict`: ``unique_id, ds, forecast``
plus one column per requested quantile, named by :func:`quantile_column` (``q0.1``, ``q0.9``).

Covariates come in three kinds, declared by each model's :class:`Capabilities`:
- future-known (price, promo, calendar): present in ``df`` and in ``X_future`` for the horizon;
- past-only (text signals, web traffic): present in ``df`` only; a model uses their lags;
- static (category, store): one value per series, passed as ``static_df``.
A model ignores the kinds it does not support, so every model can be fed the same frame.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError, InputError
from trendcast.frame import FORECAST, ID, TARGET, TIME, check_quantiles, quantile_column

__all__ = [
    "FORECAST", "ID", "TARGET", "TIME", "Capabilities", "Forecaster", "check_long_frame",
    "check_quantiles", "free_cores", "quantile_column",
]  # the frame names are re-exported: models import them from here


@dataclass(frozen=True)
class Capabilities:
    """What a model can use and produce; checked by the conformance test."""

    future_covariates: bool = False
    past_covariates: bool = False
    static_covariates: bool = False
    native_quantiles: bool = False  # False: quantiles come from conformal residuals
    intermittent: bool = False  # designed for many zeros (Croston family)
    global_model: bool = False  # one model across all series
    # ``fit`` trains for at most ``max_seconds`` (a parameter) when given, and sets ``trained_``:
    # whether the training replaced the starting weights (it may not beat them, or not run)
    time_capped: bool = False


def clearly_better(alt: np.ndarray, base: np.ndarray, errors: float = 1.0) -> bool:
    """Whether the losses ``alt`` beat ``base`` by more than ``errors`` standard errors of their
    paired difference (by default the one-standard-error rule): a lower mean over a few backtest
    windows, or a few validation steps, is often luck, and luck does not carry over to the
    forecast. Auto mode chooses with it, and fine-tuning keeps its tuned weights by it."""
    d = np.asarray(alt, dtype=float) - np.asarray(base, dtype=float)
    d = d[np.isfinite(d)]
    if len(d) < 2:
        return False
    return bool(d.mean() + errors * d.std(ddof=1) / np.sqrt(len(d)) < 0)


def free_cores() -> int:
    """Cores a model's threads or worker processes can expect: the machine's, less those other
    programs keep busy, at least one. On a shared 2-core machine AutoETS with two workers ran 3x
    longer than two free cores predict, and LightGBM's OpenMP threads spin when they share a core.
    Others' load is the 1-minute load average beyond this process, capped by the tasks running
    right now: the average still counts for a minute the worker processes auto itself just ran."""
    n = os.cpu_count() or 1
    try:
        others = max(os.getloadavg()[0] - 1.0, 0.0)
    except OSError:  # pragma: no cover - no load average on this platform
        others = 0.0
    running = _running_tasks()
    if running is not None:
        others = min(others, max(running - 1, 0))
    return int(np.clip(round(n - others), 1, n))


def _running_tasks() -> int | None:
    """Tasks running or ready to run this instant, this one included (Linux; None elsewhere)."""
    try:
        return int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return None


def check_long_frame(df: pd.DataFrame, what: str = "training data") -> None:
    """Fail early, in words, when a frame is not in the long format."""
    missing = [c for c in (ID, TIME, TARGET) if c not in df.columns]
    if missing:
        raise InputError(f"{what} lacks column(s) {missing}; expected unique_id, ds, y.")
    if df.empty:
        raise InputError(f"{what} is empty.")
    if df[TARGET].isna().any():
        raise InputError(f"{what} has missing y values; fill or drop them first.", column=TARGET)


class Forecaster(ABC):
    """Base class. Subclasses set ``name`` and ``capabilities`` and implement ``_fit``/``_predict``.

    ``season_length`` is the main seasonal period in steps (7 for daily data with a weekly
    cycle); ``freq`` is a pandas frequency string.
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, season_length: int = 7, freq: str = "D", **params: object) -> None:
        self.season_length = int(season_length)
        self.freq = freq
        self.params = params
        self.fitted_ = False

    # -- public API ------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None = None) -> Self:
        check_long_frame(df)
        if not pd.MultiIndex.from_frame(df[[ID, TIME]]).is_monotonic_increasing:
            df = df.sort_values([ID, TIME])  # a sorted frame (the usual case) is not copied
        df = df.reset_index(drop=True)
        self.covariates_ = [c for c in df.columns if c not in (ID, TIME, TARGET)]
        self.last_ds_ = df.groupby(ID)[TIME].max()
        self._fit(df, static_df)
        self.fitted_ = True
        return self

    def predict(
        self,
        h: int,
        X_future: pd.DataFrame | None = None,
        quantiles: Sequence[float] | None = None,
    ) -> pd.DataFrame:
        if not self.fitted_:
            raise ConfigError(f"Model '{self.name}' must be fitted before predicting.")
        if h < 1:
            raise ConfigError(f"Horizon must be at least 1 step; got {h}.")
        qs = check_quantiles(quantiles)
        out = self._predict(h, X_future, qs)
        out = out.sort_values([ID, TIME]).reset_index(drop=True)
        return self._tidy(out, qs)

    # -- for subclasses ----------------------------------------------------------------------
    @abstractmethod
    def _fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> None: ...

    @abstractmethod
    def _predict(self, h: int, X_future: pd.DataFrame | None, quantiles: list[float]) -> pd.DataFrame:
        """Return ``unique_id, ds, forecast`` and, when ``quantiles`` is non-empty, the quantile columns."""

    def future_dates(self, h: int) -> pd.DataFrame:
        """The ``unique_id, ds`` grid of the next ``h`` steps after each series' last date."""
        offset = pd.tseries.frequencies.to_offset(self.freq)
        rows = [
            pd.DataFrame({ID: uid, TIME: pd.date_range(last + offset, periods=h, freq=self.freq)})
            for uid, last in self.last_ds_.items()
        ]
        return pd.concat(rows, ignore_index=True)

    @staticmethod
    def _tidy(out: pd.DataFrame, quantiles: list[float]) -> pd.DataFrame:
        """Demand is never negative and quantiles never cross: enforce both once, here."""
        cols = [FORECAST] + [quantile_column(q) for q in quantiles]
        out[cols] = np.clip(out[cols].to_numpy(dtype=float), 0.0, None)
        if quantiles:
            qcols = [quantile_column(q) for q in quantiles]
            out[qcols] = np.sort(out[qcols].to_numpy(), axis=1)
        return out[[ID, TIME, *cols]]
