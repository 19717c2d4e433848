"""Calendar and shopping-festival features: known for any future date, so always future-known.

E-commerce demand moves with the day of week, the season and a handful of festivals whose
dates are fixed in advance: Singles' Day (11-11), 618 (6-18), Double 12, Black Friday and Cyber
Monday, Christmas, and Chinese New Year (when logistics stop and sales drop). Chinese New Year
follows the lunar calendar, so its dates are a table (2015-2030) rather than a rule; dates
outside that range raise no error but get no Chinese New Year flag.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pandas as pd

# First day of the Chinese lunar new year (Spring Festival), 2015-2030.
CHINESE_NEW_YEAR: dict[int, str] = {
    2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28", 2018: "2018-02-16",
    2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01",
    2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17",
    2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03",
}  # fmt: skip

# Fixed-date festivals: name -> (month, day).
FIXED_FESTIVALS: dict[str, tuple[int, int]] = {
    "singles_day": (11, 11),
    "mid_year_618": (6, 18),
    "double_12": (12, 12),
    "christmas": (12, 25),
    "new_year": (1, 1),
    "valentines": (2, 14),
}

HOLIDAY_NAMES: tuple[str, ...] = (
    *FIXED_FESTIVALS,
    "black_friday",
    "cyber_monday",
    "chinese_new_year",
)
# Festivals that lift online sales (Chinese New Year depresses them, so it is not one).
SHOPPING_FESTIVALS = ("singles_day", "mid_year_618", "double_12", "black_friday", "cyber_monday")
CNY_WINDOW = (-3, 7)  # days around the Spring Festival when shops and couriers slow down
CAP = 30  # proximity features saturate after a month

CALENDAR_COLUMNS: tuple[str, ...] = (
    "cal_dayofweek",
    "cal_month",
    "cal_dayofyear",
    "cal_weekofyear",
    "cal_is_weekend",
    *(f"hol_{name}" for name in HOLIDAY_NAMES),
    "hol_days_to_festival",
    "hol_days_since_festival",
)


def black_friday(year: int) -> dt.date:
    """Day after the fourth Thursday of November (US Thanksgiving)."""
    first = dt.date(year, 11, 1)
    thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    return thursday + dt.timedelta(days=22)


@cache
def holiday_table(start_year: int = 2015, end_year: int = 2030) -> pd.DataFrame:
    """One row per holiday day: ``date, holiday`` (Chinese New Year spans its whole window)."""
    rows: list[tuple[pd.Timestamp, str]] = []
    for year in range(start_year, end_year + 1):
        for name, (month, day) in FIXED_FESTIVALS.items():
            rows.append((pd.Timestamp(year, month, day), name))
        bf = pd.Timestamp(black_friday(year))
        rows += [(bf, "black_friday"), (bf + pd.Timedelta(days=3), "cyber_monday")]
        if year in CHINESE_NEW_YEAR:
            cny = pd.Timestamp(CHINESE_NEW_YEAR[year])
            rows += [
                (cny + pd.Timedelta(days=d), "chinese_new_year")
                for d in range(CNY_WINDOW[0], CNY_WINDOW[1] + 1)
            ]
    return pd.DataFrame(rows, columns=["date", "holiday"])


def _distance_to_festival(days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Days until the next and since the last shopping festival, each capped at ``CAP``."""
    table = holiday_table(min(2015, days.min().year - 1), max(2030, days.max().year + 1))
    fest = np.sort(table.loc[table["holiday"].isin(SHOPPING_FESTIVALS), "date"].to_numpy())
    values = days.to_numpy(dtype="datetime64[ns]")
    nxt = np.searchsorted(fest, values, side="left")
    prv = np.searchsorted(fest, values, side="right") - 1
    day = np.timedelta64(1, "D")
    to_next = (fest[np.clip(nxt, 0, len(fest) - 1)] - values) / day
    since = (values - fest[np.clip(prv, 0, len(fest) - 1)]) / day
    to_next = np.where((nxt < len(fest)) & (to_next >= 0), to_next, CAP)
    since = np.where((prv >= 0) & (since >= 0), since, CAP)
    return np.minimum(to_next, CAP), np.minimum(since, CAP)


def calendar_features(ds: pd.Series | pd.DatetimeIndex) -> pd.DataFrame:
    """The :data:`CALENDAR_COLUMNS` for each timestamp (same order and length as ``ds``)."""
    days = pd.DatetimeIndex(pd.to_datetime(ds)).normalize()
    out = pd.DataFrame(
        {
            "cal_dayofweek": days.dayofweek,
            "cal_month": days.month,
            "cal_dayofyear": days.dayofyear,
            "cal_weekofyear": days.isocalendar().week.to_numpy().astype(int),
            "cal_is_weekend": (days.dayofweek >= 5).astype(int),
        }
    )
    unique = days.unique()
    table = holiday_table(min(2015, unique.min().year), max(2030, unique.max().year))
    for name in HOLIDAY_NAMES:
        dates = pd.DatetimeIndex(table.loc[table["holiday"] == name, "date"])
        out[f"hol_{name}"] = days.isin(dates).astype(int)
    to_next, since = _distance_to_festival(unique)
    lookup = pd.DataFrame({"to": to_next, "since": since}, index=unique)
    out["hol_days_to_festival"] = lookup["to"].reindex(days).to_numpy()
    out["hol_days_since_festival"] = lookup["since"].reindex(days).to_numpy()
    return out


def add_calendar(df: pd.DataFrame, time_col: str = "ds") -> pd.DataFrame:
    """A copy of ``df`` with the calendar columns appended (existing ones are replaced)."""
    feats = calendar_features(df[time_col])
    feats.index = df.index
    return pd.concat([df.drop(columns=[c for c in feats if c in df]), feats], axis=1)
