"""``trendcast copy``: grounded copy from templates, or from an OpenAI-compatible model on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from chat_stub import ChatHandler, serve

from trendcast.cli import main
from trendcast.errors import ConfigError, InputError
from trendcast.report.copywriting import gather_facts, template_copy, write_copy
from trendcast.report.narrative import LLMConfig


@pytest.fixture(scope="module")
def scored_db(tmp_path_factory: pytest.TempPathFactory, small_warehouse: Path) -> Path:
    """The small shop after `trendcast signals` (scored texts with need mentions)."""
    import shutil

    from trendcast.text.signals import build_signals

    path = tmp_path_factory.mktemp("copy") / "scored.duckdb"
    shutil.copy(small_warehouse, path)
    build_signals(path, model="fast")
    return path


class _Chat(ChatHandler):
    """Answers with the facts it was sent, or fails with 503."""

    fail = False
    seen: list[dict] = []

    def answer(self, body: dict) -> tuple[int, str]:
        if _Chat.fail:
            return 503, ""
        facts = json.loads(body["messages"][1]["content"])
        return 200, f"COPY for {facts['title']} praising {', '.join(facts['praised'])}"


@pytest.fixture(scope="module")
def chat_url() -> Iterator[str]:
    yield from serve(_Chat)


def test_facts_come_from_the_warehouse(scored_db: Path) -> None:
    import duckdb

    f = gather_facts(scored_db, item_id="I001")
    con = duckdb.connect(str(scored_db), read_only=True)
    try:
        title, category = con.execute("SELECT title, category FROM products WHERE item_id = 'I001'").fetchone()
        n, rating = con.execute("SELECT count(*), avg(rating) FROM texts WHERE item_id = 'I001'").fetchone()
    finally:
        con.close()
    assert (f.title, f.category, f.reviews) == (title, category, n)
    assert f.rating == pytest.approx(rating, abs=0.05)
    assert f.praised and set(f.praised) <= {"price", "quality", "delivery", "size", "service"}
    assert f.price_position in {"budget", "mid-range", "premium"} and f.price > 0
    new = gather_facts(scored_db, product={"category": category, "price": 1.0, "title": "Cheap thing"})
    assert new.basis == "category" and new.price_position == "budget" and new.item_id is None


def test_templates_in_both_languages_say_only_the_facts(scored_db: Path) -> None:
    f = gather_facts(scored_db, item_id="I001")
    en = template_copy(f, "en", "description")
    zh = template_copy(f, "zh", "marketing")
    assert f.title in en and f"{f.price:,.2f}" in en
    assert "praise" in en and any(a in en for a in ("quality", "value for money", "fast delivery", "fit", "service"))
    assert f.title in zh and "称赞" in zh
    result = write_copy(scored_db, item_id="I001", lang="zh", llm=None)
    assert result.source.startswith("built-in template") and result.text == template_copy(f, "zh", "marketing")
    with pytest.raises(ConfigError):
        write_copy(scored_db, item_id="I001", lang="fr")
    with pytest.raises(InputError):
        write_copy(scored_db, item_id="NOPE")


def test_model_writes_from_the_facts_and_failures_fall_back(scored_db: Path, chat_url: str,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    _Chat.fail, _Chat.seen[:] = False, []
    llm = LLMConfig(chat_url, "copy-model", timeout_s=5)
    result = write_copy(scored_db, item_id="I001", lang="en", kind="description", llm=llm)
    assert result.text.startswith("COPY for ") and "copy-model" in result.source
    sent = _Chat.seen[0]["body"]
    assert _Chat.seen[0]["path"] == "/v1/chat/completions" and "English" in sent["messages"][0]["content"]
    assert json.loads(sent["messages"][1]["content"])["item_id"] == "I001"
    _Chat.fail = True
    with caplog.at_level("WARNING", logger="trendcast.report"):
        fallback = write_copy(scored_db, item_id="I001", lang="en", llm=llm)
    assert fallback.source.startswith("built-in template") and "503" in caplog.text
    assert "503" not in fallback.text and "Error" not in fallback.source


def test_copy_cli(scored_db: Path, chat_url: str, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TRENDCAST_LLM_URL", raising=False)
    assert main(["copy", "--db", str(scored_db), "--item", "I002", "--lang", "en", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"].startswith("built-in template") and out["facts"]["item_id"] == "I002"
    _Chat.fail = False
    monkeypatch.setenv("TRENDCAST_LLM_URL", chat_url)
    monkeypatch.setenv("TRENDCAST_LLM_MODEL", "copy-model")
    assert main(["copy", "--db", str(scored_db), "--category", "tea", "--price", "9.5", "--title", "New tea",
                 "--lang", "zh"]) == 0
    assert "COPY for New tea" in capsys.readouterr().out
    assert main(["copy", "--db", str(scored_db), "--lang", "zh"]) == 1  # neither an item nor a product


def test_trend_looks_back_a_span_that_fits_the_data_period(tmp_path: Path) -> None:
    import pandas as pd

    from trendcast.data.ingest import ingest

    months = pd.date_range("2023-01-01", periods=12, freq="MS")
    sales = tmp_path / "s.csv"
    pd.DataFrame({"item_id": "M1", "date": months.date, "units": [10.0] * 6 + [10.0, 10.0, 10.0, 20.0, 20.0, 20.0]}).to_csv(sales, index=False)
    (tmp_path / "p.csv").write_text("item_id,category,title\nM1,outdoor,Tent\n")
    ingest(tmp_path / "m.duckdb", sales=sales, products=tmp_path / "p.csv")
    f = gather_facts(tmp_path / "m.duckdb", item_id="M1")
    assert f.trend_window == "3 months" and f.trend_pct == pytest.approx(100.0)  # 60 units against 30
