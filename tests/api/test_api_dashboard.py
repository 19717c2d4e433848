"""Dashboard pages without a browser: every page answers, tables page/sort/filter/export, and the
JSON twins of the decision pages (tables, copy, what-if money, forecast jobs with weights)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from trendcast.api import create_app
from trendcast.api.deps import COOKIE

PAGES = ["/", "/overview", "/item?unique_id=S1/I001", "/item?item_id=I002", "/alerts", "/pricing",
         "/pricing?item_id=I003", "/promotions", "/promotions?item_id=I001&periods=3", "/trends", "/voice",
         "/new-product", "/new-product?category=tea&price=12.5&title=New+tea", "/recommendations", "/hotspots",
         "/whatif", "/copy", "/copy?item_id=I001&lang=zh", "/copy?category=tea&price=9&title=New+tea&kind=description"]


@pytest.fixture(scope="module")
def client(api_db: Path, tokens: dict[str, str]) -> TestClient:
    with TestClient(create_app(api_db)) as c:
        c.cookies.set(COOKIE, tokens["reader"])
        yield c


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers(client: TestClient, path: str) -> None:
    res = client.get(path, follow_redirects=False)
    assert res.status_code == 200, res.text[:500]
    assert "Could not compute" not in res.text and "Traceback" not in res.text


def test_actions_page_counts_then_rows_linking_to_items(client: TestClient) -> None:
    html = client.get("/").text
    assert html.index("This period") < html.index("Orders to place") < html.index("Price changes")
    counts = dict(re.findall(r"<span>([a-z ]+)</span><b>([\d,]+)</b>", html))
    assert {"orders to place", "price changes", "rising items", "falling items"} <= set(counts)
    links = re.findall(r'href="(/item\?(?:unique_id|item_id)=[^"]+)"', html)
    assert links, "rows must link to their item"
    target = client.get(links[0].replace("&amp;", "&"))
    assert target.status_code == 200 and "History and forecast" in target.text


def test_item_page_has_every_block_with_readable_units(client: TestClient) -> None:
    html = client.get("/item?unique_id=S1/I001").text
    for block in ("History and forecast", "Forecast table", "Stock and plan", "Price and elasticity",
                  "Order up to", "Elasticity", "Reviews"):
        assert block in html, block
    assert "units per day" in html
    assert '"tickvals":[1,2,3,4,5]' in html.replace(" ", "")  # star ratings on whole-star ticks
    assert "No series or item" not in html
    assert "No series or item &#39;NOPE&#39; in this shop" in client.get("/item?item_id=NOPE").text


def test_table_paging_sorting_filtering(client: TestClient) -> None:
    full = client.get("/api/v1/tables/plan", params={"limit": 10_000},
                      headers={"Authorization": f"Bearer {client.cookies.get(COOKIE)}"}).json()
    total = full["total"]
    assert total == 32 and {"unique_id", "title", "order_qty"} <= set(full["rows"][0])
    html = client.get("/alerts", params={"t": "plan", "page": 2, "size": 10}).text
    assert f"showing 11–20 of {total}" in html and "‹ previous" in html and "next ›" in html
    html = client.get("/alerts", params={"t": "plan", "sort": "order_qty", "desc": "1", "size": 5}).text
    block = html[html.index('data-table="plan"'):]
    first = re.search(r'<tbody><tr><td><a href="[^"]+">([^<]+)</a>', block).group(1)
    biggest = max(full["rows"], key=lambda r: r["order_qty"])["unique_id"]
    assert first == biggest
    html = client.get("/alerts", params={"t": "plan", "q": "S2/"}).text
    assert "showing 1–16 of 16 (filtered from 32)" in html


def test_export_csv_and_xlsx_match_the_filtered_table(client: TestClient, tokens: dict[str, str]) -> None:
    res = client.get("/export/plan.csv", params={"q": "S1/", "sort": "order_qty", "desc": "1"})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    assert 'filename="trendcast-plan.csv"' in res.headers["content-disposition"]
    csv = pd.read_csv(io.BytesIO(res.content), encoding="utf-8-sig")
    assert len(csv) == 16 and csv["unique_id"].str.startswith("S1/").all()
    assert csv["order_qty"].is_monotonic_decreasing and "title" in csv.columns
    xlsx = client.get("/export/plan.xlsx", params={"q": "S1/"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    sheet = pd.read_excel(io.BytesIO(xlsx.content))
    assert len(sheet) == 16 and list(sheet.columns) == list(csv.columns)
    assert client.get("/export/nope.csv").status_code == 422
    client.cookies.clear()
    assert client.get("/export/plan.csv", follow_redirects=False).status_code == 303  # signed out
    client.cookies.set(COOKIE, tokens["reader"])


def test_copy_page_shows_text_source_and_facts(client: TestClient) -> None:
    html = client.get("/copy", params={"item_id": "I001", "lang": "en", "kind": "description"}).text
    assert 'id="copy-text"' in html and "built-in template" in html and "Facts given to the writer" in html
    assert "price position" in html


def test_new_product_form_answers_with_neighbours(client: TestClient) -> None:
    html = client.get("/new-product", params={"category": "tea", "price": 12.5, "title": "New tea"}).text
    assert "New-product forecast" in html and "Nearest items" in html and "newproduct-forecast" in html


def test_whatif_reports_price_and_margin(api_db: Path, tokens: dict[str, str]) -> None:
    with TestClient(create_app(api_db)) as c:
        c.headers["Authorization"] = f"Bearer {tokens['reader']}"
        up = c.get("/api/v1/decisions/price-whatif", params={"unique_id": "S1/I001", "price_change": 0.1}).json()
    assert up["new_price"] == pytest.approx(up["current_price"] * 1.1, abs=0.01)
    assert "margin_scenario" in up and "margin" in up["summary"] and "Price" in up["summary"]


def test_copy_and_weighted_jobs_validate(api_db: Path, tokens: dict[str, str], tmp_path: Path) -> None:
    with TestClient(create_app(api_db)) as c:
        c.headers["Authorization"] = f"Bearer {tokens['admin']}"
        both = c.post("/api/v1/copy", json={"item_id": "I001", "product": {"category": "tea", "price": 3}})
        assert both.status_code == 422
        res = c.post("/api/v1/copy", json={"item_id": "I001", "lang": "zh", "kind": "description"})
        assert res.status_code == 200 and res.json()["source"].startswith("built-in template")
        assert res.json()["facts"]["item_id"] == "I001" and res.json()["language"] == "zh"
        bad = c.post("/api/v1/jobs", json={"kind": "forecast", "weights": str(tmp_path / "none")})
        assert bad.status_code == 422 and "config.json" in bad.json()["detail"]
        wrong = c.post("/api/v1/jobs", json={"kind": "report", "weights": str(tmp_path)})
        assert wrong.status_code == 422


def test_warming_computes_the_start_page_decisions(api_db: Path) -> None:
    with TestClient(create_app(api_db)) as c:
        svc = c.app.state.service
        svc.changed()
        svc.warm().join(timeout=300)
        assert {"pricing", "plan", "trends-item", "risk"} <= set(svc._memo)
