"""Readable names for model features ("units sold 7 days ago" instead of ``lag7``).

Uses :func:`trendcast.features.fusion.feature_label` when the build has it (it knows every
covariate it made); until then this small mapping covers the names mlforecast, the calendar
and the text signals produce. Unknown names are shown as they are.
"""

from __future__ import annotations

import re

from trendcast.report.data import period_unit

_FIXED = {
    "item_id": "which item it is", "store_id": "which store", "category": "product category",
    "unique_id": "which series", "price": "price", "promo": "on promotion", "dayofweek": "day of the week",
    "day_of_week": "day of the week", "weekday": "day of the week", "month": "month of the year",
    "day": "day of the month", "dayofmonth": "day of the month", "week": "week of the year",
    "weekofyear": "week of the year", "year": "year", "quarter": "quarter", "dayofyear": "day of the year",
    "is_holiday": "public holiday", "holiday": "public holiday", "is_weekend": "weekend",
    "price_ratio": "price against the item's usual price", "price_rel": "price against the item's usual price",
    "discount": "discount",
}
_SIGNALS = {
    "sent_mean": "review sentiment", "neg_share": "share of negative texts", "n_texts": "texts written",
    "n_reviews": "reviews written", "n_social": "social posts", "burst_max": "text burst strength",
    "rating_mean": "mean star rating", "rating_dev": "star rating against 3",
}


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


def local_label(name: str, freq: str = "D") -> str:
    """A readable label for ``name`` from the patterns mlforecast and trendcast use."""
    unit = period_unit(freq)
    if name in _FIXED:
        return _FIXED[name]
    if name.startswith("cal_") and name[4:] in _FIXED:
        return _FIXED[name[4:]]
    if m := re.fullmatch(r"lag(\d+)", name):
        return f"units sold {_plural(int(m.group(1)), unit)} ago"
    if m := re.fullmatch(r"rolling_(mean|std|min|max)_lag(\d+)_window_size(\d+)", name):
        stat = {"mean": "mean", "std": "variability of", "min": "lowest", "max": "highest"}[m.group(1)]
        return f"{stat} units over {_plural(int(m.group(3)), unit)}, up to {_plural(int(m.group(2)), unit)} ago"
    if m := re.fullmatch(r"seasonal_rolling_mean_lag(\d+)_season_length(\d+)_window_size(\d+)", name):
        return (f"mean units on the same weekday over {m.group(3)} seasons, "
                f"up to {_plural(int(m.group(1)), unit)} ago")
    if m := re.fullmatch(r"exponentially_weighted_mean_lag(\d+)_alpha([\d.]+)", name):
        return f"recent units, smoothed (weight {m.group(2)}), up to {_plural(int(m.group(1)), unit)} ago"
    if m := re.fullmatch(r"expanding_mean_lag(\d+)", name):
        return "average units over the whole history"
    for prefix, label in _SIGNALS.items():
        if m := re.fullmatch(rf"{prefix}(?:_(\d+)d)?(?:_lag(\d+))?", name):
            text = label + (f", {m.group(1)}-day mean" if m.group(1) else "")
            return text + (f", {_plural(int(m.group(2)), unit)} earlier" if m.group(2) else "")
    if name.startswith("need_"):
        return f"texts about {name[5:].replace('_', ' ')}"
    if name.startswith("comp_"):
        return f"texts naming competitor {name[5:]}"
    return name


def feature_label(name: str, freq: str = "D") -> str:
    """fusion's label when available, else :func:`local_label`."""
    try:
        from trendcast.features.fusion import feature_label as fused_label
    except ImportError:
        return local_label(name, freq)
    return fused_label(name, freq)
