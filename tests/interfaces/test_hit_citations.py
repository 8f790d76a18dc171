"""Every hit carries `cited_by`, `doc_cited_by` and `stale_refs` (#22 item 2): from the library's citation graph,
built once per state of the store, in `rag search --json`, `rag ask --json`, the HTTP API and the app.

The library: a 办法 revised in 2023 with its articles renumbered (the old 第三条 is the new 第四条); in force
today, a 2021 notice citing the old 第三条 (stale: moved), a 2021 notice citing the old 办法 whole (stale:
revised), a 2024 notice citing the new 第四条 and a 2024 notice citing the new 办法 whole (neither stale)."""

from __future__ import annotations

import html
import json

import pytest

from rag.citing.citations import CitationGraph
from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.interfaces.api import clause_record, run_search, search_params
from rag.interfaces.library import Library
from rag.storage.index import ClauseIndex
from tests.conftest import REPO, run_cli

HASH = parse_spec("hash:64")
RULE = "某市河道保洁管理办法"
APPEAL = "保洁单位对考核结果有异议的，可以自收到结果之日起十五日内申请复核。"  # 第三条 (2019) -> 第四条 (2023)
OLD = ["第一条 为了规范河道保洁，制定本办法。", "第二条 本办法适用于本市河道保洁。", f"第三条 {APPEAL}",
       "第四条 本办法自2019年3月1日起施行。"]  # fmt: skip
NEW = [*OLD[:2], "第三条 河道保洁实行网格化管理，每个网格明确一名责任人。", f"第四条 {APPEAL}",
       "第五条 本办法自2023年5月1日起施行。"]  # fmt: skip
MOVED, WHOLE_OLD = "关于开展河道保洁考核的通知", "关于做好河道保洁经费保障的通知"
CITES_NEW, WHOLE_NEW = "关于做好河道保洁复核工作的通知", "关于开展2024年河道保洁检查的通知"


def _notice(title: str, date: str, text: str) -> str:
    y, m, d = date.split("-")
    return f"{title}\n\n各区水务局：\n一、{text}\n\n某市水务局\n{y}年{int(m)}月{int(d)}日\n"


LIBRARY = {
    f"{RULE}(2019-03-01).txt": f"{RULE}\n\n" + "\n".join(OLD) + "\n",
    f"{RULE}(2023-05-01).txt": f"{RULE}\n\n" + "\n".join(NEW) + "\n",
    f"{MOVED}(2021-06-01).txt": _notice(MOVED, "2021-06-01", f"河道保洁考核结果的复核依照《{RULE}》第三条办理。"),
    f"{WHOLE_OLD}(2021-09-01).txt": _notice(WHOLE_OLD, "2021-09-01", f"河道保洁经费按照《{RULE}》的规定保障。"),
    f"{CITES_NEW}(2024-03-01).txt": _notice(CITES_NEW, "2024-03-01", f"河道保洁复核依照《{RULE}》第四条办理。"),
    f"{WHOLE_NEW}(2024-04-01).txt": _notice(WHOLE_NEW, "2024-04-01", f"各区对照《{RULE}》开展河道保洁检查。"),
}
QUESTION = "河道保洁 复核"
# (title, date, label) -> (cited_by, doc_cited_by); every other clause: (0, 0 or its document's count)
COUNTS = {
    (RULE, "2019-03-01", "第三条"): (1, 2),  # the 2021 notice cites it by number; both 2021 notices cite the version
    (RULE, "2023-05-01", "第四条"): (1, 2),  # the 2024 notices: one by number, one whole
    (RULE, "2023-05-01", "第三条"): (0, 2),  # the new 第三条 is not what anyone cited
    (MOVED, "2021-06-01", "一、"): (0, 0),
}


def _doc(title: str, date: str, ids: dict) -> dict:
    return {"doc_id": ids[(title, date)], "title": title, "date": date}


def stale_refs(ids: dict) -> dict[str, list[dict]]:
    """The citing notices' `stale_refs`, by title."""
    old, new = _doc(RULE, "2019-03-01", ids), _doc(RULE, "2023-05-01", ids)
    return {
        MOVED: [{"mention": f"《{RULE}》第三条", "article": "第三条", "cited": {**old, "status": "已修改"},
                 "reason": "moved", "reason_text": "条文已移至新条号", "replacement": new, "new_article": "第四条",
                 "unheld": False}],
        WHOLE_OLD: [{"mention": f"《{RULE}》", "article": None, "cited": {**old, "status": "已修改"},
                     "reason": "revised", "reason_text": "已修改", "replacement": new, "new_article": None,
                     "unheld": False}],
        CITES_NEW: [],
        WHOLE_NEW: [],
    }  # fmt: skip


def _write(root, library: dict[str, str]) -> None:
    root.mkdir(exist_ok=True)
    for name, text in library.items():
        (root / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("hit-citations")
    _write(root / "lib", LIBRARY)
    ingest([root / "lib"], root / "idx", HASH, show_progress=False)
    return root / "idx"


def _ids(index_dir) -> dict:
    return {(d.title, d.date): d.doc_id for d in ClauseIndex.load(index_dir).docs.values()}


def _by_place(hits: list[dict]) -> dict[tuple, dict]:
    return {(h["title"], h["date"], h["label"]): h for h in hits}


def _check(hits: list[dict], ids: dict) -> None:
    """The golden counts and stale refs on the hits found (the question finds every clause named)."""
    by_place, want = _by_place(hits), stale_refs(ids)
    assert set(COUNTS) | {(t, d, "一、") for (t, d) in ids if t != RULE} <= set(by_place)
    for place, h in by_place.items():
        counts = COUNTS.get(place, (0, 2 if place[0] == RULE else 0))
        assert (h["cited_by"], h["doc_cited_by"]) == counts, place
        assert h["stale_refs"] == want.get(place[0], []), place


def test_the_graph_counts_and_stale_refs(index_dir):
    index = ClauseIndex.load(index_dir)
    graph = CitationGraph(index)
    ids = _ids(index_dir)
    moved = index.doc_clauses(ids[(MOVED, "2021-06-01")])[0]
    assert [s.ref_dict() for s in graph.stale_refs(moved.clause_id)] == stale_refs(ids)[MOVED]
    for (title, date, label), (cited_by, doc_cited_by) in COUNTS.items():
        clause = index.by_label(ids[(title, date)], label)[0]
        assert (graph.cited_by(clause), graph.doc_cited_by(clause.doc_id)) == (cited_by, doc_cited_by)
    # the librarians' list is the same graph's: the two 2021 notices
    assert [(s.citation.doc.title, s.reason) for s in graph.stale()] == [(MOVED, "moved"), (WHOLE_OLD, "revised")]


def test_cli_search_and_ask_json(index_dir, capsys):
    ids = _ids(index_dir)
    args = ("--index", str(index_dir), "--mode", "lexical", "--all-versions", "-k", "30", "--json")
    rc, out, err = run_cli(capsys, "search", QUESTION, *args)
    assert rc == 0, err
    _check(json.loads(out), ids)
    rc, out, err = run_cli(capsys, "ask", QUESTION, *args)
    assert rc == 0, err
    _check(json.loads(out)["hits"], ids)


def test_api_hits_and_clause_records_and_one_graph_per_state(index_dir, tmp_path, capsys):
    _write(tmp_path / "lib", LIBRARY)
    ingest([tmp_path / "lib"], tmp_path / "idx", HASH, show_progress=False)
    ids = _ids(tmp_path / "idx")
    holder = Library(tmp_path / "idx", reload_s=0.0)
    args = search_params({"q": QUESTION, "k": 30, "mode": "lexical", "all_versions": True})
    body = holder.public(run_search(holder, args))
    _check(body["hits"], ids)
    rc, out, _ = run_cli(capsys, "search", QUESTION, "--index", str(tmp_path / "idx"), "--mode", "lexical",
                         "--all-versions", "-k", "30", "--json")  # fmt: skip
    fields = ("clause_id", "cited_by", "doc_cited_by", "stale_refs")
    assert [[h[f] for f in fields] for h in body["hits"]] == [[h[f] for f in fields] for h in json.loads(out)]
    graph = holder.citations()
    new = holder.index.by_label(ids[(RULE, "2023-05-01")], "第四条")[0]
    rec = clause_record(holder.index, new.clause_id, graph)
    assert (rec["cited_by"], rec["doc_cited_by"], rec["stale_refs"]) == (1, 2, [])
    moved = f"{ids[(MOVED, '2021-06-01')]}:0"
    assert clause_record(holder.index, moved, graph)["stale_refs"] == stale_refs(ids)[MOVED]
    # built once per state: the next searches reuse it; an ingest (a new generation) gets a new one
    holder.search(QUESTION, k=3, mode="lexical")
    assert holder.citations() is graph
    _write(tmp_path / "lib", {"关于河道保洁复核期限的说明(2024-06-01).txt": _notice(
        "关于河道保洁复核期限的说明", "2024-06-01", f"复核期限依照《{RULE}》第四条计算。")})  # fmt: skip
    ingest([tmp_path / "lib"], tmp_path / "idx", HASH, show_progress=False)
    hits = [h.to_dict() for h in holder.search(QUESTION, k=30, mode="lexical")]
    assert holder.citations() is not graph
    assert (_by_place(hits)[(RULE, "2023-05-01", "第四条")]["cited_by"],
            _by_place(hits)[(RULE, "2023-05-01", "第四条")]["doc_cited_by"]) == (2, 3)  # fmt: skip


def test_app_shows_stale_citations_and_counts(index_dir, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from rag.interfaces import audit, auth

    for var in (auth.USERS_ENV, audit.AUDIT_ENV, auth.HEADER_ENV, auth.LIBRARIANS_ENV, auth.PROXIES_ENV, "RAG_LLM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RAG_INDEX", str(index_dir))
    monkeypatch.setenv("RAG_CORPUS", str(index_dir.parent / "lib"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.sidebar.selectbox[0].select("lexical")
    at.sidebar.checkbox[0].check()  # 包括已被取代的旧版本
    at.sidebar.slider[0].set_value(20)
    at.text_input[0].input(QUESTION).run()
    assert not at.exception
    warnings = [html.unescape(w.value) for w in at.warning if w.value.startswith("引用的")]
    assert sorted(warnings) == sorted([
        f"引用的条文已修改：《{RULE}》第三条 → 第四条（所引为 2019-03-01 版，现为《{RULE}》（2023-05-01））",
        f"引用的文件已修改：《{RULE}》（所引为 2019-03-01 版，现为《{RULE}》（2023-05-01））",
    ])  # fmt: skip
    captions = [html.unescape(c.value) for c in at.caption if c.value.startswith("被现行文件引用")]
    assert "被现行文件引用：本条 1 处，本文件 2 处" in captions  # the two 第三条/第四条 carrying the text
    assert "被现行文件引用：本条 0 处，本文件 2 处" in captions
