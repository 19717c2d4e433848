"""Check staged text against the input contract, in SQL, and say which row is wrong and why.

Each column type gives two SQL expressions over the staged text: a *typed* value (NULL when the
text cannot be read as that type) and a *problem* (a reason string, or NULL when the value is
fine). All problems of a file are found in one scan of the staging table; rows sharing a key
are found with a hash aggregate that only looks closer when a hash repeats.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from trendcast.data.schema import NO_STORE, Column, Source
from trendcast.data.staging import PREFIX, Staged
from trendcast.errors import ConfigError, InputError

# Accepted spellings of behaviour events (case-insensitive) -> stored value.
EVENT_ALIASES = {  # what shop trackers call the three events (GA, Taobao's pv/buy, RetailRocket...)
    **dict.fromkeys(("view", "pv", "pageview", "page_view", "view_item", "product_view", "detail"), "view"),
    **dict.fromkeys(("cart", "addtocart", "add_to_cart", "add-to-cart", "add", "basket", "add_to_basket",
                     "addtobasket"), "cart"),
    **dict.fromkeys(("purchase", "transaction", "buy", "order", "purchased", "sale"), "purchase"),
}


@dataclass(frozen=True)
class DateWindow:
    """The dates a shop's data can plausibly hold; anything outside is a typo or an attack.

    A year like 9999 or 0001 would make every later stage build a daily grid across millennia.
    """

    first: date
    last: date

    def __str__(self) -> str:
        return f"{self.first.isoformat()} .. {self.last.isoformat()}"


DEFAULT_FIRST = date(1990, 1, 1)
WINDOW_ENV = ("TRENDCAST_DATE_MIN", "TRENDCAST_DATE_MAX")


def date_window(first: str | date | None = None, last: str | date | None = None) -> DateWindow:
    """The plausible-date window: arguments, else ``TRENDCAST_DATE_MIN``/``_MAX``, else
    1990-01-01 .. one year after today."""
    today = date.today()
    bounds = []
    for value, env, default in ((first, WINDOW_ENV[0], DEFAULT_FIRST),
                                (last, WINDOW_ENV[1], today + timedelta(days=366))):
        value = value if value is not None else os.environ.get(env) or default
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise ConfigError(f"{env} / the date window must be YYYY-MM-DD, not {value!r}") from None
        bounds.append(value)
    if bounds[0] >= bounds[1]:
        raise ConfigError(f"the date window is empty: {bounds[0]} is not before {bounds[1]}")
    return DateWindow(bounds[0], bounds[1])


def window_hint(window: DateWindow) -> str:
    return (f"outside the plausible window {window} (set {WINDOW_ENV[0]} / {WINDOW_ENV[1]} "
            "if your data really goes there)")


def check_date_window(dates: Sequence | pd.Series, file: str | None, column: str,
                      window: DateWindow | None = None) -> None:
    """Raise InputError naming file, row (1-based) and column for the first implausible date.

    Used wherever dates come in outside the ingest SQL (a future plan, a frame).
    """
    window = window or date_window()
    ts = pd.to_datetime(pd.Series(list(dates) if not isinstance(dates, pd.Series) else dates),
                        errors="coerce")
    lo, hi = pd.Timestamp(window.first), pd.Timestamp(window.last) + pd.Timedelta(days=1)
    # out-of-bounds years (0001, 9999 with a time part) do not fit datetime64: coerce made them NaT
    raw = pd.Series(list(dates) if not isinstance(dates, pd.Series) else dates).reset_index(drop=True)
    ts = ts.reset_index(drop=True)
    bad = ((ts < lo) | (ts >= hi)) | (ts.isna() & raw.notna() & (raw.astype(str).str.strip() != ""))
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise InputError(f"date {str(raw.iloc[i])!r} is {window_hint(window)}", file=file,
                         row=i + 1, column=column)


def clean(col: str) -> str:
    """Text without surrounding spaces, NULL when empty (an empty cell means 'no value').

    Trimming is guarded by a cheap LIKE so that the common, already clean value costs little.
    """
    c = f'"{col}"'
    return (f"CASE WHEN {c} LIKE ' %' OR {c} LIKE '% ' THEN nullif(trim({c}), '') "
            f"ELSE nullif({c}, '') END")


def blank(col: str) -> str:
    """TRUE when the cell is empty or only spaces."""
    return f"(\"{col}\" IS NULL OR trim(\"{col}\") = '')"


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def typed(column: Column, source: Source) -> str:
    """SQL for the value as stored (NULL when empty or when the text does not parse).

    DuckDB's casts accept surrounding spaces, so numbers and dates are cast from the raw text.
    """
    c = f'"{column.name}"'
    if column.type == "float":
        return f"TRY_CAST({c} AS DOUBLE)"
    if column.type == "number":  # NA/NaN/null/empty = no value; TRUE/FALSE = 1/0; inf is not a value
        v = f"lower(trim({c}))"
        return (f"CASE WHEN {v} IN ('', 'na', 'n/a', 'nan', 'null', 'none') THEN NULL "
                f"WHEN {v} = 'true' THEN 1.0 WHEN {v} = 'false' THEN 0.0 "
                f"WHEN isfinite(TRY_CAST({c} AS DOUBLE)) THEN TRY_CAST({c} AS DOUBLE) END")
    if column.type == "date":
        return f"TRY_CAST({c} AS DATE)"
    if column.type == "timestamp":  # ISO 8601, or Unix time in seconds or milliseconds (trackers' exports)
        digits = f"CASE WHEN regexp_full_match(trim({c}), '[0-9]{{9,13}}') THEN CAST(trim({c}) AS BIGINT) END"
        return (f"coalesce(TRY_CAST({c} AS TIMESTAMP), CASE WHEN {digits} < 1e11 THEN make_timestamp({digits} * 1000000) "
                f"WHEN {digits} IS NOT NULL THEN make_timestamp({digits} * 1000) END)")
    if column.type == "flag":
        v = f"lower(trim({c}))"
        return (f"CAST(CASE {c} WHEN '0' THEN 0 WHEN '1' THEN 1 ELSE CASE "
                f"WHEN {v} IN ('true', 'false') THEN ({v} = 'true')::INT "
                f"WHEN TRY_CAST({c} AS DOUBLE) IN (0, 1) THEN TRY_CAST({c} AS DOUBLE) END "
                "END AS TINYINT)")
    if column.choices:
        mapping = {k: v2 for k, v2 in EVENT_ALIASES.items() if v2 in column.choices}
        mapping.update({ch: ch for ch in column.choices})
        cases = " ".join(f"WHEN {lit(k)} THEN {lit(val)}" for k, val in mapping.items())
        exact = ", ".join(lit(ch) for ch in column.choices)
        return f"CASE WHEN {c} IN ({exact}) THEN {c} ELSE CASE lower(trim({c})) {cases} END END"
    if column.name == "store_id" and "store_id" in source.keys:
        return f"coalesce({clean(column.name)}, {lit(NO_STORE)})"
    return clean(column.name)


def checks(column: Column, source: Source, window: DateWindow | None = None) -> list[tuple[str, str]]:
    """(condition TRUE when the value is bad, SQL of the reason) for one column.

    Conditions lead with the cheap test, so the costly part (trim, lower) runs only for the
    few rows that fail it.
    """
    c, name = f'"{column.name}"', column.name
    raw = "'''' || coalesce(" + c + ", '') || ''''"
    t = typed(column, source)
    out: list[tuple[str, str]] = []
    if column.required:
        out.append((f"({c} IS NULL OR {c} = '' OR ({c} LIKE ' %' AND trim({c}) = ''))",
                    lit(f"empty value: {name} is required")))
    if column.type == "float":
        ok = f"{t} > '-inf'::DOUBLE AND {t} < 'inf'::DOUBLE"
        out.append((f"NOT coalesce({ok}, {blank(name)})", f"'not a number: ' || {raw}"))
        if column.non_negative:
            out.append((f"{t} < 0", f"'negative value ' || {raw} || ', {name} must be >= 0'"))
    elif column.type == "number":
        missing = f"lower(trim({c})) IN ('', 'na', 'n/a', 'nan', 'null', 'none')"
        out.append((f"{t} IS NULL AND NOT {blank(name)} AND NOT {missing}",
                    f"'not a number: ' || {raw} || ' (use a number, TRUE/FALSE, or leave it empty)'"))
    elif column.type in ("date", "timestamp", "flag") or column.choices:
        fast = f"{c} NOT IN ('0', '1') AND " if column.type == "flag" else ""
        reason = {
            "date": f"'unparseable date ' || {raw} || ' (expected YYYY-MM-DD)'",
            "timestamp": f"'unparseable timestamp ' || {raw} || ' (expected e.g. 2024-05-01T13:45:00 or Unix seconds)'",
            "flag": f"'{name} must be 0 or 1, got ' || {raw}",
        }.get(column.type, f"'bad {name} value ' || {raw} || ', expected one of: "
                           f"{', '.join(column.choices)}'")
        out.append((f"{fast}{t} IS NULL AND NOT {blank(name)}", reason))
        if column.type in ("date", "timestamp"):
            w = window or date_window()
            hi = f"DATE '{(w.last + timedelta(days=1)).isoformat()}'"
            out.append((f"({t} < DATE '{w.first.isoformat()}' OR {t} >= {hi})",
                        f"'date ' || {raw} || ' is ' || {lit(window_hint(w))}"))
    return out


def projection(source: Source, columns: list[str], window: DateWindow | None = None) -> str:
    """Select list that stages a source: typed values, plus ``_raw`` for rows with a problem.

    Evaluated once, while DuckDB reads the input: each column becomes its stored type, and a
    row with any bad value keeps its original text as JSON in ``_raw`` (NULL for good rows,
    which costs nothing), so checking later only has to look at ``_raw IS NOT NULL``.
    """
    cols = [source.column(c) for c in columns]
    conds = [cond for c in cols for cond, _ in checks(c, source, window)]
    raw = "to_json(struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in columns) + "))::VARCHAR"
    typed_cols = [f'{typed(c, source)} AS "{c.name}"' for c in cols]
    return ", ".join([*typed_cols, f"CASE WHEN {' OR '.join(conds)} THEN {raw} END AS _raw"])


def find_problems(con: duckdb.DuckDBPyConnection, staged: Staged,
                  window: DateWindow | None = None) -> str:
    """Materialise every value problem of a staged source; return the TEMP table's name.

    Columns: ``_rid, row, column, reason, raw`` (one line per bad value). Only rows whose
    ``_raw`` is set are looked at; their reasons come from the same checks on the raw text.
    """
    source = staged.source
    table = f"{PREFIX}bad_{source.name}"
    probs = [(c, checks(source.column(c), source, window)) for c in staged.columns]
    probs = [(n, ch) for n, ch in probs if ch]

    def reason(chs: list[tuple[str, str]]) -> str:
        return "CASE " + " ".join(f"WHEN {cond} THEN {why}" for cond, why in chs) + " END"

    items = ", ".join(f"{{'column': {lit(n)}, 'reason': {reason(ch)}}}" for n, ch in probs)
    raw_cols = ", ".join(f"json_extract_string(_raw, {lit('$.' + c)}) AS \"{c}\""
                         for c in staged.columns)
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(f"""CREATE TEMP TABLE {table} AS
        SELECT _rid, _row AS "row", p."column" AS "column", p.reason AS reason, raw FROM (
            SELECT _rid, _row, raw,
                   unnest(list_filter([{items}], lambda x: x.reason IS NOT NULL)) AS p
            FROM (SELECT _rid, _row, _raw AS raw, {raw_cols}
                  FROM {staged.view} WHERE _raw IS NOT NULL))""")
    staged.cleanup.append(f"DROP TABLE IF EXISTS {table}")
    return table


def key_columns(staged: Staged) -> list[str]:
    """Staged (typed) columns that make a row unique in this source."""
    source = staged.source
    out = []
    for key in source.keys:
        name = next((k for k, v in source.stored_as.items() if v == key), key)
        if name in staged.columns:  # an absent store_id is the same constant on every row
            out.append(f'"{name}"')
    return out


def find_duplicates(
    con: duckdb.DuckDBPyConnection, staged: Staged, bad_table: str, has_bad: bool
) -> str:
    """Add rows repeating an earlier row's key to ``bad_table``; the first occurrence stays good."""
    keys = key_columns(staged)
    if not keys:
        return bad_table
    exprs = ", ".join(keys)
    good = f"WHERE _rid NOT IN (SELECT _rid FROM {bad_table})" if has_bad else ""
    hashes = f"{PREFIX}dup_{staged.source.name}"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {hashes} AS
        SELECT h FROM (SELECT hash({exprs}) AS h FROM {staged.view} {good})
        GROUP BY h HAVING count(*) > 1""")
    staged.cleanup.append(f"DROP TABLE IF EXISTS {hashes}")
    if not con.execute(f"SELECT count(*) FROM {hashes}").fetchone()[0]:
        return bad_table
    names = ", ".join(k.strip('"') for k in keys)
    hint = (" (if the rows are order lines, load them with --orders, orders=True in Python, to sum "
            "them per day)") if staged.source.name == "sales" else ""
    typed_json = ("to_json(struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in staged.columns)
                  + "))::VARCHAR")
    where = f"hash({exprs}) IN (SELECT h FROM {hashes})" + (
        f" AND _rid NOT IN (SELECT _rid FROM {bad_table})" if has_bad else "")
    con.execute(f"""INSERT INTO {bad_table}
        SELECT _rid, _row, {lit(names.split(", ")[0])}, 'duplicate key: same ({names}) as row ' || first_row || {lit(hint)},
               raw FROM (
            SELECT _rid, _row, {typed_json} AS raw,
                   min(_row) OVER (PARTITION BY {exprs}) AS first_row
            FROM {staged.view} WHERE {where})
        WHERE _row > first_row""")
    return bad_table
