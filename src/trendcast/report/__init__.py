"""Stage 7 — report: one self-contained HTML file with the dashboard's views and a narrative.

The file inlines plotly.js (from the installed ``plotly`` package), the stylesheet and every
figure's data, so it opens offline and can be mailed around. See :func:`build_report`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from trendcast.errors import NotReadyError
from trendcast.report import views
from trendcast.report.data import ShopData
from trendcast.report.narrative import LLMConfig, narrative
from trendcast.report.render import render

__all__ = ["LLMConfig", "ReportResult", "build_report", "demo_step", "open_readonly"]

REPORT_ITEMS = 3  # series shown in detail: the best sellers of the last 28 days


@dataclass
class ReportResult:
    path: Path
    bytes: int
    sections: int
    missing: int
    narrative_source: str


@dataclass
class _Page:
    title: str
    anchor: str
    sections: list[views.Section]


@contextmanager
def open_readonly(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read-only when possible; read-write if this process already holds the file open that way."""
    if not Path(db).exists():
        raise NotReadyError(f"No warehouse at {db}: run `trendcast ingest` first.")
    from trendcast.data.warehouse import connect

    try:
        con = connect(Path(db), read_only=True)  # waits for, then names, a process holding it
    except duckdb.ConnectionException:
        con = duckdb.connect(str(db))
    try:
        yield con
    finally:
        con.close()


def top_series(data: ShopData, n: int = REPORT_ITEMS) -> list[str]:
    """The ``n`` series that sold most over the last 28 days (the ones worth a close look)."""
    sql = """
    WITH last AS (SELECT max(date) AS d FROM sales)
    SELECT CASE WHEN store_id = '' THEN item_id ELSE store_id || '/' || item_id END AS uid
    FROM sales, last WHERE date > last.d - INTERVAL 28 DAY GROUP BY ALL ORDER BY sum(units) DESC LIMIT ?"""
    return [r[0] for r in data.con.execute(sql, [n]).fetchall()]


def _example_product(data: ShopData) -> tuple[dict[str, object] | None, str]:
    """The report's new-product example (the best-selling category at its median price), or
    None and why there is none."""
    if data.db is None:
        return None, "No warehouse file to read a product from."
    from trendcast.decide.workflows import demo_product

    try:
        return demo_product(data.db), ""
    except NotReadyError as exc:
        return None, f"No new-product example: {exc}"


def build_report(db: Path, out: Path, llm: LLMConfig | None = None, items: int = REPORT_ITEMS) -> ReportResult:
    """Write the offline HTML report for warehouse ``db`` to ``out`` and say what went in."""
    with open_readonly(db) as con:
        data = ShopData(con, db=Path(db))
        data.require("sales", "Sales")
        pages = [_Page("What to act on", "actions", views.actions(data)),
                 _Page("Overview", "overview", views.overview(data)),
                 _Page("Orders and alerts", "alerts", views.alerts(data)),
                 _Page("Pricing", "pricing", views.pricing(data)),
                 _Page("Promotions", "promotions", views.promotions(data)),
                 _Page("Trends", "trends", views.trends(data)),
                 _Page("Voice of the customer", "voice", views.voice(data))]
        product, why = _example_product(data)
        pages.append(_Page("New product", "new-product", views.new_product(data, product, why=why)))
        users = data.active_users(1)
        if users:
            pages.append(_Page("Recommendations", "recommendations", views.recommendations(data, users[0])))
        for uid in top_series(data, items):
            # readable, and unique even for ids that differ only in characters the slug drops
            anchor = f"item-{re.sub(r'[^A-Za-z0-9_-]', '-', uid)}-{hashlib.sha1(uid.encode()).hexdigest()[:6]}"
            pages.append(_Page(f"Item {uid}", anchor, views.item(data, uid, dom_prefix=f"{anchor}-")))
        pages.append(_Page("Hot spots", "hotspots", views.hotspots(data)))
        story = narrative(data, llm)
    nav = [(f"#{p.anchor}", p.title) for p in pages]
    html = render("report.html", offline=True, title="trendcast report", nav=nav, active="",
                  pages=pages, narrative=story.paragraphs, narrative_source=story.source,
                  footer=f"trendcast report for {Path(db).name}; opens offline.")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    sections = [s for p in pages for s in p.sections]
    return ReportResult(out, out.stat().st_size, len(sections), sum(1 for s in sections if s.missing),
                        story.source)


def demo_step(db: Path, out: Path) -> dict[str, str]:
    """``trendcast demo``'s last stage: write ``out/report.html`` from whatever the run produced."""
    result = build_report(db, Path(out) / "report.html", llm=LLMConfig.from_env())
    return {
        "report": str(result.path),
        "size": f"{result.bytes / 1e6:.1f} MB (offline, plotly.js inlined)",
        "sections": f"{result.sections} ({result.missing} waiting for a stage)",
        "narrative": result.narrative_source,
    }
