"""Rolling-origin backtests over any :class:`~trendcast.models.base.Forecaster`.

For each cutoff the model is trained only on rows with ``ds <= cutoff``; for the next ``h``
steps it receives only the future-known covariates (price, promo, ...). Past-only covariates
(text signals, traffic) are cut at the cutoff with everything else, so nothing after the cutoff
reaches the model. One generic loop serves every model, so statistical, LightGBM and neural
models are scored in exactly the same way.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError, InputError
from trendcast.evaluate.hierarchy import Hierarchy, aggregate_panel, reconcile
from trendcast.evaluate.metrics import CUTOFF, evaluate
from trendcast.models.base import ID, TARGET, TIME, Forecaster
from trendcast.models.registry import make_model

log = logging.getLogger(__name__)

# Covariates whose future values a shop knows (it sets prices and plans promotions).
DEFAULT_FUTURE_KNOWN: tuple[str, ...] = ("price", "promo")
# Panel columns that describe a series rather than a day: passed as static_df, not as covariates.
STATIC_COLUMNS: tuple[str, ...] = ("item_id", "store_id", "category")
FINAL_FIT_FACTOR = 1.15  # the final fit sees a little more data than a backtest window (its cost, in windows)

ModelSpec = str | Forecaster | Callable[[], Forecaster]


def model_name(spec: ModelSpec) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, Forecaster):
        return spec.name or type(spec).__name__
    return getattr(spec, "__name__", "model")


def new_model(spec: ModelSpec, **params: object) -> Forecaster:
    """A fresh, unfitted model for one window (a given instance is deep-copied, never refitted)."""
    if isinstance(spec, str):
        return make_model(spec, **params)
    if isinstance(spec, Forecaster):
        return copy.deepcopy(spec)
    return spec()


def model_frame(panel: pd.DataFrame) -> pd.DataFrame:
    """The columns a model sees: ids, target and numeric covariates (static columns dropped)."""
    covs = [
        c
        for c in panel.columns
        if c not in (ID, TIME, TARGET, CUTOFF, *STATIC_COLUMNS) and pd.api.types.is_numeric_dtype(panel[c])
    ]
    return panel[[ID, TIME, TARGET, *covs]]


def static_of(panel: pd.DataFrame) -> pd.DataFrame | None:
    cols = [c for c in STATIC_COLUMNS if c in panel.columns]
    return panel[[ID, *cols]].drop_duplicates(ID).reset_index(drop=True) if cols else None


def min_history(season_length: int, h: int) -> int:
    """Fewest observations a series needs before a cutoff to be scored in that window: two
    seasons, or one season plus the horizon where that is less (a weekly shop need not wait
    104 weeks, a monthly one 24 months, for its first backtest)."""
    return min(2 * season_length, season_length + h)


def make_cutoffs(last: pd.Timestamp, h: int, windows: int, step: int, freq: str) -> list[pd.Timestamp]:
    """Cutoffs so the last window ends at ``last``; earlier windows start ``step`` steps apart."""
    if h < 1 or windows < 1 or step < 1:
        raise ConfigError(f"Backtest needs horizon, windows and step >= 1; got {h}, {windows}, {step}.")
    offset = pd.tseries.frequencies.to_offset(freq)
    return [pd.Timestamp(last) - (h + step * (windows - 1 - i)) * offset for i in range(windows)]


def split_at(
    panel: pd.DataFrame, cutoff: pd.Timestamp, h: int, freq: str, future_known: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(train, X_future, actuals)`` for one cutoff: train has ``ds <= cutoff`` only."""
    end = cutoff + h * pd.tseries.frequencies.to_offset(freq)
    train = panel[panel[TIME] <= cutoff]
    future = panel[(panel[TIME] > cutoff) & (panel[TIME] <= end)]
    known = [c for c in future_known if c in panel.columns]
    ids = train[ID].unique()
    future = future[future[ID].isin(ids)]
    return train, future[[ID, TIME, *known]].reset_index(drop=True), future[[ID, TIME, TARGET]]


def fit_predict(
    spec: ModelSpec,
    train: pd.DataFrame,
    h: int,
    X_future: pd.DataFrame | None,
    quantiles: Sequence[float] | None,
    *,
    hierarchy: Hierarchy | None = None,
    reconcile_method: str = "none",
    future_known: Sequence[str] = DEFAULT_FUTURE_KNOWN,
    params: dict[str, object] | None = None,
) -> tuple[pd.DataFrame, Forecaster]:
    """Fit one model and forecast ``h`` steps for the bottom series (reconciled when asked).

    With ``mint`` the model also forecasts every aggregated series of the hierarchy (their
    covariates averaged) and MinTrace combines all levels; ``bottom_up`` and ``none`` need
    only the bottom forecasts. Returns the forecasts of every series produced and the model.
    """
    params = params or {}
    model = new_model(spec, **params)
    if reconcile_method == "mint":
        if hierarchy is None:
            raise ConfigError("MinTrace reconciliation needs the product hierarchy.")
        known = [c for c in future_known if c in train.columns]
        data = aggregate_panel(train, hierarchy, known)
        xf = None
        if X_future is not None and known:
            xf = aggregate_panel(X_future.assign(**{TARGET: 0.0}), hierarchy, known).drop(columns=TARGET)
        model.fit(data)
        base = model.predict(h, X_future=xf, quantiles=quantiles)
        return reconcile(base, hierarchy, "mint"), model
    model.fit(model_frame(train), static_df=static_of(train))
    return model.predict(h, X_future=X_future, quantiles=quantiles), model


@dataclass
class BacktestResult:
    """Forecasts of every window (``model, cutoff, unique_id, ds, y, forecast, q...``) and scores."""

    forecasts: pd.DataFrame
    metrics: dict[str, object]
    cutoffs: list[pd.Timestamp]
    errors: dict[str, str] = field(default_factory=dict)

    def leaderboard(self, level: str | None = None) -> pd.DataFrame:
        """One row per model (and level): the headline numbers, best WRMSSE/MASE first."""
        return leaderboard(self.metrics, level)


def backtest(
    panel: pd.DataFrame,
    models: Sequence[ModelSpec],
    h: int,
    windows: int = 2,
    step: int | None = None,
    quantiles: Sequence[float] | None = None,
    *,
    season_length: int = 7,
    freq: str = "D",
    future_known: Sequence[str] = DEFAULT_FUTURE_KNOWN,
    hierarchy: Hierarchy | None = None,
    reconcile_method: str = "none",
    min_train: int | None = None,
    model_params: dict[str, dict[str, object]] | None = None,
    on_step: Callable[[str], None] | None = None,
    trend_threshold: float = 0.05,
) -> BacktestResult:
    """Rolling-origin backtest of ``models`` on ``panel`` (the long frame of the warehouse).

    ``step`` defaults to ``h`` (back-to-back windows). Series with fewer than ``min_train``
    observations at a cutoff (default :func:`min_history`) are left out of that window, and a
    window none of them reaches is skipped (listed in ``metrics["config"]["skipped_cutoffs"]``).
    A model that fails is recorded in ``errors`` and skipped, so one broken model does not sink
    the run.
    """
    for col in (ID, TIME, TARGET):
        if col not in panel.columns:
            raise InputError(f"The backtest panel lacks column '{col}'.")
    step = h if step is None else step
    min_train = min_history(season_length, h) if min_train is None else min_train
    panel = panel.sort_values([ID, TIME]).reset_index(drop=True)
    cutoffs = make_cutoffs(panel[TIME].max(), h, windows, step, freq)
    first = panel.groupby(ID)[TIME].min()
    if cutoffs[0] <= first.min():
        raise ConfigError(
            f"Not enough history for {windows} windows of {h} steps: the first cutoff "
            f"{cutoffs[0].date()} is before any sales. Use fewer windows or a shorter horizon."
        )
    longest = {c: int((panel[TIME] <= c).groupby(panel[ID]).sum().max()) for c in cutoffs}
    skipped = [c for c in cutoffs if longest[c] < min_train]
    if len(skipped) == len(cutoffs):
        raise ConfigError(
            f"Not enough history to backtest: a series needs {min_train} periods before a window's "
            f"cutoff, and the longest has {longest[cutoffs[-1]]} before the last one "
            f"({cutoffs[-1].date()}). Use a shorter horizon, or backtest when more history has arrived."
        )
    cutoffs = [c for c in cutoffs if c not in skipped]
    rows: list[pd.DataFrame] = []
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    base_params = {"season_length": season_length, "freq": freq}
    for cutoff in cutoffs:
        train, xf, actual = split_at(panel, cutoff, h, freq, future_known)
        n_obs = train.groupby(ID).size()
        keep = n_obs.index[n_obs >= min_train]
        train = train[train[ID].isin(keep)]
        xf, actual = xf[xf[ID].isin(keep)], actual[actual[ID].isin(keep)]
        for spec in models:
            name = model_name(spec)
            if name in errors:
                continue
            if on_step:
                on_step(f"{name} @ {cutoff.date()}")
            params = {**base_params, **((model_params or {}).get(name, {}))}
            start = time.perf_counter()
            try:
                fc, _ = fit_predict(
                    spec, train, h, xf if len(xf.columns) > 2 else None, quantiles,
                    hierarchy=hierarchy, reconcile_method=reconcile_method,
                    future_known=future_known, params=params if isinstance(spec, str) else None,
                )
            except Exception as exc:  # noqa: BLE001 - recorded and reported, run continues
                log.warning("model %s failed at cutoff %s: %s", name, cutoff.date(), exc)
                errors[name] = f"{type(exc).__name__}: {exc}"
                continue
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
            fc = fc[fc[ID].isin(keep)].merge(actual, on=[ID, TIME], how="inner")
            fc.insert(0, CUTOFF, cutoff)
            fc.insert(0, "model", name)
            rows.append(fc)
    if not rows:
        raise ConfigError(f"Every model failed in the backtest: {errors}")
    forecasts = pd.concat(rows, ignore_index=True)
    metrics = score_backtest(
        forecasts, panel, season_length, hierarchy, trend_threshold=trend_threshold
    )
    for name, secs in seconds.items():
        metrics["models"][name]["fit_predict_seconds"] = round(secs, 3)
    metrics["config"] = {
        "horizon": h, "windows": windows, "step": step, "freq": freq,
        "season_length": season_length, "cutoffs": [str(c.date()) for c in cutoffs],
        "skipped_cutoffs": [str(c.date()) for c in skipped], "min_train": min_train,
        "future_known": [c for c in future_known if c in panel.columns],
        "reconcile": reconcile_method, "quantiles": list(quantiles or []),
    }
    metrics["errors"] = errors
    return BacktestResult(forecasts, metrics, cutoffs, errors)


def score_backtest(
    forecasts: pd.DataFrame,
    history: pd.DataFrame,
    season_length: int,
    hierarchy: Hierarchy | None,
    trend_threshold: float = 0.05,
) -> dict[str, object]:
    """Metrics per model (bottom series, trend calls and, with a hierarchy, every level)."""
    levels = hierarchy.keys if hierarchy is not None else None
    hist_cols = [c for c in (ID, TIME, TARGET, "price") if c in history.columns]
    out: dict[str, object] = {"models": {}}
    for name, fc in forecasts.groupby("model", sort=False):
        fc = fc.drop(columns="model").dropna(axis=1, how="all")
        out["models"][name] = evaluate(
            fc, history[hist_cols], season_length, levels=levels, trend_threshold=trend_threshold
        )
    return out


def leaderboard(metrics: dict[str, object], level: str | None = None) -> pd.DataFrame:
    """A table of the headline numbers per model (bottom level unless ``level`` is given)."""
    rows = []
    for name, m in metrics["models"].items():
        src = m["levels"][level] if level else m["bottom"]
        rows.append(
            {
                "model": name,
                "wrmsse": m.get("wrmsse", np.nan),
                "mase": src.get("mase", np.nan),
                "rmsse": src.get("rmsse", np.nan),
                "mae": src.get("mae", np.nan),
                "smape": src.get("smape", np.nan),
                "pinball": m["bottom"].get("pinball_mean", np.nan),
                "trend_macro_f1": m["trend"]["macro_f1"],
                "seconds": m.get("fit_predict_seconds", np.nan),
            }
        )
    table = pd.DataFrame(rows)
    sort_by = "wrmsse" if table["wrmsse"].notna().any() else "mase"
    return table.sort_values(sort_by).reset_index(drop=True)

