"""The service layer between HTTP and the warehouse: one DuckDB connection, cursors, caching.

DuckDB allows one writing process per file, so the server opens the warehouse once
(read-write, so background jobs in this process can write through their own connections to
the same database instance) and hands each request its own cursor. Since no other process can
write while the server holds the file, a generation counter bumped after every write (jobs,
uploads, token changes) is an exact cache key: cached answers are dropped the moment the data
they came from changes.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from trendcast.api import auth
from trendcast.data.warehouse import Warehouse
from trendcast.report.data import ShopData

T = TypeVar("T")
log = logging.getLogger("trendcast.api")
CACHE_SIZE = 1024
SERVER_DUCKDB_MB = 256  # the least DuckDB gets in a server
SERVER_MEMORY_SHARE = 0.25  # of the machine's memory, when TRENDCAST_SERVER_DUCKDB_MB is not set


def server_duckdb_mb() -> int:
    """DuckDB's memory budget in the long-lived server: ``TRENDCAST_SERVER_DUCKDB_MB``, else a
    quarter of the machine's memory, at least :data:`SERVER_DUCKDB_MB`.

    A server shares the machine, so DuckDB must not take its default 80%; but a fixed 256 MB made
    every decision that reads the sales panel fail on a 1,500-series shop (1.5 M daily rows
    need about 0.5 GB to read)."""
    if "TRENDCAST_SERVER_DUCKDB_MB" in os.environ:
        return int(os.environ["TRENDCAST_SERVER_DUCKDB_MB"])
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - no sysconf (Windows)
        return SERVER_DUCKDB_MB
    return max(SERVER_DUCKDB_MB, int(total * SERVER_MEMORY_SHARE / 2**20))


class Service:
    """Owns the warehouse connection, the write lock, the generation counter and the caches."""

    def __init__(self, db: Path) -> None:
        self.db = Path(db)
        self._wh = Warehouse(self.db)  # creates the file and the input tables when new
        # A server lives long and shares the machine: DuckDB spills to disk past this budget
        # instead of growing (uploads, jobs); TRENDCAST_SERVER_DUCKDB_MB overrides it.
        self.memory_mb = server_duckdb_mb()
        self._wh.con.execute(f"SET memory_limit = '{self.memory_mb}MB'")
        auth.ensure_table(self._wh.con)
        self.write_lock = threading.Lock()
        self.generation = 0
        self._cache: OrderedDict[tuple, object] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._tokens: dict[str, auth.TokenInfo | None] = {}
        self._memo: dict[str, object] = {}  # decisions computed on demand, shared until the next write
        self.keep_warm = False  # `trendcast serve`: recompute the start page's decisions after each write

    # -- connections -----------------------------------------------------------------------
    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A private cursor for one request (DuckDB connections are not shared across threads)."""
        cur = self._wh.con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def data(self) -> Iterator[ShopData]:
        with self.cursor() as cur:
            yield ShopData(cur, db=self.db, memo=self._memo)

    def close(self) -> None:
        self._wh.close()

    def warm(self) -> threading.Thread:
        """Compute the decisions behind the start page in a background thread, so the first
        planner to open the dashboard after a data change does not wait for them."""

        def run() -> None:
            try:
                with self.data() as data:
                    data.action_counts()
            except Exception:  # noqa: BLE001 - warming is an optimisation; pages still compute on demand
                log.debug("warming the decisions failed", exc_info=True)

        thread = threading.Thread(target=run, name="trendcast-warm", daemon=True)
        thread.start()
        return thread

    # -- cache -------------------------------------------------------------------------------
    def changed(self) -> None:
        """Call after any write: bumps the generation so every cached answer is recomputed."""
        with self._cache_lock:
            self.generation += 1
            self._cache.clear()
            self._tokens.clear()
            self._memo = {}
        if self.keep_warm:
            self.warm()

    _MISS = object()

    def peek(self, key: tuple) -> object:
        """The cached value for ``key`` or :attr:`_MISS` (no computing: safe on the event loop)."""
        with self._cache_lock:
            return self._cache.get((self.generation, *key), self._MISS)

    def peek_token(self, token: str) -> auth.TokenInfo | None | object:
        """A memoised token check or :attr:`_MISS`."""
        with self._cache_lock:
            return self._tokens.get(auth.hash_token(token), self._MISS)

    def cached(self, key: tuple, compute: Callable[[], T]) -> T:
        """``compute()`` once per data generation and key (LRU-bounded)."""
        full = (self.generation, *key)
        with self._cache_lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]  # type: ignore[return-value]
        value = compute()
        with self._cache_lock:
            if full[0] == self.generation:  # do not store answers computed from stale data
                self._cache[full] = value
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return value

    # -- tokens ------------------------------------------------------------------------------
    def verify(self, token: str | None) -> auth.TokenInfo | None:
        """Token lookup, memoised until the next write (revocation through the API is a write)."""
        if not token:
            return None
        key = auth.hash_token(token)
        with self._cache_lock:
            if key in self._tokens:
                return self._tokens[key]
        with self.cursor() as cur:
            info = auth.verify_token(cur, token)
        with self._cache_lock:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[key] = info
        return info

    def sales_panel(self) -> pd.DataFrame:
        """The warehouse's sales panel (at its frequency), computed once per data generation."""
        from trendcast.forecasting import load_panel

        def compute() -> pd.DataFrame:
            with Warehouse(self.db) as wh:  # same process: shares the open database
                return load_panel(wh)

        return self.cached(("sales_panel",), compute)

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``fn`` with a cursor under the write lock, then invalidate caches."""
        with self.write_lock, self.cursor() as cur:
            try:
                return fn(cur)
            finally:
                self.changed()


def records_json(df: pd.DataFrame) -> str:
    """Rows as a JSON array with ISO dates (``YYYY-MM-DD`` for whole days) and null for NaN."""
    out = df.copy()
    for col in out.select_dtypes(include=["datetime", "datetimetz"]).columns:
        ts = out[col]
        whole_days = bool((ts.dropna() == ts.dropna().dt.normalize()).all())
        out[col] = ts.dt.strftime("%Y-%m-%d" if whole_days else "%Y-%m-%dT%H:%M:%S")
    for col in out.select_dtypes(include="object").columns:  # Python dates (e.g. aspect periods)
        values = out[col].dropna()
        if len(values) and values.map(lambda v: type(v) is dt.date).all():
            out[col] = out[col].map(lambda v: v.isoformat() if type(v) is dt.date else v)
    return out.to_json(orient="records", date_format="iso", double_precision=6, force_ascii=False)
