"""Customer voice: the aspects / competitors JSON reads and the /voice dashboard page."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from trendcast.api import create_app
from trendcast.api.auth import create_token
from trendcast.data.warehouse import Warehouse
from trendcast.text.signals import build_signals


def test_voice_reads_and_page(fresh_warehouse: Path) -> None:
    with Warehouse(fresh_warehouse) as wh:
        token = create_token(wh.con, "reader")
    with TestClient(create_app(fresh_warehouse)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        res = client.get("/api/v1/aspects")
        assert res.status_code == 404 and "trendcast signals" in res.json()["detail"]  # not built yet
    build_signals(fresh_warehouse, model="fast", topics=False)
    with TestClient(create_app(fresh_warehouse)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        aspects = client.get("/api/v1/aspects", params={"freq": "W"}).json()
        assert aspects and {"period", "aspect", "mentions", "share", "sent_mean", "examples"} <= set(aspects[0])
        assert all(-1 <= r["sent_mean"] <= 1 for r in aspects)
        assert len(aspects[0]["period"]) == 10  # a day, YYYY-MM-DD, like every other endpoint
        res = client.get("/api/v1/signals/items/NOPE")
        assert res.status_code == 422 and "Unknown item 'NOPE'" in res.json()["detail"]  # not an empty 200
        assert client.get("/api/v1/signals/categories", params={"category": "nope"}).status_code == 422
        every = client.get("/api/v1/signals/categories", params={"days": 3660}).json()
        recent = client.get("/api/v1/signals/categories").json()  # the last 180 days by default, like /history
        days = sorted({r["ds"] for r in every})
        assert len(days) > 180 and sorted({r["ds"] for r in recent}) == days[-180:]
        week = client.get("/api/v1/signals/items/I001", params={"days": 7}).json()
        assert week and len({r["ds"] for r in week}) <= 7 and max(r["ds"] for r in week) <= days[-1]
        rivals = client.get("/api/v1/competitors").json()
        assert rivals and {"competitor", "share_of_voice", "sent_mean"} <= set(rivals[0])
        assert client.get("/api/v1/aspects", params={"freq": "Q"}).status_code == 422
        assert client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
        page = client.get("/voice")
        assert page.status_code == 200 and "Voice of the customer" in page.text
        assert "Aspects this week, most criticised first" in page.text and "Competitors: share of voice" in page.text
