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


def _hoist_global(argv: list[str]) -> list[str]:
    """Accept the global ``--wait``/``--verbose`` after the command name too
    (``trendcast ingest --wait 60 ...``): move them in front, where Typer looks for them."""
    front, rest, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--wait" and i + 1 < len(argv):
            front += argv[i:i + 2]
            i += 2
            continue
        if arg.startswith("--wait=") or arg in ("--verbose", "-v"):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def main(argv: list[str] | None = None) -> int:
    """Entry point: one-line reason and non-zero exit on error, traceback with ``--verbose``."""
    _load_commands()
    argv = _hoist_global(list(sys.argv[1:] if argv is None else argv))
    try:
        # Standalone mode: Typer prints usage errors itself and exits via SystemExit.
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except (TrendcastError, OSError, ValueError) as exc:
        if STATE["verbose"]:
            err_console.print_exception()
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        return 1
    except Exception as exc:  # a library's error (DuckDB, pandas, ...): one line, trace on request
        if STATE["verbose"]:
            err_console.print_exception()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        err_console.print(f"[bold red]Error:[/] {type(exc).__name__}: {first} "
                          "(--verbose shows the traceback)", highlight=False, soft_wrap=True)
        return 1
    return 0


def cli_entry() -> None:  # pragma: no cover - thin wrapper for the console script
    sys.exit(main())
