# replaced by fusion10 at merge
"""Every warehouse source turned into covariates at the data's frequency (contract 2).

This branch carries only the interface: :func:`fuse` returns its inputs unchanged and uses no
covariate, so the forecasting service can call it; fusion10's module replaces this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from trendcast.data.warehouse import Warehouse


@dataclass(frozen=True)
class Covariate:
    name: str  # column name in the frames
    label: str  # readable: "review sentiment, mean over the week, 1 week earlier"
    source: str  # "text" | "behaviour" | "calendar" | "price" | "promo" | "external"
    future_known: bool


@dataclass
class Fused:
    panel: pd.DataFrame  # the input panel plus one numeric column per covariate used
    future: pd.DataFrame  # the input future frame plus the same covariate columns
    used: list[Covariate] = field(default_factory=list)


def fuse(
    wh: Warehouse,
    panel: pd.DataFrame,
    future: pd.DataFrame,
    freq: str,
    horizon: int,
    covariates: str | Sequence[str] = "auto",
    country: str | None = None,
) -> Fused:
    """The inputs unchanged, no covariate used (fusion10's module replaces this)."""
    return Fused(panel, future, [])


def feature_label(name: str, freq: str = "D") -> str:
    """A readable name for a model feature (fusion10's module replaces this)."""
    return name
