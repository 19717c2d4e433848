"""The frequency of a shop's sales dates: detected at ingest, checked, and turned into SQL.

A warehouse stores one frequency in its ``config`` table (key ``freq``) as a pandas offset
alias: ``"D"`` (daily), ``"W-MON"`` .. ``"W-SUN"`` (weekly, dated on that weekday) or ``"MS"`` /
``"ME"`` (monthly, dated on the first / last day of the month). It is detected from the dates
themselves, because a shop that reports weekly totals every Friday must not be read as daily
data with six days of zero sales in between. This module sits in ``data`` so ingest can use
it; :mod:`trendcast.features.frequency` builds the modelling helpers on top of it.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from trendcast.errors import ConfigError, InputError

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FREQS = ("D", *(f"W-{d}" for d in WEEKDAYS), "MS", "ME")
RANK = {"D": 0, "W": 1, "M": 2}  # coarser frequencies can be built from finer ones by summing
MIN_DATES = 3  # fewer distinct dates than this cannot tell weekly or monthly from daily
REGULAR_SHARE = 0.8  # dates mostly on one weekday / month edge but not all: a mix, not daily


def check_freq(freq: str | None) -> str:
    """The canonical alias for ``freq`` (``"W"`` -> ``"W-SUN"``, ``"M"`` -> ``"ME"``, ...)."""
    if freq is None:
        return "D"
    text = str(freq).strip().upper()
    aliases = {"DAILY": "D", "DAY": "D", "W": "W-SUN", "WEEKLY": "W-SUN", "WEEK": "W-SUN",
               "M": "ME", "MONTHLY": "MS", "MONTH": "MS", "MONTH-START": "MS", "MONTH-END": "ME"}
    text = aliases.get(text, text)
    if text not in FREQS:
        raise ConfigError(
            f"Unknown frequency '{freq}': use D (daily), W-MON .. W-SUN (weekly, named by the "
            "weekday the dates fall on), MS (monthly, dated on the 1st) or ME (monthly, dated on "
            "the last day)."
        )
    return text


def kind(freq: str) -> str:
    """``"D"``, ``"W"`` or ``"M"``."""
    freq = check_freq(freq)
    return "D" if freq == "D" else ("W" if freq.startswith("W") else "M")


def describe(freq: str) -> str:
    """``"daily"``, ``"weekly (Fridays)"``, ``"monthly (month start)"``..."""
    freq = check_freq(freq)
    if freq == "D":
        return "daily"
    if freq == "MS":
        return "monthly (month start)"
    if freq == "ME":
        return "monthly (month end)"
    return f"weekly ({WEEKDAY_NAMES[WEEKDAYS.index(freq[2:])]}s)"


def coarser_or_same(target: str, native: str) -> bool:
    """True when data at ``native`` frequency can be summed into ``target`` periods."""
    return RANK[kind(target)] >= RANK[kind(native)]


def label_sql(col: str, freq: str) -> str:
    """SQL expression: the period label (a DATE) a day ``col`` belongs to at ``freq``.

    A weekly period labelled ``ds`` covers the seven days ending on ``ds``; ``ME`` months are
    labelled by their last day and ``MS`` months by their first.
    """
    freq = check_freq(freq)
    if freq == "D":
        return f"CAST({col} AS DATE)"
    if freq == "MS":
        return f"CAST(date_trunc('month', {col}) AS DATE)"
    if freq == "ME":
        return f"CAST(last_day({col}) AS DATE)"
    anchor = WEEKDAYS.index(freq[2:]) + 1  # isodow: Monday 1 .. Sunday 7
    return f"CAST({col} + to_days(CAST(({anchor} - isodow({col}) + 7) % 7 AS INTEGER)) AS DATE)"


def period_label(dates: pd.Series, freq: str) -> pd.Series:
    """The period label each date belongs to at ``freq`` (pandas twin of :func:`label_sql`)."""
    days = pd.to_datetime(dates).dt.normalize()
    freq = check_freq(freq)
    if freq == "D":
        return days
    if freq == "MS":
        return days.dt.to_period("M").dt.start_time
    if freq == "ME":
        return days.dt.to_period("M").dt.end_time.dt.normalize()
    anchor = WEEKDAYS.index(freq[2:])
    return days + pd.to_timedelta((anchor - days.dt.dayofweek) % 7, unit="D")


def end_sql(col: str, freq: str) -> str:
    """SQL expression: the last day of the period a day ``col`` belongs to at ``freq``."""
    freq = check_freq(freq)
    return f"CAST(last_day({col}) AS DATE)" if freq == "MS" else label_sql(col, freq)


def grid_sql(first: str, last: str, freq: str) -> str:
    """SQL table expression ``(ds)``: every period label from ``first`` to ``last`` at ``freq``."""
    freq = check_freq(freq)
    if freq == "D":
        return f"SELECT unnest(generate_series({first}, {last}, INTERVAL 1 DAY)) AS ds"
    if kind(freq) == "W":
        return f"SELECT unnest(generate_series({first}, {last}, INTERVAL 7 DAY)) AS ds"
    if freq == "MS":
        return f"SELECT unnest(generate_series({first}, {last}, INTERVAL 1 MONTH)) AS ds"
    return (f"SELECT last_day(g) AS ds FROM (SELECT unnest(generate_series("
            f"date_trunc('month', {first}), {last}, INTERVAL 1 MONTH)) AS g)")


def detect(dates: pd.Series | pd.DatetimeIndex) -> str | None:
    """The frequency the distinct sales ``dates`` follow, or None when they follow none.

    Daily data may have gaps (a day without a sales row sold nothing), so "daily" means: the
    most common gap between consecutive dates is one day and the dates are not (mostly) on one
    weekday or month edge. One date per calendar month on any day is monthly (``MS``: the
    warehouse labels each month by its first day). Fewer than :data:`MIN_DATES` dates count as
    daily.
    """
    days = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)).dropna().unique()).sort_values()
    if len(days) < MIN_DATES:
        return "D"
    n = len(days)
    if days.is_month_start.all():
        return "MS"
    if days.is_month_end.all():
        return "ME"
    gaps = Counter((days[1:] - days[:-1]).days)
    if days.to_period("M").is_unique and gaps.most_common(1)[0][0] <= 31:
        return "MS"  # one date a month on another day (the 15th, the last business day): months
    weekday = Counter(days.dayofweek)
    top_day, top_n = weekday.most_common(1)[0]
    if top_n == n:
        return f"W-{WEEKDAYS[top_day]}"
    if gaps.most_common(1)[0][0] == 1 and max(
        top_n, days.is_month_start.sum(), days.is_month_end.sum()
    ) < REGULAR_SHARE * n:
        return "D"
    return None


def dominant(dates: pd.Series | pd.DatetimeIndex) -> str:
    """The frequency most dates follow (for naming the dates that break it)."""
    days = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)).dropna().unique())
    weekday = Counter(days.dayofweek).most_common(1)[0]
    shares = {
        "MS": days.is_month_start.sum(),
        "ME": days.is_month_end.sum(),
        f"W-{WEEKDAYS[weekday[0]]}": weekday[1],
    }
    best = max(shares, key=lambda k: shares[k])
    return best if shares[best] >= REGULAR_SHARE * len(days) else "D"


def panel_freq(panel: pd.DataFrame) -> str:
    """A long frame's frequency: ``attrs["freq"]`` (set by the warehouse), else read from its dates."""
    freq = panel.attrs.get("freq")
    if freq:
        return check_freq(freq)
    return (detect(panel["ds"]) or "D") if len(panel) else "D"


def off_grid(dates: pd.Series, freq: str) -> pd.Series:
    """Boolean mask: which ``dates`` are not period labels at ``freq``."""
    days = pd.to_datetime(dates)
    freq = check_freq(freq)
    if freq == "D":
        return pd.Series(False, index=dates.index)
    if freq == "MS":
        return ~days.dt.is_month_start
    if freq == "ME":
        return ~days.dt.is_month_end
    return days.dt.dayofweek != WEEKDAYS.index(freq[2:])


def irregular_error(sample: pd.DataFrame, freq: str) -> InputError:
    """The analyst-facing error for dates that break ``freq`` (``sample``: series, date)."""
    series = sample.iloc[0]["series"]
    shown = ", ".join(f"{d:%Y-%m-%d}" for d in pd.to_datetime(sample["date"]).head(5))
    what = describe(freq)
    if freq == "D":
        hint = "dates are neither daily, weekly nor monthly"
    else:
        hint = f"most dates are {what}, but series '{series}' also has {shown}"
        return InputError(
            f"sales dates mix frequencies: {hint}. Give every series the same calendar, or pick "
            "one with --freq (D, W-MON..W-SUN, MS, ME) to sum the sales into those periods.",
            column="date",
        )
    return InputError(
        f"sales dates are irregular: {hint} (series '{series}' has {shown}). Give sales per day, "
        "per week on one weekday or per month, or pick one with --freq to sum them into periods.",
        column="date",
    )
