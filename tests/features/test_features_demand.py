"""Demand pattern classification (ADI / CV²) on hand-computed series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.features.demand import demand_pattern


def _frame(series: dict[str, list[float]]) -> pd.DataFrame:
    return pd.concat(
        [pd.DataFrame({"unique_id": u, "ds": pd.date_range("2024-01-01", periods=len(y)), "y": y})
         for u, y in series.items()],
        ignore_index=True,
    )


def test_the_four_classes_and_their_numbers() -> None:
    out = demand_pattern(_frame({
        "smooth": [10, 11, 9, 10, 10, 11, 9, 10],  # sells every day, sizes steady
        "erratic": [1, 20, 2, 30, 1, 25, 2, 40],  # every day, sizes swing
        "intermittent": [5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0],  # ADI 4, CV² 0
        "lumpy": [1, 0, 0, 40, 0, 0, 2, 0, 0, 60, 0, 0],
    })).set_index("unique_id")
    assert out["pattern"].to_dict() == {
        "smooth": "smooth", "erratic": "erratic", "intermittent": "intermittent", "lumpy": "lumpy",
    }
    assert out.loc["intermittent", "adi"] == pytest.approx(12 / 3)
    assert out.loc["intermittent", "cv2"] == 0.0
    sizes = np.array([1, 40, 2, 60.0])
    assert out.loc["lumpy", "cv2"] == pytest.approx((sizes.std() / sizes.mean()) ** 2)


def test_days_before_the_first_sale_do_not_count() -> None:
    out = demand_pattern(_frame({"late_launch": [0] * 30 + [4, 5, 4, 5], "never": [0, 0, 0]}))
    out = out.set_index("unique_id")
    assert out.loc["late_launch", "adi"] == 1.0 and out.loc["late_launch", "pattern"] == "smooth"
    assert np.isinf(out.loc["never", "adi"]) and out.loc["never", "pattern"] == "intermittent"
