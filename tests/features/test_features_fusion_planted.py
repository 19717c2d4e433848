"""Planted signals through the product path: a source that leads sales must improve the forecast.

Two generated shops whose demand follows a hidden multiplier that changes every one to three
weeks, so sales history alone cannot see a change coming. In one shop, page views move with the
multiplier ``LEAD`` days *before* sales; in the other, social posts about the category do
(buzz). ``trendcast.backtest`` with LightGBM and ``covariates="auto"`` must beat
``covariates="none"`` on WRMSSE, and the signal column must be among the covariates used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import trendcast as tc

LEAD = 7  # days the planted signal leads sales; the horizon equals it, so it is usable
DAYS = 210
START = pd.Timestamp("2024-01-01")
LGBM = {"lightgbm": {"n_estimators": 80, "learning_rate": 0.08, "num_leaves": 15}}


def _multiplier(rng: np.random.Generator, days: int) -> np.ndarray:
    """Piecewise-constant demand level: a new level every 7-21 days."""
    out = np.empty(days)
    t = 0
    while t < days:
        span = int(rng.integers(7, 22))
        out[t : t + span] = rng.uniform(0.3, 3.0)
        t += span
    return out


def _shop(rng: np.random.Generator, n_series: int, days: int) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Hidden multipliers (series x days + LEAD), sales and products for ``n_series`` items."""
    mult = np.stack([_multiplier(rng, days + LEAD) for _ in range(n_series)])
    dates = pd.date_range(START, periods=days, freq="D")
    items = [f"I{i:02d}" for i in range(n_series)]
    base = rng.uniform(15, 30, n_series)
    units = rng.poisson(base[:, None] * mult[:, :days])
    sales = pd.DataFrame({
        "item_id": np.repeat(items, days), "date": np.tile(dates.strftime("%Y-%m-%d"), n_series),
        "units": units.ravel(), "price": np.repeat(rng.uniform(5, 50, n_series).round(2), days), "promo": 0,
    })
    return mult, sales, pd.DataFrame({"item_id": items})


def _ingest(db: Path, **frames: pd.DataFrame) -> None:
    """Through files, as a shop would load them."""
    paths = {}
    for name, frame in frames.items():
        paths[name] = db.with_name(f"{name}.csv")
        frame.to_csv(paths[name], index=False)
    tc.ingest(db, **paths)


def _scores(db: Path) -> tuple[float, float, list[str]]:
    kw = dict(horizon=LEAD, windows=2, models=["lightgbm"], quantiles=None, model_params=LGBM)
    with_cov = tc.backtest(db, covariates="auto", **kw)
    without = tc.backtest(db, covariates="none", **kw)
    used = [c["name"] for c in with_cov["config"]["covariates"]]
    assert without["config"]["covariates"] == []
    return with_cov["models"]["lightgbm"]["wrmsse"], without["models"]["lightgbm"]["wrmsse"], used


def test_page_views_leading_sales_improve_the_backtest(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 8
    mult, sales, products = _shop(rng, n, DAYS)
    products["category"] = "all"
    rows = []
    for i, item in enumerate(products["item_id"]):
        # views on day d follow the demand of day d + LEAD
        views = rng.poisson(6 * mult[i, LEAD : DAYS + LEAD])
        for day, k in enumerate(views):
            when = START + pd.Timedelta(days=day, hours=12)
            rows += [(f"u{j % 50}", item, when + pd.Timedelta(minutes=j), "view") for j in range(k)]
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "event"])
    db = tmp_path / "views.duckdb"
    _ingest(db, sales=sales, products=products, events=events)
    fused, plain, used = _scores(db)
    assert f"beh_views_lag{LEAD}" in used
    assert fused < 0.9 * plain, (fused, plain)  # at least 10% lower WRMSSE


def test_text_buzz_leading_sales_improves_the_backtest(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    n_cats, per_cat = 4, 2
    cats = [f"cat{c}" for c in range(n_cats)]
    cat_mult = np.stack([_multiplier(rng, DAYS + LEAD) for _ in cats])
    _, sales, products = _shop(rng, n_cats * per_cat, DAYS)
    products["category"] = np.repeat(cats, per_cat)
    # sales follow the category's level (redraw units from it)
    base = rng.uniform(15, 30, len(products))
    units = rng.poisson(base[:, None] * np.repeat(cat_mult[:, :DAYS], per_cat, axis=0))
    sales["units"] = units.ravel()
    phrases = ["everyone is talking about this, must buy", "大家都在推荐这个，必须买", "so hyped for this one"]
    rows = []
    for c, cat in enumerate(cats):
        posts = rng.poisson(3 * cat_mult[c, LEAD : DAYS + LEAD])  # buzz on day d follows demand of d + LEAD
        item = products.loc[products["category"] == cat, "item_id"].iloc[0]
        for day, k in enumerate(posts):
            date = (START + pd.Timedelta(days=day)).strftime("%Y-%m-%d")
            # one phrase per category: what is planted is the volume of posts, and a daily mix of
            # phrases would add a sentiment signal that depends on the sentiment model, not on sales
            rows += [(date, f"{phrases[c % 3]} #{cat}", item, "social") for _ in range(k)]
    texts = pd.DataFrame(rows, columns=["date", "text", "item_id", "source"])
    db = tmp_path / "buzz.duckdb"
    _ingest(db, sales=sales, products=products, texts=texts)
    tc.build_signals(db, model="fast", topics=False)
    fused, plain, used = _scores(db)
    assert any(u.startswith(("txt_cat_n_social", "txt_cat_n_texts")) for u in used), used  # all texts are posts
    assert fused < 0.9 * plain, (fused, plain)  # at least 10% lower WRMSSE
