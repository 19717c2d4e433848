"""Units and labels follow the warehouse's frequency; decisions reach the pages."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from trendcast.report import views
from trendcast.report.data import ShopData, period_unit
from trendcast.report.narrative import builtin_text, facts


@pytest.mark.parametrize(("freq", "unit"), [("D", "day"), ("W-SUN", "week"), ("W-MON", "week"), ("MS", "month"),
                                            ("ME", "month")])
def test_period_unit(freq: str, unit: str) -> None:
    assert period_unit(freq) == unit


def _changed_copy(api_db: Path, db: Path, sql: str) -> duckdb.DuckDBPyConnection:
    """A connection to a copy of the small shop with ``sql`` applied (the caller closes it)."""
    shutil.copy(api_db, db)
    con = duckdb.connect(str(db))
    con.execute(sql)
    return con


def test_weekly_warehouse_speaks_in_weeks(api_db: Path, tmp_path: Path) -> None:
    con = _changed_copy(api_db, tmp_path / "weekly.duckdb", "INSERT OR REPLACE INTO config VALUES ('freq', 'W-SUN')")
    try:
        data = ShopData(con, db=None)
        k = views.kpis(data)
        assert k["Period"] == "week" and k["Forecast horizon"] == "14 weeks" and k["Categories"] == "8"
        html = "".join(str(s.html) for s in views.overview(data))
        assert "units per week" in html and "units per day" not in html
        text = " ".join(builtin_text(facts(data)))
        assert "(weekly; 16 items in 8 categories)" in text and "next 14 weeks" in text and " days" not in text
    finally:
        con.close()


def test_missing_categories_are_said_plainly(api_db: Path, tmp_path: Path) -> None:
    con = _changed_copy(api_db, tmp_path / "nocat.duckdb", "DELETE FROM products")  # no products file (e.g. Walmart)
    try:
        text = " ".join(builtin_text(facts(ShopData(con))))
    finally:
        con.close()
    assert "without product categories" in text and "0 categories" not in text


def test_a_shop_without_promotion_days_says_so(api_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "nopromo.duckdb"
    con = _changed_copy(api_db, db, "UPDATE sales SET promo = 0")
    try:
        sections = views.promotions(ShopData(con, db=db))
        planned = next(s for s in sections if s.title == "A planned promotion's effect")
        assert planned.kind == "missing" and "No promotion days" in planned.missing
    finally:
        con.close()
