"""Aspect-level sentiment: which aspects a review talks about and how it feels about each.

A review is cut into clauses (punctuation and contrast words such as 但是 / but), because one
review often praises one thing and blames another ("quality is great but delivery was slow").
A clause is about an aspect when it contains one of the aspect's words: the seed words in
``resources/aspects.json`` plus words learnt from real reviews (``resources/aspects_learnt.json``,
written by ``scripts/learn_aspects.py``: frequent review words whose sentence embedding sits
nearest to that aspect's seeds). Chinese seeds match inside jieba tokens ("价格" finds
"价格便宜"); English words match whole words or phrases. The aspect's sentiment is the clause's
score from the sentence model, so negation and degree ("不太便宜", "not cheap at all") come
from a model trained on reviews rather than from word lists.

Reviews in other languages (Spanish, Russian...) match the English words and any words a user
file gives for their language (``{"battery": {"es": ["batería"]}}``), as whole words; and, as
no words ship for them, :class:`AspectClassifier` reads their clauses too: one logistic
regression per aspect on multilingual-e5 vectors, learnt from Chinese and English clauses
labelled by the word lists (``resources/aspects_classifier.npz``, ``scripts/learn_aspects.py
--classifier``), so it carries the lists' meaning across languages.

Which aspects count for a category is configurable (``categories`` in the JSON), so a hotel
is not scored on battery life.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError
from trendcast.text.clean import clean_text
from trendcast.text.language import base_language, detect_language

ASPECTS_FILE = "aspects.json"
LEARNT_FILE = "aspects_learnt.json"
CLASSIFIER_FILE = "aspects_classifier.npz"
_CLAUSE = re.compile(
    r"[，,。!！?？;；\n~～…、:：()（）]+|\.(?!\d)|(?:但是|不过|可是|然而|只是|就是|但)"
    r"|\b(?:but|however|although|though|except|yet|whereas)\b",
    re.IGNORECASE,
)
_EN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")  # Latin words inside Chinese text
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")  # words of any script ("batería", "доставка")


def split_clauses(text: str) -> list[str]:
    """Clauses of a review, in order, without the separators (empty pieces dropped)."""
    return [c.strip() for c in _CLAUSE.split(text or "") if c and c.strip()]


def _read(name: str) -> dict:
    ref = resources.files("trendcast.text.resources").joinpath(name)
    return json.loads(ref.read_text("utf-8")) if ref.is_file() else {}


@dataclass(frozen=True)
class AspectConfig:
    """Aspect words per language (seeds + learnt) and the aspects tracked per category."""

    words: dict[str, dict[str, list[str]]]  # aspect -> {"zh": [...], "en": [...], "es": [...] ...}
    categories: dict[str, list[str]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.words)

    def aspects_for(self, category: object) -> list[str]:
        """Aspects tracked for ``category`` (every aspect when it is not configured)."""
        if isinstance(category, str):
            picked = {k.lower(): v for k, v in self.categories.items()}.get(category.strip().lower())
            if picked:
                return [a for a in picked if a in self.words]
        return self.names

    @cached_property
    def _lookup(self) -> tuple[dict[str, list[tuple[str, str]]], dict[str, dict[str, list[str]]]]:
        """Chinese words with how they match, and per other language the phrases a clause in it
        is matched against: its own (a user's ``"es": [...]`` lists) plus the English ones,
        which other languages borrow ("design"); ``"en"`` serves languages without lists."""
        zh: dict[str, list[tuple[str, str]]] = {}
        own: dict[str, dict[str, set[str]]] = {}  # language -> aspect -> phrases
        for aspect, by_lang in self.words.items():
            for w in by_lang.get("zh", []):
                zh.setdefault(aspect, []).append((w, "sub" if len(w) >= 2 else "tok"))
            for lang, ws in by_lang.items():
                if lang != "zh":
                    own.setdefault(lang, {})[aspect] = {" ".join(_WORD.findall(w.lower())) for w in ws} - {""}
        en = own.get("en", {})
        phrases = {lang: {a: sorted(en.get(a, set()) | by.get(a, set())) for a in self.names
                          if en.get(a) or by.get(a)} for lang, by in {**own, "en": en}.items()}
        return zh, phrases

    def phrases_for(self, lang: str) -> dict[str, list[str]]:
        """Aspect phrases a clause in ``lang`` is matched against (see :attr:`_lookup`)."""
        phrases = self._lookup[1]
        return phrases.get(lang, phrases["en"])

    def match(self, clause: str, lang: str | None = None) -> list[str]:
        """Aspects a clause talks about (in config order)."""
        lang = lang or detect_language(clause)
        zh = self._lookup[0]
        en = self.phrases_for("en" if base_language(lang) == "zh" else lang)
        hits: list[str] = []
        if base_language(lang) == "zh":
            from trendcast.text.tokenize import _jieba

            tokens = [t.lower() for t in _jieba().lcut(clause)]
            joined = clause.lower()
            for aspect, words in zh.items():
                if any((w in joined and len(w) >= 3) or any(w in t if kind == "sub" else w == t for t in tokens)
                       for w, kind in words):
                    hits.append(aspect)
            latin = " " + " ".join(_EN_WORD.findall(joined)) + " "
            if latin.strip():  # Latin words inside Chinese text ("iPad的battery")
                hits += [a for a, ws in en.items() if a not in hits and any(f" {w} " in latin for w in ws)]
            return [a for a in self.names if a in hits]
        words_ = _WORD.findall(clause.lower())
        padded = " " + " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
                                for w in words_) + " "
        raw = " " + " ".join(words_) + " "
        return [a for a, ws in en.items() if any(f" {w} " in raw or f" {w} " in padded for w in ws)]


def load_aspects(user_file: str | Path | None = None, learnt: bool = True) -> AspectConfig:
    """Shipped seeds (+ learnt words unless ``learnt=False``), with groups from ``user_file`` replacing same-named ones."""
    base = _read(ASPECTS_FILE)
    words = {a: {lg: list(ws) for lg, ws in by.items()} for a, by in base["aspects"].items()}
    categories = dict(base.get("categories", {}))
    if learnt:
        for aspect, by_lang in _read(LEARNT_FILE).get("aspects", {}).items():
            for lg, ws in by_lang.items():
                if aspect in words:
                    words[aspect].setdefault(lg, [])
                    words[aspect][lg] += [w for w in ws if w not in words[aspect][lg]]
    if user_file is not None:
        try:
            user = json.loads(Path(user_file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"Cannot read aspect lists from {user_file}: {exc}") from exc
        for key, target in (("aspects", words), ("categories", categories)):
            given = user.get(key, {})
            if not isinstance(given, dict):
                raise ConfigError(f"{user_file}: '{key}' must map a name to its words or aspects.")
            target.update(given)
        for aspect, by_lang in words.items():
            if isinstance(by_lang, list):  # a plain list of words: both languages
                words[aspect] = {"zh": by_lang, "en": by_lang}
    return AspectConfig(words=words, categories=categories)


@dataclass(frozen=True)
class AspectClassifier:
    """Aspects of a clause from its encoder vector: ``P(aspect) = sigmoid(v @ w[k] + b[k])``, kept
    when at least ``threshold`` (recipe and cross-validation in ``meta``)."""

    names: list[str]
    w: np.ndarray  # (aspects, dim)
    b: np.ndarray  # (aspects,)
    threshold: float
    encoder: str
    meta: dict

    def predict(self, vectors: np.ndarray) -> list[list[str]]:
        prob = 1.0 / (1.0 + np.exp(-(np.asarray(vectors, dtype=np.float32) @ self.w.T + self.b)))
        return [[self.names[k] for k in np.flatnonzero(p >= self.threshold)] for p in prob]

    def save(self, path: Path) -> None:
        np.savez_compressed(path, names=np.array(self.names), w=self.w.astype(np.float32), b=self.b.astype(np.float32),
                            threshold=np.float32(self.threshold), encoder=np.array(self.encoder),
                            meta=np.array(json.dumps(self.meta, ensure_ascii=False)))

    @classmethod
    def load(cls, path: Path | None = None) -> AspectClassifier:
        from trendcast.text.shipped import shipped_path

        path = path or shipped_path(CLASSIFIER_FILE, "aspect classifier", "scripts/learn_aspects.py --classifier")
        with np.load(path, allow_pickle=False) as z:
            return cls([str(n) for n in z["names"]], z["w"], z["b"], float(z["threshold"]), str(z["encoder"]),
                       json.loads(str(z["meta"])))


@lru_cache(maxsize=1)
def default_classifier() -> AspectClassifier | None:
    """The shipped classifier, or None where it or the encoder is missing (word lists only then)."""
    from trendcast.text.sentiment import encoder_available
    from trendcast.text.shipped import is_shipped

    return AspectClassifier.load() if is_shipped(CLASSIFIER_FILE) and encoder_available() else None


def _classified(
    clauses: list[tuple[int, str]], classifier: AspectClassifier
) -> tuple[list[tuple[int, str, str]], dict[str, np.ndarray]]:
    """(row, aspect, clause) for the clauses of texts in other languages, read by ``classifier``,
    and each clause's encoder vector (its sentiment reuses it: :func:`_clause_scores`)."""
    from trendcast.text.encoders import get_encoder

    vectors = get_encoder(classifier.encoder).encode_distinct([c for _, c in clauses])
    found = classifier.predict(vectors)
    rows = [(i, a, c) for (i, c), aspects in zip(clauses, found, strict=True) for a in aspects]
    return rows, dict(zip((c for _, c in clauses), vectors, strict=True))


def _clause_scores(clauses: list[str], model: str, vectors: dict[str, np.ndarray], encoder: str) -> dict[str, float]:
    """Sentiment of each distinct clause. Clauses in other languages go to the multilingual
    head, which reads the same encoder's vectors as the classifier: they are not encoded twice."""
    from trendcast.text.multilingual import MULTILINGUAL_FILE, default_multilingual
    from trendcast.text.sentiment import score_texts
    from trendcast.text.shipped import is_shipped

    same = bool(vectors) and is_shipped(MULTILINGUAL_FILE) and default_multilingual().encoder == encoder
    known = [c for c in clauses if same and c in vectors and base_language(detect_language(c)) == "other"]
    rest = [c for c in clauses if c not in set(known)]
    scores: dict[str, float] = {}
    for group, vecs in ((known, np.stack([vectors[c] for c in known]) if known else None), (rest, None)):
        if group:
            scores.update(zip(group, score_texts(group, model=model, vectors=vecs)["score"], strict=True))
    return scores


def aspect_sentiment(texts: Sequence[str], config: AspectConfig | None = None, model: str = "fast",
                     categories: Sequence[object] | None = None,
                     classifier: AspectClassifier | str | None = "default") -> pd.DataFrame:
    """One row per (text, aspect) a text talks about: ``row, aspect, score, clause``.

    ``row`` is the text's position in ``texts``; ``score`` in [-1, 1] is the mean sentiment of
    the clauses about that aspect. ``categories`` (aligned with ``texts``) restricts each text
    to the aspects configured for its category. Clauses in other languages are also read by
    :class:`AspectClassifier` (``classifier``; None: word lists only).
    """
    config = config or default_aspects()
    classifier = default_classifier() if classifier == "default" else classifier
    rows: list[tuple[int, str, str]] = []
    other: list[tuple[int, str]] = []  # clauses the classifier reads
    allowed: list[set[str]] = []
    for i, text in enumerate(texts):
        clean = clean_text(text if isinstance(text, str) else "")
        allowed.append(set(config.aspects_for(categories[i] if categories is not None else None)))
        lang = detect_language(clean)
        for clause in split_clauses(clean):
            rows += [(i, a, clause) for a in config.match(clause, lang) if a in allowed[i]]
            if classifier is not None and base_language(lang) == "other":
                other.append((i, clause))
    vectors: dict[str, np.ndarray] = {}
    if other:
        found, vectors = _classified(other, classifier)
        rows = list(dict.fromkeys(rows + [r for r in found if r[1] in allowed[r[0]]]))
    if not rows:
        return pd.DataFrame({"row": pd.Series(dtype=int), "aspect": pd.Series(dtype=str),
                             "score": pd.Series(dtype=float), "clause": pd.Series(dtype=str)})
    df = pd.DataFrame(rows, columns=["row", "aspect", "clause"])
    encoder = classifier.encoder if classifier is not None else ""
    df["score"] = df["clause"].map(_clause_scores(df["clause"].drop_duplicates().tolist(), model, vectors, encoder))
    return (df.groupby(["row", "aspect"], sort=False)
              .agg(score=("score", "mean"), clause=("clause", " | ".join)).reset_index())


@lru_cache(maxsize=1)
def default_aspects() -> AspectConfig:
    return load_aspects()


def aspect_summary(wh, since: str | None = None, freq: str = "W", examples: int = 2) -> pd.DataFrame:  # noqa: ANN001 - Warehouse
    """What customers praise and blame, per period and aspect, from ``text_aspects``.

    Columns: ``period, aspect, mentions, share`` (of the period's scored texts), ``sent_mean``
    (in [-1, 1]), ``neg_share`` (clauses scored negative) and ``examples`` (the most negative
    clauses first, so the view shows what to fix).
    """
    from trendcast.errors import NotReadyError
    from trendcast.text.sentiment import NEUTRAL_BAND

    if not wh.has_table("text_aspects"):
        raise NotReadyError("No aspect sentiment yet: run `trendcast signals --db PATH` first.")
    df = wh.con.execute("SELECT a.aspect, a.score, a.clause, s.date FROM text_aspects a JOIN text_scores s USING (text_id)").df()
    totals = wh.con.execute("SELECT date, count(*) AS n FROM text_scores GROUP BY date").df()
    if df.empty:
        return pd.DataFrame(columns=["period", "aspect", "mentions", "share", "sent_mean", "neg_share", "examples"])
    for frame in (df, totals):
        frame["date"] = pd.to_datetime(frame["date"])
        frame["period"] = frame["date"].dt.to_period(freq).dt.start_time if freq != "D" else frame["date"]
    if since is not None:
        df = df[df["date"] >= pd.Timestamp(since)]
    n = totals.groupby("period")["n"].sum()
    g = df.groupby(["period", "aspect"])
    out = g.agg(mentions=("score", "size"), sent_mean=("score", "mean"),
                neg_share=("score", lambda s: float((s <= 2 * NEUTRAL_BAND[0] - 1).mean()))).reset_index()
    out["share"] = out["mentions"] / out["period"].map(n)
    ex = (df.sort_values("score").groupby(["period", "aspect"])["clause"]
            .agg(lambda c: " | ".join(list(dict.fromkeys(c))[:examples])))
    out = out.merge(ex.rename("examples").reset_index(), on=["period", "aspect"])
    out["period"] = out["period"].dt.date
    for c in ("share", "sent_mean", "neg_share"):
        out[c] = out[c].round(3)
    return out[["period", "aspect", "mentions", "share", "sent_mean", "neg_share", "examples"]]
