"""Auto mode: backtest candidate models, then forecast with whichever way of using them did best
on the metric the user is judged by.

Every comparison is scored with the M5 WRMSSE across the hierarchy levels (total, store,
category, store x category, item, store x item: whichever the data has) on backtest windows,
with MASE at the bottom reported beside it, so a model whose small item-level errors share a
bias that adds up at store or total level is not chosen for its item-level MASE.

Six ways to use the candidates are compared:
- ``single``: every series uses the candidate with the lowest WRMSSE;
- ``top_mean``: the plain mean of the better half of the candidates (by WRMSSE): equal weights
  are the hardest combination to beat out of sample (M4, M5);
- ``ensemble``: an inverse-WRMSSE weighted mean of all candidates;
- ``stacking``: non-negative weights summing to one, learnt by constrained least squares on the
  backtest forecasts of every level (the squared-error analogue of WRMSSE);
- ``by_pattern``: series classed smooth / erratic / intermittent / lumpy by ADI and CV²
  (:mod:`trendcast.features.demand`) use the candidate with the lowest MASE on their class;
- ``per_series``: each series uses the candidate with the lowest MASE on it.

Each is tried with and without a level-bias correction (one multiplicative factor per candidate,
actual over forecast of the backtest totals, learnt only for a bias with the same sign in every
window). Picks, weights and factors are learnt on all windows but one and scored on the one left
out (leave-one-window-out), so nothing wins by being scored on the data it was chosen on. The
inverse-error ensemble is the default; another way replaces it only when it beats the ensemble
on the held-out windows by more than one standard error of the difference (:func:`clearly_better`),
because a lower mean over a few windows is often one lucky window. The chosen way is then learnt
again on every window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError
from trendcast.evaluate.backtest import (
    DEFAULT_FUTURE_KNOWN,
    FINAL_FIT_FACTOR,
    STATIC_COLUMNS,
    fit_predict,
    make_cutoffs,
    model_frame,
    split_at,
)
from trendcast.evaluate.intervals import ResidualBands
from trendcast.evaluate.metrics import CUTOFF
from trendcast.evaluate.progress import AutoStep, ProgressCallback, silent
from trendcast.evaluate.reconciliation import (
    Aggregates,
    ReconcileChoice,
    check_method,
    choose_reconciliation,
)
from trendcast.evaluate.scoring import (
    Window,
    build_scorer,
    default_levels,
    windows_from_forecasts,
)
from trendcast.features.demand import demand_pattern
from trendcast.features.frequency import default_horizon
from trendcast.models.base import (
    FORECAST,
    ID,
    TARGET,
    TIME,
    Capabilities,
    Forecaster,
    clearly_better,
    free_cores,
    quantile_column,
)
from trendcast.models.ensemble import least_squares_weights
from trendcast.models.registry import available_models, make_model, model_class

# Cheapest first: when the time budget runs out in the first window, the slow ones go. The
# fine-tuned PatchCast trains on the time the others leave over (see budgeted_backtest).
DEFAULT_CANDIDATES: tuple[str, ...] = (
    "seasonal_naive", "croston", "patchtst_pretrained", "lightgbm", "auto_theta", "auto_ets",
    "patchtst_finetuned",
)
# Statistical candidates fitted with statsforecast's own process parallelism (``n_jobs``).
PARALLEL_STATS = frozenset({"auto_ets", "auto_theta", "auto_arima", "mstl"})
PARALLEL_MIN_SERIES = 50
COMPARED = ("single", "top_mean", "ensemble", "stacking", "by_pattern", "per_series")  # simplest first
STRATEGIES = ("auto", *COMPARED)
WEIGHTED = frozenset({"top_mean", "ensemble", "stacking"})
LABELS = {
    "single": "single best model", "top_mean": "equal-weight mean of the better half",
    "ensemble": "inverse-error ensemble", "stacking": "stacking",
    "by_pattern": "model per demand class", "per_series": "model per series",
}
DEFAULT_STRATEGY = "ensemble"  # what auto uses unless another way clearly beats it
CLEAR_ERRORS = 1.0  # "clearly": by this many standard errors of the window-to-window difference
HEDGE_SHARE = 0.5  # of a pick that replaces the default: the default ensemble's share (see select)
BIAS_LIMITS = (0.5, 2.0)
DEFAULT_WINDOWS = 8
INTERVALS = ("backtest", "members")  # where auto's quantiles come from (see evaluate/intervals.py)
FIRST_WINDOW_SHARE = 0.5  # candidates not started by then in the first window are dropped
NEGLIGIBLE_SHARE = 0.05  # cheap candidates costing this share of the budget together are never dropped for time
WARM_UP_SERIES = 3  # series timed to predict a statistical candidate's cost
MIN_TRAIN_SECONDS = 5.0  # a time-capped candidate given less training time than this is not run
TRAIN_SHARE = 0.7  # of a time-capped candidate's time per fit, for training (the rest: data, forecast)


def default_candidates() -> list[str]:
    """The default set (cheapest first), limited to what is registered."""
    have = set(available_models())
    return [m for m in DEFAULT_CANDIDATES if m in have]


def default_time_budget(n_series: int) -> float:
    """Seconds auto mode may take, growing with the data: 90 s up to 300 series, 240 s from
    1,800 series on. Through the forecasting service this covers the whole forecast, reading
    and fusing the data included (30 s of Walmart's 2,287 weekly series, 4 s of the demo's 300
    daily ones), so the demo's forecast stays within 90 s and Walmart's within 5 minutes on 2
    cores. Less than 90 s cuts LightGBM's second window on a 300-series daily shop: auto then
    chooses among the weakest candidates only."""
    return float(np.clip(60.0 + 0.1 * n_series, 90.0, 240.0))


# -- the decision ---------------------------------------------------------------------------
def _weighted(preds: dict[str, pd.DataFrame], weights: dict[str, float], cols: list[str]) -> pd.DataFrame:
    """The weighted mean of the forecasts present (weights of absent members drop out);
    quantiles are averaged too (Vincentisation)."""
    parts = [p.assign(_w=weights.get(name, 0.0), **{c: p[c] * weights.get(name, 0.0) for c in cols})
             for name, p in preds.items()]
    summed = pd.concat(parts, ignore_index=True).groupby([ID, TIME], as_index=False)[[*cols, "_w"]].sum()
    summed[cols] = summed[cols].div(summed["_w"].clip(lower=1e-12), axis=0)
    return summed.drop(columns="_w")


@dataclass
class Selection:
    """What auto mode decided and why."""

    strategy: str
    picks: dict[str, str]  # unique_id -> model (per_series / by_pattern / single)
    weights: dict[str, float]  # model -> weight (ensemble / stacking)
    scores: dict[str, float]  # strategy label or "model:<name>" -> backtest WRMSSE
    fallback: str  # model for series not seen in the backtest (the single best)
    explanation: str = ""
    details: dict[str, object] = field(default_factory=dict)
    bias: dict[str, float] = field(default_factory=dict)  # model -> multiplicative factor
    hedge: dict[str, float] = field(default_factory=dict)  # the default ensemble's weights, when mixed in

    @property
    def models_for_unseen(self) -> list[str]:
        """What a series not in the picks uses (an aggregated series, a new item)."""
        own = self._own_models() if self.strategy in WEIGHTED else [self.fallback]
        return sorted({*own, *self._hedge_models()})

    @property
    def models_needed(self) -> list[str]:
        return sorted({*self._own_models(), *self._hedge_models()})

    def _own_models(self) -> list[str]:
        if self.strategy in WEIGHTED:
            return [m for m, w in self.weights.items() if w > 0]
        return sorted({*self.picks.values(), self.fallback})

    def _hedge_models(self) -> list[str]:
        return [m for m, w in self.hedge.items() if w > 0]

    def combine(self, preds: dict[str, pd.DataFrame], ids: Sequence[str]) -> pd.DataFrame:
        """Forecasts of the chosen strategy from each candidate's forecasts (same columns); with a
        hedge, :data:`HEDGE_SHARE` of them is the default ensemble's (no bias factors)."""
        cols = [c for c in next(iter(preds.values())).columns if c not in (ID, TIME)]
        raw = preds
        preds = {m: p.assign(**{c: p[c] * self.bias.get(m, 1.0) for c in cols}) for m, p in preds.items()}
        if self.strategy in WEIGHTED:
            own = _weighted(preds, self.weights, cols)
        else:
            s_ids = pd.Series(list(ids))
            chosen = s_ids.map(self.picks).fillna(self.fallback)
            parts = [p[p[ID].isin(set(s_ids[chosen == name]))] for name, p in preds.items()]
            own = pd.concat(parts, ignore_index=True)[[ID, TIME, *cols]]
        if not self.hedge:
            return own
        ens = _weighted(raw, self.hedge, cols).set_index([ID, TIME]).reindex(pd.MultiIndex.from_frame(own[[ID, TIME]]))
        mixed = own[cols].to_numpy(dtype=float) * (1 - HEDGE_SHARE) + ens[cols].to_numpy(dtype=float) * HEDGE_SHARE
        own[cols] = np.where(np.isfinite(mixed), mixed, own[cols].to_numpy(dtype=float))
        return own

    def to_dict(self) -> dict[str, object]:
        counts = pd.Series(self.picks).value_counts().to_dict() if self.picks else {}
        return {
            "strategy": self.strategy,
            "bias_correction": self.bias,
            "scores": self.scores,
            "weights": self.weights,
            "hedge": self.hedge,
            "series_per_model": {k: int(v) for k, v in counts.items()},
            "fallback": self.fallback,
            "explanation": self.explanation,
            **self.details,
        }


# -- per-series errors (also used by models/ensemble.py) ---------------------------------------
# -- deciding on some windows, scoring on others -------------------------------------------------
@dataclass
class _Decision:
    strategy: str
    single: str
    bias: dict[str, float]
    weights: dict[str, float]
    picks: dict[str, str]

    def coef(self) -> dict[str, float] | None:
        """Per-model coefficients when the strategy is a linear combination (None: picks)."""
        if self.strategy in WEIGHTED:
            total = sum(self.weights.values()) or 1.0
            return {m: self.bias.get(m, 1.0) * w / total for m, w in self.weights.items()}
        if self.strategy == "single":
            return {self.single: self.bias.get(self.single, 1.0)}
        return None

    def predict(self, win: Window) -> np.ndarray:
        coef = self.coef()
        if coef is not None:
            return sum(win.preds[m] * c for m, c in coef.items())
        names = sorted(win.preds)
        chosen = pd.Series(win.ids).map(self.picks).fillna(self.single)
        idx = chosen.map({m: i for i, m in enumerate(names)}).fillna(names.index(self.single))
        stack = np.stack([win.preds[m] * self.bias.get(m, 1.0) for m in names])
        return stack[idx.to_numpy(dtype=int), np.arange(len(win.ids))]

    def level_scores(self, win: Window, pred: np.ndarray) -> dict[str, float]:
        coef = self.coef()
        if coef is not None:
            return win.combo_scores(coef)
        return win.scorer.level_scores(pred, win.y)


def _bias_factors(wins: list[Window], models: list[str]) -> dict[str, float]:
    """Actual over forecast of the total, per model: corrects a bias that adds up across series.

    Only a systematic bias is corrected: one with the same sign in every window. A forecast
    too high in one window and too low in the next has noise, not bias, and a factor learnt
    from it moves the next forecast at random (on M5's total it did, by up to 30% WRMSSE).
    """
    out = {}
    for m in models:
        actual = np.array([float(np.nansum(w.y)) for w in wins])
        fc = np.array([float(np.sum(np.where(w.mask, w.preds[m], 0.0))) for w in wins])
        systematic = len(wins) >= 2 and (np.all(actual > fc) or np.all(actual < fc))
        ok = fc.sum() > 0 and actual.sum() > 0 and systematic
        out[m] = float(np.clip(actual.sum() / fc.sum(), *BIAS_LIMITS)) if ok else 1.0
    return out


def _decide(wins: list[Window], models: list[str], use_bias: bool, patterns: pd.Series) -> dict[str, _Decision]:
    """Every strategy's decision learnt on ``wins`` (picks, weights, bias factors).

    ``models`` is sorted, the column order of each window's cached stacking rows.
    """
    bias = _bias_factors(wins, models) if use_bias else {}
    b = np.array([bias.get(m, 1.0) for m in models])
    wr = {m: float(np.mean([np.nanmean(list(w.combo_scores({m: b[i]}).values())) for w in wins]))
          for i, m in enumerate(models)}
    single = min(models, key=lambda m: (wr[m], models.index(m)))
    inv = {m: 1.0 / max(wr[m], 1e-9) for m in models}
    inverse = {m: v / sum(inv.values()) for m, v in inv.items()}
    better = sorted(models, key=lambda m: wr[m])[: max(1, (len(models) + 1) // 2)]
    top_mean = {m: (1.0 / len(better) if m in better else 0.0) for m in models}
    F = np.vstack([w.stack[0] * b for w in wins])  # type: ignore[index]
    t = np.concatenate([w.stack[1] for w in wins])  # type: ignore[index]
    stack = dict(zip(models, least_squares_weights(F, t).tolist(), strict=True))
    mase = pd.concat([
        pd.DataFrame({m: w.scorer.series_mase(w.preds[m] * b[i], w.y) for i, m in enumerate(models)}, index=w.ids)
        for w in wins
    ]).groupby(level=0).mean()
    per_series = mase.dropna(how="all").idxmin(axis=1).to_dict()
    by_class: dict[str, str] = {}
    pats = patterns.reindex(mase.index)
    for pattern, ids in pats.groupby(pats).groups.items():
        class_err = mase.loc[ids].mean().dropna()
        by_class[str(pattern)] = str(class_err.idxmin()) if len(class_err) else single
    by_pattern = {uid: by_class.get(str(p), single) for uid, p in pats.items()}
    common = {"single": single, "bias": bias}
    return {
        "single": _Decision("single", weights={}, picks={}, **common),
        "top_mean": _Decision("top_mean", weights=top_mean, picks={}, **common),
        "ensemble": _Decision("ensemble", weights=inverse, picks={}, **common),
        "stacking": _Decision("stacking", weights=stack, picks={}, **common),
        "by_pattern": _Decision("by_pattern", weights={}, picks=by_pattern, **common),
        "per_series": _Decision("per_series", weights={}, picks=per_series, **common),
    }


def _label(strategy: str, bias: bool) -> str:
    return strategy + ("+bias" if bias else "")


def _choose(ranked: list[str], folds_of: dict[str, np.ndarray]) -> str:
    """The default combination, unless another way (a pick, learnt weights, a bias factor) beats
    it clearly; a bias factor must also beat the same way without it."""
    plain_labels = [k for k in ranked if not k.endswith("+bias")]
    base = next((k for k in (DEFAULT_STRATEGY, _label(DEFAULT_STRATEGY, True), *plain_labels) if k in folds_of),
                ranked[0])
    for label in ranked:  # best mean first
        if label == base:
            return base
        plain = label.split("+")[0]
        if clearly_better(folds_of[label], folds_of[base], CLEAR_ERRORS) and (
                not label.endswith("+bias") or plain not in folds_of
                or clearly_better(folds_of[label], folds_of[plain], CLEAR_ERRORS)):
            return label
    return base


def select(
    forecasts: pd.DataFrame,
    history: pd.DataFrame,
    season_length: int,
    strategy: str = "auto",
    levels: dict[str, pd.Series] | None = None,
    bias: str = "auto",
) -> Selection:
    """Decide how to use the candidates from backtest ``forecasts`` (``model, cutoff, ...``).

    ``history`` is the panel the backtest ran on (with ``item_id``/``store_id``/``category`` the
    hierarchy levels come from it, unless ``levels`` is given). ``strategy`` forces one of
    :data:`COMPARED`; ``bias`` is ``auto`` (correct level bias when it helps), ``on`` or ``off``.
    """
    if strategy not in STRATEGIES:
        raise ConfigError(f"Unknown auto strategy '{strategy}'; choose one of {', '.join(STRATEGIES)}.")
    if bias not in ("auto", "on", "off"):
        raise ConfigError(f"Bias correction must be auto, on or off; got '{bias}'.")
    if forecasts.empty:
        raise ConfigError("Auto mode has no candidate forecasts to choose from.")
    levels = levels or default_levels(history)
    wins = windows_from_forecasts(forecasts)
    models = sorted(set.intersection(*(set(w.preds) for w in wins)))
    for w in wins:
        w.preds = {m: w.preds[m] for m in models}
        w.prepare(build_scorer(w, history, levels, season_length))
    early = demand_pattern(history[history[TIME] <= wins[0].cutoff]).set_index(ID)["pattern"]
    patterns = demand_pattern(history).set_index(ID)["pattern"]
    folds = [([w for j, w in enumerate(wins) if j != k], wins[k]) for k in range(len(wins))] if len(wins) >= 2 \
        else [(wins, wins[0])]
    strategies = COMPARED if strategy == "auto" else (strategy,)
    flags = {"auto": (False, True), "on": (True,), "off": (False,)}[bias]
    if len(wins) < 2 and strategy == "auto":
        # nothing is held out: a pick, learnt weights or a bias factor would be judged on the data
        # they were learnt from, so auto keeps its default combination (and no bias correction)
        strategies, flags = (DEFAULT_STRATEGY,), (False,) if bias == "auto" else flags
    table: dict[str, dict[str, float]] = {}
    folds_of: dict[str, np.ndarray] = {}  # label -> WRMSSE on each held-out window
    decided: dict[bool, list[dict[str, _Decision]]] = {}
    for use_bias in flags:
        per_fold = decided[use_bias] = [_decide(train, models, use_bias, early) for train, _ in folds]
        for s in strategies:
            lv, mase = [], []
            for dec, (_, held) in zip(per_fold, folds, strict=True):
                pred = dec[s].predict(held)
                lv.append(dec[s].level_scores(held, pred))
                mase.append(np.nanmean(held.scorer.series_mase(pred, held.y)))
            row = {name: float(np.nanmean([x[name] for x in lv])) for name in levels}
            row["wrmsse"] = float(np.nanmean(list(row.values())))
            row["mase"] = float(np.nanmean(mase))
            table[_label(s, use_bias)] = row
            folds_of[_label(s, use_bias)] = np.array([np.nanmean([x[name] for name in levels]) for x in lv])
    for m in models:
        lv = [w.combo_scores({m: 1.0}) for w in wins]
        row = {name: float(np.nanmean([x[name] for x in lv])) for name in levels}
        row["wrmsse"] = float(np.nanmean(list(row.values())))
        row["mase"] = float(np.nanmean([np.nanmean(w.scorer.series_mase(w.preds[m], w.y)) for w in wins]))
        table[f"model:{m}"] = row
    ranked = sorted(
        (k for k in table if not k.startswith("model:")),
        key=lambda k: (round(table[k]["wrmsse"], 9), k.endswith("+bias"), COMPARED.index(k.split("+")[0])),
    )
    best = _choose(ranked, folds_of)
    chosen, use_bias = best.split("+")[0], best.endswith("+bias")
    learnt = _decide(wins, models, use_bias, patterns)
    final = learnt[chosen]
    picks = final.picks if chosen in ("per_series", "by_pattern") else (
        dict.fromkeys(patterns.index, final.single) if chosen == "single" else {})
    weights = {m: float(w) for m, w in final.weights.items()} if chosen in WEIGHTED else {}
    sel = Selection(chosen, picks, weights, {k: v["wrmsse"] for k, v in table.items()}, fallback=final.single,
                    bias={m: f for m, f in final.bias.items() if f != 1.0} if use_bias else {})
    if strategy == "auto" and len(wins) >= 2 and chosen not in WEIGHTED:
        # A pick (one model per series) that beat the default over a few windows was also the
        # luckiest of twelve ways, so its lead overstates what carries over: the forecast keeps a
        # share of the default ensemble. A weighted way already spreads its bets and stays as it is.
        # (benchmarks/selection_study.py --rules: README, "Is the choosing rule the right one?")
        plain = decided.get(False) or [_decide(train, models, False, early) for train, _ in folds]
        mixed = []
        for own, ens, (_, held) in zip(decided[use_bias], plain, folds, strict=True):
            pred = (1 - HEDGE_SHARE) * own[chosen].predict(held) + HEDGE_SHARE * ens[DEFAULT_STRATEGY].predict(held)
            lv = held.scorer.level_scores(pred, held.y)
            mixed.append(float(np.nanmean([lv[name] for name in levels])))
        plain_final = _decide(wins, models, False, patterns) if use_bias else learnt  # no bias in the mix
        sel.hedge = dict(plain_final[DEFAULT_STRATEGY].weights)
        sel.details["hedge_wrmsse"] = float(np.mean(mixed))
    sel.details.update({
        "demand_patterns": {k: int(v) for k, v in patterns.value_counts().items()},
        "backtest_scores": table, "ranking": ranked, "windows": len(wins),
        "window_scores": {k: [round(float(x), 6) for x in v] for k, v in folds_of.items()},
        "cutoffs": [str(w.cutoff.date()) for w in wins], "levels": list(levels),
    })
    if chosen == "by_pattern":
        sel.details["model_per_pattern"] = {str(patterns[uid]): model for uid, model in picks.items() if uid in patterns}
    sel.explanation = explain(sel, forced=strategy != "auto")
    return sel


def _levels_text(row: dict[str, float], levels: list[str]) -> str:
    return ", ".join(f"{lv.replace('_', ' x ')} {row[lv]:.3f}" for lv in levels if np.isfinite(row.get(lv, np.nan)))


def explain(sel: Selection, forced: bool = False) -> str:
    """A paragraph a shop analyst can read: what won, its scores per level, how close the rest were."""
    d = sel.details
    table: dict[str, dict[str, float]] = d["backtest_scores"]  # type: ignore[assignment]
    ranking: list[str] = d["ranking"]  # type: ignore[assignment]
    levels: list[str] = d["levels"]  # type: ignore[assignment]
    n = int(d["windows"])  # type: ignore[arg-type]
    best = _label(sel.strategy, bool(sel.bias))
    how = f"leave-one-window-out over {n} backtest windows" if n >= 2 else "on 1 backtest window (in-sample)"
    what = f"the {LABELS[sel.strategy]} strategy" + (", with level-bias correction," if sel.bias else "")
    if forced:
        why = "as asked"
    elif sel.strategy == DEFAULT_STRATEGY and not sel.bias:
        why = ("its default: no other way of using the candidates beat it by more than the "
               "window-to-window noise (one standard error) in WRMSSE across the hierarchy")
    else:
        why = (f"because it beat the default {LABELS[DEFAULT_STRATEGY]} by more than the window-to-window "
               "noise (one standard error) in WRMSSE across the hierarchy")
    row = table[best]
    text = (f"Auto mode used {what} {why} ({how}): WRMSSE {row['wrmsse']:.3f} "
            f"({_levels_text(row, levels)}; bottom MASE {row['mase']:.3f}). ")
    if sel.strategy in WEIGHTED:
        kind = {"ensemble": "inverse backtest error", "stacking": "learnt on backtest forecasts",
                "top_mean": "equal"}[sel.strategy]
        w = ", ".join(f"{m} {v:.2f}" for m, v in sorted(sel.weights.items(), key=lambda kv: -kv[1]) if v >= 0.005)
        text += f"Weights ({kind}): {w}. "
    elif sel.strategy == "single":
        text += f"Model: {sel.fallback} for every series. "
    elif sel.strategy == "by_pattern":
        per = d.get("model_per_pattern", {})
        text += "Models: " + "; ".join(f"{m} for {p} series" for p, m in per.items()) + f"; new series use {sel.fallback}. "  # type: ignore[union-attr]
    else:
        counts = pd.Series(sel.picks).value_counts()
        text += "Models: " + "; ".join(f"{m} for {k} series" for m, k in counts.items()) + f"; new series use {sel.fallback}. "
    if sel.bias:
        text += "Bias factors: " + ", ".join(f"{m} x{f:.3f}" for m, f in sel.bias.items() if m in sel.models_needed) + ". "
    if sel.hedge:
        share = f"{HEDGE_SHARE:.0%}"
        text += (f"The forecast mixes in {share} of the default {LABELS[DEFAULT_STRATEGY]} (without bias factors), "
                 "since the pick that wins a few backtest windows also had the most luck in them: "
                 f"WRMSSE {d['hedge_wrmsse']:.3f} for the mix on the same held-out windows. ")
    others = [k for k in ranking if k != best]
    if others:
        ru = others[0]
        diff = table[ru]["wrmsse"] - row["wrmsse"]
        gap = f"{100.0 * diff / row['wrmsse']:+.1f}%" if row["wrmsse"] > 1e-9 else f"{diff:+.3f}"
        ru_name = LABELS[ru.split("+")[0]] + (" with bias correction" if ru.endswith("+bias") else "")
        note = ", a lower mean but not a clear gain" if diff < 0 else ""
        text += f"Runner-up: {ru_name} {table[ru]['wrmsse']:.3f} ({gap}{note}). "
    cands = sorted((k for k in table if k.startswith("model:")), key=lambda k: table[k]["wrmsse"])
    alone = "Candidates alone, without bias correction" if any(k.endswith("+bias") for k in table) else "Candidates alone"
    text += f"{alone} (WRMSSE / bottom MASE): " + ", ".join(
        f"{k.split(':', 1)[1]} {table[k]['wrmsse']:.3f} / {table[k]['mase']:.3f}" for k in cands) + "."
    dropped = d.get("dropped")
    if dropped:
        text += " Not compared: " + "; ".join(f"{m} ({why})" for m, why in dropped.items()) + "."  # type: ignore[union-attr]
    return text


def short_backtest_horizon(panel: pd.DataFrame, season_length: int, h: int) -> int | None:
    """The longest backtest horizon under ``h`` that leaves two windows to compare on: the longest
    series must hold a season plus the horizon before the first of two back-to-back windows.
    None when even one period ahead does not fit, or ``h`` itself does."""
    longest = int(panel.groupby(ID).size().max())
    bh = (longest - season_length) // 3
    return bh if 1 <= bh < h else None


def fallback_selection(candidates: Sequence[str], ids: Sequence[str], reason: str) -> Selection:
    """When no backtest is possible: the simplest candidate (seasonal naive if offered) for all."""
    simple = next((m for m in ("seasonal_naive", "naive", "moving_average") if m in candidates),
                  candidates[0])
    sel = Selection("single", dict.fromkeys(ids, simple), {}, {}, fallback=simple)
    sel.explanation = (
        f"Auto mode could not backtest the candidates ({reason}), so it used {simple} for "
        "every series: with this little history a simple model is the safest choice."
    )
    return sel


# -- the backtest within a time budget -----------------------------------------------------------
@dataclass
class BudgetedBacktest:
    """Forecasts of every window that every kept candidate finished, and what was cut and why."""

    forecasts: pd.DataFrame
    windows: int
    costs: dict[str, float]  # mean seconds per window, per candidate
    dropped: dict[str, str]
    seconds: float
    caps: dict[str, float] = field(default_factory=dict)  # time-capped candidate -> max_seconds a fit


def _affordable(costs: dict[str, float], active: list[str], left: float) -> int:
    """More windows that fit in ``left`` seconds after reserving the final fit of every candidate."""
    per_window = sum(costs[m] for m in active)
    if per_window <= 0:
        return 10**6
    return int((left - FINAL_FIT_FACTOR * per_window) // per_window)


def _window_scores(rows: dict[str, list[pd.DataFrame]], active: list[str], panel: pd.DataFrame,
                   season_length: int) -> dict[str, float]:
    """WRMSSE across the hierarchy of each candidate on the first (most recent) window."""
    win = windows_from_forecasts(pd.concat([rows[m][0] for m in active], ignore_index=True))[0]
    win.prepare(build_scorer(win, panel, default_levels(panel), season_length))
    return {m: float(np.nanmean(list(win.combo_scores({m: 1.0}).values()))) for m in active}


def _keep_within(active: list[str], cost: dict[str, float], score: dict[str, float], left: float,
                 done: int) -> list[str]:
    """The candidates to keep when not all can have two windows: best first-window score first,
    each kept while the two windows and the final fit still fit in ``left`` seconds, so a slow
    but weak candidate makes way for a strong one (and the cheap ones stay when they fit). Empty
    when the best candidate itself cannot have a second window."""
    keep: list[str] = []
    for m in sorted(active, key=lambda m: (np.nan_to_num(score.get(m, np.inf), nan=np.inf), cost[m])):
        if done + _affordable(cost, [*keep, m], left) >= 2:
            keep.append(m)
        elif not keep:
            return []
    return keep


def _negligible(active: list[str], keep: list[str], cost: dict[str, float], budget: float,
                windows_left: int) -> list[str]:
    """The cheapest candidates outside ``keep`` whose remaining windows and final fit together
    cost at most :data:`NEGLIGIBLE_SHARE` of the budget: that is within the noise of the other
    candidates' timings, and dropping them would save nothing while leaving the choice to
    the one slow model (on 1,500 daily series LightGBM used 61 s a window and seasonal naive,
    Croston and PatchCast 2 s each, and they used to be dropped to keep it)."""
    spare, extra = NEGLIGIBLE_SHARE * budget, []
    for m in sorted((m for m in active if m not in keep), key=lambda m: cost[m]):
        need = (windows_left + FINAL_FIT_FACTOR) * cost[m]
        if need > spare:
            break
        extra.append(m)
        spare -= need
    return extra


def _leftover(active: list[str], capped: set[str], costs: dict[str, list[float]], left: float,
              planned: int) -> float:
    """Training seconds a fit of the next time-capped candidate may take in every window and
    the final fit, out of what the candidates run before it in the first window leave over once
    their ``planned`` windows and final fits are reserved (shared with the time-capped ones still
    to run), so it never costs them a window."""
    ran = sum(costs[m][0] for m in active if costs[m])
    to_run = sum(1 for m in active if m in capped and not costs[m])
    spare = left - (planned - 1 + FINAL_FIT_FACTOR) * ran
    return TRAIN_SHARE * spare / max(to_run, 1) / (planned + FINAL_FIT_FACTOR)


def _twins(rows: dict[str, list[pd.DataFrame]], active: list[str], capped: set[str], done: int) -> dict[str, str]:
    """Time-capped candidates whose backtest forecasts equal another candidate's in every window
    (the fine-tuned PatchCast where fine-tuning kept the shipped weights each time) -> that one."""
    def values(m: str) -> np.ndarray:
        return pd.concat(rows[m][:done]).sort_values([CUTOFF, ID, TIME])[FORECAST].to_numpy()

    twins: dict[str, str] = {}
    for m in [m for m in active if m in capped]:
        mine = values(m)
        twin = next((o for o in active if o != m and o not in twins
                     and np.array_equal(values(o), mine)), None)  # shapes differ: not equal
        if twin is not None:
            twins[m] = twin
    return twins


def _warm_up(name: str, panel: pd.DataFrame, h: int, freq: str, params: dict[str, object],
             clock: Callable[[], float]) -> float:
    """Fit ``name`` on the :data:`WARM_UP_SERIES` series closest to the median length, twice:
    the first fit compiles its code outside the measured costs (worker processes are forked from
    this one and inherit it), the second is timed (several series, because one fit's time
    varies by 3x from series to series). Returns the predicted seconds of one window over the
    whole panel, on the cores free now (0.0 when the warm-up fails: the measured run reports
    failures)."""
    sizes = panel.groupby(ID).size()
    ids = (sizes - sizes.median()).abs().sort_values(kind="stable").index[:WARM_UP_SERIES]
    some = panel[panel[ID].isin(set(ids))].groupby(ID).tail(int(sizes.median()))[[ID, TIME, TARGET]]
    try:
        fit_predict(name, some, h, None, None, params={**params, "n_jobs": 1})
        t0 = clock()
        fit_predict(name, some, h, None, None, params={**params, "n_jobs": 1})
    except Exception:  # noqa: BLE001 - a warm-up only
        return 0.0
    workers = free_cores() if int(params.get("n_jobs", 1)) == -1 else 1  # type: ignore[call-overload]
    return (clock() - t0) / len(ids) * len(sizes) / workers


def budgeted_backtest(
    panel: pd.DataFrame,
    candidates: Sequence[str],
    h: int,
    windows: int,
    budget: float,
    *,
    season_length: int,
    freq: str,
    future_known: Sequence[str] = DEFAULT_FUTURE_KNOWN,
    params: Callable[[str], dict[str, object]],
    on_progress: ProgressCallback = silent,
    clock: Callable[[], float] = time.perf_counter,
    spent: float = 0.0,
) -> BudgetedBacktest:
    """Rolling-origin backtest of ``candidates``, most recent window first, within ``budget`` s.

    Each candidate's cost is measured as it runs, and planned at its dearest window.
    Statistical candidates' cost is also predicted from a timed fit on a few series before the
    backtest; those predicted not to fit two windows and the final fit in what the candidates
    before them left of the budget are dropped unstarted (a season-52 AutoETS can take longer
    than the whole budget; on the demo AutoETS used to run a 35 s first window that could never
    have a second). In the first window, candidates not started by :data:`FIRST_WINDOW_SHARE`
    of the budget are dropped. After each window the plan is redone: the number of windows falls (down
    to 2, the fewest leave-one-window-out needs) before candidates are dropped, best
    first-window WRMSSE kept first (see :func:`_keep_within`), and time for the final fit of
    every kept candidate is reserved; candidates too cheap to matter stay (:func:`_negligible`).
    When even the best candidate of the first window cannot have a second one, the backtest
    stops after one window with every candidate (auto then uses its default ensemble) rather
    than keep only the weak ones. Time-capped candidates (``Capabilities.time_capped``: the
    fine-tuned PatchCast) run after the others and train, in every window and the final fit, for
    the time the others leave over once their windows and final fits are reserved
    (:func:`_leftover`), or not at all when that is under :data:`MIN_TRAIN_SECONDS`: they never
    cost the others a window. Candidates that fail are dropped with their error. ``spent``:
    seconds of the budget used before the backtest started (reading and fusing the data).
    """
    start = clock() - spent
    panel = panel.sort_values([ID, TIME]).reset_index(drop=True)
    min_train = season_length + h
    first = panel.groupby(ID)[TIME].min()
    cutoffs = [c for c in make_cutoffs(panel[TIME].max(), h, windows, h, freq)
               if (panel[panel[TIME] <= c].groupby(ID).size() >= min_train).any()]
    if not cutoffs or cutoffs[0] <= first.min():
        raise ConfigError(
            f"Not enough history to backtest {h} periods: auto mode needs at least "
            f"{min_train + h} periods of one series."
        )
    predicted = {name: _warm_up(name, panel, h, freq, params(name), clock)
                 for name in candidates if name in PARALLEL_STATS}
    order = list(reversed(cutoffs))  # most recent first: the most relevant window is never cut
    planned = len(order)
    registered = set(available_models())
    capped = {m for m in candidates if m in registered and model_class(m).capabilities.time_capped}
    active = sorted(dict.fromkeys(candidates), key=lambda m: m in capped)  # they run on what is left
    caps: dict[str, float] = {}

    def fit_params(name: str) -> dict[str, object]:
        return {**params(name), **({"max_seconds": caps[name]} if name in caps else {})}

    costs: dict[str, list[float]] = {m: [] for m in active}
    rows: dict[str, list[pd.DataFrame]] = {m: [] for m in active}
    dropped: dict[str, str] = {}

    def drop(name: str, reason: str, window: int, status: str = "dropped") -> None:
        active.remove(name)
        dropped[name] = reason
        on_progress(AutoStep("backtest", name, window, planned, status, note=reason))
    done = 0
    for wi, cutoff in enumerate(order):
        if wi >= planned:
            break
        train, xf, actual = split_at(panel, cutoff, h, freq, future_known)
        n_obs = train.groupby(ID).size()
        keep = n_obs.index[n_obs >= min_train]
        train = train[train[ID].isin(keep)]
        xf, actual = xf[xf[ID].isin(keep)], actual[actual[ID].isin(keep)]
        for name in list(active):
            if wi == 0 and done == 0 and any(rows.values()) and clock() - start > FIRST_WINDOW_SHARE * budget:
                drop(name, f"time budget {budget:g} s reached before it ran", wi + 1)
                continue
            left = budget - (clock() - start)  # what the candidates run so far have left
            if wi == 0 and name in predicted and (2 + FINAL_FIT_FACTOR) * predicted[name] > left:
                drop(name, f"predicted {predicted[name]:.0f} s a window from a warm-up fit: two windows and "
                           f"the final fit do not fit in the {max(left, 0):.0f} s left of the time budget of "
                           f"{budget:g} s", wi + 1)
                continue
            if wi == 0 and name in capped:
                cap = _leftover(active, capped, costs, left, planned)
                if cap < MIN_TRAIN_SECONDS:
                    drop(name, f"the other candidates' {planned} windows and final fits leave {max(cap, 0):.0f} s "
                               f"of training a fit, under {MIN_TRAIN_SECONDS:g} s, in the time budget of {budget:g} s",
                         wi + 1)
                    continue
                caps[name] = cap
            on_progress(AutoStep("backtest", name, wi + 1, planned, "start"))
            t0 = clock()
            try:
                fc, _ = fit_predict(name, train, h, xf if len(xf.columns) > 2 else None, None,
                                    future_known=future_known, params=fit_params(name))
            except Exception as exc:  # noqa: BLE001 - one failing candidate must not sink auto mode
                drop(name, f"failed: {type(exc).__name__}: {exc}", wi + 1, "failed")
                continue
            secs = clock() - t0
            costs[name].append(secs)
            fc = fc[fc[ID].isin(keep)].merge(actual, on=[ID, TIME], how="inner")
            fc.insert(0, CUTOFF, cutoff)
            fc.insert(0, "model", name)
            rows[name].append(fc)
            on_progress(AutoStep("backtest", name, wi + 1, planned, "done", seconds=secs))
        done = wi + 1
        if not active:
            break
        # plan with each candidate's dearest window so far: a window's cost varies by a third on
        # a busy machine, and the final fit sees more history than any window
        cost = {m: float(np.max(costs[m])) for m in active}
        left = budget - (clock() - start)
        more = _affordable(cost, active, left)
        # Two windows out of reach: drop the slowest while that makes them fit. Once two windows
        # are done, every candidate has what leave-one-window-out needs; dropping one then would
        # only throw away a paid-for backtest (the final fit is of the chosen models only).
        if done < 2 and done + more < 2:
            scores = _window_scores(rows, active, panel, season_length)
            keep = _keep_within(active, cost, scores, left, done)
            if not keep:  # one window of every candidate (auto's default ensemble) beats two of the weak ones,
                # less those whose own final fit no longer fits (the best one stays whatever it costs)
                best = min(active, key=lambda m: np.nan_to_num(scores.get(m, np.inf), nan=np.inf))
                for slow in [m for m in active if m != best and FINAL_FIT_FACTOR * cost[m] > left]:
                    drop(slow, f"its final fit ({cost[slow]:.1f} s a window) would not fit in the "
                               f"{max(left, 0):.0f} s left of the time budget of {budget:g} s", wi + 1)
                break
            cheap = _negligible(active, keep, cost, budget, 2 - done)
            for slow in [m for m in active if m not in keep and m not in cheap]:
                drop(slow, f"too slow for the time budget of {budget:g} s ({cost[slow]:.1f} s a window)", wi + 1)
            more = _affordable(cost, keep, left)  # the cheap ones ride along
        planned = min(len(order), done + max(more, 0))
    if not active:
        raise ConfigError(f"Every auto candidate failed in the backtest: {dropped}")
    for twin, first in _twins(rows, active, capped, done).items():
        drop(twin, f"its backtest forecasts were {first}'s in every window (fine-tuning kept its starting "
                   "weights), so they say nothing of their own and would count twice", done)
    forecasts = pd.concat([f for m in active for f in rows[m][:done]], ignore_index=True)
    return BudgetedBacktest(
        forecasts, done, {m: round(float(np.mean(costs[m])), 3) for m in active}, dropped, clock() - start,
        {m: caps[m] for m in active if m in caps},
    )


class AutoForecaster(Forecaster):
    """``make_model("auto")``: backtest candidates on the training data within a time budget, then
    forecast with the strategy that had the lowest WRMSSE across the hierarchy.

    Parameters: ``candidates`` (model names; default :data:`DEFAULT_CANDIDATES` where
    registered), ``horizon`` (backtest horizon; default 28 days / 13 weeks / 6 months),
    ``windows`` (most backtest windows, default :data:`DEFAULT_WINDOWS`; the budget may use fewer), ``strategy``
    (auto or one of :data:`COMPARED`), ``bias`` (auto, on, off), ``time_budget`` (seconds for
    backtest and final fit, and what ``time_spent`` says came before; default grows with the
    number of series, see :func:`default_time_budget`), ``time_spent`` (seconds the forecast had
    taken before auto started: the forecasting service passes its reading and fusing time, so
    the budget caps the whole forecast), ``on_progress`` (callback receiving :class:`AutoStep`),
    ``future_known`` (covariates known ahead), ``selection`` (a ready :class:`Selection`, to
    skip the backtest), ``model_params`` (name -> extra parameters), ``reconcile`` (``auto``:
    bottom-up unless MinT clearly wins the backtest, see :mod:`trendcast.evaluate.reconciliation`;
    ``bottom_up``; ``mint``). With MinT the bottom forecasts come back already reconciled, so
    their sums are MinT's forecasts of every level. ``intervals``: ``backtest`` (quantiles from
    the chosen combination's backtest errors, :mod:`trendcast.evaluate.intervals`) or
    ``members`` (the chosen models' own quantiles, mixed like the forecasts).
    """

    name = "auto"
    capabilities = Capabilities(
        future_covariates=True, past_covariates=True, static_covariates=True,
        native_quantiles=True, intermittent=True, global_model=True,
    )

    def __init__(
        self,
        candidates: Sequence[str] | None = None,
        horizon: int | None = None,
        windows: int = DEFAULT_WINDOWS,
        strategy: str = "auto",
        future_known: Sequence[str] = DEFAULT_FUTURE_KNOWN,
        selection: Selection | None = None,
        model_params: dict[str, dict[str, object]] | None = None,
        season_length: int = 7,
        freq: str = "D",
        time_budget: float | None = None,
        time_spent: float = 0.0,
        on_progress: ProgressCallback | None = None,
        bias: str = "auto",
        reconcile: str = "auto",
        intervals: str = "backtest",
        **params: object,
    ) -> None:
        super().__init__(season_length=season_length, freq=freq, **params)
        if intervals not in INTERVALS:
            raise ConfigError(f"Auto's intervals come from 'backtest' or 'members'; got '{intervals}'.")
        self.intervals = intervals
        self.candidates = list(candidates) if candidates else default_candidates()
        if not self.candidates:
            raise ConfigError("Auto mode found no candidate models registered.")
        for m in self.candidates:
            model_class(m)  # unknown names fail now, in words
        if strategy not in STRATEGIES:
            raise ConfigError(f"Unknown auto strategy '{strategy}'; choose one of {', '.join(STRATEGIES)}.")
        if time_budget is not None and float(time_budget) <= 0:
            raise ConfigError(f"The time budget must be a positive number of seconds; got {time_budget}.")
        self.horizon = horizon
        self.windows = int(windows)
        self.strategy = strategy
        self.bias = bias
        self.reconcile = check_method(reconcile)
        self.future_known = tuple(future_known)
        self.selection = selection
        self.model_params = model_params or {}
        self.time_budget = None if time_budget is None else float(time_budget)
        self.time_spent = float(time_spent)
        self.on_progress = on_progress or silent

    def candidate_params(self, name: str) -> dict[str, object]:
        # statsforecast's processes share the cores well; LightGBM's OpenMP threads spin and
        # slow down badly on a busy machine, so it keeps its own single-thread default.
        # Worker processes cost seconds to start: only worth it for many series.
        many = getattr(self, "n_series_", 0) >= PARALLEL_MIN_SERIES
        extra: dict[str, object] = {"n_jobs": -1} if name in PARALLEL_STATS and many else {}
        backtest = getattr(self, "backtest_", None)  # a time-capped model's final fit trains as long as in the backtest
        if backtest is not None and name in backtest.caps:
            extra["max_seconds"] = backtest.caps[name]
        return {"season_length": self.season_length, "freq": self.freq, **extra, **self.model_params.get(name, {})}

    def _fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> None:
        start = time.perf_counter() - self.time_spent
        self.n_series_ = int(df[ID].nunique())
        self.budget_ = self.time_budget or default_time_budget(self.n_series_)
        # a covariate without a single value (no prices in this shop) is no covariate
        empty = [c for c in df.columns if c not in (ID, TIME, TARGET) and df[c].isna().all()]
        df = df.drop(columns=empty)
        self.empty_ = empty
        self.known_ = tuple(c for c in self.future_known if c in df.columns)
        panel = df if static_df is None else df.merge(
            static_df[[c for c in static_df.columns if c == ID or c in STATIC_COLUMNS]], on=ID, how="left"
        )
        self.panel_ = panel
        self.backtest_: BudgetedBacktest | None = None
        h = self.horizon or default_horizon(self.freq)
        self.backtest_h_ = h
        if self.selection is None:
            result, reason = None, ""
            # a young shop cannot be backtested at the full horizon: compare the candidates
            # over a shorter one rather than fall back to a single simple model
            for bh in dict.fromkeys((h, short_backtest_horizon(panel, self.season_length, h))):
                if bh is None:
                    continue
                try:
                    result = budgeted_backtest(
                        panel, self.candidates, bh, self.windows, self.budget_,
                        season_length=self.season_length, freq=self.freq, future_known=self.known_,
                        params=self.candidate_params, on_progress=self.on_progress,
                        spent=time.perf_counter() - start,
                    )
                except ConfigError as exc:
                    reason = reason or str(exc)
                else:
                    self.backtest_h_ = bh
                    break
            if result is None:  # too little history to compare: one simple model
                self.selection = fallback_selection(self.candidates, list(df[ID].unique()), reason)
            else:
                self.backtest_ = result
                self.on_progress(AutoStep("select", status="start"))
                t0 = time.perf_counter()
                self.selection = select(result.forecasts, panel, self.season_length, self.strategy, bias=self.bias)
                self.selection.details["dropped"] = result.dropped
                self.selection.details["candidate_seconds_per_window"] = result.costs
                self.selection.details["backtest_horizon"] = self.backtest_h_
                self.selection.explanation = explain(self.selection, forced=self.strategy != "auto")
                if self.backtest_h_ < h:
                    self.selection.explanation += (
                        f" The history is too short to backtest {h} periods ahead, so the candidates were "
                        f"compared {self.backtest_h_} periods ahead.")
                self.on_progress(AutoStep("select", status="done", seconds=time.perf_counter() - t0,
                                          note=self.selection.strategy))
        sel = self.selection
        self.bands_ = self._bands(panel) if self.backtest_ is not None and self.intervals == "backtest" else None
        if self.bands_ is not None:
            sel.details["intervals"] = {"method": "backtest errors", **self.bands_.to_dict()}
            sel.explanation += (f" Quantiles: from this choice's own {len(self.bands_.errors[-1]):,} backtest errors, "
                                "scaled to each series.")
        self.reconcile_ = self._reconciliation(start)
        self.explanation_ = sel.explanation
        self.models_: dict[str, Forecaster] = {}
        train = model_frame(df)
        for name in sel.models_needed:
            model = make_model(name, **self.candidate_params(name))
            data = train
            if sel.strategy not in WEIGHTED and not sel.hedge and not model_class(name).capabilities.global_model:
                ids = {u for u, m in sel.picks.items() if m == name}
                if name == sel.fallback:
                    ids |= set(train[ID].unique()) - set(sel.picks)
                data = train[train[ID].isin(ids)]
            if data.empty:
                continue
            self.on_progress(AutoStep("fit", name, status="start"))
            t0 = time.perf_counter()
            self.models_[name] = model.fit(data, static_df=static_df)
            self.on_progress(AutoStep("fit", name, status="done", seconds=time.perf_counter() - t0))
        self._reweigh_untrained()
        self.upper_ = None
        if self.reconcile_.method == "mint":
            self.on_progress(AutoStep("fit", "aggregated series", status="start"))
            t0 = time.perf_counter()
            self.upper_ = self.reconcile_.aggregates or Aggregates.of(self.panel_)  # built by the backtest
            upper = self.upper_.panel(self.panel_, self.known_)
            self.upper_models_ = {m: make_model(m, **self.candidate_params(m)).fit(model_frame(upper))
                                  for m in sel.models_for_unseen}
            self.on_progress(AutoStep("fit", "aggregated series", status="done", seconds=time.perf_counter() - t0))

    def _reweigh_untrained(self) -> None:
        """A time-capped member whose final fit kept its starting weights (fine-tuning did not beat
        them this time) forecasts unlike the tuned weights that earned its share in the backtest:
        it is left out of the forecast, so its weight goes to the other members in proportion
        (``Selection.combine`` divides by the weights present). The selection keeps the learnt
        weights: a later fit may tune it again. On M5 monthly a fine-tuned PatchCast's weight had
        gone to its zero-shot forecasts, its worst set there: 2.065 WRMSSE, 1.920 without."""
        sel = self.selection
        sel.details.pop("untrained_weight_moved", None)
        if sel.strategy not in WEIGHTED:
            return
        idle = {n: sel.weights[n] for n, m in self.models_.items()
                if model_class(n).capabilities.time_capped and not getattr(m, "trained_", True)}
        if not idle or all(sel.weights.get(n, 0.0) <= 0 for n in self.models_ if n not in idle):
            return  # nothing else to give the weight to: it forecasts with its starting weights
        for n in idle:
            del self.models_[n]
        sel.details["untrained_weight_moved"] = {n: round(w, 3) for n, w in idle.items()}
        self.explanation_ += (
            " " + ", ".join(f"{n} (weight {w:.2f})" for n, w in idle.items())
            + " kept its starting weights in the final fit, so its weight went to the other members in "
            "proportion: it had been earned by its tuned forecasts in the backtest.")
        if self.bands_ is not None:  # the errors of the combination now used
            self.bands_ = self._bands(self.panel_, without=frozenset(idle))
            sel.details["intervals"] = {"method": "backtest errors", **self.bands_.to_dict()}

    def _bands(self, panel: pd.DataFrame, without: frozenset[str] = frozenset()) -> ResidualBands | None:
        """Quantile bands from the chosen combination's own backtest errors (see
        :mod:`trendcast.evaluate.intervals`), less the members ``without``."""
        fc = self.backtest_.forecasts  # type: ignore[union-attr]
        rows = []
        for cutoff, w in fc.groupby(CUTOFF, sort=True):
            preds = {str(m): g[[ID, TIME, FORECAST]] for m, g in w.groupby("model", sort=True) if m not in without}
            combined = self.selection.combine(preds, list(w[ID].unique()))  # type: ignore[union-attr]
            actual = w.drop_duplicates([ID, TIME])[[ID, TIME, TARGET]]
            rows.append(combined.merge(actual, on=[ID, TIME]).assign(**{CUTOFF: cutoff}))
        return ResidualBands.fit(pd.concat(rows, ignore_index=True), model_frame(panel), self.season_length)

    def _reconciliation(self, start: float) -> ReconcileChoice:
        """Bottom-up or MinT: as asked, as a given selection recorded, or by backtest (``auto``)."""
        recorded = self.selection.details.get("reconciliation") if self.selection else None
        if self.reconcile != "auto":
            choice = ReconcileChoice(self.reconcile, {}, "as asked")
            if self.reconcile == "mint" and not {"item_id", "category"} <= set(self.panel_.columns):
                raise ConfigError("MinT reconciliation needs the product hierarchy (item_id and category).")
        elif self.backtest_ is None:
            method = recorded["method"] if isinstance(recorded, dict) else "bottom_up"
            choice = ReconcileChoice(method, {}, "from the given selection" if recorded else "no backtest")
        else:
            result = self.backtest_
            choice = choose_reconciliation(
                self.panel_, result.forecasts, self.selection, h=self.backtest_h_,
                freq=self.freq, season_length=self.season_length, future_known=self.known_,
                params=self.candidate_params, costs=result.costs, on_progress=self.on_progress,
                time_left=self.budget_ - (time.perf_counter() - start)  # less the final fit still to come
                - FINAL_FIT_FACTOR * sum(result.costs.get(m, 0.0) for m in self.selection.models_needed),
            )
            self.selection.details["reconciliation"] = choice.to_dict()
            self.selection.explanation += " " + choice.text()
        if self.reconcile == "mint":
            self.selection.explanation += " " + choice.text()
        return choice

    def _predict(self, h: int, X_future: pd.DataFrame | None, quantiles: list[float]) -> pd.DataFrame:
        if X_future is not None:
            X_future = X_future.drop(columns=[c for c in self.empty_ if c in X_future.columns])
            X_future = X_future if len(X_future.columns) > 2 else None
        bands = self.bands_ if quantiles else None  # then the members need no intervals of their own
        preds = {}
        for name, m in self.models_.items():
            self.on_progress(AutoStep("predict", name, status="start"))
            t0 = time.perf_counter()
            preds[name] = m.predict(h, X_future=X_future, quantiles=[] if bands else quantiles)
            self.on_progress(AutoStep("predict", name, status="done", seconds=time.perf_counter() - t0))
        out = self.selection.combine(preds, list(self.last_ds_.index))
        if self.upper_ is not None:
            xu = self.upper_.future(X_future, self.known_)
            upper = self.selection.combine(
                {m: f.predict(h, X_future=xu, quantiles=[]) for m, f in self.upper_models_.items()}, self.upper_.fit_ids)
            out = self.upper_.mint(out, upper)
        if bands is not None:
            out = bands.apply(out[[ID, TIME, FORECAST]], quantiles)
        return out[[ID, TIME, FORECAST, *(quantile_column(q) for q in quantiles)]]
