"""Item-to-item affinity ranking and hit rate on a tiny event log."""

from __future__ import annotations

import pandas as pd
import pytest

from trendcast.decide.recommend import ItemAffinity, hit_rate, holdout_last_purchase, sessions
from trendcast.errors import InputError


def log(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_token", "item_id", "timestamp", "event"])


EVENTS = log(
    [
        ("u1", "tent", "2024-01-01 10:00", "view"),
        ("u1", "stove", "2024-01-01 10:05", "purchase"),
        ("u2", "tent", "2024-01-02 10:00", "view"),
        ("u2", "stove", "2024-01-02 10:05", "view"),
        ("u3", "tea", "2024-01-03 10:00", "purchase"),
        ("u3", "cup", "2024-01-03 10:02", "view"),
        ("u4", "tea", "2024-01-04 10:00", "view"),
        ("u4", "cup", "2024-01-04 10:01", "purchase"),
        ("u5", "tea", "2024-01-05 10:00", "purchase"),
        ("u6", "tent", "2024-01-06 10:00", "view"),
    ]
)


def test_co_viewed_item_ranks_first() -> None:
    model = ItemAffinity().fit(EVENTS)
    history = log([("new", "tent", "2024-02-01 09:00", "view")])
    rec = model.recommend(history, k=3, exclude_purchased=False)
    assert rec["item_id"].tolist()[:2] == ["tent", "stove"]  # own item, then its co-viewed partner
    assert "tea" not in rec["item_id"].tolist()[:2]
    assert rec["reason"].iloc[0] == "similar to your items"


def test_trend_boost_breaks_ties_and_unknown_users_get_popular_items() -> None:
    model = ItemAffinity().fit(EVENTS)
    history = log([("new", "tea", "2024-02-01 09:00", "view")])
    plain = model.scores(history)
    boosted = model.scores(history, trend=pd.Series({"cup": 0.5}), boost=0.4)
    assert boosted["cup"] == pytest.approx(plain["cup"] * 1.2)
    cold = model.recommend(EVENTS.iloc[0:0], k=2)
    assert cold["reason"].iloc[0] == "popular" and cold["item_id"].iloc[0] == "tea"  # most purchased


def test_sessions_split_on_idle_gap() -> None:
    ev = EVENTS.assign(timestamp=pd.to_datetime(EVENTS["timestamp"]))
    assert sessions(ev, None).nunique() == 6
    two = log([("a", "x", "2024-01-01 10:00", "view"), ("a", "y", "2024-01-01 12:00", "view")])
    two["timestamp"] = pd.to_datetime(two["timestamp"])
    assert sessions(two, 30).nunique() == 2


def test_holdout_drops_the_purchase_session_and_hit_rate_beats_popularity() -> None:
    train, test = holdout_last_purchase(EVENTS)
    assert set(test["user_token"]) == {"u1", "u3", "u4", "u5"}
    assert not ((train["user_token"] == "u4") & (train["item_id"] == "cup")).any()
    scores = hit_rate(EVENTS, k=1)
    assert 0.0 <= scores["hit_rate@1_affinity"] <= 1.0 and scores["users"] == 4.0
    with pytest.raises(InputError, match="lack column"):
        ItemAffinity().fit(EVENTS.drop(columns="event"))


def test_affinity_beats_popularity_on_small_demo(small_demo: dict) -> None:
    events = small_demo["events"].rename(columns={"user_id": "user_token"})
    scores = hit_rate(events, k=10)
    assert scores["hit_rate@10_affinity"] > scores["hit_rate@10_popularity"]
