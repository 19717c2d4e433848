"""Stage 6 - decide: turn quantile forecasts into inventory, price, promotion, launch, trend,
risk and recommendation decisions.

Modules (each one job): :mod:`~trendcast.decide.inventory`, :mod:`~trendcast.decide.pricing`,
:mod:`~trendcast.decide.promotion`, :mod:`~trendcast.decide.coldstart`,
:mod:`~trendcast.decide.trends`, :mod:`~trendcast.decide.alerts`,
:mod:`~trendcast.decide.recommend`; :mod:`~trendcast.decide.workflows` runs them on a warehouse
(what the CLI calls). Imports are lazy so ``import trendcast.decide`` stays cheap.
"""

from __future__ import annotations

from pathlib import Path


def demo_step(db: Path, out: Path) -> dict[str, str]:
    """Every decision on the demo warehouse, written to ``out/decisions/*.csv``."""
    from trendcast.decide.workflows import demo_step as run

    return run(Path(db), Path(out))


__all__ = ["demo_step"]
