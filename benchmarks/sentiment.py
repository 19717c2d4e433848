"""Sentiment benchmark: our models side by side with SnowNLP (Chinese) and VADER (English), one run.

Test sets (test splits only; nothing here was trained on them):
- ``shopping_zh``: online_shopping_10_cats test split (~10k reviews, 10 categories): accuracy,
  macro-F1 and per-category accuracy;
- ``reviews_zh``: the reviews_zh test split (SnowNLP's own training corpus, so its score there
  is optimistic);
- ``amazon_en``: the product-level 20% test split of the Amazon 2018 All_Beauty + Appliances
  reviews (rating >= 4 positive, <= 2 negative).
Our models are measured through the product path, ``score_texts(texts, model=...)`` (what
``trendcast sentiment`` and the signals pipeline call: ``clean_text``, language detection,
labels included), in batches of ``--batch`` texts: ``auto`` (whatever it resolves to here, named
in ``auto_resolves_to``), ``fast`` (sparse n-gram model stacked with the character CNN for
Chinese; n-grams + VADER stack for English), ``cascade`` (the sparse model with the Chinese texts
whose sparse logit is inside the band re-scored by the e5-small second stage; ``encoded_share`` is
the share of texts the encoder saw, counted by the encoder itself) and ``full`` (e5-small encoder
head, on a seeded ``--full-n`` sample per set because the encoder runs at ~15 texts per
CPU-second). ``sparse alone (ablation)`` is the sparse model's logit without the CNN
(``SparseHead.logit``, not a product path): it shows what the CNN adds. SnowNLP and VADER are
called directly. ``amazon_en_train_cv`` gives the repeated 5-fold cross-validated macro-F1 on the
Amazon train split beside VADER's (the test split has 13 negatives). Accuracy and macro-F1 use
P(positive) >= 0.5; ``neutral_share`` is the share the neutral band would call neutral (these
sets have no neutral texts, so lower is better); ``brier`` and ``ece`` (10 bins) say how
calibrated P(positive) is.
Throughput: single process (2 cores here: the encoder's OpenMP threads and numpy's BLAS may use
both) on ``--speed-n`` texts never seen before, in batches of ``--batch`` texts as the CLI sends
them, per wall-clock second and per CPU second (CPU time of all threads), with the 1-minute load
average beside it (the machine is shared, so wall-clock rates say as much about the neighbours
as about the model).

    nice .venv/bin/python benchmarks/sentiment.py [--speed-n 2000] [--full-n 1000] [--batch 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

from trendcast.text.charcnn import CnnStack  # noqa: E402
from trendcast.text.encoders import get_encoder  # noqa: E402
from trendcast.text.sentiment import (  # noqa: E402
    NEUTRAL_BAND,
    CascadeHead,
    SparseHead,
    resolve_model,
    score_texts,
)
from trendcast.text.train import english_cv, load_amazon_en, load_reviews_zh, load_shopping  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "sentiment.json"


def _metrics(y: np.ndarray, prob: np.ndarray, cats: np.ndarray | None = None) -> dict:
    pred = (prob >= 0.5).astype(int)
    bins = np.minimum((prob * 10).astype(int), 9)
    ece = sum(abs(prob[bins == b].mean() - y[bins == b].mean()) * (bins == b).mean() for b in range(10) if (bins == b).any())
    out = {
        "n": len(y),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "neutral_share": round(float(((prob > NEUTRAL_BAND[0]) & (prob < NEUTRAL_BAND[1])).mean()), 4),
        "brier": round(float(((prob - y) ** 2).mean()), 4),
        "ece": round(float(ece), 4),
    }
    if cats is not None:
        out["per_category_accuracy"] = {str(c): round(float((pred == y)[cats == c].mean()), 4) for c in np.unique(cats)}
    return out


def _snownlp(texts: list[str]) -> np.ndarray:
    from snownlp import SnowNLP

    return np.array([SnowNLP(t).sentiments if t.strip() else 0.5 for t in texts])


def _vader(texts: list[str]) -> np.ndarray:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    return np.array([(sia.polarity_scores(t)["compound"] + 1) / 2 for t in texts])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _rate(fn, texts: list[str]) -> dict[str, float]:  # noqa: ANN001
    """Texts per wall-clock second and per CPU second of this process (the latter is what one
    uncontended core does: the machine is shared, so wall-clock rates move with other people's load)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"texts_per_s": round(len(texts) / wall, 1), "texts_per_cpu_s": round(len(texts) / max(cpu, 1e-9), 1),
            "load_avg_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--speed-n", type=int, default=2000, help="fresh texts per throughput measurement")
    parser.add_argument("--full-n", type=int, default=1000, help="seeded sample per set for the encoder model (0: skip)")
    parser.add_argument("--baseline-n", type=int, default=0, help="seeded sample for SnowNLP (0: the whole set)")
    parser.add_argument("--batch", type=int, default=2000, help="texts per score_texts call")
    args = parser.parse_args()
    sparse, cascade, stack = SparseHead.load(), CascadeHead.load(), CnnStack.load()
    auto = resolve_model("auto")
    encoder = get_encoder(cascade.encoder)

    def product(model: str, t: list[str], held: dict | None = None) -> np.ndarray:
        """P(positive) from score_texts in batches; ``held['encoded']``: texts the encoder saw."""
        before = encoder.texts_encoded
        prob = np.concatenate([score_texts(t[i : i + args.batch], model=model)["prob"].to_numpy()
                               for i in range(0, len(t), args.batch)]) if t else np.zeros(0)
        if held is not None:
            held["encoded"] = encoder.texts_encoded - before
        return prob

    def ablation(t: list[str]) -> np.ndarray:
        return np.concatenate([_sigmoid(sparse.logit(t[i : i + args.batch])) for i in range(0, len(t), args.batch)])

    zh, en = load_reviews_zh(), load_amazon_en()
    sets = {"shopping_zh": load_shopping("test"), "reviews_zh": zh[zh.split == "test"], "amazon_en": en[en.split == "test"]}
    ours = ["fast", "cascade"]
    out: dict[str, object] = {
        "command": "nice .venv/bin/python benchmarks/sentiment.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()),
        "note": "SnowNLP was trained on the reviews_zh texts: its reviews_zh score is optimistic. "
                "'full' is scored on a seeded sample of full_n texts per set (encoder speed). Our models "
                "through score_texts; 'auto' is the row of the model it resolves to.",
        "neutral_band": NEUTRAL_BAND, "auto_resolves_to": auto, "sparse_model": sparse.meta, "cnn_model": stack.meta,
        "cascade_model": cascade.meta, "cascade_radius": cascade.radius, "load_avg_start": os.getloadavg(),
        "cpu_count": os.cpu_count(),
    }
    for name, df in sets.items():
        lang = "en" if name.endswith("_en") else "zh"
        texts, y = df["text"].tolist(), df["y"].to_numpy()
        cats = df["cat"].to_numpy() if "cat" in df else None
        res: dict[str, dict] = {}
        probs: dict[str, np.ndarray] = {}
        for model in ours:
            held: dict[str, int] = {}
            probs[model] = product(model, texts, held)
            res[model] = {**_metrics(y, probs[model], cats), "encoded_share": round(held["encoded"] / len(texts), 4)}
        res["sparse alone (ablation)"] = _metrics(y, ablation(texts), cats)
        base_name, base_fn = ("vader", _vader) if lang == "en" else ("snownlp", _snownlp)
        b = np.arange(len(texts))
        if args.baseline_n and lang == "zh" and args.baseline_n < len(texts):
            b = np.sort(np.random.default_rng(0).choice(len(texts), args.baseline_n, replace=False))
        res[base_name] = _metrics(y[b], base_fn([texts[i] for i in b]), cats[b] if cats is not None else None)
        if args.full_n:
            k = np.arange(len(texts))
            if args.full_n < len(texts):
                k = np.sort(np.random.default_rng(0).choice(len(texts), args.full_n, replace=False))
            sub = [texts[i] for i in k]
            held_full: dict[str, np.ndarray] = {}

            def run_full(t: list[str], held: dict = held_full) -> None:
                held["prob"] = product("full", t)

            rate = _rate(run_full, sub)
            res["full"] = {**_metrics(y[k], held_full["prob"], cats[k] if cats is not None else None), **rate}
            for model in ours:
                res[f"{model}, same sample as full"] = _metrics(y[k], probs[model][k], cats[k] if cats is not None else None)
        rng = np.random.default_rng(1)
        picks = rng.choice(len(texts), args.speed_n, replace=args.speed_n > len(texts))
        fresh = [f"{texts[i]} #{j}" for j, i in enumerate(picks)]  # never seen: no cache can help
        for model in ours:
            held_speed: dict[str, int] = {}

            def timed(t: list[str], model: str = model, held: dict = held_speed) -> None:
                product(model, t, held)

            res[model].update({**_rate(timed, fresh), "encoded_share_speed_run": round(held_speed["encoded"] / len(fresh), 4)})
        res["sparse alone (ablation)"].update(_rate(ablation, fresh))
        res[base_name].update(_rate(base_fn, fresh[: min(len(fresh), 500)]))
        res = {f"auto (= {auto})": res[auto], **res}
        out[name] = res
        print(name, json.dumps({m: {k: v for k, v in r.items() if k != "per_category_accuracy"} for m, r in res.items()},
                               indent=1), flush=True)
    out["amazon_en_train_cv"] = english_cv(sparse)
    print("amazon_en_train_cv", json.dumps(out["amazon_en_train_cv"]), flush=True)
    out["load_avg_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
