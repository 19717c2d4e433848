"""``trendcast finetune``: adapt the pretrained PatchCast forecaster to the shop's own sales."""

from __future__ import annotations

from pathlib import Path

import typer

from trendcast.cli.app import app, console, progress
from trendcast.errors import ConfigError


@app.command()
def finetune(
    db: Path = typer.Option(..., help="Warehouse file (DuckDB) filled by `trendcast ingest`."),
    strategy: str = typer.Option(
        "head", help="What to train: head (task head only), head+last (head + last block), full, lora."
    ),
    horizon: int | None = typer.Option(
        None, help="Periods held out at the end of each series for early stopping (default: 28 days, 13 weeks "
        "or 6 months, by the data's frequency)."
    ),
    out: Path = typer.Option(Path("artefacts/finetuned"), help="Folder for the versioned fine-tuned artefact."),
    steps: int = typer.Option(200, help="Maximum optimiser steps (early stopping may end sooner)."),
    lr: float | None = typer.Option(None, help="Peak learning rate (default 1e-3 head/LoRA, 1e-4 otherwise)."),
    last_n: int = typer.Option(1, help="Encoder blocks trained by head+last."),
    seed: int = typer.Option(0, help="Random seed (same seed, same data: same artefact)."),
    base: Path | None = typer.Option(
        None, help="Base weights folder to start from (default: the weights shipped with trendcast)."
    ),
) -> None:
    """Fine-tune the pretrained forecaster on the warehouse's sales and save an artefact."""
    from trendcast.forecasting import load_panel
    from trendcast.models.pretrained.finetune import STRATEGIES
    from trendcast.models.pretrained.finetune import finetune as run_finetune

    if strategy not in STRATEGIES:
        raise ConfigError(f"Unknown strategy '{strategy}'. Choose one of: {', '.join(STRATEGIES)}.")
    panel = load_panel(db)  # at the warehouse's frequency, as every forecast reads it
    with progress() as bar:
        task = bar.add_task(f"fine-tuning ({strategy})", total=steps)
        path = run_finetune(
            panel, strategy=strategy, out=out, val_h=horizon, max_steps=steps, lr=lr, last_n=last_n,
            seed=seed, base=base, on_step=lambda s, n: bar.update(task, completed=s),
        )
    import json

    meta = json.loads((path / "metadata.json").read_text())
    console.print(
        f"Fine-tuned ({strategy}, {meta['steps']} steps): validation pinball loss "
        f"{meta['val_loss_before']:.4f} -> {meta['val_loss']:.4f}."
    )
    console.print(f"Artefact: [bold]{path}[/] (use it with `trendcast forecast --model patchtst_pretrained --weights {path}`).")
