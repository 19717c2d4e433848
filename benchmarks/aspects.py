"""Aspect-level sentiment benchmark on the hand-labelled clauses in ``benchmarks/data/aspect_clauses.csv``.

For every aspect: precision and recall of "this clause talks about the aspect" (clause level,
micro over the labelled clauses), per language and overall; and aspect sentiment accuracy:
on gold (clause, aspect) pairs labelled positive or negative that the matcher also found, is
the sign of the clause score right. Run twice, with the seed words only and with the learnt
words added, so the value of learning the lexicon is measured, not assumed.
How the clauses were sampled and labelled: ``benchmarks/data/README.md``.

Other languages: ``benchmarks/data/reviews_multilingual.csv`` (120 reviews in 10 languages, the
aspects each talks about labelled per review) through ``aspect_sentiment``, the product path,
with the word lists only and with the aspect classifier: review-level detection P/R, and
whether each detected (review, labelled aspect) pair has the review's sentiment sign.

    PYTHONPATH=src .venv/bin/python benchmarks/aspects.py [--model fast]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from trendcast.text.aspects import aspect_sentiment, load_aspects
from trendcast.text.sentiment import NEUTRAL_BAND, score_texts

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "aspect_clauses.csv"
MULTI = ROOT / "benchmarks" / "data" / "reviews_multilingual.csv"
RESULTS = ROOT / "benchmarks" / "results" / "aspects.json"


def gold_pairs(df: pd.DataFrame) -> dict[int, dict[str, str]]:
    """Clause index -> {aspect: pos|neg|neu} from the ``aspects`` column ("price:pos;quality:neg")."""
    out: dict[int, dict[str, str]] = {}
    for i, cell in zip(df.index, df["aspects"].fillna(""), strict=True):
        out[i] = dict(p.split(":") for p in cell.split(";") if p)
    return out


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f = 2 * p * r / (p + r) if tp else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "support": tp + fn}


def evaluate(df: pd.DataFrame, learnt: bool, model: str) -> dict:
    """Detection P/R per aspect and language, plus sentiment accuracy on the detected gold pairs."""
    config = load_aspects(learnt=learnt)
    gold = gold_pairs(df)
    pred = {i: config.match(c, lang) for i, c, lang in zip(df.index, df["clause"], df["lang"], strict=True)}
    scores = dict(zip(df.index, score_texts(df["clause"].tolist(), model=model)["score"], strict=True))
    res: dict[str, dict] = {}
    for lang in ("zh", "en", "all"):
        rows = df.index if lang == "all" else df.index[df["lang"] == lang]
        per: dict[str, dict] = {}
        totals = [0, 0, 0]
        for aspect in config.names:
            tp = sum(aspect in pred[i] and aspect in gold[i] for i in rows)
            fp = sum(aspect in pred[i] and aspect not in gold[i] for i in rows)
            fn = sum(aspect not in pred[i] and aspect in gold[i] for i in rows)
            totals = [totals[0] + tp, totals[1] + fp, totals[2] + fn]
            if tp + fp + fn:
                per[aspect] = _prf(tp, fp, fn)
        polar = [(i, a, s) for i in rows for a, s in gold[i].items() if s in ("pos", "neg") and a in pred[i]]
        right = sum((scores[i] > 0) == (s == "pos") for i, _, s in polar)
        three = [(i, s) for i in rows for a, s in gold[i].items() if a in pred[i]]
        lo, hi = 2 * NEUTRAL_BAND[0] - 1, 2 * NEUTRAL_BAND[1] - 1
        pred3 = {i: "pos" if scores[i] >= hi else "neg" if scores[i] <= lo else "neu" for i, _ in three}
        res[lang] = {
            "clauses": len(rows),
            "detection_micro": _prf(*totals),
            "per_aspect": per,
            "sentiment_accuracy_pos_neg": round(right / len(polar), 3) if polar else None,
            "sentiment_pairs_pos_neg": len(polar),
            "sentiment_accuracy_3class": round(sum(pred3[i] == s for i, s in three) / len(three), 3) if three else None,
            "sentiment_pairs_3class": len(three),
        }
    return res


def classifier_on_labelled_clauses(df: pd.DataFrame) -> dict:
    """The aspect classifier on the zh/en clauses (it is used for other languages only): why not here."""
    from trendcast.text.aspects import default_classifier
    from trendcast.text.clean import clean_text
    from trendcast.text.encoders import get_encoder

    clf = default_classifier()
    if clf is None:
        return {"skipped": "the e5 encoder cannot run here"}
    gold = gold_pairs(df)
    pred = clf.predict(get_encoder(clf.encoder).encode([clean_text(c) for c in df["clause"]]))
    tp = sum(len(set(p) & set(gold[i])) for i, p in zip(df.index, pred, strict=True))
    fp = sum(len(set(p) - set(gold[i])) for i, p in zip(df.index, pred, strict=True))
    fn = sum(len(set(gold[i]) - set(p)) for i, p in zip(df.index, pred, strict=True))
    return {"detection_micro": _prf(tp, fp, fn)}


def evaluate_multilingual(model: str) -> dict:
    """Review-level aspect detection and sentiment sign on the 10-language set, words only vs classifier."""
    df = pd.read_csv(MULTI)
    gold = [set(a.split(";")) for a in df["aspects"]]
    out: dict[str, dict] = {}
    for name, classifier in (("word_lists_only", None), ("with_classifier", "default")):
        got = aspect_sentiment(df["text"].tolist(), model=model, classifier=classifier)
        pred: list[set[str]] = [set() for _ in gold]
        for row in got.itertuples(index=False):
            pred[row.row].add(row.aspect)
        tp = sum(len(p & g) for p, g in zip(pred, gold, strict=True))
        fp = sum(len(p - g) for p, g in zip(pred, gold, strict=True))
        fn = sum(len(g - p) for p, g in zip(pred, gold, strict=True))
        hits = got[[a in gold[r] for r, a in zip(got["row"], got["aspect"], strict=True)]]
        sign = [(s > 0) == (df["label"].iloc[r] == "positive") for r, s in zip(hits["row"], hits["score"], strict=True)]
        per_lang = {lang: _prf(sum(len(pred[i] & gold[i]) for i in idx), sum(len(pred[i] - gold[i]) for i in idx),
                               sum(len(gold[i] - pred[i]) for i in idx))["f1"]
                    for lang, idx in df.groupby("lang").indices.items()}
        out[name] = {"reviews": len(df), "detection_micro": _prf(tp, fp, fn), "f1_per_language": per_lang,
                     "sentiment_sign_accuracy": round(sum(sign) / len(sign), 3) if sign else None,
                     "sentiment_pairs": len(sign)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="fast", help="sentence model that scores clauses")
    args = parser.parse_args()
    df = pd.read_csv(DATA)
    start = time.perf_counter()
    out = {
        "data": "benchmarks/data/aspect_clauses.csv (hand-labelled; see benchmarks/data/README.md)",
        "model": args.model,
        "seeds_only": evaluate(df, learnt=False, model=args.model),
        "seeds_plus_learnt": evaluate(df, learnt=True, model=args.model),
        "classifier_on_zh_en_clauses": classifier_on_labelled_clauses(df),
        "other_languages": evaluate_multilingual(args.model),
    }
    out["seconds"] = round(time.perf_counter() - start, 1)
    for name in ("seeds_only", "seeds_plus_learnt"):
        for lang in ("zh", "en", "all"):
            r = out[name][lang]
            print(f"{name:18s} {lang:3s} detection {r['detection_micro']}  sentiment acc "
                  f"{r['sentiment_accuracy_pos_neg']} on {r['sentiment_pairs_pos_neg']} pairs")
    print("classifier on the zh/en clauses", out["classifier_on_zh_en_clauses"])
    for name, r in out["other_languages"].items():
        print(f"other languages, {name:16s} detection {r['detection_micro']}  sentiment sign "
              f"{r['sentiment_sign_accuracy']} on {r['sentiment_pairs']} pairs  F1 per language {r['f1_per_language']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
