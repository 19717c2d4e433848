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
from trendcast.errors import NotReadyError
from trendcast.report import views
from trendcast.report.render import plotly_js_path, render

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
    return HTMLResponse(svc.cached(("page", *key), build))


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
         unique_id: Annotated[str | None, Query(max_length=128)] = None) -> Response:
    def build() -> str:
        with svc.data() as data:
            try:
                options = data.series()
            except NotReadyError as exc:
                return _missing_page("Item", "Item", str(exc))
            uid = unique_id if unique_id in set(options["unique_id"]) else options["unique_id"].iloc[0]
            sections = views.item(data, uid)
        labels = [(u, f"{u} · {c} · {t}") for u, c, t in
                  zip(options["unique_id"], options["category"], options["title"], strict=True)]
        picker = {"action": "/item", "options": labels, "selected": uid}
        return render("page.html", title=f"Item {uid}", active="Item", sections=sections, picker=picker)

    return _page(request, svc, ("item", unique_id), build)


@router.get("/hotspots", response_class=HTMLResponse)
def hotspots(request: Request, svc: Svc) -> Response:
    def build() -> str:
        with svc.data() as data:
            sections = views.hotspots(data)
        return render("page.html", title="Hot spots", active="Hot spots", sections=sections)

    return _page(request, svc, ("hotspots",), build)


@router.get("/alerts", response_class=HTMLResponse)
def alerts(request: Request, svc: Svc) -> Response:
    def build() -> str:
        with svc.data() as data:
            sections = views.alerts(data)
        return render("page.html", title="Inventory alerts", active="Alerts", sections=sections)

    return _page(request, svc, ("alerts",), build)


@router.get("/whatif", response_class=HTMLResponse)
def whatif(request: Request, svc: Svc) -> Response:
    def build() -> str:
        with svc.data() as data:
            try:
                fc = data.forecasts()
            except NotReadyError as exc:
                return render("whatif.html", title="Price what-if", active="Price what-if", missing=str(exc))
            ids = sorted(set(fc["unique_id"]))
        return render("whatif.html", title="Price what-if", active="Price what-if",
                      options=[(u, u) for u in ids], missing=None)

    return _page(request, svc, ("whatif",), build)
