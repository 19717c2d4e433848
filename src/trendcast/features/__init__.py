"""Stage 3 — features: turn warehouse tables into model inputs (calendar, lags, joined covariates)."""
