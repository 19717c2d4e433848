"""Where things live. One place for paths so tests and benchmarks can redirect them."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
DEMO_DATA_DIR = PACKAGE_DIR / "data" / "demo_data"


def shared_dir() -> Path:
    """The ``../shared`` folder with real data sets (``TRENDCAST_SHARED`` overrides it)."""
    env = os.environ.get("TRENDCAST_SHARED")
    if env:
        return Path(env)
    # src/trendcast -> repo root -> ../shared
    return PACKAGE_DIR.parents[2] / "shared"


def shared_file(*parts: str) -> Path | None:
    """Path of a file under shared/, or None when it is absent (callers skip cleanly)."""
    path = shared_dir().joinpath(*parts)
    return path if path.exists() else None
