"""Narrative: an OpenAI-compatible endpoint writes the prose; any failure falls back to built-in text."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
from chat_stub import ChatHandler, serve

from trendcast.report.data import ShopData
from trendcast.report.narrative import LLMConfig, narrative


@pytest.fixture
def data(api_db: Path) -> ShopData:
    con = duckdb.connect(str(api_db), read_only=True)
    yield ShopData(con)
    con.close()


class _Stub(ChatHandler):
    """Echoes the facts' series count, or misbehaves on request (``mode``: slow, error)."""

    mode = "ok"
    seen: list[dict] = []

    def answer(self, body: dict) -> tuple[int, str]:
        if _Stub.mode == "slow":
            time.sleep(1.5)
        if _Stub.mode == "error":
            return 500, ""
        facts = json.loads(body["messages"][1]["content"])
        return 200, f"The shop has {facts['shop']['series']} series.\n\nStub paragraph two."


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    yield from serve(_Stub)


def test_builtin_text_without_config(data: ShopData) -> None:
    story = narrative(data, None)
    assert story.source.startswith("Summary written by trendcast")
    assert "32 sales series" in story.paragraphs[0]


def test_model_writes_the_prose(data: ShopData, stub_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUB_KEY", "sekret")
    _Stub.mode, _Stub.seen[:] = "ok", []
    story = narrative(data, LLMConfig(stub_url, "stub-model", api_key_env="STUB_KEY", timeout_s=5))
    assert story.paragraphs == ["The shop has 32 series.", "Stub paragraph two."]
    assert "stub-model" in story.source
    call = _Stub.seen[0]
    assert call["path"] == "/v1/chat/completions" and call["auth"] == "Bearer sekret"
    assert call["body"]["model"] == "stub-model"


def _planner_facing(story) -> str:
    return " ".join([story.source, *story.paragraphs])


@pytest.mark.parametrize("mode", ["slow", "error"])
def test_falls_back_on_timeout_and_errors(data: ShopData, stub_url: str, mode: str,
                                          caplog: pytest.LogCaptureFixture) -> None:
    _Stub.mode = mode
    started = time.perf_counter()
    with caplog.at_level("WARNING", logger="trendcast.report"):
        story = narrative(data, LLMConfig(stub_url, "stub-model", timeout_s=0.3))
    assert time.perf_counter() - started < 1.4
    assert "32 sales series" in story.paragraphs[0]
    assert story.source.startswith("Built-in summary")
    # the reason is logged for whoever runs trendcast, never printed into the planner's summary
    assert "Timeout" in caplog.text or "500" in caplog.text
    assert not any(w in _planner_facing(story) for w in ("Timeout", "500", "Error", "http"))


def test_falls_back_on_odd_json_and_unreachable_host(data: ShopData, caplog: pytest.LogCaptureFixture) -> None:
    odd = httpx.MockTransport(lambda request: httpx.Response(200, json={"choices": []}))
    with caplog.at_level("WARNING", logger="trendcast.report"):
        story = narrative(data, LLMConfig("http://llm.invalid", "m"), transport=odd)
    assert story.source.startswith("Built-in summary") and "IndexError" in caplog.text
    closed = LLMConfig("http://127.0.0.1:9", "m", timeout_s=1)
    story = narrative(data, closed)
    assert story.source.startswith("Built-in summary") and "ConnectError" in caplog.text
    assert "Errno" not in _planner_facing(story) and "ConnectError" not in _planner_facing(story)


def test_endpoint_normalisation() -> None:
    assert LLMConfig("http://h:1", "m").endpoint() == "http://h:1/v1/chat/completions"
    assert LLMConfig("http://h:1/v1/", "m").endpoint() == "http://h:1/v1/chat/completions"
    assert LLMConfig("http://h/x/chat/completions", "m").endpoint() == "http://h/x/chat/completions"
