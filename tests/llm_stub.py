"""A scripted OpenAI-compatible chat server for tests: 127.0.0.1, a free port, a daemon thread.

    with LLMStub() as stub:
        stub.script(reply("比例达到20%以上[1]。"))
        generate(question, hits, llm=stub.llm)

Each POST to /v1/chat/completions takes the next scripted `Reply` (the last one repeats) and
is recorded in `stub.requests` (the parsed JSON body) and `stub.paths`. A reply can wait first
(`delay`, to play a stalled server); closing the stub releases any reply still waiting.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering
    content_type: str = "application/json"


def reply(content: str | None, *, delay: float = 0.0) -> Reply:
    """A well-formed chat completion whose message content is `content`."""
    body = {
        "id": "chatcmpl-stub", "object": "chat.completion", "model": "stub",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
    }  # fmt: skip
    return Reply(body=json.dumps(body, ensure_ascii=False).encode("utf-8"), delay=delay)


def raw(body: bytes | str, status: int = 200, *, delay: float = 0.0) -> Reply:
    """Any body, as it is (malformed JSON, an error page …)."""
    return Reply(status=status, body=body.encode("utf-8") if isinstance(body, str) else body, delay=delay)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LLMStub:
    """The scripted server; use it as a context manager."""

    def __init__(self, *replies: Reply):
        self._replies: list[Reply] = list(replies) or [reply("已收到。")]
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.requests: list[dict] = []
        self.paths: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="llm-stub", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def llm(self) -> str:
        return f"{self.url}#stub-model"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies = list(replies)

    def __enter__(self) -> LLMStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def _next(self) -> Reply:
        with self._lock:
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server name)
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                with stub._lock:
                    stub.paths.append(self.path)
                    try:
                        stub.requests.append(json.loads(data))
                    except ValueError:
                        stub.requests.append({"unparsed": data.decode("utf-8", "replace")})
                r = stub._next()
                if r.delay and stub._closing.wait(r.delay):
                    return
                try:
                    self.send_response(r.status)
                    self.send_header("Content-Type", r.content_type)
                    self.send_header("Content-Length", str(len(r.body)))
                    self.end_headers()
                    self.wfile.write(r.body)
                except OSError:
                    pass  # the client gave up

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base signature)
                pass

        return Handler
