"""The REST API (``/api/v1``): reads of every stage's output, uploads, jobs and tokens."""

from __future__ import annotations

import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from trendcast.api import auth, jobs
from trendcast.api.auth import TokenInfo
from trendcast.api.deps import admin, reader, service, writer
from trendcast.api.service import Service, records_json
from trendcast.data.schema import SOURCES
from trendcast.errors import InputError, NotReadyError, TrendcastError
from trendcast.report.data import ShopData

router = APIRouter(prefix="/api/v1")


def _version() -> str:
    try:
        return version("trendcast")
    except PackageNotFoundError:  # running from a source tree without installing
        return "unknown"



Svc = Annotated[Service, Depends(service)]
Reader = Annotated[TokenInfo, Depends(reader)]
Writer = Annotated[TokenInfo, Depends(writer)]
Admin = Annotated[TokenInfo, Depends(admin)]

# ids may hold inner spaces ("café crème": ingest keeps them), not edge spaces or control characters
SERIES_ID = r"^\S(?:[^\x00-\x1f\x7f]{0,126}\S)?$"
UniqueId = Annotated[str, Query(description="Series id as in /series, e.g. 'S1/I001'.", pattern=SERIES_ID)]
SignalDays = Annotated[int, Query(ge=1, le=3660, description="Last N days of signals, counted back from the newest.")]
UPLOAD_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".tsv", ".tsv.gz", ".txt")


class Error(BaseModel):
    detail: str = Field(description="What went wrong, in words.")
    error: str = Field(description="not_ready, invalid_input, unauthorized, ...")


class JobRequest(BaseModel):
    kind: Literal["signals", "forecast", "explain", "decide", "report"] = Field(
        description="Which pipeline stage to run on the warehouse.")
    weights: str | None = Field(None, max_length=1000, description=(
        "forecast only: a fine-tuned PatchCast folder on the server (from `trendcast finetune`); the job "
        "then forecasts with patchtst_pretrained and those weights, and the run record names them."))
    horizon: int = Field(28, ge=1, le=1000, description="forecast with weights: periods to forecast.")


class JobOut(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    result: dict[str, str] | None = None
    error: str | None = None


class TokenRequest(BaseModel):
    name: str = Field(pattern=auth.NAME_RE.pattern, description="A label for who uses the token.")
    admin: bool = Field(False, description="May manage other tokens.")


class TokenCreated(BaseModel):
    name: str
    token: str = Field(description="Shown once; only its SHA-256 hash is stored.")


class TokenOut(BaseModel):
    token_id: str
    name: str
    admin: bool
    created_at: str
    revoked_at: str | None = None


NOT_READY = {404: {"model": Error, "description": "Not computed yet: the message names the command to run."}}
JSON = "application/json"


def _json(body: str) -> Response:
    return Response(content=body, media_type=JSON)


async def _frame_json(svc: Service, key: tuple, read: Any) -> Response:
    """Serve a warehouse read as JSON, cached until the data changes.

    A cache hit is answered on the event loop; a miss reads DuckDB in a worker thread.
    """
    body = svc.peek(key)
    if body is Service._MISS:

        def compute() -> str:
            with svc.data() as data:
                return records_json(read(data))

        body = await run_in_threadpool(svc.cached, key, compute)
    return _json(body)


# -- open -------------------------------------------------------------------------------------
@router.get("/health", tags=["meta"], summary="Liveness check (no token needed)")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": _version()}


# -- reads ------------------------------------------------------------------------------------
@router.get("/status", tags=["meta"], summary="Which stages have produced their tables")
def stage_status(svc: Svc, _: Reader) -> dict[str, Any]:
    with svc.data() as data:
        return {"generation": svc.generation, "stages": data.status()}


@router.get("/series", tags=["data"], summary="Every series with sales (id, store, item, category)")
async def series(svc: Svc, _: Reader, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
           offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    return await _frame_json(svc, ("series", limit, offset), lambda d: d.series().iloc[offset:offset + limit])


@router.get("/history", tags=["data"], summary="Daily units sold: one series, a category or the shop")
async def history(svc: Svc, _: Reader, unique_id: Annotated[str | None, Query(pattern=SERIES_ID)] = None,
            category: Annotated[str | None, Query(max_length=128)] = None,
            days: Annotated[int, Query(ge=1, le=3660)] = 180) -> Response:
    return await _frame_json(svc, ("history", unique_id, category, days),
                       lambda d: d.history(unique_id=unique_id, category=category, days=days))


@router.get("/forecasts", tags=["forecasts"], responses=NOT_READY,
            summary="Stored forecasts with quantiles (cached until the table changes)")
async def forecasts(svc: Svc, _: Reader, unique_id: Annotated[str | None, Query(pattern=SERIES_ID)] = None,
              limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
              offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    return await _frame_json(svc, ("forecasts", unique_id, limit, offset),
                       lambda d: d.forecasts(unique_id).iloc[offset:offset + limit])


@router.get("/forecasts/aggregate", tags=["forecasts"], responses=NOT_READY,
            summary="Shop or category totals (band = sum of item quantiles, conservative)")
async def forecast_totals(svc: Svc, _: Reader, by: Literal["total", "category"] = "total") -> Response:
    return await _frame_json(svc, ("aggregate", by), lambda d: d.aggregate_forecasts(by_category=by == "category"))


@router.get("/metrics", tags=["forecasts"], responses=NOT_READY, summary="Backtest accuracy per model")
async def metrics(svc: Svc, _: Reader) -> Response:
    return await _frame_json(svc, ("metrics",), ShopData.metrics)


@router.get("/signals/items/{item_id}", tags=["signals"], responses=NOT_READY,
            summary="Daily text signals (reviews, sentiment, ...) for one item")
async def item_signals(svc: Svc, _: Reader, item_id: Annotated[str, PathParam(pattern=SERIES_ID)],
                       days: SignalDays = 180) -> Response:
    return await _frame_json(svc, ("signals_item", item_id, days), lambda d: d.signals_item(item_id, days))


@router.get("/signals/categories", tags=["signals"], responses=NOT_READY,
            summary="Daily text signals per category")
async def category_signals(svc: Svc, _: Reader,
                     category: Annotated[str | None, Query(max_length=128)] = None,
                     days: SignalDays = 180) -> Response:
    return await _frame_json(svc, ("signals_category", category, days),
                             lambda d: d.signals_category(category, days))


@router.get("/hotspots", tags=["signals"], responses=NOT_READY, summary="Emerging topics in the text")
async def hotspots(svc: Svc, _: Reader) -> Response:
    return await _frame_json(svc, ("hotspots",), ShopData.hotspots)


@router.get("/decisions/alerts", tags=["decisions"], responses=NOT_READY, summary="Inventory alerts")
async def alerts(svc: Svc, _: Reader) -> Response:
    return await _frame_json(svc, ("alerts",), ShopData.alerts)


@router.get("/decisions/inventory-plan", tags=["decisions"], responses=NOT_READY,
            summary="Reorder quantities and safety stock per series")
async def inventory_plan(svc: Svc, _: Reader) -> Response:
    return await _frame_json(svc, ("inventory_plan",), ShopData.inventory_plan)


@router.get("/decisions/price-whatif", tags=["decisions"], responses=NOT_READY,
            summary="Forecast demand at a changed price (elasticity x stored forecast)")
def price_whatif(svc: Svc, _: Reader, unique_id: UniqueId,
                 price_change: Annotated[float, Query(ge=-0.9, le=2.0,
                                                      description="Relative change: -0.1 = 10% cheaper.")] = 0.0,
                 ) -> dict[str, Any]:
    from trendcast.api.whatif import estimate_for_item
    from trendcast.api.whatif import price_whatif as run

    with svc.data() as data:
        _, item_id = data.split_id(unique_id)
        elasticity = svc.cached(("elasticity", item_id),
                                lambda: estimate_for_item(data, svc.sales_panel, item_id))
        return run(data, unique_id, price_change, elasticity)


class NewProduct(BaseModel):
    category: str = Field(min_length=1, max_length=128)
    price: float = Field(gt=0, le=1e9)
    title: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)


class CopyRequest(BaseModel):
    item_id: str | None = Field(None, pattern=SERIES_ID, description="A catalogue item, or give `product`.")
    product: NewProduct | None = Field(None, description="A new product (category, price, title, description).")
    lang: Literal["zh", "en"] = "en"
    kind: Literal["marketing", "description"] = "marketing"


@router.post("/copy", tags=["decisions"], responses={422: {"model": Error}},
             summary="Marketing copy or a product description from the facts trendcast holds")
def copy_text(svc: Svc, _: Reader, body: CopyRequest) -> dict[str, Any]:
    """Written by the configured OpenAI-compatible model (TRENDCAST_LLM_URL/MODEL), else by the
    built-in templates; ``source`` says which, ``facts`` is everything the writer was given."""
    from trendcast.report.copywriting import write_copy
    from trendcast.report.narrative import LLMConfig

    if (body.item_id is None) == (body.product is None):
        raise InputError("Give either item_id or product (category, price, ...), not both.")
    product = body.product.model_dump() if body.product is not None else None
    key = ("copy", body.model_dump_json())
    return svc.cached(key, lambda: write_copy(svc.db, item_id=body.item_id, product=product, lang=body.lang,
                                              kind=body.kind, llm=LLMConfig.from_env()).to_dict())


@router.get("/tables/{name}", tags=["decisions"], responses=NOT_READY,
            summary="Any decision table (orders, prices, promotions, trends...), filtered, sorted and paged")
def decision_table(svc: Svc, _: Reader, name: Annotated[str, PathParam(pattern=r"^[a-z-]{1,40}$")],
                   q: Annotated[str, Query(max_length=200)] = "", sort: Annotated[str | None, Query(max_length=100)] = None,
                   desc: bool = False, limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                   offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    from trendcast.report import views
    from trendcast.report.tables import TableQuery, apply_query

    if name not in views.TABLES:
        raise NotReadyError(f"No table '{name}'. Tables: {', '.join(views.TABLES)}.")
    with svc.data() as data:
        frame = svc.cached(("table", name), lambda: views.table_frame(data, name))
    rows, total = apply_query(frame, TableQuery(q=q, sort=sort, desc=desc))
    body = records_json(rows.iloc[offset:offset + limit])
    return _json(f'{{"table": "{name}", "total": {total}, "offset": {offset}, "rows": {body}}}')


# -- writes -----------------------------------------------------------------------------------
@router.post("/uploads/{source}", tags=["data"], status_code=status.HTTP_200_OK,
             responses={413: {"model": Error}, 422: {"model": Error}},
             summary="Upload a CSV/Parquet file into the warehouse (validated; all-or-nothing)")
def upload(svc: Svc, _: Writer, source: Annotated[str, PathParam(description=f"One of {', '.join(SOURCES)}.")],
           file: Annotated[UploadFile, File(description="CSV (optionally .gz) or Parquet.")],
           orders: Annotated[bool | None, Query(description=(
               "sales only: the rows are order lines, summed per item, store and day (default: when the "
               "file has an order_id column)"))] = None) -> dict[str, Any]:
    if source not in SOURCES:
        raise InputError(f"Unknown source '{source}'. Choose one of: {', '.join(SOURCES)}.")
    name = Path(file.filename or "upload.csv").name
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        raise InputError(f"'{name}' is not a CSV or Parquet file ({', '.join(UPLOAD_SUFFIXES)}).", file=name)
    from trendcast.api.uploads import receive
    from trendcast.data.ingest import ingest  # heavy: imported on the first upload only

    max_bytes, max_rows = getattr(svc, "upload_limits", (200_000_000, 5_000_000))
    with tempfile.TemporaryDirectory(prefix="trendcast-upload-") as tmp:
        path = receive(file.file, name, Path(tmp), max_bytes, max_rows)
        with svc.write_lock:
            try:
                report = ingest(svc.db, orders=orders, **{source: path})
            finally:
                svc.changed()
    return {"source": source, "file": name, "summary": {k: str(v) for k, v in report.summary().items()}}


@router.post("/jobs", tags=["jobs"], status_code=status.HTTP_202_ACCEPTED, response_model=JobOut,
             responses=NOT_READY, summary="Run a pipeline stage in the background")
def submit_job(svc: Svc, _: Writer, body: JobRequest, response: Response) -> dict[str, Any]:
    runner = None
    if body.weights is not None:
        runner = _weights_runner(body)
    job = svc.jobs.submit(body.kind, runner)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return job.to_dict()


def _weights_runner(body: JobRequest) -> Any:
    """A forecast job with fine-tuned PatchCast weights (checked now, so a bad folder is a 422)."""
    from trendcast.models.registry import weights_params

    if body.kind != "forecast":
        raise InputError(f"'weights' applies to forecast jobs only, not '{body.kind}'.", column="weights")
    try:
        params = weights_params("patchtst_pretrained", body.weights)
    except TrendcastError as exc:
        raise InputError(str(exc), column="weights") from exc

    def run(db: Path, out: Path) -> dict[str, str]:
        from trendcast.forecasting import forecast

        fc = forecast(db, body.horizon, model="patchtst_pretrained", model_params=params,
                      out=Path(out) / "forecast.csv")
        return {"run": str(fc.attrs.get("run_id")), "weights": str(params["weights"]),
                "rows": str(len(fc)), "forecast": str(Path(out) / "forecast.csv")}

    return run


@router.get("/jobs", tags=["jobs"], response_model=list[JobOut], summary="Recent jobs, newest first")
def list_jobs(svc: Svc, _: Reader) -> list[dict[str, Any]]:
    return [j.to_dict() for j in svc.jobs.list()]


@router.get("/jobs/{job_id}", tags=["jobs"], response_model=JobOut, responses={404: {"model": Error}},
            summary="One job's status and result")
def get_job(svc: Svc, _: Reader, job_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{1,32}$")]) -> dict[str, Any]:
    job = svc.jobs.get(job_id)
    if job is None:
        raise NotReadyError(f"No job '{job_id}' (jobs are kept while the server runs).")
    return job.to_dict()


@router.get("/jobs-kinds", tags=["jobs"], summary="Stages that can run as jobs, and what each does")
def job_kinds(_: Reader) -> dict[str, dict[str, Any]]:
    return {k: {"does": what} for k, (_, what) in jobs.JOB_KINDS.items()}


# -- tokens (admin) --------------------------------------------------------------------------
@router.get("/tokens", tags=["tokens"], response_model=list[TokenOut], summary="All tokens (admin)")
def tokens(svc: Svc, _: Admin) -> list[dict[str, Any]]:
    with svc.cursor() as cur:
        return [t.__dict__ for t in auth.list_tokens(cur)]


@router.post("/tokens", tags=["tokens"], status_code=status.HTTP_201_CREATED, response_model=TokenCreated,
             summary="Create a token (admin); the response is the only time it is shown")
def create(svc: Svc, _: Admin, body: TokenRequest) -> dict[str, str]:
    return {"name": body.name, "token": svc.write(lambda cur: auth.create_token(cur, body.name, body.admin))}


@router.delete("/tokens/{name}", tags=["tokens"], summary="Revoke a token by name or id (admin)")
def revoke(svc: Svc, _: Admin, name: Annotated[str, PathParam(pattern=auth.NAME_RE.pattern)]) -> dict[str, int]:
    return {"revoked": svc.write(lambda cur: auth.revoke_token(cur, name))}
