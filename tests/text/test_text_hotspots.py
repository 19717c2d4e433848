"""Burst detection finds a planted burst and stays quiet on flat data; topics get readable labels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.text.hotspots import burst_scores, term_counts, top_bursts, topic_clusters


def _posts(rng: np.random.Generator, days: int, burst: tuple[int, int] | None) -> tuple[list, list]:
    """Background chatter every day; a burst adds many posts with the term '露营' for some days."""
    dates, tokens = [], []
    start = pd.Timestamp("2024-01-01")
    for d in range(days):
        day = start + pd.Timedelta(days=d)
        for _ in range(rng.poisson(20)):
            dates.append(day)
            tokens.append(list(rng.choice(["质量", "价格", "物流", "quality", "price", "帐篷"], 2)))
        if rng.random() < 0.1:  # the term appears now and then anyway
            dates.append(day)
            tokens.append(["露营", "帐篷"])
        if burst and burst[0] <= d < burst[1]:
            for _ in range(rng.poisson(12)):
                dates.append(day)
                tokens.append(["露营", "帐篷"])
    return dates, tokens


def test_planted_burst_is_found_at_the_right_time() -> None:
    rng = np.random.default_rng(0)
    dates, tokens = _posts(rng, 120, burst=(80, 90))
    best = top_bursts(term_counts(dates, tokens), top=3)
    assert best.iloc[0]["term"] == "露营"
    peak = (pd.Timestamp(best.iloc[0]["date"]) - pd.Timestamp("2024-01-01")).days
    assert 80 <= peak < 90
    assert best.iloc[0]["burst"] > 5


def test_flat_data_has_no_strong_burst() -> None:
    rng = np.random.default_rng(1)
    dates, tokens = _posts(rng, 120, burst=None)
    scores = burst_scores(term_counts(dates, tokens))
    assert scores.to_numpy().max() < 4.0  # background noise stays below the burst level


def test_burst_score_uses_only_past_days() -> None:
    counts = pd.DataFrame({"x": [2.0] * 30 + [20.0] + [2.0] * 5},
                          index=pd.date_range("2024-01-01", periods=36, freq="D"))
    before = burst_scores(counts)
    changed = counts.copy()
    changed.iloc[32:, 0] = 50.0  # the future changes ...
    after = burst_scores(changed)
    assert before.iloc[:32].equals(after.iloc[:32])  # ... earlier scores do not
    assert before.iloc[30, 0] > 5


def test_topic_clusters_have_term_labels() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=16), rng.normal(size=16)
    vecs = np.vstack([a + 0.05 * rng.normal(size=16) for _ in range(20)] + [b + 0.05 * rng.normal(size=16) for _ in range(20)])
    toks = [["物流", "快递"]] * 20 + [["质量", "做工"]] * 20
    ids, labels = topic_clusters(vecs, toks, k=2)
    assert len(set(ids[:20])) == 1 and len(set(ids[20:])) == 1 and ids[0] != ids[20]
    assert "物流" in labels[ids[0]] and "质量" in labels[ids[20]]


def test_hot_spot_topic_label_matches_its_terms() -> None:
    """Planted topics: a generic word in every text must not drag the diaper burst under 'delivery'."""
    from trendcast.text.hotspots import _matching_topic, topic_model

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 16))
    planted = {0: ["快递", "物流", "到货", "很快"], 1: ["尿不湿", "宝宝", "纸尿裤", "快递"], 2: ["电池", "续航", "手机", "快递"]}
    vecs, toks, ids_true = [], [], []
    for topic, words in planted.items():
        for _ in range(30 if topic == 0 else 12):
            vecs.append(centres[topic] + 0.05 * rng.normal(size=16))
            toks.append(list(rng.permutation(words)[:3]) + ["快递"])
            ids_true.append(topic)
    ids, terms, labels = topic_model(np.vstack(vecs), toks, k=3)
    diaper = ids[ids_true.index(1)]
    assert "尿不湿" in labels[diaper] or "纸尿裤" in labels[diaper]
    assert all("快递" not in labels[c] for c in labels if c != ids[0])  # the generic word labels no other topic
    # a burst of "尿不湿" whose texts mostly sit in the delivery topic (by count) still gets the diaper topic
    hit_topics = pd.Series([ids[0]] * 5 + [diaper] * 3)
    terms_of = {c: set(t) for c, t in terms.items()}
    assert _matching_topic(hit_topics, ["尿不湿"], terms_of, labels) == labels[diaper]
    assert _matching_topic(hit_topics, ["不存在"], terms_of, labels) == ""  # no match: no contradicting label


def test_small_topics_are_not_named_after_a_few_texts() -> None:
    from trendcast.text.hotspots import topic_model

    rng = np.random.default_rng(2)
    vecs = np.vstack([rng.normal(size=8) + 5 for _ in range(20)] + [rng.normal(size=8) - 5 for _ in range(2)])
    toks = [["质量", "很好"]] * 20 + [["奇怪", "的词"]] * 2
    ids, _, labels = topic_model(vecs, toks, k=2, min_size=5)
    assert labels[ids[-1]].startswith("misc") and "质量" in labels[ids[0]]
