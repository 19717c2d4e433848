"""Text signals as forecast covariates: past-only, joined with a lag so the forecast day never leaks.

``add_text_signals(panel, db, lag=1)`` adds ``txt_item_*`` columns (the series' own item) and
``txt_cat_*`` columns (its category) from the warehouse tables built by
:func:`trendcast.text.signals.build_signals`, through
:func:`trendcast.features.covariates.join_covariates`: a value dated ``d`` lands on ``d + lag``.
These are *past-only* covariates: never put them in ``X_future``; a model must use their lags
(LightGBM shifts them by the horizon itself).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from trendcast.data.warehouse import Warehouse
from trendcast.errors import ConfigError
from trendcast.features.covariates import join_covariates

ASPECTS = ("price", "quality", "delivery", "packaging", "size_fit", "service", "taste_smell", "battery",
           "appearance", "effect")  # text/resources/aspects.json; missing columns are skipped
# Named groups, so benchmarks can ablate one kind of signal at a time.
FEATURE_GROUPS: dict[str, tuple[str, list[str]]] = {
    # group: (level, columns of that level's signal table)
    "item_sentiment": ("item", ["sent_mean_7d", "neg_share_7d", "rating_mean_dev"]),
    "item_volume": ("item", ["n_reviews", "n_texts_7d"]),
    "item_needs": ("item", [f"aspect_{a}_{k}" for a in ASPECTS for k in ("share", "sent")]),
    "category_buzz": ("category", ["n_social", "n_social_7d", "burst_max", "burst_max_7d"]),
    "category_sentiment": ("category", ["sent_mean_7d", "neg_share_7d"]),
}
DEFAULT_GROUPS = ("item_sentiment", "item_volume", "category_buzz", "category_sentiment")
PREFIX = {"item": "txt_item_", "category": "txt_cat_"}


def text_signal_columns(groups: Iterable[str] = DEFAULT_GROUPS) -> list[str]:
    """Panel column names the given groups add (e.g. to list or drop them)."""
    return [f"{PREFIX[level]}{c}" for g in groups for level, cols in [FEATURE_GROUPS[g]] for c in cols]


def add_text_signals(
    panel: pd.DataFrame,
    db: Path | str | Warehouse,
    lag: int = 1,
    groups: Iterable[str] = DEFAULT_GROUPS,
) -> pd.DataFrame:
    """Return ``panel`` plus the lagged text-signal columns of ``groups`` (0 where no text)."""
    from trendcast.text.signals import load_signals

    groups = list(groups)
    unknown = [g for g in groups if g not in FEATURE_GROUPS]
    if unknown:
        raise ConfigError(f"Unknown text feature group(s) {unknown}; choose from {sorted(FEATURE_GROUPS)}.")
    items, cats = load_signals(db)
    out = panel
    for level, table, key in (("item", items, "item_id"), ("category", cats, "category")):
        wanted = [c for g in groups if FEATURE_GROUPS[g][0] == level for c in FEATURE_GROUPS[g][1]]
        wanted = [c for c in dict.fromkeys(wanted) if c in table.columns]
        if not wanted or key not in out.columns:
            continue
        out = join_covariates(out, table[[key, "date", *wanted]], [key], lag=lag, prefix=PREFIX[level])
    return out
