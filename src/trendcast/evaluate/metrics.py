"""Forecast accuracy metrics, vectorised over a long frame of forecasts and actuals.

Input frames:
- ``fc``: ``unique_id, ds, y, forecast`` plus optional quantile columns (``q0.1``...) and an
  optional ``cutoff`` column (one value per backtest window);
- ``train``: the history ``unique_id, ds, y`` (optionally ``price``); with a ``cutoff`` column
  in ``fc`` only rows with ``ds <= cutoff`` count for that window, so one full history serves
  every window without leaking.

Point and quantile losses come from :mod:`utilsforecast.losses`. Our own code covers what no
library provides: the M5 WRMSSE across a hierarchy and the rising/flat/falling trend scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from utilsforecast import losses

from trendcast.frame import CUTOFF, FORECAST, ID, TARGET, TIME, quantile_column

TREND_CLASSES = ("falling", "flat", "rising")


def _groups(df: pd.DataFrame) -> list[str]:
    return [CUTOFF, ID] if CUTOFF in df.columns else [ID]


def _sorted_train(train: pd.DataFrame) -> pd.DataFrame:
    return train[[ID, TIME, TARGET]].sort_values([ID, TIME]).reset_index(drop=True)


def quantile_pairs(quantiles: Sequence[float]) -> list[tuple[float, float, float]]:
    """Symmetric pairs ``(lo, hi, nominal)``: q0.05 with q0.95 makes a 90% interval."""
    qs = sorted(quantiles)
    out = []
    for lo in qs:
        hi = round(1.0 - lo, 10)
        if lo < 0.5 and any(abs(hi - q) < 1e-9 for q in qs):
            out.append((lo, next(q for q in qs if abs(hi - q) < 1e-9), round(hi - lo, 10)))
    return out


def fc_quantiles(fc: pd.DataFrame) -> list[float]:
    """Quantile levels present as ``qX`` columns in a forecast frame."""
    out = []
    for col in fc.columns:
        if col.startswith("q"):
            try:
                out.append(float(col[1:]))
            except ValueError:
                continue
    return sorted(out)


def per_series(
    fc: pd.DataFrame,
    train: pd.DataFrame,
    season_length: int,
) -> pd.DataFrame:
    """One row per series (and cutoff): MAE, RMSE, MASE, sMAPE (%), RMSSE, pinball and coverage.

    MASE and RMSSE are scaled by the in-sample seasonal-naive error of the training part; a
    series whose training part is constant has no scale and gets NaN there (not infinity).
    """
    fc = fc.sort_values([*_groups(fc), TIME]).reset_index(drop=True)
    train = _sorted_train(train)
    keys = _groups(fc)
    m = [FORECAST]
    out = losses.mae(fc, m).rename(columns={FORECAST: "mae"})
    parts = [
        losses.rmse(fc, m).rename(columns={FORECAST: "rmse"}),
        losses.mase(fc, m, season_length, train).rename(columns={FORECAST: "mase"}),
        losses.smape(fc, m).rename(columns={FORECAST: "smape"}),
        losses.rmsse(fc, m, season_length, train).rename(columns={FORECAST: "rmsse"}),
    ]
    qs = fc_quantiles(fc)
    for q in qs:
        col = quantile_column(q)
        parts.append(losses.quantile_loss(fc, {f"pinball_{col}": col}, q=q))
    for part in parts:
        out = out.merge(part, on=keys, how="left")
    out["smape"] = out["smape"] * 200.0  # utilsforecast returns mean |e|/(|y|+|f|); percent 0-200
    for col in ("mase", "rmsse"):
        out[col] = out[col].replace([np.inf, -np.inf], np.nan)
    if qs:
        out["pinball_mean"] = out[[f"pinball_{quantile_column(q)}" for q in qs]].mean(axis=1)
    for lo, hi, nominal in quantile_pairs(qs):
        inside = fc[TARGET].between(fc[quantile_column(lo)], fc[quantile_column(hi)])
        cov = inside.groupby([fc[k] for k in keys]).mean().rename(f"coverage_{nominal:g}")
        out = out.merge(cov.reset_index(), on=keys, how="left")
    return out


def summarise(table: pd.DataFrame) -> dict[str, float]:
    """Mean of each metric over series (and windows), ignoring series without a scale."""
    cols = [c for c in table.columns if c not in (ID, CUTOFF)]
    res = {c: float(np.nanmean(table[c].to_numpy(dtype=float))) for c in cols if table[c].notna().any()}
    res["n_series"] = int(table[ID].nunique())
    return res


# -- WRMSSE --------------------------------------------------------------------------------
def _revenue(train: pd.DataFrame) -> pd.Series:
    """Units x price where every row has a price, else units (M5 uses dollar sales)."""
    if "price" in train.columns and train["price"].notna().all():
        return train[TARGET] * train["price"]
    return train[TARGET].astype(float)


def _level_frame(df: pd.DataFrame, key: pd.Series, cols: list[str]) -> pd.DataFrame:
    """Sum ``cols`` of bottom series into the level's series named by ``key`` (uid -> group)."""
    d = df.assign(**{ID: df[ID].map(key)})
    by = [c for c in (CUTOFF, ID, TIME) if c in d.columns]
    return d.groupby(by, as_index=False, sort=True)[cols].sum()


def rmsse_m5(fc: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """RMSSE per series with the M5 scale: one-step naive MSE from the first non-zero sale."""
    train = _sorted_train(train)
    started = train.groupby(ID)[TARGET].transform(lambda s: (s.abs() > 0).cumsum() > 0)
    train = train[started]
    fc = fc.sort_values([*_groups(fc), TIME]).reset_index(drop=True)
    res = losses.rmsse(fc, [FORECAST], 1, train).rename(columns={FORECAST: "rmsse"})
    res["rmsse"] = res["rmsse"].replace([np.inf, -np.inf], np.nan)
    return res


def wrmsse(
    fc: pd.DataFrame,
    train: pd.DataFrame,
    levels: Mapping[str, pd.Series],
    weight_days: int = 28,
) -> dict[str, object]:
    """The M5 weighted RMSSE over hierarchy levels.

    ``levels`` maps a level name to a Series (bottom unique_id -> that level's series id).
    Per level: each aggregated series gets RMSSE (M5 scale) and a weight equal to its share of
    revenue (units x price, or units when prices are missing) over the last ``weight_days``
    days of its training part; the level score is the weighted sum. WRMSSE is the plain mean
    of the level scores. Series without a scale (constant history) are left out and the
    remaining weights renormalised. With a ``cutoff`` column the score is averaged over windows.
    """
    train = train.copy()
    train["revenue"] = _revenue(train)
    cutoffs = sorted(fc[CUTOFF].unique()) if CUTOFF in fc.columns else [None]
    per_level: dict[str, dict[str, float]] = {}
    for name, key in levels.items():
        scores = []
        n = 0
        for cutoff in cutoffs:
            f = fc if cutoff is None else fc[fc[CUTOFF] == cutoff].drop(columns=CUTOFF)
            t = train if cutoff is None else train[train[TIME] <= cutoff]
            f_lvl = _level_frame(f, key, [TARGET, FORECAST])
            t_lvl = _level_frame(t, key, [TARGET, "revenue"])
            r = rmsse_m5(f_lvl, t_lvl).dropna()
            end = t_lvl[TIME].max() if cutoff is None else pd.Timestamp(cutoff)
            recent = t_lvl[t_lvl[TIME] > end - pd.Timedelta(days=weight_days)]
            w = recent.groupby(ID)["revenue"].sum().reindex(r[ID]).fillna(0.0).to_numpy()
            if w.sum() <= 0:
                w = np.ones(len(r))
            scores.append(float(np.sum(w / w.sum() * r["rmsse"].to_numpy())))
            n = len(r)
        per_level[name] = {"wrmsse": float(np.mean(scores)), "n_series": n}
    total = float(np.mean([v["wrmsse"] for v in per_level.values()]))
    return {"wrmsse": total, "levels": per_level}


# -- trend direction -----------------------------------------------------------------------
def _direction(rel: np.ndarray, base: np.ndarray, new: np.ndarray, threshold: float) -> np.ndarray:
    out = np.where(rel > threshold, "rising", np.where(rel < -threshold, "falling", "flat"))
    zero = base <= 0  # no sales in the reference period: any sales now is a rise
    out = np.where(zero & (new > 0), "rising", out)
    return np.where(zero & (new <= 0), "flat", out)


def trend_classes(fc: pd.DataFrame, train: pd.DataFrame, threshold: float = 0.05) -> pd.DataFrame:
    """Rising / flat / falling per series, for the forecast and for the actuals.

    Both are judged against the same reference: the mean of the last ``h`` training periods
    before the horizon (``h`` = the horizon length). A change beyond ``±threshold`` (relative)
    is a rise or a fall.
    """
    keys = _groups(fc)
    h = int(fc.groupby(keys).size().max())
    train = _sorted_train(train)
    if CUTOFF in fc.columns:
        cuts = fc[[CUTOFF, ID]].drop_duplicates()
        hist = train.merge(cuts, on=ID)
        hist = hist[hist[TIME] <= hist[CUTOFF]]
    else:
        first = fc.groupby(ID)[TIME].min().rename("first")
        hist = train.merge(first.reset_index(), on=ID)
        hist = hist[hist[TIME] < hist["first"]]
    base = hist.groupby(keys).tail(h).groupby(keys)[TARGET].mean().rename("base")
    means = fc.groupby(keys)[[FORECAST, TARGET]].mean()
    res = means.join(base, how="inner").reset_index()
    b = res["base"].to_numpy(dtype=float)
    safe = np.where(b > 0, b, 1.0)
    for col, out in ((FORECAST, "predicted"), (TARGET, "actual")):
        new = res[col].to_numpy(dtype=float)
        res[out] = _direction((new - b) / safe, b, new, threshold)
    return res[[*keys, "base", FORECAST, TARGET, "predicted", "actual"]]


def trend_scores(classes: pd.DataFrame) -> dict[str, object]:
    """Accuracy, per-class precision/recall/F1 and macro-F1 of the trend direction calls."""
    y_true, y_pred = classes["actual"], classes["predicted"]
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=list(TREND_CLASSES), zero_division=0
    )
    per_class = {
        c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, c in enumerate(TREND_CLASSES)
    }
    present = [i for i, c in enumerate(TREND_CLASSES) if s[i] > 0 or (y_pred == c).any()]
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(np.mean(f[present])) if present else float("nan"),
        "per_class": per_class,
        "n": len(classes),
    }


def evaluate(
    fc: pd.DataFrame,
    train: pd.DataFrame,
    season_length: int,
    levels: Mapping[str, pd.Series] | None = None,
    trend_threshold: float = 0.05,
    weight_days: int = 28,
) -> dict[str, object]:
    """Every metric for one model's forecasts, as a JSON-ready dict.

    Point, quantile and trend metrics are on the bottom series; with ``levels`` the WRMSSE and
    per-level MAE/RMSSE of the bottom forecasts summed up each level are added.
    """
    out: dict[str, object] = {"bottom": summarise(per_series(fc, train, season_length))}
    out["trend"] = trend_scores(trend_classes(fc, train, trend_threshold))
    if levels:
        w = wrmsse(fc, train, levels, weight_days=weight_days)
        out["wrmsse"] = w["wrmsse"]
        per_level = {}
        for name, key in levels.items():
            f_lvl = _level_frame(fc, key, [TARGET, FORECAST])
            t_lvl = _level_frame(train.assign(revenue=0.0), key, [TARGET])
            table = per_series(f_lvl, t_lvl, season_length)
            summary = summarise(table[[c for c in table.columns if c in (ID, CUTOFF, "mae", "rmse", "mase", "smape", "rmsse")]])
            summary["wrmsse"] = w["levels"][name]["wrmsse"]
            per_level[name] = summary
        out["levels"] = per_level
    return out
