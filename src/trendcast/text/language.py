"""Language detection: Chinese and English, which trendcast reads best, and the others it meets.

Chinese vs English is decided by the share of CJK ideographs among letters (a text with a real
share of both is ``mixed``, routed to the Chinese tokenizer, which keeps Latin words intact).
Kana means Japanese and Hangul Korean, unless they are a sprinkle in Chinese (emoticons, の).
Any other text with letters goes to py3langid (langid.py's model, shipped in the package),
limited to the languages of :data:`LANGUAGES`; a Latin-script text stays English unless
py3langid is fairly sure (:data:`MIN_CONFIDENCE`), because short English reviews ("Perfect fit", "Love it") look
like many languages and the English models are better than the multilingual one on English.
A text with accented Latin letters (ó, ñ, ã, ü, ß...) is not held to that bar: English reviews
almost never carry them (1 of 1,429 Amazon reviews), so py3langid's best non-English guess is
taken ("Llegó roto" is Spanish even at 0.42), and an English guess still keeps it English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z]")
_ACCENTED = re.compile(r"[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")  # Latin letters with diacritics
# a letter outside the Latin and CJK scripts (Cyrillic, Greek, Arabic, Thai...)
_OTHER_LETTER = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

OWN_SCRIPT_SHARE = 0.3  # kana (Hangul) among kana (Hangul) and ideographs that makes a text Japanese (Korean)
MIXED_BAND = (0.2, 0.6)  # CJK share of letters (a Latin word counts as one letter-unit)
# languages py3langid may answer: those of most online shops (fewer classes, surer answers on
# short reviews than its full 97)
LANGUAGES = (
    "en", "es", "fr", "de", "it", "pt", "nl", "pl", "ru", "uk", "tr", "id", "ms", "vi",
    "sv", "da", "no", "fi", "cs", "sk", "ro", "hu", "el", "bg", "ar", "he", "th", "hi",
)
MIN_CONFIDENCE = 0.5  # py3langid's normalised probability needed to call a Latin text non-English
CLASSIFY_CHARS = 200  # enough to tell languages apart; long reviews cost no more than that


def cjk_share(text: str) -> float:
    """Share of CJK characters among CJK characters plus Latin *words* (0 when neither)."""
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    total = cjk + latin_words
    return cjk / total if total else 0.0


@lru_cache(maxsize=1)
def _identifier():  # noqa: ANN202 - py3langid has no types
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


@lru_cache(maxsize=65_536)  # the same text is asked for by sentiment, tokens, aspects...
def detect_language(text: str) -> str:
    """``zh``, ``en``, ``mixed`` or another ISO 639-1 code (``es``, ``ja``, ``ru``...).

    Texts without letters count as ``en`` (nothing to segment, nothing to score).
    """
    text = text or ""
    n_cjk = len(_CJK.findall(text))
    for script, code in ((_KANA, "ja"), (_HANGUL, "ko")):  # a kana emoticon in Chinese ("ヽ(*з｀*)") is not Japanese
        n = len(script.findall(text))
        if n and n >= OWN_SCRIPT_SHARE * (n + n_cjk):
            return code
    share = cjk_share(text)
    if share >= MIXED_BAND[1]:
        return "zh"
    if share > MIXED_BAND[0]:
        return "mixed"
    if share > 0 and not _LATIN.search(text):
        return "zh"
    other_script = bool(_OTHER_LETTER.search(text))
    if not other_script and not _LATIN.search(text):
        return "en"
    lang, confidence = _identifier().classify(text[:CLASSIFY_CHARS])
    if other_script or (lang != "en" and (confidence >= MIN_CONFIDENCE or _ACCENTED.search(text))):
        return str(lang)
    return "en"


def detect_languages(texts: Iterable[str]) -> list[str]:
    """Vectorised convenience for a column."""
    return [detect_language(t) for t in texts]


def base_language(lang: str) -> str:
    """The pipeline a language goes through: ``zh`` (Chinese and mixed), ``en``, or ``other``."""
    if lang in ("zh", "mixed"):
        return "zh"
    return "en" if lang == "en" else "other"
