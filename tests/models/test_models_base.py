"""What every model shares: the cores its threads or worker processes may use."""

from __future__ import annotations

import pytest


def test_models_use_the_cores_other_programs_leave_free(monkeypatch: pytest.MonkeyPatch) -> None:
    from trendcast.models import base

    monkeypatch.setattr(base.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(base, "_running_tasks", lambda: None)  # no run queue: the load average alone
    for load, cores in ((0.3, 2), (1.0, 2), (2.0, 1), (3.9, 1)):  # the load includes this process
        monkeypatch.setattr(base.os, "getloadavg", lambda load=load: (load, load, load))
        assert base.free_cores() == cores
    # auto's own AutoETS workers kept both cores busy for a minute and have just finished: the
    # load average still says 2, the run queue says only this process runs now
    monkeypatch.setattr(base.os, "getloadavg", lambda: (2.0, 1.5, 1.0))
    monkeypatch.setattr(base, "_running_tasks", lambda: 1)
    assert base.free_cores() == 2
    monkeypatch.setattr(base, "_running_tasks", lambda: 3)  # another program is busy now too
    assert base.free_cores() == 1


def test_the_run_queue_is_read_where_the_system_has_one() -> None:
    from trendcast.models import base

    running = base._running_tasks()
    assert running is None or running >= 1  # this test itself is running
