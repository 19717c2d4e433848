"""The hierarchy's levels and that reconciled forecasts add up exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.evaluate.hierarchy import bottom_up_levels, build_hierarchy, reconcile, static_frame

STATIC = pd.DataFrame({
    "unique_id": ["1/1", "1/2", "2/1", "2/3"],
    "store_id": ["1", "1", "2", "2"],
    "category": ["a", "b", "a", "a"],
    "item_id": ["1", "2", "1", "3"],
})


def _base(h, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = h.S["unique_id"]
    days = pd.date_range("2024-01-01", periods=5)
    base = pd.DataFrame([(u, d) for u in ids for d in days], columns=["unique_id", "ds"])
    base["forecast"] = rng.uniform(0, 20, len(base))
    base["q0.1"], base["q0.9"] = base["forecast"] - 2, base["forecast"] + 2
    return base


def test_levels_with_stores_and_unique_ids() -> None:
    h = build_hierarchy(STATIC)
    assert h.levels == ["total", "store", "category", "store_category", "item", "store_item"]
    assert sorted(h.tags["store_item"]) == sorted(STATIC["unique_id"])
    # store "1" and item "1" must not collide
    all_ids = [u for ids in h.tags.values() for u in ids]
    assert len(all_ids) == len(set(all_ids)) == 1 + 2 + 2 + 3 + 3 + 4
    assert h.keys["item"]["1/1"] == h.keys["item"]["2/1"]


def test_levels_without_stores(small_panel: pd.DataFrame) -> None:
    st = static_frame(small_panel).drop_duplicates("item_id").assign(store_id="")
    st["unique_id"] = st["item_id"]
    h = build_hierarchy(st)
    assert h.levels == ["total", "category", "item"]
    assert set(h.tags["item"]) == set(st["item_id"])


@pytest.mark.parametrize("method", ["bottom_up", "mint"])
def test_reconciled_levels_add_up(method: str) -> None:
    h = build_hierarchy(STATIC)
    base = _base(h)
    rec = reconcile(base, h, method)
    bottom = rec[rec["unique_id"].isin(h.tags[h.bottom])]
    summed = h.aggregate(bottom, ["forecast"]).merge(rec, on=["unique_id", "ds"], suffixes=("_sum", ""))
    assert len(summed) == len(rec)
    assert np.abs(summed["forecast_sum"] - summed["forecast"]).max() < 1e-6
    # base forecasts were incoherent, so reconciliation changed something
    assert not np.allclose(rec["forecast"], base.sort_values(["unique_id", "ds"])["forecast"].to_numpy())
    # quantile band moves with the mean
    assert np.allclose(rec["q0.9"] - rec["forecast"], 2.0)


def test_bottom_up_keeps_bottom_forecasts() -> None:
    h = build_hierarchy(STATIC)
    base = _base(h, seed=1)
    rec = reconcile(base, h, "bottom_up").set_index(["unique_id", "ds"])
    b = base.set_index(["unique_id", "ds"]).loc[rec.index]
    bottom = rec.index.get_level_values(0).isin(h.tags[h.bottom])
    assert np.allclose(rec.loc[bottom, "forecast"], b.loc[bottom, "forecast"])


@pytest.mark.parametrize("together", [True, False])
def test_bottom_up_quantiles_narrow_as_much_as_the_members_cancel(together: bool) -> None:
    """Members that move together: the total's interval is the sum of theirs; independent
    members: about 1/sqrt(n) of it. Means always add up, and quantiles stay in order."""
    static = pd.DataFrame({"unique_id": [f"I{i}" for i in range(16)], "store_id": "", "category": "a",
                           "item_id": [f"I{i}" for i in range(16)]})
    h = build_hierarchy(static)
    rng = np.random.default_rng(3)
    days = pd.date_range("2024-01-01", periods=200)
    common = rng.normal(0, 5, len(days))
    history = pd.concat([pd.DataFrame({"unique_id": u, "ds": days,
                                       "y": 50 + (common if together else rng.normal(0, 5, len(days)))})
                         for u in static["unique_id"]], ignore_index=True)
    future = pd.date_range("2024-07-19", periods=3)
    fc = pd.DataFrame([(u, d) for u in static["unique_id"] for d in future], columns=["unique_id", "ds"])
    fc["forecast"], fc["q0.1"], fc["q0.9"] = 50.0, 44.0, 56.0
    out = bottom_up_levels(fc, history, h, season_length=7).set_index("unique_id")
    total = out.loc["total"]
    assert np.allclose(total["forecast"], 800.0)
    ratio = (total["q0.9"] - total["forecast"]) / (16 * 6.0)
    assert (ratio > 0.9).all() if together else ((ratio > 0.15) & (ratio < 0.4)).all()  # 1/sqrt(16) = 0.25
    assert (out["q0.1"] <= out["forecast"]).all() and (out["forecast"] <= out["q0.9"]).all()
    assert np.allclose(out.loc["I0", "q0.9"], 56.0)  # the bottom keeps its own interval
