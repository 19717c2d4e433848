"""Reads, validation errors, not-ready answers, upload limits, caching and the job lifecycle."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trendcast.api import create_app, jobs
from trendcast.errors import NotReadyError


def failing_stage(db: Path, out: Path) -> dict[str, str]:
    raise NotReadyError("planted failure: the sales table is empty")


@pytest.fixture(scope="module")
def client(api_db: Path, tokens: dict[str, str]) -> TestClient:
    with TestClient(create_app(api_db, max_upload_mb=0.01)) as c:
        c.headers["Authorization"] = f"Bearer {tokens['admin']}"
        yield c


def test_forecast_reads(client: TestClient) -> None:
    rows = client.get("/api/v1/forecasts", params={"unique_id": "S1/I001"}).json()
    assert len(rows) == 14 and {"ds", "forecast", "q0.1", "q0.9"} <= set(rows[0])
    assert all(r["q0.1"] <= r["forecast"] + 1e-9 <= r["q0.9"] + 2e-9 for r in rows)
    assert rows[0]["ds"] > client.get("/api/v1/history", params={"days": 1}).json()[-1]["ds"]
    total = client.get("/api/v1/forecasts/aggregate").json()
    assert len(total) == 14 and total[0]["forecast"] > rows[0]["forecast"]
    cats = client.get("/api/v1/forecasts/aggregate", params={"by": "category"}).json()
    assert {r["category"] for r in cats} >= {"phones", "tea"}
    metrics = client.get("/api/v1/metrics").json()
    assert {m["model"] for m in metrics} == {"seasonal_naive", "naive"}


def test_repeated_reads_are_cached_until_data_changes(client: TestClient) -> None:
    svc = client.app.state.service
    url = "/api/v1/forecasts?unique_id=S2/I003"
    first = client.get(url).content
    key = (svc.generation, "forecasts", "S2/I003", 10_000, 0)
    assert key in svc._cache
    assert client.get(url).content == first
    svc.changed()
    assert key not in svc._cache and client.get(url).content == first


def test_validation_errors_are_clear_422(client: TestClient) -> None:
    res = client.get("/api/v1/history", params={"days": 0})
    assert res.status_code == 422
    assert res.json()["detail"] == "query parameter 'days': Input should be greater than or equal to 1"
    res = client.get("/api/v1/forecasts/aggregate", params={"by": "planet"})
    assert res.status_code == 422 and "query parameter 'by'" in res.json()["detail"]
    res = client.post("/api/v1/jobs", json={"kind": "dance"})
    assert res.status_code == 422 and "body field 'kind'" in res.json()["detail"]
    res = client.get("/api/v1/history", params={"unique_id": "S9/NOPE"})
    assert res.status_code == 422 and "Unknown series 'S9/NOPE'" in res.json()["detail"]
    res = client.get("/api/v1/history", params={"unique_id": "S1/café crème"})  # inner spaces are a valid id
    assert res.status_code == 422 and "Unknown series 'S1/café crème'" in res.json()["detail"]
    res = client.get("/api/v1/decisions/price-whatif", params={"unique_id": "S1/I001", "price_change": -5})
    assert res.status_code == 422 and "price_change" in res.json()["detail"]


def test_missing_stage_output_is_404_naming_the_command(client: TestClient) -> None:
    for url, command in (("/api/v1/hotspots", "trendcast signals"), ("/api/v1/signals/items/I001", "trendcast signals"),
                         ("/api/v1/signals/categories", "trendcast signals")):
        res = client.get(url)
        assert res.status_code == 404, url
        assert res.json()["error"] == "not_ready" and f"run `{command}" in res.json()["detail"]


def test_decisions_come_from_the_decide_stage(client: TestClient) -> None:
    plan = client.get("/api/v1/decisions/inventory-plan").json()
    assert len(plan) == 32 and {"unique_id", "reorder_point"} <= set(plan[0])
    assert client.get("/api/v1/decisions/alerts").status_code == 200


def test_price_whatif_follows_elasticity(client: TestClient) -> None:
    base = client.get("/api/v1/decisions/price-whatif", params={"unique_id": "S1/I001", "price_change": 0}).json()
    up = client.get("/api/v1/decisions/price-whatif", params={"unique_id": "S1/I001", "price_change": 0.2}).json()
    assert base["units_scenario"] == pytest.approx(base["units_baseline"])
    # constant elasticity: demand scales by (1 + change) ** elasticity
    assert up["units_scenario"] / up["units_baseline"] == pytest.approx(1.2 ** up["elasticity"], rel=1e-3)
    assert up["units_scenario_low"] <= up["units_scenario"] <= up["units_scenario_high"]
    assert len(up["ds"]) == len(up["scenario"]) == 14 and up["summary"].startswith("A +20% price change")


def test_upload_limits(client: TestClient) -> None:
    big = b"item_id,date,units\n" + b"I001,2024-01-01,1\n" * 2000  # ~36 kB > 10 kB limit
    res = client.post("/api/v1/uploads/sales", files={"file": ("sales.csv", big, "text/csv")})
    assert res.status_code == 413 and "limit of 0.01 MB" in res.json()["detail"]

    def chunks():  # no Content-Length: the streamed body is counted instead
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.csv\"\r\n\r\n"
        for _ in range(100):
            yield b"x" * 1000
        yield b"\r\n--b--\r\n"

    res = client.post("/api/v1/uploads/sales", content=chunks(),
                      headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert res.status_code == 413
    small = b"item_id,date,units\nI001,2024-01-01,1\n"
    res = client.post("/api/v1/uploads/planets", files={"file": ("s.csv", small, "text/csv")})
    assert res.status_code == 422 and "Unknown source 'planets'" in res.json()["detail"]
    res = client.post("/api/v1/uploads/sales", files={"file": ("s.exe", small, "application/octet-stream")})
    assert res.status_code == 422 and "not a CSV or Parquet" in res.json()["detail"]


def test_upload_ingests(client: TestClient, small_demo: dict) -> None:
    csv = small_demo["products"].head(3).to_csv(index=False).encode()
    res = client.post("/api/v1/uploads/products", files={"file": ("products.csv", csv, "text/csv")})
    assert res.status_code == 200, res.text
    cov = b"date,store_id,Temperature,IsHoliday\n2023-08-01,S1,31.5,FALSE\n"  # any numeric column
    res = client.post("/api/v1/uploads/covariates", files={"file": ("features.csv", cov, "text/csv")})
    assert res.status_code == 200 and "1 new" in res.json()["summary"]["covariates"], res.text
    bad = b"item_id,category\n,phones\n"
    res = client.post("/api/v1/uploads/products", files={"file": ("products.csv", bad, "text/csv")})
    assert res.status_code == 422 and "products.csv" in res.json()["detail"]



def test_upload_order_lines(tmp_path: Path) -> None:
    """An order export goes in through the API too: ?orders=true sums its lines per day."""
    from trendcast.api.auth import create_token
    from trendcast.data.warehouse import Warehouse

    db = tmp_path / "orders.duckdb"
    with Warehouse(db) as wh:
        token = create_token(wh.con, "writer", admin=True)
    lines = b"item_id,date,units\nI1,2024-01-01,1\nI1,2024-01-01,2\nI1,2024-01-02,5\n"
    with TestClient(create_app(db)) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        res = c.post("/api/v1/uploads/sales", files={"file": ("lines.csv", lines, "text/csv")})
        assert res.status_code == 422 and "--orders" in res.json()["detail"]
        res = c.post("/api/v1/uploads/sales", params={"orders": True}, files={"file": ("lines.csv", lines, "text/csv")})
        assert res.status_code == 200, res.text
        assert res.json()["summary"]["sales"].startswith("3 rows summed into 2 item-store-day rows: 2 new")

def _wait(client: TestClient, job_id: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def test_job_lifecycle(client: TestClient, api_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generation = client.app.state.service.generation
    res = client.post("/api/v1/jobs", json={"kind": "report"})
    assert res.status_code == 202 and res.json()["status"] in ("queued", "running")
    assert res.headers["location"] == f"/api/v1/jobs/{res.json()['id']}"
    job = _wait(client, res.json()["id"])
    assert job["status"] == "succeeded", job
    assert Path(job["result"]["report"]).exists() and job["started_at"] and job["finished_at"]
    assert client.app.state.service.generation > generation  # caches dropped after a write job
    assert client.get("/api/v1/jobs").json()[0]["id"] == job["id"]

    monkeypatch.setitem(jobs.JOB_KINDS, "signals", ("test_api_routes:failing_stage", "planted failure"))
    failed = _wait(client, client.post("/api/v1/jobs", json={"kind": "signals"}).json()["id"])
    assert failed["status"] == "failed" and failed["error"] == "planted failure: the sales table is empty"
    assert client.get("/api/v1/jobs/abc123").status_code == 404


def test_openapi_schema_lists_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/forecasts", "/api/v1/jobs", "/api/v1/jobs/{job_id}", "/api/v1/uploads/{source}"} <= set(paths)
    assert not any(p in paths for p in ("/", "/login", "/item"))
