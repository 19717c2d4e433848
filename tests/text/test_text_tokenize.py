"""Cleaning, language detection and tokenisation of Chinese, English and mixed text."""

from __future__ import annotations

from trendcast.text.clean import clean_text
from trendcast.text.language import detect_language
from trendcast.text.tokenize import add_user_words, stopwords, tokenize


def test_clean_removes_markup_urls_emoji_and_runs() -> None:
    raw = "<p>好好好好好用！！！！ see https://x.cn/a?b=1 😀&amp; more</p>"
    out = clean_text(raw)
    assert "<p>" not in out and "https" not in out and "😀" not in out
    assert "好好用" in out and "！！" in out and "！！！" not in out
    assert "&" in out
    assert clean_text(None) == ""


def test_language_detection_zh_en_mixed() -> None:
    assert detect_language("质量很好，物流很快") == "zh"
    assert detect_language("great quality, fast delivery") == "en"
    assert detect_language("这个 phone is really good value") == "mixed"
    assert detect_language("Lumo手机质量很好") == "zh"  # a brand name does not make it mixed


def test_mixed_text_tokenisation_keeps_brands_and_english_words() -> None:
    add_user_words(["Qingshan", "京东自营"])
    tokens = tokenize("这款Qingshan手机比京东自营的好, battery life is great!")
    assert "qingshan" in tokens and "京东自营" in tokens and "手机" in tokens
    assert "battery" in tokens and "great" in tokens
    assert "的" not in tokens and "is" not in tokens  # stop words dropped
    assert "," not in tokens and "!" not in tokens


def test_english_tokenizer_keeps_negation_and_drops_stopwords() -> None:
    tokens = tokenize("I didn't like the size, it was too small.")
    assert "didn't" in tokens and "size" in tokens and "small" in tokens
    assert "the" not in tokens and "i" not in tokens


def test_stopword_resources_cover_both_languages() -> None:
    words = stopwords()
    assert {"的", "了", "the", "and"} <= words
