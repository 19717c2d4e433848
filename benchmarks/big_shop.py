"""A larger shop through the CLI: seconds and peak memory of `trendcast ingest` and `forecast`.

Writes the demo generator's shop at ``--items`` x ``--stores`` (1,000 x 5: 5,000 daily series,
two years, 3.1 M sales rows, with behaviour events and texts), ingests it with the
``trendcast ingest`` command and runs ``trendcast forecast --model M`` for each model, each in
its own process, exactly as a user would. Peak memory is the resident set of that process
(``wait4``'s ``ru_maxrss``), so nothing polls it. Every model's time and memory is also given
as a ratio to seasonal naive in the same run (reading, fusing and the simplest model: the floor
every forecast pays), because absolute seconds move with the machine. Prints a table and writes
``benchmarks/results/big_shop.json``.

    .venv/bin/python benchmarks/big_shop.py --items 1000 --stores 5 --models seasonal_naive,lightgbm,auto
    .venv/bin/python benchmarks/big_shop.py --freq W --out benchmarks/results/big_shop_weekly.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trendcast.data.demo import DEMO_FILES, write_demo

RESULTS = Path(__file__).resolve().parent / "results" / "big_shop.json"
CLI = [shutil.which("trendcast", path=str(Path(sys.executable).parent)) or "trendcast"]  # the installed command
SOURCES = ("sales", "products", "events", "texts")  # what forecasting reads (inventory is for decisions)


def run(args: list[str], cwd: Path) -> dict[str, object]:
    """Run one CLI command; its wall seconds, peak resident memory (GB) and last output line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([*CLI, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"`trendcast {' '.join(args)}` failed ({proc.returncode}):\n{out[-3000:]}")
    peak_kb = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return {"command": "trendcast " + " ".join(args), "seconds": round(seconds, 1),
            "peak_gb": round(peak_kb / 2**20, 2), "output": out.strip().splitlines()[-6:]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--stores", type=int, default=5)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--models", default="seasonal_naive,lightgbm,auto")
    ap.add_argument("--freq", default="", help="forecast at this frequency (e.g. W: the daily sales summed to weeks)")
    ap.add_argument("--horizon", type=int, default=None, help="periods (default: 28 days, 13 weeks, 6 months)")
    ap.add_argument("--keep", default="", help="folder to keep the shop in (default: a temporary one)")
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="big_shop_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        write_demo(work / "data", n_items=args.items, n_stores=args.stores, n_users=args.users)
        generated = round(time.perf_counter() - t0, 1)
        ingest = ["ingest", "--db", "shop.duckdb", *[a for name in SOURCES for a in (f"--{name}", f"data/{DEMO_FILES[name]}")]]
        steps = {"ingest": run(ingest, work)}
        for model in [m.strip() for m in args.models.split(",") if m.strip()]:
            extra = [*(["--freq", args.freq] if args.freq else []),
                     *(["--horizon", str(args.horizon)] if args.horizon else [])]
            steps[model] = run(["forecast", "--db", "shop.duckdb", *extra, "--model", model,
                                "--out", f"fc_{model}.csv"], work)
        base = steps.get("seasonal_naive")
        for name, step in steps.items():
            if base and name not in ("ingest", "seasonal_naive"):
                step["seconds / seasonal naive"] = round(step["seconds"] / base["seconds"], 2)  # type: ignore[operator]
                step["memory / seasonal naive"] = round(step["peak_gb"] / base["peak_gb"], 2)  # type: ignore[operator]
            print(f"{name:16s} {step['seconds']:7.1f} s  peak {step['peak_gb']:5.2f} GB  {step['command']}")
        result = {
            "shop": {"items": args.items, "stores": args.stores, "series": args.items * max(args.stores, 1),
                     "generated_seconds": generated, "freq": args.freq or "the shop's own (D)"},
            "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
            "steps": steps,
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False))
        print(f"wrote {args.out}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
