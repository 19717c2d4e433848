"""Hostile-input and crash benchmark: a bounded attack-and-fault run on copies of a demo shop.

What it does (loopback only, every loop bounded):
1. throws the malformed-input corpus (``tests/data/hostile/corpus.py``) at ``trendcast ingest``
   and counts clean rejections (exit 1, one line naming file/row/column) and warehouses whose
   bytes changed anyway (must be 0);
2. SIGKILLs ``ingest`` (a 400,000-row file) and ``update`` (retraining) at random points and
   counts kills after which the warehouse held exactly the before- or after-state and, for
   ``update``, the active version and live forecasts agreed after the next run's repair;
3. starts ``trendcast serve`` on 127.0.0.1 and samples its RSS while a 1 MB gzip of 400 MB of
   rows is uploaded and four unauthenticated 100 MB bodies are posted (peak must stay < 600 MB);
4. runs schemathesis over every API operation (uploads and token management included; stage
   jobs excluded because each would run a pipeline stage) and counts 5xx answers (must be 0).

Prints a table and writes ``benchmarks/results/hostile.json``.

    PYTHONPATH=src .venv/bin/python benchmarks/hostile.py            # about 5 minutes on 2 cores
    PYTHONPATH=src .venv/bin/python benchmarks/hostile.py --kills 2 --examples 5   # quicker
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
HOSTILE = ROOT / "tests" / "data" / "hostile"
RSS_LIMIT_MB = 600
MODEL, H = "seasonal_naive", 7


def _load(name: str):  # noqa: ANN202 - a module
    spec = importlib.util.spec_from_file_location(f"hostile_{name}", HOSTILE / f"{name}.py")
    module = sys.modules.setdefault(f"hostile_{name}", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def demo_warehouse(folder: Path, days: int) -> Path:
    """A demo shop ingested through the validated path (what an analyst's warehouse looks like)."""
    from trendcast.data.demo import generate_demo
    from trendcast.data.ingest import ingest

    demo = generate_demo(n_items=16, n_stores=2, days=days, n_users=200, event_days=30, seed=3)
    db = folder / "demo.duckdb"
    ingest(db, **{k: demo[k] for k in ("sales", "products", "events", "texts", "inventory")})
    return db


def corpus_run(base: Path, folder: Path) -> dict[str, int]:
    from trendcast.cli import main

    corpus = _load("corpus")
    db = folder / "corpus.duckdb"
    shutil.copy(base, db)
    tried = clean = changed = 0
    before = _digest(db)
    for case in corpus.cases():
        spec = corpus.write(case, folder)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(["ingest", "--db", str(db), f"--{case.source}", spec])
        msg = err.getvalue().strip()
        tried += 1
        clean += int(rc == 1 and len(msg.splitlines()) == 1 and "Traceback" not in msg
                     and (case.row is None or f"row {case.row}" in msg)
                     and (case.column is None or f"column '{case.column}'" in msg))
        now = _digest(db)
        if now != before:
            changed += 1
            before = now
        Path(spec.split("::")[0].removeprefix("duckdb:")).unlink(missing_ok=True)
    return {"inputs_tried": tried, "rejected_cleanly": clean, "warehouses_changed_by_rejected_load": changed}


def kill_run(base: Path, folder: Path, kills: int) -> dict[str, object]:
    from trendcast.engine.learn import live_version, repair, update
    from trendcast.errors import NotReadyError
    from trendcast.models.artefacts import active_version, load_artefact

    faults = _load("faults")
    # ingest: a 400,000-row file into the demo warehouse
    items = [f"K{i:04d}" for i in range(2000)]
    days = pd.date_range("2024-01-01", periods=200, freq="D").strftime("%Y-%m-%d")
    sales = folder / "kill_sales.csv"
    pd.DataFrame({"item_id": [i for i in items for _ in days], "date": list(days) * len(items),
                  "units": 1.0}).to_csv(sales, index=False)
    before = faults.state(base)
    ref = folder / "ref_ingest.duckdb"
    shutil.copy(base, ref)
    clean = faults.run_child({"kind": "ingest", "db": str(ref), "sales": str(sales)}, None)
    after = faults.state(ref)
    ingest_ok = 0
    for i, delay in enumerate(faults.delays(kills, clean.seconds, seed=12)):
        db = folder / f"kill_ingest{i}.duckdb"
        shutil.copy(base, db)
        faults.run_child({"kind": "ingest", "db": str(db), "sales": str(sales)}, delay)
        ingest_ok += int(faults.state(db) in (before, after))
        db.unlink()

    # update: the last 14 days arrive as a file; the model retrains on them
    start = folder / "update_base.duckdb"
    shutil.copy(base, start)
    from trendcast.data.warehouse import Warehouse

    with Warehouse(start) as wh:
        cutoff = wh.con.execute("SELECT max(date) - INTERVAL 14 DAY FROM sales").fetchone()[0]
        held = wh.con.execute("SELECT * FROM sales WHERE date > ?", [cutoff]).df()
        wh.con.execute("DELETE FROM sales WHERE date > ?", [cutoff])
    new = folder / "new_sales.csv"
    held.assign(date=pd.to_datetime(held["date"]).dt.strftime("%Y-%m-%d")).to_csv(new, index=False)
    update(start, model_name=MODEL, h=H)
    models = start.with_name(start.name + ".models")
    job = {"kind": "update", "sales": str(new), "model": MODEL, "h": H}

    def copy(to: Path) -> Path:
        shutil.copy(start, to)
        shutil.copytree(models, to.with_name(to.name + ".models"))
        return to

    ref_u = copy(folder / "ref_update.duckdb")
    clean_u = faults.run_child({**job, "db": str(ref_u)}, None)
    final_sales = faults.state(ref_u)["sales"]
    update_ok = 0
    for i, delay in enumerate(faults.delays(kills, clean_u.seconds, seed=21)):
        victim = copy(folder / f"kill_update{i}.duckdb")
        faults.run_child({**job, "db": str(victim)}, delay)
        repair(victim, MODEL)
        active = active_version(victim, MODEL)
        in_step = active is not None and live_version(victim, MODEL) == active
        if in_step:
            load_artefact(victim, MODEL, active).verify()
        with contextlib.suppress(NotReadyError):  # NotReady: the killed run had finished
            update(victim, sales=new, model_name=MODEL, h=H, retrain=True)
        whole = faults.state(victim)["sales"] == final_sales
        update_ok += int(in_step and whole and live_version(victim, MODEL) == active_version(victim, MODEL))
    return {"kills": 2 * kills, "kills_survived_without_loss": ingest_ok + update_ok,
            "ingest_kills_survived": ingest_ok, "update_kills_survived": update_ok,
            "ingest_seconds_clean": round(clean.seconds, 2), "update_seconds_clean": round(clean_u.seconds, 2)}


def server_run(base: Path, folder: Path) -> dict[str, object]:
    from trendcast.api.auth import create_token
    from trendcast.data.warehouse import Warehouse

    attacks = _load("attacks")
    db = folder / "served.duckdb"
    shutil.copy(base, db)
    with Warehouse(db) as wh:
        token = create_token(wh.con, "uploader")
    with attacks.server(db, max_upload_mb=200, log=folder / "server.log") as (url, proc):
        idle = attacks.rss_mb(proc.pid)
        peak_bomb, bomb_code = attacks.peak_rss_during(proc.pid, lambda: attacks.upload_bomb(url, token, 400))
        peak_bodies, codes = attacks.peak_rss_during(proc.pid, lambda: attacks.oversized_bodies(url, 100, 4))
    return {"server_rss_idle_mb": round(idle, 1), "peak_rss_gzip_bomb_mb": round(peak_bomb, 1),
            "peak_rss_oversized_bodies_mb": round(peak_bodies, 1), "gzip_bomb_status": bomb_code,
            "oversized_body_statuses": codes,
            "peak_server_rss_mb": round(max(peak_bomb, peak_bodies), 1)}


def fuzz_run(base: Path, folder: Path, examples: int) -> dict[str, int]:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    from trendcast.api import create_app
    from trendcast.api.auth import create_token
    from trendcast.data.warehouse import Warehouse

    db = folder / "fuzz.duckdb"
    shutil.copy(base, db)
    with Warehouse(db) as wh:
        headers = {"Authorization": f"Bearer {create_token(wh.con, 'fuzzer', admin=True)}"}
    app = create_app(db, max_upload_mb=0.05)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(method="POST", path="/api/v1/jobs")
    count = {"requests": 0, "5xx": 0, "operations": 0}
    for result in schema.get_all_operations():
        operation = result.ok()
        count["operations"] += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case) -> None:
            response = case.call(headers=headers)
            count["requests"] += 1
            count["5xx"] += int(response.status_code >= 500)

        check()
    return {"schemathesis_operations": count["operations"], "schemathesis_requests": count["requests"],
            "schemathesis_5xx": count["5xx"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5, help="kills per command (ingest, update)")
    parser.add_argument("--examples", type=int, default=25, help="schemathesis examples per operation")
    parser.add_argument("--days", type=int, default=240, help="days of demo sales")
    parser.add_argument("--out", type=Path, default=RESULTS / "hostile.json")
    args = parser.parse_args()
    t0 = time.perf_counter()
    result: dict[str, object] = {"command": "PYTHONPATH=src .venv/bin/python benchmarks/hostile.py "
                                 f"--kills {args.kills} --examples {args.examples} --days {args.days}"}
    with tempfile.TemporaryDirectory(prefix="trendcast-hostile-") as tmp:
        folder = Path(tmp)
        base = demo_warehouse(folder, args.days)
        for name, step in (("corpus", lambda: corpus_run(base, folder)),
                           ("kills", lambda: kill_run(base, folder, args.kills)),
                           ("server", lambda: server_run(base, folder)),
                           ("fuzz", lambda: fuzz_run(base, folder, args.examples))):
            s0 = time.perf_counter()
            result.update(step())
            result[f"{name}_seconds"] = round(time.perf_counter() - s0, 1)
            print(f"{name} done in {result[f'{name}_seconds']} s", flush=True)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["passed"] = bool(
        result["warehouses_changed_by_rejected_load"] == 0
        and result["rejected_cleanly"] == result["inputs_tried"]
        and result["kills_survived_without_loss"] == result["kills"]
        and result["peak_server_rss_mb"] < RSS_LIMIT_MB  # type: ignore[operator]
        and result["schemathesis_5xx"] == 0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    for key in ("inputs_tried", "rejected_cleanly", "warehouses_changed_by_rejected_load", "kills",
                "kills_survived_without_loss", "server_rss_idle_mb", "peak_rss_gzip_bomb_mb",
                "peak_rss_oversized_bodies_mb", "peak_server_rss_mb", "schemathesis_requests",
                "schemathesis_5xx", "passed", "seconds"):
        print(f"{key:40s} {result[key]}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
