"""Dashboard latency: every page of a served warehouse, cold once, then warm (p50/p95/max).

Serves a copy of the warehouse (default: the demo's, from ``trendcast demo --out out/demo``)
with uvicorn on loopback, signs in with a fresh token (cookie, as a browser does) and requests
each page: the first request computes the decisions behind it (cold), the next ``--repeat``
are what a planner clicking around sees (warm: the page cache holds until the data changes).
Paged and filtered table views and both exports are timed too. Writes
``benchmarks/results/dashboard.json``; the target is p95 warm under 1 s for every page.

    .venv/bin/python benchmarks/dashboard.py --db out/demo/demo.duckdb --repeat 20
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

PAGES = [
    "/", "/overview", "/item?unique_id={uid}", "/alerts", "/alerts?t=plan&page=3&sort=order_qty&desc=1",
    "/alerts?t=plan&q=snack", "/pricing", "/pricing?item_id={item}", "/promotions",
    "/promotions?item_id={item}&periods=14", "/trends", "/voice", "/new-product",
    "/new-product?category={category}&price=20&title=new+product", "/recommendations", "/copy?item_id={item}&lang=zh", "/hotspots", "/whatif",
    "/export/plan.csv", "/export/plan.xlsx",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=ROOT / "out" / "demo" / "demo.duckdb")
    parser.add_argument("--repeat", type=int, default=20, help="warm requests per page")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "dashboard.json")
    args = parser.parse_args()
    if not args.db.exists():
        sys.exit(f"No warehouse at {args.db}: run `trendcast demo --out {args.db.parent}` first.")

    from dashboard_screenshots import serve

    from trendcast.api.auth import create_token
    from trendcast.api.deps import COOKIE
    from trendcast.data.warehouse import Warehouse

    with tempfile.TemporaryDirectory(prefix="trendcast-bench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        shutil.copy(args.db, db)
        with Warehouse(db) as wh:
            token = create_token(wh.con, "bench")
            uid, item, category = wh.con.execute(
                """SELECT CASE WHEN s.store_id = '' THEN s.item_id ELSE s.store_id || '/' || s.item_id END,
                          s.item_id, p.category FROM sales s JOIN products p USING (item_id)
                   GROUP BY ALL ORDER BY sum(s.units) DESC LIMIT 1""").fetchone()
        base, server, thread = serve(db)
        rows = []
        try:
            with httpx.Client(base_url=base, cookies={COOKIE: token}, timeout=600) as client:
                for template in PAGES:
                    path = template.format(uid=uid, item=item, category=category)
                    t0 = time.perf_counter()
                    res = client.get(path)
                    cold = time.perf_counter() - t0
                    if res.status_code != 200:
                        raise SystemExit(f"{path} answered {res.status_code}: {res.text[:300]}")
                    warm = []
                    for _ in range(args.repeat):
                        t0 = time.perf_counter()
                        client.get(path).raise_for_status()
                        warm.append(time.perf_counter() - t0)
                    w = np.array(warm)
                    row = {"page": template, "cold_s": round(cold, 3), "warm_p50_s": round(float(np.median(w)), 4),
                           "warm_p95_s": round(float(np.percentile(w, 95)), 4), "warm_max_s": round(float(w.max()), 4),
                           "bytes": len(res.content)}
                    rows.append(row)
                    print(f"{template:60s} cold {cold:7.2f}s  warm p50 {row['warm_p50_s']:.4f}s "
                          f"p95 {row['warm_p95_s']:.4f}s  {row['bytes'] / 1e3:8.0f} kB")
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    worst = max(r["warm_p95_s"] for r in rows)
    result = {"warehouse": str(args.db), "repeat": args.repeat, "pages": rows, "worst_warm_p95_s": worst,
              "target_s": 1.0, "all_under_target": worst < 1.0, "machine": platform.platform(),
              "command": f"python benchmarks/dashboard.py --db {args.db} --repeat {args.repeat}"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"worst warm p95 {worst:.4f}s over {len(rows)} pages -> {args.out}")


if __name__ == "__main__":
    main()
