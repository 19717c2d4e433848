"""New products: a forecast for an item with no sales, from the items most like it.

Similarity = 0.4 x text similarity of title + description + 0.4 x same category + 0.2 x price
proximity (``exp(-|log(p / p_j)| / 0.5)``). Text similarity uses the text stage's product
embeddings (:func:`trendcast.text.embeddings.embed_products`, multilingual) when that module and
its encoder load; otherwise a character n-gram TF-IDF cosine (works for Chinese and English
without a tokenizer). The result says which one was used.

Everything is counted in periods of the data's frequency (``panel.attrs["freq"]``, else read
from the dates; see :mod:`trendcast.features.frequency`): daily, weekly or monthly.

Forecast = similarity-weighted mean (``statistic="median"``: weighted median) level of the ``k``
nearest items (their mean sales per period over the recent periods before the launch
period: 28 days, 8 weeks or 3 months) x a launch-curve shape: the median, over items whose
launch falls inside the history, of sales in period ``d`` after launch divided by their level in
the following periods. With fewer than three observed launches the shape is flat. Forecast dates
are period labels at the data's frequency, starting with the period the launch falls in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trendcast.data.periods import check_freq, kind, panel_freq, period_label
from trendcast.errors import ConfigError, InputError
from trendcast.features.frequency import default_horizon, recent_periods, unit

WEIGHTS = {"text": 0.4, "category": 0.4, "price": 0.2}
SMOOTH = {"D": 7, "W": 1, "M": 1}  # launch-curve smoothing (periods): the weekday pattern in daily data


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
    if not any(texts):  # no titles or descriptions: nothing to read
        text_sim, method = np.zeros((len(texts), len(texts))), "none (no titles or descriptions: category and price only)"
    else:
        text_sim, method = _embedding_sim(db, texts), "text embeddings (trendcast.text)"
    if text_sim is None:
        text_sim, method = _tfidf(texts), "character n-gram TF-IDF (embeddings unavailable)"
    cat = products["category"].astype(str).to_numpy()
    same = (cat[:, None] == cat[None, :]).astype(float)
    p = np.log(products["item_id"].map(prices).to_numpy(float))
    price_sim = np.exp(-np.abs(p[:, None] - p[None, :]) / 0.5)
    price_sim = np.where(np.isfinite(price_sim), price_sim, 0.0)
    sim = WEIGHTS["text"] * text_sim + WEIGHTS["category"] * same + WEIGHTS["price"] * price_sim
    return Similarity(sim, products["item_id"].astype(str).tolist(), method)


def _shift(ts: pd.Timestamp, n: int, freq: str) -> pd.Timestamp:
    """``ts`` moved ``n`` (non-zero) periods; daily data moves by exact days."""
    if kind(freq) == "D":
        return ts + pd.Timedelta(days=n)
    return ts + n * pd.tseries.frequencies.to_offset(check_freq(freq))


def launch_period(launch: str | pd.Timestamp, freq: str) -> pd.Timestamp:
    """The label of the period a launch date falls in (a Wednesday in ``W-MON`` data: the next
    Monday; the 15th in ``MS`` data: the 1st). Daily dates are kept as given."""
    ts = pd.Timestamp(launch)
    if kind(freq) == "D":
        return ts
    return pd.Timestamp(period_label(pd.Series([ts]), check_freq(freq)).iloc[0])


def item_daily(panel: pd.DataFrame) -> pd.DataFrame:
    """Units per item and period summed over stores (``item_id x ds`` wide frame, NaN before
    launch). The name is historical: the periods are the panel's (days, weeks or months)."""
    return panel.pivot_table(index="ds", columns="item_id", values="y", aggfunc="sum").sort_index()


def level_before(
    daily: pd.DataFrame, as_of: pd.Timestamp, periods: int | None = None, freq: str = "D", min_rows: int | None = None
) -> pd.Series:
    """Mean units per period and item over the ``periods`` periods before ``as_of`` (default
    :func:`recent_periods`: 28 days, 8 weeks, 3 months), or over the ``periods`` from ``as_of`` on
    when fewer than ``min_rows`` periods came before (e.g. items evaluated at the very start of
    the data). ``min_rows`` defaults to half the window (14 days, 4 weeks, 2 months)."""
    k = kind(freq)
    n = recent_periods(freq) if periods is None else int(periods)
    if n < 1:
        raise ConfigError("The level window must be at least one period.")
    if min_rows is None:
        min_rows = n // 2 if k == "D" else -(-n // 2)
    before = daily[(daily.index < as_of) & (daily.index >= _shift(as_of, -n, freq))]
    after = daily[(daily.index >= as_of) & (daily.index < _shift(as_of, n, freq))]
    lvl = before.mean()
    return lvl.where(before.notna().sum() >= min_rows, after.mean())


def launch_curve(
    daily: pd.DataFrame, periods: int = 28, exclude: str | None = None, freq: str = "D"
) -> tuple[np.ndarray, int]:
    """Median sales shape over the first ``periods`` after launch relative to the level of the
    next ``2 x periods``.

    Only items first selling after the data's first ``periods`` periods (and selling for at
    least ``3 x periods``) count as launches. Returns (shape, number of launches used); flat
    when fewer than three launches. Daily shapes are smoothed over 7 days (weekday pattern).
    """
    start = daily.index.min()
    first = _shift(start, periods, freq)
    shapes = []
    for item in daily.columns:
        if item == exclude:
            continue
        s = daily[item].dropna()
        if s.empty or s.index[0] < first or len(s) < 3 * periods:
            continue
        later = s.iloc[periods : 3 * periods].mean()
        if later > 0:
            shapes.append(s.iloc[:periods].to_numpy() / later)
    if len(shapes) < 3:
        return np.ones(periods), len(shapes)
    smooth = SMOOTH[kind(freq)]
    shape = pd.Series(np.median(np.vstack(shapes), axis=0)).rolling(smooth, min_periods=1, center=True).mean()
    return shape.to_numpy(), len(shapes)


def _weighted_level(
    sim_row: np.ndarray, items: list[str], levels: pd.Series, candidates: set[str], k: int, statistic: str = "mean"
) -> tuple[float, list[str]]:
    order = [j for j in np.argsort(-sim_row, kind="stable")
             if items[j] in candidates and np.isfinite(levels.get(items[j], np.nan))]
    if not order:
        raise InputError("No comparable items with sales history were found for this product.")
    top = order[:k]  # and the items as similar as the k-th: no arbitrary (alphabetical) cut among equals
    top += [j for j in order[k:] if sim_row[j] >= sim_row[top[-1]] - 1e-9]
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
    h: int | None = None,
    k: int = 5,
    launch: str | pd.Timestamp | None = None,
    db: object = None,
) -> pd.DataFrame:
    """Forecast per store and period for a product with no sales, at the panel's frequency.

    ``h`` periods (default: 28 days, 13 weeks or 6 months) from the period ``launch`` falls in
    (default: the period after the last one in the data). ``new_item`` needs ``category`` and
    ``price``; ``title``/``description`` improve matching. Returns ``store_id, ds, day, forecast``
    (``day``: the period number after launch, 1 = launch period, whatever the frequency) with
    ``attrs`` naming the neighbours and method, ``freq``, ``unit`` and ``level`` (units per
    period; also under its old name ``daily_level``).
    """
    freq = panel_freq(panel)
    if h is None:
        h = default_horizon(freq)
    if k < 1 or h < 1:
        raise ConfigError("k and h must be at least 1.")
    for key in ("category", "price"):
        if key not in new_item:
            raise InputError(f"A new product needs a '{key}'.")
    new_id = str(new_item.get("item_id", "__new__"))
    row = {"item_id": new_id, "category": new_item["category"], "title": new_item.get("title", ""), "description": new_item.get("description", "")}
    # sold items the catalogue lacks are still comparable (by their 'unknown' category and price)
    sold = panel.groupby("item_id", as_index=False)["category"].first()
    sold = sold[~sold["item_id"].isin(products["item_id"])]
    catalogue = pd.concat([products[products["item_id"] != new_id], sold, pd.DataFrame([row])], ignore_index=True)
    prices = panel.groupby("item_id")["price"].median()
    prices[new_id] = float(new_item["price"])
    sim = build_similarity(catalogue, prices, db)
    daily = item_daily(panel)
    start = launch_period(launch, freq) if launch is not None else _shift(daily.index.max(), 1, freq)
    levels = level_before(daily, start, freq=freq)
    i = sim.items.index(new_id)
    sim_row = sim.matrix[i].copy()
    sim_row[i] = -np.inf
    level, neighbours = _weighted_level(sim_row, sim.items, levels, set(daily.columns), k)
    shape, n_launch = launch_curve(daily, h, freq=freq)
    store_share = panel[panel["item_id"].isin(neighbours)].groupby("store_id")["y"].sum()
    store_share = store_share / store_share.sum() if store_share.sum() > 0 else store_share * 0 + 1 / len(store_share)
    dates = pd.date_range(start, periods=h, freq="D" if kind(freq) == "D" else freq)
    out = pd.concat(
        [pd.DataFrame({"store_id": s, "ds": dates, "day": np.arange(1, h + 1), "forecast": level * share * shape[:h]}) for s, share in store_share.items()],
        ignore_index=True,
    )
    out.attrs.update({"neighbours": neighbours, "text_method": sim.text_method, "launches_in_curve": n_launch,
                      "daily_level": level, "level": level, "freq": freq, "unit": unit(freq)})
    return out


def evaluate_cold_start(
    panel: pd.DataFrame, products: pd.DataFrame, days: int | None = None, k: int = 5, db: object = None,
    statistic: str = "mean",
) -> dict[str, object]:
    """Leave-one-item-out: hide each item's history, forecast its first ``days`` periods of sales.

    ``days`` counts periods of the panel's frequency (the name is kept from the daily-only
    version; default 28 days, 13 weeks or 6 months); the neighbours' level is taken over as
    many periods before the launch. Compared with the category average (mean level of the other
    items in the category over the same window). Both see only the same information; WAPE is
    over items' first-``days`` totals.
    """
    freq = panel_freq(panel)
    if days is None:
        days = default_horizon(freq)
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
        levels = level_before(daily.drop(columns=item), launch, days, freq=freq)
        others = set(levels.index)
        sim_row = sim.matrix[i].copy()
        sim_row[i] = -np.inf
        level, _ = _weighted_level(sim_row, sim.items, levels, others, k, statistic)
        shape, _ = launch_curve(daily, days, exclude=item, freq=freq)
        same_cat = [j for j in levels.index if cat_of.get(j) == cat_of[item] and np.isfinite(levels[j])]
        baseline = float(levels[same_cat].mean() * days) if same_cat else float(levels.mean() * days)
        rows.append({"item_id": item, "actual": actual, "forecast": level * float(shape[:days].sum()), "forecast_flat": level * days, "baseline": baseline})
    res = pd.DataFrame(rows)
    total = res["actual"].sum()

    def wape(col: str) -> float:
        return float((res[col] - res["actual"]).abs().sum() / total) if total > 0 else float("nan")

    return {
        "items": len(res),
        "periods": days,
        "unit": unit(freq),
        "wape_similar_items": round(wape("forecast"), 4),
        "wape_similar_items_flat": round(wape("forecast_flat"), 4),
        "wape_category_average": round(wape("baseline"), 4),
        "text_method": sim.text_method,
        "per_item": res,
    }
