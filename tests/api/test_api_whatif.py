"""Price what-if: an item the data cannot give an elasticity for is a clear 'not ready', not a crash."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.api.whatif import estimate_for_item
from trendcast.errors import NotReadyError


class _NoTables:
    def tables(self) -> list[str]:
        return []


def test_an_item_whose_price_never_moved_has_no_elasticity_to_give() -> None:
    days = pd.date_range("2024-01-01", periods=120)
    rng = np.random.default_rng(0)
    panel = pd.concat([pd.DataFrame({"unique_id": f"I{i}", "ds": days, "y": rng.poisson(5, len(days)).astype(float),
                                     "item_id": f"I{i}", "store_id": "", "category": "c", "price": 10.0 + i,
                                     "promo": 0}) for i in range(3)], ignore_index=True)
    panel.attrs["freq"] = "D"
    with pytest.raises(NotReadyError, match="no price variation"):
        estimate_for_item(_NoTables(), lambda: panel, "I1")
