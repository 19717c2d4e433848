"""The offline report: self-contained (no http(s) script/link), every view present, CLI works."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from trendcast.cli import main
from trendcast.report import build_report, demo_step
from trendcast.report.data import ShopData, band_of
from trendcast.report.narrative import builtin_text, facts

REMOTE = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", re.I)


def test_report_is_offline_and_complete(api_db: Path, tmp_path: Path) -> None:
    result = build_report(api_db, tmp_path / "r.html", items=2)
    html = result.path.read_text(encoding="utf-8")
    assert not REMOTE.search(html), "the report must not load anything from the network"
    assert "<script src=" not in html and '<link rel="stylesheet"' not in html
    assert "Plotly.newPlot" in html and len(html) > 3_000_000  # plotly.js is inlined
    for heading in ("What to act on", "Orders to place", "Price changes", "Promotions worth running",
                    "Rising items", "Total forecast", "Category forecasts", "Backtest accuracy", "Item S",
                    "Hot spots", "Inventory plan", "Price recommendations", "Price curves", "Promotion uplift",
                    "Rising and falling items", "Aspects this week, most criticised first", "New-product forecast",
                    "Stock and plan", "Price and elasticity"):
        assert heading in html, heading
    assert "Could not compute" not in html and "Error" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert re.search(r"showing \d+ of \d+", html) and "data:text/csv;base64," in html
    # stages that have not run show what to do instead of failing
    assert "run `trendcast signals" in html
    assert result.missing >= 3 and result.sections >= 10
    ids = re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', html)
    assert len(ids) >= 6 and len(ids) == len(set(ids)), "every chart needs its own element id"


def test_report_cli(api_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli.html"
    assert main(["report", "--db", str(api_db), "--out", str(out), "--items", "1"]) == 0
    assert out.exists() and "trendcast report" in out.read_text(encoding="utf-8")[:2000]
    assert main(["report", "--db", str(tmp_path / "none.duckdb"), "--out", str(out)]) == 1


def test_demo_step_summary(api_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRENDCAST_LLM_URL", raising=False)
    summary = demo_step(api_db, tmp_path)
    assert Path(summary["report"]) == tmp_path / "report.html" and (tmp_path / "report.html").exists()
    assert summary["narrative"].startswith("Summary written by trendcast")
    assert summary["size"].endswith("(offline, plotly.js inlined)") and "waiting for a stage" in summary["sections"]


def test_facts_match_the_warehouse(api_db: Path) -> None:
    con = duckdb.connect(str(api_db), read_only=True)
    try:
        f = facts(ShopData(con))
        units = con.execute("SELECT sum(forecast) FROM forecasts").fetchone()[0]
    finally:
        con.close()
    assert f["shop"]["series"] == 32 and f["forecast"]["horizon_periods"] == 14
    assert f["forecast"]["units_forecast"] == pytest.approx(units, rel=1e-6)
    assert f["accuracy"]["best_model"] in {"seasonal_naive", "naive"}
    text = " ".join(builtin_text(f))
    assert "32 sales series" in text and f"{units:,.0f} units" in text


def test_band_picks_widest_pair() -> None:
    band = band_of(["forecast", "q0.1", "q0.25", "q0.5", "q0.75", "q0.9"])
    assert (band.lo, band.hi, band.inner_lo, band.inner_hi) == ("q0.1", "q0.9", "q0.25", "q0.75")
    assert band_of(["forecast"]).lo is None


def test_views_show_missing_stages_as_notes(api_db: Path) -> None:
    from trendcast.report import views

    con = duckdb.connect(str(api_db), read_only=True)
    try:
        data = ShopData(con)  # no warehouse path: stage functions are not consulted
        sections = views.alerts(data) + views.hotspots(data)
    finally:
        con.close()
    assert all(s.missing for s in sections)
    assert any("run `trendcast plan-inventory`" in s.missing for s in sections)
    assert any("run `trendcast signals`" in s.missing for s in sections)
