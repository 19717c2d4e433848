"""The sales hierarchy (total, store, category, store x category, item, store x item) and
reconciliation so forecasts add up across it.

Aggregation and the summing matrix come from :func:`hierarchicalforecast.utils.aggregate`;
reconciliation from :class:`hierarchicalforecast.core.HierarchicalReconciliation` with
``BottomUp`` or ``MinTrace``. Our code only maps the panel's columns to levels with readable
names and keeps the series ids the rest of trendcast uses (``S1/I001`` at the bottom).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trendcast.data.warehouse import UNKNOWN_CATEGORY
from trendcast.errors import ConfigError, InputError
from trendcast.models.base import FORECAST, ID, TARGET, TIME

# Level name -> panel columns that define it (bottom last). "total" is a constant column.
LEVELS_WITH_STORES: dict[str, list[str]] = {
    "total": ["total"],
    "store": ["store_id"],
    "category": ["category"],
    "store_category": ["store_id", "category"],
    "item": ["item_id"],
    "store_item": ["total", "store_id", "category", "item_id"],
}
LEVELS_NO_STORES: dict[str, list[str]] = {
    "total": ["total"],
    "category": ["category"],
    "item": ["total", "category", "item_id"],
}
RECONCILE_METHODS = ("none", "bottom_up", "mint")


def _clean(values: pd.Series) -> pd.Series:
    """hierarchicalforecast joins levels with '/', so a '/' inside a value would split wrongly."""
    return values.astype(str).str.replace("/", "_", regex=False)


@dataclass
class Hierarchy:
    """Which bottom series make up every aggregated series.

    ``S`` is the summing matrix (rows: every series, top to bottom; columns: bottom ids),
    ``tags`` maps level name -> series ids of that level, ``keys`` maps level name -> a Series
    from bottom unique_id to that level's id (what the metrics need).
    """

    S: pd.DataFrame
    tags: dict[str, np.ndarray]
    keys: dict[str, pd.Series]
    static: pd.DataFrame = field(repr=False)

    @property
    def bottom(self) -> str:
        return list(self.tags)[-1]

    @property
    def levels(self) -> list[str]:
        return list(self.tags)

    def level_of(self) -> pd.Series:
        """Series id -> level name."""
        return pd.Series({uid: lvl for lvl, ids in self.tags.items() for uid in ids})

    def aggregate(self, df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        """Sum ``cols`` of a bottom frame up every level (long frame over all series)."""
        parts = []
        extra = [c for c in ("cutoff",) if c in df.columns]
        for key in self.keys.values():
            d = df.assign(**{ID: df[ID].map(key)})
            parts.append(d.groupby([*extra, ID, TIME], as_index=False, sort=True)[cols].sum())
        return pd.concat(parts, ignore_index=True)


def static_frame(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per bottom series: ``unique_id, store_id, category, item_id``."""
    need = [c for c in ("item_id", "category") if c not in panel.columns]
    if need:
        raise InputError(f"The sales panel lacks {need}; the hierarchy needs item_id and category.")
    cols = [ID, "item_id", "category"] + (["store_id"] if "store_id" in panel.columns else [])
    st = panel[cols].drop_duplicates(ID).reset_index(drop=True)
    if "store_id" not in st.columns:
        st["store_id"] = ""
    st["category"] = st["category"].fillna(UNKNOWN_CATEGORY)
    return st


def build_hierarchy(static: pd.DataFrame) -> Hierarchy:
    """The hierarchy of a shop from its bottom series (``unique_id, store_id, category, item_id``).

    With more than one non-empty store id the levels are total, store, category,
    store_category, item, store_item; otherwise total, category, item.
    """
    from hierarchicalforecast.utils import aggregate

    st = static.drop_duplicates(ID).reset_index(drop=True)
    stores = st["store_id"].fillna("").astype(str)
    spec_by_name = LEVELS_WITH_STORES if (stores != "").any() else LEVELS_NO_STORES
    frame = pd.DataFrame({"total": "total", "ds": 0, "y": 0.0}, index=st.index)
    # Prefixed values keep ids unique across levels (store "1" vs department "1").
    for col, prefix in (("store_id", "store:"), ("category", "cat:"), ("item_id", "item:")):
        frame[col] = prefix + _clean(st[col].fillna(""))
    spec = list(spec_by_name.values())
    _, S_df, tags = aggregate(frame, spec)
    # aggregate() names levels by their columns; give them our names and our bottom ids.
    by_cols = {"/".join(cols): name for name, cols in spec_by_name.items()}
    bottom_cols = spec[-1]
    hf_bottom = frame[bottom_cols].agg("/".join, axis=1)
    to_uid = dict(zip(hf_bottom, st[ID], strict=True))
    named = {by_cols[k]: v for k, v in tags.items()}
    order = [n for n in spec_by_name if n in named]
    bottom_name = order[-1]
    named[bottom_name] = np.array([to_uid[v] for v in named[bottom_name]], dtype=object)
    S = S_df.rename(columns=to_uid)
    S[ID] = S[ID].map(lambda v: to_uid.get(v, v))
    tags_ordered = {n: named[n] for n in order}
    # Level keys: bottom uid -> level id, read off the summing matrix.
    mat = S.set_index(ID)
    keys: dict[str, pd.Series] = {}
    for name in order:
        sub = mat.loc[list(tags_ordered[name])]
        owner = sub.to_numpy().argmax(axis=0)
        keys[name] = pd.Series(sub.index.to_numpy()[owner], index=sub.columns)
    return Hierarchy(S=S.reset_index(drop=True), tags=tags_ordered, keys=keys, static=st)


def reconcile(
    base: pd.DataFrame,
    hierarchy: Hierarchy,
    method: str = "bottom_up",
) -> pd.DataFrame:
    """Make forecasts add up across the hierarchy.

    ``base``: forecasts for every series of the hierarchy (``unique_id, ds, forecast`` and any
    quantile columns). ``bottom_up`` sums the bottom forecasts; ``mint`` is MinTrace with
    structural scaling (``wls_struct``, sparse), which needs no in-sample residuals, so it works with
    every model. Quantile columns are shifted by the same adjustment as the mean at each series
    (a coherent-in-the-mean, pragmatic treatment: summed quantiles would be too wide).
    """
    from hierarchicalforecast.core import HierarchicalReconciliation
    from hierarchicalforecast.methods import BottomUp, MinTraceSparse

    if method not in RECONCILE_METHODS:
        raise ConfigError(f"Unknown reconciliation '{method}'; choose one of {', '.join(RECONCILE_METHODS)}.")
    if method == "none":
        return base
    all_ids = set(hierarchy.S[ID])
    missing = all_ids - set(base[ID].unique())
    if missing:
        raise ConfigError(f"Reconciliation needs forecasts for every series; {len(missing)} are missing.")
    # the sparse MinTrace: the dense one builds series x series matrices (Walmart's 4,700 series:
    # 15 s a call, against well under a second)
    reconciler = BottomUp() if method == "bottom_up" else MinTraceSparse(method="wls_struct")
    y_hat = base[[ID, TIME, FORECAST]].rename(columns={FORECAST: "base"})
    balanced = bool((y_hat.groupby(ID).size() == y_hat[TIME].nunique()).all())
    out = HierarchicalReconciliation([reconciler]).reconcile(
        Y_hat_df=y_hat, S_df=hierarchy.S, tags=hierarchy.tags, is_balanced=balanced,
    )
    rec_col = next(c for c in out.columns if c not in (ID, TIME, "base"))
    res = base.merge(out[[ID, TIME, rec_col]], on=[ID, TIME], how="left")
    shift = res[rec_col] - res[FORECAST]
    qcols = [c for c in base.columns if c.startswith("q") and c not in (ID, TIME)]
    for c in qcols:
        res[c] = res[c] + shift
    res[FORECAST] = res[rec_col]
    return res.drop(columns=rec_col)


def aggregate_panel(panel: pd.DataFrame, hierarchy: Hierarchy, future_known: list[str]) -> pd.DataFrame:
    """Every series of the hierarchy as a long frame: y summed, price/promo-like covariates averaged."""
    parts = []
    covs = [c for c in future_known if c in panel.columns]
    for key in hierarchy.keys.values():
        d = panel.assign(**{ID: panel[ID].map(key)})
        agg = {TARGET: "sum", **{c: "mean" for c in covs}}
        parts.append(d.groupby([ID, TIME], as_index=False, sort=True).agg(agg))
    return pd.concat(parts, ignore_index=True)


def bottom_up_levels(forecast: pd.DataFrame, history: pd.DataFrame, hierarchy: Hierarchy,
                     season_length: int) -> pd.DataFrame:
    """Every series of the hierarchy as the sum of its bottom forecasts, quantiles included.

    Means add up; intervals do not: a category's interval is narrower than the sum of its items'
    intervals whenever their ups and downs partly cancel. How much they cancel is read off the
    history: per aggregated series ``r`` = the standard deviation of its seasonal differences
    over the sum of its members' (1 when they move together, about 1/sqrt(n) for n independent
    ones), and each quantile's distance from the mean is its members' summed distance times ``r``.
    """
    qcols = [c for c in forecast.columns if c.startswith("q") and c not in (ID, TIME)]
    agg = hierarchy.aggregate(forecast, [FORECAST, *qcols])
    if not qcols:
        return agg

    def spread(frame: pd.DataFrame) -> pd.Series:  # per series: std of its seasonal differences
        frame = frame.sort_values([ID, TIME])
        return frame.groupby(ID)[TARGET].diff(max(1, season_length)).groupby(frame[ID]).std()

    hist = history[[ID, TIME, TARGET]]
    member = spread(hist)
    summed = pd.concat([member.groupby(key.reindex(member.index)).sum() for key in hierarchy.keys.values()])
    ratio = (spread(hierarchy.aggregate(hist, [TARGET])) / summed[~summed.index.duplicated()]).clip(0.0, 1.0)
    r = agg[ID].map(ratio).fillna(1.0)  # no history to tell: the members' summed distance
    for c in qcols:
        agg[c] = agg[FORECAST] + r * (agg[c] - agg[FORECAST])
    return agg
