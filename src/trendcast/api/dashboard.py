"""The web dashboard: server-rendered pages (Jinja2 + Plotly) behind a token login.

Signing in stores the API token in an ``HttpOnly``, ``SameSite=Strict`` cookie; every page
checks it on each request, so revoking the token signs the browser out too. Pages are cached
per data generation like the JSON reads.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from trendcast.api.deps import COOKIE, service
from trendcast.api.service import Service
from trendcast.errors import InputError, NotReadyError
from trendcast.report import views
from trendcast.report.data import ShopData
from trendcast.report.render import plotly_js_path, render
from trendcast.report.tables import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    TableQuery,
    apply_query,
    to_csv,
    to_xlsx,
)

router = APIRouter(include_in_schema=False)
Svc = Annotated[Service, Depends(service)]


def _signed_in(request: Request, svc: Service) -> bool:
    return svc.verify(request.cookies.get(COOKIE)) is not None


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _page(request: Request, svc: Service, key: tuple, build) -> Response:
    if not _signed_in(request, svc):
        return _login_redirect(request)
    return HTMLResponse(svc.cached(("page", *key, request.url.query), build))


Text = Annotated[str, Query(max_length=200)]


def _query(request: Request) -> TableQuery:
    """The table state from ``?q=&sort=&desc=&page=&size=`` (bad numbers fall back to defaults)."""
    p = request.query_params

    def number(key: str, default: int, high: int) -> int:
        try:
            return min(max(1, int(p.get(key, default))), high)
        except ValueError:
            return default

    return TableQuery(q=p.get("q", "")[:200], sort=p.get("sort") or None, desc=p.get("desc") == "1",
                      page=number("page", 1, 1_000_000), size=number("size", PAGE_SIZE, MAX_PAGE_SIZE))


def _mode(request: Request, svc: Service, path: str) -> views.TableMode:
    """Server-paged tables whose frames are cached per data generation (paging costs no recompute)."""

    def frame(data: ShopData, name: str):
        return svc.cached(("table", name), lambda: views.table_frame(data, name))

    return views.TableMode(interactive=True, path=path, active=request.query_params.get("t"),
                           query=_query(request), frame=frame)


def _simple(request: Request, svc: Service, path: str, title: str, active: str, sections_of) -> Response:
    def build() -> str:
        with svc.data() as data:
            sections = sections_of(data, _mode(request, svc, path))
        return render("page.html", title=title, active=active, sections=sections)

    return _page(request, svc, (path,), build)


def _missing_page(title: str, active: str, message: str) -> str:
    section = views.Section(title, missing=message, kind="missing")
    return render("page.html", title=title, active=active, sections=[section])


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    """plotly.js straight from the installed plotly package (no CDN, nothing copied)."""
    return FileResponse(plotly_js_path(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/login", response_class=HTMLResponse)
def login_form(next: Annotated[str, Query(max_length=2000)] = "/", error: str | None = None) -> str:
    return render("login.html", title="Sign in", nav=[], active="", next=next, error=error)


def _cross_site(request: Request) -> bool:
    """True when a browser says the form was posted from another site (login CSRF)."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin == "null"
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) != (request.url.scheme, request.url.netloc)


@router.post("/login")
def login(request: Request, svc: Svc, token: Annotated[str, Form(max_length=200)],
          next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    if _cross_site(request):
        return HTMLResponse("Sign in from this server's own /login page.", status_code=403)
    if svc.verify(token.strip()) is None:
        html = render("login.html", title="Sign in", nav=[], active="", next=next,
                      error="That token is not valid (or was revoked).")
        return HTMLResponse(html, status_code=401)
    safe_next = next if next.startswith("/") and not next.startswith("//") else "/"
    res = RedirectResponse(safe_next, status_code=303)
    res.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", max_age=8 * 3600)
    return res


@router.post("/logout")
def logout(request: Request) -> Response:
    """POST only (a GET could be triggered by any image tag on another site)."""
    if _cross_site(request):
        return HTMLResponse("Sign out from this server's own pages.", status_code=403)
    res = RedirectResponse("/login", status_code=303)
    res.delete_cookie(COOKIE)
    return res


@router.get("/", response_class=HTMLResponse)
def actions(request: Request, svc: Svc) -> Response:
    """The start page: what to act on this period, counts first, each row linking to its item."""
    return _simple(request, svc, "/", "What to act on", "Actions",
                   lambda data, mode: views.actions(data, mode))


@router.get("/overview", response_class=HTMLResponse)
def overview(request: Request, svc: Svc) -> Response:
    def build() -> str:
        with svc.data() as data:
            try:
                sections = views.overview(data)
            except NotReadyError as exc:
                return _missing_page("Overview", "Overview", str(exc))
        return render("page.html", title="Overview", active="Overview", sections=sections)

    return _page(request, svc, ("overview",), build)


@router.get("/item", response_class=HTMLResponse)
def item(request: Request, svc: Svc,
         unique_id: Annotated[str | None, Query(max_length=128)] = None,
         item_id: Annotated[str | None, Query(max_length=128)] = None) -> Response:
    def build() -> str:
        with svc.data() as data:
            try:
                options = data.series()
            except NotReadyError as exc:
                return _missing_page("Item", "Item", str(exc))
            known = set(options["unique_id"])
            uid = unique_id if unique_id in known else None
            if uid is None and item_id is not None and item_id in set(options["item_id"]):
                uid = data.first_series(item_id)
            asked = unique_id or item_id
            unknown = asked is not None and uid is None
            uid = uid or options["unique_id"].iloc[0]
            sections = views.item(data, uid)
            if unknown:  # say so rather than show another item as if it were the one asked for
                sections.insert(0, views.Section("Not found", missing=f"No series or item '{asked}' in this "
                                                 f"shop; showing {uid}. Pick one below.", kind="missing"))
        labels = [(u, f"{u} · {t} · {c}") for u, c, t in
                  zip(options["unique_id"], options["category"], options["title"], strict=True)]
        picker = {"action": "/item", "options": labels, "selected": uid}
        return render("page.html", title=f"Item {uid}", active="Item", sections=sections, picker=picker)

    return _page(request, svc, ("item",), build)


@router.get("/pricing", response_class=HTMLResponse)
def pricing(request: Request, svc: Svc, item_id: Annotated[str | None, Query(max_length=128)] = None) -> Response:
    return _simple(request, svc, "/pricing", "Pricing", "Pricing",
                   lambda data, mode: views.pricing(data, item_id, mode))


@router.get("/promotions", response_class=HTMLResponse)
def promotions(request: Request, svc: Svc, item_id: Annotated[str | None, Query(max_length=128)] = None,
               periods: Annotated[int, Query(ge=1, le=366)] = 7) -> Response:
    return _simple(request, svc, "/promotions", "Promotions", "Promotions",
                   lambda data, mode: views.promotions(data, item_id, periods, mode, form=True))


@router.get("/trends", response_class=HTMLResponse)
def trends(request: Request, svc: Svc) -> Response:
    return _simple(request, svc, "/trends", "Trends", "Trends", lambda data, mode: views.trends(data, mode))


@router.get("/voice", response_class=HTMLResponse)
def voice(request: Request, svc: Svc) -> Response:
    return _simple(request, svc, "/voice", "Voice of the customer", "Customers",
                   lambda data, mode: views.voice(data, mode))


@router.get("/new-product", response_class=HTMLResponse)
def new_product(request: Request, svc: Svc, category: Text | None = None,
                price: Annotated[float | None, Query(gt=0, le=1e9)] = None, title: Text = "",
                description: Annotated[str, Query(max_length=2000)] = "") -> Response:
    product = None
    if category and price:
        product = {"item_id": "NEW", "category": category, "price": price, "title": title,
                   "description": description}
    return _simple(request, svc, "/new-product", "New product", "New product",
                   lambda data, mode: views.new_product(data, product, form=True))


@router.get("/recommendations", response_class=HTMLResponse)
def recommendations(request: Request, svc: Svc, user: Annotated[str | None, Query(max_length=128)] = None) -> Response:
    return _simple(request, svc, "/recommendations", "Recommendations", "Recommendations",
                   lambda data, mode: views.recommendations(data, user, form=True))


@router.get("/copy", response_class=HTMLResponse)
def copy_page(request: Request, svc: Svc, item_id: Annotated[str | None, Query(max_length=128)] = None,
              category: Text | None = None, price: Annotated[float | None, Query(gt=0, le=1e9)] = None,
              title: Text = "", description: Annotated[str, Query(max_length=2000)] = "",
              lang: Annotated[str, Query(pattern="^(en|zh)$")] = "en",
              kind: Annotated[str, Query(pattern="^(marketing|description)$")] = "marketing") -> Response:
    product = None
    if item_id is None and category and price:
        product = {"category": category, "price": price, "title": title, "description": description}
    return _simple(request, svc, "/copy", "Marketing copy", "Copy",
                   lambda data, mode: views.copy_page(data, item_id, product, lang, kind))


@router.get("/hotspots", response_class=HTMLResponse)
def hotspots(request: Request, svc: Svc) -> Response:
    return _simple(request, svc, "/hotspots", "Hot spots", "Hot spots", lambda data, mode: views.hotspots(data, mode))


@router.get("/alerts", response_class=HTMLResponse)
def alerts(request: Request, svc: Svc) -> Response:
    return _simple(request, svc, "/alerts", "Orders and alerts", "Alerts", lambda data, mode: views.alerts(data, mode))


@router.get("/export/{name}.{fmt}")
def export(request: Request, svc: Svc, name: str, fmt: str) -> Response:
    """A whole table (filtered and sorted as on screen, every page) as CSV or Excel."""
    if not _signed_in(request, svc):
        return _login_redirect(request)
    if fmt not in ("csv", "xlsx") or name not in views.TABLES:
        raise InputError(f"No export '{name}.{fmt}': tables are {', '.join(views.TABLES)}; formats csv, xlsx.")
    query = _query(request)

    def build() -> bytes:
        with svc.data() as data:
            frame = svc.cached(("table", name), lambda: views.table_frame(data, name))
        rows, _ = apply_query(frame, query)
        return to_csv(rows) if fmt == "csv" else to_xlsx(rows, name)

    body = svc.cached(("export", name, fmt, query.q, query.sort, query.desc), build)
    media = ("text/csv; charset=utf-8" if fmt == "csv"
             else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="trendcast-{name}.{fmt}"'})


@router.get("/whatif", response_class=HTMLResponse)
def whatif(request: Request, svc: Svc) -> Response:
    def build() -> str:
        with svc.data() as data:
            try:
                fc = data.forecasts()
                series = data.series().set_index("unique_id")
            except NotReadyError as exc:
                return render("whatif.html", title="Price what-if", active="Price what-if", missing=str(exc))
            ids = sorted(set(fc["unique_id"]))
            unit = data.unit()
        options = [(u, f"{u} · {series['title'].get(u, '')}") for u in ids]
        return render("whatif.html", title="Price what-if", active="Price what-if", options=options, missing=None,
                      unit=unit)

    return _page(request, svc, ("whatif",), build)
