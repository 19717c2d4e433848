"""Generic covariate joining: any dated table becomes extra columns on the sales panel.

Text signals, web traffic or weather all arrive the same way: a frame with a date column, one
or more key columns that also exist on the panel (``item_id``, ``category``, ``store_id``) and
value columns. A value dated ``d`` is only known after day ``d`` ends, so it is joined onto
``ds = d + lag`` (``lag >= 1``): nothing from the forecast day itself leaks in.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from trendcast.errors import ConfigError, InputError


def join_covariates(
    panel: pd.DataFrame,
    table: pd.DataFrame,
    keys: Sequence[str],
    *,
    date_col: str = "date",
    lag: int = 1,
    prefix: str = "",
    fill: float | None = 0.0,
) -> pd.DataFrame:
    """Left-join ``table``'s value columns onto ``panel`` by ``keys`` and date shifted by ``lag`` days.

    Returns a new frame with the same rows and order as ``panel``. Missing values become ``fill``
    (``None`` keeps NaN, for models that handle it).
    """
    if lag < 1:
        raise ConfigError(f"Covariate lag must be at least 1 day so the forecast day cannot leak; got {lag}.")
    missing = [k for k in keys if k not in panel.columns or k not in table.columns]
    if missing or date_col not in table.columns:
        raise InputError(f"Cannot join covariates: key column(s) {missing or [date_col]} missing on one side.")
    values = [c for c in table.columns if c not in (*keys, date_col)]
    right = table[[*keys, date_col, *values]].copy()
    right["ds"] = pd.to_datetime(right[date_col]).astype("datetime64[ns]") + pd.Timedelta(days=lag)
    right = right.drop(columns=date_col).rename(columns={v: f"{prefix}{v}" for v in values})
    if right.duplicated([*keys, "ds"]).any():
        raise InputError(f"Covariate table has more than one row per {list(keys)} and date.")
    left = panel.copy()
    left["ds"] = pd.to_datetime(left["ds"]).astype("datetime64[ns]")
    out = left.merge(right, on=[*keys, "ds"], how="left", validate="many_to_one")
    new_cols = [f"{prefix}{v}" for v in values]
    if fill is not None:
        out[new_cols] = out[new_cols].fillna(fill)
    return out
