"""Background jobs: pipeline stages run one at a time in a worker thread, tracked in memory.

One worker because every stage writes to the same DuckDB file; DuckDB serialises writers
anyway and a queue makes the order visible. Jobs live as long as the server process (their
results are in the warehouse; the registry only says what ran and how it ended).
"""

from __future__ import annotations

import logging
import threading
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path

from trendcast.errors import NotReadyError, TrendcastError
from trendcast.pipeline import STAGES

log = logging.getLogger("trendcast.api.jobs")

# kind -> (pipeline stage entry point "module:function" taking (db, out), what it does)
JOB_KINDS: dict[str, tuple[str, str]] = {s.job: (s.target, s.does) for s in STAGES if s.job}
MAX_KEPT = 200


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    id: str
    kind: str
    status: str = "queued"  # queued | running | succeeded | failed
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    result: dict[str, str] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class JobRegistry:
    """Submit stage runs and look them up; ``on_done`` runs after every job (cache refresh)."""

    def __init__(self, db: Path, write_lock: threading.Lock, on_done: Callable[[], None]) -> None:
        self.db = Path(db)
        self.write_lock = write_lock
        self.on_done = on_done
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trendcast-job")

    def submit(self, kind: str, runner: Callable[[Path, Path], dict[str, str]] | None = None) -> Job:
        """Queue a stage; ``runner`` overrides the stage entry point (tests, custom stages)."""
        if kind not in JOB_KINDS:
            raise NotReadyError(f"Unknown job kind '{kind}'. Choose one of: {', '.join(JOB_KINDS)}.")
        job = Job(id=uuid.uuid4().hex[:12], kind=kind)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > MAX_KEPT:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job, runner)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def _run(self, job: Job, runner: Callable[[Path, Path], dict[str, str]] | None) -> None:
        job.status, job.started_at = "running", _now()
        out = self.db.parent / "jobs" / job.id
        try:
            if runner is None:
                module, func = JOB_KINDS[job.kind][0].split(":")
                runner = getattr(import_module(module), func)
            out.mkdir(parents=True, exist_ok=True)
            with self.write_lock:
                summary = runner(self.db, out)
            job.result = {str(k): str(v) for k, v in (summary or {}).items()}
            job.status = "succeeded"
        except TrendcastError as exc:
            job.status, job.error = "failed", str(exc)
        except Exception as exc:  # a bug in a stage must not kill the worker thread
            log.error("job %s (%s) crashed:\n%s", job.id, job.kind, traceback.format_exc())
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.finished_at = _now()
            self.on_done()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
