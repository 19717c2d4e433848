"""Where and when models run: local or on Dask/Spark/Ray (:mod:`.distributed`), and continuous
learning with versioned artefacts and drift checks (:mod:`.learn`).

``engine_option`` is the Typer option every forecasting command reuses::

    def forecast(..., engine: str = engine_option): ...
"""

from __future__ import annotations

import typer

from trendcast.engine.distributed import ENGINES, check_engine, run_forecast
from trendcast.errors import ConfigError


def _engine_callback(value: str) -> str:
    """Typer callback: reject an unknown or uninstalled engine as a usage error, in words."""
    try:
        return check_engine(value)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None


engine_option = typer.Option(
    "local",
    "--engine",
    help=f"Where to run: {', '.join(ENGINES)} (dask/spark/ray use a running cluster or start a local one).",
    callback=_engine_callback,
)

__all__ = ["ENGINES", "check_engine", "engine_option", "run_forecast"]
