"""The sales panel the forecasting service reads from the warehouse."""

from __future__ import annotations

import pandas as pd


def test_sales_panel_keeps_one_string_per_distinct_id(small_panel: pd.DataFrame) -> None:
    """Read through Arrow, each identifier is one Python string shared by its rows, not one per
    row: four id columns of 3.5 M rows otherwise cost a gigabyte before any model runs."""
    for col in ("unique_id", "item_id", "store_id", "category"):
        values = small_panel[col].to_numpy()
        assert len({id(v) for v in values}) == small_panel[col].nunique(), col
    assert small_panel["ds"].dtype == "datetime64[ns]" and small_panel["promo"].dtype == "int8"
    assert small_panel.equals(small_panel.sort_values(["unique_id", "ds"]))  # sorted: models need no copy
