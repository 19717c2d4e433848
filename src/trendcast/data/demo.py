"""The bundled demo shop: a documented generator with known ground truth.

No redistributable real data set has every source trendcast reads (sales with prices and
promotions, a bilingual catalogue, behaviour events and dated bilingual text), so the demo is
generated. Because the mechanisms are planted, tests and benchmarks can check that trendcast
recovers them:

- demand per (store, item, day) = level x trend x weekly x yearly x price effect x promotion
  uplift x text-led factors, drawn negative-binomial (so intermittent items have many zeros);
- price effect = (price / base_price) ** elasticity, with a known elasticity per item;
- promotion uplift = exp(promo_lift) on promotion days on top of the promotion's price cut;
- "buzz" bursts: a term starts trending in social posts for a category; that category's demand
  rises 7 days later (text leads sales);
- quality incidents: an item's reviews turn negative, and its demand falls from 10 days later;
- behaviour events: shoppers with category tastes view, cart and buy, so co-views carry signal.

``generate_demo()`` returns the frames plus a ``truth`` dict; ``write_demo()`` writes CSVs and
``truth.json`` (the bundled copy lives in ``trendcast/data/demo_data``; regenerate it with
``python -m trendcast.data.demo``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.settings import DEMO_DATA_DIR

CATEGORIES: dict[str, dict[str, object]] = {
    # category: English noun, Chinese noun, typical price, summer (+) or winter (-) peak
    "phones": {"en": "phone", "zh": "手机", "price": 1999.0, "season": 0.0},
    "tea": {"en": "green tea", "zh": "绿茶", "price": 59.0, "season": -0.15},
    "skincare": {"en": "face cream", "zh": "面霜", "price": 129.0, "season": -0.10},
    "snacks": {"en": "nut snack", "zh": "坚果零食", "price": 29.0, "season": -0.20},
    "baby": {"en": "baby diaper", "zh": "纸尿裤", "price": 99.0, "season": 0.0},
    "sportswear": {"en": "running shoe", "zh": "跑鞋", "price": 399.0, "season": 0.25},
    "kitchen": {"en": "rice cooker", "zh": "电饭煲", "price": 299.0, "season": 0.0},
    "outdoor": {"en": "camping tent", "zh": "帐篷", "price": 499.0, "season": 0.35},
}
BRANDS = ["Lumo", "Qingshan", "Aster", "Beihai", "Corvo", "Mingda", "Nordi", "Yunfan"]
COMPETITORS = ["MegaMart", "京东自营", "ShopRival", "拼多多"]

# Review phrase pools: (aspect, polarity) -> phrases. Aspects double as consumer needs.
REVIEW_ZH = {
    ("quality", 1): ["质量很好，做工精细", "品质不错，用着放心", "质量超出预期"],
    ("quality", -1): ["质量太差了，用了两天就坏", "做工粗糙，很失望", "质量有问题，已经退货"],
    ("price", 1): ["价格实惠，性价比高", "这个价钱很划算"],
    ("price", -1): ["太贵了，不值这个价", "价格偏高，性价比低"],
    ("delivery", 1): ["物流很快，第二天就到了", "快递速度快，包装完好"],
    ("delivery", -1): ["物流太慢，等了一个星期", "快递很慢，包装破损"],
    ("size", 1): ["尺寸合适，大小刚好"],
    ("size", -1): ["尺码偏小，不合适", "尺寸和描述不符"],
}
REVIEW_EN = {
    ("quality", 1): ["great quality, well made", "solid build quality, works perfectly", "excellent quality for the money"],
    ("quality", -1): ["poor quality, broke after two days", "cheaply made and disappointing", "defective, had to return it"],
    ("price", 1): ["good value for money", "great price, very affordable"],
    ("price", -1): ["way too expensive for what it is", "overpriced, not worth it"],
    ("delivery", 1): ["fast delivery, arrived next day", "shipping was quick and well packed"],
    ("delivery", -1): ["delivery was slow, took a week", "late shipping and damaged box"],
    ("size", 1): ["size fits perfectly"],
    ("size", -1): ["runs small, wrong size", "size not as described"],
}
# Terms that burst in social posts, each tied to the category whose demand follows.
BURST_TERMS = [
    ("露营", "camping", "outdoor"),
    ("低糖", "low sugar", "snacks"),
    ("早C晚A", "skin cycling", "skincare"),
    ("马拉松", "marathon", "sportswear"),
]
NEWS_EN = [
    "Retail sales steady as consumers watch prices",
    "Logistics networks expand same-day delivery",
    "Online shopping festival expected to break records",
    "Supply chain pressure eases for electronics",
]
NEWS_ZH = ["电商平台大促预热", "物流公司扩展次日达服务", "消费者更加关注性价比", "供应链压力缓解"]


@dataclass(frozen=True)
class DemoConfig:
    n_items: int = 100
    n_stores: int = 3
    start: str = "2023-01-01"
    days: int = 731
    n_users: int = 1500
    event_days: int = 90
    intermittent_share: float = 0.2
    seed: int = 7


def _yearly(doy: np.ndarray, amplitude: float) -> np.ndarray:
    """Summer (amplitude > 0) or winter (< 0) peak, plus a shopping-festival bump around 11 Nov."""
    season = 1.0 + amplitude * np.cos(2 * np.pi * (doy - 196) / 365.25)
    festival = 1.0 + 0.8 * np.exp(-0.5 * ((doy - 315) / 3.0) ** 2)
    return season * festival


def generate_demo(config: DemoConfig | None = None, **overrides: object) -> dict[str, object]:
    """Generate every source. Returns frames ``sales, products, events, texts, inventory`` and ``truth``."""
    cfg = config or DemoConfig()
    if overrides:
        cfg = DemoConfig(**{**cfg.__dict__, **overrides})
    rng = np.random.default_rng(cfg.seed)
    dates = pd.date_range(cfg.start, periods=cfg.days, freq="D")
    t = np.arange(cfg.days)
    doy = dates.dayofyear.to_numpy()
    dow = dates.dayofweek.to_numpy()
    cats = list(CATEGORIES)

    # ---- catalogue ---------------------------------------------------------------------
    items = [f"I{i:03d}" for i in range(1, cfg.n_items + 1)]
    item_cat = [cats[i % len(cats)] for i in range(cfg.n_items)]
    brand = rng.choice(BRANDS, cfg.n_items)
    base_price = np.array([CATEGORIES[c]["price"] for c in item_cat]) * rng.lognormal(0, 0.3, cfg.n_items)
    base_price = np.round(base_price, 1)
    elasticity = rng.uniform(-2.5, -0.6, cfg.n_items)
    promo_lift = rng.uniform(0.15, 0.6, cfg.n_items)
    intermittent = rng.random(cfg.n_items) < cfg.intermittent_share
    level = np.where(intermittent, rng.uniform(0.08, 0.5, cfg.n_items), rng.lognormal(2.2, 0.6, cfg.n_items))
    slope = rng.normal(0, 0.5, cfg.n_items) / cfg.days  # log-level change per day
    launch_lo = min(60, cfg.days // 4)
    launch_idx = np.where(rng.random(cfg.n_items) < 0.1, rng.integers(launch_lo, max(cfg.days // 2, launch_lo + 1), cfg.n_items), 0)
    products = pd.DataFrame(
        {
            "item_id": items,
            "category": item_cat,
            "title": [
                f"{b} {CATEGORIES[c]['en']} {i[1:]} / {b} {CATEGORIES[c]['zh']}"
                for b, c, i in zip(brand, item_cat, items, strict=True)
            ],
            "description": [
                f"{CATEGORIES[c]['zh']}，{b}出品。A {CATEGORIES[c]['en']} by {b}."
                for b, c in zip(brand, item_cat, strict=True)
            ],
            "brand": brand,
            "launch_date": [dates[k].date().isoformat() for k in launch_idx],
            "unit_cost": np.round(base_price * rng.uniform(0.45, 0.7, cfg.n_items), 2),
        }
    )

    # ---- text-led drivers --------------------------------------------------------------
    bursts = []
    for k, (zh, en, cat) in enumerate(BURST_TERMS):
        if cat not in item_cat:
            continue
        start = int(cfg.days * (0.35 + 0.15 * k)) % max(cfg.days - 40, 1)
        bursts.append({"term_zh": zh, "term_en": en, "category": cat, "start": dates[start].date().isoformat(), "days": 21})
    buzz = {c: np.zeros(cfg.days) for c in cats}
    for b in bursts:
        s = dates.get_loc(pd.Timestamp(b["start"]))
        shape = np.exp(-0.5 * ((t - (s + 10)) / 6.0) ** 2)
        buzz[b["category"]] += shape
    incidents = []
    quality = np.ones((cfg.n_items, cfg.days))  # 1 = fine, falls to 0 during an incident
    for i in rng.choice(cfg.n_items, size=max(1, cfg.n_items // 12), replace=False):
        s = int(rng.integers(cfg.days // 4, max(cfg.days - 60, cfg.days // 4 + 1)))
        quality[i, s : s + 45] = 0.0
        incidents.append({"item_id": items[i], "start": dates[s].date().isoformat(), "days": 45})

    # ---- prices and promotions ---------------------------------------------------------
    price = np.repeat(base_price[:, None], cfg.days, axis=1)
    for i in range(cfg.n_items):  # a few permanent price changes per item
        for s in np.sort(rng.integers(min(30, cfg.days - 1), cfg.days, rng.integers(1, 4))):
            price[i, s:] = base_price[i] * rng.uniform(0.8, 1.2)
    promo = np.zeros((cfg.n_items, cfg.days), dtype=np.int8)
    for i in range(cfg.n_items):
        for s in rng.integers(0, cfg.days - 7, rng.integers(3, 9)):
            promo[i, s : s + rng.integers(3, 8)] = 1
    promo_price = np.where(promo == 1, price * (1 - rng.uniform(0.1, 0.3, (cfg.n_items, 1))), price)
    promo_price = np.round(promo_price, 2)

    # ---- demand ------------------------------------------------------------------------
    weekly = 1.0 + 0.25 * np.isin(dow, [5, 6]) - 0.08 * (dow == 1)
    store_mult = rng.uniform(0.6, 1.4, cfg.n_stores)
    lagged_buzz = {c: np.concatenate([np.zeros(7), v[:-7]]) for c, v in buzz.items()}
    lagged_quality = np.concatenate([np.ones((cfg.n_items, 10)), quality[:, :-10]], axis=1)
    rows = []
    for i in range(cfg.n_items):
        c = item_cat[i]
        mean = (
            level[i]
            * np.exp(slope[i] * t)
            * weekly
            * _yearly(doy, float(CATEGORIES[c]["season"]))
            * (promo_price[i] / base_price[i]) ** elasticity[i]
            * np.exp(promo_lift[i] * promo[i])
            * (1.0 + 0.8 * lagged_buzz[c])
            * (0.45 + 0.55 * lagged_quality[i])
        )
        mean[: launch_idx[i]] = 0.0
        for s, store in enumerate(f"S{k + 1}" for k in range(cfg.n_stores)):
            m = mean * store_mult[s]
            units = rng.negative_binomial(5, 5 / (5 + np.maximum(m, 1e-9)))  # overdispersed counts
            keep = (t >= launch_idx[i]) & ((units > 0) | (rng.random(cfg.days) < 0.3))
            rows.append(
                pd.DataFrame(
                    {
                        "store_id": store,
                        "item_id": items[i],
                        "date": dates[keep].date,
                        "units": units[keep],
                        "price": promo_price[i, keep],
                        "promo": promo[i, keep],
                    }
                )
            )
    sales = pd.concat(rows, ignore_index=True)
    sales["revenue"] = np.round(sales["units"] * sales["price"], 2)
    sales["date"] = pd.to_datetime(sales["date"]).dt.strftime("%Y-%m-%d")

    texts = _texts(rng, cfg, dates, items, item_cat, sales, quality, buzz, bursts)
    events = _events(rng, cfg, dates, items, item_cat)
    last = dates[-1]
    inventory = (
        sales.groupby(["store_id", "item_id"])["units"].mean().mul(rng.uniform(3, 30)).round().reset_index(name="on_hand")
    )
    inventory["date"] = last.date().isoformat()
    inventory = inventory[["item_id", "store_id", "date", "on_hand"]]

    truth = {
        "config": cfg.__dict__,
        "elasticity": dict(zip(items, np.round(elasticity, 4).tolist(), strict=True)),
        "promo_lift": dict(zip(items, np.round(promo_lift, 4).tolist(), strict=True)),
        "intermittent": [i for i, f in zip(items, intermittent, strict=True) if f],
        "trend_slope_per_year": dict(zip(items, np.round(slope * 365, 4).tolist(), strict=True)),
        "bursts": bursts,
        "quality_incidents": incidents,
        "launches": {items[i]: dates[k].date().isoformat() for i, k in enumerate(launch_idx) if k > 0},
    }
    return {"sales": sales, "products": products, "events": events, "texts": texts, "inventory": inventory, "truth": truth}


def _review(rng: np.random.Generator, lang: str, polarity: int, competitor: bool) -> str:
    pool = REVIEW_ZH if lang == "zh" else REVIEW_EN
    aspects = rng.choice(["quality", "price", "delivery", "size"], size=rng.integers(1, 3), replace=False, p=[0.45, 0.25, 0.2, 0.1])
    parts = []
    for a in aspects:
        pol = polarity if rng.random() < 0.85 else -polarity
        phrases = pool.get((a, pol)) or pool[(a, polarity)]
        parts.append(str(rng.choice(phrases)))
    if competitor:
        rival = str(rng.choice(COMPETITORS))
        parts.append(f"比{rival}的好" if (lang == "zh" and polarity > 0) else f"不如{rival}" if lang == "zh" else f"{'better' if polarity > 0 else 'worse'} than {rival}")
    if polarity > 0 and rng.random() < 0.3:
        parts.append("推荐购买" if lang == "zh" else "Highly recommend")
    return ("，" if lang == "zh" else ". ").join(parts) + ("。" if lang == "zh" else ".")


def _texts(rng, cfg, dates, items, item_cat, sales, quality, buzz, bursts) -> pd.DataFrame:
    """Reviews follow sales and quality; social posts carry the bursts; news is background."""
    daily = sales.groupby(["item_id", "date"])["units"].sum()
    records = []
    idx = {d.date().isoformat(): k for k, d in enumerate(dates)}
    item_index = {it: k for k, it in enumerate(items)}
    n_reviews = rng.poisson(0.012 * daily.to_numpy() + 0.01)
    for (item, day), n in zip(daily.index, n_reviews, strict=True):
        q = quality[item_index[item], idx[day]]
        for _ in range(n):
            pos_p = 0.85 if q > 0.5 else 0.2
            r = rng.random()
            polarity = 1 if r < pos_p else -1
            lang = "zh" if rng.random() < 0.6 else "en"
            text = _review(rng, lang, polarity, rng.random() < 0.08)
            rating = int(rng.integers(4, 6)) if polarity > 0 else int(rng.integers(1, 3))
            records.append((day, text, item, "review", float(rating), lang))
    for c, series in buzz.items():
        terms = [b for b in bursts if b["category"] == c]
        zh_noun, en_noun = CATEGORIES[c]["zh"], CATEGORIES[c]["en"]
        for k, day in enumerate(dates):
            for _ in range(rng.poisson(0.6 + 6.0 * series[k])):
                lang = "zh" if rng.random() < 0.6 else "en"
                if terms and rng.random() < min(0.9, series[k]):
                    b = terms[0]
                    text = f"最近{b['term_zh']}好火，大家都在买{zh_noun}" if lang == "zh" else f"everyone is into {b['term_en']} lately, buying a new {en_noun}"
                else:
                    text = f"今天看了看{zh_noun}，有没有推荐" if lang == "zh" else f"looking at a {en_noun} today, any recommendations?"
                records.append((day.date().isoformat(), text, None, "social", None, lang))
    for day in dates[:: 3]:
        lang = "zh" if rng.random() < 0.5 else "en"
        text = str(rng.choice(NEWS_ZH if lang == "zh" else NEWS_EN))
        records.append((day.date().isoformat(), text, None, "news", None, lang))
    texts = pd.DataFrame(records, columns=["date", "text", "item_id", "source", "rating", "lang"])
    return texts.sort_values(["date", "source"], kind="stable").reset_index(drop=True)


def _events(rng, cfg, dates, items, item_cat) -> pd.DataFrame:
    """Shoppers prefer one or two categories; views lead to carts lead to purchases."""
    cats = sorted(set(item_cat))
    by_cat = {c: [it for it, ic in zip(items, item_cat, strict=True) if ic == c] for c in cats}
    window = dates[-cfg.event_days :]
    records = []
    for u in range(cfg.n_users):
        likes = rng.choice(cats, size=2, replace=False)
        favourites = [str(rng.choice(by_cat[c])) for c in likes]
        for _ in range(rng.poisson(8)):
            c = likes[0] if rng.random() < 0.7 else likes[1]
            item = favourites[0 if c == likes[0] else 1] if rng.random() < 0.4 else str(rng.choice(by_cat[c]))
            ts = window[rng.integers(len(window))] + pd.Timedelta(seconds=int(rng.integers(86_400)))
            records.append((f"user{u:05d}", item, ts, "view"))
            if rng.random() < 0.3:
                records.append((f"user{u:05d}", item, ts + pd.Timedelta(minutes=3), "cart"))
                if rng.random() < 0.5:
                    records.append((f"user{u:05d}", item, ts + pd.Timedelta(minutes=9), "purchase"))
    events = pd.DataFrame(records, columns=["user_id", "item_id", "timestamp", "event"])
    events["timestamp"] = events["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return events.drop_duplicates().sort_values("timestamp").reset_index(drop=True)


DEMO_FILES = {"sales": "sales.csv.gz", "products": "products.csv", "events": "events.csv.gz", "texts": "texts.csv.gz", "inventory": "inventory.csv"}


def write_demo(out_dir: str | Path, **overrides: object) -> dict[str, Path]:
    """Write the demo sources as CSV (gzip for the big ones) plus ``truth.json``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = generate_demo(**overrides)
    paths: dict[str, Path] = {}
    for name, fname in DEMO_FILES.items():
        paths[name] = out / fname
        data[name].to_csv(paths[name], index=False)
    paths["truth"] = out / "truth.json"
    paths["truth"].write_text(json.dumps(data["truth"], indent=1, ensure_ascii=False), encoding="utf-8")
    return paths


def demo_paths() -> dict[str, Path]:
    """Paths of the bundled demo files (shipped inside the package)."""
    return {**{k: DEMO_DATA_DIR / v for k, v in DEMO_FILES.items()}, "truth": DEMO_DATA_DIR / "truth.json"}


if __name__ == "__main__":  # regenerate the bundled copy
    for name, path in write_demo(DEMO_DATA_DIR).items():
        print(f"{name:10s} {path} {path.stat().st_size / 1e6:.2f} MB")
