"""Language detection for the two languages trendcast reads: a CJK-share rule.

A statistical detector is overkill for zh vs en: the share of CJK ideographs among letters
decides, and a text with a real share of both is flagged ``mixed`` (still routed to the
Chinese tokenizer, which keeps Latin words intact).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")

MIXED_BAND = (0.2, 0.6)  # CJK share of letters (a Latin word counts as one letter-unit)


def cjk_share(text: str) -> float:
    """Share of CJK characters among CJK characters plus Latin *words* (0 when neither)."""
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    total = cjk + latin_words
    return cjk / total if total else 0.0


def detect_language(text: str) -> str:
    """``zh``, ``en`` or ``mixed``. Texts without letters count as ``en`` (nothing to segment)."""
    share = cjk_share(text or "")
    if share >= MIXED_BAND[1]:
        return "zh"
    if share > MIXED_BAND[0]:
        return "mixed"
    if share > 0 and not _LATIN.search(text):
        return "zh"
    return "en"


def detect_languages(texts: Iterable[str]) -> list[str]:
    """Vectorised convenience for a column."""
    return [detect_language(t) for t in texts]


def base_language(lang: str) -> str:
    """Collapse ``mixed`` onto ``zh`` (the Chinese pipeline handles embedded English words)."""
    return "zh" if lang in ("zh", "mixed") else "en"
