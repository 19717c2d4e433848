"""Text cleaning: remove markup and noise that carries no sentiment or topic.

Kept deliberately light: sentence encoders cope with punctuation and case, so we only remove
what confuses them (HTML, URLs, emoji codepoints, runs like "好好好好好" or "!!!!!!").
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]+>")
_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
# Emoji and pictographs (the main Unicode blocks); dropped rather than translated.
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, symbols & pictographs ext.
    "\u2600-\u27bf"  # misc symbols, dingbats
    "\ufe0f\u200d"  # variation selector, zero-width joiner
    "]+"
)
_REPEAT = re.compile(r"(.)\1{3,}")  # 4+ of the same character -> 2
_SPACE = re.compile(r"\s+")


def clean_text(text: object, max_repeat: int = 2) -> str:
    """Return ``text`` without HTML, URLs, emoji and long character runs, whitespace collapsed.

    Non-strings (None, NaN) become "" so a column with gaps can be cleaned in one call.
    """
    if not isinstance(text, str):
        return ""
    out = html.unescape(text)
    out = _TAG.sub(" ", out)
    out = _URL.sub(" ", out)
    out = _EMOJI.sub(" ", out)
    out = _REPEAT.sub(lambda m: m.group(1) * max_repeat, out)
    return _SPACE.sub(" ", out).strip()
