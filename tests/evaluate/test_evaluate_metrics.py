"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trendcast.evaluate.metrics import (
    evaluate,
    per_series,
    quantile_pairs,
    trend_classes,
    trend_scores,
    wrmsse,
)

D = pd.Timestamp("2024-01-01")


def _days(n: int, start: int = 0) -> list[pd.Timestamp]:
    return [D + pd.Timedelta(days=start + i) for i in range(n)]


def test_point_and_quantile_metrics_by_hand() -> None:
    train = pd.DataFrame({"unique_id": "A", "ds": _days(6), "y": [1.0, 2, 3, 4, 5, 6]})
    fc = pd.DataFrame(
        {"unique_id": "A", "ds": _days(2, 6), "y": [7.0, 8.0], "forecast": [6.0, 10.0],
         "q0.1": [5.0, 9.0], "q0.9": [8.0, 11.0]}
    )
    row = per_series(fc, train, season_length=1).iloc[0]
    assert row["mae"] == pytest.approx(1.5)
    assert row["rmse"] == pytest.approx(math.sqrt(2.5))
    assert row["mase"] == pytest.approx(1.5)  # in-sample naive MAE is 1
    assert row["smape"] == pytest.approx((2 / 13 + 4 / 18) / 2 * 100)
    # q0.9 = [8, 11] is over by 1 and 3: cost 0.1 each unit; q0.1 = [5, 9]: under by 2, over by 1.
    assert row["pinball_q0.9"] == pytest.approx((0.1 * 1 + 0.1 * 3) / 2)
    assert row["pinball_q0.1"] == pytest.approx((0.1 * 2 + 0.9 * 1) / 2)
    assert row["pinball_mean"] == pytest.approx((0.2 + 0.55) / 2)
    assert row["coverage_0.8"] == pytest.approx(0.5)  # 7 in [5, 8]; 8 not in [9, 11]


def test_pinball_by_hand() -> None:
    train = pd.DataFrame({"unique_id": "A", "ds": _days(3), "y": [1.0, 2, 3]})
    fc = pd.DataFrame({"unique_id": "A", "ds": _days(2, 3), "y": [7.0, 8.0], "forecast": [7.0, 8.0],
                       "q0.9": [6.0, 10.0]})
    row = per_series(fc, train, season_length=1).iloc[0]
    # under by 1 costs 0.9; over by 2 costs 0.1 * 2
    assert row["pinball_q0.9"] == pytest.approx((0.9 + 0.2) / 2)
    assert row["mae"] == 0.0


def test_quantile_pairs() -> None:
    assert quantile_pairs([0.05, 0.1, 0.5, 0.9, 0.95]) == [(0.05, 0.95, 0.9), (0.1, 0.9, 0.8)]
    assert quantile_pairs([0.1, 0.5]) == []


def test_constant_history_has_no_scale_instead_of_infinity() -> None:
    train = pd.DataFrame({"unique_id": "A", "ds": _days(4), "y": [2.0] * 4})
    fc = pd.DataFrame({"unique_id": "A", "ds": _days(1, 4), "y": [3.0], "forecast": [2.0]})
    row = per_series(fc, train, season_length=1).iloc[0]
    assert np.isnan(row["mase"]) and row["mae"] == 1.0


def _two_level() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.Series]]:
    train = pd.DataFrame(
        {"unique_id": ["A"] * 3 + ["B"] * 3, "ds": _days(3) * 2,
         "y": [1.0, 3, 2, 2, 2, 4], "price": [2.0] * 3 + [1.0] * 3}
    )
    fc = pd.DataFrame(
        {"unique_id": ["A", "A", "B", "B"], "ds": _days(2, 3) * 2,
         "y": [2.0, 4, 4, 2], "forecast": [3.0, 3, 4, 4]}
    )
    levels = {"total": pd.Series({"A": "T", "B": "T"}), "bottom": pd.Series({"A": "A", "B": "B"})}
    return train, fc, levels


def test_wrmsse_two_level_hierarchy_by_hand() -> None:
    train, fc, levels = _two_level()
    # Scales (mean squared one-step change): A (4+1)/2=2.5, B (0+4)/2=2, total [3,5,6] -> 2.5.
    # MSE: A 1, B 2, total ([6,6] vs [7,7]) 1.  RMSSE: A sqrt(.4), B 1, total sqrt(.4).
    # Revenue weights over all 3 days: A 6 units x 2 = 12, B 8 x 1 = 8 -> 0.6 / 0.4.
    bottom = 0.6 * math.sqrt(0.4) + 0.4 * 1.0
    total = math.sqrt(0.4)
    res = wrmsse(fc, train, levels, weight_days=28)
    assert res["levels"]["bottom"]["wrmsse"] == pytest.approx(bottom)
    assert res["levels"]["total"]["wrmsse"] == pytest.approx(total)
    assert res["wrmsse"] == pytest.approx((bottom + total) / 2)
    # Only the last 2 days weigh: A (3+2) x 2 = 10, B (2+4) x 1 = 6 -> 0.625 / 0.375.
    res2 = wrmsse(fc, train, levels, weight_days=2)
    assert res2["levels"]["bottom"]["wrmsse"] == pytest.approx(0.625 * math.sqrt(0.4) + 0.375)


def test_wrmsse_falls_back_to_units_without_prices() -> None:
    train, fc, levels = _two_level()
    res = wrmsse(fc, train.drop(columns="price"), levels, weight_days=28)
    # Units: A 6, B 8 -> 6/14, 8/14.
    assert res["levels"]["bottom"]["wrmsse"] == pytest.approx(6 / 14 * math.sqrt(0.4) + 8 / 14)


def test_wrmsse_scale_starts_at_first_sale() -> None:
    train, fc, levels = _two_level()
    lead = pd.DataFrame({"unique_id": "A", "ds": _days(3, -3), "y": 0.0, "price": 2.0})
    with_zeros = pd.concat([lead, train], ignore_index=True)
    a = wrmsse(fc, with_zeros, {"bottom": levels["bottom"]})["levels"]["bottom"]["wrmsse"]
    b = wrmsse(fc, train, {"bottom": levels["bottom"]})["levels"]["bottom"]["wrmsse"]
    assert a == pytest.approx(b)


def test_trend_classes_and_scores() -> None:
    # Reference = mean of the last 2 training days = 10 for every series.
    train = pd.DataFrame({"unique_id": np.repeat(["up", "flat", "down"], 3), "ds": _days(3) * 3,
                          "y": [0.0, 10, 10] * 3})
    fc = pd.DataFrame({
        "unique_id": np.repeat(["up", "flat", "down"], 2), "ds": _days(2, 3) * 3,
        "forecast": [11.0, 11, 10, 10.2, 8, 9],  # +10%, +1%, -15%
        "y": [12.0, 12, 10.3, 10.3, 10, 10],  # +20%, +3%, 0%
    })
    cls = trend_classes(fc, train, threshold=0.05).set_index("unique_id")
    assert cls.loc["up", "predicted"] == "rising" and cls.loc["up", "actual"] == "rising"
    assert cls.loc["flat", "predicted"] == "flat" and cls.loc["flat", "actual"] == "flat"
    assert cls.loc["down", "predicted"] == "falling" and cls.loc["down", "actual"] == "flat"
    scores = trend_scores(cls.reset_index())
    assert scores["accuracy"] == pytest.approx(2 / 3)
    assert scores["per_class"]["flat"]["recall"] == pytest.approx(0.5)
    assert scores["per_class"]["falling"]["precision"] == 0.0
    # macro-F1 over the classes present: rising 1, flat 2/3, falling 0
    assert scores["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_evaluate_with_cutoffs_uses_history_up_to_each_cutoff() -> None:
    train = pd.DataFrame({"unique_id": "A", "ds": _days(10), "y": [1.0, 2, 3, 4, 5, 50, 70, 90, 100, 120]})
    fc = pd.DataFrame({"unique_id": "A", "ds": _days(1, 5), "y": [50.0], "forecast": [49.0],
                       "cutoff": D + pd.Timedelta(days=4)})
    res = evaluate(fc, train, season_length=1)
    assert res["bottom"]["mase"] == pytest.approx(1.0)  # scale from days 0-4 only: 1
