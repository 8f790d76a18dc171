"""#21 items 3 and 5: the front door (`import rag`: `rag.build`, `rag.open`, `Library.search`, `Library.ask`)
and the library service the app and the API share (fallback, reload, the last good store kept, the
model server, what clients see)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

import rag
from rag.interfaces.library import Library, ModelServer, ModelServerError
from rag.search.retrieve import Searcher
from rag.storage.errors import IndexLoadError
from rag.storage.index import ClauseIndex
from tests.conftest import REPO

DOCS = {
    "河长制.txt": "一、总体要求\n1.全市河长制巡河频次每月不少于两次。\n2.各级河长应当建立巡河记录。\n",
    "登记条例.txt": "第一条 为了规范个体工商户登记，制定本条例。\n\n第二条 登记机关为县级市场监管部门。\n",
}


@pytest.fixture()
def library(tmp_path, monkeypatch):
    """A two-document library built through the front door with the hash embedder; no model server."""
    monkeypatch.delenv("RAG_LLM", raising=False)
    lib = tmp_path / "lib"
    lib.mkdir()
    for name, text in DOCS.items():
        (lib / name).write_text(text, encoding="utf-8")
    report = rag.build(lib, index=tmp_path / "idx", embedder="hash:64")
    assert (report.documents, report.clauses, report.added, report.failures) == (2, 4, 2, ())
    return lib, tmp_path / "idx"


def test_import_rag_imports_nothing_else():
    code = "import rag, sys; print(sorted(m for m in sys.modules if m.startswith('rag')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['rag']"


def test_the_front_door_builds_searches_and_answers(library):
    lib_dir, idx = library
    lib = rag.open(idx)
    assert isinstance(lib, Library) and not lib.fallback and lib.problems == ()
    hits = lib.search("巡河频次", k=2)
    assert [(h.citation, h.clause.text) for h in hits] == [
        ("《河长制》 › 一、总体要求 › 1.", "一、总体要求\n1.全市河长制巡河频次每月不少于两次。"),
        ("《河长制》 › 一、总体要求 › 2.", "2.各级河长应当建立巡河记录。"),
    ]
    result = lib.ask("登记机关是谁？")
    assert (result.answer.mode, result.answer.text, result.answer.short.text) == (
        "extractive", "第二条 登记机关为县级市场监管部门。", "县级市场监管部门")
    assert result.hits[0].citation == "《登记条例》 › 第二条"
    again = rag.build([lib_dir], index=idx, embedder="hash:64")
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 2)


def test_an_answers_sentence_meaning_is_asked_under_the_search_lock(library, monkeypatch):
    """The searcher's embedder and caches are not made for concurrent use: the app's and the API's
    answers embed their candidate sentences holding the same lock as the search."""
    _, idx = library
    lib = rag.open(idx)
    held = []
    real = Searcher.meaning

    def watched(self, question, mode="hybrid"):
        cosines = real(self, question, mode)

        def inner(texts):
            free = threading.Thread(target=lambda: held.append(not lib.lock.acquire(blocking=False)))
            free.start()
            free.join()
            return cosines(texts)

        return inner

    monkeypatch.setattr(Searcher, "meaning", watched)
    assert lib.ask("河长制巡河频次是多少").answer.text
    assert held and all(held)  # another thread could not take the lock while the sentences were embedded


def test_open_refuses_what_is_not_a_library(tmp_path):
    with pytest.raises(IndexLoadError, match=r"no index in .*nothing/\. Build one first: rag ingest"):
        rag.open(tmp_path / "nothing")
    with pytest.raises(ValueError, match="expected milvus:FILE.db"):
        rag.open("milvus:")


def test_a_damaged_current_generation_falls_back_and_says_so(library):
    _, idx = library
    ClauseIndex.load(idx).save(idx)  # a second generation to fall back to
    (idx / "CURRENT").write_text("../../etc", encoding="utf-8")
    lib = rag.open(idx)
    assert lib.fallback and len(lib.problems) == 1 and "CURRENT" in lib.problems[0]
    assert lib.generation is None  # the pointer names none
    assert lib.search("巡河频次", k=1)[0].citation == "《河长制》 › 一、总体要求 › 1."


def test_a_new_generation_is_picked_up_and_a_bad_one_leaves_the_last_good_in_service(library):
    lib_dir, idx = library
    lib = Library(idx, reload_s=0.0)
    first = lib.searcher().index
    (lib_dir / "食品.txt").write_text("一、重点任务\n1.开展食品安全抽检。\n", encoding="utf-8")
    rag.build(lib_dir, index=idx)
    assert lib.search("食品安全抽检", k=1)[0].clause.text == "一、重点任务\n1.开展食品安全抽检。"
    assert lib.index is not first and len(lib.index.docs) == 3
    ClauseIndex.load(idx).save(idx)  # a newer generation …
    for gen in idx.glob("gen-*"):  # … and every generation damaged
        (gen / "clauses.jsonl").write_text("{not json", encoding="utf-8")
    assert lib.search("食品安全抽检", k=1)[0].clause.text == "一、重点任务\n1.开展食品安全抽检。"  # still served
    assert lib.error is not None and "clauses.jsonl" in lib.error


def test_the_model_server_comes_from_the_settings_only(library, monkeypatch):
    _, idx = library
    lib = rag.open(idx)
    with pytest.raises(ModelServerError, match=r"needs a model server.*\(RAG_LLM is not set\)") as err:
        lib.ask("登记机关是谁？", generate=True)
    assert not err.value.malformed
    monkeypatch.setenv("RAG_LLM", "not a server")
    model = ModelServer()
    assert not model.available and "URL#MODEL" in model.error
    assert ModelServer("http://127.0.0.1:9/v1#m").available  # rag.open(..., llm=…) names one in code


def test_clients_see_library_relative_sources_and_no_server_paths(library):
    lib_dir, idx = library
    lib = rag.open(idx)
    hit = lib.search("巡河频次", k=1)[0].to_dict()
    assert hit["source"] == str(lib_dir / "河长制.txt")
    assert lib.public(hit)["source"] == "河长制.txt"
    assert lib.scrub(f"cannot read {idx.resolve()}/CURRENT") == "cannot read idx/CURRENT"
