"""Hostile queries and settings: results or a clear ValueError, quickly; study packs that stay inert."""

from __future__ import annotations

import io
import math
import time

import docx
import pytest

from rag.citing.export import PackItem, md_text, to_docx, to_markdown
from rag.reading.load import load_file
from rag.search.retrieve import (
    MAX_K,
    MAX_QUERY_CHARS,
    SearchConfig,
    Searcher,
    cap_query,
    check_k,
    parse_config,
    sanitize_query,
    searchable,
)
from rag.storage.index import ClauseIndex
from tests.conftest import REPO

LIMIT_S = 2.0


@pytest.fixture(scope="module")
def index(fake_embedder) -> ClauseIndex:
    doc = load_file(REPO / "tests" / "data" / "policy_small.txt")
    return ClauseIndex.build([doc], fake_embedder, show_progress=False)


@pytest.fixture(scope="module")
def searcher(index, fake_embedder) -> Searcher:
    return Searcher(index, fake_embedder)


def _timed(fn, *args, **kwargs):
    started = time.monotonic()
    out = fn(*args, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < LIMIT_S, f"took {elapsed:.2f} s"
    return out


# ------------------------------------------------------------------ the query text


def test_cap_query():
    assert cap_query("双随机抽查") == ("双随机抽查", False)
    capped, cut = cap_query("查" * 100_000)
    assert cut and len(capped) == MAX_QUERY_CHARS == 2000
    assert cap_query("x" * MAX_QUERY_CHARS) == ("x" * MAX_QUERY_CHARS, False)


def test_sanitize_query():
    assert sanitize_query("双随机\udcff抽查") == "双随机\ufffd抽查"  # a lone surrogate (undecodable terminal byte)
    assert sanitize_query("\ud83d\ude00") == "\U0001f600"  # a valid pair becomes its character
    assert sanitize_query("a\x00b\x1bc") == "a b c"
    sanitize_query("\udcff" * 10).encode("utf-8")  # encodable afterwards
    assert not searchable("？！。，、…… \u3000\t\n!?.,;:()[]{}") and searchable("第8条")


@pytest.mark.parametrize(
    "query",
    [
        "双随机" * 40_000,  # 120,000 characters
        "x" * 100_000,
        "？！。，、……" * 10,
        "  \u3000\t\n ",
        "",
        "!?.,;:()[]{}<>/\\|\"'",
        "双随机\udcff\udcfe抽查",
        "\ud800",
        "\x00\x01\x02第一条",
        "“”",
        "第99999999999999999999条",
        "/" * 5000,
    ],
    ids=[
        "120k-cjk", "100k-ascii", "cjk-punct", "spaces", "empty", "ascii-punct", "surrogates",
        "lone-high-surrogate", "controls", "empty-quotes", "huge-article", "slashes",
    ],
)  # fmt: skip
@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_hostile_queries_give_results_quickly(searcher, query, mode):
    hits = _timed(searcher.search, query, k=5, mode=mode)
    assert isinstance(hits, list) and len(hits) <= 5
    for h in hits:
        h.to_dict()


def test_punctuation_only_finds_nothing(searcher):
    assert searcher.search("？！。，、……", k=5) == []
    assert searcher.search("   ", k=5) == []


def test_long_query_is_searched_as_its_first_2000_characters(searcher):
    head = "双随机抽查比例" + "，" * (MAX_QUERY_CHARS - 7)
    long = head + "信用监管联合惩戒" * 10_000
    assert [h.clause.clause_id for h in _timed(searcher.search, long, k=5)] == [
        h.clause.clause_id for h in searcher.search(head, k=5)
    ]


# ------------------------------------------------------------------ k and settings


@pytest.mark.parametrize("k", [0, -1, MAX_K + 1, 10**9, 2.5, "5", True, None])
def test_bad_k_is_a_clear_error(searcher, k):
    with pytest.raises(ValueError, match=f"k must be a whole number from 1 to {MAX_K}"):
        searcher.search("双随机", k=k)
    with pytest.raises(ValueError, match="k must be"):
        check_k(k)


def test_unknown_mode_is_a_clear_error(searcher):
    with pytest.raises(ValueError, match="unknown search mode"):
        searcher.search("双随机", mode="fast")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"rrf_k": -1}, "rrf_k must be a whole number from 0"),
        ({"candidates": -1}, "candidates must be a whole number from 1"),
        ({"candidates": 0}, "candidates must be a whole number from 1"),
        ({"rerank_top": 0}, "rerank_top must be a whole number from 1"),
        ({"dense_weight": math.nan}, "dense_weight must be a finite number >= 0"),
        ({"dense_weight": math.inf}, "dense_weight must be a finite number >= 0"),
        ({"dense_weight": -0.5}, "dense_weight must be a finite number >= 0"),
        ({"lexical_weight": math.nan}, "lexical_weight must be a finite number >= 0"),
        ({"lexical_weight": "1"}, "lexical_weight must be a finite number >= 0"),
        ({"fusion": "max"}, "unknown fusion"),
        ({"clean_query": "no"}, "clean_query must be true or false"),
        ({"adapter": None}, "adapter must be text"),
    ],
)
def test_search_config_refuses_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SearchConfig(**kwargs)


@pytest.mark.parametrize(
    "settings,message",
    [
        (["rrf_k=-1"], "rrf_k must be a whole number from 0 to"),
        (["candidates=-1"], "candidates must be a whole number from 1 to"),
        (["dense_weight=nan"], "dense_weight must be a finite number >= 0"),
        (["lexical_weight=inf"], "lexical_weight must be a finite number >= 0"),
        (["rrf_k=1.5"], r"rrf_k='1.5': expected int \(a whole number\)"),
        (["dense_weight=x"], r"dense_weight='x': expected float \(a number\)"),
        (["clean_query=maybe"], r"clean_query='maybe': expected bool \(true or false\)"),
        (["k=5"], "unknown search setting 'k'"),
        (["candidates"], "expected candidates=VALUE"),
    ],
)
def test_parse_config_refuses_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        parse_config(settings)


def test_parse_config_accepts_good_settings():
    cfg = parse_config(["rrf_k=0", "candidates=1", "dense_weight=0", "fusion=rrf", "clean_query=off"])
    assert cfg == SearchConfig(rrf_k=0, candidates=1, dense_weight=0.0, fusion="rrf", clean_query=False)
    assert parse_config(["dense_weight=none"]).dense_weight is None


def test_edge_settings_still_search(index, fake_embedder):
    for cfg in (SearchConfig(rrf_k=0, fusion="rrf", candidates=1), SearchConfig(dense_weight=0, lexical_weight=0)):
        hits = _timed(Searcher(index, fake_embedder, cfg).search, "双随机抽查", k=MAX_K)
        assert isinstance(hits, list)


# ------------------------------------------------------------------ study packs

HOSTILE = "\n".join(
    [
        "<script>alert(1)</script>",
        "点击[x](javascript:alert(1))查看",
        "![i](http://x/y.png)",
        '<img src=x onerror="alert(1)">',
        "<a href='javascript:alert(2)'>链接</a>",
        "[ref]: javascript:alert(3)",
        "# 不是标题",
        "1. 不是列表",
        "```",
        "**不加粗** `不是代码` ~~不删除~~ | 不是表格 |",
        "&lt;已转义&gt;",
    ]
)


def _pack() -> list[PackItem]:
    return [
        PackItem("《<b>通知</b>》 › 第一条", HOSTILE, "<i>通知</i>", "/lib/a_b[1].txt", 0, len(HOSTILE), None, None)
    ]


def test_markdown_export_escapes_document_text():
    md = to_markdown("学习材料<script>", _pack())
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "[x](javascript:" not in md and "\\[x\\](javascript:alert(1))" in md
    assert "![i](" not in md and "!\\[i\\](http://x/y.png)" in md
    assert "<img" not in md and "<a " not in md and "<b>" not in md and "<i>" not in md
    assert "> \\# 不是标题" in md and "> 1\\. 不是列表" in md and "> \\`\\`\\`" in md
    assert "&amp;lt;已转义&amp;gt;" in md


def test_markdown_export_renders_inert():
    markdown_it = pytest.importorskip("markdown_it")
    html = (
        markdown_it.MarkdownIt("commonmark")
        .enable("table")
        .enable("strikethrough")
        .render(to_markdown("学习材料", _pack()))
    )
    for active in ("<script", "<img", "<a ", "<a>", "<h1>不是", "<ol", "<pre", "<code", "<strong", "<s>", "<del"):
        assert active not in html, active
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "[x](javascript:alert(1))" in html and "![i](http://x/y.png)" in html
    assert "&amp;lt;已转义&amp;gt;" in html  # shown as the characters the document holds


def test_md_text_keeps_ordinary_text():
    assert md_text("1.双随机抽查比例不低于5%。") == "1.双随机抽查比例不低于5%。"
    assert md_text("(二)加强信用监管") == "(二)加强信用监管"


def test_docx_export_is_plain_text():
    d = docx.Document(io.BytesIO(to_docx("学习材料<script>", _pack())))
    texts = [p.text for p in d.paragraphs]
    assert "学习材料<script>" in texts and "<script>alert(1)</script>" in texts
    assert "点击[x](javascript:alert(1))查看" in texts
    assert not d.inline_shapes
    assert all(r.reltype.split("/")[-1] != "hyperlink" for r in d.part.rels.values())


def test_exports_survive_characters_xml_cannot_hold():
    item = PackItem("第一条\x00", "甲\x0b乙\x01丙\ud800丁\t戊", "标题\x1f", "/lib/a.txt", 0, 5, None, None)
    d = docx.Document(io.BytesIO(to_docx("学习材料\x00", [item])))
    assert "甲乙丙丁\t戊" in [p.text for p in d.paragraphs]
    md = to_markdown("学习材料", [item])
    assert "\x00" not in md and "\ud800" not in md and "丙丁\t戊" in md


def test_a_silent_model_cannot_stall_searches(tmp_path, monkeypatch):
    """#20 item 5: 45 generate requests to a model that never answers take at most `MODEL_SLOTS` model
    calls; the rest are answered extractively at once, and /search stays fast meanwhile."""
    import json
    import threading
    import urllib.parse
    import urllib.request

    from rag.embedding.embed import parse_spec
    from rag.ingest.pipeline import ingest
    from tests.interfaces.test_api import running
    from tests.llm_stub import LLMStub, reply

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "policy_small.txt").write_bytes((REPO / "tests" / "data" / "policy_small.txt").read_bytes())
    ingest([lib], tmp_path / "idx", parse_spec("hash:64"), show_progress=False)
    with LLMStub(reply("双随机抽查比例不低于5%[1]。", delay=60)) as stub:
        monkeypatch.setenv("RAG_LLM", stub.llm)
        monkeypatch.setenv("RAG_LLM_TIMEOUT", "60")
        with running(tmp_path / "idx") as url:
            answers: list[dict] = []

            def generate() -> None:
                q = urllib.parse.urlencode({"q": "双随机抽查比例是多少", "generate": "true"})
                with urllib.request.urlopen(f"{url}/ask?{q}", timeout=120) as resp:
                    answers.append(json.loads(resp.read()))

            threads = [threading.Thread(target=generate, daemon=True) for _ in range(45)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 30
            while len(answers) < 41 and time.monotonic() < deadline:
                time.sleep(0.05)
            took = []
            for _ in range(40):
                t0 = time.perf_counter()
                with urllib.request.urlopen(f"{url}/search?q=%E5%8F%8C%E9%9A%8F%E6%9C%BA", timeout=30) as resp:
                    assert resp.status == 200 and json.loads(resp.read())["hits"]
                took.append(time.perf_counter() - t0)
            p95 = sorted(took)[int(0.95 * len(took)) - 1]
            assert len(stub.requests) == 4  # the model got only as many calls as there are slots
            assert len(answers) == 41 and all("繁忙" in a["answer"]["note"] for a in answers)
            assert p95 < 1.0, f"/search p95 {p95:.3f} s while the model stalls"
        stub.script(reply("好。"))
    for t in threads:
        t.join(5)
