"""Signal tables: incremental scoring, no leakage into the forecast day, CLI round trips."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trendcast.data.ingest import ingest
from trendcast.data.warehouse import Warehouse
from trendcast.features.fusion import fuse
from trendcast.forecasting import forecast, future_frame
from trendcast.text import embeddings
from trendcast.text.encoders import Encoder
from trendcast.text.signals import build_signals, load_signals


class CountingEncoder(Encoder):
    """Deterministic stand-in for the sentence encoder that counts what it is asked to encode."""

    name = "counting"

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int(hashlib.md5(t.encode()).hexdigest()[:8], 16)
            v = np.random.default_rng(seed).normal(size=self.dim)
            out[i] = v / np.linalg.norm(v)
        return out


def _add_text(path: Path, text_id: str, date: str, item: str, text: str, rating: float) -> None:
    with Warehouse(path) as wh:
        wh.con.execute("INSERT INTO texts (text_id, date, text, item_id, source, rating) VALUES (?, ?, ?, ?, 'review', ?)",
                       [text_id, date, text, item, rating])


def test_incremental_signals_do_not_re_encode_old_texts(fresh_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enc = CountingEncoder()
    monkeypatch.setattr(embeddings, "get_encoder", lambda name=None: enc)
    first = build_signals(fresh_warehouse, model="full", topics=False)
    with Warehouse(fresh_warehouse, read_only=True) as wh:
        n_texts = wh.count("texts")
        distinct = wh.con.execute("SELECT count(*) FROM text_embeddings").fetchone()[0]
    assert first["texts_scored_now"] == n_texts
    assert enc.texts_encoded == distinct < n_texts  # each distinct text encoded once
    seen = enc.texts_encoded
    second = build_signals(fresh_warehouse, model="full", topics=False)
    assert second["texts_scored_now"] == 0 and enc.texts_encoded == seen  # nothing new, nothing encoded
    _add_text(fresh_warehouse, "new1", "2023-05-01", "I001", "全新的一条评论：电池续航非常出色", 5.0)
    third = build_signals(fresh_warehouse, model="full", topics=False)
    assert third["texts_scored_now"] == 1 and enc.texts_encoded == seen + 1


def _fused_text(path: Path, panel: pd.DataFrame, h: int = 1) -> pd.DataFrame:
    with Warehouse(path, read_only=True) as wh:
        return fuse(wh, panel, future_frame(panel, h), "D", h, covariates="text").panel


def test_text_signals_join_without_leaking_the_forecast_day(fresh_warehouse: Path, small_panel: pd.DataFrame) -> None:
    build_signals(fresh_warehouse, model="fast", topics=False)
    before = _fused_text(fresh_warehouse, small_panel)
    cols = [c for c in before.columns if c.startswith("txt_")]
    assert {"txt_item_neg_share_7d_lag1", "txt_cat_burst_max_lag1"} <= set(cols) and len(before) == len(small_panel)
    item, day = "I003", pd.Timestamp("2023-06-15")
    for k in range(5):  # a burst of angry reviews dated `day`
        _add_text(fresh_warehouse, f"angry{k}", str(day.date()), item, "质量太差了，完全是垃圾，一天就坏了，退货！", 1.0)
    build_signals(fresh_warehouse, model="fast", topics=False)
    after = _fused_text(fresh_warehouse, small_panel)
    rows = before["item_id"] == item
    upto = rows & (before["ds"] <= day)
    pd.testing.assert_frame_equal(before.loc[upto, cols], after.loc[upto, cols])  # day d itself unchanged
    nxt = rows & (before["ds"] == day + pd.Timedelta(days=1))
    assert (after.loc[nxt, "txt_item_neg_share_7d_lag1"] > before.loc[nxt, "txt_item_neg_share_7d_lag1"]).all()
    assert (after.loc[nxt, "txt_item_rating_mean_dev_lag1"] < before.loc[nxt, "txt_item_rating_mean_dev_lag1"]).all()


def test_category_signals_find_the_planted_social_bursts(fresh_warehouse: Path, small_demo: dict) -> None:
    build_signals(fresh_warehouse, model="fast", topics=False)
    _, cats = load_signals(fresh_warehouse)
    cats = cats.assign(date=pd.to_datetime(cats["date"]))
    for burst in small_demo["truth"]["bursts"]:
        sig = cats[cats["category"] == burst["category"]].set_index("date")
        start = pd.Timestamp(burst["start"])
        peak = sig["burst_max"].idxmax()
        assert start <= peak <= start + pd.Timedelta(days=burst["days"]), burst
        inside = sig.loc[start : start + pd.Timedelta(days=burst["days"]), "n_social"].mean()
        assert inside > 2 * sig["n_social"].mean() * 0.9  # social posts mapped to the right category


def test_similar_items_prefers_the_same_category(fresh_warehouse: Path) -> None:
    from trendcast.text.embeddings import embed_products, similar_items

    path = fresh_warehouse
    emb = embed_products(path)
    assert len(emb) == 16 and emb["vector"].iloc[0].shape == (384,)
    with Warehouse(path, read_only=True) as wh:
        products = wh.table("products").set_index("item_id")
    res = similar_items(path, "I001", k=3)
    assert "I001" not in set(res["item_id"])
    assert res.iloc[0]["category"] == products.at["I001", "category"]
    by_text = similar_items(path, "帐篷 camping tent", k=1)
    assert by_text.iloc[0]["category"] == "outdoor"


def test_seeded_vector_cache_is_used_instead_of_the_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enc = CountingEncoder()
    monkeypatch.setattr(embeddings, "get_encoder", lambda name=None: enc)
    texts = ["物流很快", "great value", "质量一般"]
    first = embeddings.embed_texts(tmp_path / "a.duckdb", texts, model="counting")
    assert embeddings.export_vectors(tmp_path / "a.duckdb", tmp_path / "v.npz", model="counting") == 3
    assert embeddings.import_vectors(tmp_path / "b.duckdb", tmp_path / "v.npz", model="counting") == 3
    seen = enc.texts_encoded
    again = embeddings.embed_texts(tmp_path / "b.duckdb", [*texts, "new text"], model="counting")
    assert enc.texts_encoded == seen + 1  # only the unseen text went through the encoder
    np.testing.assert_allclose(again[:3], first, atol=1e-3)  # float16 storage, same vectors


def test_signals_and_hotspots_cli_round_trip(fresh_warehouse: Path, tmp_path: Path) -> None:
    from trendcast.cli import main

    words = tmp_path / "words.txt"
    words.write_text("早C晚A 20000 n\n", encoding="utf-8")
    assert main(["signals", "--db", str(fresh_warehouse), "--model", "fast", "--user-dict", str(words)]) == 0
    with Warehouse(fresh_warehouse, read_only=True) as wh:
        assert wh.count("text_scores") == wh.count("texts") and wh.has_table("signals_category_daily")
    assert main(["hotspots", "--db", str(fresh_warehouse), "--since", "2023-01-01", "--top", "3"]) == 0
    from trendcast.text.hotspots import hotspots

    quiet = hotspots(fresh_warehouse, since="2099-01-01")  # nothing can burst after the last text
    assert quiet.empty and list(quiet.columns) == ["term", "date", "count", "baseline", "burst", "topic", "examples"]
    assert main(["hotspots", "--db", str(fresh_warehouse), "--since", "2099-01-01"]) == 0
    assert main(["signals", "--db", str(fresh_warehouse), "--user-dict", str(tmp_path / "missing.txt")]) == 1


def test_reviews_in_other_languages_are_scored_and_keep_their_language(fresh_warehouse: Path) -> None:
    _add_text(fresh_warehouse, "es1", "2023-05-01", "I001", "Muy mala calidad, se rompió a los dos días. No lo recomiendo.", 1.0)
    _add_text(fresh_warehouse, "ja1", "2023-05-01", "I001", "配送が早く、品質もとても良いです。また買います。", 5.0)
    build_signals(fresh_warehouse, model="fast", topics=False)
    with Warehouse(fresh_warehouse, read_only=True) as wh:
        got = wh.con.execute("SELECT text_id, lang, label, tokens FROM text_scores WHERE text_id IN ('es1', 'ja1') "
                             "ORDER BY text_id").df()
    assert got["lang"].tolist() == ["es", "ja"] and got["label"].tolist() == ["negative", "positive"]
    assert "calidad" in got["tokens"].iloc[0].split() and "配送" in got["tokens"].iloc[1].split()


def test_a_shop_without_a_catalogue_gets_category_signals_under_unknown(tmp_path: Path) -> None:
    """Items missing from the catalogue are forecast under 'unknown'; their texts must land there too,
    and texts that name no item (nothing to place them) must not break the run."""
    weeks = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    sales = pd.DataFrame([(item, d.date(), 5 + k % 3) for item in ("A", "B") for k, d in enumerate(weeks)],
                         columns=["item_id", "date", "units"])
    texts = pd.DataFrame({"date": [weeks[k].date() for k in range(0, 24, 2)],
                          "item_id": ["A", "B", None] * 4,
                          "text": ["great quality, love it", "arrived broken, terrible", "is anyone selling this?"] * 4})
    sales.to_csv(tmp_path / "sales.csv", index=False)
    texts.to_csv(tmp_path / "texts.csv", index=False)
    db = tmp_path / "shop.duckdb"
    ingest(db, sales=tmp_path / "sales.csv", texts=tmp_path / "texts.csv")
    build_signals(db, model="fast", topics=False)
    with Warehouse(db, read_only=True) as wh:
        cats = wh.table("signals_category_daily")
        panel = wh.sales_panel()
        fused = fuse(wh, panel, future_frame(panel, 2), "W-MON", 2, covariates="text").panel
    assert set(cats["category"]) == {"unknown"} and cats["n_texts"].sum() == 8  # the 4 item-less texts stay out
    assert fused["category"].eq("unknown").all() and fused["txt_cat_n_texts_lag2"].sum() > 0


def test_texts_that_name_no_item_in_a_shop_without_a_catalogue_still_score(tmp_path: Path) -> None:
    pd.DataFrame({"item_id": ["A"] * 10, "date": pd.date_range("2024-01-01", periods=10).date, "units": 3}).to_csv(
        tmp_path / "sales.csv", index=False)
    pd.DataFrame({"date": ["2024-01-02", "2024-01-05"], "text": ["love this shop", "slow delivery"]}).to_csv(
        tmp_path / "texts.csv", index=False)
    db = tmp_path / "shop.duckdb"
    ingest(db, sales=tmp_path / "sales.csv", texts=tmp_path / "texts.csv")
    info = build_signals(db, model="fast", topics=False)
    with Warehouse(db, read_only=True) as wh:
        assert wh.count("text_scores") == 2 and wh.table("signals_category_daily").empty
    assert info["texts_scored_now"] == 2
    assert len(forecast(db, horizon=3, model="seasonal_naive", store=False)) == 3  # empty signal tables fuse
