"""The layout of every table trendcast derives and stores in the warehouse, in one place.

Input sources (sales, products, ...) get their tables from :mod:`trendcast.data.schema`; the
tables later stages write (forecasts, runs, live forecasts, explanations, text scores, ...) are
declared here so their columns are visible at a glance and old warehouses can be brought up to
date: :func:`ensure` creates a missing table and adds columns a newer version introduced.
``backtest_metrics`` and the decision tables are replaced whole by the frame they store
(``CREATE OR REPLACE TABLE ... AS SELECT``), so they have no fixed layout here.
"""

from __future__ import annotations

import duckdb

# table -> (column definitions, table constraint or "")
TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "forecasts": ((
        "run_id VARCHAR", "created_at TIMESTAMP", "model VARCHAR", "level VARCHAR",
        "unique_id VARCHAR", "item_id VARCHAR", "store_id VARCHAR", "date DATE",
        "forecast DOUBLE", "quantiles VARCHAR",
    ), ""),
    "forecast_runs": ((
        "run_id VARCHAR PRIMARY KEY", "created_at TIMESTAMP", "model VARCHAR",
        "horizon INTEGER", "quantiles VARCHAR", "reconcile VARCHAR", "explanation VARCHAR",
        "freq VARCHAR", "covariates VARCHAR",  # covariates: JSON list of {name, label, source, ...}
    ), ""),
    "live_forecasts": ((
        "name VARCHAR NOT NULL", "version INTEGER NOT NULL", "as_of TIMESTAMP NOT NULL",
        "unique_id VARCHAR NOT NULL", "ds DATE NOT NULL", "forecast DOUBLE",
    ), ""),  # plus one DOUBLE column per quantile (q0.1, ...), added as they appear
    "explanations": ((
        "run_id VARCHAR NOT NULL", "model VARCHAR", "kind VARCHAR", "unique_id VARCHAR",
        "ds DATE", "feature VARCHAR NOT NULL", "value DOUBLE", "created_at TIMESTAMP",
    ), ""),
    "text_scores": ((
        "text_id VARCHAR PRIMARY KEY", "date DATE", "item_id VARCHAR", "source VARCHAR",
        "rating DOUBLE", "lang VARCHAR", "label VARCHAR", "score DOUBLE", "model VARCHAR",
        "tokens VARCHAR", "mentions VARCHAR",
    ), ""),
    "text_aspects": ((
        "text_id VARCHAR", "aspect VARCHAR", "score DOUBLE", "clause VARCHAR",
    ), ""),  # one row per (text, aspect) clause found by trendcast.text.aspects
    "text_embeddings": ((
        "text_hash VARCHAR NOT NULL", "model VARCHAR NOT NULL", "vector FLOAT[] NOT NULL",
    ), "PRIMARY KEY (text_hash, model)"),
    "api_tokens": ((
        "token_id VARCHAR PRIMARY KEY", "name VARCHAR NOT NULL",
        "token_hash VARCHAR NOT NULL UNIQUE", "admin BOOLEAN NOT NULL DEFAULT FALSE",
        "created_at TIMESTAMP NOT NULL", "revoked_at TIMESTAMP",
    ), ""),
}


def ddl(name: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for a stored table."""
    columns, constraint = TABLES[name]
    body = ", ".join([*columns, constraint] if constraint else columns)
    return f"CREATE TABLE IF NOT EXISTS {name} ({body})"


def ensure(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Create table ``name`` if missing and add the plain columns an older warehouse lacks."""
    con.execute(ddl(name))
    for column in TABLES[name][0]:
        if any(word in column for word in ("PRIMARY", "NOT NULL", "UNIQUE")):
            continue  # key columns exist since the table's first version
        col, kind = column.split(" ", 1)
        con.execute(f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {col} {kind}")
