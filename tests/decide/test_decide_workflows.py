"""demo_step and the decide CLI on a small generated warehouse (with behaviour events)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trendcast.cli import main
from trendcast.data.warehouse import Warehouse
from trendcast.decide import demo_step


@pytest.fixture(scope="module")
def decide_db(tmp_path_factory: pytest.TempPathFactory, small_demo: dict) -> Path:
    path = tmp_path_factory.mktemp("decide") / "shop.duckdb"
    with Warehouse(path) as wh:
        for name in ("sales", "products", "inventory", "events"):
            frame = small_demo[name].copy()
            if name == "events":
                frame = frame.rename(columns={"user_id": "user_token"})
            wh.con.register("frame", frame)
            wh.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
            wh.con.unregister("frame")
    return path


def test_demo_step_writes_every_decision(decide_db: Path, tmp_path: Path) -> None:
    summary = demo_step(decide_db, tmp_path)
    assert {"inventory plan", "stock-out alerts", "elasticities", "promotion uplift", "new product", "trends", "risk warnings", "recommendations"} <= set(summary)
    assert summary["warehouse tables"] == "inventory_plan, alerts, elasticities"
    folder = tmp_path / "decisions"
    plan = pd.read_csv(folder / "inventory_plan.csv")
    assert len(plan) == 32 and (plan["order_up_to"] >= plan["mean_demand"]).all()
    assert len(pd.read_csv(folder / "elasticities.csv")) == 16
    recs = pd.read_csv(folder / "recommendations.csv")
    assert recs.groupby("user_token").size().eq(10).all()
    assert "sentiment drops skipped" in summary["risk warnings"]  # no text signals in this warehouse


def test_cli_commands_write_outputs(decide_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.csv"
    assert main(["plan-inventory", "--db", str(decide_db), "--lead-time", "3", "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 32
    prices = tmp_path / "prices.json"
    curves = tmp_path / "curves.csv"
    assert main(["price", "--db", str(decide_db), "--item", "I001", "--out", str(prices), "--curves", str(curves)]) == 0
    assert json.loads(prices.read_text())[0]["item_id"] == "I001"
    curve = pd.read_csv(curves)
    assert len(curve) == 21 and np.allclose(curve["revenue"], curve["price"] * curve["demand"], rtol=1e-4)
    assert (curve["demand_low"] <= curve["demand"]).all() and (curve["demand"] <= curve["demand_high"]).all()
    recs = tmp_path / "recs.json"
    assert main(["recommend", "--db", str(decide_db), "--k", "3", "--out", str(recs)]) == 0
    assert all(len(v) == 3 for v in json.loads(recs.read_text()).values())
    assert main(["new-product", "--db", str(decide_db), "--category", "tea", "--price", "50", "--days", "7"]) == 0
    assert main(["trends", "--db", str(decide_db), "--level", "category"]) == 0


def test_cli_rejects_bad_settings_with_a_clear_message(decide_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan-inventory", "--db", str(decide_db), "--service-level", "1.5"]) == 1
    assert "between 0 and 1" in capsys.readouterr().err
    assert main(["price", "--db", str(decide_db), "--min-price", "20", "--max-price", "10"]) == 1
    assert "reversed" in capsys.readouterr().err


def test_stored_forecast_run_is_used_and_decisions_are_stored(decide_db: Path, tmp_path: Path) -> None:
    import shutil

    from trendcast.decide.workflows import plan_inventory
    from trendcast.forecasting import forecast

    db = tmp_path / "copy.duckdb"
    shutil.copy(decide_db, db)
    forecast(db, 28, model="seasonal_naive", quantiles=[0.1, 0.5, 0.9])
    plan, _ = plan_inventory(db)
    assert plan.attrs["source"].startswith("stored forecast run of ")
    assert plan.attrs["source"].endswith("(model 'seasonal_naive')")
    assert main(["plan-inventory", "--db", str(db)]) == 0
    with Warehouse(db, read_only=True) as wh:
        assert wh.has_table("inventory_plan") and wh.count("inventory_plan") == 32


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["plan-inventory", "--lead-time", "-2"], "Lead time cannot be negative"),
        (["plan-inventory", "--service-level", "0"], "between 0 and 1"),
        (["price", "--min-price", "5"], "both --min-price and --max-price"),
        (["trends", "--rise", "0.1", "--fall", "0.2"], "must be below"),
        (["new-product", "--category", "tea", "--price", "9", "--k", "0"], "at least 1"),
    ],
)
def test_cli_invalid_settings(decide_db: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str) -> None:
    assert main([args[0], "--db", str(decide_db), *args[1:]]) == 1
    assert words in capsys.readouterr().err


def test_cli_promo_and_alerts(decide_db: Path, tmp_path: Path) -> None:
    up = tmp_path / "uplift.csv"
    assert main(["promo", "--db", str(decide_db), "--by", "category", "--out", str(up)]) == 0
    table = pd.read_csv(up)
    assert len(table) == table["category"].nunique() and (table["promo_uplift_low"] <= table["promo_uplift_high"]).all()
    warn = tmp_path / "warn.json"
    assert main(["alerts", "--db", str(decide_db), "--out", str(warn)]) == 0
    assert isinstance(json.loads(warn.read_text()), list)


def test_cli_promo_plan_lifts_the_planned_days(decide_db: Path, tmp_path: Path) -> None:
    with Warehouse(decide_db, read_only=True) as wh:
        last = wh.con.execute("SELECT max(date) FROM sales").fetchone()[0]
    days = pd.date_range(pd.Timestamp(last) + pd.Timedelta(days=1), periods=7)
    plan = pd.DataFrame({"item_id": "I001", "date": days[2:5].strftime("%Y-%m-%d"), "promo": 1})
    plan_file, out = tmp_path / "plan.csv", tmp_path / "promo_fc.csv"
    plan.to_csv(plan_file, index=False)
    extra = ["--model", "lightgbm"]
    assert main(["promo", "--db", str(decide_db), "--plan", str(plan_file), *extra, "--out", str(out)]) == 0
    fc = pd.read_csv(out)
    assert len(fc) == 32 * 5  # every series, up to the plan's last day
    promo_rows = fc[(fc["item_id"] == "I001") & (fc["promo"] == 1)]
    assert len(promo_rows) == 2 * 3 and (promo_rows["uplift_units"] > 0).all()
    assert (fc.loc[fc["promo"] == 0, "uplift_units"].abs() < 1e-9).all()


def _demo_shop_without(column: str, path: Path, small_demo: dict) -> Path:
    """The small demo's sales and products in a warehouse at ``path``, the sales lacking ``column``."""
    with Warehouse(path) as wh:
        for name in ("sales", "products"):
            frame = small_demo[name].copy()
            if name == "sales":
                frame = frame.drop(columns=[column])
            wh.con.register("frame", frame)
            wh.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
            wh.con.unregister("frame")
    return path


def test_a_shop_without_prices_still_gets_its_plan_and_trends(tmp_path: Path, small_demo: dict) -> None:
    summary = demo_step(_demo_shop_without("price", tmp_path / "noprice.duckdb", small_demo), tmp_path)
    assert summary["elasticities"].startswith("skipped: ") and "price" in summary["elasticities"]
    assert summary["warehouse tables"] == "inventory_plan"  # no stock counts: no alerts to store
    assert (tmp_path / "decisions" / "inventory_plan.csv").exists() and "trends" in summary


def test_a_shop_with_prices_but_no_promotions_says_so(tmp_path: Path, small_demo: dict) -> None:
    summary = demo_step(_demo_shop_without("promo", tmp_path / "nopromo.duckdb", small_demo), tmp_path)
    assert summary["elasticities"].startswith("median ")
    assert summary["promotion uplift"].startswith("skipped: no promotion days")  # not "median +nan%"
    assert not (tmp_path / "decisions" / "promo_uplift.csv").exists()
