"""Shopper ids are stored only as keyed hashes, and never in clear anywhere in the warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from trendcast.data.ingest import ingest
from trendcast.data.privacy import pseudonymise
from trendcast.data.warehouse import Warehouse
from trendcast.errors import InputError

USERS = ["shopper-alice-7731", "shopper-bob-4410", "用户王五-0098"]


def events_csv(path: Path, minute: int = 0) -> Path:
    lines = ["user_id,item_id,timestamp,event"]
    for i, user in enumerate(USERS):
        lines.append(f"{user},I{i},2024-03-01T10:{minute + i:02d}:00,view")
        lines.append(f"{user},I{i},2024-03-01T10:{minute + i:02d}:30,addtocart")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tokens(db: Path) -> dict[str, set[str]]:
    with Warehouse(db) as wh:
        key = wh.pseudonym_key()
        stored = set(wh.table("events")["user_token"])
    return {"stored": stored, "expected": {pseudonymise(u, key) for u in USERS}}


def test_tokens_are_keyed_hashes_stable_across_loads(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    ingest(db, events=events_csv(tmp_path / "e1.csv"))
    first = tokens(db)
    assert first["stored"] == first["expected"]  # SQL HMAC == Python HMAC
    assert not first["stored"] & set(USERS)
    ingest(db, events=events_csv(tmp_path / "e2.csv", minute=30))  # a later load, same shoppers
    with Warehouse(db) as wh:
        assert wh.count("events") == 12
        assert set(wh.table("events")["user_token"]) == first["stored"]
        assert set(wh.table("events")["event"]) == {"view", "cart"}


def test_other_warehouse_key_gives_other_tokens(tmp_path: Path) -> None:
    ingest(tmp_path / "a.duckdb", events=events_csv(tmp_path / "e.csv"))
    ingest(tmp_path / "b.duckdb", events=tmp_path / "e.csv")
    assert not tokens(tmp_path / "a.duckdb")["stored"] & tokens(tmp_path / "b.duckdb")["stored"]


def test_no_clear_id_in_the_database_files_or_rejects(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    ingest(db, events=events_csv(tmp_path / "e.csv"))
    # a rejected load stages the clear ids too: they must vanish with the staging tables
    bad = events_csv(tmp_path / "bad.csv")
    bad.write_text(bad.read_text(encoding="utf-8") + "shopper-carol-5521,I9,2024-03-01T11:00:00,click\n",
                   encoding="utf-8")
    with pytest.raises(InputError):
        ingest(db, events=bad)
    rep = ingest(db, events=bad, on_error="skip")  # rejects file next to the warehouse
    assert rep.rejects and "shopper-carol" not in Path(rep.rejects).read_text(encoding="utf-8")
    files = [p for p in tmp_path.iterdir() if p.name.startswith("wh.duckdb") and p.is_file()]
    assert files
    blob = b"".join(p.read_bytes() for p in files)
    for user in [*USERS, "shopper-carol-5521"]:
        assert user.encode("utf-8") not in blob
        assert user.encode("utf-16-le") not in blob
    with Warehouse(db) as wh:
        names = [r[0] for r in wh.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    assert not [n for n in names if n.startswith("_tc_")]
