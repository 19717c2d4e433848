"""The embedded DuckDB warehouse: table layout and the reads every later stage needs.

Writes happen in :mod:`trendcast.data.ingest` (validated, one transaction per file). Later
stages read through :class:`Warehouse` so SQL stays in one place.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from trendcast.data import periods
from trendcast.data.periods import check_freq
from trendcast.data.schema import COVARIATES_DDL, DUCK_TYPES, NO_STORE, SOURCES, Source
from trendcast.errors import BusyError, ConfigError, NotReadyError

SERIES_SEP = "/"  # unique_id = store_id + SERIES_SEP + item_id when the shop has stores
UNKNOWN_CATEGORY = "unknown"  # the category of items sold but missing from the catalogue


# How long to wait for a warehouse another process holds, and who to tell while waiting.
# The CLI sets both from ``--wait`` and its console; TRENDCAST_WAIT sets the default.
LOCK_WAIT: dict[str, object] = {"seconds": None, "notify": None}
DEFAULT_WAIT = 30.0
_HOLDER = re.compile(r"held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")


def lock_wait_seconds() -> float:
    value = LOCK_WAIT["seconds"]
    if value is None:
        try:
            value = float(os.environ.get("TRENDCAST_WAIT", DEFAULT_WAIT))
        except ValueError:
            value = DEFAULT_WAIT
    return max(0.0, float(value))  # type: ignore[arg-type]


def _holder(message: str) -> str:
    """'PID 1234 (trendcast serve --db shop.duckdb)' from DuckDB's lock error, as far as known."""
    m = _HOLDER.search(message)
    if not m:
        return "another process"
    pid = m.group("pid")
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        cmd = cmd.strip()
    except OSError:
        cmd = m.group("exe")
    if "trendcast" in cmd:
        cmd = "trendcast" + cmd.split("trendcast", 1)[1].split("\n")[0]
    cmd = cmd if len(cmd) <= 120 else cmd[:117] + "..."
    return f"PID {pid} ({cmd})"


def connect(path: Path, read_only: bool = False, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, waiting up to ``wait`` seconds while another process holds it.

    DuckDB lets one process write a file (and none read it meanwhile). Rather than failing at
    once, wait (``LOCK_WAIT['notify']`` hears about it once), then raise :class:`BusyError`
    naming the process that holds the file and what to do about it.
    """
    wait = lock_wait_seconds() if wait is None else wait
    deadline: float | None = None
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            holder = _holder(str(exc))
            now = time.monotonic()
            if deadline is None:
                deadline = now + wait
                notify = LOCK_WAIT["notify"]
                if wait > 0 and callable(notify):
                    notify(f"{path} is in use by {holder}; waiting up to {wait:g} s for it "
                           "(--wait sets how long)")
            if now >= deadline:
                raise BusyError(
                    f"{path} is in use by {holder} (waited {wait:g} s). Stop that process, or, if it "
                    "is `trendcast serve`, send the work through its API: POST /api/v1/uploads/SOURCE "
                    "for data and POST /api/v1/jobs for stages. `--wait SECONDS` waits longer."
                ) from None
            time.sleep(min(0.25, max(0.0, deadline - now)))


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


def period_sales_sql(freq: str, native: str) -> str:
    """SQL: the ``sales`` rows summed into periods of ``freq`` (``store_id, item_id, ds, units,
    price, promo``), for sales loaded at ``native`` frequency (which must not be coarser).

    Monthly sales may be dated on any day of their month; a trailing period the data does not
    cover to its end is left out, because it would look like a slump.
    """
    if freq == native and freq != "MS":
        return "SELECT store_id, item_id, date AS ds, units, price, promo FROM sales"
    cut = "" if freq == native else f"WHERE {periods.end_sql('date', freq)} <= (SELECT max(date) FROM sales) "
    return (f"SELECT store_id, item_id, {periods.label_sql('date', freq)} AS ds, sum(units) AS units, "
            f"avg(price) AS price, max(promo) AS promo FROM sales {cut}GROUP BY ALL")


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
            self.con = connect(self.path, read_only=read_only)
        except duckdb.ConnectionException:
            if not read_only:
                raise
            # This process already has the file open read-write (e.g. `trendcast serve` running a
            # stage as a job): DuckDB refuses a second, read-only configuration, so share that one.
            self.con = duckdb.connect(str(self.path))
        # without its background threads DuckDB's allocator keeps freed memory: reading the panel
        # of 5,000 daily series left 0.9 GB resident for as long as the connection stayed open
        self.con.execute("SET allocator_background_threads = true")
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

    def frequency(self) -> str:
        """The warehouse's frequency (pandas alias, config key ``freq``); ``"D"`` when unset."""
        return check_freq(self.get_config("freq") or "D")

    def _series_sql(self) -> str:
        return (f"CASE WHEN store_id = '{NO_STORE}' THEN item_id "
                f"ELSE store_id || '{SERIES_SEP}' || item_id END")

    def detect_frequency(self) -> str:
        """The frequency the stored sales dates follow (see :func:`periods.detect`).

        Dates that follow no frequency raise an ``InputError`` naming a series and its dates
        that break the pattern most dates follow.
        """
        dates = self.con.execute("SELECT DISTINCT date FROM sales ORDER BY 1").df()["date"]
        found = periods.detect(dates)
        if found is not None:
            return found
        usual = periods.dominant(dates)
        series = self._series_sql()
        if usual == "D":  # irregular spacing: show the series with the most rows
            sql = f"""SELECT {series} AS series, date FROM sales WHERE ({series}) = (
                SELECT {series} FROM sales GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1)
                ORDER BY date LIMIT 5"""
            raise periods.irregular_error(self.con.execute(sql).df(), usual)
        bad = dates[periods.off_grid(dates, usual).to_numpy()]
        self.con.register("_tc_bad_dates", pd.DataFrame({"d": pd.to_datetime(bad).dt.date}))
        try:
            sql = f"""WITH hit AS (SELECT {series} AS series, date FROM sales
                      WHERE date IN (SELECT d FROM _tc_bad_dates))
                      SELECT * FROM hit WHERE series = (SELECT min(series) FROM hit)
                      ORDER BY date LIMIT 5"""
            sample = self.con.execute(sql).df()
        finally:
            self.con.unregister("_tc_bad_dates")
        raise periods.irregular_error(sample, usual)

    def data_frequency(self) -> str:
        """The frequency of the sales dates as loaded (before any ``--freq`` override)."""
        stored = self.get_config("data_freq")
        if stored:
            return check_freq(stored)
        return periods.detect(self.con.execute("SELECT DISTINCT date FROM sales").df()["date"]) or "D"

    def sales_panel(self, freq: str | None = None) -> pd.DataFrame:
        """Long frame ``unique_id, ds, y, item_id, store_id, category, price, promo``, one row
        per series per period of ``freq`` (default: the warehouse's :meth:`frequency`).

        Periods with no sales row inside a series' life (first sale .. last period in the
        warehouse) are filled with ``y = 0, promo = 0`` and the last known price, because a
        missing row in an order log means nothing was sold. Gaps are filled at the data's own
        frequency only; asking for a coarser one (weekly from daily sales) sums the units of
        each period (mean price, promo when any day had one; a last period the sales do not
        cover to its end is left out); a finer one is refused.
        """
        if self.count("sales") == 0:
            raise NotReadyError("The warehouse has no sales yet: run `trendcast ingest --sales FILE`.")
        freq = check_freq(freq) if freq is not None else self.frequency()
        native = self.data_frequency()
        if not periods.coarser_or_same(freq, native):
            raise ConfigError(
                f"The sales are {periods.kind(native)} data ({native}); they cannot be split into "
                f"{freq} periods. Use --freq {native} or a coarser frequency."
            )
        rows = period_sales_sql(freq, native)
        sep = SERIES_SEP
        grid = periods.grid_sql("b.first_day", "last.last_day", freq)
        sql = f"""
        WITH s AS ({rows}),
        bounds AS (
            SELECT store_id, item_id, min(ds) AS first_day FROM s GROUP BY ALL
        ), last AS (SELECT max(ds) AS last_day FROM s),
        grid AS (
            SELECT b.store_id, b.item_id, CAST(d.ds AS DATE) AS ds
            FROM bounds b, last, LATERAL ({grid}) d
        )
        SELECT CASE WHEN g.store_id = '{NO_STORE}' THEN g.item_id
                    ELSE g.store_id || '{sep}' || g.item_id END AS unique_id,
               g.ds, coalesce(s.units, 0.0) AS y, g.item_id, g.store_id,
               coalesce(p.category, '{UNKNOWN_CATEGORY}') AS category,
               s.price, coalesce(s.promo, 0) AS promo
        FROM grid g LEFT JOIN s
          ON s.store_id = g.store_id AND s.item_id = g.item_id AND s.ds = g.ds
        LEFT JOIN products p ON p.item_id = g.item_id
        ORDER BY unique_id, ds
        """
        # through Arrow, whose conversion makes one Python string per distinct id, not one per row:
        # 0.4 GB instead of 1.2 GB for the panel of 5,000 daily series
        self.con.complete()  # a relation query needs the connection's last result finished
        df = self.con.sql(sql).to_arrow_table().to_pandas()
        df["ds"] = pd.to_datetime(df["ds"]).astype("datetime64[ns]")
        df["price"] = df["price"].groupby(df["unique_id"]).ffill().groupby(df["unique_id"]).bfill()
        df["promo"] = df["promo"].astype("int8")
        df.attrs["freq"] = freq
        return df
