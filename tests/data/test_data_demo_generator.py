"""The demo generator: every source present, deterministic, and its ground truth consistent."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from trendcast.data.demo import DEMO_FILES, demo_paths, generate_demo, write_demo
from trendcast.data.schema import SOURCES


def test_every_source_meets_the_contract(small_demo: dict) -> None:
    for name in DEMO_FILES:
        frame = small_demo[name]
        assert set(SOURCES[name].required) <= set(frame.columns), name
        assert len(frame) > 0, name


def test_deterministic_for_a_seed() -> None:
    a = generate_demo(n_items=4, n_stores=1, days=60, n_users=20, event_days=10, seed=1)
    b = generate_demo(n_items=4, n_stores=1, days=60, n_users=20, event_days=10, seed=1)
    for name in DEMO_FILES:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_texts_are_bilingual_and_dated(small_demo: dict) -> None:
    texts = small_demo["texts"]
    assert {"zh", "en"} <= set(texts["lang"])
    assert {"review", "social", "news"} <= set(texts["source"])
    assert texts["text"].str.contains(r"[\u4e00-\u9fff]").any()
    assert pd.to_datetime(texts["date"]).notna().all()


def test_intermittent_items_have_many_zero_days(small_demo: dict) -> None:
    sales, truth = small_demo["sales"], small_demo["truth"]
    assert truth["intermittent"], "the small demo should plant intermittent items"
    days = small_demo["truth"]["config"]["days"]
    per_item = sales.groupby(["store_id", "item_id"])["units"].apply(lambda s: (s > 0).sum() / days)
    share = per_item.groupby(level="item_id").mean()
    assert share[truth["intermittent"]].mean() < 0.5 < share.drop(truth["intermittent"]).mean()


def test_promotions_cut_price_and_lift_units(small_demo: dict) -> None:
    sales = small_demo["sales"]
    assert set(sales["promo"].unique()) == {0, 1}
    ratio = sales.groupby("promo")["units"].mean()
    assert ratio[1] > ratio[0]


def test_bundled_copy_matches_generator_defaults(tmp_path) -> None:
    paths = demo_paths()
    assert all(p.exists() for p in paths.values())
    truth = json.loads(paths["truth"].read_text(encoding="utf-8"))
    assert len(truth["elasticity"]) == truth["config"]["n_items"]
    sales = pd.read_csv(paths["sales"])
    n_series = sales.groupby(["store_id", "item_id"]).ngroups
    assert n_series == truth["config"]["n_items"] * truth["config"]["n_stores"] >= 200
    assert all(np.isfinite(list(truth["elasticity"].values())))
    # writing a small copy round-trips through CSV
    small = write_demo(tmp_path, n_items=3, n_stores=1, days=30, n_users=5, event_days=5)
    assert pd.read_csv(small["sales"]).shape[0] > 0
