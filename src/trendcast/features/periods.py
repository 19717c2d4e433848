"""Daily facts onto the periods of the sales data (contract: a period labelled ``ds`` holds the
days in ``(ds - 1 period, ds]``), so any daily signal can meet daily, weekly or monthly sales.

Labelling a day with the first period label on or after it keeps every aggregate causal: the
value labelled ``ds`` only uses days up to ``ds`` itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError


def offset(freq: str) -> pd.DateOffset:
    """The pandas offset of a frequency alias, with a message a shop analyst understands."""
    try:
        return pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise ConfigError(f"Unknown frequency '{freq}': use D, W-MON..W-SUN, MS or ME.") from None


def unit(freq: str) -> str:
    """``day``, ``week`` or ``month``: the word for one period, for labels."""
    f = freq.upper()
    if f.startswith("W"):
        return "week"
    if f.startswith("M"):
        return "month"
    return "day"


def is_daily(freq: str) -> bool:
    return unit(freq) == "day"


def period_grid(first: pd.Timestamp, last: pd.Timestamp, freq: str, pad: int = 2) -> pd.DatetimeIndex:
    """Every period label from before ``first`` to after ``last`` (``pad`` spare periods each side)."""
    off = offset(freq)
    return pd.date_range(pd.Timestamp(first) - (pad + 1) * off, pd.Timestamp(last) + (pad + 1) * off, freq=off)


def period_of(days: pd.Series | pd.DatetimeIndex, freq: str) -> np.ndarray:
    """The label of the period each day falls in: the first period label on or after it."""
    days = pd.DatetimeIndex(pd.to_datetime(days)).normalize()
    if is_daily(freq) or len(days) == 0:
        return days.to_numpy(dtype="datetime64[ns]")
    grid = period_grid(days.min(), days.max(), freq)
    values = grid.to_numpy(dtype="datetime64[ns]")
    return values[np.searchsorted(values, days.to_numpy(dtype="datetime64[ns]"), side="left")]


def shift_periods(labels: pd.Series | np.ndarray, n: int, freq: str) -> np.ndarray:
    """Period labels moved ``n`` periods later (the value of period P is used at P + n)."""
    idx = pd.DatetimeIndex(pd.to_datetime(labels))
    if len(idx) == 0:
        return idx.to_numpy(dtype="datetime64[ns]")
    if is_daily(freq):
        return (idx + pd.Timedelta(days=n)).to_numpy(dtype="datetime64[ns]")
    grid = period_grid(idx.min(), idx.max(), freq, pad=n + 2).to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(grid, idx.to_numpy(dtype="datetime64[ns]"), side="left")
    return grid[pos + n]


def period_days(freq: str) -> int:
    """Rough days per period (for caps and windows)."""
    return {"day": 1, "week": 7, "month": 30}[unit(freq)]
