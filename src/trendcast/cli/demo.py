"""``trendcast demo``: the whole pipeline on the bundled demo shop (what ``make demo`` runs)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from trendcast.cli.app import app, console, progress
from trendcast.pipeline import STEPS, run_demo


@app.command()
def demo(
    out: Path = typer.Option(Path("out/demo"), help="Folder for the warehouse and everything the demo writes."),
    data: Path | None = typer.Option(
        None, help="Folder with a shop's files (sales.csv and any of products, events, texts, inventory; "
        ".csv, .csv.gz or .parquet); default: the bundled demo shop."
    ),
    steps: str | None = typer.Option(
        None, help=f"Comma-separated stages to run after ingest (default all): {', '.join(s for s, _ in STEPS)}."
    ),
) -> None:
    """Ingest the demo shop into a fresh warehouse and run every pipeline stage, then summarise."""
    chosen = [s.strip() for s in steps.split(",")] if steps else None
    with progress() as bar:
        task = bar.add_task("demo", total=1 + len([s for s, _ in STEPS if chosen is None or s in chosen]))

        def on_step(name: str) -> None:
            bar.update(task, description=name, advance=0 if name == "ingest" else 1)

        results = run_demo(out, data_dir=data, steps=chosen, on_step=on_step)
    table = Table(title="trendcast demo", show_lines=True)
    table.add_column("stage", style="bold")
    table.add_column("seconds", justify="right")
    table.add_column("result")
    for r in results:
        table.add_row(r.step, f"{r.seconds:.1f}", "\n".join(f"{k}: {v}" for k, v in r.summary.items()))
    console.print(table)
    console.print(f"Everything is in [bold]{out.resolve()}[/] (warehouse: {out / 'demo.duckdb'}).")
