"""Pseudonymise shopper ids with a keyed hash, inside DuckDB.

A user id is stored only as ``HMAC-SHA256(key, user_id)`` truncated to 128 bits (32 hex
characters). The key is the warehouse's secret (:meth:`Warehouse.pseudonym_key`), so the same
shopper gets the same token in every load into that warehouse, tokens cannot be reversed by
hashing guessed ids without the key, and another warehouse (another key) gives other tokens.

HMAC is written out in SQL from DuckDB's ``sha256`` on BLOBs
(``H((K xor opad) || H((K xor ipad) || m))``, RFC 2104), so hashing runs vectorised and in
parallel inside the engine and clear ids never leave the staging table.
"""

from __future__ import annotations

import hashlib
import hmac

TOKEN_HEX = 32  # characters kept: 128 bits, collisions negligible for any shop
_BLOCK = 64  # SHA-256 block size in bytes


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def pseudonymise(user_id: str, key: bytes) -> str:
    """The token stored for ``user_id`` (Python twin of :func:`token_sql`; ids are trimmed)."""
    return hmac.new(key, user_id.strip().encode("utf-8"), hashlib.sha256).hexdigest()[:TOKEN_HEX]


def token_sql(expr: str, key: bytes) -> str:
    """SQL computing the token of the VARCHAR expression ``expr`` (NULL stays NULL)."""
    ipad, opad = _pads(key)
    inner = f"unhex(sha256(unhex('{ipad.hex()}') || encode({expr})))"
    return f"left(sha256(unhex('{opad.hex()}') || {inner}), {TOKEN_HEX})"
