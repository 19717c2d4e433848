"""Limits that keep a server up: gzip bombs, oversized bodies, tokens in URLs, headers, CSRF.

The memory test runs a real ``trendcast serve`` on 127.0.0.1 and watches its RSS while a
0.5 MB gzip holding 200 MB of rows is uploaded and four unauthenticated 100 MB bodies arrive.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trendcast.api import create_app
from trendcast.api.auth import create_token
from trendcast.data.warehouse import Warehouse

_spec = importlib.util.spec_from_file_location(
    "hostile_attacks", Path(__file__).parents[1] / "data" / "hostile" / "attacks.py")
attacks = sys.modules.setdefault("hostile_attacks", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(attacks)  # type: ignore[union-attr]

RSS_LIMIT_MB = 600


@pytest.fixture
def served_copy(api_db: Path, tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "served.duckdb"
    shutil.copy(api_db, db)
    with Warehouse(db) as wh:
        token = create_token(wh.con, "uploader")
    return db, token


@pytest.mark.slow
def test_bomb_and_big_bodies_keep_memory_bounded(served_copy: tuple[Path, str], tmp_path: Path) -> None:
    db, token = served_copy
    log = tmp_path / "server.log"
    secret = "tc_" + "s" * 43
    with attacks.server(db, max_upload_mb=20, log=log) as (base, proc):
        idle = attacks.rss_mb(proc.pid)
        peak_bomb, code = attacks.peak_rss_during(proc.pid, lambda: attacks.upload_bomb(base, token, 200))
        assert code == 413
        peak_bodies, codes = attacks.peak_rss_during(proc.pid, lambda: attacks.oversized_bodies(base, 100, 4))
        assert all(c in (413, 0) for c in codes), codes
        assert 413 in codes
        import httpx

        assert httpx.get(f"{base}/api/v1/series?token={secret}", timeout=10).status_code == 401
        assert httpx.get(base + "/api/v1/health", timeout=10).status_code == 200  # still up
    assert max(peak_bomb, peak_bodies) < RSS_LIMIT_MB, (idle, peak_bomb, peak_bodies)
    assert max(peak_bomb, peak_bodies) - idle < 150, (idle, peak_bomb, peak_bodies)
    logged = log.read_text()
    assert "/api/v1/series" in logged and secret not in logged


@pytest.fixture(scope="module")
def client(api_db: Path, tokens: dict[str, str]) -> TestClient:
    with TestClient(create_app(api_db, max_upload_mb=0.5, max_body_mb=0.01)) as c:
        yield c


def test_gzip_counted_decompressed_and_rows_limited(client: TestClient, tokens: dict[str, str]) -> None:
    auth = {"Authorization": f"Bearer {tokens['reader']}"}
    res = client.post("/api/v1/uploads/sales", headers=auth,
                      files={"file": ("bomb.csv.gz", attacks.gzip_bomb(5), "application/gzip")})
    assert res.status_code == 413 and "decompressed" in res.json()["detail"]


def test_body_limit_before_auth(client: TestClient) -> None:
    res = client.post("/api/v1/jobs", content=b"{" + b" " * 20_000 + b"}",
                      headers={"Content-Type": "application/json"})
    assert res.status_code == 413  # not 401: the body was refused before the token was looked at


def test_security_headers(client: TestClient) -> None:
    for path in ("/api/v1/health", "/login"):
        res = client.get(path)
        assert "frame-ancestors 'none'" in res.headers["content-security-policy"]
        assert res.headers["x-frame-options"] == "DENY"
        assert res.headers["x-content-type-options"] == "nosniff"


def test_login_refuses_cross_site_and_logout_is_post(client: TestClient, tokens: dict[str, str]) -> None:
    form = {"token": tokens["reader"], "next": "/"}
    evil = client.post("/login", data=form, headers={"Origin": "https://evil.example"},
                       follow_redirects=False)
    assert evil.status_code == 403 and "set-cookie" not in evil.headers
    ok = client.post("/login", data=form, headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert ok.status_code == 303 and "trendcast_token" in ok.headers["set-cookie"]
    assert client.get("/logout", follow_redirects=False).status_code == 405
    out = client.post("/logout", headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert out.status_code == 303


def test_last_admin_token_cannot_be_revoked(api_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "tokens.duckdb"
    shutil.copy(api_db, db)
    with Warehouse(db) as wh:
        wh.con.execute("UPDATE api_tokens SET revoked_at = now() WHERE admin")
        only = create_token(wh.con, "only-admin", admin=True)
    with TestClient(create_app(db)) as c:
        auth = {"Authorization": f"Bearer {only}"}
        res = c.delete("/api/v1/tokens/only-admin", headers=auth)
        assert res.status_code == 422 and "last active admin" in res.json()["detail"]
        assert c.post("/api/v1/tokens", json={"name": "second", "admin": True}, headers=auth).status_code == 201
        assert c.delete("/api/v1/tokens/only-admin", headers=auth).status_code == 200


def test_server_memory_budget_follows_the_machine_and_names_the_setting_when_short(
        api_db: Path, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """256 MB for every shop made decisions fail with a bare 500 on a 1,500-series shop."""
    import os

    import duckdb

    from trendcast.api import service
    from trendcast.report.data import ShopData

    monkeypatch.delenv("TRENDCAST_SERVER_DUCKDB_MB", raising=False)
    machine_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    assert service.server_duckdb_mb() == max(256, int(machine_mb / 4))
    monkeypatch.setenv("TRENDCAST_SERVER_DUCKDB_MB", "300")

    def short_of_memory(self: ShopData) -> None:
        raise duckdb.OutOfMemoryException("could not allocate block of size 256.0 KiB")

    with TestClient(create_app(api_db)) as client:
        client.headers["Authorization"] = f"Bearer {tokens['admin']}"
        assert client.app.state.service.memory_mb == 300
        monkeypatch.setattr(ShopData, "metrics", short_of_memory)
        res = client.get("/api/v1/metrics")
    assert res.status_code == 503 and res.json()["error"] == "out_of_memory"
    assert "(300 MB)" in res.json()["detail"] and "TRENDCAST_SERVER_DUCKDB_MB" in res.json()["detail"]
