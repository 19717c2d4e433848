"""The long-frame vocabulary every stage shares: column names and quantile columns.

It sits at the top of the package, below nothing, so ``data`` and ``features`` can speak the
same column names as ``models`` without importing the models.
"""

from __future__ import annotations

from collections.abc import Sequence

from trendcast.errors import ConfigError

ID, TIME, TARGET, FORECAST = "unique_id", "ds", "y", "forecast"
CUTOFF = "cutoff"  # the last training date of a backtest window


def quantile_column(q: float) -> str:
    """Column name for quantile ``q``: 0.1 -> ``q0.1``, 0.05 -> ``q0.05``."""
    return f"q{q:g}"


def check_quantiles(quantiles: Sequence[float] | None) -> list[float]:
    """Sorted, de-duplicated quantile levels, each strictly inside (0, 1)."""
    if not quantiles:
        return []
    qs = sorted({float(q) for q in quantiles})
    bad = [q for q in qs if not 0.0 < q < 1.0]
    if bad:
        raise ConfigError(f"Quantiles must lie strictly between 0 and 1; got {bad}.")
    return qs
