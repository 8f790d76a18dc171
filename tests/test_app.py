"""The Streamlit page logic, without a browser (streamlit.testing AppTest)."""

from __future__ import annotations

import shutil

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


def _app(monkeypatch, index_dir, corpus_dir=REPO / "corpus") -> AppTest:
    monkeypatch.setenv("RAG_INDEX", str(index_dir))
    monkeypatch.setenv("RAG_CORPUS", str(corpus_dir))
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=120)


def test_question_shows_cited_clause(monkeypatch, sample_index_dir):
    at = _app(monkeypatch, sample_index_dir).run()
    assert not at.exception
    assert any("条款：65" in m.value for m in at.sidebar.markdown)
    at.text_input[0].input("双随机抽查比例要达到多少？").run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert "《2022年教育系统党建工作计划3篇》 › 篇1 › 一、依法行政工作" in shown
    assert "<mark>" in shown and "监管比例达到20%以上" in shown


def test_empty_result_says_so(monkeypatch, sample_index_dir):
    at = _app(monkeypatch, sample_index_dir).run()
    at.text_input[0].input("zzzz qqqq").run()
    assert not at.exception
    # dense search always returns something; the lexical mode can come back empty
    at.sidebar.selectbox[0].select("lexical").run()
    assert any("没有找到相关条款" in w.value for w in at.warning)


def test_builds_index_on_first_start(monkeypatch, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("一、总则\n1.<script>alert(1)</script>本办法适用于全市。\n", encoding="utf-8")
    at = _app(monkeypatch, tmp_path / "index", corpus).run()
    assert not at.exception
    assert any("已索引 1 个文件" in s.value for s in at.success)
    at.text_input[0].input("本办法适用于哪里").run()
    shown = "\n".join(m.value for m in at.markdown)
    assert "&#60;script&#62;" in shown and "<script>" not in shown
    shutil.rmtree(tmp_path / "index")


def test_long_question_is_cut_with_a_notice(monkeypatch, sample_index_dir):
    at = _app(monkeypatch, sample_index_dir).run()
    at.text_input[0].input("双随机抽查比例" * 500).run()  # 3,500 characters
    assert not at.exception
    assert any("只检索前 2000 字" in i.value for i in at.info)


def test_reader_sees_no_change_controls(monkeypatch, sample_index_dir, tmp_path):
    monkeypatch.setenv("RAG_USERS", str(tmp_path / "users.json"))
    monkeypatch.setenv("RAG_AUDIT", str(tmp_path / "audit.log"))
    at = _app(monkeypatch, sample_index_dir).run()
    assert not at.exception
    labels = {b.label for b in at.button}
    assert not labels & {"导入上传的文件", "从索引中移除", "确认移除", "确认替换", "退出登录"}
    assert "移除文件" not in {s.label for s in at.selectbox}
    assert any("需要馆员登录" in c.value for c in at.caption)


def test_the_page_searches_a_milvus_store(monkeypatch, sample_index_dir, tmp_path):
    """RAG_STORE=milvus:FILE.db: the same cited clause as over the folder, context from the store, and
    the library tab says changes go through `rag ingest --store`."""
    from pymilvus import MilvusClient

    from rag.storage.index import ClauseIndex
    from rag.storage.milvus import to_milvus

    db = tmp_path / "m.db"
    client = MilvusClient(str(db))
    to_milvus(ClauseIndex.load(sample_index_dir), client, "lib")
    client.close()
    monkeypatch.setenv("RAG_STORE", f"milvus:{db}#lib")
    at = _app(monkeypatch, tmp_path / "no-folder-index").run()
    assert not at.exception
    assert any("条款：65" in m.value for m in at.sidebar.markdown)
    at.text_input[0].input("双随机抽查比例要达到多少？").run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert "《2022年教育系统党建工作计划3篇》 › 篇1 › 一、依法行政工作" in shown and "监管比例达到20%以上" in shown
    assert any("rag ingest --store" in c.value for c in at.caption)
    assert not (tmp_path / "no-folder-index").exists()  # nothing was built into a folder


def test_an_unreachable_milvus_store_is_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_STORE", f"milvus:{tmp_path / 'empty.db'}#nothing")
    at = _app(monkeypatch, tmp_path / "idx").run()
    assert not at.exception
    assert any("无法打开文库" in e.value and "nothing" in e.value for e in at.error)
