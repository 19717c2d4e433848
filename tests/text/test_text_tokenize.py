"""Cleaning, language detection and tokenisation of Chinese, English, mixed and other languages' text."""

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


def test_language_detection_names_other_languages() -> None:
    assert detect_language("サイズもぴったりで、履き心地が最高です。") == "ja"  # kana, though it has kanji
    assert detect_language("배송도 빠르고 품질도 아주 좋아요") == "ko"
    assert detect_language("用了之后头发真的超舒服（*＾ワ＾*）一直用沙宣の洗发水") == "zh"  # kana emoticons in Chinese
    assert detect_language("衣服不送来就一星(ノ-_-)ノ~┻━┻") == "zh"
    assert detect_language("Отличный товар, быстрая доставка") == "ru"
    assert detect_language("Muy mala calidad, se rompió a la semana") == "es"
    assert detect_language("Sehr gute Qualität, schnelle Lieferung") == "de"
    assert detect_language("Produit cassé à la réception, très déçu") == "fr"
    # short English reviews look like many languages: they stay English unless langid is sure
    for text in ("Perfect fit", "Love it", "ok", "meh", "Five stars", "Works great", "Nice"):
        assert detect_language(text) == "en", text
    assert detect_language("12345 !!!") == "en"  # no letters: nothing to read
    # accents are the tell on short reviews: English almost never has them, an English guess keeps it
    assert [detect_language(t) for t in ("Llegó roto", "Não gostei")] == ["es", "pt"]
    assert [detect_language(t) for t in ("Great café", "naïve design, works")] == ["en", "en"]


def test_english_words_keep_their_accents() -> None:
    assert tokenize("Great café, naïve design", lang="en") == ["great", "café", "naïve", "design"]


def test_other_languages_get_unicode_words_and_their_stop_words() -> None:
    assert tokenize("La batería dura poco y la pantalla se rompió") == ["batería", "dura", "pantalla", "rompió"]
    assert tokenize("Отличный товар и быстрая доставка") == ["отличный", "товар", "быстрая", "доставка"]
    tokens = tokenize("このiPhoneケースはデザインが最高です")
    assert {"iphone", "ケース", "デザイン", "最高"} <= set(tokens) and "この" not in tokens  # hiragana runs dropped
    assert tokenize("壊れていました") == ["壊"] and tokenize("質がいい") == ["質"]  # a lone kanji is a stem


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
