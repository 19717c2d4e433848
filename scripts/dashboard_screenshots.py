"""README screenshots of the dashboard: ``python scripts/dashboard_screenshots.py --db out/demo/demo.duckdb``.

Serves the warehouse (run ``trendcast demo`` first) on loopback, signs in with a fresh token
and saves the actions page and an item page as PNGs under ``docs/`` (1400 px wide, headless
Debian Chromium through Playwright). Works on a copy of the warehouse, so the demo stays as it was.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db: Path) -> tuple[str, object, threading.Thread]:
    """Start the dashboard for ``db`` in a thread; returns (base URL, server, thread)."""
    import uvicorn

    from trendcast.api import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the dashboard did not start")
    return f"http://127.0.0.1:{port}", server, thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=ROOT / "out" / "demo" / "demo.duckdb")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--item", default=None, help="series for the item page (default: the first order to place)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from trendcast.api.auth import create_token
    from trendcast.data.warehouse import Warehouse

    with tempfile.TemporaryDirectory(prefix="trendcast-shots-") as tmp:
        db = Path(tmp) / "demo.duckdb"
        shutil.copy(args.db, db)
        with Warehouse(db) as wh:
            token = create_token(wh.con, "screenshots")
        base, server, thread = serve(db)
        args.out.mkdir(parents=True, exist_ok=True)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(300_000)
                page.goto(base + "/login")
                page.fill("#token", token)
                page.click("#signin")
                page.wait_for_url(base + "/")
                page.screenshot(path=str(args.out / "dashboard_actions.png"), full_page=True)
                if args.item:
                    page.goto(base + "/item?unique_id=" + args.item)
                else:
                    page.locator("table.data a").first.click()
                page.wait_for_selector("#item-forecast .main-svg")
                page.wait_for_timeout(500)
                page.screenshot(path=str(args.out / "dashboard_item.png"), full_page=True)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    print(f"wrote {args.out / 'dashboard_actions.png'} and {args.out / 'dashboard_item.png'}")


if __name__ == "__main__":
    main()
