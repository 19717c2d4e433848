"""Load test of the REST API: cached forecast reads under concurrency.

Starts ``trendcast serve`` in a subprocess on a free loopback port, then drives it with an async
aiohttp client (``--requests`` GETs of /api/v1/forecasts for random series, ``--concurrency`` in
flight). Reports requests/s, median and p99 latency and the number of 5xx answers, and compares
with two baselines measured in the same run: the first (uncached) read of every series, and
/api/v1/health (the framework's floor: no auth, no warehouse).

Targets: >= 200 req/s and p99 < 100 ms for cached reads on 2 cores, zero 5xx. Wall-clock figures
depend on what else runs on the machine, so the server process's CPU time per request is also
reported (``implied_cached_req_per_s_one_free_core`` = 1000 / CPU ms per request) together with
the load average at the start.

    .venv/bin/python benchmarks/api_load.py                 # generated shop + real forecasts
    .venv/bin/python benchmarks/api_load.py --db out/demo/demo.duckdb   # after `trendcast demo`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx
import numpy as np
import psutil

RESULTS = Path(__file__).resolve().parent / "results" / "api_load.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_warehouse(path: Path, h: int = 28) -> None:
    """A generated shop (64 series x 365 days) with seasonal-naive forecasts stored by the real
    `trendcast forecast` path, so the API reads the layout it reads in production."""
    from trendcast.data.demo import generate_demo
    from trendcast.data.warehouse import Warehouse
    from trendcast.forecasting import forecast

    demo = generate_demo(n_items=32, n_stores=2, days=365, n_users=100, event_days=10, seed=7)
    with Warehouse(path) as wh:
        for name in ("sales", "products"):
            wh.con.register("frame", demo[name])
            wh.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
            wh.con.unregister("frame")
    forecast(path, h, model="seasonal_naive", quantiles=[0.1, 0.9])


async def drive(base: str, headers: dict[str, str], paths: list[str], concurrency: int) -> tuple[list[float], list[int], float]:
    """GET every path with at most ``concurrency`` in flight; latencies (s), statuses, wall time.

    The load generator is aiohttp: httpx's AsyncClient costs several times more CPU per request
    under concurrency (encode/httpx#3215), and on a 2-core machine shared with the server that
    cost shows up as server latency.
    """
    latencies: list[float] = []
    statuses: list[int] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for p in paths:
        queue.put_nowait(p)

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base, headers=headers, connector=connector, timeout=timeout) as client:

        async def worker() -> None:
            while not queue.empty():
                path = queue.get_nowait()
                start = time.perf_counter()
                try:
                    async with client.get(path) as res:
                        await res.read()
                        statuses.append(res.status)
                except aiohttp.ClientError:
                    statuses.append(599)
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, statuses, time.perf_counter() - start


def summarise(latencies: list[float], statuses: list[int], wall: float) -> dict[str, float]:
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "errors_5xx": sum(1 for s in statuses if s >= 500),
        "non_200": sum(1 for s in statuses if s != 200),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="A warehouse with a forecasts table (default: generated).")
    parser.add_argument("--requests", type=int, default=2000, help="Cached forecast reads to send.")
    parser.add_argument("--concurrency", type=int, default=16, help="Requests in flight at once.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from trendcast.api.auth import create_token
    from trendcast.data.warehouse import Warehouse

    work = Path(tempfile.mkdtemp(prefix="trendcast-load-"))
    try:
        db = work / "load.duckdb"
        if args.db:
            shutil.copy(args.db, db)
        else:
            print("building a warehouse with forecasts ...", flush=True)
            build_warehouse(db)
        with Warehouse(db) as wh:
            token = create_token(wh.con, f"load-{os.getpid()}")
            ids = [r[0] for r in wh.con.execute("SELECT DISTINCT unique_id FROM forecasts WHERE item_id IS NOT NULL").fetchall()]

        port = _free_port()
        code = f"from trendcast.cli import main; main(['serve', '--db', {str(db)!r}, '--port', '{port}', '--log-level', 'warning'])"
        server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            headers = {"Authorization": f"Bearer {token}"}
            rng = random.Random(args.seed)
            cold_paths = [f"/api/v1/forecasts?unique_id={u}" for u in ids]
            warm_paths = [f"/api/v1/forecasts?unique_id={rng.choice(ids)}" for _ in range(args.requests)]
            health = ["/api/v1/health"] * args.requests

            proc = psutil.Process(server.pid)
            load_before = os.getloadavg()[0]
            cold = summarise(*asyncio.run(drive(base, headers, cold_paths, args.concurrency)))
            cpu0 = sum(proc.cpu_times()[:2])
            warm = summarise(*asyncio.run(drive(base, headers, warm_paths, args.concurrency)))
            cpu1 = sum(proc.cpu_times()[:2])
            floor = summarise(*asyncio.run(drive(base, headers, health, args.concurrency)))
            cpu2 = sum(proc.cpu_times()[:2])
            # server CPU per request does not depend on how busy the rest of the machine is
            warm["server_cpu_ms_per_request"] = round((cpu1 - cpu0) * 1000 / args.requests, 3)
            floor["server_cpu_ms_per_request"] = round((cpu2 - cpu1) * 1000 / args.requests, 3)
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "series": len(ids),
        "concurrency": args.concurrency,
        "cpu_count": os.cpu_count(),
        "load_average_1min_at_start": round(load_before, 2),
        "implied_cached_req_per_s_one_free_core": round(1000 / max(warm["server_cpu_ms_per_request"], 1e-3), 1),
        "cached_forecast_reads": warm,
        "baseline_uncached_first_reads": cold,
        "baseline_health_no_auth_no_db": floor,
        "cached_vs_uncached_p50_speedup": round(cold["p50_ms"] / warm["p50_ms"], 2),
        "cached_throughput_vs_health": round(warm["requests_per_s"] / floor["requests_per_s"], 2),
        "targets_met": bool(warm["requests_per_s"] >= 200 and warm["p99_ms"] < 100 and warm["errors_5xx"] == 0),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"wrote {RESULTS}")
    return 0 if result["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
