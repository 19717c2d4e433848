"""The Typer application and what every command shares: console, progress bars, error exit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

app = typer.Typer(
    name="trendcast",
    help="Forecast e-commerce market trends and turn them into decisions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=False)
err_console = Console(stderr=True)
STATE = {"verbose": False}

T = TypeVar("T")


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the full traceback on errors."),
) -> None:
    """trendcast: ingest shop data, read its text, forecast, evaluate, decide and report."""
    STATE["verbose"] = verbose


def progress() -> Progress:
    """A Rich progress bar in trendcast's style (transient, with ETA)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar (the CLI's way to show anything that takes over a second)."""
    with progress() as bar:
        task = bar.add_task(description, total=total if total is not None else _len(items))
        for item in items:
            yield item
            bar.advance(task)


def _len(items: Iterable[object]) -> int | None:
    try:
        return len(items)  # type: ignore[arg-type]
    except TypeError:
        return None
