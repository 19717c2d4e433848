"""Jinja2 templates shared by the dashboard (served) and the report (one offline file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from trendcast.settings import PACKAGE_DIR

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = PACKAGE_DIR / "api" / "static"

NAV = [("/", "Overview"), ("/item", "Item"), ("/hotspots", "Hot spots"), ("/alerts", "Alerts"),
       ("/whatif", "Price what-if"), ("/voice", "Customer voice")]


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]))


def plotly_js_path() -> Path:
    """The plotly.min.js that ships inside the installed ``plotly`` package (no CDN needed)."""
    import plotly

    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    if not path.exists():  # pragma: no cover - a broken plotly install
        raise FileNotFoundError(f"plotly.min.js not found at {path}; reinstall plotly.")
    return path


def render(template: str, *, offline: bool = False, **ctx: object) -> str:
    """Render a page; ``offline=True`` inlines the CSS and plotly.js so the file stands alone."""
    extra: dict[str, object] = {"base": "", "nav": NAV, "footer": "trendcast", "offline": offline}
    if offline:
        from markupsafe import Markup

        extra["css"] = Markup((STATIC_DIR / "dashboard.css").read_text(encoding="utf-8"))
        extra["plotly_js"] = Markup(plotly_js_path().read_text(encoding="utf-8"))
    extra.update(ctx)
    return environment().get_template(template).render(**extra)
