"""Competitors: brand and product mentions in text, share of voice and sentiment per competitor over time.

Names come from two places:

- a dictionary: the ``competitors`` groups of ``resources/mentions.json`` (or the shop's own
  ``--mentions`` file) plus the shop's own brands from the products table (so share of voice
  compares rivals with the shop itself);
- learnt: names customers compare against. A clause with a comparison cue ("比", "不如",
  "还是…好", "than", "compared to", "switched from") is searched for brand-like words: the
  noun right after the cue in Chinese ("比小米的好" -> 小米), capitalised words not at the start
  of a sentence in English. A name that turns up in comparisons in at least ``min_texts`` different texts is
  kept; single sightings are noise.

The sentiment of a mention is the score of the clause that names it (not of the whole review),
so "比京东贵多了" counts against the price here, not for 京东. Results go to the warehouse
table ``competitor_daily`` (date, competitor, source, mentions, share_of_voice, sent_mean).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import pandas as pd

from trendcast.data.warehouse import Warehouse
from trendcast.errors import NotReadyError
from trendcast.text.aspects import split_clauses
from trendcast.text.clean import clean_text
from trendcast.text.language import base_language, detect_language
from trendcast.text.mentions import MentionConfig, load_mentions

ZH_CUES = re.compile(r"比|不如|相比|比起|对比|换成|换了|还是.{0,6}好|没有.{0,6}好|胜过|强于|弱于")
EN_CUES = re.compile(r"\b(than|compared (to|with)|versus|vs\.?|instead of|switched (from|to)|unlike|over the)\b",
                     re.IGNORECASE)
_LATIN_NAME = re.compile(r"\b[A-Z][A-Za-z0-9&'-]{1,20}\b")
ZH_CUE_WORDS = {"比", "不如", "没有", "还是", "相比", "比起", "对比", "换成", "胜过", "强于", "弱于", "像"}
MIN_TEXTS = 3
DAILY_DDL = """CREATE OR REPLACE TABLE competitor_daily (
    date DATE, competitor VARCHAR, source VARCHAR, mentions INTEGER, share_of_voice DOUBLE, sent_mean DOUBLE)"""


def _name_candidates(clause: str, lang: str) -> list[str]:
    """Brand-like words in a comparison clause: the noun right after a cue (zh), capitalised names (en)."""
    if lang == "zh":
        import jieba.posseg as pseg

        from trendcast.text.tokenize import _jieba

        _jieba()
        tokens = pseg.lcut(clause)
        return [nxt.word for cur, nxt in zip(tokens, tokens[1:], strict=False)
                if cur.word in ZH_CUE_WORDS and (nxt.flag.startswith("n") or nxt.flag == "eng") and len(nxt.word) >= 2]
    names = []
    for m in _LATIN_NAME.finditer(clause):
        before = clause[: m.start()].rstrip()
        if before and not before.endswith((".", "!", "?")):  # skip sentence-initial capitals
            names.append(m.group(0))
    return names


def learn_competitors(texts: Iterable[str], min_texts: int = MIN_TEXTS, exclude: Iterable[str] = ()) -> list[str]:
    """Names found near comparison cues in at least ``min_texts`` texts, most frequent first."""
    from trendcast.text.tokenize import stopwords

    stop = stopwords() | {w.lower() for w in exclude}
    seen: Counter[str] = Counter()
    for text in texts:
        clean = clean_text(text if isinstance(text, str) else "")
        lang = base_language(detect_language(clean))
        found: set[str] = set()
        for clause in split_clauses(clean) if lang == "zh" else re.split(r"(?<=[.!?;])\s+", clean):
            cues = ZH_CUES if lang == "zh" else EN_CUES
            if cues.search(clause):
                found |= {n for n in _name_candidates(clause, lang) if n.lower() not in stop}
        seen.update(found)
    return [n for n, c in seen.most_common() if c >= min_texts]


def competitor_patterns(config: MentionConfig, learnt: Sequence[str] = (), own: Sequence[str] = ()) -> dict[str, tuple[str, re.Pattern[str]]]:
    """Competitor name -> (source, compiled alternation of its keywords); sources: dictionary, own, learnt."""
    out: dict[str, tuple[str, re.Pattern[str]]] = {}
    known: set[str] = set()
    for source, groups in (("dictionary", config.competitors), ("own", {b: [b] for b in own}),
                           ("learnt", {n: [n] for n in learnt})):
        for name, words in groups.items():
            alts = sorted({str(w).lower() for w in words if str(w).strip()} - known, key=len, reverse=True)
            if not alts or name in out:
                continue
            known |= set(alts)
            pat = "|".join(rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in alts)
            out[name] = (source, re.compile(pat, re.IGNORECASE))
    return out


def find_mentions(texts: Sequence[str], patterns: dict[str, tuple[str, re.Pattern[str]]]) -> pd.DataFrame:
    """One row per (text, competitor) mention: ``row, competitor, source, clause``."""
    rows = []
    for i, text in enumerate(texts):
        clean = clean_text(text if isinstance(text, str) else "")
        for clause in split_clauses(clean):
            for name, (source, pat) in patterns.items():
                if pat.search(clause):
                    rows.append((i, name, source, clause))
    df = pd.DataFrame(rows, columns=["row", "competitor", "source", "clause"])
    return df.drop_duplicates(["row", "competitor"])


def build_competitors(wh: Warehouse, mentions: str | None = None, min_texts: int = MIN_TEXTS) -> pd.DataFrame:
    """Rebuild ``competitor_daily`` from the warehouse texts; returns it.

    ``share_of_voice`` is the competitor's share of all brand mentions that day (own brands
    included); ``sent_mean`` the mean score of the clauses that name it, in [-1, 1].
    """
    from trendcast.text.sentiment import score_texts

    if wh.count("texts") == 0:
        raise NotReadyError("The warehouse has no texts: run `trendcast ingest --texts FILE` first.")
    texts = wh.con.execute("SELECT text_id, date, text FROM texts").df()
    products = wh.table("products")
    own = sorted({str(b) for b in products.get("brand", pd.Series(dtype=str)).dropna() if str(b).strip()})
    config = load_mentions(mentions)
    dictionary = {w.lower() for ws in config.competitors.values() for w in ws} | {b.lower() for b in own}
    learnt = learn_competitors(texts["text"], min_texts=min_texts, exclude=dictionary)
    found = find_mentions(texts["text"].tolist(), competitor_patterns(config, learnt, own))
    if found.empty:
        daily = pd.DataFrame(columns=["date", "competitor", "source", "mentions", "share_of_voice", "sent_mean"])
    else:
        clauses = found["clause"].drop_duplicates().tolist()
        found["score"] = found["clause"].map(dict(zip(clauses, score_texts(clauses)["score"], strict=True)))
        found["date"] = pd.to_datetime(texts["date"].to_numpy()[found["row"].to_numpy()]).date
        g = found.groupby(["date", "competitor", "source"])
        daily = g.agg(mentions=("row", "size"), sent_mean=("score", "mean")).reset_index()
        daily["share_of_voice"] = daily["mentions"] / daily.groupby("date")["mentions"].transform("sum")
        daily = daily[["date", "competitor", "source", "mentions", "share_of_voice", "sent_mean"]]
    wh.con.execute(DAILY_DDL)
    wh.con.register("frame", daily)
    wh.con.execute("INSERT INTO competitor_daily SELECT * FROM frame")
    wh.con.unregister("frame")
    return daily


def competitor_summary(wh: Warehouse, since: str | None = None, freq: str = "W") -> pd.DataFrame:
    """Share of voice and sentiment per competitor and period: ``period, competitor, source, mentions, share_of_voice, sent_mean``."""
    if not wh.has_table("competitor_daily"):
        raise NotReadyError("No competitor table yet: run `trendcast signals --db PATH` first.")
    df = wh.table("competitor_daily")
    if df.empty:
        return df.rename(columns={"date": "period"})
    df["date"] = pd.to_datetime(df["date"])
    if since is not None:
        df = df[df["date"] >= pd.Timestamp(since)]
    df["period"] = df["date"].dt.to_period(freq).dt.start_time if freq != "D" else df["date"]
    df["sent_sum"] = df["sent_mean"] * df["mentions"]
    g = df.groupby(["period", "competitor", "source"], as_index=False)[["mentions", "sent_sum"]].sum()
    g["share_of_voice"] = (g["mentions"] / g.groupby("period")["mentions"].transform("sum")).round(3)
    g["sent_mean"] = (g["sent_sum"] / g["mentions"]).round(3)
    g["period"] = g["period"].dt.date
    return g.drop(columns="sent_sum").sort_values(["period", "mentions"], ascending=[True, False]).reset_index(drop=True)

