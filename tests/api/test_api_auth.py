"""Token auth: missing, wrong and revoked tokens get 401; admin-only endpoints get 403."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trendcast.api import create_app
from trendcast.api.auth import create_token, hash_token, list_tokens, revoke_token, verify_token
from trendcast.cli import main
from trendcast.data.warehouse import Warehouse
from trendcast.errors import InputError


@pytest.fixture(scope="module")
def client(api_db: Path, tokens: dict[str, str]) -> TestClient:
    with TestClient(create_app(api_db)) as c:
        yield c


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_token_is_401(client: TestClient) -> None:
    res = client.get("/api/v1/forecasts")
    assert res.status_code == 401
    assert "Missing API token" in res.json()["detail"]
    assert res.headers["www-authenticate"] == "Bearer"


def test_wrong_token_is_401(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get("/api/v1/forecasts", headers=_auth("tc_not-a-real-token")).status_code == 401
    assert client.get("/api/v1/forecasts", headers=_auth(tokens["reader"] + "x")).status_code == 401
    assert client.get("/api/v1/forecasts", headers={"Authorization": "Basic abc"}).status_code == 401


def test_valid_token_reads_and_health_is_open(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/forecasts", headers=_auth(tokens["reader"])).status_code == 200


def test_revoked_token_is_401_immediately(client: TestClient, tokens: dict[str, str]) -> None:
    admin = _auth(tokens["admin"])
    created = client.post("/api/v1/tokens", json={"name": "temp"}, headers=admin)
    assert created.status_code == 201
    temp = created.json()["token"]
    assert client.get("/api/v1/series", headers=_auth(temp)).status_code == 200  # now cached as valid
    assert client.delete("/api/v1/tokens/temp", headers=admin).json() == {"revoked": 1}
    res = client.get("/api/v1/series", headers=_auth(temp))
    assert res.status_code == 401 and "revoked" in res.json()["detail"]


def test_token_admin_needs_admin_and_header(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get("/api/v1/tokens", headers=_auth(tokens["reader"])).status_code == 403
    listed = client.get("/api/v1/tokens", headers=_auth(tokens["admin"])).json()
    assert {"admin", "reader"} <= {t["name"] for t in listed}
    assert all("token_hash" not in t and "token" not in t for t in listed)
    # the dashboard cookie may read but never write
    client.cookies.set("trendcast_token", tokens["admin"])
    try:
        assert client.get("/api/v1/series").status_code == 200
        assert client.post("/api/v1/jobs", json={"kind": "report"}).status_code == 401
    finally:
        client.cookies.clear()


def test_tokens_are_stored_hashed_and_revocable(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "t.duckdb") as wh:
        token = create_token(wh.con, "ci")
        stored = wh.con.execute("SELECT token_hash FROM api_tokens").fetchall()
        assert stored == [(hash_token(token),)] and token not in str(stored)
        assert verify_token(wh.con, token).name == "ci"
        with pytest.raises(InputError, match="already exists"):
            create_token(wh.con, "ci")
        assert revoke_token(wh.con, "ci") == 1
        assert verify_token(wh.con, token) is None
        assert list_tokens(wh.con)[0].revoked_at is not None
        with pytest.raises(InputError, match="No active token"):
            revoke_token(wh.con, "ci")


def test_token_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cli.duckdb"
    assert main(["token", "create", "--db", str(db), "--name", "analyst"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("tc_")
    with Warehouse(db) as wh:
        assert verify_token(wh.con, token).name == "analyst"
    assert main(["token", "list", "--db", str(db)]) == 0
    assert "analyst" in capsys.readouterr().out
    assert main(["token", "revoke", "--db", str(db), "--name", "analyst"]) == 0
    assert main(["token", "revoke", "--db", str(db), "--name", "analyst"]) == 1
    with Warehouse(db) as wh:
        assert verify_token(wh.con, token) is None
