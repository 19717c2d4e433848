"""Stage 1 — data: the input contract, the DuckDB warehouse, ingest and the demo data set."""
