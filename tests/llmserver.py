"""An OpenAI-compatible chat endpoint on 127.0.0.1 for the tests of `ingest fill`: a real HTTP server
(the client, its timeouts and its errors are the real ones) whose answers the test chooses. The model
itself is tested for real in test_fill_engine.py (llama.cpp)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    """What the server answers: `content` as the model's message, or `status` with an error; after `delay`
    seconds; `refuse_json_schema` answers 422 to response_format json_schema (as llama-cpp-python does)."""

    content: str = ""
    status: int = 200
    delay: float = 0.0
    refuse_json_schema: bool = False
    before_answer: Callable[[], None] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0  # the most requests answered at once
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    behaviour: Behaviour

    def do_POST(self) -> None:
        behaviour = self.server.behaviour  # type: ignore[attr-defined]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        behaviour.requests.append({"path": self.path, **body})
        behaviour.headers.append(dict(self.headers))
        with behaviour.lock:
            behaviour.in_flight += 1
            behaviour.most_in_flight = max(behaviour.most_in_flight, behaviour.in_flight)
        if behaviour.delay:
            time.sleep(behaviour.delay)
        with behaviour.lock:
            behaviour.in_flight -= 1
        if behaviour.before_answer is not None:
            behaviour.before_answer()
        if behaviour.refuse_json_schema and body.get("response_format", {}).get("type") == "json_schema":
            self._send(422, {"detail": [{"msg": "Input should be 'text' or 'json_object'"}]})
        elif behaviour.status != 200:
            self._send(behaviour.status, {"error": {"message": "the model is overloaded"}})
        else:
            choice = {"index": 0, "message": {"role": "assistant", "content": behaviour.content}}
            self._send(200, {"id": "x", "object": "chat.completion", "choices": [choice]})

    def _send(self, status: int, data: dict[str, Any]) -> None:
        payload = json.dumps(data).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def chat_server(behaviour: Behaviour) -> Iterator[str]:
    """The base URL (`http://127.0.0.1:PORT/v1`) of a server answering as `behaviour` says."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.behaviour = behaviour  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
