"""What a frequency means for modelling: season lengths, default horizon, units, day counts.

The warehouse's frequency (``Warehouse.frequency()``, a pandas alias such as ``"D"``,
``"W-FRI"`` or ``"MS"``) decides every period-based number downstream, so they are defined
once, here: a forecast of 13 weeks and a lead time of 7 days must mean the same thing in the
forecast, the backtest and the inventory plan.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from trendcast.data.periods import check_freq, describe, kind

__all__ = [
    "check_freq", "default_horizon", "describe", "kind", "period_grid", "period_of",
    "periods_from_days", "recent_days", "recent_periods", "season_length", "season_lengths", "shift_periods", "unit",
]

DAYS_PER_PERIOD = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
HORIZONS = {"D": 28, "W": 13, "M": 6}
YEAR = {"D": 365, "W": 52, "M": 12}
RECENT = {"D": 28, "W": 8, "M": 3}


def unit(freq: str) -> str:
    """``"day"``, ``"week"`` or ``"month"``: for labels such as "units per week"."""
    return {"D": "day", "W": "week", "M": "month"}[kind(freq)]


def recent_periods(freq: str) -> int:
    """Periods that make "recent" for a current level: 28 days, 8 weeks or 3 months (one
    week or one month alone is too noisy, and a month may be a promotion month)."""
    return RECENT[kind(freq)]


def recent_days(freq: str) -> int:
    """:func:`recent_periods` in days (28, 56 or 91), for sources kept by the day such as texts."""
    return round(recent_periods(freq) * DAYS_PER_PERIOD[kind(freq)])


def default_horizon(freq: str) -> int:
    """Periods forecast when none is asked for: 28 days, 13 weeks or 6 months."""
    return HORIZONS[kind(freq)]


def season_lengths(freq: str, n_periods: int | None = None) -> list[int]:
    """Seasonal periods worth modelling for ``n_periods`` of history, main one first.

    Daily: the week (7), plus the year (365) when at least two years are there to learn it;
    weekly: the year (52); monthly: the year (12). A season needs two full cycles of history,
    otherwise it is dropped (and the list falls back to ``[1]``: no season).
    """
    k = kind(check_freq(freq))
    cycles = [7, 365] if k == "D" else [YEAR[k]]
    if n_periods is None:
        return cycles[:1]
    keep = [s for s in cycles if n_periods >= 2 * s]
    return keep or [1]


def season_length(freq: str, n_periods: int | None = None) -> int:
    """The main seasonal period (first of :func:`season_lengths`)."""
    return season_lengths(freq, n_periods)[0]


def periods_from_days(days: float, freq: str) -> int:
    """Whole periods that cover ``days`` days (rounded up; 0 days stays 0): 7 days = 1 week."""
    if days <= 0:
        return 0
    return max(1, math.ceil(days / DAYS_PER_PERIOD[kind(freq)] - 1e-9))


# -- daily facts onto periods (text, behaviour, holidays) -------------------------------------
# Contract: a period labelled ``ds`` holds the days in ``(ds - 1 period, ds]``. Labelling a day
# with the first period label on or after it keeps every aggregate causal: the value labelled
# ``ds`` only uses days up to ``ds`` itself, whichever weekday or month edge the shop dates by.
def period_grid(first: pd.Timestamp, last: pd.Timestamp, freq: str, pad: int = 2) -> pd.DatetimeIndex:
    """Every period label from before ``first`` to after ``last`` (``pad`` spare periods each side)."""
    off = pd.tseries.frequencies.to_offset(check_freq(freq))
    return pd.date_range(pd.Timestamp(first) - (pad + 1) * off, pd.Timestamp(last) + (pad + 1) * off, freq=off)


def period_of(days: pd.Series | pd.DatetimeIndex, freq: str) -> np.ndarray:
    """The label of the period each day falls in: the first period label on or after it."""
    days = pd.DatetimeIndex(pd.to_datetime(days)).normalize()
    if kind(freq) == "D" or len(days) == 0:
        return days.to_numpy(dtype="datetime64[ns]")
    values = period_grid(days.min(), days.max(), freq).to_numpy(dtype="datetime64[ns]")
    return values[np.searchsorted(values, days.to_numpy(dtype="datetime64[ns]"), side="left")]


def shift_periods(labels: pd.Series | np.ndarray, n: int, freq: str) -> np.ndarray:
    """Period labels moved ``n`` periods later (the value of period P is used at P + n)."""
    idx = pd.DatetimeIndex(pd.to_datetime(labels))
    if len(idx) == 0:
        return idx.to_numpy(dtype="datetime64[ns]")
    if kind(freq) == "D":
        return (idx + pd.Timedelta(days=n)).to_numpy(dtype="datetime64[ns]")
    grid = period_grid(idx.min(), idx.max(), freq, pad=n + 2).to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(grid, idx.to_numpy(dtype="datetime64[ns]"), side="left")
    return grid[pos + n]
