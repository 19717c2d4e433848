"""The whole pipeline in order, as ``trendcast demo`` runs it.

Each stage exposes ``demo_step(db, out) -> dict[str, str]`` (summary lines, paths written);
this module only decides the order. A new stage is one line in :data:`STAGES`, which
also lists the stages the API runs as jobs (:mod:`trendcast.api.jobs`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from trendcast.data.demo import DEMO_FILES, demo_paths
from trendcast.errors import InputError


@dataclass(frozen=True)
class Stage:
    """One pipeline stage: its name in ``trendcast demo``, its API job kind and entry point."""

    name: str
    job: str | None  # kind for ``POST /jobs`` (None: not offered as a job)
    target: str  # "module:function" taking (db, out)
    does: str


STAGES: tuple[Stage, ...] = (
    Stage("text signals", "signals", "trendcast.text.signals:demo_step", "text signals and hot spots"),
    Stage("forecast & backtest", "forecast", "trendcast.forecasting:demo_step", "forecast and backtest"),
    Stage("pretrained transformer", None, "trendcast.models.pretrained:demo_step",
          "the pretrained transformer, zero-shot and fine-tuned"),
    Stage("explanations & artefacts", "explain", "trendcast.engine.learn:demo_step",
          "explanations and model artefacts"),
    Stage("decisions", "decide", "trendcast.decide:demo_step", "inventory plan, alerts and prices"),
    Stage("report", "report", "trendcast.report:demo_step", "the offline HTML report"),
)
STEPS: list[tuple[str, str]] = [(s.name, s.target) for s in STAGES]


@dataclass
class StepResult:
    step: str
    seconds: float
    summary: dict[str, str]


def _load(target: str) -> Callable[[Path, Path], dict[str, str]]:
    module, func = target.split(":")
    return getattr(import_module(module), func)


def shop_files(data_dir: Path) -> dict[str, Path]:
    """The sources a shop's folder holds: ``sales`` (required), ``products``, ``events``, ``texts``
    and ``inventory``, each as ``.csv``, ``.csv.gz`` or ``.parquet``. A source that is missing is
    left out, and the stages run on what there is, as they would after ``trendcast ingest``."""
    if not data_dir.is_dir():
        raise InputError(f"{data_dir} is not a folder: give the folder that holds sales.csv and the other files.")
    found: dict[str, Path] = {}
    for name, fname in DEMO_FILES.items():
        stem = fname.split(".")[0]
        hits = [f for f in (data_dir / f"{stem}{ext}" for ext in (".csv", ".csv.gz", ".parquet")) if f.exists()]
        if len(hits) > 1:
            raise InputError(f"{data_dir} holds {len(hits)} {name} files ({', '.join(h.name for h in hits)}): keep one.")
        if hits:
            found[name] = hits[0]
    if "sales" not in found:
        raise InputError(f"{data_dir} has no sales file: expected sales.csv, sales.csv.gz or sales.parquet.")
    return found


def run_demo(
    out: Path,
    data_dir: Path | None = None,
    steps: list[str] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> list[StepResult]:
    """Ingest a shop into a fresh warehouse at ``out/demo.duckdb`` and run every stage.

    ``data_dir`` is a shop's folder (:func:`shop_files`; default: the bundled demo shop); ``steps`` limits the stages run
    (by name); ``on_step`` is told each stage's name as it starts (for progress display).
    """
    from trendcast.data.ingest import ingest

    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    paths = demo_paths() if data_dir is None else shop_files(data_dir)

    results: list[StepResult] = []
    if on_step:
        on_step("ingest")
    start = time.perf_counter()
    report = ingest(db, **{k: paths[k] for k in DEMO_FILES if k in paths})
    results.append(StepResult("ingest", time.perf_counter() - start, report.summary()))
    for name, target in STEPS:
        if steps is not None and name not in steps:
            continue
        if on_step:
            on_step(name)
        start = time.perf_counter()
        summary = _load(target)(db, out)
        results.append(StepResult(name, time.perf_counter() - start, summary))
    return results
