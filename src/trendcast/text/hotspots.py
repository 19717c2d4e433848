"""Hot spots: terms that burst against their own history, and topic clusters with readable labels.

Burst score of term ``w`` on day ``d`` (documents containing it that day = ``c``; trailing mean of
the previous ``window`` days = ``lam``): ``(c - lam) / sqrt(lam + 0.5)``, a Poisson z-score. It is
only reported when ``c >= min_support`` and the term has ``min_history`` days behind it, so one
lucky day of a rare word is not a trend. Only past days enter ``lam`` (no look-ahead).
Topics: MiniBatchKMeans on sentence embeddings; each cluster is labelled by its most distinctive
terms (class-based TF-IDF), and a hot spot is filed under a topic only when that topic's own
terms include the hot term.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.data.warehouse import Warehouse
from trendcast.errors import NotReadyError

WINDOW = 28
MIN_SUPPORT = 3
MIN_HISTORY = 14


def term_counts(dates: Sequence, tokens: Sequence[Sequence[str]], min_total: int = MIN_SUPPORT) -> pd.DataFrame:
    """Wide day x term frame of document frequencies (each term counted once per text).

    Single characters ("买", "好") are dropped: alone they are too generic to be a trend.
    """
    long = (
        pd.DataFrame({"date": pd.to_datetime(pd.Series(dates)).to_numpy(),
                      "term": [sorted({w for w in t if len(w) > 1}) for t in tokens]})
        .explode("term")
        .dropna(subset=["term"])
    )
    counts = long.groupby(["date", "term"]).size().unstack("term", fill_value=0)
    if counts.empty:
        return counts
    counts = counts.loc[:, counts.sum() >= min_total]
    full = pd.date_range(counts.index.min(), counts.index.max(), freq="D")
    return counts.reindex(full, fill_value=0).astype(float)


def burst_scores(
    counts: pd.DataFrame, window: int = WINDOW, min_support: int = MIN_SUPPORT, min_history: int = MIN_HISTORY
) -> pd.DataFrame:
    """Same shape as ``counts``: Poisson z-score of each day vs its trailing ``window``-day mean (0 when not eligible)."""
    if counts.empty:
        return counts
    lam = counts.shift(1).rolling(window, min_periods=min_history).mean()
    z = (counts - lam) / np.sqrt(lam + 0.5)
    eligible = (counts >= min_support) & lam.notna()
    return z.where(eligible, 0.0).clip(lower=0.0)


def top_bursts(counts: pd.DataFrame, since: str | pd.Timestamp | None = None, top: int = 10,
               freq: str = "D", **kw: int) -> pd.DataFrame:
    """Strongest (term, period) bursts on or after ``since``: ``term, date, count, baseline, burst``.

    ``freq="W"`` sums counts by week first (weekly hot spots; window and history are then in weeks).
    Each term appears once, at its peak.
    """
    if counts.empty:
        return pd.DataFrame(columns=["term", "date", "count", "baseline", "burst"])
    if freq != "D":
        counts = counts.resample(freq).sum()
        kw = {"window": 8, "min_history": 4, **kw}
    scores = burst_scores(counts, **kw)
    lam = counts.shift(1).rolling(kw.get("window", WINDOW), min_periods=1).mean()
    long = scores.stack().rename("burst").reset_index()
    long.columns = ["date", "term", "burst"]
    if since is not None:
        long = long[long["date"] >= pd.Timestamp(since)]
    long = long[long["burst"] > 0]
    best = long.sort_values("burst", ascending=False).drop_duplicates("term").head(top)
    best["count"] = [counts.at[d, t] for d, t in zip(best["date"], best["term"], strict=True)]
    best["baseline"] = [round(float(lam.at[d, t]), 2) for d, t in zip(best["date"], best["term"], strict=True)]
    return best[["term", "date", "count", "baseline", "burst"]].reset_index(drop=True)


def distinctive_terms(tokens: Sequence[Sequence[str]], ids: np.ndarray, k: int, n_terms: int = 10,
                      min_docs: int = 2) -> dict[int, list[str]]:
    """Per cluster, the terms most over-represented in it (class-based TF-IDF, ``p_c log(p_c / p)``).

    A term common everywhere ("delivery" in a shop full of delivery talk) scores low in every
    cluster; a term in most of one cluster's texts and few others' ("diaper") scores high there.
    Terms in fewer than ``min_docs`` of the cluster's texts are skipped (no one-off labels).
    """
    docs = [sorted({t for t in ts if len(t) > 1}) for ts in tokens]
    long = pd.DataFrame({"c": np.repeat(ids, [len(d) for d in docs]), "term": [t for d in docs for t in d]})
    if long.empty:
        return {c: [] for c in range(k)}
    n = len(docs)
    sizes = pd.Series(ids).value_counts()
    df_all = long.groupby("term").size() / n
    per = long.groupby(["c", "term"]).size().rename("docs").reset_index()
    per = per[per["docs"] >= min_docs]
    per["p_c"] = per["docs"] / per["c"].map(sizes)
    per["w"] = per["p_c"] * np.log(per["p_c"] / per["term"].map(df_all))
    per = per[per["w"] > 0].sort_values(["c", "w", "term"], ascending=[True, False, True])
    return {c: per.loc[per["c"] == c, "term"].head(n_terms).tolist() for c in range(k)}


def topic_clusters(vectors: np.ndarray, tokens: Sequence[Sequence[str]], k: int | None = None,
                   seed: int = 0, n_terms: int = 4, min_size: int = 5) -> tuple[np.ndarray, dict[int, str]]:
    """Cluster embeddings; return (topic id per row, topic -> label of its most distinctive terms).

    Clusters with fewer than ``min_size`` texts are labelled ``misc`` rather than named after
    a couple of texts' words.
    """
    ids, _, labels = topic_model(vectors, tokens, k=k, seed=seed, n_terms=n_terms, min_size=min_size)
    return ids, labels


def topic_model(vectors: np.ndarray, tokens: Sequence[Sequence[str]], k: int | None = None, seed: int = 0,
                n_terms: int = 4, min_size: int = 5) -> tuple[np.ndarray, dict[int, list[str]], dict[int, str]]:
    """:func:`topic_clusters` plus each topic's top-10 distinctive terms (what hot spots match against)."""
    from sklearn.cluster import MiniBatchKMeans

    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=int), {}, {}
    k = k or int(np.clip(round(np.sqrt(n / 20)), 2, 12))
    k = min(k, n)
    ids = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=1024).fit_predict(vectors)
    terms = distinctive_terms(tokens, ids, k)
    sizes = np.bincount(ids, minlength=k)
    labels = {c: (" / ".join(terms[c][:n_terms]) if sizes[c] >= min_size and terms[c] else f"misc {c}")
              for c in range(k)}
    return ids, terms, labels


def _matching_topic(topics: pd.Series, hot_terms: list[str], terms_of: dict[int, set[str]],
                    label_of: dict[int, str]) -> str:
    """The label of the most common topic among a hot spot's texts *whose own terms include a hot term*.

    Texts of a hot spot spread over several topics; the plain majority can be a big generic
    topic whose label has nothing to do with the burst ("diaper" under "delivery / arrived").
    No matching topic: empty, rather than a label that contradicts the terms.
    """
    words = {w for t in hot_terms for w in t.split(" / ")}
    for topic in topics.dropna().astype(int).value_counts().index:
        if terms_of.get(int(topic), set()) & words:
            return label_of.get(int(topic), "")
    return ""


def hotspots(db: Path | str | Warehouse, since: str, top: int = 10, freq: str = "D",
             examples: int = 2) -> pd.DataFrame:
    """Top emerging terms since ``since`` with their topic and example texts (needs `trendcast signals`).

    Columns: ``term, date, count, baseline, burst, topic, examples``.
    """
    from trendcast.text.embeddings import open_warehouse

    with open_warehouse(db, read_only=not isinstance(db, Warehouse)) as wh:
        if not wh.has_table("text_scores"):
            raise NotReadyError("No scored texts yet: run `trendcast signals --db PATH` first.")
        topic_join = "LEFT JOIN text_topic USING (text_id)" if wh.has_table("text_topic") else ""
        topic_col = "topic" if topic_join else "NULL AS topic"
        df = wh.con.execute(
            f"SELECT s.text_id, s.date, s.tokens, t.text, {topic_col}, s.score FROM text_scores s "
            f"JOIN texts t USING (text_id) {topic_join}"
        ).df()
        topics = wh.table("topics") if wh.has_table("topics") else pd.DataFrame(columns=["topic", "label", "terms"])
    tokens = [t.split(" ") if isinstance(t, str) and t else [] for t in df["tokens"]]
    counts = term_counts(df["date"], tokens)
    cand = top_bursts(counts, since=since, top=top * 5, freq=freq)
    label_of = {int(k): v for k, v in zip(topics["topic"], topics["label"], strict=True)}
    terms_of = ({int(k): set(str(v).split(" / ")) for k, v in zip(topics["topic"], topics["terms"], strict=True)}
                if "terms" in topics else {k: set(v.split(" / ")) for k, v in label_of.items()})
    df["date"] = pd.to_datetime(df["date"])
    df["token_set"] = [set(t) for t in tokens]
    span = pd.Timedelta(days=7 if freq != "D" else 1)
    groups: list[dict] = []  # co-bursting terms (same period, mostly the same texts) become one hot spot
    for row in cand.itertuples(index=False):
        day = pd.Timestamp(row.date)
        window = df[(df["date"] > day - span) & (df["date"] <= day)]
        ids = set(window.loc[window["token_set"].map(lambda ts, t=row.term: t in ts), "text_id"])
        for g in groups:
            if g["date"] == day and len(ids & g["ids"]) >= 0.5 * min(len(ids), len(g["ids"])):
                g["terms"].append(row.term)
                break
        else:
            groups.append({"date": day, "ids": ids, "terms": [row.term], "row": row})
        if len(groups) > top:
            break
    ex_col, topic_col, rows = [], [], []
    for g in groups[:top]:
        hit = df[df["text_id"].isin(g["ids"])]
        ex_col.append(" | ".join(hit["text"].drop_duplicates().head(examples)))
        topic_col.append(_matching_topic(hit["topic"], g["terms"], terms_of, label_of))
        rows.append({**g["row"]._asdict(), "term": " / ".join(g["terms"])})
    best = pd.DataFrame(rows, columns=["term", "date", "count", "baseline", "burst"])
    if best.empty:  # nothing burst since ``since``
        return best.assign(topic=pd.Series(dtype=object), examples=pd.Series(dtype=object))
    best["topic"] = topic_col
    best["examples"] = ex_col
    best["date"] = pd.to_datetime(best["date"]).dt.date
    best["burst"] = best["burst"].round(2)
    return best
