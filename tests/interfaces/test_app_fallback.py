"""#20 item 4: the app opens a damaged library the way the CLI and API do (the previous complete
generation), says so to readers and librarians, and never shows its error page for it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.storage.index import ClauseIndex
from tests.conftest import REPO


def _damage(idx, how: str) -> None:
    ptr = idx / "CURRENT"
    current = ptr.read_text(encoding="utf-8").strip()
    ptr.unlink()
    if how == "folder":
        ptr.mkdir()
    elif how == "link":  # CURRENT names a generation folder that is a link
        (idx / "gen-20990101T000000-1-000001").symlink_to(idx / current)
        ptr.write_text("gen-20990101T000000-1-000001\n", encoding="utf-8")
    else:
        ptr.write_text(how, encoding="utf-8")


@pytest.mark.parametrize("how", ["../../etc", "", "folder", "link"])
def test_the_app_falls_back_and_says_so(tmp_path, monkeypatch, how):
    lib, idx = tmp_path / "lib", tmp_path / "idx"
    lib.mkdir()
    (lib / "河长制.txt").write_text("一、总体要求\n1.全市河长制巡河频次每月不少于两次。\n", encoding="utf-8")
    ingest([lib], idx, parse_spec("hash:64"), show_progress=False)
    ClauseIndex.load(idx).save(idx)  # a second generation to fall back to
    _damage(idx, how)
    monkeypatch.setenv("RAG_INDEX", str(idx))
    monkeypatch.setenv("RAG_CORPUS", str(lib))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert not [e for e in at.error if "出错了" in e.value]
    assert any("较早的完整版本" in w.value for w in at.warning)
    at.text_input[0].input("巡河频次").run()
    assert not at.exception and any("巡河频次每月不少于两次" in m.value for m in at.markdown)


def test_a_library_with_no_usable_generation_is_named_not_an_error_page(tmp_path, monkeypatch):
    lib, idx = tmp_path / "lib", tmp_path / "idx"
    lib.mkdir()
    (lib / "河长制.txt").write_text("一、总体要求\n1.全市河长制巡河频次每月不少于两次。\n", encoding="utf-8")
    ingest([lib], idx, parse_spec("hash:64"), show_progress=False)
    for gen in idx.glob("gen-*"):
        (gen / "clauses.jsonl").write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("RAG_INDEX", str(idx))
    monkeypatch.setenv("RAG_CORPUS", str(lib))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    shown = "\n".join(e.value for e in at.error)
    assert "文库暂时无法使用" in shown and "出错了" not in shown and str(tmp_path) not in shown  # a reader
