"""API tokens: created by the CLI (shown once), stored only as SHA-256 hashes, revocable.

A token is ``tc_`` + 32 random bytes (URL-safe base64). Because it is random and long, a plain
SHA-256 of it cannot be reversed or guessed, so no per-token salt is needed; the warehouse
keeps the hash, a name, creation and revocation times and an ``admin`` flag (admin tokens may
manage other tokens through the API while the server holds the warehouse open).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from trendcast.data.tables import ddl
from trendcast.errors import InputError

TOKEN_PREFIX = "tc_"
NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
DDL = ddl("api_tokens")


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    name: str
    admin: bool
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def create_token(con: duckdb.DuckDBPyConnection, name: str, admin: bool = False) -> str:
    """Store a new token's hash under ``name`` and return the token (the only time it is seen)."""
    if not NAME_RE.match(name):
        raise InputError(f"Token name '{name}' must be 1-64 letters, digits or _ . @ -.", column="name")
    ensure_table(con)
    taken = con.execute("SELECT 1 FROM api_tokens WHERE name = ? AND revoked_at IS NULL", [name]).fetchone()
    if taken:
        raise InputError(f"An active token named '{name}' already exists; revoke it or pick another name.",
                         column="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    con.execute("INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, NULL)",
                [secrets.token_hex(6), name, hash_token(token), admin, _now()])
    return token


def list_tokens(con: duckdb.DuckDBPyConnection) -> list[TokenInfo]:
    ensure_table(con)
    rows = con.execute(
        "SELECT token_id, name, admin, created_at, revoked_at FROM api_tokens ORDER BY created_at"
    ).fetchall()
    return [TokenInfo(r[0], r[1], bool(r[2]), str(r[3])[:19], None if r[4] is None else str(r[4])[:19])
            for r in rows]


def revoke_token(con: duckdb.DuckDBPyConnection, name_or_id: str) -> int:
    """Revoke the active token(s) with this name or id; InputError when there is none."""
    ensure_table(con)
    hits = con.execute(
        "SELECT count(*) FROM api_tokens WHERE (name = ? OR token_id = ?) AND revoked_at IS NULL",
        [name_or_id, name_or_id],
    ).fetchone()[0]
    if not hits:
        raise InputError(f"No active token named '{name_or_id}' (see `trendcast token list`).")
    admins_left = con.execute(
        "SELECT count(*) FROM api_tokens WHERE admin AND revoked_at IS NULL "
        "AND NOT (name = ? OR token_id = ?)", [name_or_id, name_or_id]).fetchone()[0]
    is_admin = con.execute(
        "SELECT count(*) FROM api_tokens WHERE admin AND revoked_at IS NULL "
        "AND (name = ? OR token_id = ?)", [name_or_id, name_or_id]).fetchone()[0]
    if is_admin and not admins_left:
        raise InputError(f"'{name_or_id}' is the last active admin token: create another admin token "
                         "first (`trendcast token create --admin`), then revoke this one.")
    con.execute("UPDATE api_tokens SET revoked_at = ? WHERE (name = ? OR token_id = ?) AND revoked_at IS NULL",
                [_now(), name_or_id, name_or_id])
    return int(hits)


def verify_token(con: duckdb.DuckDBPyConnection, token: str | None) -> TokenInfo | None:
    """The active token's record, or None for a missing, unknown or revoked token."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = con.execute(
        "SELECT token_id, name, admin, created_at, revoked_at FROM api_tokens WHERE token_hash = ?",
        [hash_token(token)],
    ).fetchone()
    if row is None or row[4] is not None:
        return None
    return TokenInfo(row[0], row[1], bool(row[2]), str(row[3])[:19], None)
