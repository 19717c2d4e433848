"""``trendcast update``, ``trendcast models available|list|compare|rollback`` and ``trendcast explain``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import typer
from rich.progress import Progress
from rich.table import Table

from trendcast.cli.app import app, console, progress
from trendcast.cli.forecast import COUNTRY_HELP, COVARIATES_HELP, FREQ_HELP, covariate_choice
from trendcast.cli.ingest import ORDERS_HELP
from trendcast.data.export import write_csv
from trendcast.errors import InputError
from trendcast.evaluate.drift import ERROR_RATIO, MIN_POINTS, PSI_THRESHOLD

models_app = typer.Typer(
    help="Available models, and list, compare and roll back trained versions.", no_args_is_help=True
)
app.add_typer(models_app, name="models")

DB = typer.Option(..., "--db", help="The warehouse file (DuckDB), e.g. shop.duckdb.")


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    table = Table(title=title)
    table.add_column("" if frame.index.name is None else str(frame.index.name), style="bold")
    for col in frame.columns:
        table.add_column(str(col))
    for idx, row in frame.iterrows():
        table.add_row(str(idx), *(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)


def _spinner(label: str) -> Progress:
    bar = progress()
    bar.add_task(label, total=None)
    return bar


@app.command()
def update(
    db: Path = DB,
    sales: Path | None = typer.Option(None, "--sales", help="New sales CSV to ingest first."),
    texts: Path | None = typer.Option(None, "--texts", help="New texts CSV (reviews, posts) to ingest first."),
    products: Path | None = typer.Option(None, "--products", help="New or changed products CSV to ingest first."),
    events: Path | None = typer.Option(None, "--events", help="New events CSV (views, carts) to ingest first."),
    inventory: Path | None = typer.Option(None, "--inventory", help="New inventory CSV to ingest first."),
    model: str = typer.Option("lightgbm", "--model", help="Registered model for the first version (later versions keep the stored one)."),
    name: str | None = typer.Option(None, "--name", help="Name the versions are stored under (default: the model name)."),
    horizon: int | None = typer.Option(
        None, "--horizon", "-h", min=1, help="Periods to forecast (default 28 days, 13 weeks or 6 months)."),
    retrain: bool = typer.Option(False, "--retrain", help="Train a new version even without drift."),
    history_days: int | None = typer.Option(
        None, "--history-days", min=60, help="Train new versions on only the last N days (faster)."
    ),
    ratio: float = typer.Option(ERROR_RATIO, help="Retrain when live WAPE/MASE exceed the backtest by this factor."),
    min_points: int = typer.Option(MIN_POINTS, help="Judge error drift only with at least this many new points."),
    psi: float = typer.Option(PSI_THRESHOLD, help="PSI above which a covariate counts as shifted."),
    freq: str | None = typer.Option(None, help=FREQ_HELP),
    orders: bool = typer.Option(None, "--orders/--no-orders", help=ORDERS_HELP),
    covariates: str = typer.Option("auto", help=COVARIATES_HELP),
    country: str | None = typer.Option(None, help=COUNTRY_HELP),
    weights: Path | None = typer.Option(
        None, "--weights", help="Fine-tuned PatchCast folder (from `trendcast finetune`) for --model patchtst_pretrained; "
        "stored with the version, so retrains keep it."),
) -> None:
    """Ingest new data, check drift, and refresh forecasts or retrain a new model version."""
    from trendcast.engine.learn import update as run_update
    from trendcast.models.registry import weights_params

    with _spinner("updating"):
        result = run_update(
            db, sales, texts, products=products, events=events, inventory=inventory,
            model_name=model, name=name, h=horizon, retrain=retrain, ratio=ratio,
            min_points=min_points, psi_threshold=psi, history_days=history_days, freq=freq, orders=orders,
            covariates=covariate_choice(covariates), country=country,
            params=weights_params(model, weights) or None,
        )
    for key, value in result.summary().items():
        console.print(f"[bold]{key}:[/] {value}")
    for line in result.messages:
        console.print(f"  {line}")
    if result.drift is not None and not result.drift.covariates.empty:
        _print_frame(result.drift.covariates.set_index("feature"), "covariate shift")


@models_app.command("available")
def models_available() -> None:
    """Names of the forecasting models you can train (for --model)."""
    from trendcast.models.registry import available_models

    for name in available_models():
        console.print(name)


@models_app.command("list")
def models_list(
    db: Path = DB,
    name: str | None = typer.Option(None, "--name", help="Only this model name."),
) -> None:
    """Every stored model version with its data range and backtest metrics."""
    from trendcast.models.artefacts import list_artefacts

    frame = list_artefacts(db, name)
    if frame.empty:
        console.print("No model versions yet: run `trendcast update`.")
        return
    # A compact view that fits a terminal; `models compare` shows every field.
    view = pd.DataFrame(
        {
            "version": frame["name"] + " " + frame["version"],
            "active": frame["active"].map({True: "*", False: ""}),
            "created": frame["created_at"].str.slice(0, 16).str.replace("T", " "),
            "data": frame["data_from"] + " .. " + frame["data_to"],
            "series": frame["n_series"],
            **{m: frame[f"metric_{m}"] for m in ("wape", "mase") if f"metric_{m}" in frame},
            "notes": frame["notes"].str.slice(0, 40),
        }
    )
    _print_frame(view.set_index("version"), "model versions (* = active)")


@models_app.command("compare")
def models_compare(
    db: Path = DB,
    name: str = typer.Option(..., "--name", help="Model name to compare versions of."),
    versions: str | None = typer.Option(None, "--versions", help="Comma-separated versions, e.g. 1,3 (default all)."),
) -> None:
    """Metrics, data range and settings of versions side by side."""
    from trendcast.models.artefacts import compare_artefacts

    chosen = [int(v.strip().lstrip("v")) for v in versions.split(",")] if versions else None
    _print_frame(compare_artefacts(db, name, chosen), f"{name}: versions compared")


@models_app.command("rollback")
def models_rollback(
    db: Path = DB,
    name: str = typer.Option(..., "--name", help="Model name to roll back."),
    to: str | None = typer.Option(None, "--to", help="Version to activate, e.g. 2 or v0002 (default: the previous one)."),
) -> None:
    """Activate an earlier version; its forecasts are re-made, checked identical and made live."""
    from trendcast.engine.learn import write_live_forecasts
    from trendcast.models.artefacts import rollback

    with _spinner("reloading and checking the version"):
        art = rollback(
            db, name, int(to.lstrip("v")) if to else None,
            on_forecast=lambda a, fc: write_live_forecasts(db, name, a.version, fc),
        )
    console.print(f"{name} {art.label} is active again; its forecasts were reproduced exactly.")


@app.command()
def explain(
    db: Path = DB,
    item: str = typer.Option(..., "--item", help="Series to explain: unique_id (e.g. S1/I001) or item id."),
    date: str | None = typer.Option(None, "--date", help="Forecast day to explain (default: the first)."),
    out: Path = typer.Option(Path("explain.csv"), "--out", help="CSV to write the drivers to."),
    model: str = typer.Option("lightgbm", "--model", help="Registered model (LightGBM: SHAP; others: permutation)."),
    horizon: int | None = typer.Option(
        None, "--horizon", min=1,
        help="Periods forecast (default: the stored version's; a new one: 28 days, 13 weeks or 6 months)."),
    top: int = typer.Option(10, "--top", min=1, help="How many drivers to show."),
) -> None:
    """Which features drove one item's forecast (SHAP for LightGBM, permutation importance otherwise)."""
    from trendcast.engine.learn import ensure_trained
    from trendcast.evaluate.explain import permutation_importance, shap_forecast, top_drivers
    from trendcast.models.artefacts import build_model
    from trendcast.models.base import ID

    with _spinner("explaining"):
        fitted, art, x_future = ensure_trained(db, model, h=horizon)
        h = int(art.meta["forecast"]["h"])  # the horizon the stored forecast was made for
        if model == "lightgbm":
            uid = _series(item, list(fitted.last_ds_.index))
            shap = shap_forecast(fitted, h, X_future=x_future, ids=[uid])
            frame = top_drivers(shap, uid, date, k=top)
        else:
            train, static = art.train()
            uid = _series(item, train[ID].unique())
            frame = permutation_importance(
                lambda: build_model(art.meta["spec"]), train[train[ID] == uid], h, static_df=static,
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(frame, out)
    title = f"drivers of {uid}"
    if {"ds", "step"} <= set(frame.columns) and len(frame):  # one forecast period: say it once, above the table
        title += f" for {pd.Timestamp(frame['ds'].iloc[0]):%Y-%m-%d} ({frame['step'].iloc[0]} period(s) ahead)"
    _print_frame(frame.drop(columns=[c for c in (ID, "ds", "step") if c in frame.columns]).set_index("feature"), title)
    console.print(f"Written to {out}")


def _series(item: str, ids: Sequence[str]) -> str:
    """The series ``item`` names: a unique_id, or an item id sold in exactly one store."""
    if item in set(ids):
        return item
    matches = [u for u in ids if u.split("/")[-1] == item]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InputError(f"Item '{item}' sells in {len(matches)} stores ({', '.join(matches[:5])}); "
                         "give one of these series as --item.")
    raise InputError(f"No series '{item}' in the model: give an item id or a unique_id such as {ids[0]}.")
