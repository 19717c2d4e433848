"""``trendcast serve``, ``trendcast token create|list|revoke`` and ``trendcast report``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from trendcast.cli.app import app, console, err_console, progress

token_app = typer.Typer(help="Create, list and revoke API tokens (stored hashed in the warehouse).",
                        no_args_is_help=True)
app.add_typer(token_app, name="token")

DB_HELP = "The warehouse file (DuckDB), e.g. out/demo/demo.duckdb."


@app.command()
def serve(
    db: Path = typer.Option(..., help=DB_HELP),
    port: int = typer.Option(8000, help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind; keep 127.0.0.1 unless behind a proxy."),
    max_upload_mb: float = typer.Option(
        200.0, help="Largest upload accepted, in MB, as sent and once decompressed (bigger: HTTP 413)."),
    max_upload_rows: int = typer.Option(5_000_000, min=1, help="Most rows one upload may hold (more: HTTP 413)."),
    max_body_mb: float = typer.Option(1.0, help="Largest body of any other request, in MB (checked before the token)."),
    log_level: str = typer.Option("info", help="uvicorn log level: critical, error, warning, info, debug."),
    warm: bool = typer.Option(True, "--warm/--no-warm", help=(
        "Compute the start page's decisions in the background at start and after each write "
        "(faster first visit; costs CPU and memory while it runs).")),
) -> None:
    """Run the REST API (/api/v1, docs at /docs) and the web dashboard (/) on one warehouse.

    The server holds the warehouse open, so other trendcast commands on the same file wait
    until it stops; run stages through the API's /api/v1/jobs while it is up.
    """
    import uvicorn

    from trendcast.api import create_app

    application = create_app(db, max_upload_mb=max_upload_mb, max_upload_rows=max_upload_rows,
                             max_body_mb=max_body_mb)
    if warm:  # decisions for the start page ready before the first visit
        application.state.service.keep_warm = True
        application.state.service.warm()
    console.print(f"Dashboard: [bold]http://{host}:{port}/[/]  API docs: http://{host}:{port}/docs")
    uvicorn.run(application, host=host, port=port, log_level=log_level)


def _with_connection(db: Path):  # noqa: ANN202 - a small context helper
    """The warehouse, or a clear error when a running server holds its lock."""
    from trendcast.data.warehouse import Warehouse
    from trendcast.errors import BusyError

    try:
        return Warehouse(db)
    except BusyError as exc:
        raise BusyError(
            f"{exc} Tokens can be managed through the API with an admin token: POST /api/v1/tokens, "
            "DELETE /api/v1/tokens/NAME."
        ) from None


@token_app.command("create")
def token_create(
    db: Path = typer.Option(..., help=DB_HELP),
    name: str = typer.Option(..., help="Who or what uses the token (letters, digits, _ . @ -)."),
    admin: bool = typer.Option(False, help="Allow this token to manage other tokens through the API."),
) -> None:
    """Create a token and print it once (only its SHA-256 hash is stored)."""
    from trendcast.api.auth import create_token

    with _with_connection(db) as wh:
        token = create_token(wh.con, name, admin=admin)
    err_console.print(f"Token for [bold]{name}[/] (shown once; store it safely):")
    typer.echo(token)  # alone on stdout, so scripts can capture it


@token_app.command("list")
def token_list(db: Path = typer.Option(..., help=DB_HELP)) -> None:
    """List tokens (names and dates; the tokens themselves are not stored)."""
    from trendcast.api.auth import list_tokens

    with _with_connection(db) as wh:
        rows = list_tokens(wh.con)
    table = Table(title="API tokens")
    for col in ("id", "name", "admin", "created (UTC)", "revoked (UTC)"):
        table.add_column(col)
    for t in rows:
        table.add_row(t.token_id, t.name, "yes" if t.admin else "", t.created_at, t.revoked_at or "")
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    db: Path = typer.Option(..., help=DB_HELP),
    name: str = typer.Option(..., help="Name or id of the token to revoke."),
) -> None:
    """Revoke a token: requests with it get HTTP 401 from then on."""
    from trendcast.api.auth import revoke_token

    with _with_connection(db) as wh:
        n = revoke_token(wh.con, name)
    console.print(f"Revoked {n} token(s) named '{name}'.")


@app.command()
def report(
    db: Path = typer.Option(..., help=DB_HELP),
    out: Path = typer.Option(Path("report.html"), help="Where to write the self-contained HTML file."),
    items: int = typer.Option(3, min=0, max=50, help="How many best-selling series get a detailed section."),
    llm_url: str | None = typer.Option(
        None, help="OpenAI-compatible base URL (e.g. http://127.0.0.1:8080/v1) to write the summary; "
                   "default: TRENDCAST_LLM_URL or the built-in text."),
    llm_model: str | None = typer.Option(None, help="Model name for --llm-url (or TRENDCAST_LLM_MODEL)."),
    llm_key_env: str | None = typer.Option(
        None, help="Name of the environment variable holding the endpoint's API key, if it needs one."),
    llm_timeout: float = typer.Option(20.0, help="Seconds to wait for the model before using the built-in text."),
) -> None:
    """Write one offline HTML report (charts, tables and a narrative summary) from the warehouse."""
    from trendcast.errors import ConfigError
    from trendcast.report import LLMConfig, build_report

    if llm_url or llm_model:
        if not (llm_url and llm_model):
            raise ConfigError("--llm-url and --llm-model go together.")
        llm = LLMConfig(llm_url, llm_model, llm_key_env, llm_timeout)
    else:
        llm = LLMConfig.from_env()
    with progress() as bar:
        bar.add_task("building report", total=None)
        result = build_report(db, out, llm=llm, items=items)
    console.print(f"Wrote [bold]{result.path}[/] ({result.bytes / 1e6:.1f} MB, {result.sections} sections, "
                  f"{result.missing} waiting for a stage). {result.narrative_source}")
