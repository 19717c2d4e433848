"""`trendcast ingest`: validated loading of shop files into the warehouse."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from trendcast.cli.app import app, console, progress
from trendcast.data.ingest import ingest as run_ingest

SOURCE_HELP = "CSV/TSV (optionally .gz/.zst), Parquet, or duckdb:PATH::table"


ORDERS_HELP = ("The sales rows are order lines (many per item, store and day; returns negative): sum them per "
               "day (units and revenue added, price weighted by units sold). Default: when the sales have an "
               "order_id column.")


@app.command()
def ingest(
    db: Path = typer.Option(..., "--db", help="Warehouse file (DuckDB); created when missing."),
    sales: str = typer.Option(None, "--sales", help=f"Daily sales: item_id, date, units, ... ({SOURCE_HELP})."),
    products: str = typer.Option(None, "--products", help=f"Product catalogue: item_id, category, ... ({SOURCE_HELP})."),
    events: str = typer.Option(None, "--events", help=f"Behaviour events: user_id, item_id, timestamp, event ({SOURCE_HELP})."),
    texts: str = typer.Option(None, "--texts", help=f"Dated texts: date, text, item_id, source, ... ({SOURCE_HELP})."),
    inventory: str = typer.Option(None, "--inventory", help=f"Stock on hand: item_id, date, on_hand ({SOURCE_HELP})."),
    covariates: str = typer.Option(
        None, "--covariates",
        help=f"External drivers: date, optional store_id and item_id, and any numeric columns ({SOURCE_HELP})."),
    on_error: str = typer.Option(
        "raise", "--on-error",
        help="'raise': any bad row rejects the whole call and nothing changes; "
             "'skip': load the good rows and list the bad ones in the rejects file."),
    rejects: Path = typer.Option(
        None, "--rejects", help="Where 'skip' writes rejected rows (default: <db>.rejects.csv)."),
    freq: str = typer.Option(
        None, "--freq", help="Frequency to forecast at: D, W-MON..W-SUN, MS or ME (default: "
                             "detected from the sales dates; a coarser one sums sales per period)."),
    orders: bool = typer.Option(None, "--orders/--no-orders", help=ORDERS_HELP),
) -> None:
    """Check shop files against the input contract and load them into the warehouse.

    Loading the same rows again changes nothing (rows are matched on their keys). All files
    of one call go in together: if one is rejected, none is loaded.
    """
    with progress() as bar:
        report = run_ingest(db, sales=sales, products=products, events=events, texts=texts,
                            inventory=inventory, covariates=covariates, on_error=on_error,
                            rejects=rejects, progress=bar, freq=freq, orders=orders)
    table = Table(title=f"Ingested into {report.db}")
    for col in ("source", "rows", "new", "updated", "unchanged", "rejected", "seconds"):
        table.add_column(col, justify="left" if col == "source" else "right")
    for name, rep in report.sources.items():
        table.add_row(name, f"{rep.rows:,}", f"{rep.inserted:,}", f"{rep.updated:,}",
                      f"{rep.unchanged:,}", f"{rep.rejected:,}", f"{rep.seconds:.1f}")
    console.print(table)
    for name, rep in report.sources.items():
        if rep.summed_into is not None:
            console.print(f"{name}: {rep.rows - rep.rejected:,} order lines summed into {rep.summed_into:,} "
                          "item-store-day rows (the new/updated/unchanged counts are of those rows)")
        if rep.ignored_columns:
            console.print(f"{name}: ignored columns not in the contract: "
                          f"{', '.join(rep.ignored_columns)}")
    if report.rejects:
        console.print(f"Rejected rows and reasons: {report.rejects}")
    if report.freq:
        console.print(f"Frequency: {report.summary()['frequency']}")
    if report.uncatalogued:
        console.print(f"[yellow]Not in the catalogue:[/] {report.summary()['not in the catalogue']}", highlight=False)
