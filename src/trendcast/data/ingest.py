"""Validated, idempotent loading of shop data into the DuckDB warehouse.

``ingest(db, sales=..., products=..., events=..., texts=..., inventory=...)`` reads each input
(CSV/TSV, optionally gzip or zstd compressed, Parquet, a pandas DataFrame or
``duckdb:PATH::table``), checks every value against :mod:`trendcast.data.schema` and upserts on
the source's key, so loading the same rows twice changes nothing.

Errors: with ``on_error="raise"`` (default) one bad row rejects the whole call — an
:class:`InputError` names file, row (1-based data row, header not counted), column and reason —
and the warehouse is left exactly as it was: all sources of one call are written in ONE
transaction, after every source has passed its checks. With ``on_error="skip"`` the good rows
are loaded and every problem goes to a rejects CSV (source, file, row, column, reason, raw).

How it stays fast and bounded in memory: DuckDB reads the input into a TEMP staging table as
text (streaming, spilling to disk), the checks are SQL over that table, and the load is an
``INSERT ... ON CONFLICT DO UPDATE`` from it in row-range chunks (which drive the progress
bar). Shopper ids are replaced by keyed hashes in SQL (:mod:`trendcast.data.privacy`); staging
tables are TEMP and dropped, so clear ids never reach the warehouse file.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
from rich.progress import Progress, TaskID

from trendcast.data.periods import check_freq, coarser_or_same, describe
from trendcast.data.privacy import token_sql
from trendcast.data.schema import NO_STORE, SALES_LINES, SOURCES, Source
from trendcast.data.staging import (
    PREFIX,
    Staged,
    input_columns,
    reader_rejects_sql,
    run_cleanup,
    stage,
)
from trendcast.data.validate import (
    DateWindow,
    date_window,
    find_duplicates,
    find_problems,
    lit,
    projection,
)
from trendcast.data.warehouse import UNKNOWN_CATEGORY, Warehouse
from trendcast.errors import ConfigError, InputError

ORDER = ("products", "sales", "inventory", "events", "texts", "covariates")  # load order within a call
CHUNK_ROWS = 1_000_000  # rows per INSERT statement: bounds each step and paces the progress bar
TEXT_ID_HEX = 32
ROW_NOTE = "(rows count data rows from 1, header not counted)"
ORDER_ID = "order_id"  # a sales column that marks the rows as order lines (summed per day)


@dataclass
class SourceReport:
    """What happened to one source."""

    source: str
    file: str
    rows: int = 0  # data rows in the input
    inserted: int = 0  # new keys
    updated: int = 0  # existing keys whose values changed
    unchanged: int = 0  # existing keys, same values
    rejected: int = 0  # rows not loaded (skip mode)
    summed_into: int | None = None  # sales given as order lines: the item-store-day rows they made
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class IngestReport:
    """Rows loaded/updated/rejected per source, and where rejected rows were written."""

    db: str
    sources: dict[str, SourceReport]
    rejects: str | None = None
    freq: str | None = None  # the warehouse's frequency after this load (when sales were given)
    uncatalogued: list[str] = field(default_factory=list)  # sold items the products table lacks

    def summary(self) -> dict[str, str]:
        """Human-readable lines, label -> value."""
        lines = {"warehouse": self.db}
        for name, rep in self.sources.items():
            summed = (f" summed into {rep.summed_into:,} item-store-day rows"
                      if rep.summed_into is not None else "")
            lines[name] = (f"{rep.rows:,} rows{summed}: {rep.inserted:,} new, {rep.updated:,} updated, "
                           f"{rep.unchanged:,} unchanged, {rep.rejected:,} rejected")
        if self.rejects:
            lines["rejects"] = self.rejects
        if self.freq:
            lines["frequency"] = f"{describe(self.freq)} ({self.freq})"
        if self.uncatalogued:
            shown = ", ".join(self.uncatalogued[:5]) + (", ..." if len(self.uncatalogued) > 5 else "")
            lines["not in the catalogue"] = (f"{len(self.uncatalogued):,} sold item(s) ({shown}): forecast under "
                                             f"category '{UNKNOWN_CATEGORY}'; add them to the products file")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"db": self.db, "rejects": self.rejects, "freq": self.freq, "uncatalogued": self.uncatalogued,
                "sources": {k: asdict(v) for k, v in self.sources.items()}}


def text_id(date: str, text: str, item_id: str | None = None, source: str | None = None,
            occurrence: int = 1) -> str:
    """Stable id of a text: sha256 of ``date|item_id|source|text`` (first 32 hex characters).

    Identical texts on the same day for the same item and source (two shoppers writing "great
    quality") are distinct texts: the k-th repeat in a file (k >= 2) hashes
    ``date|item_id|source|text|k``. Values are trimmed; ``date`` is ``YYYY-MM-DD``.
    """
    base = "|".join([date.strip(), (item_id or "").strip(), (source or "").strip(), text.strip()])
    if occurrence > 1:
        base += f"|{occurrence}"
    return hashlib.sha256(base.encode("utf-8")).hexdigest()[:TEXT_ID_HEX]


def ingest(
    db: str | Path | Warehouse,
    sales: Any = None,
    products: Any = None,
    events: Any = None,
    texts: Any = None,
    inventory: Any = None,
    covariates: Any = None,
    *,
    on_error: str = "raise",
    rejects: str | Path | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    freq: str | None = None,
    window: DateWindow | None = None,
    orders: bool | None = None,
) -> IngestReport:
    """Load the given sources into the warehouse ``db``, all-or-nothing for the call.

    Each source is a file path (.csv/.tsv[.gz|.zst], .parquet), a pandas DataFrame or
    ``"duckdb:PATH::table"``. ``on_error``: ``"raise"`` rejects the call at the first bad row;
    ``"skip"`` loads the good rows and writes problems to ``rejects`` (default: next to the
    warehouse, ``<db>.rejects.csv``). ``progress``: a Rich Progress to draw on (the CLI's).
    ``freq``: the frequency to forecast at (``D``, ``W-MON``..``W-SUN``, ``MS``, ``ME``) instead
    of the one detected from the sales dates; a coarser one sums the sales into its periods.
    ``window``: plausible dates (default :func:`~trendcast.data.validate.date_window`); a date
    outside it is a bad value like any other. ``orders``: the sales rows are order lines (many
    per item, store and day; a return is a negative line), summed per day: units (at least 0)
    and revenue added, price weighted by the units sold, promo when any line had one. ``None`` (default) does so when the sales have an ``order_id``
    column; otherwise a repeated (store, item, day) is an error. A reload replaces a day's
    totals, so give all of a day's lines in one file.
    """
    if on_error not in ("raise", "skip"):
        raise ConfigError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    given = {"sales": sales, "products": products, "events": events, "texts": texts,
             "inventory": inventory, "covariates": covariates}
    specs = {name: given[name] for name in ORDER if given[name] is not None}
    if freq is not None:
        freq = check_freq(freq)
    if not specs:
        raise InputError("nothing to ingest: give at least one of sales, products, events, "
                         "texts, inventory, covariates")
    window = window or date_window()
    wh = db if isinstance(db, Warehouse) else Warehouse(db)
    staged: dict[str, tuple[Staged, str]] = {}
    reports: dict[str, SourceReport] = {}
    tasks: dict[str, TaskID] = {}
    deferred: list[str] = []
    try:
        con = wh.con
        for name, spec in specs.items():
            t0 = time.perf_counter()
            if progress is not None:
                tasks[name] = progress.add_task(f"{name}: reading", total=None)
            source = SOURCES[name]
            lines = name == "sales" and (orders if orders is not None else ORDER_ID in {
                c.strip().lower() for c in input_columns(con, spec, source)})
            st = stage(con, spec, SALES_LINES if lines else source, partial(projection, window=window))
            st.lines = lines
            staged[name] = (st, "")
            if progress is not None:
                progress.update(tasks[name], description=f"{name}: checking")
            # Into an empty table, raise mode leaves in-file duplicate keys to the primary key
            # (the load fails on them and they are located then): one pass less on big loads.
            defer = (on_error == "raise" and name != "covariates"  # covariates load long, not by key
                     and _count(con, st.source.table) == 0 and not st.lines)
            if defer:
                deferred.append(name)
            bad = _check(con, st, on_error, check_dups=not defer and not st.lines, window=window)
            staged[name] = (st, bad)
            n_bad = _bad_rows(con, bad)
            reports[name] = SourceReport(
                name, st.label, rows=st.n_rows + st.reader_rejects,
                rejected=n_bad + st.reader_rejects,
                ignored_columns=[c for c in st.ignored if not (st.lines and c.strip().lower() == ORDER_ID)],
                seconds=time.perf_counter() - t0)
            if progress is not None:
                progress.update(tasks[name], description=f"{name}: waiting",
                                total=st.n_rows - n_bad, completed=0)
        rejects_path = None
        if on_error == "skip":
            rejects_path = Path(rejects) if rejects else wh.path.with_name(
                wh.path.name + ".rejects.csv")
            _write_rejects(con, [s for s, _ in staged.values()],
                           {k: b for k, (_, b) in staged.items()}, rejects_path)
        try:
            with wh.transaction():
                key = wh.pseudonym_key() if "events" in staged else b""
                for name, (st, bad) in staged.items():
                    t0 = time.perf_counter()
                    task = tasks.get(name)
                    if progress is not None and task is not None:
                        progress.update(task, description=f"{name}: loading")
                    _load(con, st, bad, reports[name], key, chunk_rows, progress, task)
                    reports[name].seconds += time.perf_counter() - t0
                if "sales" in staged or freq is not None:
                    freq = set_frequency(wh, freq)
        except duckdb.ConstraintException:
            for name in deferred:  # rolled back; find which file repeats a key and where
                st, bad = staged[name]
                find_duplicates(con, st, bad, has_bad=False)
                if _bad_rows(con, bad):
                    _raise_first(con, st, bad)
            raise
        missing = [r[0] for r in wh.con.execute(
            "SELECT DISTINCT item_id FROM sales WHERE item_id NOT IN (SELECT item_id FROM products) ORDER BY 1"
        ).fetchall()] if ("sales" in staged or "products" in staged) else []
        return IngestReport(str(wh.path), reports, str(rejects_path) if rejects_path else None, freq, missing)
    finally:
        for st, _ in staged.values():
            run_cleanup(wh.con, st.cleanup)
        if not isinstance(db, Warehouse):
            wh.close()


def set_frequency(wh: Warehouse, chosen: str | None = None) -> str:
    """Detect the sales dates' frequency and store it (config ``freq`` and ``data_freq``).

    ``chosen`` (``--freq``) overrides the detected one when it is the same or coarser (the sales
    are then summed into its periods), and is kept by later loads that do not choose again.
    """
    if chosen is None and wh.get_config("freq_chosen"):
        chosen = wh.get_config("freq")
    if chosen is None:
        data = wh.detect_frequency()  # irregular dates raise here, naming a series
        wh.set_config("freq", data)
        wh.set_config("data_freq", data)
        return data
    try:
        data = wh.detect_frequency()
    except InputError:  # mixed dates are fine when a frequency was chosen: they are summed
        data = "D"
    if not coarser_or_same(chosen, data):
        raise ConfigError(
            f"--freq {chosen} is finer than the sales, which are {describe(data)} ({data}): "
            f"sales cannot be split into smaller periods. Use --freq {data} or a coarser one."
        )
    wh.set_config("freq", chosen)
    wh.set_config("data_freq", data)
    wh.set_config("freq_chosen", "1")
    return chosen


# -- checking ----------------------------------------------------------------------------------
def _check(con: duckdb.DuckDBPyConnection, st: Staged, on_error: str, check_dups: bool,
           window: DateWindow | None = None) -> str:
    """Find problems; in raise mode raise the first one, else return the problems table."""
    bad = find_problems(con, st, window)
    has_bad = _bad_rows(con, bad) > 0
    if on_error == "raise" and (has_bad or st.reader_rejects):
        _raise_first(con, st, bad)
    if check_dups:
        find_duplicates(con, st, bad, has_bad)
    if on_error == "raise" and _bad_rows(con, bad):
        _raise_first(con, st, bad)
    return bad


def _bad_rows(con: duckdb.DuckDBPyConnection, bad: str) -> int:
    return int(con.execute(f"SELECT count(DISTINCT _rid) FROM {bad}").fetchone()[0])


def _problems_sql(st: Staged, bad: str) -> str:
    parts = [f'SELECT "row", "column", reason, raw FROM {bad}']
    reader = reader_rejects_sql(st)
    if reader:
        parts.append(reader)
    return " UNION ALL ".join(parts)


def _raise_first(con: duckdb.DuckDBPyConnection, st: Staged, bad: str) -> None:
    sql = _problems_sql(st, bad)
    row, column, reason = con.execute(
        f'SELECT "row", "column", reason FROM ({sql}) ORDER BY "row", "column" LIMIT 1').fetchone()
    n_rows = con.execute(f'SELECT count(DISTINCT "row") FROM ({sql})').fetchone()[0]
    more = (f"; {n_rows - 1:,} more rows have problems (--on-error skip loads the good rows "
            "and lists the rest)") if n_rows > 1 else ""
    note = ROW_NOTE if st.is_csv else "(rows count from 1 in the input's order)"
    raise InputError(f"{reason}{more} {note}", file=st.label, row=int(row),
                     column=column or None)


def _raw_for(st: Staged) -> str:
    """Raw values go to the rejects file, except for events: they would copy clear user ids."""
    return "'(not copied: may hold user ids; see the row in the file)'" if "user_id" in {
        c.name for c in st.source.columns} else "raw"


def _write_rejects(con: duckdb.DuckDBPyConnection, stageds: list[Staged], bads: dict[str, str],
                   path: Path) -> None:
    """One CSV for the call: source, file, row, column, reason, raw (JSON or the CSV line)."""
    parts = [f'SELECT {lit(st.source.name)} AS source, {lit(st.label)} AS file, "row", '
             f'"column", reason, {_raw_for(st)} AS raw FROM ({_problems_sql(st, bads[st.source.name])})'
             for st in stageds]
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT * FROM ({' UNION ALL '.join(parts)}) ORDER BY source, \"row\") "
                f"TO '{str(path).replace(chr(39), chr(39) * 2)}' (HEADER, DELIMITER ',')")


# -- loading -----------------------------------------------------------------------------------
def _select_list(st: Staged, key: bytes) -> tuple[list[str], list[str]]:
    """Stored column names and the SQL producing each from the staging row."""
    source: Source = st.source
    names, exprs = [], []
    for col in st.columns:
        stored = source.stored_as.get(col, col)
        expr = token_sql(f'"{col}"', key) if col == "user_id" else f'"{col}"'
        names.append(stored)
        exprs.append(expr)
    if "store_id" in source.keys and "store_id" not in st.columns:
        names.append("store_id")
        exprs.append(lit(NO_STORE))
    if source.name == "texts":
        names.append("text_id")
        exprs.append("ids.text_id")
    return names, exprs


def _text_ids(con: duckdb.DuckDBPyConnection, st: Staged, bad: str) -> str:
    """TEMP table ``_rid -> text_id`` for the good rows (see :func:`text_id`)."""
    cols = set(st.columns)
    parts = ["strftime(\"date\", '%Y-%m-%d')"]
    for col in ("item_id", "source"):
        parts.append(f'coalesce("{col}", \'\')' if col in cols else "''")
    parts.append("coalesce(\"text\", '')")
    base = " || '|' || ".join(parts)
    table = f"{PREFIX}ids_{st.source.name}"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT _rid, left(sha256(CASE WHEN k = 1 THEN base ELSE base || '|' || k END),
                          {TEXT_ID_HEX}) AS text_id
        FROM (SELECT _rid, base, row_number() OVER (PARTITION BY base ORDER BY _rid) AS k
              FROM (SELECT _rid, {base} AS base FROM {st.view}
                    WHERE _rid NOT IN (SELECT _rid FROM {bad})))""")
    st.cleanup.append(f"DROP TABLE IF EXISTS {table}")
    return table


def _load(con: duckdb.DuckDBPyConnection, st: Staged, bad: str, rep: SourceReport, key: bytes,
          chunk_rows: int, progress: Progress | None, task: TaskID | None) -> None:
    """Upsert the good staged rows in row-range chunks; fill the report's counts."""
    source = st.source
    if source.name == "covariates":
        _load_covariates(con, st, bad, rep)
        return
    target = source.table
    names, exprs = _select_list(st, key)
    has_bad = rep.rejected - st.reader_rejects > 0
    if source.name == "texts":
        ids = _text_ids(con, st, bad)
        frm = f"{st.table} s JOIN {ids} ids ON ids._rid = s.rowid"
        good = ""  # the ids table holds good rows only
    else:
        frm = f"{st.table} s"
        good = f" AND s.rowid NOT IN (SELECT _rid FROM {bad})" if has_bad else ""
    good_rows = st.n_rows - (rep.rejected - st.reader_rejects)
    total_rid, pos = st.n_rows, "s.rowid"
    if st.lines:  # order lines: load their sums per item, store and day instead
        summed = _sum_lines(con, st, good)
        frm, good, pos = f"{summed} s", "", "s._n"
        good_rows = total_rid = rep.summed_into = _count(con, summed)
    keys = list(source.keys)
    updatable = [n for n in names if n not in keys]
    if updatable:
        sets = ", ".join(
            f'"{n}" = coalesce(excluded."{n}", "{n}")' if (source.name, n) == ("texts", "lang")
            else f'"{n}" = excluded."{n}"' for n in updatable)
        changed = " OR ".join(f'"{n}" IS DISTINCT FROM excluded."{n}"' for n in updatable)
        conflict = f"DO UPDATE SET {sets} WHERE {changed}"
    else:
        conflict = "DO NOTHING"
    before = _count(con, target)
    # Into an empty table nothing can conflict: a plain insert is faster.
    conflict = "" if before == 0 else f"ON CONFLICT ({', '.join(keys)}) {conflict}"
    cols = ", ".join(f'"{n}"' for n in names)
    select = ", ".join(f"{e} AS \"{n}\"" for n, e in zip(names, exprs, strict=True))
    changed_rows = 0
    for start in range(0, max(total_rid, 1), chunk_rows):
        stop = start + chunk_rows
        sql = (f"INSERT INTO {target} ({cols}) SELECT {select} FROM {frm} "
               f"WHERE {pos} >= {start} AND {pos} < {stop}{good} "
               f"{conflict}")
        changed_rows += int(con.execute(sql).fetchone()[0])
        if progress is not None and task is not None:
            progress.update(task, completed=min(stop, total_rid))
    after = _count(con, target)
    rep.inserted = after - before
    rep.updated = changed_rows - rep.inserted
    rep.unchanged = good_rows - changed_rows


def _sum_lines(con: duckdb.DuckDBPyConnection, st: Staged, good: str) -> str:
    """TEMP table of the good order lines summed per (store,) item and day (see ``orders``);
    returns (negative lines) are netted, and a day with more returned than sold counts 0."""
    cols = set(st.columns)
    keys = [c for c in ("store_id", "item_id", "date") if c in cols]
    aggs = ['greatest(sum("units"), 0) AS "units"']  # more returned than sold that day: nothing sold
    if "price" in cols:  # weighted by the units sold (returns left out); no sale that day: the lines' mean
        aggs.append('round(coalesce(sum("price" * "units") FILTER (WHERE "units" > 0) / nullif(sum("units") '
                    'FILTER (WHERE "units" > 0 AND "price" IS NOT NULL), 0), avg("price")), 6) AS "price"')
    if "promo" in cols:
        aggs.append('max("promo") AS "promo"')
    if "revenue" in cols:
        aggs.append('sum("revenue") AS "revenue"')
    table = f"{PREFIX}lines_{st.source.name}"
    # _n numbers the rows for chunked loading (a table made inside a transaction has no 0-based rowid)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT row_number() OVER (ORDER BY {", ".join(f'"{k}"' for k in keys)}) - 1 AS _n, * FROM (
            SELECT {", ".join(f'"{k}"' for k in keys)}, {", ".join(aggs)}
            FROM {st.table} s WHERE TRUE{good} GROUP BY ALL)""")
    st.cleanup.append(f"DROP TABLE IF EXISTS {table}")
    return table


def _load_covariates(con: duckdb.DuckDBPyConnection, st: Staged, bad: str, rep: SourceReport) -> None:
    """Upsert a wide covariates file as long rows ``store_id, item_id, date, name, value``.

    Column names stay data (never SQL), so any covariate name is safe; an empty cell stores no
    row. A file row counts as new when its (store, item, date) was not there before.
    """
    values = [c for c in st.columns if c not in ("date", "store_id", "item_id")]
    good = f"WHERE _rid NOT IN (SELECT _rid FROM {bad})" if rep.rejected - st.reader_rejects else ""
    store = "coalesce(store_id, '')" if "store_id" in st.columns else "''"
    item = "coalesce(item_id, '')" if "item_id" in st.columns else "''"
    rows = f"{PREFIX}cov_rows"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {rows} AS SELECT {store} AS store_id, {item} AS item_id, "
                f"date, {', '.join(chr(34) + c + chr(34) for c in values)} FROM {st.view} {good}")
    st.cleanup.append(f"DROP TABLE IF EXISTS {rows}")
    old = int(con.execute(f"SELECT count(*) FROM {rows} r SEMI JOIN (SELECT DISTINCT store_id, item_id, date "
                          f"FROM covariates) c USING (store_id, item_id, date)").fetchone()[0])
    cols = ", ".join(f'"{c}"' for c in values)
    changed = con.execute(f"""INSERT INTO covariates (store_id, item_id, date, name, value)
        SELECT store_id, item_id, date, name, value FROM (UNPIVOT {rows} ON {cols} INTO NAME name VALUE value)
        ON CONFLICT (store_id, item_id, date, name) DO UPDATE SET value = excluded.value
        WHERE value IS DISTINCT FROM excluded.value
        RETURNING store_id, item_id, date""").df()
    touched = len(changed.drop_duplicates()) if len(changed) else 0
    total = int(con.execute(f"SELECT count(*) FROM {rows}").fetchone()[0])
    rep.inserted = total - old
    rep.updated = max(0, touched - rep.inserted)
    rep.unchanged = total - rep.inserted - rep.updated


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# -- demo --------------------------------------------------------------------------------------
def demo_step(db: Path, out: Path) -> dict[str, str]:
    """Ingest the bundled demo shop into the warehouse at ``db``; summarise rows per source.

    Re-running is idempotent (the second run reports every row unchanged). Writes
    ``out/ingest_report.json``.
    """
    from trendcast.data.demo import demo_paths

    paths = demo_paths()
    t0 = time.perf_counter()
    report = ingest(db, **{name: paths[name] for name in ORDER if name in paths})
    seconds = time.perf_counter() - t0
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report_path = out / "ingest_report.json"
    report_path.write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
    return {**report.summary(), "ingest time": f"{seconds:.1f} s", "ingest report": str(report_path)}


__all__ = ["IngestReport", "SourceReport", "demo_step", "ingest", "text_id"]
