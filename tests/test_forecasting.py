"""forecast/backtest orchestration, the warehouse table, plots and the CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trendcast.cli import main
from trendcast.errors import ConfigError
from trendcast.evaluate.hierarchy import build_hierarchy, static_frame
from trendcast.forecasting import backtest, forecast, future_frame, latest_forecasts


def test_future_frame_defaults_and_plan(small_panel: pd.DataFrame) -> None:
    xf = future_frame(small_panel, 3)
    last = small_panel["ds"].max()
    assert xf["ds"].min() == last + pd.Timedelta(days=1) and (xf["promo"] == 0).all()
    uid = small_panel["unique_id"].iloc[0]
    last_price = small_panel[small_panel["unique_id"] == uid]["price"].iloc[-1]
    assert (xf[xf["unique_id"] == uid]["price"] == last_price).all()
    row = small_panel[small_panel["unique_id"] == uid].iloc[0]
    plan = pd.DataFrame({"item_id": [row["item_id"]], "store_id": [row["store_id"]],
                         "date": [last + pd.Timedelta(days=2)], "price": [1.0], "promo": [1]})
    xp = future_frame(small_panel, 3, plan).set_index(["unique_id", "ds"])
    assert xp.loc[(uid, last + pd.Timedelta(days=2)), "promo"] == 1
    assert xp.loc[(uid, last + pd.Timedelta(days=2)), "price"] == 1.0
    assert xp.loc[(uid, last + pd.Timedelta(days=1)), "promo"] == 0


def test_forecast_writes_file_and_table(fresh_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc.parquet"
    fc = forecast(fresh_warehouse, 7, model="seasonal_naive", quantiles=[0.1, 0.9], out=out)
    assert list(fc.columns) == ["unique_id", "item_id", "store_id", "date", "forecast", "q0.1", "q0.9"]
    assert len(fc) == 7 * fc["unique_id"].nunique()
    assert pd.read_parquet(out).shape == fc.shape
    stored = latest_forecasts(fresh_warehouse)
    assert stored["run_id"].nunique() == 1 and len(stored) == len(fc)
    assert np.allclose(stored["q0.9"].to_numpy(), fc["q0.9"].to_numpy())


def test_the_pretrained_model_reads_only_leading_signals_in_its_past_slots(
        fresh_warehouse: Path, small_demo: dict) -> None:
    """Behaviour and text signals lead sales (fused shifted by the horizon); price, promo, the
    calendar and drivers known ahead do not. The service hands the pretrained model, alone or
    inside auto, the leading ones as its past-slot candidates."""
    from trendcast.data.warehouse import Warehouse
    from trendcast.forecasting import PRETRAINED, build_frames

    with Warehouse(fresh_warehouse) as wh:
        wh.con.register("frame", small_demo["events"].rename(columns={"user_id": "user_token"}))
        wh.con.execute("INSERT INTO events BY NAME SELECT * FROM frame")
    frames = build_frames(fresh_warehouse, 14)
    kinds = {c.name: c for c in frames.covariates}
    assert frames.leading and all(kinds[c].source == "behaviour" for c in frames.leading)
    assert {"price", "promo"} <= set(frames.future_known) - set(frames.leading)
    for name in PRETRAINED:
        assert frames.params(name)["past_candidates"] == frames.leading
    assert frames.params("auto")["model_params"] == dict.fromkeys(PRETRAINED, {"past_candidates": frames.leading})
    assert "past_candidates" not in frames.params("lightgbm")


def test_auto_time_budget_counts_reading_and_fusing(fresh_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--time-budget`` caps the whole forecast: the service tells auto how long reading the
    warehouse and fusing the sources took, and auto's budget clock starts that much earlier."""
    import time

    from trendcast.evaluate.selection import AutoForecaster

    seen: list[float] = []
    fit = AutoForecaster._fit

    def spy(self: AutoForecaster, *args: object) -> None:
        seen.append(self.time_spent)
        fit(self, *args)

    monkeypatch.setattr(AutoForecaster, "_fit", spy)
    t0 = time.perf_counter()
    forecast(fresh_warehouse, 7, model="auto", store=False,
             model_params={"candidates": ["seasonal_naive", "croston"]})
    assert len(seen) == 1 and 0.0 < seen[0] < time.perf_counter() - t0


@pytest.mark.parametrize("method", ["bottom_up", "mint"])
def test_forecast_levels_add_up(fresh_warehouse: Path, small_panel: pd.DataFrame, method: str) -> None:
    fc = forecast(fresh_warehouse, 5, model="moving_average", quantiles=[], reconcile=method, levels=True, store=False)
    h = build_hierarchy(static_frame(small_panel))
    assert set(fc["level"]) == set(h.levels)
    bottom = fc[fc["level"] == h.bottom].rename(columns={"date": "ds"})
    summed = h.aggregate(bottom, ["forecast"]).merge(
        fc.rename(columns={"date": "ds"}), on=["unique_id", "ds"], suffixes=("_sum", "")
    )
    assert len(summed) == len(fc)
    assert np.abs(summed["forecast_sum"] - summed["forecast"]).max() < 1e-6


def test_forecast_levels_carry_quantiles(fresh_warehouse: Path) -> None:
    fc = forecast(fresh_warehouse, 5, model="seasonal_naive", quantiles=[0.1, 0.9], levels=True, store=False)
    assert fc[["q0.1", "q0.9"]].notna().all().all()  # aggregated rows too, not only the items
    assert (fc["q0.1"] <= fc["forecast"] + 1e-9).all() and (fc["forecast"] <= fc["q0.9"] + 1e-9).all()


def test_backtest_api_writes_json(fresh_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    metrics = backtest(fresh_warehouse, horizon=7, windows=2, models=["naive", "seasonal_naive"], out=out)
    on_disk = json.loads(out.read_text())
    assert set(on_disk["models"]) == {"naive", "seasonal_naive"}
    assert "store_item" in on_disk["models"]["naive"]["levels"]
    assert metrics["leaderboard"][0]["model"] in {"naive", "seasonal_naive"}


def test_cli_forecast_backtest_plot(fresh_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    assert main(["forecast", "--db", str(fresh_warehouse), "--horizon", "7", "--model", "naive", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert {"item_id", "store_id", "date", "forecast", "q0.1", "q0.5", "q0.9"} <= set(df.columns)
    items = ",".join(df["item_id"].unique()[:2])
    for ext in ("html", "png"):
        plot = tmp_path / f"p.{ext}"
        assert main(["plot", "--db", str(fresh_warehouse), "--items", items, "--out", str(plot)]) == 0
        assert plot.stat().st_size > 1000
    m = tmp_path / "m.json"
    code = main(["backtest", "--db", str(fresh_warehouse), "--horizon", "7", "--windows", "1", "--models", "naive", "--out", str(m)])
    assert code == 0 and "naive" in json.loads(m.read_text())["models"]
    assert main(["forecast", "--db", str(fresh_warehouse), "--quantiles", "0.1,abc", "--out", str(out)]) == 1


# -- weekly and monthly shops, end to end -------------------------------------------------------
def _shop(tmp: Path, freq: str, with_prices: bool) -> dict[str, Path]:
    """A small generated shop (6 items, about 3.3 years) with its sales summed per week (ending
    Sunday) or per month (dated on the 1st), written as the CSV files a shop would give."""
    from trendcast.data.demo import generate_demo
    from trendcast.data.periods import period_label

    demo = generate_demo(n_items=6, n_stores=1, days=1200, n_users=40, event_days=10, seed=5)
    sales = demo["sales"].assign(date=lambda d: period_label(d["date"], freq))
    sales = sales.groupby(["store_id", "item_id", "date"], as_index=False).agg(
        units=("units", "sum"), price=("price", "mean"), promo=("promo", "max"))
    if not with_prices:  # the optional columns left out altogether
        sales = sales.drop(columns=["price", "promo"])
    paths = {"sales": tmp / "sales.csv", "products": tmp / "products.csv", "inventory": tmp / "stock.csv"}
    sales.to_csv(paths["sales"], index=False, date_format="%Y-%m-%d")
    demo["products"].to_csv(paths["products"], index=False)
    demo["inventory"].to_csv(paths["inventory"], index=False)
    return paths


@pytest.mark.parametrize(
    ("freq", "with_prices", "horizon", "step"),
    [("W-SUN", True, 13, pd.DateOffset(weeks=1)), ("MS", False, 6, pd.DateOffset(months=1))],
)
def test_weekly_and_monthly_shops_end_to_end(
    tmp_path: Path, freq: str, with_prices: bool, horizon: int, step: pd.DateOffset
) -> None:
    from trendcast.data.warehouse import Warehouse

    paths = _shop(tmp_path, freq, with_prices)
    db = str(tmp_path / "shop.duckdb")
    assert main(["ingest", "--db", db, *(x for k, p in paths.items() for x in (f"--{k}", str(p)))]) == 0
    with Warehouse(db, read_only=True) as wh:
        assert wh.frequency() == freq
        panel = wh.sales_panel()
    last = panel["ds"].max()
    # no zero-filled days between the periods: one row per series per period
    assert (panel.groupby("unique_id")["ds"].diff().dropna().map(lambda d: d.days) >= 7).all()

    out = tmp_path / "fc.csv"  # LightGBM, without price and promo in the monthly shop
    assert main(["forecast", "--db", db, "--model", "lightgbm", "--out", str(out)]) == 0
    fc = pd.read_csv(out, parse_dates=["date"])
    assert fc.groupby("item_id").size().eq(horizon).all()  # default horizon in periods
    expected = [last + step * k for k in range(1, horizon + 1)]
    for _, grp in fc.groupby("item_id"):
        assert list(grp["date"]) == expected
    assert fc["forecast"].gt(0).all()
    with Warehouse(db, read_only=True) as wh:
        run = wh.con.execute("SELECT horizon, freq, covariates FROM forecast_runs").fetchone()
    assert run[0] == horizon and run[1] == freq
    sources = {c["source"] for c in json.loads(run[2])}  # no text or events in this shop
    assert "calendar" in sources and sources <= {"calendar", "price", "promo"}
    assert with_prices or not sources & {"price", "promo"}

    m = tmp_path / "m.json"
    assert main(["backtest", "--db", db, "--windows", "2", "--models", "seasonal_naive,lightgbm",
                 "--out", str(m)]) == 0
    metrics = json.loads(m.read_text())
    assert metrics["config"]["freq"] == freq and metrics["config"]["horizon"] == horizon
    assert metrics["config"]["season_length"] == (52 if freq.startswith("W") else 12)
    cutoffs = pd.to_datetime(metrics["config"]["cutoffs"])
    assert cutoffs[-1] == last - step * horizon and cutoffs[0] == last - step * 2 * horizon
    assert not metrics["errors"]
    # the naive yearly copy cannot win by "predicting" zero-filled days any more
    board = {r["model"]: r for r in metrics["leaderboard"]}
    assert board["seasonal_naive"]["wrmsse"] > 0.2

    plan_out = tmp_path / "plan.csv"
    assert main(["plan-inventory", "--db", db, "--lead-time", "10", "--out", str(plan_out)]) == 0
    plan = pd.read_csv(plan_out)
    assert (plan["safety_stock"] >= 0).all() and (plan["order_up_to"] > 0).all()
    days = 7 if freq.startswith("W") else 30.4375
    assert plan["protection_days"].eq(round((2 if freq.startswith("W") else 1) * days + days)).all()

    report = tmp_path / "report.html"
    assert main(["report", "--db", db, "--out", str(report)]) == 0
    html = report.read_text()
    word = "week" if freq.startswith("W") else "month"
    assert f"units per {word}" in html and f"{horizon} {word}s" in html


def test_irregular_dates_are_refused_naming_a_series(tmp_path: Path) -> None:
    from trendcast.data.ingest import ingest
    from trendcast.errors import InputError

    weeks = pd.date_range("2024-01-05", periods=12, freq="W-FRI")
    sales = pd.DataFrame({"item_id": ["A"] * 12 + ["B"] * 12, "date": [*weeks, *weeks], "units": 1.0})
    sales.loc[15, "date"] = pd.Timestamp("2024-02-06")  # a Tuesday among Fridays, in series B
    path = tmp_path / "sales.csv"
    sales.to_csv(path, index=False, date_format="%Y-%m-%d")
    with pytest.raises(InputError, match=r"mix frequencies.*series 'B'.*2024-02-06"):
        ingest(tmp_path / "w.duckdb", sales=path)
    every_third = pd.DataFrame({"item_id": "A", "units": 1.0,
                                "date": pd.date_range("2024-01-01", periods=10, freq="3D")})
    every_third.to_csv(path, index=False, date_format="%Y-%m-%d")
    with pytest.raises(InputError, match=r"irregular.*series 'A' has 2024-01-01, 2024-01-04"):
        ingest(tmp_path / "x.duckdb", sales=path)
    # choosing a frequency sums the same dates into its periods instead
    report = ingest(tmp_path / "x.duckdb", sales=path, freq="W-SUN")
    assert report.freq == "W-SUN"


def test_forecast_freq_override_sums_daily_sales_into_weeks(fresh_warehouse: Path, small_panel: pd.DataFrame) -> None:
    fc = forecast(fresh_warehouse, model="naive", quantiles=[], freq="W-SUN", store=False)
    assert fc.attrs["freq"] == "W-SUN" and fc.attrs["horizon"] == 13
    assert (fc["date"].dt.dayofweek == 6).all() and fc.groupby("item_id").size().min() >= 13
    weekly = small_panel.assign(week=small_panel["ds"] + pd.to_timedelta((6 - small_panel["ds"].dt.dayofweek) % 7, unit="D"))
    weekly = weekly[weekly["week"] <= small_panel["ds"].max()]  # complete weeks only
    last_week = weekly.groupby(["unique_id", "week"])["y"].sum().groupby(level=0).last()
    assert fc["date"].min() == weekly["week"].max() + pd.Timedelta(days=7)
    first = fc.sort_values("date").groupby("unique_id")["forecast"].first()
    assert np.allclose(first.sort_index(), last_week.reindex(first.index).clip(lower=0))
    with pytest.raises(ConfigError, match="cannot be split"):
        from trendcast.data.warehouse import Warehouse

        with Warehouse(fresh_warehouse) as wh:
            wh.set_config("freq", "W-SUN")
            wh.set_config("data_freq", "W-SUN")
        forecast(fresh_warehouse, model="naive", freq="D", store=False)
