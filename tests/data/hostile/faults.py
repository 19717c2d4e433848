"""Kill ``ingest`` and ``update`` with SIGKILL at random points and check nothing was lost.

A child process warms its imports, says ``ready`` and runs one call; the parent kills it after
a random delay drawn within the call's measured duration. Afterwards the warehouse must open,
hold either exactly the state before the call or exactly the state a clean run produces, and
(for ``update``) the active model version and the live forecasts must agree once the next run
has repaired what the kill interrupted. Used by the fault tests and ``benchmarks/hostile.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CHILD = r"""
import json, sys
from trendcast.data.ingest import ingest
from trendcast.engine.learn import update
print("ready", flush=True)
job = json.loads(sys.argv[1])
if job["kind"] == "ingest":
    ingest(job["db"], sales=job["sales"])
else:
    update(job["db"], sales=job["sales"], model_name=job["model"], h=job["h"], retrain=True)
print("done", flush=True)
"""
TABLES = ("sales", "products", "events", "texts", "inventory", "live_forecasts")


@dataclass
class Run:
    finished: bool  # the call ended by itself (the kill came too late)
    seconds: float  # time from "ready" to the end or the kill


def run_child(job: dict, kill_after: float | None, timeout: float = 300) -> Run:
    """Run ``job`` in a child; SIGKILL it ``kill_after`` seconds after it is ready."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(job)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "ready":
            proc.kill()
            raise RuntimeError(f"child did not start: {proc.stderr.read() if proc.stderr else ''}")
        t0 = time.monotonic()
        try:
            proc.wait(timeout=timeout if kill_after is None else kill_after)
            if proc.returncode != 0:
                raise RuntimeError(f"child failed: {proc.stderr.read() if proc.stderr else ''}")
            return Run(True, time.monotonic() - t0)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return Run(False, time.monotonic() - t0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def state(db: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-free content hash per table (what a kill must not corrupt)."""
    from trendcast.data.warehouse import Warehouse

    out = {}
    with Warehouse(db) as wh:  # read-write: replays a WAL a killed writer left behind
        for table in TABLES:
            if not wh.has_table(table):
                continue
            if table == "live_forecasts":  # as_of is a timestamp: compare what is served
                expr = "hash(name, version, unique_id, ds, forecast)"
            else:
                expr = "hash(t)"  # the whole row as a struct
            row = wh.con.execute(
                f"SELECT count(*), coalesce(sum({expr} % 1000000007), 0) FROM {table} t").fetchone()
            out[table] = (int(row[0]), int(row[1]))
    return out


def delays(n: int, duration: float, seed: int) -> list[float]:
    """``n`` kill points spread over the call (stratified, so early and late both get hit)."""
    rng = random.Random(seed)
    return [duration * (i + rng.random()) / n for i in range(n)]


__all__ = ["Run", "delays", "run_child", "state"]
