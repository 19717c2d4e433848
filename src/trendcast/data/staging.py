"""Read one input (CSV, Parquet, pandas frame or a DuckDB table) into a TEMP staging table.

Every input column is first read as text (VARCHAR), whatever the format, and converted by the
select list from :mod:`trendcast.data.validate` in the same pass, so checks live in one place.
DuckDB does the reading: it streams the file and spills to disk under its memory limit, so a
file larger than memory is fine.

Row numbers: with ``preserve_insertion_order`` (DuckDB's default) the staging table keeps the
file's row order, so ``rowid + 1`` is the 1-based data row as the user sees it (header not
counted). Rows the CSV reader itself cannot parse (bytes that are not UTF-8, a wrong number of
fields) are collected through DuckDB's ``store_rejects`` with their position, and the row
numbers of the staged rows are shifted past them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from trendcast.data.schema import Source
from trendcast.errors import InputError

PREFIX = "_tc_"  # every temporary object ingest creates starts with this, so cleanup is simple
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.zst", ".gz", ".zst")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_BUFFER = 8 * 1024 * 1024  # bytes per reader buffer: small enough for tight memory limits

REASONS = {  # DuckDB CSV reject types -> what the analyst should do
    "INVALID ENCODING": "wrong encoding: bytes that are not UTF-8 (save the file as UTF-8)",
    "INVALID UNICODE": "wrong encoding: bytes that are not UTF-8 (save the file as UTF-8)",
    "TOO MANY COLUMNS": "the row has more fields than the header",
    "MISSING COLUMNS": "the row has fewer fields than the header",
    "UNQUOTED VALUE": "a value has a stray quote character",
    "LINE SIZE OVER MAXIMUM": "the row is longer than the reader's maximum line size",
}


@dataclass
class Staged:
    """A source staged as text, plus what the reader already rejected."""

    source: Source
    label: str  # file path or a description, used in messages
    table: str  # TEMP table: one VARCHAR column per known input column, file order
    view: str  # TEMP view over ``table`` adding ``_rid`` (rowid) and ``_row`` (user's row number)
    columns: list[str]  # canonical input columns present
    ignored: list[str]  # columns in the input that the contract does not know
    n_rows: int  # rows staged (reader rejects excluded)
    reader_rejects: int = 0  # rows the reader could not parse (already in the rejects table)
    is_csv: bool = False
    cleanup: list[str] = field(default_factory=list)  # SQL to run when done


def _kind(spec: Any) -> str:
    if isinstance(spec, pd.DataFrame):
        return "frame"
    text = str(spec)
    if text.startswith("duckdb:"):
        return "duckdb"
    low = text.lower()
    if low.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if low.endswith(CSV_SUFFIXES):
        return "csv"
    raise InputError(
        "unknown input type: give a .csv/.tsv (optionally .gz/.zst), .parquet file, a pandas "
        "DataFrame or 'duckdb:PATH::table'",
        file=text,
    )


def _label(spec: Any) -> str:
    return "DataFrame" if isinstance(spec, pd.DataFrame) else str(spec)


def _relation_sql(con: duckdb.DuckDBPyConnection, spec: Any, source: Source) -> tuple[str, list[str]]:
    """SQL of a relation reading the input, and cleanup statements it needs."""
    kind = _kind(spec)
    name = source.name
    if kind == "frame":
        con.register(f"{PREFIX}frame_{name}", spec)
        return f"{PREFIX}frame_{name}", [f"UNREGISTER:{PREFIX}frame_{name}"]
    if kind == "duckdb":
        path, sep, table = str(spec)[len("duckdb:"):].partition("::")
        if not sep or not table:
            raise InputError("write a DuckDB table as 'duckdb:PATH::table'", file=str(spec))
        if not Path(path).exists():
            raise InputError("no such DuckDB file", file=path)
        alias = f"{PREFIX}src_{name}"
        con.execute(f"ATTACH '{_quote(path)}' AS {alias} (READ_ONLY)")
        return f'{alias}."{table}"', [f"DETACH {alias}"]
    path = Path(spec)
    if not path.exists():
        raise InputError("no such file", file=str(path))
    if path.stat().st_size == 0:
        raise InputError("the file is empty (expected a header row with column names)", file=str(path))
    if kind == "parquet":
        return f"read_parquet('{_quote(str(path))}')", []
    rej = f"{PREFIX}rej_{name}"
    sql = (
        f"read_csv('{_quote(str(path))}', header=true, all_varchar=true, buffer_size={CSV_BUFFER}, "
        f"store_rejects=true, rejects_table='{rej}', rejects_scan='{rej}_scan')"
    )
    return sql, [f"DROP TABLE IF EXISTS {rej}", f"DROP TABLE IF EXISTS {rej}_scan"]


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _match_columns(names: list[str], source: Source) -> tuple[dict[str, str], list[str]]:
    """Map input column names to the contract's (case and surrounding spaces ignored)."""
    wanted = {c.name.lower(): c.name for c in source.columns}
    found: dict[str, str] = {}
    ignored: list[str] = []
    for name in names:
        canon = wanted.get(name.strip().lower())
        if canon and canon not in found:
            found[canon] = name
        else:
            ignored.append(name)
    return found, ignored


def stage(con: duckdb.DuckDBPyConnection, spec: Any, source: Source,
          projection: Callable[[Source, list[str]], str]) -> Staged:
    """Stage ``spec`` for ``source``; raise InputError for a missing required column.

    ``projection(source, columns)`` is the select list applied to the input's columns as
    text (named as in the contract); see :func:`trendcast.data.validate.projection`.
    """
    label = _label(spec)
    kind = _kind(spec)
    relation, cleanup = _relation_sql(con, spec, source)
    try:
        try:
            names = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        except duckdb.Error as exc:
            raise InputError(f"cannot read it: {_first_line(exc)}", file=label) from None
        if source.name == "covariates":  # any other column is a covariate: widen the contract
            from trendcast.data.schema import covariates_source

            try:
                source = covariates_source(names)
            except InputError as exc:
                raise InputError(exc.reason, file=label, column=exc.column) from None
        found, ignored = _match_columns(names, source)
        for col in source.required:
            if col not in found:
                raise InputError(
                    f"missing column '{col}' (required: {', '.join(source.required)}; "
                    f"found: {', '.join(names)})",
                    file=label,
                    column=col,
                )
        table = f"{PREFIX}stg_{source.name}"
        as_text = ", ".join(f'CAST("{found[c]}" AS VARCHAR) AS "{c}"' for c in found)
        con.execute(f"DROP TABLE IF EXISTS {table}")
        try:
            con.execute(f"CREATE TEMP TABLE {table} AS SELECT {projection(source, list(found))} "
                        f"FROM (SELECT {as_text} FROM {relation})")
        except duckdb.Error as exc:
            raise InputError(f"cannot read it: {_first_line(exc)}", file=label) from None
        n_rows = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        staged = Staged(source, label, table, f"{PREFIX}v_{source.name}", list(found), ignored,
                        n_rows, is_csv=kind == "csv", cleanup=cleanup)
        staged.cleanup += [f"DROP VIEW IF EXISTS {staged.view}", f"DROP TABLE IF EXISTS {table}"]
        staged.reader_rejects = _row_view(con, staged, kind)
        return staged
    except BaseException:
        run_cleanup(con, cleanup)
        raise


def _row_view(con: duckdb.DuckDBPyConnection, staged: Staged, kind: str) -> int:
    """Create the view with ``_rid``/``_row``; return how many rows the CSV reader rejected."""
    rej = f"{PREFIX}rej_{staged.source.name}"
    n_rej = 0
    if kind == "csv":
        n_rej = int(con.execute(f"SELECT count(DISTINCT line) FROM {rej}").fetchone()[0])
    if n_rej == 0:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {staged.view} AS "
                    f"SELECT rowid AS _rid, rowid + 1 AS _row, * FROM {staged.table}")
        return 0
    # The reader skipped some rows: the j-th staged row is data row j + #(skipped rows before it).
    # A skipped data row b_i (sorted, i = 1..k) has g_i = b_i - i good rows before it; the j-th
    # good row comes after b_i exactly when g_i < j.
    gaps = f"{PREFIX}gaps_{staged.source.name}"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {gaps} AS
        SELECT g, max(i) AS i FROM (
            SELECT b - row_number() OVER (ORDER BY b) AS g, row_number() OVER (ORDER BY b) AS i
            FROM (SELECT DISTINCT line - 1 AS b FROM {rej})) GROUP BY g""")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {staged.view} AS
        SELECT s.rowid AS _rid, s.rowid + 1 + coalesce(gp.i, 0) AS _row, s.*
        FROM {staged.table} s ASOF LEFT JOIN {gaps} gp ON s.rowid + 1 > gp.g""")
    staged.cleanup.insert(0, f"DROP TABLE IF EXISTS {gaps}")
    return n_rej


def reader_rejects_sql(staged: Staged) -> str | None:
    """SELECT of (row, column, reason, raw) for rows the CSV reader could not parse."""
    if not staged.reader_rejects:
        return None
    rej = f"{PREFIX}rej_{staged.source.name}"
    cases = " ".join(f"WHEN '{k}' THEN '{v.replace(chr(39), chr(39) * 2)}'"
                     for k, v in REASONS.items())
    return f"""SELECT line - 1 AS row, coalesce(column_name, '') AS "column",
        CASE error_type {cases} ELSE error_message END AS reason, csv_line AS raw
        FROM (SELECT *, row_number() OVER (PARTITION BY line ORDER BY column_idx) AS k FROM {rej})
        WHERE k = 1"""


def run_cleanup(con: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
    """Drop temporary objects; never raises (cleanup must not hide the real error)."""
    for stmt in statements:
        try:
            if stmt.startswith("UNREGISTER:"):
                con.unregister(stmt.split(":", 1)[1])
            else:
                con.execute(stmt)
        except duckdb.Error:
            pass


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
