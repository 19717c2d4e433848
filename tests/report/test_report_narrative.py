"""Narrative: an OpenAI-compatible endpoint writes the prose; any failure falls back to built-in text."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import httpx
import pytest

from trendcast.report.data import ShopData
from trendcast.report.narrative import LLMConfig, narrative


@pytest.fixture
def data(api_db: Path) -> ShopData:
    con = duckdb.connect(str(api_db), read_only=True)
    yield ShopData(con)
    con.close()


class _Stub(BaseHTTPRequestHandler):
    """A local chat-completions server: echoes the facts' series count, or misbehaves on request."""

    mode = "ok"
    seen: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Stub.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if _Stub.mode == "slow":
            time.sleep(1.5)
        if _Stub.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        facts = json.loads(body["messages"][1]["content"])
        text = f"The shop has {facts['shop']['series']} series.\n\nStub paragraph two."
        payload = {"choices": [{"message": {"role": "assistant", "content": text}}]}
        raw = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stub_url() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


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
