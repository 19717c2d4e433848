"""Tokenisation: jieba for Chinese (with brand/product words added), a regex word tokenizer for English.

Mixed text ("这款Lumo手机") goes through jieba, which keeps Latin runs as whole tokens. Stop
words come from the shipped resource files; punctuation and single Latin letters are dropped
so term counts (hot spots, TF-IDF labels) are about words that mean something.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from trendcast.text.language import base_language, detect_language

_EN_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
_KEEP = re.compile(r"[\w\u3400-\u9fff]")  # a token must contain a letter, digit or ideograph
_user_words: set[str] = set()


def _read_resource(name: str) -> list[str]:
    text = resources.files("trendcast.text.resources").joinpath(name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Chinese and English stop words from ``resources/stopwords_{zh,en}.txt``."""
    return frozenset(_read_resource("stopwords_zh.txt") + _read_resource("stopwords_en.txt"))


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
    """Lower-cased word tokens of ``text``; ``lang`` (zh/en/mixed) is detected when not given."""
    lang = base_language(lang or detect_language(text))
    if lang == "zh":
        raw = (t.strip().lower() for t in _jieba().lcut(text))
        tokens = [t for t in raw if t and _KEEP.search(t) and not (len(t) == 1 and t.isascii())]
    else:
        tokens = [t for t in _EN_WORD.findall(text.lower()) if len(t) > 1 or t.isdigit()]
    if drop_stopwords:
        stop = stopwords()
        tokens = [t for t in tokens if t not in stop]
    return tokens
