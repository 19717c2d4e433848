"""The embedded DuckDB warehouse: table layout and the reads every later stage needs.

Writes happen in :mod:`trendcast.data.ingest` (validated, one transaction per file). Later
stages read through :class:`Warehouse` so SQL stays in one place.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from trendcast.data.schema import COVARIATES_DDL, DUCK_TYPES, NO_STORE, SOURCES, Source
from trendcast.errors import NotReadyError

SERIES_SEP = "/"  # unique_id = store_id + SERIES_SEP + item_id when the shop has stores


def _ddl(source: Source) -> str:
    cols: list[str] = []
    for col in source.columns:
        name = source.stored_as.get(col.name, col.name)
        not_null = " NOT NULL" if (col.required or name in source.keys) else ""
        cols.append(f'"{name}" {DUCK_TYPES[col.type]}{not_null}')
    if source.name == "texts":
        cols.insert(0, '"text_id" VARCHAR NOT NULL')
    if "store_id" in source.keys:  # optional store: stored as NO_STORE, never NULL, so it can be a key
        cols = [c.replace('"store_id" VARCHAR', f"\"store_id\" VARCHAR NOT NULL DEFAULT '{NO_STORE}'") for c in cols]
    keys = ", ".join(f'"{k}"' for k in source.keys)
    return f"CREATE TABLE IF NOT EXISTS {source.table} ({', '.join(cols)}, PRIMARY KEY ({keys}))"


class Warehouse:
    """A DuckDB file holding every source plus derived tables (signals, forecasts, ...).

    ``Warehouse(path)`` creates the file and tables on first use. Use as a context manager
    or call :meth:`close`.
    """

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise NotReadyError(f"No warehouse at {self.path}: run `trendcast ingest` first.")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.ConnectionException:
            if not read_only:
                raise
            # This process already has the file open read-write (e.g. `trendcast serve` running a
            # stage as a job): DuckDB refuses a second, read-only configuration, so share that one.
            self.con = duckdb.connect(str(self.path))
        if not read_only:
            self._create()

    # -- lifecycle -------------------------------------------------------------------------
    def _create(self) -> None:
        self.con.execute("CREATE TABLE IF NOT EXISTS config (key VARCHAR PRIMARY KEY, value VARCHAR)")
        for source in SOURCES.values():
            self.con.execute(COVARIATES_DDL if source.name == "covariates" else _ddl(source))

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: on any exception the warehouse is left exactly as before."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- config ----------------------------------------------------------------------------
    def get_config(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM config WHERE key = ?", [key]).fetchone()
        return None if row is None else row[0]

    def set_config(self, key: str, value: str) -> None:
        self.con.execute(
            "INSERT INTO config VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def pseudonym_key(self) -> bytes:
        """The secret key for hashing user ids; created on first use and kept in config."""
        key = self.get_config("pseudonym_key")
        if key is None:
            key = secrets.token_hex(32)
            self.set_config("pseudonym_key", key)
        return bytes.fromhex(key)

    # -- reads -----------------------------------------------------------------------------
    def table(self, name: str) -> pd.DataFrame:
        return self.con.execute(f"SELECT * FROM {name}").df()

    def has_table(self, name: str) -> bool:
        q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
        return bool(self.con.execute(q, [name]).fetchone()[0])

    def count(self, name: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {name}").fetchone()[0])

    def has_stores(self) -> bool:
        q = f"SELECT count(*) FROM sales WHERE store_id <> '{NO_STORE}'"
        return bool(self.con.execute(q).fetchone()[0])

    def sales_panel(self) -> pd.DataFrame:
        """Daily long frame ``unique_id, ds, y, item_id, store_id, category, price, promo``.

        Days with no sales row inside a series' life (first sale .. last date in the
        warehouse) are filled with ``y = 0, promo = 0`` and the last known price, because a
        missing row in an order log means nothing was sold.
        """
        if self.count("sales") == 0:
            raise NotReadyError("The warehouse has no sales yet: run `trendcast ingest --sales FILE`.")
        sep = SERIES_SEP
        sql = f"""
        WITH bounds AS (
            SELECT store_id, item_id, min(date) AS first_day FROM sales GROUP BY ALL
        ), last AS (SELECT max(date) AS last_day FROM sales),
        grid AS (
            SELECT b.store_id, b.item_id, CAST(d.ds AS DATE) AS ds
            FROM bounds b, last,
                 LATERAL (SELECT unnest(generate_series(b.first_day, last.last_day, INTERVAL 1 DAY)) AS ds) d
        )
        SELECT CASE WHEN g.store_id = '{NO_STORE}' THEN g.item_id
                    ELSE g.store_id || '{sep}' || g.item_id END AS unique_id,
               g.ds, coalesce(s.units, 0.0) AS y, g.item_id, g.store_id,
               coalesce(p.category, 'unknown') AS category,
               s.price, coalesce(s.promo, 0) AS promo
        FROM grid g LEFT JOIN sales s
          ON s.store_id = g.store_id AND s.item_id = g.item_id AND s.date = g.ds
        LEFT JOIN products p ON p.item_id = g.item_id
        ORDER BY unique_id, ds
        """
        df = self.con.execute(sql).df()
        df["ds"] = pd.to_datetime(df["ds"]).astype("datetime64[ns]")
        df["price"] = df.groupby("unique_id")["price"].transform(lambda s: s.ffill().bfill())
        df["promo"] = df["promo"].astype("int8")
        return df
