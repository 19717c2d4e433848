"""Cold start on weekly and monthly shops: windows, launch curve and dates in the data's periods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trendcast.decide.coldstart import (
    cold_start_forecast,
    evaluate_cold_start,
    item_daily,
    launch_curve,
    level_before,
)

WEEKLY, MONTHLY = "W-MON", "MS"


def shop(freq: str, n: int = 36, n_items: int = 12, late: int = 5, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two stores x ``n_items`` items (the first ``late`` launch mid-history with a ramp) over ``n``
    periods of ``freq``; categories 'kitchen' and 'garden'. Panel ``attrs['freq']`` is set like
    :func:`trendcast.forecasting.load_panel` does."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2022-01-03", periods=n, freq=freq)
    rows, prods = [], []
    for j in range(n_items):
        item, cat = f"I{j:02d}", "kitchen" if j % 3 else "garden"
        start = 4 + 2 * j if j < late else 0  # launches at periods 4, 6, 8, ...
        level = 20.0 + 5 * j
        ramp = np.minimum(1.0, (np.arange(n - start) + 1) / 3) if j < late else np.ones(n - start)
        for store in ("S1", "S2"):
            y = rng.poisson(level * ramp).astype(float)
            rows.append(pd.DataFrame({"unique_id": f"{store}/{item}", "ds": ds[start:], "y": y, "item_id": item,
                                      "store_id": store, "category": cat, "price": 10.0 + j, "promo": 0}))
        prods.append({"item_id": item, "category": cat, "title": f"{cat} thing {j}"})
    panel = pd.concat(rows, ignore_index=True)
    panel.attrs["freq"] = freq
    return panel, pd.DataFrame(prods)


NEW = {"category": "kitchen", "price": 15.0, "title": "New kitchen thing"}


@pytest.mark.parametrize(("freq", "h", "step"), [(WEEKLY, 13, pd.Timedelta(days=7)), (MONTHLY, 6, None)])
def test_cold_start_forecasts_weekly_and_monthly_shops_at_their_frequency(freq: str, h: int, step: pd.Timedelta | None) -> None:
    panel, products = shop(freq)
    fc = cold_start_forecast(panel, products, NEW, k=3)  # default horizon: 13 weeks / 6 months
    assert len(fc) == h * 2 and fc["day"].tolist() == list(range(1, h + 1)) * 2
    dates = pd.DatetimeIndex(sorted(fc["ds"].unique()))
    assert len(dates) == h and dates[0] == pd.date_range(panel["ds"].max(), periods=2, freq=freq)[1]
    if step is not None:
        assert (dates.dayofweek == 0).all() and (dates[1:] - dates[:-1] == step).all()
    else:
        assert dates.is_month_start.all() and len(set(dates.to_period("M"))) == h
    assert np.isfinite(fc["forecast"]).all() and fc["forecast"].sum() > 0
    assert fc.attrs["freq"] == freq and fc.attrs["unit"] == ("week" if freq == WEEKLY else "month")
    # the level is units per period of the neighbours (tens per store-period here), not per day
    wide = item_daily(panel)
    per_period = wide.iloc[-8:].mean()[fc.attrs["neighbours"]]
    assert per_period.min() * 0.5 < fc.attrs["level"] < per_period.max() * 1.5
    assert fc.attrs["daily_level"] == fc.attrs["level"]  # kept for readers of the old name


def test_frequency_is_read_from_the_dates_when_the_panel_does_not_say() -> None:
    panel, products = shop(WEEKLY)
    panel.attrs.clear()
    fc = cold_start_forecast(panel, products, NEW, h=4, k=3)
    assert fc.attrs["freq"] == WEEKLY and pd.DatetimeIndex(fc["ds"]).dayofweek.tolist() == [0] * 8


@pytest.mark.parametrize("freq", [WEEKLY, MONTHLY])
def test_level_before_counts_periods(freq: str) -> None:
    panel, _ = shop(freq)
    wide = item_daily(panel)
    lvl = level_before(wide, wide.index[13], freq=freq)
    assert np.isfinite(lvl).all()  # every item has at least the minimum rows (or the 'after' window)
    window = 8 if freq == WEEKLY else 3  # default windows: 8 weeks, 3 months
    assert lvl["I11"] == pytest.approx(wide["I11"].iloc[13 - window : 13].mean())
    # I04 launched at period 12: one period before is too thin, its level comes from the periods after
    assert lvl["I04"] == pytest.approx(wide["I04"].iloc[13 : 13 + window].mean())
    at_start = level_before(wide, wide.index[0], freq=freq)  # nothing before: the window after
    assert at_start["I11"] == pytest.approx(wide["I11"].iloc[:window].mean())


def test_launch_curve_in_periods_learns_the_weekly_ramp() -> None:
    panel, _ = shop(WEEKLY, n=40)
    wide = item_daily(panel)
    shape, n = launch_curve(wide, 3, freq=WEEKLY)
    assert n >= 3 and len(shape) == 3
    assert shape[0] < shape[1] < shape[2] <= 1.2  # the planted ramp: 1/3, 2/3, 1 of the level (no 7-period smoothing)
    assert shape[0] == pytest.approx(1 / 3, abs=0.1)


@pytest.mark.parametrize(("freq", "launch", "first"), [
    (WEEKLY, "2022-06-15", "2022-06-20"),  # a Wednesday: its week is labelled by the next Monday
    (MONTHLY, "2022-10-15", "2022-10-01"),  # mid-month: the month's label
])
def test_launch_date_is_snapped_to_its_period(freq: str, launch: str, first: str) -> None:
    panel, products = shop(freq)
    fc = cold_start_forecast(panel, products, NEW, h=3, k=3, launch=launch)
    assert pd.Timestamp(fc["ds"].min()) == pd.Timestamp(first)
    assert np.isfinite(fc["forecast"]).all() and fc["forecast"].sum() > 0


@pytest.mark.parametrize("freq", [WEEKLY, MONTHLY])
def test_leave_one_out_evaluation_on_weekly_and_monthly_shops(freq: str) -> None:
    panel, products = shop(freq)
    res = evaluate_cold_start(panel, products, k=3)
    assert res["items"] == 12 and res["periods"] == (13 if freq == WEEKLY else 6)
    assert 0 < res["wape_similar_items"] < 2 and 0 < res["wape_category_average"] < 2


def test_cli_new_product_on_a_weekly_warehouse(tmp_path: Path) -> None:
    from trendcast.cli import main
    from trendcast.data.warehouse import Warehouse

    panel, products = shop(WEEKLY)
    path = tmp_path / "weekly.duckdb"
    with Warehouse(path) as wh:
        sales = panel.rename(columns={"ds": "date", "y": "units"})[["item_id", "date", "units", "store_id", "price", "promo"]]
        for name, frame in (("sales", sales), ("products", products)):
            wh.con.register("frame", frame)
            wh.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
            wh.con.unregister("frame")
        wh.set_config("freq", WEEKLY)
    out = tmp_path / "new.csv"
    assert main(["new-product", "--db", str(path), "--category", "kitchen", "--price", "15", "--title", "New thing", "--out", str(out)]) == 0
    fc = pd.read_csv(out)
    assert len(fc) == 13 * 2 and fc["week"].max() == 13 and "day" not in fc.columns
    assert (pd.to_datetime(fc["ds"]).dt.dayofweek == 0).all()


def test_shop_without_a_catalogue_compares_by_category_and_price() -> None:
    """Sold items missing from the products table are still neighbours; equals are all kept."""
    panel, _ = shop(MONTHLY, late=0)
    panel = panel.assign(category="unknown", price=np.nan)
    empty = pd.DataFrame(columns=["item_id", "category", "title", "description"])
    fc = cold_start_forecast(panel, empty, {"category": "unknown", "price": 10.0}, k=3)
    assert sorted(fc.attrs["neighbours"]) == sorted(panel["item_id"].unique())  # 12 equals, not the first 3 by name
    assert fc.attrs["text_method"].startswith("none")
    levels = panel.groupby(["item_id", "ds"])["y"].sum().groupby("item_id").apply(lambda s: s.iloc[-3:].mean())
    assert fc.attrs["level"] == pytest.approx(levels.mean(), rel=1e-6)
