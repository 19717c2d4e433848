"""New products: a forecast for an item with no sales, from the items most like it.

Similarity = 0.4 x text similarity of title + description + 0.4 x same category + 0.2 x price
proximity (``exp(-|log(p / p_j)| / 0.5)``). Text similarity uses the text stage's product
embeddings (:func:`trendcast.text.embeddings.embed_products`, multilingual) when that module and
its encoder load; otherwise a character n-gram TF-IDF cosine (works for Chinese and English
without a tokenizer). The result says which one was used.

Forecast = similarity-weighted mean (``statistic="median"``: weighted median) daily level of the ``k`` nearest items (their mean daily sales
over the 28 days before the launch date) x a launch-curve shape: the median, over items whose
launch falls inside the history, of sales on day ``d`` after launch divided by their level in
the following weeks. With fewer than three observed launches the shape is flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError, InputError

WEIGHTS = {"text": 0.4, "category": 0.4, "price": 0.2}


@dataclass
class Similarity:
    """Item-to-item similarity over the catalogue plus optional new items."""

    matrix: np.ndarray
    items: list[str]
    text_method: str


def _tfidf(texts: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    x = vec.fit_transform(texts)
    return (x @ x.T).toarray()


def _embedding_sim(db: object, texts: list[str]) -> np.ndarray | None:
    """Cosine similarity from the text stage's encoder, or None without a warehouse to cache
    vectors in or when the encoder package is not installed."""
    if db is None:
        return None
    from trendcast.text.embeddings import embed_texts, open_warehouse

    try:
        with open_warehouse(db) as wh:
            vecs = np.asarray(embed_texts(wh, texts), dtype=float)
    except ConfigError:  # the encoder's package is missing: TF-IDF instead
        return None
    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    return vecs @ vecs.T


def product_text(products: pd.DataFrame) -> list[str]:
    cols = [c for c in ("title", "description") if c in products.columns]
    if not cols:
        return products["item_id"].astype(str).tolist()
    return products[cols].fillna("").astype(str).agg(" ".join, axis=1).str.strip().tolist()


def build_similarity(products: pd.DataFrame, prices: pd.Series, db: object = None) -> Similarity:
    """Combined similarity between every pair of ``products`` rows (``item_id, category, title...``)."""
    texts = product_text(products)
    text_sim = _embedding_sim(db, texts)
    method = "text embeddings (trendcast.text)"
    if text_sim is None:
        text_sim, method = _tfidf(texts), "character n-gram TF-IDF (embeddings unavailable)"
    cat = products["category"].astype(str).to_numpy()
    same = (cat[:, None] == cat[None, :]).astype(float)
    p = np.log(products["item_id"].map(prices).to_numpy(float))
    price_sim = np.exp(-np.abs(p[:, None] - p[None, :]) / 0.5)
    price_sim = np.where(np.isfinite(price_sim), price_sim, 0.0)
    sim = WEIGHTS["text"] * text_sim + WEIGHTS["category"] * same + WEIGHTS["price"] * price_sim
    return Similarity(sim, products["item_id"].astype(str).tolist(), method)


def item_daily(panel: pd.DataFrame) -> pd.DataFrame:
    """Daily units per item summed over stores (``item_id x ds`` wide frame, NaN before launch)."""
    return panel.pivot_table(index="ds", columns="item_id", values="y", aggfunc="sum").sort_index()


def level_before(daily: pd.DataFrame, as_of: pd.Timestamp, days: int = 28) -> pd.Series:
    """Mean daily units per item over the ``days`` before ``as_of`` (or the ``days`` after it when
    there is no earlier history, e.g. items evaluated at the very start of the data)."""
    before = daily[(daily.index < as_of) & (daily.index >= as_of - pd.Timedelta(days=days))]
    after = daily[(daily.index >= as_of) & (daily.index < as_of + pd.Timedelta(days=days))]
    lvl = before.mean()
    return lvl.where(before.notna().sum() >= days // 2, after.mean())


def launch_curve(daily: pd.DataFrame, days: int = 28, exclude: str | None = None) -> tuple[np.ndarray, int]:
    """Median sales shape over the first ``days`` after launch relative to the next weeks' level.

    Only items first selling after the data's first ``days`` days count as launches. Returns
    (shape, number of launches used); flat when fewer than three launches.
    """
    start = daily.index.min()
    shapes = []
    for item in daily.columns:
        if item == exclude:
            continue
        s = daily[item].dropna()
        if s.empty or s.index[0] < start + pd.Timedelta(days=days) or len(s) < 3 * days:
            continue
        later = s.iloc[days : 3 * days].mean()
        if later > 0:
            shapes.append(s.iloc[:days].to_numpy() / later)
    if len(shapes) < 3:
        return np.ones(days), len(shapes)
    shape = pd.Series(np.median(np.vstack(shapes), axis=0)).rolling(7, min_periods=1, center=True).mean()
    return shape.to_numpy(), len(shapes)


def _weighted_level(
    sim_row: np.ndarray, items: list[str], levels: pd.Series, candidates: set[str], k: int, statistic: str = "mean"
) -> tuple[float, list[str]]:
    order = [j for j in np.argsort(-sim_row) if items[j] in candidates and np.isfinite(levels.get(items[j], np.nan))]
    top = order[:k]
    if not top:
        raise InputError("No comparable items with sales history were found for this product.")
    w = np.clip(sim_row[top], 1e-6, None)
    vals = np.array([levels[items[j]] for j in top])
    if statistic == "mean":
        return float(w @ vals / w.sum()), [items[j] for j in top]
    order = np.argsort(vals)  # weighted median: robust to one unusually strong neighbour
    cum = np.cumsum(w[order]) / w.sum()
    return float(vals[order][np.searchsorted(cum, 0.5)]), [items[j] for j in top]


def cold_start_forecast(
    panel: pd.DataFrame,
    products: pd.DataFrame,
    new_item: dict[str, object],
    h: int = 28,
    k: int = 5,
    launch: str | pd.Timestamp | None = None,
    db: object = None,
) -> pd.DataFrame:
    """Daily forecast per store for a product with no sales.

    ``new_item`` needs ``category`` and ``price``; ``title``/``description`` improve matching.
    Returns ``store_id, ds, day, forecast`` with ``attrs`` naming the neighbours and method.
    """
    if k < 1 or h < 1:
        raise ConfigError("k and h must be at least 1.")
    for key in ("category", "price"):
        if key not in new_item:
            raise InputError(f"A new product needs a '{key}'.")
    new_id = str(new_item.get("item_id", "__new__"))
    row = {"item_id": new_id, "category": new_item["category"], "title": new_item.get("title", ""), "description": new_item.get("description", "")}
    catalogue = pd.concat([products[products["item_id"] != new_id], pd.DataFrame([row])], ignore_index=True)
    prices = panel.groupby("item_id")["price"].median()
    prices[new_id] = float(new_item["price"])
    sim = build_similarity(catalogue, prices, db)
    daily = item_daily(panel)
    start = pd.Timestamp(launch) if launch is not None else daily.index.max() + pd.Timedelta(days=1)
    levels = level_before(daily, start)
    i = sim.items.index(new_id)
    sim_row = sim.matrix[i].copy()
    sim_row[i] = -np.inf
    level, neighbours = _weighted_level(sim_row, sim.items, levels, set(daily.columns), k)
    shape, n_launch = launch_curve(daily, h)
    store_share = panel[panel["item_id"].isin(neighbours)].groupby("store_id")["y"].sum()
    store_share = store_share / store_share.sum() if store_share.sum() > 0 else store_share * 0 + 1 / len(store_share)
    dates = pd.date_range(start, periods=h, freq="D")
    out = pd.concat(
        [pd.DataFrame({"store_id": s, "ds": dates, "day": np.arange(1, h + 1), "forecast": level * share * shape[:h]}) for s, share in store_share.items()],
        ignore_index=True,
    )
    out.attrs.update({"neighbours": neighbours, "text_method": sim.text_method, "launches_in_curve": n_launch, "daily_level": level})
    return out


def evaluate_cold_start(
    panel: pd.DataFrame, products: pd.DataFrame, days: int = 28, k: int = 5, db: object = None, statistic: str = "mean"
) -> dict[str, object]:
    """Leave-one-item-out: hide each item's history, forecast its first ``days`` days of sales.

    Compared with the category average (mean level of the other items in the category over the
    same window). Both see only the same information; WAPE is over items' first-``days`` totals.
    """
    daily = item_daily(panel)
    prices = panel.groupby("item_id")["price"].median()
    cat_of = products.set_index("item_id")["category"].astype(str)
    prods = products[products["item_id"].isin(daily.columns)].reset_index(drop=True)
    sim = build_similarity(prods, prices, db)
    rows = []
    for i, item in enumerate(sim.items):
        s = daily[item].dropna()
        if len(s) < days:
            continue
        launch = s.index[0]
        actual = float(s.iloc[:days].sum())
        levels = level_before(daily.drop(columns=item), launch, days)
        others = set(levels.index)
        sim_row = sim.matrix[i].copy()
        sim_row[i] = -np.inf
        level, _ = _weighted_level(sim_row, sim.items, levels, others, k, statistic)
        shape, _ = launch_curve(daily, days, exclude=item)
        same_cat = [j for j in levels.index if cat_of.get(j) == cat_of[item] and np.isfinite(levels[j])]
        baseline = float(levels[same_cat].mean() * days) if same_cat else float(levels.mean() * days)
        rows.append({"item_id": item, "actual": actual, "forecast": level * float(shape[:days].sum()), "forecast_flat": level * days, "baseline": baseline})
    res = pd.DataFrame(rows)
    total = res["actual"].sum()

    def wape(col: str) -> float:
        return float((res[col] - res["actual"]).abs().sum() / total) if total > 0 else float("nan")

    return {
        "items": len(res),
        "wape_similar_items": round(wape("forecast"), 4),
        "wape_similar_items_flat": round(wape("forecast_flat"), 4),
        "wape_category_average": round(wape("baseline"), 4),
        "text_method": sim.text_method,
        "per_item": res,
    }
