"""Sentiment benchmark: our encoder+head (full and fast stages) vs SnowNLP (zh) and VADER (en).

Test sets (report test only): reviews_zh test split (2,779 real Chinese reviews) and a seeded,
product-level 20% split of the Amazon 2018 All_Beauty + Appliances reviews (rating >= 4 vs <= 2;
research use). Accuracy and macro-F1 use the binary decision P(positive) >= 0.5; the neutral
share is how many texts the documented neutral band would label neutral.
SnowNLP's model was trained on the reviews_zh texts, so its Chinese score is optimistic.

Throughput: texts/s on ``--speed-n`` texts the encoder has never seen (no cache), single
process, whatever cores the machine gives; the machine's load average is recorded with it.

    .venv/bin/python benchmarks/sentiment.py [--speed-n 200]
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

from trendcast.text.encoders import get_encoder  # noqa: E402
from trendcast.text.sentiment import NEUTRAL_BAND, SentimentHead  # noqa: E402
from trendcast.text.train import cached_vectors, load_amazon_en, load_reviews_zh  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "sentiment.json"


def _metrics(y: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    pred = (prob >= 0.5).astype(int)
    return {
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "neutral_share": round(float(((prob > NEUTRAL_BAND[0]) & (prob < NEUTRAL_BAND[1])).mean()), 4),
    }


def _snownlp(texts: list[str]) -> np.ndarray:
    from snownlp import SnowNLP

    return np.array([SnowNLP(t).sentiments for t in texts])


def _vader(texts: list[str]) -> np.ndarray:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    return np.array([(sia.polarity_scores(t)["compound"] + 1) / 2 for t in texts])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _rate(fn, texts: list[str]) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn(texts)
    return round(len(texts) / (time.perf_counter() - start), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "trendcast" / "sentiment", help="encoder vector cache")
    parser.add_argument("--speed-n", type=int, default=200, help="fresh texts per throughput measurement")
    args = parser.parse_args()
    head = SentimentHead.load()
    encoder = get_encoder(head.encoder)
    zh, en = load_reviews_zh(), load_amazon_en()
    sets = {"zh": zh[zh.split == "test"], "en": en[en.split == "test"]}
    baseline = {"zh": ("snownlp", _snownlp), "en": ("vader", _vader)}
    out: dict[str, object] = {
        "labels": {"zh": "reviews_zh test split (positive / negative as labelled)",
                   "en": "Amazon 2018 5-core All_Beauty + Appliances, product-level 20% test split "
                         "(seed 0); rating 4-5 positive, 1-2 negative, 3 dropped; duplicates dropped"},
        "note": "SnowNLP was trained on the reviews_zh texts: its zh score is optimistic",
        "neutral_band": NEUTRAL_BAND, "head": head.meta, "load_avg_start": os.getloadavg(),
    }
    for lang, df in sets.items():
        texts, y = df["text"].tolist(), df["y"].to_numpy()
        vecs = cached_vectors(texts, args.cache / f"vectors_{head.encoder}.npz", head.encoder)
        probs = {
            "ours_full": _sigmoid(head.full_logit(texts, vecs)),
            "ours_fast": _sigmoid(head.fast_logit(texts)),
            baseline[lang][0]: baseline[lang][1](texts),
        }
        res = {name: _metrics(y, p) for name, p in probs.items()}
        # throughput on texts the encoder has not seen: shuffle with a fixed seed, add a marker
        rng = np.random.default_rng(0)
        picks = rng.choice(len(texts), args.speed_n, replace=args.speed_n > len(texts))
        fresh = [f"{texts[i]} #{k}" for k, i in enumerate(picks)]
        res["ours_full"]["texts_per_s"] = _rate(lambda t: head.full_logit(t, encoder.encode(t)), fresh)
        res["ours_fast"]["texts_per_s"] = _rate(head.fast_logit, fresh * 10)
        res[baseline[lang][0]]["texts_per_s"] = _rate(baseline[lang][1], fresh)
        out[lang] = {"n_test": len(df), "models": res}
        print(lang, json.dumps(out[lang], indent=1), flush=True)
    out["load_avg_end"] = os.getloadavg()
    out["cpu_count"] = os.cpu_count()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
