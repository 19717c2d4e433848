"""Tokenisation: jieba for Chinese (with brand/product words added), a regex word tokenizer for English.

Mixed text ("这款Lumo手机") goes through jieba, which keeps Latin runs as whole tokens. Stop
words come from the shipped resource files; punctuation and single Latin letters are dropped
so term counts (hot spots, TF-IDF labels) are about words that mean something.

Other languages (see :mod:`trendcast.text.language`) get Unicode words ("calidad", "доставка")
with the stop words of ``stopwordsiso``; Japanese, written without spaces, is cut where the
script changes (kanji, katakana and Latin runs; hiragana runs are mostly grammar and dropped),
a rough cut that keeps product words and loanwords whole.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from trendcast.text.language import base_language, detect_language

_EN_WORD = re.compile(r"[a-z0-9\u00df-\u00f6\u00f8-\u024f]+(?:['\-][a-z0-9\u00df-\u00f6\u00f8-\u024f]+)*")  # "café" whole
_KEEP = re.compile(r"[\w\u3400-\u9fff]")  # a token must contain a letter, digit or ideograph
_WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")  # any script's words (Latin with accents, Cyrillic...)
_KANJI = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_JA_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[\u30a0-\u30ff\u31f0-\u31ffー]+|[A-Za-z0-9]+")
_user_words: set[str] = set()


def _read_resource(name: str) -> list[str]:
    text = resources.files("trendcast.text.resources").joinpath(name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Chinese and English stop words from ``resources/stopwords_{zh,en}.txt``."""
    return frozenset(_read_resource("stopwords_zh.txt") + _read_resource("stopwords_en.txt"))


@lru_cache(maxsize=64)
def language_stopwords(lang: str) -> frozenset[str]:
    """:func:`stopwords` plus, for other languages, those of ``stopwordsiso`` (if it has any)."""
    if base_language(lang) != "other":
        return stopwords()
    import stopwordsiso

    return stopwords() | (frozenset(stopwordsiso.stopwords(lang)) if stopwordsiso.has_lang(lang) else frozenset())


@lru_cache(maxsize=1)
def _jieba():  # noqa: ANN202 - jieba has no types
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def add_user_words(words: Iterable[str], freq: int = 20_000) -> int:
    """Teach jieba brand / product words (e.g. the products table's brand column) so they stay whole.

    Returns how many new words were added. Idempotent: a word already added is skipped.
    """
    jieba = _jieba()
    added = 0
    for w in words:
        w = str(w).strip()
        if w and w not in _user_words:
            jieba.add_word(w, freq=freq)
            _user_words.add(w)
            added += 1
    return added


def load_user_dict(path: str) -> None:
    """Load a jieba user dictionary file (``word [freq] [tag]`` per line)."""
    _jieba().load_userdict(path)


def tokenize(text: str, lang: str | None = None, drop_stopwords: bool = True) -> list[str]:
    """Lower-cased word tokens of ``text``; ``lang`` (zh, en, mixed, es...) is detected when not given."""
    lang = lang or detect_language(text)
    base = base_language(lang)
    if base == "zh":
        raw = (t.strip().lower() for t in _jieba().lcut(text))
        tokens = [t for t in raw if t and _KEEP.search(t) and not (len(t) == 1 and t.isascii())]
    elif base == "en":
        tokens = [t for t in _EN_WORD.findall(text.lower()) if len(t) > 1 or t.isdigit()]
    elif lang == "ja":
        # a lone kanji before kana is a word's stem (壊れた -> 壊, 質がいい -> 質); lone kana are not words
        tokens = [t for t in _JA_RUN.findall(text.lower()) if len(t) > 1 or _KANJI.fullmatch(t)]
    else:
        tokens = [t for t in _WORD.findall(text.lower()) if len(t) > 1 or t.isdigit()]
    if drop_stopwords:
        stop = language_stopwords(lang)
        tokens = [t for t in tokens if t not in stop]
    return tokens
