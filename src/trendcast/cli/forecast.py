"""``trendcast forecast``, ``trendcast backtest`` and ``trendcast plot``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from trendcast.cli.app import app, console, progress
from trendcast.engine import engine_option
from trendcast.errors import ConfigError


def _floats(text: str | None) -> list[float]:
    if not text:
        return []
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--quantiles must be numbers separated by commas, e.g. 0.1,0.5,0.9; got '{text}'.") from None


def _names(text: str | None) -> list[str] | None:
    return [v.strip() for v in text.split(",") if v.strip()] if text else None


WEIGHTS = typer.Option(
    None, "--weights", help="Fine-tuned PatchCast folder (from `trendcast finetune`) for --model patchtst_pretrained.")


@app.command()
def forecast(
    db: Path = typer.Option(..., help="Warehouse file (DuckDB) filled by `trendcast ingest`."),
    horizon: int = typer.Option(28, help="Days to forecast."),
    model: str = typer.Option("auto", help="Model name (see `trendcast models available`) or 'auto' to pick by backtest."),
    quantiles: str = typer.Option("0.1,0.5,0.9", help="Quantiles to forecast, comma-separated."),
    reconcile: str = typer.Option("bottom_up", help="Make levels add up: bottom_up, mint or none."),
    out: Path = typer.Option(Path("forecast.csv"), help="Output file: .csv or .parquet."),
    future: Path | None = typer.Option(None, help="Future plan CSV/Parquet: item_id, store_id, date, price, promo."),
    levels: bool = typer.Option(False, "--levels", help="Also write aggregated levels (store, category, total...)."),
    engine: str = engine_option,
    weights: Path | None = WEIGHTS,
) -> None:
    """Forecast every item (and store) HORIZON days ahead; stores the run in the warehouse."""
    from trendcast.evaluate.run import forecast as run_forecast
    from trendcast.models.registry import weights_params

    params = weights_params(model, weights)
    with progress() as bar:
        task = bar.add_task("forecast", total=None)
        result = run_forecast(
            db, horizon, model=model, quantiles=_floats(quantiles), reconcile=reconcile, out=out,
            future=future, levels=levels, engine=engine, on_step=lambda s: bar.update(task, description=s),
            model_params=params or None,
        )
    console.print(f"Wrote {len(result)} rows to [bold]{out}[/] (run {result.attrs.get('run_id', '-')}).")
    if result.attrs.get("explanation"):
        console.print(result.attrs["explanation"])


@app.command()
def backtest(
    db: Path = typer.Option(..., help="Warehouse file (DuckDB) filled by `trendcast ingest`."),
    horizon: int = typer.Option(28, help="Days forecast in each window."),
    windows: int = typer.Option(2, help="Number of rolling-origin windows."),
    step: int | None = typer.Option(None, help="Days between window starts (default: the horizon)."),
    models: str = typer.Option("seasonal_naive,moving_average,croston", help="Models to compare, comma-separated."),
    quantiles: str = typer.Option("0.1,0.5,0.9", help="Quantiles to score (pinball loss, coverage)."),
    reconcile: str = typer.Option("none", help="Reconcile each window's forecasts: none or mint."),
    out: Path = typer.Option(Path("metrics.json"), help="Metrics JSON (per model, per hierarchy level)."),
    forecasts_out: Path | None = typer.Option(None, help="Also write every window's forecasts (.csv/.parquet)."),
    weights: Path | None = WEIGHTS,
) -> None:
    """Score models on past windows: train up to each cutoff only, forecast, compare with what sold."""
    from trendcast.evaluate.run import backtest as run_backtest
    from trendcast.models.registry import WEIGHTS_MODELS, weights_params

    names = _names(models) or []
    per_model: dict[str, dict[str, object]] = {}
    if weights is not None:
        targets = [m for m in names if m in WEIGHTS_MODELS]
        if not targets:
            weights_params(names[0] if names else "?", weights)  # raises the explanatory error
        per_model = {m: weights_params(m, weights) for m in targets}
    with progress() as bar:
        task = bar.add_task("backtest", total=windows * len(names))

        def on_step(label: str) -> None:
            bar.update(task, description=label, advance=1)

        metrics = run_backtest(
            db, horizon, windows, step, names, _floats(quantiles), reconcile=reconcile, out=out,
            forecasts_out=forecasts_out, on_step=on_step, model_params=per_model or None,
        )
    table = Table(title=f"Backtest: {windows} windows x {horizon} days")
    for col in ("model", "wrmsse", "mase", "rmsse", "smape", "pinball", "trend_macro_f1", "seconds"):
        table.add_column(col, justify="left" if col == "model" else "right")
    cols = ("model", "wrmsse", "mase", "rmsse", "smape", "pinball", "trend_macro_f1", "seconds")
    for row in metrics["leaderboard"]:
        table.add_row(*(str(row[c]) if c == "model" else f"{row[c]:.3f}" for c in cols))
    console.print(table)
    if metrics.get("errors"):
        console.print(f"[yellow]Failed models:[/] {json.dumps(metrics['errors'])}")
    console.print(f"Metrics per model and level in [bold]{out}[/].")


@app.command()
def plot(
    db: Path = typer.Option(..., help="Warehouse file with sales and a stored forecast run."),
    items: str = typer.Option(..., help="Item ids to plot, comma-separated (e.g. I001,I002)."),
    out: Path = typer.Option(Path("forecast_plot.html"), help="Output: .html (interactive) or .png."),
    run_id: str | None = typer.Option(None, help="Forecast run to plot (default: the latest)."),
) -> None:
    """Plot history against the stored forecast with its quantile band for chosen items."""
    from trendcast.evaluate.plots import plot_forecasts
    from trendcast.evaluate.run import latest_forecasts, load_panel

    fc = latest_forecasts(db, run_id)
    bottom = fc[fc["item_id"].notna()]  # aggregated levels have no item_id
    path = plot_forecasts(load_panel(db), bottom, _names(items) or [], out)
    console.print(f"Plot written to [bold]{path}[/].")
