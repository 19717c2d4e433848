"""Is the model still fit for purpose? Two checks that decide when ``trendcast update`` retrains.

1. Error drift: the forecasts the active model made are compared with the actuals that have
   since arrived. If live WAPE or MASE exceeds the error the model showed in its backtest by
   more than ``ratio`` (default 1.5x), with at least ``min_points`` scored points, it drifted.
2. Covariate shift: each numeric covariate's distribution in the new data is compared with the
   training window by the Population Stability Index (PSI, rule of thumb: > 0.25 is a major
   shift) and the two-sample Kolmogorov-Smirnov test (scipy). KS alone flags trivial differences
   on large samples, so a column counts as shifted when PSI exceeds its threshold or when KS
   is both significant and large (statistic >= ``ks_min``). Calendar covariates are left out:
   they are functions of the date, so new days always differ from the training window's mix
   (a week in December is not a shift); and fewer than ``min_points`` new rows are not judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp
from utilsforecast.losses import mase

from trendcast.features.fusion import CALENDAR_PREFIX
from trendcast.models.base import FORECAST, ID, TARGET, TIME

PSI_THRESHOLD = 0.25
KS_ALPHA = 0.01
KS_MIN = 0.1
ERROR_RATIO = 1.5
MIN_POINTS = 28


# -- error drift -----------------------------------------------------------------------------
def live_errors(
    forecast: pd.DataFrame, actuals: pd.DataFrame, train: pd.DataFrame, season_length: int = 7
) -> dict[str, float]:
    """WAPE and MASE of forecasts against actuals (matched on id, ds): live or backtest alike.

    MASE is scaled by each series' in-sample seasonal-naive error on ``train``; ``n_points`` is
    how many forecast points had an actual.
    """
    joined = forecast[[ID, TIME, FORECAST]].merge(actuals[[ID, TIME, TARGET]], on=[ID, TIME])
    if joined.empty:
        return {"n_points": 0, "wape": float("nan"), "mase": float("nan")}
    live_wape = float(
        np.abs(joined[TARGET] - joined[FORECAST]).sum() / max(np.abs(joined[TARGET]).sum(), 1e-9)
    )
    hist = train[train[ID].isin(joined[ID].unique())][[ID, TIME, TARGET]]
    per_series = mase(joined, [FORECAST], seasonality=season_length, train_df=hist)[FORECAST]
    per_series = per_series.replace([np.inf, -np.inf], np.nan)
    return {
        "n_points": len(joined),
        "wape": live_wape,
        "mase": float(per_series.mean()) if per_series.notna().any() else float("nan"),
    }


def error_drift(
    live: dict[str, float],
    backtest: dict[str, float],
    ratio: float = ERROR_RATIO,
    min_points: int = MIN_POINTS,
) -> dict[str, object]:
    """Compare live errors with backtest errors: drift when any live metric > ratio x backtest."""
    out: dict[str, object] = {"n_points": live.get("n_points", 0), "drift": False, "reasons": []}
    if live.get("n_points", 0) < min_points:
        out["reasons"] = [f"only {live.get('n_points', 0)} new points (< {min_points}); not judged"]
        return out
    reasons = []
    for metric in ("wape", "mase"):
        now, ref = live.get(metric), backtest.get(metric)
        out[f"live_{metric}"], out[f"backtest_{metric}"] = now, ref
        if now is None or ref is None or not np.isfinite(now) or not np.isfinite(ref) or ref <= 0:
            continue
        out[f"{metric}_ratio"] = now / ref
        if now > ratio * ref:
            reasons.append(f"live {metric.upper()} {now:.3f} > {ratio:g} x backtest {ref:.3f}")
    out["drift"], out["reasons"] = bool(reasons), reasons
    return out


# -- covariate shift ---------------------------------------------------------------------------
def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population Stability Index of ``current`` against ``reference``.

    Bins are reference deciles (or the distinct values, for flags and other few-valued columns);
    empty bins get a small floor so the log stays finite.
    """
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(ref) == 0 or len(cur) == 0:
        return float("nan")
    values = np.unique(ref)
    if len(values) <= bins:  # discrete column: one bin per value seen in either sample
        cats = np.union1d(values, np.unique(cur))
        ref_p = np.array([(ref == v).mean() for v in cats])
        cur_p = np.array([(cur == v).mean() for v in cats])
    else:
        edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
        ref_p = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
        cur_p = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    ref_p, cur_p = np.clip(ref_p, 1e-4, None), np.clip(cur_p, 1e-4, None)
    return float(np.sum((cur_p - ref_p) * np.log(cur_p / ref_p)))


def covariate_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str] | None = None,
    psi_threshold: float = PSI_THRESHOLD,
    ks_alpha: float = KS_ALPHA,
    ks_min: float = KS_MIN,
) -> pd.DataFrame:
    """Per covariate: ``feature, psi, ks_stat, ks_pvalue, drift`` (numeric columns in both
    frames, calendar columns left out)."""
    if columns is None:
        columns = [
            c
            for c in reference.columns
            if c not in (ID, TIME, TARGET)
            and not c.startswith(CALENDAR_PREFIX)
            and c in current.columns
            and pd.api.types.is_numeric_dtype(reference[c])
        ]
    rows = []
    for col in columns:
        ref = reference[col].dropna().to_numpy(dtype=float)
        cur = current[col].dropna().to_numpy(dtype=float)
        if len(ref) < 2 or len(cur) < 2:
            continue
        ks = ks_2samp(ref, cur)
        value = psi(ref, cur)
        shifted = bool(value > psi_threshold or (ks.pvalue < ks_alpha and ks.statistic >= ks_min))
        rows.append(
            {
                "feature": col,
                "psi": value,
                "ks_stat": float(ks.statistic),
                "ks_pvalue": float(ks.pvalue),
                "drift": shifted,
            }
        )
    return pd.DataFrame(rows, columns=["feature", "psi", "ks_stat", "ks_pvalue", "drift"])


# -- both ------------------------------------------------------------------------------------
@dataclass
class DriftReport:
    """What the checks found and whether to retrain."""

    error: dict[str, object]
    covariates: pd.DataFrame
    reasons: list[str] = field(default_factory=list)

    @property
    def drift(self) -> bool:
        return bool(self.reasons)

    def summary(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "no drift"


def check_drift(
    forecast: pd.DataFrame,
    actuals: pd.DataFrame,
    train: pd.DataFrame,
    backtest: dict[str, float],
    new_rows: pd.DataFrame,
    *,
    season_length: int = 7,
    ratio: float = ERROR_RATIO,
    min_points: int = MIN_POINTS,
    psi_threshold: float = PSI_THRESHOLD,
    ks_min: float = KS_MIN,
) -> DriftReport:
    """Run both checks: ``forecast`` (stored) vs ``actuals``; ``train`` covariates vs ``new_rows``."""
    err = error_drift(live_errors(forecast, actuals, train, season_length), backtest, ratio, min_points)
    cov = covariate_drift(train, new_rows if len(new_rows) >= min_points else new_rows.iloc[:0],
                          psi_threshold=psi_threshold, ks_min=ks_min)
    reasons = list(err["reasons"]) if err["drift"] else []
    reasons += [
        f"covariate '{r.feature}' shifted (PSI {r.psi:.2f}, KS {r.ks_stat:.2f})"
        for r in cov.itertuples()
        if r.drift
    ]
    return DriftReport(error=err, covariates=cov, reasons=reasons)
