"""End-to-end in headless Chromium: sign in, open every dashboard page, check charts really render."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(api_db: Path, tokens: dict[str, str]) -> Iterator[str]:
    import uvicorn

    from trendcast.api import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(api_db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(base_url: str, tokens: dict[str, str]):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(120_000)
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        page.console_errors = errors
        page.goto(base_url + "/")
        assert "/login" in page.url  # not signed in: redirected
        page.fill("#token", "tc_wrong")
        page.click("#signin")
        assert "not valid" in page.inner_text("body")
        errors.clear()  # the 401 answer to the wrong token is logged by the browser on purpose
        page.fill("#token", tokens["reader"])
        page.click("#signin")
        page.wait_for_url(base_url + "/")
        yield page
        browser.close()


def _non_background_share(png: bytes) -> float:
    """Share of pixels that differ from the page's most common (background) colour."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB").resize((320, 240))
    colours = img.getcolors(maxcolors=320 * 240)
    background = max(colours)[0]
    return 1.0 - background / (320 * 240)


def _chart_png(page, selector: str) -> bytes:
    page.wait_for_selector(f"{selector} .main-svg", state="attached")
    # locator waits, not wait_for_function: the dashboard's CSP forbids eval, which that needs
    page.locator(f"{selector} .main-svg path.js-line, {selector} .main-svg .point, "
                 f"{selector} .main-svg .bars path").first.wait_for(state="attached")
    return page.locator(selector).screenshot()


# page -> chart element ids that must render (every page is opened; these must also draw)
PAGES = {
    "/": [],
    "/overview": ["#total-forecast", "#category-forecast"],
    "/item?unique_id=S2/I005": ["#item-forecast"],
    "/alerts": [],
    "/pricing": ["#price-curves"],
    "/promotions": [],
    "/trends": [],
    "/voice": [],
    "/new-product?category=tea&price=12.5&title=New+tea": ["#newproduct-forecast"],
    "/recommendations": [],
    "/copy?item_id=I001&lang=zh": [],
    "/hotspots": [],
}


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders_without_console_errors(page, base_url: str, path: str,
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    page.console_errors.clear()
    page.goto(base_url + path)
    main = page.inner_text("main")
    assert "Could not compute" not in main and "Traceback" not in main
    for selector in PAGES[path]:
        assert _non_background_share(_chart_png(page, selector)) > 0.02, f"{selector} on {path} looks blank"
    for chart in page.locator(".plotly-graph-div").all():  # every chart on the page drew its svg
        assert chart.locator(".main-svg").count() > 0
    shots = Path(tmp_path_factory.getbasetemp()) / "screens"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / (path.strip("/").split("?")[0] or "actions")) + ".png", full_page=True)
    assert _non_background_share(page.screenshot()) > 0.05
    assert not page.console_errors, page.console_errors


def test_actions_page_links_through_to_items(page, base_url: str) -> None:
    page.goto(base_url + "/")
    assert page.locator(".kpi.action").count() >= 4
    link = page.locator("section.table table.data tbody a").first
    text = link.inner_text()
    link.click()
    page.wait_for_url("**/item?**")
    assert page.locator("h1.page").inner_text().startswith("Item ") and text in page.url.replace("%2F", "/")
    assert _non_background_share(_chart_png(page, "#item-forecast")) > 0.03


def test_tables_page_sort_filter_export_and_fit(page, base_url: str, tmp_path: Path) -> None:
    page.goto(base_url + "/alerts")
    tools = page.locator('[data-table="plan"]')
    assert "showing 1–25 of 32" in tools.inner_text()
    tools.locator("a.next").click()
    page.wait_for_url("**page=2**")
    assert "showing 26–32 of 32" in page.locator('[data-table="plan"]').inner_text()
    page.locator('[data-table="plan"] input[type=search]').fill("S1/")
    page.locator('[data-table="plan"] button').click()
    page.wait_for_url("**q=S1%2F**")
    assert "of 16 (filtered from 32)" in page.locator('[data-table="plan"]').inner_text()
    # action columns stay on screen at 1400 px: no horizontal scrolling needed
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    for header in ("order_qty", "on_hand", "order_up_to"):
        box = page.locator(f'table.data th:has-text("{header}")').first.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1400, header
    for fmt in ("csv", "xlsx"):
        with page.expect_download() as info:
            page.locator(f'[data-table="plan"] a.{fmt}').click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        frame = pd.read_csv(path, encoding="utf-8-sig") if fmt == "csv" else pd.read_excel(path)
        assert len(frame) == 16 and frame["unique_id"].str.startswith("S1/").all()


def test_item_picker(page, base_url: str) -> None:
    page.goto(base_url + "/item?unique_id=S2/I005")
    assert page.locator("h1.page").inner_text() == "Item S2/I005"
    legend = page.inner_text("#item-forecast")
    assert "forecast" in legend and "quantile band" in legend
    page.select_option("#series", "S1/I002")
    page.wait_for_url("**unique_id=S1%2FI002")
    assert page.locator("h1.page").inner_text() == "Item S1/I002"


def test_price_whatif_slider(page, base_url: str) -> None:
    page.goto(base_url + "/whatif")
    page.locator("#whatif-chart[data-rendered='1']").wait_for(state="attached")
    page.locator("#change").fill("20")
    expect(page.locator("#whatif-summary")).to_have_text(re.compile(r"^A \+20%"))
    assert _non_background_share(_chart_png(page, "#whatif-chart")) > 0.02


def test_logout_and_revoked_cookie(page, base_url: str) -> None:
    # logout is POST only: submit a same-origin form, as a sign-out button would
    page.evaluate("""() => { const f = document.createElement('form'); f.method = 'post';
        f.action = '/logout'; document.body.appendChild(f); f.submit(); }""")
    page.wait_for_url("**/login")
    assert "/login" in page.url
    page.goto(base_url + "/alerts")
    assert "/login?next=%2Falerts" in page.url


def test_report_opens_offline_with_every_chart(page, api_db: Path, tmp_path: Path) -> None:
    """The report file, opened from disk with the network blocked: no errors, every chart drawn."""
    from trendcast.report import build_report

    out = build_report(api_db, tmp_path / "report.html", items=1).path
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 900}, offline=True)
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(out.as_uri())
        charts = page.locator(".plotly-graph-div")
        assert charts.count() >= 8
        page.wait_for_function("[...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('.main-svg'))")
        for i in range(charts.count()):
            chart = charts.nth(i)
            chart.scroll_into_view_if_needed()
            assert _non_background_share(chart.screenshot()) > 0.02, f"chart {i} looks blank"
        text = page.inner_text("main")
        for heading in ("What to act on", "Orders to place", "Pricing", "Promotions", "Trends", "New product"):
            assert heading in text
        assert "showing" in text and "download all (CSV)" in text
        assert not errors, errors
    finally:
        context.close()
