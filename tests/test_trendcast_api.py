"""The Python API: every public name resolves lazily to a callable without importing torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

import trendcast


@pytest.mark.parametrize("name", sorted(trendcast.API))
def test_public_name_resolves(name: str) -> None:
    assert callable(getattr(trendcast, name))


def test_unknown_name_is_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'fit_everything'"):
        trendcast.fit_everything  # noqa: B018


def test_import_is_light() -> None:
    code = "import sys, trendcast; print(any(m in sys.modules for m in ('torch', 'lightgbm', 'pyspark')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
