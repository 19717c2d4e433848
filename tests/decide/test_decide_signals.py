"""Trends, risk warnings and cold start on small generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.decide.alerts import interval_blowups, sales_anomalies
from trendcast.decide.coldstart import cold_start_forecast, evaluate_cold_start, launch_curve
from trendcast.decide.trends import classify, trend_table
from trendcast.errors import ConfigError, InputError


def two_series(days: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    ds = pd.date_range("2024-01-01", periods=days)
    panel = pd.concat(
        [pd.DataFrame({"unique_id": f"S1/{i}", "ds": ds, "y": 10.0, "item_id": i, "store_id": "S1", "category": c}) for i, c in (("A", "x"), ("B", "y"))],
        ignore_index=True,
    )
    fut = pd.date_range(ds[-1] + pd.Timedelta(days=1), periods=28)
    fc = pd.concat(
        [
            pd.DataFrame({"unique_id": "S1/A", "ds": fut, "forecast": 13.0, "q0.1": 11.0, "q0.9": 15.0}),
            pd.DataFrame({"unique_id": "S1/B", "ds": fut, "forecast": 8.0, "q0.1": 0.0, "q0.9": 40.0}),
        ]
    )
    return panel, fc


def test_classify_and_trend_table() -> None:
    assert classify(pd.Series([0.2, -0.2, 0.05])).tolist() == ["rising", "falling", "stable"]
    with pytest.raises(ConfigError, match="below the rising"):
        classify(pd.Series([0.1]), rise=0.1, fall=0.2)
    panel, fc = two_series()
    items = trend_table(panel, fc).set_index("item_id")
    assert items.loc["A", "change_pct"] == pytest.approx(30.0)
    assert items.loc["A", "trend"] == "rising" and items.loc["B", "trend"] == "falling"
    cats = trend_table(panel, fc, level="category").set_index("category")
    assert cats.loc["y", "change_pct"] == pytest.approx(-20.0)


def test_planted_spike_is_an_anomaly_and_wide_interval_is_flagged() -> None:
    panel, fc = two_series()
    rng = np.random.default_rng(0)
    panel["y"] = rng.poisson(10, len(panel)).astype(float)
    spike = (panel["unique_id"] == "S1/A") & (panel["ds"] == panel["ds"].max() - pd.Timedelta(days=2))
    panel.loc[spike, "y"] = 80.0
    found = sales_anomalies(panel, threshold=4.0)
    assert found["unique_id"].tolist() == ["S1/A"]
    assert "spike" in found["detail"].iloc[0]
    wide = interval_blowups(panel, fc)
    assert wide["unique_id"].tolist() == ["S1/B"]


def test_monthly_anomalies_look_at_the_last_months_not_the_last_14_days() -> None:
    ds = pd.date_range("2022-01-01", periods=30, freq="MS")
    y = np.random.default_rng(1).poisson(100, 30).astype(float)
    y[-2] = 400.0  # last month but one: a 14-day window would only see the newest month
    panel = pd.DataFrame({"unique_id": "S1/A", "item_id": "A", "ds": ds, "y": y})
    found = sales_anomalies(panel, window=12, recent=3)
    assert found["date"].tolist() == [ds[-2].date().isoformat()]
    assert sales_anomalies(panel, window=12, recent=1).empty


def test_cold_start_forecast_shape_and_neighbours(small_panel: pd.DataFrame, small_demo: dict) -> None:
    products = small_demo["products"]
    item = {"category": "tea", "price": 60.0, "title": "Lumo green tea 999 / Lumo 绿茶"}
    fc = cold_start_forecast(small_panel, products, item, h=14, k=2)  # the small shop has two tea items
    assert len(fc) == 14 * small_panel["store_id"].nunique()
    assert (fc["forecast"] >= 0).all() and fc["forecast"].sum() > 0
    cats = products.set_index("item_id").loc[fc.attrs["neighbours"], "category"]
    assert (cats == "tea").all()  # same category dominates the similarity
    assert "TF-IDF" in fc.attrs["text_method"]  # no warehouse given: no embeddings
    with pytest.raises(InputError, match="price"):
        cold_start_forecast(small_panel, products, {"category": "tea"})


def test_launch_curve_flat_without_launches_and_loo_evaluation(small_panel: pd.DataFrame, small_demo: dict) -> None:
    daily = small_panel.pivot_table(index="ds", columns="item_id", values="y", aggfunc="sum")
    shape, n = launch_curve(daily, 28)  # every small-shop item sells from day one: no launches seen
    assert n == 0 and np.allclose(shape, 1.0)
    res = evaluate_cold_start(small_panel, small_demo["products"], days=28, k=3)
    assert res["items"] == small_panel["item_id"].nunique()
    assert 0 < res["wape_similar_items"] < 5 and 0 < res["wape_category_average"] < 5


def test_sentiment_evidence_and_drop_from_signal_tables(tmp_path) -> None:  # noqa: ANN001
    from trendcast.data.warehouse import Warehouse
    from trendcast.decide.alerts import sentiment_drops
    from trendcast.decide.trends import sentiment_change

    days = pd.date_range("2024-01-01", periods=90)
    good = pd.DataFrame({"item_id": "A", "date": days, "n_texts": 2, "sent_mean": 0.6})
    bad = pd.DataFrame({"item_id": "B", "date": days, "n_texts": 2, "sent_mean": np.where(days > days[-10], -0.5, 0.6)})
    quiet = pd.DataFrame({"item_id": "C", "date": days, "n_texts": 0, "sent_mean": 0.0})  # no texts: no evidence
    with Warehouse(tmp_path / "s.duckdb") as wh:
        sig = pd.concat([good, bad, quiet], ignore_index=True)
        wh.con.register("sig", sig)
        wh.con.execute("CREATE TABLE signals_item_daily AS SELECT * FROM sig")
        change = sentiment_change(wh, "item").set_index("item_id")["sentiment_change"]
        drops = sentiment_drops(wh)
    assert change["A"] == pytest.approx(0.0) and change["B"] < -0.3 and "C" not in change.dropna().index
    assert drops["item_id"].tolist() == ["B"] and drops["severity"].iloc[0] == "high"


def test_sentiment_change_window_follows_the_data_frequency(tmp_path) -> None:  # noqa: ANN001
    """A text every 12 days: too few for 28 days against 28, enough for 8 weeks against 8."""
    from trendcast.data.warehouse import Warehouse
    from trendcast.decide.trends import sentiment_change

    days = pd.date_range("2024-01-01", periods=90)
    sparse = pd.DataFrame({"item_id": "D", "date": days, "n_texts": (np.arange(90) % 12 == 0).astype(int),
                           "sent_mean": np.where(days > days[-1] - pd.Timedelta(days=56), -0.5, 0.5)})
    with Warehouse(tmp_path / "s.duckdb") as wh:
        wh.con.register("sig", sparse)
        wh.con.execute("CREATE TABLE signals_item_daily AS SELECT * FROM sig")
        daily = sentiment_change(wh, "item").set_index("item_id")["sentiment_change"]
        weekly = sentiment_change(wh, "item", freq="W-MON").set_index("item_id")["sentiment_change"]
    assert daily.isna().all()
    assert weekly["D"] == pytest.approx(-1.0)
