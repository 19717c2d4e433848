"""Marketing copy and product descriptions grounded in what trendcast knows about a product.

The facts come from the warehouse only: what reviews praise and criticise (aspect sentiment
and sentiment labels of ``trendcast signals``), the terms people use most, the recent sales
trend, the star rating and where the price sits in its category. An OpenAI-compatible model
(the report narrative's settings: ``TRENDCAST_LLM_URL``/``TRENDCAST_LLM_MODEL``) writes the
text from those facts when configured; otherwise, or when it fails, built-in templates write it
from the same facts, and the result says which one did.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import pandas as pd

from trendcast.errors import ConfigError, InputError
from trendcast.features.frequency import recent_days, recent_periods, unit
from trendcast.report import open_readonly
from trendcast.report.narrative import LLMConfig, chat

log = logging.getLogger("trendcast.report")

KINDS = ("marketing", "description")
LANGS = ("zh", "en")
ASPECTS = {"price": ("value for money", "性价比"), "quality": ("quality", "品质"),
           "delivery": ("fast delivery", "物流速度"), "packaging": ("packaging", "包装"),
           "size_fit": ("fit and size", "尺码合适"), "service": ("service", "服务"),
           "taste_smell": ("taste and smell", "味道"), "battery": ("battery life", "续航"),
           "appearance": ("looks", "外观"), "effect": ("results", "效果")}  # text/resources/aspects.json
STOP = {"the", "and", "for", "with", "this", "that", "very", "was", "are", "but", "not", "have", "after",
        "just", "really", "would", "will", "they", "its", "it's", "from", "too", "than", "all", "one", "buy",
        "bought", "product", "item", "的", "了", "是", "很", "也", "都", "就", "还", "买", "用"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class ProductFacts:
    """Everything the copy may say; nothing else is given to the writer."""

    title: str
    category: str
    item_id: str | None = None
    description: str = ""
    price: float | None = None
    price_position: str | None = None  # budget | mid-range | premium (within its category)
    praised: list[str] = field(default_factory=list)
    criticised: list[str] = field(default_factory=list)
    hot_terms: list[str] = field(default_factory=list)
    rating: float | None = None
    reviews: int = 0
    trend_pct: float | None = None  # sales of the last `trend_window` against the one before
    trend_window: str = "28 days"  # 8 weeks on weekly data, 3 months on monthly data
    basis: str = "item"  # item | category (a new product borrows its category's voice)


@dataclass
class Copy:
    text: str
    language: str
    kind: str
    source: str  # who wrote it, shown with the text
    facts: ProductFacts

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "language": self.language, "kind": self.kind, "source": self.source,
                "facts": asdict(self.facts)}


def _position(price: float | None, prices: pd.Series) -> str | None:
    if price is None or prices.dropna().empty:
        return None
    share = float((prices.dropna() < price).mean())
    return "budget" if share < 1 / 3 else "premium" if share > 2 / 3 else "mid-range"


def _voice(con, where: str, params: list[object]) -> dict[str, object]:
    """Praised/criticised aspects, frequent terms and rating from the scored texts."""
    out: dict[str, object] = {"praised": [], "criticised": [], "hot_terms": [], "rating": None, "reviews": 0}
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "texts" in tables:
        row = con.execute(f"SELECT avg(t.rating), count(*) FROM texts t LEFT JOIN products p USING (item_id) "
                          f"WHERE {where.format(a='t')}", params).fetchone()
        out["rating"] = None if row[0] is None else round(float(row[0]), 1)
        out["reviews"] = int(row[1])
    if "text_scores" not in tables:
        return out
    df = con.execute(f"SELECT s.label, s.tokens, s.mentions FROM text_scores s LEFT JOIN products p USING (item_id) "
                     f"WHERE {where.format(a='s')}", params).df()
    if df.empty:
        return out
    if "text_aspects" in tables:  # aspect-level sentiment: each clause scored toward its aspect
        asp = con.execute(f"SELECT a.aspect, a.score FROM text_aspects a JOIN text_scores s USING (text_id) "
                          f"LEFT JOIN products p USING (item_id) WHERE {where.format(a='s')}", params).df()
        pos = asp[asp["score"] > 0]["aspect"].value_counts()
        neg = asp[asp["score"] < 0]["aspect"].value_counts()
        out["praised"] = [n for n in pos.index if pos[n] >= max(2, neg.get(n, 0))][:3]
        out["criticised"] = [n for n in neg.index if neg[n] >= max(2, pos.get(n, 0) / 2)][:2]
    words = Counter(w for toks in df.loc[df["label"] == "positive", "tokens"].dropna() for w in str(toks).split()
                    if w.lower() not in STOP and (len(w) >= 2 if CJK.search(w) else len(w) >= 4))
    out["hot_terms"] = [w for w, _ in words.most_common(8)]
    return out


def _trend(con, days: int, where: str, params: list[object]) -> tuple | None:  # noqa: ANN001 - DuckDB connection
    """Units sold in the last ``days`` days and in the ``days`` before, by the rows ``where`` picks."""
    return con.execute(
        f"""WITH last AS (SELECT max(date) AS d FROM sales)
            SELECT sum(s.units) FILTER (WHERE s.date > d - INTERVAL {int(days)} DAY),
                   sum(s.units) FILTER (WHERE s.date <= d - INTERVAL {int(days)} DAY AND s.date > d - INTERVAL {2 * int(days)} DAY)
            FROM sales s JOIN products p USING (item_id), last WHERE {where}""", params).fetchone()


def gather_facts(db: Path, item_id: str | None = None, product: dict[str, object] | None = None) -> ProductFacts:
    """Facts for a catalogue item (``item_id``) or a new product (``category``, ``price``, title...)."""
    if (item_id is None) == (product is None):
        raise ConfigError("Give either an item id or a new product (category and price), not both.")
    with open_readonly(Path(db)) as con:
        row = con.execute("SELECT value FROM config WHERE key = 'freq'").fetchone()
        freq = row[0] if row else "D"  # the trend looks back 28 days, 8 weeks or 3 months
        days, window = recent_days(freq), f"{recent_periods(freq)} {unit(freq)}s"
        if item_id is not None:
            row = con.execute("SELECT title, category, description FROM products WHERE item_id = ?",
                              [item_id]).fetchone()
            if row is None:
                raise InputError(f"Unknown item '{item_id}': it is not in the products table.", column="item_id")
            title, category, description = row[0] or item_id, row[1] or "", row[2] or ""
            price_row = con.execute("SELECT price FROM sales WHERE item_id = ? AND price IS NOT NULL "
                                    "ORDER BY date DESC LIMIT 1", [item_id]).fetchone()
            price = None if price_row is None else float(price_row[0])
            voice = _voice(con, "{a}.item_id = ?", [item_id])
            basis = "item"
            trend = _trend(con, days, "s.item_id = ?", [item_id])
        else:
            assert product is not None
            if not product.get("category") or product.get("price") in (None, ""):
                raise InputError("A new product needs a category and a price.")
            title, category = str(product.get("title") or f"new {product['category']} product"), str(product["category"])
            description, price = str(product.get("description") or ""), float(product["price"])  # type: ignore[arg-type]
            voice = _voice(con, "p.category = ?", [category])
            basis = "category"
            trend = _trend(con, days, "p.category = ?", [category])
        prices = con.execute(
            """SELECT median(s.price) AS price FROM sales s JOIN products p USING (item_id)
               WHERE p.category = ? GROUP BY s.item_id""", [category]).df()["price"]
    recent, before = (trend or (None, None))
    trend_pct = round(100 * (float(recent) / float(before) - 1), 1) if recent and before else None
    voice_fields = {k: voice[k] for k in ("praised", "criticised", "hot_terms", "rating", "reviews")}
    return ProductFacts(title=title, category=category, item_id=item_id, description=description, price=price,
                        price_position=_position(price, prices), trend_pct=trend_pct, trend_window=window, basis=basis,
                        **voice_fields)


# -- built-in templates -------------------------------------------------------------------------


def _join(words: list[str], lang: str) -> str:
    """``a, b and c`` / ``a、b和c``."""
    if len(words) < 2:
        return "".join(words)
    return (", ".join(words[:-1]) + " and " + words[-1]) if lang == "en" else ("、".join(words[:-1]) + "和" + words[-1])


def _aspects(names: list[str], lang: str) -> list[str]:
    i = 0 if lang == "en" else 1
    return [ASPECTS.get(n, (n, n))[i] for n in names]


def template_copy(f: ProductFacts, lang: str, kind: str) -> str:
    """Plain sentences over the facts (no claim that the facts do not support)."""
    praised, criticised = _aspects(f.praised, lang), _aspects(f.criticised, lang)
    terms = [t for t in f.hot_terms if bool(CJK.search(t)) == (lang == "zh")][:3]
    rising = f.trend_pct is not None and f.trend_pct >= 10
    who = "buyers" if f.basis == "item" else f"{f.category} buyers"
    if lang == "en":
        parts = [f"{f.title}."]
        if praised:
            parts.append(f"{who.capitalize()} praise its {_join(praised, lang)}.")
        if terms:
            parts.append(f"In their words: {', '.join(terms)}.")
        if f.rating is not None and f.basis == "item" and f.reviews >= 5:
            parts.append(f"Rated {f.rating:.1f} out of 5 in {f.reviews:,} reviews.")
        if rising:
            parts.append("More people are buying it every week." if f.basis == "item"
                         else f"Demand for {f.category} is growing.")
        if f.price_position == "budget":
            parts.append(f"Priced below most {f.category}.")
        elif f.price_position == "premium":
            parts.append(f"A premium choice among {f.category}.")
        if kind == "description":
            if f.description:
                parts.insert(1, f.description.rstrip(".") + ".")
            if f.price is not None:
                parts.append(f"Price: {f.price:,.2f}.")
            if criticised:
                parts.append(f"Note for the listing: some reviews mention {_join(criticised, lang)}; "
                             "answer those questions up front.")
        return " ".join(parts)
    parts = [f"{f.title}。"]
    if praised:
        parts.append(f"{'买家' if f.basis == 'item' else '同类买家'}称赞它的{_join(praised, lang)}。")
    if terms:
        parts.append(f"大家说：{'、'.join(terms)}。")
    if f.rating is not None and f.basis == "item" and f.reviews >= 5:
        parts.append(f"{f.reviews:,} 条评价，平均 {f.rating:.1f} 星。")
    if rising:
        parts.append("最近购买的人越来越多。" if f.basis == "item" else f"{f.category}的需求正在上升。")
    if f.price_position == "budget":
        parts.append("价格比同类大多数商品更实惠。")
    elif f.price_position == "premium":
        parts.append("同类中的高端之选。")
    if kind == "description":
        if f.description:
            parts.insert(1, f.description.rstrip("。.") + "。")
        if f.price is not None:
            parts.append(f"价格：{f.price:,.2f}。")
        if criticised:
            parts.append(f"上架提示：部分评价提到{_join(criticised, lang)}，请在详情中说明。")
    return "".join(parts)


# -- the language model ---------------------------------------------------------------------------

PROMPT = {
    "marketing": "Write short marketing copy (2-3 sentences) for this product",
    "description": "Write a product description (one paragraph) for this product page",
}


def ask_model(config: LLMConfig, f: ProductFacts, lang: str, kind: str,
              transport: httpx.BaseTransport | None = None) -> str:
    """The model's text from the facts (raises httpx/ValueError errors on failure)."""
    language = "Simplified Chinese" if lang == "zh" else "English"
    system = (f"{PROMPT[kind]} in {language}. Use only the facts given as JSON: do not invent features, "
              "numbers, awards or claims they do not support. Plain text, no headings.")
    return chat(config, system, json.dumps(asdict(f), ensure_ascii=False), 0.4, transport)


def write_copy(db: Path, item_id: str | None = None, product: dict[str, object] | None = None,
               lang: str = "en", kind: str = "marketing", llm: LLMConfig | None = None,
               transport: httpx.BaseTransport | None = None) -> Copy:
    """Copy for an item or a new product in ``lang`` (zh/en); ``kind`` marketing or description."""
    if lang not in LANGS:
        raise ConfigError(f"Language must be one of {', '.join(LANGS)}; got '{lang}'.")
    if kind not in KINDS:
        raise ConfigError(f"Kind must be one of {', '.join(KINDS)}; got '{kind}'.")
    f = gather_facts(db, item_id, product)
    if llm is not None:
        try:
            return Copy(ask_model(llm, f, lang, kind, transport), lang, kind,
                        f"written by {llm.model} from the facts below; check it before publishing", f)
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("language model at %s not used for copy: %s: %s", llm.endpoint(), type(exc).__name__, exc)
            return Copy(template_copy(f, lang, kind), lang, kind,
                        "built-in template (the configured language model did not answer; details in the log)", f)
    return Copy(template_copy(f, lang, kind), lang, kind,
                "built-in template (no language model configured: set TRENDCAST_LLM_URL and TRENDCAST_LLM_MODEL)", f)
