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
WAIT_HELP = ("Seconds to wait for a warehouse another process holds (e.g. a running `trendcast serve`) "
             "before giving up with the process's name; default 30 or TRENDCAST_WAIT.")

T = TypeVar("T")


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the full traceback on errors."),
    wait: float | None = typer.Option(None, "--wait", min=0, help=WAIT_HELP),
) -> None:
    """trendcast: ingest shop data, read its text, forecast, evaluate, decide and report."""
    from trendcast.data.warehouse import LOCK_WAIT

    STATE["verbose"] = verbose
    LOCK_WAIT["seconds"] = wait
    LOCK_WAIT["notify"] = lambda message: err_console.print(f"[yellow]{message}[/]", highlight=False,
                                                            soft_wrap=True)


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
