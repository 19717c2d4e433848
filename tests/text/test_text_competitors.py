"""Competitors: names learnt near comparison cues, clause-level sentiment, share of voice in the warehouse."""

from __future__ import annotations

from pathlib import Path

from trendcast.data.warehouse import Warehouse
from trendcast.text.competitors import (
    build_competitors,
    competitor_patterns,
    competitor_summary,
    find_mentions,
    learn_competitors,
)
from trendcast.text.mentions import load_mentions


def test_names_near_comparison_cues_are_learnt_with_minimum_support() -> None:
    texts = ["This dryer works better than Dyson for half the price", "Cheaper than Dyson and just as good",
             "I switched from Dyson and never looked back", "Honestly nicer than Remington", "Love it"]
    assert learn_competitors(texts, min_texts=3) == ["Dyson"]  # Remington: one sighting is noise
    zh = ["这个比小米的好用多了", "还是小米的好", "没有小米的好用", "不如华为"]
    assert "小米" in learn_competitors(zh, min_texts=3)


def test_mention_sentiment_is_the_clause_not_the_review() -> None:
    pats = competitor_patterns(load_mentions(), learnt=["Dyson"])
    found = find_mentions(["京东上买的更便宜，这家太贵了", "dyson is garbage but this one is wonderful"], pats)
    assert set(zip(found["row"], found["competitor"], strict=True)) == {(0, "京东"), (1, "Dyson")}
    assert dict(zip(found["competitor"], found["clause"], strict=True))["Dyson"] == "dyson is garbage"


def test_share_of_voice_table(fresh_warehouse: Path) -> None:
    with Warehouse(fresh_warehouse) as wh:
        daily = build_competitors(wh)
        weekly = competitor_summary(wh, freq="W")
    assert len(daily) and daily["sent_mean"].between(-1, 1).all()
    assert daily.groupby("date")["share_of_voice"].sum().round(6).eq(1.0).all()
    assert {"MegaMart", "ShopRival"} <= set(daily["competitor"])  # the demo shop's rivals
    assert weekly.groupby("period")["share_of_voice"].sum().round(2).eq(1.0).all()
    from trendcast.cli import main

    assert main(["competitors", "--db", str(fresh_warehouse), "--freq", "M"]) == 0
    assert main(["aspects", "--db", str(fresh_warehouse)]) == 1  # not built yet: a clear error, not a crash
