"""The Streamlit page logic, without a browser (streamlit.testing AppTest)."""

from __future__ import annotations

import html
import shutil

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, write_yearly_editions


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


def test_precedent_keeps_quoted_phrases_verbatim(monkeypatch, sample_index_dir):
    # a search falls back to the unquoted question when no clause has a quoted phrase; 措辞参考 does not
    at = _app(monkeypatch, sample_index_dir).run()
    at.text_area[0].input("“没有这个短语的双随机抽查”").run()
    assert not at.exception
    assert any("没有找到用过的相近表述" in w.value for w in at.warning)
    at.text_area[0].input("“双随机”抽查").run()
    assert not at.exception and not any("没有找到用过的相近表述" in w.value for w in at.warning)


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
    import shutil

    from rag.ingest.pipeline import ingest_milvus
    from rag.storage.cache import CACHE_FILE

    db, cache = tmp_path / "m.db", tmp_path / "cache"
    cache.mkdir()
    shutil.copy(sample_index_dir / CACHE_FILE, cache)  # the sample's vectors: nothing is embedded again
    rep, _ = ingest_milvus([REPO / "corpus"], str(db), "lib", cache, show_progress=False)
    assert rep.embedded == 0
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


def test_an_unopenable_milvus_store_is_named_not_its_address(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("RAG_STORE", f"milvus:{tmp_path / 'empty.db'}#nothing")
    at = _app(monkeypatch, tmp_path / "idx").run()
    assert not at.exception
    shown = "\n".join(e.value for e in at.error)  # a reader: what happened, not where or which collection
    assert "文库暂时无法使用" in shown and str(tmp_path) not in shown and "nothing" not in shown
    assert any("no collection 'nothing'" in r.getMessage() or "nothing" in str(r.exc_info) for r in caplog.records)


def _shown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_the_answer_comes_first_and_hits_mark_only_the_span(monkeypatch, sample_index_dir):
    monkeypatch.delenv("RAG_LLM", raising=False)
    at = _app(monkeypatch, sample_index_dir).run()
    assert not any(c.label.startswith("由模型生成") for c in at.checkbox)  # no model server: no choice
    at.text_input[0].input("双随机抽查比例要达到多少？").run()
    assert not at.exception
    shown = _shown(at)
    first_answer = next(i for i, m in enumerate(shown) if "答：" in m)
    first_hit = next(i for i, m in enumerate(shown) if m.startswith("**1.**"))
    assert first_answer < first_hit and "20%以上" in shown[first_answer]
    assert any(html.unescape(c.value).startswith("[1] 《2022年教育系统党建工作计划3篇》 › 篇1") for c in at.caption)
    clause = next(m for m in shown[first_hit:] if m.startswith("<div class='clause'>"))
    marked = clause.split("<mark>")[1:]
    assert 1 <= len(marked) <= 2 and any("20%以上" in m.split("</mark>")[0] for m in marked)
    text = clause.replace("<mark>", "").replace("</mark>", "")
    assert sum(len(m.split("</mark>")[0]) for m in marked) < len(text) // 2  # never the whole clause
    assert not [w for w in at.warning if "没有找到" in w.value]
    # what refers to hit 1, on demand
    referring = next(c for c in at.checkbox if c.label == "查找引用本条的条款")
    referring.check().run()
    assert not at.exception


def test_a_model_answer_with_a_wrong_figure_is_not_shown_as_verified(monkeypatch, sample_index_dir):
    from tests.llm_stub import LLMStub, reply

    with LLMStub() as stub:
        monkeypatch.setenv("RAG_LLM", stub.llm)
        monkeypatch.setenv("RAG_LLM_TIMEOUT", "10")
        at = _app(monkeypatch, sample_index_dir).run()
        at.text_input[0].input("双随机抽查比例要达到多少？").run()
        assert not stub.requests  # off by default
        box = next(c for c in at.checkbox if c.label == "由模型生成回答（逐句核对）")
        assert box.value is False
        # only a wrong figure: no verified sentence, so the extract with the note
        stub.script(reply("部门联合“双随机、一公开”监管比例达到30%以上[1]。"))
        box.check().run()
        assert not at.exception and len(stub.requests) == 1
        assert any("核实" in i.value for i in at.info)
        assert not any("30%" in m for m in _shown(at)) and not any("✓" in m for m in _shown(at))
        # a right sentence and a wrong one, with markup: the wrong one is 未核实, all of it escaped
        stub.script(reply("<script>alert(1)</script>部门联合“双随机、一公开”监管比例达到20%以上[1]。"
                          "检查结果公示率达到50%[1]。"))  # fmt: skip
        at.text_input[0].input("双随机抽查的比例要达到多少？").run()
        assert not at.exception and len(stub.requests) == 2
        shown = _shown(at)
        good = next(m for m in shown if "监管比例达到20%以上" in m and "answer-" in m)
        bad = next(m for m in shown if "50%" in m)
        assert "answer-verified" in good and "✓ 已核实" in good
        assert "未核实：" in bad and "answer-verified" not in bad and "✓" not in bad and "#2e7d32" not in bad
        assert "&#60;script&#62;" in good and not any("<script>" in m for m in shown)
        # a click elsewhere reruns the page, not the model
        next(c for c in at.checkbox if c.label == "查找引用本条的条款").check().run()
        assert len(stub.requests) == 2


def test_references_open_and_what_refers_is_listed(monkeypatch, tmp_path):
    from rag.embedding.embed import parse_spec
    from rag.ingest.pipeline import ingest

    monkeypatch.delenv("RAG_LLM", raising=False)
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "登记条例.txt").write_text(
        "第一条 为了规范登记，制定本条例。\n\n第二条 登记机关为县级市场监管部门。\n\n"
        "第三条 申请登记的，依照本条例第二条向登记机关提出；《不存在的某某法》另有规定的，从其规定。\n",
        encoding="utf-8",
    )
    ingest([lib], tmp_path / "index", parse_spec("hash:64"), show_progress=False)
    at = _app(monkeypatch, tmp_path / "index", lib).run()
    at.sidebar.selectbox[0].select("lexical").run()
    at.text_input[0].input("申请登记依照哪一条提出").run()
    assert not at.exception
    labels = [html.unescape(e.label) for e in at.expander]
    assert any("本条例第二条" in x and "第二条" in x for x in labels), labels
    assert any("《不存在的某某法》（文库中未找到）" in html.unescape(c.value) for c in at.caption)
    shown = "\n".join(_shown(at))
    assert "登记机关为县级市场监管部门" in shown  # the referenced clause, in its expander
    # 第二条 is referred to by 第三条
    for box in [c for c in at.checkbox if c.label == "查找引用本条的条款"]:
        box.check()
    at.run()
    assert not at.exception
    assert any("依照<mark>本条例第二条</mark>向" in m and "› 第三条" in html.unescape(m) for m in _shown(at))


def test_a_question_naming_a_place_says_other_places_rank_lower(monkeypatch, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    texts = {  # 湖州's clause holds the question's words more often: it leads when places are ignored
        "湖州市养犬管理规定": "第十条 养犬需要办理犬只登记，犬只登记需要提供免疫证明。",
        "上海市养犬管理条例": "第十条 个人养犬的，应当办理登记。",
    }
    for title, text in texts.items():
        (corpus / f"{title}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    at = _app(monkeypatch, tmp_path / "index", corpus).run()
    assert not at.exception
    at.text_input[0].input("在上海养犬需要办理犬只登记吗？").run()
    assert not at.exception
    assert any(c.value == "问题提到上海市：其他地区的文件排在后面。" for c in at.caption)
    shown = "\n".join(m.value for m in at.markdown)
    assert shown.index("上海市养犬管理条例") < shown.index("湖州市养犬管理规定")
    assert [c.value for c in at.caption].count("此为湖州市的文件，与问题提到的地区不同。") == 1
    # a library of several places offers one to search in: what applies there
    choose = next(s for s in at.sidebar.selectbox if s.label == "地区")
    assert choose.options == ["全部", "上海市", "湖州市"]
    choose.select("310000").run()
    shown = "\n".join(m.value for m in at.markdown)
    assert "上海市养犬管理条例" in shown and "湖州市养犬管理规定" not in shown
    at.text_input[0].input("养犬需要办理犬只登记吗？").run()
    assert not any("其他地区的文件排在后面" in c.value for c in at.caption)


def test_a_hit_of_an_older_yearly_edition_names_the_newer(monkeypatch, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_yearly_editions(corpus)
    at = _app(monkeypatch, tmp_path / "index", corpus).run()
    assert not at.exception
    at.text_input[0].input("今年新增多少个一件事集成服务？").run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert shown.index("江城市2024年") < shown.index("江城市2023年")
    notes = [c.value for c in at.caption if "较早年度" in c.value]
    assert notes == ["此为较早年度的文件，较新的一版是《江城市2024年政务服务工作要点》。"]
