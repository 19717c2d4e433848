"""Benchmark: validated ingest vs DuckDB's raw CSV read of the same sales file.

Generates an N-row sales CSV (default 10 million rows, about 360 MB) in a temporary folder,
then times, in the same run and on fresh warehouse files:

- raw: ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` (no checks, no key);
- keyed: the same rows cast straight into the warehouse's ``sales`` table (primary key, no
  checks) — the cost of the key index alone;
- trendcast: ``trendcast.data.ingest.ingest(db, sales=file)`` (all checks, duplicate-key
  detection, upsert).

Prints rows/s and the ratio trendcast/raw (target >= 0.3) from medians over ``--repeats``, with
peak resident memory, and writes ``benchmarks/results/ingest.json``.

    .venv/bin/python benchmarks/ingest.py --rows 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import psutil

from trendcast.data.ingest import ingest
from trendcast.data.warehouse import Warehouse

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"


def make_sales_csv(path: Path, rows: int) -> None:
    """Daily sales of 10 stores x 5,000 items (50,000 rows a day), unique keys, valid values."""
    per_day = 50_000
    duckdb.connect().execute(f"""COPY (
        SELECT 'S' || (i % 10) AS store_id,
               'I' || lpad(((i // 10) % 5000)::VARCHAR, 5, '0') AS item_id,
               (DATE '2020-01-01' + (i // {per_day})::INT)::VARCHAR AS date,
               (i * 7919) % 13 AS units,
               round(10 + (i % 97) * 0.5, 2) AS price,
               (i % 11 = 0)::INT AS promo,
               round(((i * 7919) % 13) * (10 + (i % 97) * 0.5), 2) AS revenue
        FROM range({rows}) t(i)) TO '{path}' (HEADER)""")


class PeakRSS:
    """Samples this process's resident memory while a block runs."""

    def __enter__(self) -> PeakRSS:
        self.proc, self.peak, self._stop = psutil.Process(), 0, False
        self.start = self.proc.memory_info().rss
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._t.join()


def timed(fn: Callable[[Path], None], workdir: Path, tag: str) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of fn on a fresh warehouse file."""
    db = workdir / f"{tag}.duckdb"
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        fn(db)
        seconds = time.perf_counter() - t0
    return seconds, mem.peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows in the generated CSV")
    parser.add_argument("--repeats", type=int, default=3, help="runs per method (median reported)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tc_ingest_bench_") as tmp:
        work = Path(tmp)
        csv = work / "sales.csv"
        t0 = time.perf_counter()
        make_sales_csv(csv, args.rows)
        print(f"generated {args.rows:,} rows ({csv.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - t0:.1f} s")

        def raw(db: Path) -> None:
            with duckdb.connect(str(db)) as con:
                con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')")

        def keyed(db: Path) -> None:
            with Warehouse(db) as wh:
                wh.con.execute(
                    "INSERT INTO sales BY NAME SELECT store_id, item_id, CAST(date AS DATE) AS date, "
                    "CAST(units AS DOUBLE) AS units, CAST(price AS DOUBLE) AS price, "
                    "CAST(promo AS TINYINT) AS promo, CAST(revenue AS DOUBLE) AS revenue "
                    f"FROM read_csv('{csv}', all_varchar=true)")

        def ours(db: Path) -> None:
            report = ingest(db, sales=csv)
            assert report.sources["sales"].inserted == args.rows, report

        runs: dict[str, list[tuple[float, float]]] = {"raw": [], "keyed": [], "trendcast": []}
        for rep in range(args.repeats):
            for name, fn in (("raw", raw), ("keyed", keyed), ("trendcast", ours)):
                runs[name].append(timed(fn, work, name))
                print(f"  run {rep + 1} {name:9s} {runs[name][-1][0]:6.2f} s "
                      f"peak RSS {runs[name][-1][1]:.0f} MB", flush=True)

    med = {k: statistics.median(s for s, _ in v) for k, v in runs.items()}
    result = {
        "rows": args.rows,
        "repeats": args.repeats,
        "seconds_median": med,
        "rows_per_s": {k: args.rows / v for k, v in med.items()},
        "peak_rss_mb": {k: max(m for _, m in v) for k, v in runs.items()},
        "ratio_vs_raw": med["raw"] / med["trendcast"],
        "ratio_vs_keyed": med["keyed"] / med["trendcast"],
        "target_ratio_vs_raw": 0.3,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "duckdb": duckdb.__version__},
    }
    for name in ("raw", "keyed", "trendcast"):
        print(f"{name:9s} {med[name]:6.2f} s  {result['rows_per_s'][name]:>12,.0f} rows/s")
    print(f"trendcast / raw speed ratio: {result['ratio_vs_raw']:.2f} (target >= 0.3); "
          f"vs keyed insert: {result['ratio_vs_keyed']:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
