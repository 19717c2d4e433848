"""Keyword mention flags: competitor names (``comp_*`` signal columns) and optional user ``needs``.

Keyword lists live in ``resources/mentions.json`` (Chinese and English); a user JSON file of the
same shape replaces whole groups, so a shop can add its own rivals without editing the package.
What customers say about price, quality, delivery and so on is no longer a keyword list here:
:mod:`trendcast.text.aspects` finds aspects per clause with their sentiment. A user file may
still give ``needs`` groups; they become ``need_*`` columns as before.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from trendcast.errors import ConfigError


@dataclass(frozen=True)
class MentionConfig:
    needs: dict[str, list[str]]
    competitors: dict[str, list[str]]

    def patterns(self) -> dict[str, re.Pattern[str]]:
        """Column name (``need_price``, ``comp_京东``) -> one compiled alternation."""
        out: dict[str, re.Pattern[str]] = {}
        for prefix, groups in (("need_", self.needs), ("comp_", self.competitors)):
            for name, words in groups.items():
                alts = sorted({w.lower() for w in words if w}, key=len, reverse=True)
                out[f"{prefix}{name}"] = re.compile("|".join(re.escape(w) for w in alts))
        return out


def load_mentions(user_file: str | Path | None = None) -> MentionConfig:
    """The shipped lists, with groups from ``user_file`` (JSON) replacing same-named ones."""
    base = json.loads(resources.files("trendcast.text.resources").joinpath("mentions.json").read_text("utf-8"))
    if user_file is not None:
        try:
            user = json.loads(Path(user_file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"Cannot read mention lists from {user_file}: {exc}") from exc
        for key in ("needs", "competitors"):
            if key in user and not isinstance(user[key], dict):
                raise ConfigError(f"{user_file}: '{key}' must map a name to a list of keywords.")
            base[key] = {**base[key], **user.get(key, {})}
    return MentionConfig(needs=base["needs"], competitors=base["competitors"])


def mention_flags(texts: list[str], config: MentionConfig | None = None) -> pd.DataFrame:
    """One 0/1 column per need and competitor: does the text mention it?"""
    config = config or load_mentions()
    lowered = pd.Series([t.lower() for t in texts], dtype="string")
    return pd.DataFrame(
        {col: lowered.str.contains(pat, regex=True).fillna(False).astype("int8").to_numpy()
         for col, pat in config.patterns().items()}
    )
