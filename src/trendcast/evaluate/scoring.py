"""Fast scoring of backtest windows across the hierarchy, for auto mode's many comparisons.

Auto mode scores every candidate, every combination strategy and every leave-one-window-out
fold on the metric the user is judged by: the M5 WRMSSE over the hierarchy levels (total,
store, category, ... down to the bottom series) plus MASE at the bottom. Scoring through
:func:`trendcast.evaluate.metrics.wrmsse` (pandas group-bys per call) would cost seconds per
call; here each window's scales, revenue weights and summing matrices are computed once, and a
forecast is then scored by a sparse matrix product. The definitions are the same as in
:mod:`trendcast.evaluate.metrics` (M5 scale from the first non-zero sale, revenue weights over
the last ``weight_days`` days before the cutoff, levels averaged with equal weight).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from trendcast.evaluate.metrics import CUTOFF
from trendcast.models.base import FORECAST, ID, TARGET, TIME

BOTTOM = "bottom"


def default_levels(history: pd.DataFrame) -> dict[str, pd.Series]:
    """Hierarchy levels (name -> Series bottom uid -> level id) from the panel's columns.

    With ``item_id`` and ``category`` the shop's hierarchy of :mod:`trendcast.evaluate.hierarchy`
    (total, store, category, store x category, item, store x item; the store levels only when
    there are stores); otherwise the total and the series.
    """
    from trendcast.evaluate.hierarchy import LEVELS_NO_STORES, LEVELS_WITH_STORES

    ids = pd.Index(history[ID].unique())
    if not {"item_id", "category"} <= set(history.columns):
        levels = {"total": pd.Series("total", index=ids)}
        if len(ids) > 1:
            levels[BOTTOM] = pd.Series(ids, index=ids)
        return levels
    cols = [c for c in ("store_id", "category", "item_id") if c in history.columns]
    st = history.drop_duplicates(ID).set_index(ID)[cols].reindex(ids).astype(str)
    has_stores = "store_id" in st.columns and (st["store_id"].replace("nan", "") != "").any()
    spec = LEVELS_WITH_STORES if has_stores else LEVELS_NO_STORES
    out = {}
    for i, (name, parts) in enumerate(spec.items()):
        parts = [p for p in parts if p != "total"]
        if i == len(spec) - 1:
            out[name] = pd.Series(ids, index=ids)
        elif not parts:
            out[name] = pd.Series("total", index=ids)
        else:
            out[name] = st[parts].apply(lambda col: col.name + ":" + col).agg("/".join, axis=1)
    return out


@dataclass
class Window:
    """One backtest window: actuals and every candidate's forecasts as ``(series, step)`` arrays."""

    cutoff: pd.Timestamp
    ids: np.ndarray
    dates: pd.DatetimeIndex
    y: np.ndarray  # NaN where the series has no actual (ended before the window)
    preds: dict[str, np.ndarray]
    scorer: WindowScorer | None = None
    agg_y: dict[str, np.ndarray] = field(default_factory=dict)  # actuals summed up each level
    agg_preds: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # model -> level -> sums
    stack: tuple[np.ndarray, np.ndarray] | None = None  # stacking rows, columns in sorted model order

    def prepare(self, scorer: WindowScorer) -> None:
        """Score once what every comparison reuses: level sums and stacking rows."""
        self.scorer = scorer
        self.agg_y = scorer.aggregate(self.y, self.y)
        models = sorted(self.preds)
        self.agg_preds = {m: scorer.aggregate(self.preds[m], self.y) for m in models}
        self.stack = scorer.stack_rows([self.preds[m] for m in models], self.y)

    def combo_scores(self, coef: Mapping[str, float]) -> dict[str, float]:
        """Level WRMSSE of ``sum(coef[m] * forecast_m)`` from the cached level sums."""
        agg = {lv: sum(c * self.agg_preds[m][lv] for m, c in coef.items() if c) for lv in self.agg_y}
        agg = {lv: (a if isinstance(a, np.ndarray) else np.zeros_like(self.agg_y[lv])) for lv, a in agg.items()}
        return self.scorer.score_aggregates(agg, self.agg_y)

    @property
    def mask(self) -> np.ndarray:
        return ~np.isnan(self.y)


def windows_from_forecasts(forecasts: pd.DataFrame) -> list[Window]:
    """Backtest forecasts (``model, cutoff, unique_id, ds, y, forecast``) as aligned arrays.

    A candidate that produced nothing for a cell (failed on that series) is filled with the
    mean of the other candidates there, so every candidate covers every cell.
    """
    out = []
    for cutoff, fc in forecasts.groupby(CUTOFF, sort=True):
        ids, id_codes = np.unique(fc[ID].to_numpy(), return_inverse=True)
        date_vals, date_codes = np.unique(fc[TIME].to_numpy(), return_inverse=True)
        y = np.full((len(ids), len(date_vals)), np.nan)
        y[id_codes, date_codes] = fc[TARGET].to_numpy(dtype=float)
        preds = {}
        models = fc["model"].to_numpy()
        for model in np.unique(models):
            sel = models == model
            p = np.full(y.shape, np.nan)
            p[id_codes[sel], date_codes[sel]] = fc[FORECAST].to_numpy(dtype=float)[sel]
            preds[str(model)] = p
        stack = np.stack(list(preds.values()))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fill = np.nan_to_num(np.nanmean(stack, axis=0))
        preds = {m: np.where(np.isnan(p), fill, p) for m, p in preds.items()}
        out.append(Window(pd.Timestamp(cutoff), ids, pd.DatetimeIndex(date_vals), y, preds))
    return out


@dataclass
class LevelData:
    matrix: sparse.csr_matrix  # groups x series
    scale: np.ndarray  # M5 scale per group (NaN: no scale, left out)
    weight: np.ndarray  # revenue share per group, renormalised over groups with a scale


@dataclass
class WindowScorer:
    """WRMSSE across levels and bottom MASE for forecasts of one window."""

    levels: dict[str, LevelData]
    mase_scale: np.ndarray  # per bottom series
    h: int
    names: list[str] = field(default_factory=list)

    def aggregate(self, values: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """``values`` summed up every level, on the cells that have an actual."""
        v = np.where(np.isnan(y), 0.0, values)
        return {name: lv.matrix @ v for name, lv in self.levels.items()}

    def score_aggregates(self, agg_pred: Mapping[str, np.ndarray], agg_y: Mapping[str, np.ndarray]) -> dict[str, float]:
        """WRMSSE of each level from forecasts and actuals already summed up the levels (the
        sums are linear, so a weighted combination's sums are the weighted sums: no re-aggregation)."""
        out = {}
        for name, lv in self.levels.items():
            mse = np.mean((agg_y[name] - agg_pred[name]) ** 2, axis=1)
            ok = np.isfinite(lv.scale)
            out[name] = float(np.sum(lv.weight[ok] * np.sqrt(mse[ok] / lv.scale[ok]))) if ok.any() else np.nan
        return out

    def level_scores(self, pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """WRMSSE of each level for ``pred`` against ``y`` (both ``series x steps``)."""
        mask = ~np.isnan(y)
        yz, pz = np.where(mask, y, 0.0), np.where(mask, pred, 0.0)
        out = {}
        for name, lv in self.levels.items():
            diff = lv.matrix @ (yz - pz)
            mse = np.mean(diff**2, axis=1)
            ok = np.isfinite(lv.scale)
            out[name] = float(np.sum(lv.weight[ok] * np.sqrt(mse[ok] / lv.scale[ok]))) if ok.any() else np.nan
        return out

    def wrmsse(self, pred: np.ndarray, y: np.ndarray) -> float:
        return float(np.nanmean(list(self.level_scores(pred, y).values())))

    def series_mase(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        """MASE per bottom series (NaN for series without actuals in the window)."""
        with np.errstate(all="ignore"):
            mae = np.nanmean(np.abs(np.where(np.isnan(y), np.nan, y - pred)), axis=1)
        return mae / self.mase_scale

    def stack_rows(self, preds: list[np.ndarray], y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of a least-squares problem whose loss is the squared-error analogue of WRMSSE.

        Each aggregated series' errors are weighted by ``weight / (levels x h x scale)``, so
        minimising ``||F w - t||²`` over combination weights ``w`` trades off the levels the way
        WRMSSE does (squared rather than rooted, which keeps the problem a least-squares one).
        """
        mask = ~np.isnan(y)
        yz = np.where(mask, y, 0.0)
        pzs = [np.where(mask, p, 0.0) for p in preds]
        feats, target = [], []
        n_levels = len(self.levels)
        for lv in self.levels.values():
            ok = np.isfinite(lv.scale)
            if not ok.any():
                continue
            c = np.sqrt(lv.weight[ok] / (n_levels * self.h * lv.scale[ok]))[:, None]
            target.append(((lv.matrix @ yz)[ok] * c).ravel())
            feats.append(np.column_stack([((lv.matrix @ p)[ok] * c).ravel() for p in pzs]))
        return np.vstack(feats), np.concatenate(target)


def _m5_scale(agg: np.ndarray) -> np.ndarray:
    """Mean squared one-step change from each row's first non-zero value (NaN when none/zero)."""
    started = np.maximum.accumulate(np.abs(agg) > 0, axis=1)
    d = np.diff(agg, axis=1) ** 2
    live = started[:, :-1]  # a change counts once the series has started
    n = live.sum(axis=1)
    with np.errstate(all="ignore"):
        s = np.where(live, d, 0.0).sum(axis=1) / n
    return np.where((n > 0) & (s > 0), s, np.nan)


def build_scorer(
    window: Window,
    history: pd.DataFrame,
    levels: Mapping[str, pd.Series],
    season_length: int,
    weight_days: int = 28,
) -> WindowScorer:
    """Scales and weights of one window from the history up to its cutoff (nothing later)."""
    hist = history[history[TIME] <= window.cutoff]
    hist = hist[hist[ID].isin(window.ids)]
    wide = hist.pivot_table(index=ID, columns=TIME, values=TARGET, aggfunc="sum")
    wide = wide.reindex(index=window.ids).fillna(0.0)
    values = wide.to_numpy(dtype=float)
    dates = pd.DatetimeIndex(wide.columns)
    if "price" in hist.columns and hist["price"].notna().all():
        rev = hist.assign(_r=hist[TARGET] * hist["price"]).pivot_table(index=ID, columns=TIME, values="_r", aggfunc="sum")
        revenue = rev.reindex(index=window.ids, columns=dates).fillna(0.0).to_numpy(dtype=float)
    else:
        revenue = values
    recent = dates > window.cutoff - pd.Timedelta(days=weight_days)
    if not recent.any():
        recent[-1:] = True
    recent_rev = revenue[:, recent].sum(axis=1)
    n = len(window.ids)
    out: dict[str, LevelData] = {}
    for name, key in levels.items():
        codes, uniques = pd.factorize(pd.Series(key).reindex(window.ids).fillna("unknown"))
        matrix = sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(len(uniques), n))
        scale = _m5_scale(matrix @ values)
        w = matrix @ recent_rev
        w = np.where(np.isfinite(scale), w, 0.0)
        w = w / w.sum() if w.sum() > 0 else np.isfinite(scale) / max(np.isfinite(scale).sum(), 1)
        out[name] = LevelData(matrix, scale, w)
    lag = min(season_length, max(values.shape[1] - 1, 1))
    started = np.maximum.accumulate(values > 0, axis=1)
    seasonal = np.abs(values[:, lag:] - values[:, :-lag]) if values.shape[1] > lag else np.zeros((n, 1))
    live = started[:, : seasonal.shape[1]]
    with np.errstate(all="ignore"):
        mase_scale = np.where(live, seasonal, 0.0).sum(axis=1) / live.sum(axis=1)
    mase_scale = np.where(np.isfinite(mase_scale) & (mase_scale > 0), mase_scale, 1.0)
    return WindowScorer(out, mase_scale, len(window.dates), list(levels))
