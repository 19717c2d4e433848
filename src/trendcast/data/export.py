"""Writing frames to CSV for people to open in a spreadsheet, without running anything.

A product id like ``=cmd|' /C calc'!A0`` is fine data in the warehouse but a formula in Excel or
LibreOffice when it starts a CSV cell. Every text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is written with a leading apostrophe (OWASP's advice), which
spreadsheets show as plain text; numbers are untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot be read as spreadsheet formulas."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        text = series.astype("string")
        risky = text.str.startswith(FORMULA_START).fillna(False).astype(bool)
        if risky.any():
            out[col] = series.astype(object).where(~risky, "'" + text.astype(object))
    return out


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> None:
    """``df.to_csv(path, index=False, **kwargs)`` with formula-leading cells escaped."""
    kwargs.setdefault("index", False)
    escape_formulas(df).to_csv(path, **kwargs)


__all__ = ["FORMULA_START", "escape_formulas", "write_csv"]
