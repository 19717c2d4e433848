"""The FastAPI application: REST API under ``/api/v1``, dashboard at ``/``, errors as clear JSON."""

from __future__ import annotations

import logging
import re
from contextlib import asynccontextmanager
from pathlib import Path

import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trendcast.api import dashboard, routes, voice
from trendcast.api.jobs import JobRegistry
from trendcast.api.service import Service
from trendcast.api.uploads import TooLarge
from trendcast.errors import ConfigError, InputError, NotReadyError, TrendcastError
from trendcast.report.render import STATIC_DIR

log = logging.getLogger("trendcast.api")

DEFAULT_MAX_UPLOAD_MB = 200.0
DEFAULT_MAX_BODY_MB = 1.0  # every request that is not an upload: JSON bodies and forms are small
DEFAULT_MAX_UPLOAD_ROWS = 5_000_000


class BodyLimit:
    """Answer 413 as soon as a request body exceeds its limit (Content-Length or streamed count).

    A pure ASGI middleware, outermost: it runs before the body is read, before multipart
    parsing and before the token is checked, so an unauthenticated 100 MB POST costs nothing.
    Uploads get ``max_upload`` bytes, every other request ``max_body``.
    """

    def __init__(self, app: ASGIApp, max_upload: int, max_body: int,
                 upload_prefix: str = "/api/v1/uploads") -> None:
        self.app, self.max_upload, self.max_body = app, max_upload, max_body
        self.upload_prefix = upload_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_upload = scope["path"].startswith(self.upload_prefix)
        limit = self.max_upload if is_upload else self.max_body
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await self._reject(send, limit, is_upload)
            return
        seen, exceeded, started = 0, False, False

        async def limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if not exceeded:  # drop the app's own error answer; ours follows
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, limited, guarded)
        except BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._reject(send, limit, is_upload)

    async def _reject(self, send: Send, limit: int, is_upload: bool) -> None:
        limit_mb = limit / 1e6
        hint = ("start `trendcast serve` with a bigger --max-upload-mb, or ingest from the CLI"
                if is_upload else "API requests other than uploads are small JSON bodies")
        response = JSONResponse(
            {"detail": f"Request body larger than the server's limit of {limit_mb:g} MB ({hint}).",
             "error": "too_large"}, status_code=413)
        await response({"type": "http"}, _no_receive, send)




class BodyTooLarge(Exception):
    """Raised inside the app's receive() when the body passes its limit."""


CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# /docs and /redoc load Swagger UI / ReDoc from FastAPI's default CDN.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
            "font-src 'self' https://fonts.gstatic.com; worker-src blob:; object-src 'none'; "
            "frame-ancestors 'none'")


class SecurityHeaders:
    """CSP, no framing, no MIME sniffing and no referrer leaks on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in ("/docs", "/redoc", "/docs/oauth2-redirect")

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in _SECURITY_NAMES]
                headers += [
                    (b"content-security-policy", (DOCS_CSP if docs else CSP).encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add_headers)


_SECURITY_NAMES = {b"content-security-policy", b"x-frame-options", b"x-content-type-options",
                   b"referrer-policy"}
_SECRET_QUERY = re.compile(r"((?:^|[?&])(?:token|access_token|api_key|key)=)[^&\s]*", re.I)
_TOKEN = re.compile(r"tc_[A-Za-z0-9_-]{8,}")


class RedactSecrets(logging.Filter):
    """Keep tokens out of the access log (``?token=...`` or a token pasted into a path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def redact(text: str) -> str:
    return _TOKEN.sub("tc_***", _SECRET_QUERY.sub(r"\1***", text))


def install_log_redaction() -> None:
    """Add :class:`RedactSecrets` to uvicorn's access logger once."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())


async def _no_receive() -> Message:  # pragma: no cover - JSONResponse never reads the body
    return {"type": "http.disconnect"}


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"detail": message, "error": kind}, status_code=status)


def _describe(errors: list[dict]) -> str:
    """FastAPI's validation errors as one readable sentence per problem."""
    parts = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        where = {"query": "query parameter", "path": "path parameter", "body": "body field",
                 "header": "header", "cookie": "cookie"}.get(loc[0], loc[0]) if loc else "request"
        name = ".".join(loc[1:]) if len(loc) > 1 else ""
        parts.append(f"{where} '{name}': {err.get('msg', 'invalid')}" if name else f"{where}: {err.get('msg')}")
    return "; ".join(parts) or "Invalid request."


def create_app(db: Path | str, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
               max_body_mb: float = DEFAULT_MAX_BODY_MB,
               max_upload_rows: int = DEFAULT_MAX_UPLOAD_ROWS) -> FastAPI:
    """The app for warehouse ``db`` (created when new). One app per process: it holds the file.

    ``max_upload_mb`` bounds an upload both as sent and once decompressed; ``max_upload_rows``
    bounds its rows; ``max_body_mb`` bounds every other request body.
    """
    svc = Service(Path(db))
    svc.upload_limits = (int(max_upload_mb * 1e6), int(max_upload_rows))  # type: ignore[attr-defined]
    install_log_redaction()
    svc.jobs = JobRegistry(svc.db, svc.write_lock, svc.changed)  # type: ignore[attr-defined]

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # noqa: ANN202 - FastAPI's lifespan protocol
        yield
        svc.jobs.shutdown()  # type: ignore[attr-defined]
        svc.close()

    app = FastAPI(
        title="trendcast API",
        description="Forecasts, text signals, decisions and the dashboard for one trendcast warehouse. "
                    "Authenticate with `Authorization: Bearer <token>` (see `trendcast token create`).",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = svc

    @app.exception_handler(NotReadyError)
    async def not_ready(_: Request, exc: NotReadyError) -> JSONResponse:
        return _error(404, "not_ready", str(exc))

    @app.exception_handler(TooLarge)
    async def too_large(_: Request, exc: TooLarge) -> JSONResponse:
        return _error(413, "too_large", str(exc))

    @app.exception_handler(InputError)
    async def bad_input(_: Request, exc: InputError) -> JSONResponse:
        return _error(422, "invalid_input", str(exc))

    @app.exception_handler(ConfigError)
    async def bad_config(_: Request, exc: ConfigError) -> JSONResponse:
        return _error(422, "invalid_input", str(exc))

    @app.exception_handler(TrendcastError)
    async def other(_: Request, exc: TrendcastError) -> JSONResponse:
        return _error(400, "bad_request", str(exc))

    @app.exception_handler(duckdb.OutOfMemoryException)
    async def out_of_memory(_: Request, exc: duckdb.OutOfMemoryException) -> JSONResponse:
        log.warning("DuckDB out of memory: %s", exc)
        return _error(503, "out_of_memory",
                      f"The warehouse needed more than the server's memory budget ({svc.memory_mb} MB) for "
                      "this request: restart `trendcast serve` with TRENDCAST_SERVER_DUCKDB_MB set higher.")

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"detail": _describe(errors), "error": "invalid_input", "errors": errors},
                            status_code=422)

    app.include_router(routes.router)
    app.include_router(dashboard.router)
    app.include_router(voice.api)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders)
    # added last = outermost: runs before anything reads the body or checks a token
    app.add_middleware(BodyLimit, max_upload=int(max_upload_mb * 1e6),
                       max_body=int(max_body_mb * 1e6))
    return app
