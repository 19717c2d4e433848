"""Stage 5 — evaluate: metrics, rolling-origin backtests, the sales hierarchy and reconciliation,
automatic model selection, and the forecast/backtest orchestration behind the CLI."""
