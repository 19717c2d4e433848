"""Attacks on a running ``trendcast serve`` (loopback only): gzip bombs, oversized bodies,
tokens in URLs; and a way to watch the server's memory while they land.

Used by ``tests/api/test_api_limits.py`` and ``benchmarks/hostile.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

HOST = "127.0.0.1"
SERVE = "import sys; from trendcast.cli import main; sys.exit(main(sys.argv[1:]))"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def server(db: Path, max_upload_mb: float = 20, log: Path | None = None,
           startup: float = 120) -> Iterator[tuple[str, subprocess.Popen]]:
    """``trendcast serve`` on 127.0.0.1 and a free port; yields (base URL, process)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--db", str(db), "--host", HOST, "--port", str(port),
         "--max-upload-mb", str(max_upload_mb), "--log-level", "info",
         "--no-warm"],  # memory measured is what the attack costs, not the start page's decisions
        stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + startup
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.3)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 1e6


def peak_rss_during(pid: int, action: Callable[[], object]) -> tuple[float, object]:
    """Run ``action`` while sampling the server's RSS every 20 ms; (peak MB, action's result)."""
    peak = [rss_mb(pid)]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], rss_mb(pid))
            except Exception:  # the process may be gone at the very end
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        result = action()
    finally:
        stop.set()
        thread.join()
    peak[0] = max(peak[0], rss_mb(pid))
    return peak[0], result


def gzip_bomb(decompressed_mb: int) -> bytes:
    """A small gzip of ``decompressed_mb`` MB of the same sales row, header first."""
    row = b"I001,2024-01-01,1\n"
    block = row * (1024 * 1024 // len(row))
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(b"item_id,date,units\n")]
    for _ in range(decompressed_mb):
        parts.append(comp.compress(block))
    parts.append(comp.flush())
    return b"".join(parts)


def upload_bomb(base: str, token: str, decompressed_mb: int = 200) -> int:
    data = gzip_bomb(decompressed_mb)
    res = httpx.post(base + "/api/v1/uploads/sales", headers={"Authorization": f"Bearer {token}"},
                     files={"file": ("bomb.csv.gz", data, "application/gzip")}, timeout=300)
    return res.status_code


def oversized_bodies(base: str, mb: int = 100, parallel: int = 4) -> list[int]:
    """``parallel`` unauthenticated ``mb`` MB POSTs to /api/v1/jobs: half with Content-Length,
    half streamed (chunked, no length). Status codes (0 when the server cut the connection)."""
    chunk = b"x" * (1024 * 1024)

    def streamed() -> Iterator[bytes]:
        for _ in range(mb):
            yield chunk

    codes: list[int] = [0] * parallel

    def one(i: int) -> None:
        try:
            content = streamed() if i % 2 else chunk * mb
            res = httpx.post(base + "/api/v1/jobs", content=content,
                             headers={"Content-Type": "application/json"}, timeout=300)
            codes[i] = res.status_code
        except httpx.HTTPError:
            codes[i] = 0  # closed mid-body: also a refusal

    threads = [threading.Thread(target=one, args=(i,)) for i in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


__all__ = ["free_port", "gzip_bomb", "oversized_bodies", "peak_rss_during", "rss_mb", "server",
           "upload_bomb"]
