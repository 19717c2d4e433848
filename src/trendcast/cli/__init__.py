"""Command-line interface. Each module in this package adds its commands to :data:`app`.

A new command is one file here: it imports ``app`` from :mod:`trendcast.cli.app` and
decorates functions with ``@app.command()``; :func:`main` imports every module.
"""

from __future__ import annotations

import pkgutil
import sys
from importlib import import_module

from trendcast.cli.app import STATE, app, err_console
from trendcast.errors import TrendcastError


def _load_commands() -> None:
    for mod in pkgutil.iter_modules(__path__):
        if mod.name != "app":
            import_module(f"{__name__}.{mod.name}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: one-line reason and non-zero exit on error, traceback with ``--verbose``."""
    _load_commands()
    try:
        # Standalone mode: Typer prints usage errors itself and exits via SystemExit.
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except (TrendcastError, OSError, ValueError) as exc:
        if STATE["verbose"]:
            err_console.print_exception()
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False)
        return 1
    return 0


def cli_entry() -> None:  # pragma: no cover - thin wrapper for the console script
    sys.exit(main())
