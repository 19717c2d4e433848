"""How the CLI shows long runs: a Rich progress bar per auto-mode candidate (with ETA) on a
terminal, and one plain line per step when stderr is not a terminal (logs, CI, cron), where a
live bar would print nothing useful.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, TaskID

from trendcast.cli.app import err_console, progress
from trendcast.evaluate.progress import AutoStep


class StepView:
    """Callbacks for the library: ``view.say(text)`` for stages, ``view(step)`` for auto mode."""

    def __init__(self, label: str, console: Console, bar: Progress | None) -> None:
        self.console, self.bar = console, bar
        self.main: TaskID | None = bar.add_task(label, total=None) if bar else None
        self.tasks: dict[str, TaskID] = {}

    def say(self, text: str) -> None:
        """A stage of the command (``reading the warehouse``, ``writing the output``)."""
        if self.bar is not None and self.main is not None:
            self.bar.update(self.main, description=text)
        else:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def __call__(self, step: AutoStep) -> None:
        windowed = step.stage in ("backtest", "reconcile")  # a bar per candidate (or MinT) and window
        if self.bar is None:
            if step.status != "start" or not windowed:
                self.console.print(step.line(), markup=False, highlight=False, soft_wrap=True)
            return
        if not windowed:
            if self.main is not None:
                self.bar.update(self.main, description=step.line())
            return
        label = f"{step.stage} {step.model}"
        task = self.tasks.get(label)
        if task is None:
            task = self.tasks[label] = self.bar.add_task(label, total=step.windows)
        self.bar.update(task, total=step.windows)
        if step.status == "done":
            self.bar.advance(task)
        elif step.status in ("failed", "dropped"):
            self.bar.update(task, description=f"{label}: {step.status}", completed=step.windows)

    def backtest_step(self, label: str) -> None:
        """The plain backtest's per-(model, window) label (``auto_ets @ 2024-05-01``)."""
        if self.bar is not None and self.main is not None:
            self.bar.update(self.main, description=label, advance=1)
        else:
            self.console.print(f"backtest {label}", markup=False, highlight=False, soft_wrap=True)


@contextmanager
def step_view(label: str, total: int | None = None, console: Console | None = None) -> Iterator[StepView]:
    """A :class:`StepView` drawing on ``console`` (stderr by default)."""
    console = console or err_console
    if console.is_terminal:
        with progress() as bar:
            view = StepView(label, console, bar)
            if total is not None and view.main is not None:
                bar.update(view.main, total=total)
            yield view
    else:
        yield StepView(label, console, None)
