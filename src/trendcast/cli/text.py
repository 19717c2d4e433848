"""Text commands: ``sentiment`` (score a file), ``signals`` (build the daily tables), ``hotspots``,
``aspects``, ``competitors``, ``similar``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from trendcast.cli.app import app, console, progress
from trendcast.data.export import write_csv
from trendcast.errors import InputError


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError("file not found", file=str(path))
    suffix = "".join(path.suffixes[-2:]).lower()
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if suffix.endswith((".csv", ".csv.gz", ".tsv")):
        return pd.read_csv(path, sep="\t" if ".tsv" in suffix else ",")
    raise InputError("use a .csv, .csv.gz, .tsv or .parquet file", file=str(path))


SENTIMENT_COLUMNS = ("lang", "label", "score")


def output_columns(existing: list[str], wanted: tuple[str, ...] = SENTIMENT_COLUMNS,
                   suffix: str = "_sentiment") -> dict[str, str]:
    """Names for our new columns that leave every input column untouched: ``label`` becomes
    ``label_sentiment`` (then ``label_sentiment2``...) when the file already has a ``label``."""
    taken, out = set(existing), {}
    for col in wanted:
        name, n = col, 1
        while name in taken:
            name = f"{col}{suffix}" if n == 1 else f"{col}{suffix}{n}"
            n += 1
        taken.add(name)
        out[col] = name
    return out


@app.command()
def sentiment(
    in_: Path = typer.Option(..., "--in", help="CSV/Parquet file with a 'text' column."),
    out: Path = typer.Option(..., "--out", help=(
        "Where to write the same rows plus lang, label, score (.csv or .parquet); input columns are never "
        "overwritten: a clash gets a '_sentiment' suffix.")),
    model: str = typer.Option("auto", help=(
        "auto (= cascade: n-grams, the uncertain ~5% of Chinese texts re-scored by the encoder; ~250-300 texts/s), "
        "fast (n-grams + a character CNN for Chinese, + VADER for English; no encoder, ~1,100 texts/s) or full "
        "(encoder head). Texts in other languages (Spanish, Japanese...) always go to the multilingual "
        "encoder head (~50 texts/s).")),
    batch: int = typer.Option(2000, help=(
        "Texts per batch (progress bar step); the cascade encodes each batch's uncertain texts together, "
        "and the encoder is faster on bigger batches.")),
) -> None:
    """Score the sentiment of every text in a file (Chinese and English)."""
    from trendcast.text.sentiment import score_texts

    df = _read_table(in_)
    if "text" not in df.columns:
        raise InputError("needs a column named 'text'", file=str(in_), column="text")
    texts = df["text"].tolist()
    parts = []
    with progress() as bar:
        task = bar.add_task("scoring", total=len(texts))
        for i in range(0, len(texts), batch):
            parts.append(score_texts(texts[i : i + batch], model=model))
            bar.advance(task, len(parts[-1]))
    scored = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["lang", "label", "score"])
    names = output_columns(list(df.columns))
    result = df.copy()
    result[names["lang"]] = scored["lang"].to_numpy()
    result[names["label"]] = scored["label"].to_numpy()
    result[names["score"]] = scored["score"].round(4).to_numpy()
    renamed = {k: v for k, v in names.items() if k != v}
    if renamed:
        console.print("[yellow]The input already has column(s) " + ", ".join(renamed) + "; kept them as they are "
                      "and wrote " + ", ".join(renamed.values()) + " instead.[/]")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        result.to_parquet(out, index=False)
    else:
        write_csv(result, out)
    counts = result[names["label"]].value_counts().to_dict()
    console.print(f"Scored {len(result):,} texts -> {out}  ({', '.join(f'{k}: {v}' for k, v in counts.items())})")


@app.command()
def signals(
    db: Path = typer.Option(..., help="Warehouse file (DuckDB) filled by `trendcast ingest`."),
    model: str = typer.Option("auto", help=(
        "Sentiment model: auto (= cascade, the most accurate), fast (n-grams + character CNN, no encoder, ~4x "
        "faster) or full (encoder head).")),
    mentions: Path | None = typer.Option(None, help="JSON file with your own competitor lists and aspect words."),
    user_dict: Path | None = typer.Option(
        None, help="jieba user dictionary (one 'word freq tag' per line, freq and tag optional) for brand and product words."
    ),
) -> None:
    """Score new texts (incrementally) and rebuild the daily item and category text signals."""
    from trendcast.text.signals import build_signals
    from trendcast.text.tokenize import load_user_dict

    if user_dict is not None:
        if not user_dict.exists():
            raise InputError("user dictionary not found", file=str(user_dict))
        load_user_dict(str(user_dict))

    with progress() as bar:
        task = bar.add_task("text signals", total=None)

        def on_progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        info = build_signals(db, model=model, mentions=mentions, on_progress=on_progress)
    table = Table(title="text signals")
    table.add_column("what")
    table.add_column("value", justify="right")
    for k, v in info.items():
        table.add_row(k.replace("_", " "), f"{v:,}" if isinstance(v, int) else str(v))
    console.print(table)


@app.command()
def hotspots(
    db: Path = typer.Option(..., help="Warehouse file with scored texts (`trendcast signals`)."),
    since: str = typer.Option(..., help="First day to look for bursts (YYYY-MM-DD)."),
    top: int = typer.Option(10, help="How many emerging terms to show."),
    weekly: bool = typer.Option(False, help="Weekly instead of daily bursts."),
) -> None:
    """Show the top emerging terms since a date, with their topic and example texts."""
    from trendcast.text.hotspots import hotspots as find

    with progress() as bar:
        bar.add_task("finding hot spots", total=None)
        hot = find(db, since=since, top=top, freq="W" if weekly else "D")
    table = Table(title=f"Hot spots since {since}", show_lines=True)
    for col in ("term", "date", "count", "baseline", "burst", "topic", "examples"):
        table.add_column(col, overflow="fold", justify="right" if col in ("count", "baseline", "burst") else "left")
    for row in hot.itertuples(index=False):
        table.add_row(str(row.term), str(row.date), f"{row.count:.0f}", f"{row.baseline:.1f}", f"{row.burst:.1f}",
                      str(row.topic), str(row.examples))
    console.print(table if len(hot) else "No bursts found since that date.")


def _print_frame(df: pd.DataFrame, title: str, empty: str) -> None:
    table = Table(title=title, show_lines=False)
    for col in df.columns:
        table.add_column(str(col), overflow="fold", justify="right" if df[col].dtype.kind in "if" else "left")
    for row in df.itertuples(index=False):
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table if len(df) else empty)


def _print_summary(summary: Callable[..., pd.DataFrame], db: Path, since: str | None, freq: str,
                   title: str, empty: str) -> None:
    """One per-period summary of the scored texts (aspects, competitors) as a table."""
    from trendcast.text.embeddings import open_warehouse

    with open_warehouse(db, read_only=True) as wh:
        df = summary(wh, since=since, freq=freq)
    _print_frame(df, title, empty)


@app.command()
def aspects(
    db: Path = typer.Option(..., help="Warehouse file with scored texts (`trendcast signals`)."),
    since: str | None = typer.Option(None, help="First day to include (YYYY-MM-DD)."),
    freq: str = typer.Option("W", help="Period: D (day), W (week) or M (month)."),
) -> None:
    """What customers praise and blame: mentions, share and sentiment per aspect (price, quality, delivery, ...)."""
    from trendcast.text.aspects import aspect_summary

    _print_summary(aspect_summary, db, since, freq, "Aspect sentiment (-1 blame .. 1 praise)",
                   "No aspect mentions found.")


@app.command()
def competitors(
    db: Path = typer.Option(..., help="Warehouse file with texts (`trendcast signals` builds the table)."),
    since: str | None = typer.Option(None, help="First day to include (YYYY-MM-DD)."),
    freq: str = typer.Option("W", help="Period: D (day), W (week) or M (month)."),
) -> None:
    """Competitor and brand mentions: share of voice and sentiment per period."""
    from trendcast.text.competitors import competitor_summary

    _print_summary(competitor_summary, db, since, freq, "Competitors: share of voice",
                   "No competitor mentions found.")


@app.command()
def similar(
    db: Path = typer.Option(..., help="Warehouse file with a products table."),
    query: str = typer.Argument(..., help="An item_id from the catalogue, or any description text."),
    k: int = typer.Option(10, help="How many similar products to list."),
) -> None:
    """List the products most similar to an item or a text (sentence embeddings, cached)."""
    from trendcast.text.embeddings import similar_items

    with progress() as bar:
        bar.add_task("embedding products", total=None)
        res = similar_items(db, query, k=k)
    table = Table(title=f"Products similar to {query!r}")
    for col in ("item_id", "similarity", "category", "title"):
        table.add_column(col)
    for row in res.itertuples(index=False):
        table.add_row(str(row.item_id), f"{row.similarity:.3f}", str(row.category), str(row.title))
    console.print(table)
