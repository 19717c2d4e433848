"""Sentiment in languages other than Chinese and English, through the product path, one run.

Test set: ``benchmarks/data/reviews_multilingual.csv`` (10 languages x 12 reviews, 6 positive and
6 negative; how it was written and labelled is in ``benchmarks/data/README.md``). No model was
trained or tuned on it: the multilingual head learnt Chinese and English reviews only.

Reported per model and language: accuracy (P(positive) >= 0.5), the share the neutral band calls
neutral (the set has no neutral review, so lower is better) and whether the detected language is
the set's. Ours go through ``score_texts`` (what ``trendcast sentiment`` and ``signals`` call);
``n-grams only (ablation)`` is the sparse Chinese/English model on every text, which is how
trendcast read these languages before they were routed to the multilingual head. VADER
(English lexicon) and SnowNLP (Chinese) are the baselines a shop would reach for.
With ``../shared`` present, it also counts how many of the Chinese and English test reviews are
sent to the multilingual head (they should not be: their own models are more accurate).

    nice .venv/bin/python benchmarks/sentiment_multilingual.py
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from trendcast.text.language import base_language, detect_languages  # noqa: E402
from trendcast.text.multilingual import MultilingualHead  # noqa: E402
from trendcast.text.sentiment import NEUTRAL_BAND, SparseHead, resolve_model, score_texts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "reviews_multilingual.csv"
RESULTS = ROOT / "benchmarks" / "results" / "sentiment_multilingual.json"


def _scores(y: np.ndarray, prob: np.ndarray, langs: pd.Series) -> dict:
    right = pd.Series((prob >= 0.5) == y, index=langs.index)
    return {"accuracy": round(float(right.mean()), 4),
            "neutral_share": round(float(((prob > NEUTRAL_BAND[0]) & (prob < NEUTRAL_BAND[1])).mean()), 4),
            "per_language_accuracy": right.groupby(langs).mean().round(3).to_dict()}


def _vader(texts: list[str]) -> np.ndarray:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    return np.array([(sia.polarity_scores(t)["compound"] + 1) / 2 for t in texts])


def _snownlp(texts: list[str]) -> np.ndarray:
    from snownlp import SnowNLP

    return np.array([SnowNLP(t).sentiments for t in texts])


def _routed_away() -> dict:
    """Chinese and English test reviews that language detection sends to the multilingual head."""
    try:
        from trendcast.text.train import load_amazon_en, load_shopping

        zh, en = load_shopping("test"), load_amazon_en()
    except Exception as exc:  # noqa: BLE001 - ../shared absent: say so in the results
        return {"skipped": str(exc)}
    out = {}
    for name, texts in (("shopping_zh_test", zh["text"]), ("amazon_en_train_and_test", en["text"])):
        langs = pd.Series(detect_languages(texts.tolist()))
        away = langs.map(base_language) == "other"
        out[name] = {"n": len(langs), "sent_to_multilingual": int(away.sum()),
                     "examples": [f"{lang}: {t[:60]}" for lang, t in zip(langs[away], texts[away.to_numpy()], strict=True)][:5]}
    return out


def main() -> None:
    df = pd.read_csv(DATA)
    texts, y, langs = df["text"].tolist(), (df["label"] == "positive").to_numpy(), df["lang"]
    out: dict[str, object] = {
        "command": "nice .venv/bin/python benchmarks/sentiment_multilingual.py",
        "data": f"{DATA.relative_to(ROOT)}: {len(df)} reviews, languages {sorted(langs.unique())}",
        "auto_resolves_to": resolve_model("auto"), "multilingual_head": MultilingualHead.load().meta,
        "load_avg_start": os.getloadavg(),
    }
    results: dict[str, dict] = {}
    for model in ("auto", "fast", "full"):
        wall, cpu = time.perf_counter(), time.process_time()
        scored = score_texts(texts, model=model)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        results[model] = {**_scores(y, scored["prob"].to_numpy(), langs),
                          "language_detected": round(float((scored["lang"] == langs).mean()), 4),
                          "texts_per_s": round(len(texts) / wall, 1), "texts_per_cpu_s": round(len(texts) / cpu, 1)}
    sparse = SparseHead.load()
    results["n-grams only (ablation)"] = _scores(y, 1 / (1 + np.exp(-sparse.logit(texts))), langs)
    results["vader"] = _scores(y, _vader(texts), langs)
    results["snownlp"] = _scores(y, _snownlp(texts), langs)
    out["results"] = results
    out["zh_en_sent_to_multilingual"] = _routed_away()
    for name, r in results.items():
        print(f"{name:26s} accuracy {r['accuracy']:.3f}  neutral {r['neutral_share']:.3f}  {r['per_language_accuracy']}")
    print(json.dumps(out["zh_en_sent_to_multilingual"], ensure_ascii=False))
    RESULTS.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
