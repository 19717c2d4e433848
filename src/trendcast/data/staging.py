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

import csv
import gzip
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from trendcast.data.schema import Source
from trendcast.errors import InputError

PREFIX = "_tc_"  # every temporary object ingest creates starts with this, so cleanup is simple
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.zst", ".gz", ".zst")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_BUFFER = 8 * 1024 * 1024  # bytes per reader buffer: small enough for tight memory limits
SCAN_CHUNK = 16 * 1024 * 1024  # bytes per read when measuring line lengths
MAX_BUFFER = 256 * 1024 * 1024  # a row longer than this is refused outright
MAX_LINE = 2_000_000  # bytes per CSV row; a longer row is rejected (named by its row), not read
DELIMITERS = (",", ";", "\t", "|")
QUOTED = re.compile(r'"(?:[^"]|"")*"')
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # table names a user may give

REASONS = {  # DuckDB CSV reject types -> what the analyst should do
    "INVALID ENCODING": "wrong encoding: bytes that are not UTF-8 (save the file as UTF-8)",
    "INVALID UNICODE": "wrong encoding: bytes that are not UTF-8 (save the file as UTF-8)",
    "TOO MANY COLUMNS": "the row has more fields than the header",
    "MISSING COLUMNS": "the row has fewer fields than the header",
    "UNQUOTED VALUE": "a value has an unbalanced quote (a quote that opens a value must close it)",
    "LINE SIZE OVER MAXIMUM": f"the row is longer than {MAX_LINE / 1e6:g} MB (a field this big "
                              "is not shop data; check the quoting or split the text)",
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
    lines: bool = False  # sales given as order lines: summed per item, store and day on load
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
        # DuckDB 2 refuses register() while an earlier query's result is partly read (a
        # fetchone() of a previous source's checks): finish that result first.
        con.execute("SELECT 1").fetchall()
        con.register(f"{PREFIX}frame_{name}", spec)
        return f"{PREFIX}frame_{name}", [f"UNREGISTER:{PREFIX}frame_{name}"]
    if kind == "duckdb":
        path, sep, table = str(spec)[len("duckdb:"):].partition("::")
        if not sep or not table:
            raise InputError("write a DuckDB table as 'duckdb:PATH::table'", file=str(spec))
        if not IDENTIFIER.match(table):
            raise InputError(f"{table!r} is not a table name (letters, digits and _, not starting "
                             "with a digit)", file=str(spec))
        if not Path(path).exists():
            raise InputError("no such DuckDB file", file=path)
        alias = f"{PREFIX}src_{name}"
        con.execute(f"ATTACH {lit(path)} AS {alias} (READ_ONLY)")
        try:
            found = con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND table_name = ? "
                "UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = ? "
                "AND view_name = ?", [alias, table, alias, table]).fetchone()
        except duckdb.Error:
            found = None
        if found is None:
            run_cleanup(con, [f"DETACH {alias}"])
            raise InputError(f"no table {table!r} in the DuckDB file", file=path)
        return f'{alias}."{table}"', [f"DETACH {alias}"]
    path = Path(spec)
    if not path.exists():
        raise InputError("no such file", file=str(path))
    if path.stat().st_size == 0:
        raise InputError("the file is empty (expected a header row with column names)", file=str(path))
    if kind == "parquet":
        return f"read_parquet({lit(str(path))})", []
    rej = f"{PREFIX}rej_{name}"
    rejects = (f"store_rejects=true, rejects_table='{rej}', rejects_scan='{rej}_scan', "
               f"buffer_size={_buffer_for(path)}, max_line_size={MAX_LINE}")
    header = _csv_header(path)
    if header is None:  # a compression Python cannot open here (zstd): DuckDB sniffs the dialect
        sql = f"read_csv({lit(str(path))}, header=true, all_varchar=true, {rejects})"
    else:
        # The dialect is fixed, not sniffed: a sniffer that meets an unbalanced quote falls back
        # to "no quoting" and would store '"I005' as data; fixed, the row is rejected instead.
        names, delim = header
        columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names) + "}"
        sql = (f"read_csv({lit(str(path))}, header=true, auto_detect=false, columns={columns}, "
               f"delim={lit(delim)}, quote='\"', escape='\"', {rejects})")
    return sql, [f"DROP TABLE IF EXISTS {rej}", f"DROP TABLE IF EXISTS {rej}_scan"]


def _buffer_for(path: Path) -> int:
    """DuckDB's reader buffer for this file: larger than its longest line.

    DuckDB rejects a row longer than ``max_line_size`` with its row number, but a row longer
    than its *buffer* silently disappears. One vectorised pass over the bytes finds the longest
    line, so the buffer can hold it and the row is rejected and named instead.
    """
    low = path.name.lower()
    if low.endswith(".zst"):
        return CSV_BUFFER
    opener = gzip.open if low.endswith(".gz") else open
    longest = run = 0
    try:
        with opener(path, "rb") as fh:
            while chunk := fh.read(SCAN_CHUNK):
                nl = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
                if nl.size == 0:
                    run += len(chunk)
                    continue
                inner = int(np.diff(nl).max()) - 1 if nl.size > 1 else 0
                longest = max(longest, run + int(nl[0]), inner)
                run = len(chunk) - int(nl[-1]) - 1
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read it: {exc}", file=str(path)) from None
    longest = max(longest, run)
    if longest >= MAX_BUFFER:
        raise InputError(f"a row is {longest / 1e6:.0f} MB long: this is not a CSV of shop data "
                         "(check the line endings and quoting)", file=str(path))
    return max(CSV_BUFFER, 1 << (2 * longest + 1).bit_length())


def _csv_header(path: Path) -> tuple[list[str], str] | None:
    """Column names and delimiter from a CSV's first line (None for zstd files).

    The delimiter is the candidate the header uses most (tab for .tsv). Names repeated in the
    header get a ``_2``, ``_3`` suffix so every column can be addressed.
    """
    low = path.name.lower()
    if low.endswith(".zst"):
        return None
    opener = gzip.open if low.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            first = fh.readline(MAX_LINE + 1)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read it: {exc}", file=str(path)) from None
    if len(first) > MAX_LINE:
        raise InputError(f"the header row is longer than {MAX_LINE / 1e6:g} MB: is this a CSV "
                         "file?", file=str(path))
    text = first.decode("utf-8-sig", errors="replace").rstrip("\r\n")
    if not text.strip():
        raise InputError("the first line is empty (expected a header row with column names)",
                         file=str(path))
    bare = QUOTED.sub("", text)  # a delimiter inside a quoted name does not count
    delim = "\t" if ".tsv" in low else max(DELIMITERS, key=lambda d: (bare.count(d), d == ","))
    names = next(csv.reader(io.StringIO(text), delimiter=delim))
    seen: dict[str, int] = {}
    unique = []
    for raw in names:
        name = raw.strip() or "column"
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique, delim


def lit(text: str) -> str:
    """A SQL string literal (quotes doubled): how a path or name a user gave reaches SQL."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier: input column names reach SQL only this way."""
    return '"' + str(name).replace('"', '""') + '"'


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


def input_columns(con: duckdb.DuckDBPyConnection, spec: Any, source: Source) -> list[str]:
    """The column names of an input as written (a header read, nothing staged)."""
    relation, cleanup = _relation_sql(con, spec, source)
    try:
        return [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    except duckdb.Error as exc:
        raise InputError(f"cannot read it: {_first_line(exc)}", file=_label(spec)) from None
    finally:
        run_cleanup(con, cleanup)


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
        as_text = ", ".join(f'CAST({ident(found[c])} AS VARCHAR) AS "{c}"' for c in found)
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
