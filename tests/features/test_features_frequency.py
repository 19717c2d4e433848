"""Season lengths, default horizons, units and day-to-period conversion per frequency."""

from __future__ import annotations

import pytest

from trendcast.errors import ConfigError
from trendcast.features.frequency import (
    check_freq,
    default_horizon,
    periods_from_days,
    season_lengths,
    unit,
)


@pytest.mark.parametrize(
    ("freq", "horizon", "word"), [("D", 28, "day"), ("W-FRI", 13, "week"), ("MS", 6, "month"), ("ME", 6, "month")]
)
def test_horizon_and_unit(freq: str, horizon: int, word: str) -> None:
    assert default_horizon(freq) == horizon and unit(freq) == word


def test_season_lengths_follow_the_frequency_and_the_history() -> None:
    assert season_lengths("D", 800) == [7, 365]
    assert season_lengths("D", 400) == [7]
    assert season_lengths("W-SUN", 120) == [52]
    assert season_lengths("W-SUN", 60) == [1]  # one year of weeks cannot teach a yearly season
    assert season_lengths("MS", 36) == [12]
    assert season_lengths("D") == [7]


def test_days_become_whole_periods_rounded_up() -> None:
    assert periods_from_days(7, "D") == 7
    assert [periods_from_days(d, "W-MON") for d in (0, 1, 7, 8, 14)] == [0, 1, 1, 2, 2]
    assert periods_from_days(7, "MS") == 1 and periods_from_days(60, "ME") == 2


def test_aliases_and_unknown_frequencies() -> None:
    assert check_freq("w") == "W-SUN" and check_freq("monthly") == "MS" and check_freq("M") == "ME"
    with pytest.raises(ConfigError, match="W-MON .. W-SUN"):
        check_freq("H")
