"""The HTTP search API (`rag serve`): each endpoint over a real uvicorn on a free loopback port,
search answers equal to `rag search --json`, JSON errors, 503 without an index, reload on a new generation."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.interfaces import cli
from rag.interfaces.api import create_app, uvicorn_options
from rag.storage.generations import resolve
from rag.storage.index import ClauseIndex

HASH = parse_spec("hash:64")
DOCS = {
    "a.txt": "一、总则\n1.本办法适用于全市市场监管。\n2.双随机抽查比例不低于5%。\n",
    "b.txt": "第一条 为了规范个体工商户登记，制定本条例。\n\n第二条 登记机关为县级市场监管部门。\n",
    "c.txt": "一、工作目标\n（一）完成养老服务设施建设。\n（二）提高教师待遇。\n",
}


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(index_dir: Path, reload_s: float = 0.0, store: str | None = None) -> Iterator[str]:
    """The API over `index_dir` (or a Milvus `store`) served by uvicorn in a thread; yields its base URL."""
    port = _free_port()
    app = create_app(index_dir, reload_s, store)
    server = uvicorn.Server(uvicorn.Config(app, **uvicorn_options("127.0.0.1", port)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def call(url: str, body: object = None, method: str | None = None) -> tuple[int, dict]:
    """(status, JSON object) of one request; every answer, error or not, must be a JSON object."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode("utf-8")
    assert "Traceback" not in text and 'File "' not in text
    assert resp_is_json(text), text[:200]
    return status, json.loads(text)


def resp_is_json(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def q(params: dict | list) -> str:
    return urllib.parse.urlencode(params, doseq=True)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("api")
    _write(root / "lib", DOCS)
    ingest([root / "lib"], root / "idx", HASH, show_progress=False)
    return root / "idx"


@pytest.fixture(scope="module")
def base(index_dir: Path) -> Iterator[str]:
    with running(index_dir) as url:
        yield url


def _cli_hits(capsys, index_dir: Path, question: str, *extra: str) -> list[dict]:
    """`rag search --json`'s hits, with sources as the API shows them (relative to the library folder)."""
    capsys.readouterr()
    assert cli.main(["search", question, "--index", str(index_dir), "--json", *extra]) == 0
    hits = json.loads(capsys.readouterr().out)
    for h in hits:
        assert Path(h["source"]).is_absolute()
        h["source"] = Path(h["source"]).name
    return hits


def test_health(base, index_dir):
    status, body = call(f"{base}/health")
    assert status == 200
    assert body["generation"] == resolve(index_dir).name
    assert (body["documents"], body["clauses"]) == (3, 6)
    assert body["tiers"] == {"lexical": True, "dense": True} and body["status"] == "ok"


@pytest.mark.parametrize(
    "question, extra",
    [
        ("双随机抽查比例", []),
        ("登记机关第二条", ["-k", "2"]),
        ("市场监管", ["-k", "10", "--mode", "lexical", "--set", "fusion=rrf"]),
        ("教师待遇", ["--mode", "dense", "--type", "条例", "--all-versions"]),
    ],
)
def test_search_equals_cli_json(base, index_dir, capsys, question, extra):
    expected = _cli_hits(capsys, index_dir, question, *extra)
    params: dict = {"q": question}
    flags = dict(zip(extra[::2], extra[1::2]))
    if "-k" in flags:
        params["k"] = int(flags["-k"])
    if "--mode" in flags:
        params["mode"] = flags["--mode"]
    if "--type" in flags:
        params["type"] = flags["--type"]
    if "--set" in flags:
        params["set"] = [flags["--set"]]
    if "--all-versions" in extra:
        params["all_versions"] = True
    status, got = call(f"{base}/search?{q(params)}")
    assert status == 200 and got["hits"] == expected and got["query"] == question and "notice" not in got
    status, posted = call(f"{base}/search", params)
    assert status == 200 and posted == got


def test_search_doc_filter_and_settings_object(base, index_dir, capsys):
    doc = next(d for d in ClauseIndex.load(index_dir).docs.values() if d.source.endswith("a.txt"))
    expected = _cli_hits(capsys, index_dir, "监管", "--doc", doc.doc_id, "--set", "lexical_weight=2")
    status, got = call(f"{base}/search", {"q": "监管", "doc": [doc.doc_id], "set": {"lexical_weight": 2}})
    assert status == 200 and got["hits"] == expected and {h["doc_id"] for h in got["hits"]} == {doc.doc_id}


def test_search_place_filter(base, index_dir, capsys):
    # no document of this library belongs to a place: a place keeps them all, as the CLI does
    expected = _cli_hits(capsys, index_dir, "监管", "--place", "杭州")
    status, got = call(f"{base}/search", {"q": "监管", "place": "杭州"})
    assert status == 200 and got["hits"] == expected == call(f"{base}/search", {"q": "监管"})[1]["hits"]
    status, got = call(f"{base}/search?{q({'q': '监管', 'place': '宝山区'})}")
    assert status == 400 and got["error"].startswith("place: '宝山区' names several places")


def test_clause_lookup(base, index_dir):
    index = ClauseIndex.load(index_dir)
    c = next(c for c in index.clauses if c.label == "第二条")
    status, body = call(f"{base}/clauses/{urllib.parse.quote(c.clause_id)}")
    assert status == 200
    assert (body["clause_id"], body["text"], body["label"]) == (c.clause_id, c.text, c.label)
    assert "第二条" in body["citation"] and body["current"] is True and body["version"] == "current"
    _, hits = call(f"{base}/search?{q({'q': '第二条', 'k': 1, 'doc': c.doc_id})}")
    assert hits["hits"][0]["exact_ref"] and body["citation"] == hits["hits"][0]["citation"]


def test_documents(base, index_dir):
    status, body = call(f"{base}/documents")
    assert status == 200
    docs = body["documents"]
    assert sorted(d["source"] for d in docs) == ["a.txt", "b.txt", "c.txt"]  # library-relative, never absolute
    assert all(d["current"] and d["replaced_by"] is None and d["clauses"] == 2 for d in docs)
    assert {d["doc_id"] for d in docs} == set(ClauseIndex.load(index_dir).docs)


def test_openapi_lists_paths(base):
    status, body = call(f"{base}/openapi.json")
    assert status == 200 and body["openapi"].startswith("3.")
    assert set(body["paths"]) == {"/health", "/search", "/ask", "/clauses/{clause_id}", "/documents", "/openapi.json"}
    assert set(body["paths"]["/search"]) == set(body["paths"]["/ask"]) == {"get", "post"}
    assert "generate" in {p["name"] for p in body["paths"]["/ask"]["get"]["parameters"]}


@pytest.mark.parametrize(
    "path, body, method, status",
    [
        ("/search?q=x&k=0", None, None, 400),
        ("/search?q=x&k=101", None, None, 400),
        ("/search?q=x&k=abc", None, None, 400),
        ("/search?q=x&mode=bad", None, None, 400),
        ("/search?q=x&set=bogus%3D1", None, None, 400),
        ("/search?q=x&set=candidates%3D0", None, None, 400),
        ("/search?q=x&set=fusion", None, None, 400),
        ("/search?q=x&set=adapter%3D/etc/passwd", None, None, 400),
        ("/search?q=x&set=rerank_model%3Dsome/model", None, None, 400),
        ("/search?q=x&all_versions=maybe", None, None, 400),
        ("/search?q=x&place=%E5%AE%9D%E5%B1%B1%E5%8C%BA", None, None, 400),  # 宝山区: 上海's or 双鸭山's
        ("/search", {"q": "x", "place": "江城市"}, None, 400),  # names no division
        ("/search?q=x&k=1&k=2", None, None, 400),
        ("/search?q=x&nope=1", None, None, 400),
        ("/search", None, None, 400),
        ("/search?q=%20%20", None, None, 400),
        ("/search", {"q": "x", "k": True}, None, 400),
        ("/search", {"q": "x", "k": 2.5}, None, 400),
        ("/search", {"q": 5}, None, 400),
        ("/search", ["q"], None, 400),
        ("/search", {"q": "x", "doc": [1]}, None, 400),
        ("/clauses/nope:1", None, None, 404),
        ("/clauses/nope", None, None, 404),
        ("/no/such/path", None, None, 404),
        ("/search", None, "DELETE", 405),
        ("/documents", {}, "POST", 405),
    ],
)
def test_errors_are_json(base, path, body, method, status):
    got, err = call(f"{base}{path}", body, method)
    assert got == status and err["code"] == status and isinstance(err["error"], str) and err["error"]


def test_bad_json_body(base):
    req = urllib.request.Request(f"{base}/search", data=b"{not json", method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 400 and json.loads(exc.value.read())["code"] == 400


def test_long_question_answered_with_notice(base):
    question = "双随机抽查比例" * (100_000 // 7) + "双" * (100_000 % 7)
    assert len(question) == 100_000
    status, posted = call(f"{base}/search", {"q": question})
    assert status == 200 and posted["hits"] and "100000 characters" in posted["notice"]
    assert len(posted["query"]) == 2000
    status, got = call(f"{base}/search?{q({'q': question})}")
    assert status == 200 and got == posted


def test_no_index_is_503(tmp_path):
    broken = tmp_path / "broken"
    (broken / "gen-1").mkdir(parents=True)
    (broken / "gen-1" / "manifest.json").write_text("{not json", encoding="utf-8")
    (broken / "CURRENT").write_text("gen-1", encoding="utf-8")
    for folder in (tmp_path / "missing", broken):
        with running(folder) as url:
            for path in ("/health", "/search?q=x", "/documents", "/clauses/a:1"):
                status, body = call(f"{url}{path}")
                assert status == 503 and body["code"] == 503 and "index" in body["error"]
                assert str(tmp_path) not in body["error"]  # no server path in what clients see
            status, _ = call(f"{url}/openapi.json")
            assert status == 200


def test_reload_after_reingest(tmp_path):
    lib, idx = tmp_path / "lib", tmp_path / "idx"
    _write(lib, DOCS)
    ingest([lib], idx, HASH, show_progress=False)
    with running(idx) as url:
        _, before = call(f"{url}/health")
        _, hits = call(f"{url}/search?{q({'q': '食品安全抽检'})}")
        assert before["documents"] == 3 and not any("食品安全" in h["text"] for h in hits["hits"])
        _write(lib, {"d.txt": "一、重点任务\n1.开展食品安全抽检。\n"})
        ingest([lib], idx, HASH, show_progress=False)
        _, after = call(f"{url}/health")
        assert after["generation"] != before["generation"] and after["generation"] == resolve(idx).name
        assert after["documents"] == 4
        _, hits = call(f"{url}/search?{q({'q': '食品安全抽检'})}")
        assert "食品安全抽检" in hits["hits"][0]["text"]


def test_serve_listens_on_loopback_by_default():
    args = cli.build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.index) == ("127.0.0.1", 8000, "index")


def test_load_test_runs_and_stops_the_server(index_dir):
    from rag.evaluation.bench import load_test

    serve = [sys.executable, "-m", "rag.interfaces.cli", "serve"]
    rows = load_test(str(index_dir), ["市场监管", "教师待遇"], clients=(1, 2), seconds=1, serve_cmd=serve)
    levels = [value for label, value in rows if "concurrent clients" in label]
    assert len(levels) == 2 and all("req/s" in v and "p95" in v and "errors" not in v for v in levels)


def test_the_api_over_a_milvus_store_answers_as_over_the_folder(base, index_dir, tmp_path):
    """`rag serve --store milvus:FILE.db`: same hits, clause records and document list as the folder; an
    ingest by another client shows within the reload interval."""
    from rag.ingest.pipeline import ingest_milvus

    db = tmp_path / "m.db"
    _, store = ingest_milvus([index_dir.parent / "lib"], str(db), "lib", tmp_path / "cache", HASH, show_progress=False)
    with running(index_dir, reload_s=0.0, store=f"milvus:{db}#lib") as url:
        for question in ("双随机抽查比例", "登记机关是谁", "养老服务"):
            _, mine = call(f"{url}/search?" + q({"q": question, "k": 5}))
            _, folder = call(f"{base}/search?" + q({"q": question, "k": 5}))
            assert mine["hits"] and mine == folder
        cid = mine["hits"][0]["clause_id"]
        assert call(f"{url}/clauses/{cid}") == call(f"{base}/clauses/{cid}")
        assert call(f"{url}/documents") == call(f"{base}/documents")
        status, health = call(f"{url}/health")
        assert status == 200 and health["clauses"] == len(ClauseIndex.load(index_dir))
        # another process removes a document from the collection: the API follows
        gone = next(d for d in store.docs.values() if d.source.endswith("c.txt"))
        from rag.storage.store import Changes

        store.apply(Changes(delete=(gone.doc_id,)))
        _, docs = call(f"{url}/documents")
        assert gone.doc_id not in {d["doc_id"] for d in docs["documents"]} and len(docs["documents"]) == 2


def _cli_ask(capsys, index_dir: Path, question: str, *extra: str) -> dict:
    capsys.readouterr()
    assert cli.main(["ask", question, "--index", str(index_dir), "--json", *extra]) == 0
    return _relative_sources(json.loads(capsys.readouterr().out))


def _relative_sources(value):
    """The CLI's output with every "source" as the API shows it (the file name, for this flat library)."""
    if isinstance(value, dict):
        return {k: Path(v).name if k == "source" and isinstance(v, str) else _relative_sources(v)
                for k, v in value.items()}  # fmt: skip
    return [_relative_sources(v) for v in value] if isinstance(value, list) else value


@pytest.mark.parametrize("question, extra", [("双随机抽查比例是多少", []), ("登记机关是哪个部门", ["-k", "2"])])
def test_ask_equals_cli_json(base, index_dir, capsys, question, extra):
    expected = _cli_ask(capsys, index_dir, question, *extra)
    params: dict = {"q": question, **({"k": int(extra[1])} if extra else {})}
    status, got = call(f"{base}/ask?{q(params)}")
    assert status == 200 and got == expected and got["mode"] == "extractive" and got["answer"]["text"]
    status, posted = call(f"{base}/ask", params)
    assert status == 200 and posted == expected


def test_ask_generate_needs_the_servers_model(index_dir, monkeypatch):
    monkeypatch.delenv("RAG_LLM", raising=False)
    with running(index_dir) as url:
        for path, body in ((f"/ask?{q({'q': '双随机抽查比例', 'generate': 'true'})}", None),
                           ("/ask", {"q": "双随机抽查比例", "generate": True})):  # fmt: skip
            status, err = call(f"{url}{path}", body)
            assert status == 400 and err["code"] == 400 and "RAG_LLM" in err["error"]
        for path in ("/ask?q=x&generate=maybe", "/ask?q=x&llm=http://evil/v1%23m", "/ask"):
            status, err = call(f"{url}{path}")
            assert status == 400 and err["code"] == 400


def test_ask_generate_uses_the_servers_model(index_dir, monkeypatch, capsys):
    """generate=true with RAG_LLM set: the same answer as `rag ask --llm`, from the server's model only."""
    from tests.llm_stub import LLMStub, reply

    with LLMStub(reply("双随机抽查比例不低于5%[1]。")) as stub:
        expected = _cli_ask(capsys, index_dir, "双随机抽查比例", "--llm", stub.llm)
        assert expected["mode"] == "generated" and expected["answer"]["sentences"][0]["verified"]
        monkeypatch.setenv("RAG_LLM", stub.llm)
        with running(index_dir) as url:
            status, got = call(f"{url}/ask?{q({'q': '双随机抽查比例', 'generate': 'true'})}")
            assert status == 200 and got == expected and len(stub.requests) == 2
            status, plain = call(f"{url}/ask?{q({'q': '双随机抽查比例'})}")
            assert status == 200 and plain["mode"] == "extractive" and len(stub.requests) == 2


def test_no_server_paths_reach_clients(base, index_dir):
    """#20 item 7: sources library-relative, /health names the index folder only."""
    seen = []
    for path in ("/health", "/documents", f"/search?{q({'q': '监管'})}", f"/ask?{q({'q': '双随机抽查比例是多少'})}"):
        status, body = call(f"{base}{path}")
        assert status == 200
        seen.append(json.dumps(body, ensure_ascii=False))
    assert not [t for t in seen if str(index_dir.parent) in t]
    status, body = call(f"{base}/health")
    assert body["index"] == index_dir.name


def test_deep_json_and_huge_get_are_refused_cleanly(base):
    deep = ("[" * 50_000 + "]" * 50_000).encode()
    req = urllib.request.Request(f"{base}/search", data=deep, method="POST",
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 400 and "nested too deeply" in json.loads(err.value.read())["error"]
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{base}/search?q={'a' * (1 << 20)}", timeout=30)
    assert err.value.code == 414 and json.loads(err.value.read())["code"] == 414
