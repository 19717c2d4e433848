"""End-to-end in headless Chromium: sign in, open every dashboard page, check charts really render."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

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
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)
        page.goto(base_url + "/")
        assert "/login" in page.url  # not signed in: redirected
        page.fill("#token", "tc_wrong")
        page.click("#signin")
        assert "not valid" in page.inner_text("body")
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
    page.wait_for_function(f"document.querySelectorAll('{selector} .main-svg path.js-line, "
                           f"{selector} .main-svg .point, {selector} .main-svg .bars path').length > 0")
    return page.locator(selector).screenshot()


def test_overview(page, base_url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    page.goto(base_url + "/")
    body = page.inner_text("main")
    assert "Total forecast" in body and "Category forecasts" in body and "Backtest accuracy" in body
    assert "seasonal_naive" in body  # metrics table
    png = _chart_png(page, "#total-forecast")
    assert _non_background_share(png) > 0.03, "total forecast chart looks blank"
    shots = Path(tmp_path_factory.getbasetemp()) / "screens"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "overview.png"), full_page=True)
    assert _non_background_share(page.screenshot()) > 0.05


def test_item_page_and_picker(page, base_url: str) -> None:
    page.goto(base_url + "/item?unique_id=S2/I005")
    assert page.locator("h1.page").inner_text() == "Item S2/I005"
    png = _chart_png(page, "#item-forecast")
    assert _non_background_share(png) > 0.03
    legend = page.inner_text("#item-forecast")
    assert "forecast" in legend and "quantile band" in legend
    assert "Reviews" in page.inner_text("main")
    page.select_option("#series", "S1/I002")
    page.wait_for_url("**unique_id=S1%2FI002")
    assert page.locator("h1.page").inner_text() == "Item S1/I002"


def test_hotspots_not_ready_and_alerts(page, base_url: str) -> None:
    page.goto(base_url + "/hotspots")
    assert "run `trendcast signals" in page.inner_text("main")  # no scored texts in this warehouse
    page.goto(base_url + "/alerts")
    main = page.inner_text("main")
    assert "Stock-out alerts" in main and "Risk warnings" in main and "Inventory plan" in main
    if page.locator("table.data").count() == 0:  # no plan stored yet: the page names the command
        assert "trendcast plan-inventory" in main


def test_price_whatif_slider(page, base_url: str) -> None:
    page.goto(base_url + "/whatif")
    page.wait_for_function("document.getElementById('whatif-chart').dataset.rendered === '1'")
    page.locator("#change").fill("20")
    page.wait_for_function("document.getElementById('whatif-summary').textContent.startsWith('A +20%')")
    assert _non_background_share(_chart_png(page, "#whatif-chart")) > 0.02


def test_logout_and_revoked_cookie(page, base_url: str) -> None:
    # logout is POST only: submit a same-origin form, as a sign-out button would
    page.evaluate("""() => { const f = document.createElement('form'); f.method = 'post';
        f.action = '/logout'; document.body.appendChild(f); f.submit(); }""")
    page.wait_for_url("**/login")
    assert "/login" in page.url
    page.goto(base_url + "/alerts")
    assert "/login?next=%2Falerts" in page.url
