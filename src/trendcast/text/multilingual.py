"""Sentiment for the languages without a model of their own (Spanish, Japanese, Russian...).

multilingual-e5-small places a review and its translation close together, so a logistic
regression on its vectors, learnt from Chinese and English reviews only, reads the others too
(cross-lingual transfer). ``sentiment_multilingual.npz`` holds that regression
(``scripts/train_sentiment.py --multilingual``); :func:`trendcast.text.sentiment.score_texts`
sends it every text whose language is not zh / en / mixed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from trendcast.text.shipped import shipped_path

MULTILINGUAL_FILE = "sentiment_multilingual.npz"


@dataclass(frozen=True)
class MultilingualHead:
    """Logistic regression on encoder vectors: ``logit = vectors @ w + b``."""

    w: np.ndarray  # (dim,)
    b: float
    encoder: str
    meta: dict

    def logit(self, vectors: np.ndarray) -> np.ndarray:
        return np.asarray(vectors, dtype=np.float32) @ self.w + self.b

    def save(self, path: Path) -> None:
        np.savez_compressed(path, w=self.w.astype(np.float32), b=np.float32(self.b),
                            encoder=np.array(self.encoder), meta=np.array(json.dumps(self.meta, ensure_ascii=False)))

    @classmethod
    def load(cls, path: Path | None = None) -> MultilingualHead:
        """The shipped head (or one at ``path``); plain arrays only, no pickle."""
        if path is None:
            path = shipped_path(MULTILINGUAL_FILE, "multilingual sentiment head",
                                "scripts/train_sentiment.py --multilingual")
        with np.load(path, allow_pickle=False) as z:
            return cls(w=z["w"], b=float(z["b"]), encoder=str(z["encoder"]), meta=json.loads(str(z["meta"])))


@lru_cache(maxsize=1)
def default_multilingual() -> MultilingualHead:
    return MultilingualHead.load()
