"""Auto mode's reconciliation: bottom-up or MinT, chosen by backtest like the models.

Bottom-up makes every store, category and total forecast the sum of the item forecasts. MinT
(MinTrace with structural weights, :func:`trendcast.evaluate.hierarchy.reconcile`) also
forecasts the aggregated series themselves and combines all levels, which pays where a store
or category series is easier to forecast than the sum of its noisy items, and costs where the
aggregates' own forecasts are worse. Which holds depends on the shop, so auto mode backtests
both on its own windows with the way of using the candidates it chose, scores them with the
same WRMSSE across the hierarchy, and keeps bottom-up (the simpler) unless MinT beats it by
more than the window-to-window noise (:func:`trendcast.models.base.clearly_better`) and
by at least :data:`MIN_GAIN`.

Only aggregated series made of two or more different sets of bottom series are forecast: a
store with a single item is that item, and Walmart's department is both item and category,
so duplicates reuse one forecast instead of fitting the same data twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError
from trendcast.evaluate.backtest import FINAL_FIT_FACTOR, fit_predict, split_at
from trendcast.evaluate.hierarchy import (
    Hierarchy,
    aggregate_panel,
    build_hierarchy,
    reconcile,
    static_frame,
)
from trendcast.evaluate.metrics import CUTOFF
from trendcast.evaluate.progress import AutoStep, ProgressCallback, silent
from trendcast.evaluate.scoring import (
    build_scorer,
    default_levels,
    windows_from_forecasts,
)
from trendcast.models.base import FORECAST, ID, TARGET, TIME, clearly_better


class Combination(Protocol):
    """How auto uses its candidates (:class:`trendcast.evaluate.selection.Selection`)."""

    @property
    def models_needed(self) -> list[str]: ...

    @property
    def models_for_unseen(self) -> list[str]: ...

    def combine(self, preds: dict[str, pd.DataFrame], ids: Sequence[str]) -> pd.DataFrame: ...

RECONCILE_CHOICES = ("auto", "bottom_up", "mint")
MIN_GAIN = 0.005  # MinT must also gain this share of WRMSSE: with models that are linear in the data
# (seasonal naive, moving average) the aggregates' forecasts are the sums, and the sparse solver's
# rounding alone would otherwise look like a consistent gain


@dataclass
class Aggregates:
    """The hierarchy and which of its aggregated series need a forecast of their own."""

    hierarchy: Hierarchy
    fit_ids: list[str]  # one per distinct set of two or more bottom series
    copy_of: dict[str, str]  # aggregated id -> the series whose forecast it reuses (same members)

    @classmethod
    def of(cls, panel: pd.DataFrame) -> Aggregates:
        hierarchy = build_hierarchy(static_frame(panel))
        S = hierarchy.S.set_index(ID)
        upper = S[~S.index.isin(set(hierarchy.tags[hierarchy.bottom]))]
        members = upper.to_numpy() > 0
        cols = upper.columns.to_numpy()
        first: dict[bytes, str] = {}
        fit_ids: list[str] = []
        copy_of: dict[str, str] = {}
        for uid, row in zip(upper.index, members, strict=True):
            if row.sum() == 1:
                copy_of[uid] = str(cols[row][0])
                continue
            key = np.packbits(row).tobytes()
            if key in first:
                copy_of[uid] = first[key]
            else:
                first[key] = uid
                fit_ids.append(uid)
        return cls(hierarchy, fit_ids, copy_of)

    def panel(self, train: pd.DataFrame, known: Sequence[str]) -> pd.DataFrame:
        """The aggregated series to forecast: target summed, known covariates averaged."""
        agg = aggregate_panel(train, self.hierarchy, list(known))
        return agg[agg[ID].isin(set(self.fit_ids))].reset_index(drop=True)

    def future(self, X_future: pd.DataFrame | None, known: Sequence[str]) -> pd.DataFrame | None:
        if X_future is None or not known:
            return None
        agg = aggregate_panel(X_future.assign(**{TARGET: 0.0}), self.hierarchy, list(known)).drop(columns=TARGET)
        return agg[agg[ID].isin(set(self.fit_ids))].reset_index(drop=True)

    def mint(self, bottom: pd.DataFrame, upper: pd.DataFrame) -> pd.DataFrame:
        """Bottom forecasts reconciled by MinT with the aggregated series' own forecasts."""
        known = pd.concat([bottom, upper], ignore_index=True)
        pairs = pd.DataFrame({"_copy": list(self.copy_of), ID: list(self.copy_of.values())})
        copies = pairs.merge(known, on=ID).drop(columns=ID).rename(columns={"_copy": ID})
        base = pd.concat([known, copies], ignore_index=True)
        rec = reconcile(base, self.hierarchy, "mint")
        return rec[rec[ID].isin(set(bottom[ID]))].reset_index(drop=True)


def forecast_upper(
    agg: Aggregates, selection: Combination, train: pd.DataFrame, X_future: pd.DataFrame | None, h: int,
    known: Sequence[str], params: Callable[[str], dict[str, object]], quantiles: Sequence[float] | None = None,
) -> pd.DataFrame:
    """The chosen way of using the candidates, applied to the aggregated series."""
    upper = agg.panel(train, known)
    xu = agg.future(X_future, known)
    preds = {m: fit_predict(m, upper, h, xu, quantiles, future_known=known, params=params(m))[0]
             for m in selection.models_for_unseen}
    return selection.combine(preds, agg.fit_ids)


@dataclass
class ReconcileChoice:
    method: str  # bottom_up or mint
    scores: dict[str, list[float]]  # method -> WRMSSE on each backtest window
    note: str  # why, in words
    aggregates: Aggregates | None = None  # the hierarchy's aggregates, when the backtest built them

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "window_scores": self.scores, "note": self.note}

    def text(self) -> str:
        if not self.scores.get("mint"):
            return f"Reconciliation: {'MinT' if self.method == 'mint' else 'bottom-up'} ({self.note})."
        bu, mt = (float(np.mean(self.scores[k])) for k in ("bottom_up", "mint"))
        n = len(self.scores["mint"])
        if self.method == "mint":
            return (f"Reconciliation: MinT, because it beat bottom-up by more than the window-to-window noise "
                    f"(WRMSSE {mt:.3f} vs {bu:.3f} over {n} windows).")
        return (f"Reconciliation: bottom-up, the default (MinT {mt:.3f} vs {bu:.3f} over {n} windows"
                + (", a lower mean but not a clear gain)." if mt < bu else ")."))


def choose_reconciliation(
    panel: pd.DataFrame,
    forecasts: pd.DataFrame,
    selection: Combination,
    *,
    h: int,
    freq: str,
    season_length: int,
    future_known: Sequence[str],
    params: Callable[[str], dict[str, object]],
    costs: dict[str, float],
    time_left: float,
    on_progress: ProgressCallback = silent,
    clock: Callable[[], float] = time.perf_counter,
) -> ReconcileChoice:
    """Backtest bottom-up against MinT on the windows of ``forecasts`` (auto's backtest), within
    ``time_left`` seconds (two windows and the final fit of the aggregated series must fit, the
    cost predicted from the candidates' measured ``costs`` per window scaled by series count)."""
    if not {"item_id", "category"} <= set(panel.columns):
        return ReconcileChoice("bottom_up", {}, "no item/category hierarchy to reconcile")
    agg = Aggregates.of(panel)
    if not agg.fit_ids:
        return ReconcileChoice("bottom_up", {}, "every aggregated series is a single series")
    n_bottom = len(agg.hierarchy.tags[agg.hierarchy.bottom])
    share = len(agg.fit_ids) / max(n_bottom, 1)
    n_all = len(agg.hierarchy.S)  # aggregating, reconciling and scoring: 2-3 s per 1,000 series
    per_window = sum(costs.get(m, 0.0) for m in selection.models_for_unseen) * share + 1.0 + 2.5 * n_all / 1000
    wins = windows_from_forecasts(forecasts)
    if len(wins) < 2 or (2 + FINAL_FIT_FACTOR) * per_window > time_left:
        why = "one backtest window" if len(wins) < 2 else f"time budget ({per_window:.0f} s a window predicted)"
        return ReconcileChoice("bottom_up", {}, f"MinT not compared: {why}")
    all_ids = set(agg.hierarchy.tags[agg.hierarchy.bottom])
    levels = default_levels(panel)
    known = [c for c in future_known if c in panel.columns]
    start = clock()
    scores: dict[str, list[float]] = {"bottom_up": [], "mint": []}
    for k, win in enumerate(sorted(wins, key=lambda w: w.cutoff, reverse=True)):  # most recent first
        spent = clock() - start
        if k >= 2 and (k + 1 + FINAL_FIT_FACTOR) * (spent / k) > time_left:
            break
        on_progress(AutoStep("reconcile", "mint", k + 1, len(wins), "start"))
        t0 = clock()
        fc = forecasts[forecasts[CUTOFF] == win.cutoff]
        ids = set(win.ids)
        train, xf, _ = split_at(panel if ids == all_ids else panel[panel[ID].isin(ids)], win.cutoff, h, freq, known)
        wagg = agg if ids == all_ids else Aggregates.of(train)  # series new since the window are left out
        preds = {m: fc.loc[fc["model"] == m, [ID, TIME, FORECAST]] for m in selection.models_needed}
        bottom = selection.combine(preds, list(win.ids))
        upper = forecast_upper(wagg, selection, train, xf if known else None, h, known, params)
        mint = wagg.mint(bottom, upper)
        scorer = build_scorer(win, panel, levels, season_length)
        for name, frame in (("bottom_up", bottom), ("mint", mint)):
            wide = frame.pivot_table(index=ID, columns=TIME, values=FORECAST).reindex(index=win.ids, columns=win.dates)
            scores[name].append(float(np.nanmean(list(scorer.level_scores(wide.to_numpy(float), win.y).values()))))
        on_progress(AutoStep("reconcile", "mint", k + 1, len(wins), "done", seconds=clock() - t0))
    if len(scores["mint"]) < 2:
        return ReconcileChoice("bottom_up", {}, "MinT not compared: time budget")
    mint, bottom_up = np.array(scores["mint"]), np.array(scores["bottom_up"])
    better = clearly_better(mint, bottom_up) and mint.mean() < (1 - MIN_GAIN) * bottom_up.mean()
    return ReconcileChoice("mint" if better else "bottom_up", scores,
                           "MinT clearly better" if better else "MinT not clearly better", agg)


def check_method(method: str) -> str:
    if method not in RECONCILE_CHOICES:
        raise ConfigError(f"Auto mode's reconciliation must be one of {', '.join(RECONCILE_CHOICES)}; got '{method}'.")
    return method
