"""``trendcast copy``: marketing copy or a product description, grounded in the warehouse's facts."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from trendcast.cli.app import app, console


@app.command("copy")
def copy_(
    db: Path = typer.Option(..., help="Warehouse file (DuckDB) with products, sales and (scored) texts."),
    item: str | None = typer.Option(None, "--item", help="An item id from the catalogue."),
    category: str | None = typer.Option(None, help="New product: its category (with --price)."),
    price: float | None = typer.Option(None, help="New product: its price."),
    title: str = typer.Option("", help="New product: its title."),
    description: str = typer.Option("", help="New product: a short description."),
    lang: str = typer.Option("en", "--lang", help="zh (Chinese) or en (English)."),
    kind: str = typer.Option("marketing", help="marketing (2-3 sentences) or description (product page)."),
    as_json: bool = typer.Option(False, "--json", help="Print the text, its source and the facts as JSON."),
) -> None:
    """Write marketing copy or a product description for an item or a new product.

    Uses the OpenAI-compatible model set by TRENDCAST_LLM_URL / TRENDCAST_LLM_MODEL when configured
    (as the report does), else built-in templates; either way only facts trendcast holds go in.
    """
    from trendcast.report.copywriting import write_copy
    from trendcast.report.narrative import LLMConfig

    product = None
    if item is None:
        product = {"category": category, "price": price, "title": title, "description": description}
    result = write_copy(db, item_id=item, product=product, lang=lang, kind=kind, llm=LLMConfig.from_env())
    if as_json:
        console.print_json(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    console.print(result.text, highlight=False, soft_wrap=True, markup=False)
    console.print(f"[dim]({result.source})[/]", soft_wrap=True)
