"""The FastAPI application: REST API under ``/api/v1``, dashboard at ``/``, errors as clear JSON."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trendcast.api import dashboard, routes, voice
from trendcast.api.jobs import JobRegistry
from trendcast.api.service import Service
from trendcast.errors import ConfigError, InputError, NotReadyError, TrendcastError
from trendcast.report.render import STATIC_DIR

DEFAULT_MAX_UPLOAD_MB = 200.0


class UploadLimit:
    """Answer 413 as soon as an upload exceeds ``max_bytes`` (header or streamed body).

    Runs before multipart parsing, so an oversized file is never written to disk in full.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, prefix: str = "/api/v1/uploads") -> None:
        self.app, self.max_bytes, self.prefix = app, max_bytes, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._reject(send)
            return
        seen, exceeded = 0, False

        async def limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise ValueError("upload too large")
            return message

        async def guarded(message: Message) -> None:
            if not exceeded:  # drop the app's own error answer; ours follows
                await send(message)

        try:
            await self.app(scope, limited, guarded)
        except ValueError:
            if not exceeded:
                raise
        if exceeded:
            await self._reject(send)

    async def _reject(self, send: Send) -> None:
        limit_mb = self.max_bytes / 1e6
        response = JSONResponse(
            {"detail": f"Upload larger than the server's limit of {limit_mb:g} MB "
                       "(start `trendcast serve` with a bigger --max-upload-mb, or ingest from the CLI).",
             "error": "too_large"}, status_code=413)
        await response({"type": "http"}, _no_receive, send)


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


def create_app(db: Path | str, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB) -> FastAPI:
    """The app for warehouse ``db`` (created when new). One app per process: it holds the file."""
    svc = Service(Path(db))
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

    @app.exception_handler(InputError)
    async def bad_input(_: Request, exc: InputError) -> JSONResponse:
        return _error(422, "invalid_input", str(exc))

    @app.exception_handler(ConfigError)
    async def bad_config(_: Request, exc: ConfigError) -> JSONResponse:
        return _error(422, "invalid_input", str(exc))

    @app.exception_handler(TrendcastError)
    async def other(_: Request, exc: TrendcastError) -> JSONResponse:
        return _error(400, "bad_request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"detail": _describe(errors), "error": "invalid_input", "errors": errors},
                            status_code=422)

    app.include_router(routes.router)
    app.include_router(dashboard.router)
    app.include_router(voice.router)
    app.include_router(voice.api)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(UploadLimit, max_bytes=int(max_upload_mb * 1e6))
    return app
