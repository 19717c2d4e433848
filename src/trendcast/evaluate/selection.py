"""Auto mode: backtest candidate models, then forecast with whichever combination did best.

Four ways to use the candidates are compared on the backtest windows:
- ``per_series``: each series uses the model with the lowest error on it;
- ``by_pattern``: series are classed smooth / erratic / intermittent / lumpy by ADI and CV²
  (:mod:`trendcast.features.demand`); intermittent and lumpy series use the intermittent-demand
  model (Croston family) that did best on their class, the others the best of the rest on theirs;
- ``ensemble``: every series uses an inverse-error weighted average of all candidates;
- ``single``: every series uses the model with the lowest mean error.

The comparison is honest when there are two or more windows: picks and weights are learnt on
all windows but one and scored on the one left out (leave-one-window-out), so the per-series
pick does not win just because it was chosen on the same data it is scored on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError
from trendcast.evaluate.backtest import (
    DEFAULT_FUTURE_KNOWN,
    STATIC_COLUMNS,
    backtest,
    model_frame,
)
from trendcast.evaluate.metrics import CUTOFF
from trendcast.features.demand import SPARSE, demand_pattern
from trendcast.features.frequency import default_horizon
from trendcast.models.base import (
    FORECAST,
    ID,
    TARGET,
    TIME,
    Capabilities,
    Forecaster,
)
from trendcast.models.registry import available_models, make_model, model_class

DEFAULT_CANDIDATES: tuple[str, ...] = ("seasonal_naive", "auto_ets", "croston", "lightgbm")
COMPARED = ("per_series", "by_pattern", "ensemble", "single")
STRATEGIES = ("auto", *COMPARED)


def default_candidates() -> list[str]:
    """The fast, complementary default set, limited to what is registered."""
    have = set(available_models())
    return [m for m in DEFAULT_CANDIDATES if m in have]


@dataclass
class Selection:
    """What auto mode decided and why."""

    strategy: str
    picks: dict[str, str]  # unique_id -> model (per_series / by_pattern / single)
    weights: dict[str, float]  # model -> weight (ensemble)
    scores: dict[str, float]  # strategy or model -> backtest error (mean MASE)
    fallback: str  # model for series not seen in the backtest
    explanation: str = ""
    details: dict[str, object] = field(default_factory=dict)

    @property
    def models_needed(self) -> list[str]:
        if self.strategy == "ensemble":
            return [m for m, w in self.weights.items() if w > 0]
        return sorted({*self.picks.values(), self.fallback})

    def combine(self, preds: dict[str, pd.DataFrame], ids: Sequence[str]) -> pd.DataFrame:
        """Forecasts of the chosen strategy from each candidate's forecasts (same columns)."""
        cols = [c for c in next(iter(preds.values())).columns if c not in (ID, TIME)]
        if self.strategy == "ensemble":
            parts = []
            for name, p in preds.items():
                w = self.weights.get(name, 0.0)
                parts.append(p.assign(_w=w, **{c: p[c] * w for c in cols}))
            allp = pd.concat(parts, ignore_index=True)
            summed = allp.groupby([ID, TIME], as_index=False)[[*cols, "_w"]].sum()
            summed[cols] = summed[cols].div(summed["_w"].clip(lower=1e-12), axis=0)
            return summed.drop(columns="_w")  # quantiles averaged too (Vincentisation)
        s_ids = pd.Series(list(ids))
        chosen = s_ids.map(self.picks).fillna(self.fallback)
        parts = [p[p[ID].isin(set(s_ids[chosen == name]))] for name, p in preds.items()]
        return pd.concat(parts, ignore_index=True)[[ID, TIME, *cols]]

    def to_dict(self) -> dict[str, object]:
        counts = pd.Series(self.picks).value_counts().to_dict() if self.picks else {}
        return {
            "strategy": self.strategy,
            "scores": self.scores,
            "weights": self.weights,
            "series_per_model": {k: int(v) for k, v in counts.items()},
            "fallback": self.fallback,
            "explanation": self.explanation,
            **self.details,
        }


def series_scales(forecasts: pd.DataFrame, history: pd.DataFrame, season_length: int) -> pd.Series:
    """In-sample seasonal-naive MAE per (cutoff, series), from history up to each cutoff.

    Series whose history has no variation get a scale of 1 (plain MAE): within a series every
    model shares the scale, so the ranking is unaffected.
    """
    hist = history[[ID, TIME, TARGET]].sort_values([ID, TIME])
    cuts = forecasts[[CUTOFF, ID]].drop_duplicates()
    h = hist.merge(cuts, on=ID)
    h = h[h[TIME] <= h[CUTOFF]]
    h["d"] = h.groupby([CUTOFF, ID])[TARGET].diff(season_length).abs()
    scale = h.groupby([CUTOFF, ID])["d"].mean()
    return scale.where(scale > 0, 1.0).fillna(1.0).rename("scale")


def series_errors(forecasts: pd.DataFrame, scale: pd.Series) -> pd.DataFrame:
    """Scaled absolute error (MASE) per (model, cutoff, series)."""
    fc = forecasts.assign(err=(forecasts[TARGET] - forecasts[FORECAST]).abs())
    mae = fc.groupby(["model", CUTOFF, ID], as_index=False)["err"].mean()
    mae = mae.merge(scale.reset_index(), on=[CUTOFF, ID], how="left")
    mae["error"] = mae["err"] / mae["scale"].fillna(1.0)
    return mae[["model", CUTOFF, ID, "error"]]


def _is_intermittent_model(name: str) -> bool:
    """A specialist for intermittent demand (the Croston family), not a combination of models."""
    if name not in available_models():
        return False
    caps = model_class(name).capabilities
    return caps.intermittent and not caps.global_model


def _decide(err: pd.DataFrame, patterns: pd.Series) -> tuple[dict[str, dict[str, str]], dict[str, float], str]:
    """From an error table: picks per strategy (``unique_id -> model``), inverse-error weights
    and the best single model. ``patterns`` maps every series to its demand pattern."""
    mean = err.groupby(["model", ID])["error"].mean().unstack("model")
    overall = mean.mean(axis=0)
    single = str(overall.idxmin())
    inv = 1.0 / overall.clip(lower=1e-9)
    specialists = [m for m in mean.columns if _is_intermittent_model(m)]
    by_class: dict[str, str] = {}
    for pattern, ids in patterns.groupby(patterns).groups.items():
        rows = mean.reindex(ids).dropna(how="all")
        pool = [m for m in mean.columns if (m in specialists) == (pattern in SPARSE)] or list(mean.columns)
        class_error = rows[pool].mean().dropna()
        by_class[str(pattern)] = str(class_error.idxmin()) if len(class_error) else single
    picks = {
        "per_series": mean.idxmin(axis=1).dropna().to_dict(),
        "by_pattern": patterns.map(by_class).to_dict(),
        "single": dict.fromkeys(mean.index, single),
    }
    return picks, (inv / inv.sum()).to_dict(), single


def _combine_error(err: pd.DataFrame, fc: pd.DataFrame, strategy: str, picks: dict[str, str],
                   weights: dict[str, float], single: str, scale: pd.Series) -> float:
    """Mean scaled error of one strategy on the forecasts ``fc`` of one or more windows."""
    wide = fc.pivot_table(index=[CUTOFF, ID, TIME], columns="model", values=FORECAST)
    y = fc.drop_duplicates([CUTOFF, ID, TIME]).set_index([CUTOFF, ID, TIME])[TARGET].reindex(wide.index)
    ids = wide.index.get_level_values(ID)
    if strategy == "ensemble":
        w = pd.Series(weights).reindex(wide.columns).fillna(0.0)
        vals = wide.to_numpy()
        mask = ~np.isnan(vals)
        wm = np.where(mask, w.to_numpy(), 0.0)
        pred = np.nansum(np.nan_to_num(vals) * wm, axis=1) / np.clip(wm.sum(axis=1), 1e-12, None)
    else:
        chosen = pd.Series(ids).map(picks).fillna(single)
        col_idx = wide.columns.get_indexer(chosen)
        col_idx = np.where(col_idx < 0, wide.columns.get_loc(single), col_idx)
        pred = wide.to_numpy()[np.arange(len(wide)), col_idx]
    abs_err = pd.Series(np.abs(y.to_numpy() - pred), index=wide.index)
    per = abs_err.groupby(level=[CUTOFF, ID]).mean()
    per = per / scale.reindex(per.index).fillna(1.0).to_numpy()
    return float(per.mean())


def select(
    forecasts: pd.DataFrame,
    history: pd.DataFrame,
    season_length: int,
    strategy: str = "auto",
) -> Selection:
    """Decide how to use the candidates from backtest ``forecasts`` (``model, cutoff, ...``)."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"Unknown auto strategy '{strategy}'; choose one of {', '.join(STRATEGIES)}.")
    scale = series_scales(forecasts, history, season_length)
    err = series_errors(forecasts, scale)
    models = sorted(err["model"].unique())
    if not models:
        raise ConfigError("Auto mode has no candidate forecasts to choose from.")
    cutoffs = sorted(forecasts[CUTOFF].unique())
    # scoring classifies series on what was known at the first cutoff; the final picks on everything
    early = demand_pattern(history[history[TIME] <= cutoffs[0]]).set_index(ID)["pattern"]
    patterns = demand_pattern(history).set_index(ID)["pattern"]
    # (decisions, forecasts they are scored on): leave one window out when there are two or more
    if len(cutoffs) >= 2:
        folds = [(_decide(err[err[CUTOFF] != held], early), forecasts[forecasts[CUTOFF] == held]) for held in cutoffs]
    else:
        folds = [(_decide(err, early), forecasts)]
    scores: dict[str, float] = {}
    for s in COMPARED:
        scores[s] = float(np.mean([
            _combine_error(err, fc, s, picks.get(s, {}), weights, single, scale)
            for (picks, weights, single), fc in folds
        ]))
    per_model = err.groupby("model")["error"].mean()
    for m, v in per_model.items():
        scores[f"model:{m}"] = float(v)
    chosen = min(COMPARED, key=scores.get) if strategy == "auto" else strategy
    picks, weights, single = _decide(err, patterns)
    sel = Selection(chosen, picks.get(chosen, {}), weights if chosen == "ensemble" else {}, scores,
                    fallback=single)
    sel.details["demand_patterns"] = {k: int(v) for k, v in patterns.value_counts().items()}
    if chosen == "by_pattern":
        sel.details["model_per_pattern"] = {patterns[uid]: model for uid, model in sel.picks.items()}
    sel.explanation = explain(sel, len(cutoffs), forced=strategy != "auto")
    return sel


def explain(sel: Selection, n_windows: int, forced: bool = False) -> str:
    """One paragraph a shop analyst can read."""
    how = "leave-one-window-out over" if n_windows >= 2 else "on"
    comp = ", ".join(f"{k.replace('_', '-')} {sel.scores[k]:.3f}" for k in COMPARED if k in sel.scores)
    models = ", ".join(
        f"{k.split(':', 1)[1]} {v:.3f}" for k, v in sorted(sel.scores.items(), key=lambda kv: kv[1]) if k.startswith("model:")
    )
    why = "as asked" if forced else "because its backtest error was lowest"
    head = (
        f"Auto mode used the {sel.strategy.replace('_', '-')} strategy {why} (mean MASE, "
        f"{how} {n_windows} window{'s' if n_windows != 1 else ''}: {comp}). "
        f"Candidates alone: {models}. "
    )
    pats = sel.details.get("demand_patterns")
    if pats:
        head += "Demand patterns (ADI/CV²): " + ", ".join(f"{n} {p}" for p, n in pats.items()) + ". "
    if sel.strategy == "ensemble":
        w = ", ".join(f"{m} {v:.2f}" for m, v in sorted(sel.weights.items(), key=lambda kv: -kv[1]))
        return head + f"Ensemble weights (inverse backtest error): {w}."
    if sel.strategy == "by_pattern":
        per = sel.details["model_per_pattern"]
        return head + "Picked " + "; ".join(f"{m} for {p} series" for p, m in per.items()) + (
            f" (best on each class); new series use {sel.fallback}."
        )
    if sel.strategy == "single":
        return head + f"Picked {sel.fallback} for all {len(sel.picks)} series (lowest mean error), new ones too."
    counts = pd.Series(sel.picks).value_counts()
    parts = [f"{m} for {n} series" for m, n in counts.items()]
    return head + "Picked " + "; ".join(parts) + f" (lowest error on each); new series use {sel.fallback}."


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


class AutoForecaster(Forecaster):
    """``make_model("auto")``: backtest candidates on the training data, then forecast with the
    best of per-series pick, inverse-error ensemble or single best model.

    Parameters: ``candidates`` (model names; default seasonal_naive, auto_ets, croston,
    lightgbm where registered), ``horizon`` (backtest horizon; default 28 days / 13 weeks),
    ``windows`` (default 2), ``strategy`` (auto, per_series, ensemble, single),
    ``future_known`` (covariates known ahead), ``selection`` (a ready :class:`Selection`, to
    skip the backtest), ``model_params`` (name -> extra parameters).
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
        windows: int = 2,
        strategy: str = "auto",
        future_known: Sequence[str] = DEFAULT_FUTURE_KNOWN,
        selection: Selection | None = None,
        model_params: dict[str, dict[str, object]] | None = None,
        season_length: int = 7,
        freq: str = "D",
        **params: object,
    ) -> None:
        super().__init__(season_length=season_length, freq=freq, **params)
        self.candidates = list(candidates) if candidates else default_candidates()
        if not self.candidates:
            raise ConfigError("Auto mode found no candidate models registered.")
        self.horizon = horizon
        self.windows = int(windows)
        self.strategy = strategy
        self.future_known = tuple(future_known)
        self.selection = selection
        self.model_params = model_params or {}

    def _params(self, name: str) -> dict[str, object]:
        return {"season_length": self.season_length, "freq": self.freq, **self.model_params.get(name, {})}

    def _fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> None:
        if self.selection is None:
            h = self.horizon or default_horizon(self.freq)
            panel = df if static_df is None else df.merge(
                static_df[[c for c in static_df.columns if c == ID or c in STATIC_COLUMNS]], on=ID, how="left"
            )
            try:
                result = backtest(
                    panel, self.candidates, h, self.windows, quantiles=None,
                    season_length=self.season_length, freq=self.freq,
                    future_known=self.future_known, model_params=self.model_params,
                )
            except ConfigError as exc:  # too little history to compare: one simple model
                self.selection = fallback_selection(self.candidates, list(df[ID].unique()), str(exc))
            else:
                self.backtest_ = result
                self.selection = select(result.forecasts, df, self.season_length, self.strategy)
        sel = self.selection
        self.explanation_ = sel.explanation
        self.models_: dict[str, Forecaster] = {}
        train = model_frame(df)
        for name in sel.models_needed:
            model = make_model(name, **self._params(name))
            data = train
            if sel.strategy != "ensemble" and not model_class(name).capabilities.global_model:
                ids = {u for u, m in sel.picks.items() if m == name}
                seen = set(sel.picks)
                if name == sel.fallback:
                    ids |= set(train[ID].unique()) - seen
                data = train[train[ID].isin(ids)]
            if data.empty:
                continue
            self.models_[name] = model.fit(data, static_df=static_df)

    def _predict(self, h: int, X_future: pd.DataFrame | None, quantiles: list[float]) -> pd.DataFrame:
        preds = {name: m.predict(h, X_future=X_future, quantiles=quantiles) for name, m in self.models_.items()}
        return self.selection.combine(preds, list(self.last_ds_.index))
