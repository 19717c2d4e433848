"""``trendcast forecast``, ``trendcast backtest`` and ``trendcast plot``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from trendcast.cli.app import app, console
from trendcast.cli.progress_view import step_view
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


FREQ_HELP = ("Frequency: D, W-MON..W-SUN, MS or ME (default: the warehouse's, detected at "
             "ingest; a coarser one sums the sales into its periods).")
COVARIATES_HELP = "Covariates from the warehouse: auto (every source), none, or names comma-separated."
COUNTRY_HELP = "Country whose public holidays and shopping festivals are covariates: an ISO code (CN, US, DE, JP, ...)."


def covariate_choice(text: str) -> str | list[str]:
    return text if text in ("auto", "none") else (_names(text) or "none")


TIME_BUDGET = typer.Option(
    None, "--time-budget", help="Seconds auto mode may take: backtesting and fitting its candidates, "
    "and in forecast also reading and fusing the data (default: grows with the number of series, "
    "90 s to 240 s).",
)


INTERVALS = typer.Option(
    "backtest", "--intervals", help="Where auto's quantiles come from: backtest (its own backtest errors, "
    "scaled to each series) or members (the chosen models' own intervals, mixed).",
)


def _auto_params(time_budget: float | None, view: object, intervals: str = "backtest") -> dict[str, object]:
    """Parameters for the ``auto`` model: the time budget, the intervals and the progress callback."""
    if time_budget is not None and time_budget <= 0:
        raise ConfigError(f"--time-budget must be a positive number of seconds; got {time_budget}.")
    return {"on_progress": view, "intervals": intervals,
            **({"time_budget": time_budget} if time_budget is not None else {})}


WEIGHTS = typer.Option(
    None, "--weights", help="Fine-tuned PatchCast folder (from `trendcast finetune`) for --model patchtst_pretrained, "
    "or the weights --model patchtst_finetuned starts from.")


@app.command()
def forecast(
    db: Path = typer.Option(..., help="Warehouse file (DuckDB) filled by `trendcast ingest`."),
    horizon: int | None = typer.Option(
        None, help="Periods to forecast (default 28 days, 13 weeks or 6 months by frequency)."),
    model: str = typer.Option("auto", help="Model name (see `trendcast models available`) or 'auto' to pick by backtest."),
    quantiles: str = typer.Option("0.1,0.5,0.9", help="Quantiles to forecast, comma-separated."),
    reconcile: str = typer.Option(
        "auto", help="Make levels add up: auto (with --model auto: MinT if it clearly wins the backtest, "
        "else bottom-up; other models: bottom-up), bottom_up, mint or none."),
    out: Path = typer.Option(Path("forecast.csv"), help="Output file: .csv or .parquet."),
    future: Path | None = typer.Option(None, help="Future plan CSV/Parquet: item_id, store_id, date, price, promo."),
    levels: bool = typer.Option(False, "--levels", help="Also write aggregated levels (store, category, total...)."),
    engine: str = engine_option,
    freq: str | None = typer.Option(None, help=FREQ_HELP),
    covariates: str = typer.Option("auto", help=COVARIATES_HELP),
    country: str | None = typer.Option(None, help=COUNTRY_HELP),
    time_budget: float | None = TIME_BUDGET,
    intervals: str = INTERVALS,
    weights: Path | None = WEIGHTS,
) -> None:
    """Forecast every item (and store) HORIZON periods ahead; stores the run in the warehouse."""
    from trendcast.features.frequency import unit
    from trendcast.forecasting import forecast as run_forecast
    from trendcast.models.registry import weights_params

    with step_view("forecast") as view:
        params = weights_params(model, weights)  # {} without --weights; refuses other models
        if model == "auto":
            params.update(_auto_params(time_budget, view, intervals))
        result = run_forecast(
            db, horizon, model=model, quantiles=_floats(quantiles), reconcile=reconcile, out=out,
            future=future, levels=levels, engine=engine, on_step=view.say, model_params=params or None,
            freq=freq, covariates=covariate_choice(covariates), country=country,
        )
    console.print(
        f"Wrote {len(result)} rows to [bold]{out}[/] (run {result.attrs.get('run_id', '-')}): "
        f"{result.attrs['horizon']} {unit(result.attrs['freq'])}s ahead, frequency {result.attrs['freq']}."
    )
    if result.attrs.get("explanation"):
        console.print(result.attrs["explanation"], soft_wrap=True, highlight=False, markup=False)


@app.command()
def backtest(
    db: Path = typer.Option(..., help="Warehouse file (DuckDB) filled by `trendcast ingest`."),
    horizon: int | None = typer.Option(
        None, help="Periods forecast in each window (default 28 days, 13 weeks or 6 months)."),
    windows: int = typer.Option(2, help="Number of rolling-origin windows."),
    step: int | None = typer.Option(None, help="Periods between window starts (default: the horizon)."),
    models: str = typer.Option("seasonal_naive,moving_average,croston", help="Models to compare, comma-separated."),
    quantiles: str = typer.Option("0.1,0.5,0.9", help="Quantiles to score (pinball loss, coverage)."),
    reconcile: str = typer.Option("none", help="Reconcile each window's forecasts: none or mint."),
    out: Path = typer.Option(Path("metrics.json"), help="Metrics JSON (per model, per hierarchy level)."),
    forecasts_out: Path | None = typer.Option(None, help="Also write every window's forecasts (.csv/.parquet)."),
    freq: str | None = typer.Option(None, help=FREQ_HELP),
    covariates: str = typer.Option("auto", help=COVARIATES_HELP),
    country: str | None = typer.Option(None, help=COUNTRY_HELP),
    time_budget: float | None = TIME_BUDGET,
    weights: Path | None = WEIGHTS,
) -> None:
    """Score models on past windows: train up to each cutoff only, forecast, compare with what sold."""
    from trendcast.features.frequency import unit
    from trendcast.forecasting import backtest as run_backtest
    from trendcast.models.registry import WEIGHTS_MODELS, weights_params

    names = _names(models) or []
    with step_view("backtest", total=windows * len(names)) as view:
        params: dict[str, dict[str, object]] = {}
        if weights is not None:
            targets = [m for m in names if m in WEIGHTS_MODELS]
            if not targets:
                weights_params(names[0] if names else "?", weights)  # raises the explanatory error
            params = {m: weights_params(m, weights) for m in targets}
        if "auto" in names:
            params["auto"] = _auto_params(time_budget, view)
        metrics = run_backtest(
            db, horizon, windows, step, names, _floats(quantiles), reconcile=reconcile, out=out,
            forecasts_out=forecasts_out, on_step=view.backtest_step, model_params=params or None, freq=freq,
            covariates=covariate_choice(covariates), country=country,
        )
    config = metrics["config"]
    table = Table(title=f"Backtest: {len(config['cutoffs'])} windows x {config['horizon']} {unit(config['freq'])}s")
    for col in ("model", "wrmsse", "mase", "rmsse", "smape", "pinball", "trend_macro_f1", "seconds"):
        table.add_column(col, justify="left" if col == "model" else "right")
    cols = ("model", "wrmsse", "mase", "rmsse", "smape", "pinball", "trend_macro_f1", "seconds")
    for row in metrics["leaderboard"]:
        table.add_row(*(str(row[c]) if c == "model" else f"{row[c]:.3f}" for c in cols))
    console.print(table)
    if config.get("skipped_cutoffs"):
        console.print(f"[yellow]Windows skipped[/] (no series had {config['min_train']} {unit(config['freq'])}s "
                      f"of history before them): cutoffs {', '.join(config['skipped_cutoffs'])}.")
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
    from trendcast.forecasting import latest_forecasts, load_panel

    fc = latest_forecasts(db, run_id)
    bottom = fc[fc["item_id"].notna()]  # aggregated levels have no item_id
    path = plot_forecasts(load_panel(db), bottom, _names(items) or [], out)
    console.print(f"Plot written to [bold]{path}[/].")
