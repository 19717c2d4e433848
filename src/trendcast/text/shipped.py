"""The model files shipped in ``trendcast/text/resources``, found through importlib.resources so
an installed wheel finds them as a source checkout does."""

from __future__ import annotations

from pathlib import Path

from trendcast.errors import NotReadyError

PACKAGE = "trendcast.text.resources"


def is_shipped(name: str) -> bool:
    from importlib import resources

    return resources.files(PACKAGE).joinpath(name).is_file()


def shipped_path(name: str, what: str, retrain: str) -> Path:
    """Path of the shipped file ``name``; a missing one says which model and how to train it."""
    from importlib import resources

    ref = resources.files(PACKAGE).joinpath(name)
    if not ref.is_file():
        raise NotReadyError(f"No {what} shipped: run {retrain}.")
    return Path(str(ref))
