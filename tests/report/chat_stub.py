"""A tiny OpenAI-compatible ``/v1/chat/completions`` server on loopback, for the tests of the
report narrative and the copywriter: subclasses say what to answer, the base does HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChatHandler(BaseHTTPRequestHandler):
    """Records each request in ``seen`` (a list the subclass owns) and answers with ``answer``."""

    seen: list[dict]

    def answer(self, body: dict) -> tuple[int, str]:
        """HTTP status and the assistant's text for a request body."""
        raise NotImplementedError

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        status, text = self.answer(body)
        if status != 200:
            self.send_response(status)
            self.end_headers()
            return
        raw = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


def serve(handler: type[ChatHandler]) -> Iterator[str]:
    """Run ``handler`` on a free loopback port; yields the base URL (``.../v1``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
