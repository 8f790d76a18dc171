"""Streamlit front end for cadres (问答), drafters (措辞参考) and trainers (学习材料), plus the library.

All retrieval, export and upload logic lives in `rag`; this page only lays it out.
Every piece of document text is shown through `escape_html`/`mark_html` or plain-text widgets.
Run: streamlit run app.py   (RAG_INDEX / RAG_CORPUS override the index/ and corpus/ folders)
"""

from __future__ import annotations

import os

import streamlit as st

from rag.cite import escape_html, mark_html, shared_spans
from rag.export import resolve_items, to_docx, to_markdown
from rag.index import ClauseIndex, exists, resolve
from rag.pipeline import IndexBusyError, ingest, remove, status
from rag.readers import supported_suffixes
from rag.retrieve import MODES, Filters, Hit, Searcher, doc_type
from rag.upload import MAX_UPLOAD_BYTES, UploadError, store

INDEX_DIR = os.environ.get("RAG_INDEX", "index")
CORPUS_DIR = os.environ.get("RAG_CORPUS", "corpus")

st.set_page_config(page_title="政策文件条款检索", layout="wide")
st.session_state.setdefault("basket", [])


@st.cache_resource(show_spinner="加载索引…", max_entries=2)
def get_searcher(index_dir: str, generation: str) -> Searcher:
    """One Searcher per index generation; a rebuilt index gets a fresh one."""
    return Searcher(ClauseIndex.load(index_dir))


def run_ingest(label: str, paths: list[str]) -> list[tuple[str, str]]:
    """Ingest with a progress bar; returns (level, message) lines to show."""
    bar = st.progress(0.0, text=label)
    try:
        report = ingest(
            paths, INDEX_DIR, show_progress=False,
            progress=lambda done, total: bar.progress(done / total, text=f"{label} {done}/{total}"),
        )  # fmt: skip
    except (ValueError, IndexBusyError) as exc:
        return [("error", f"无法建立索引：{exc}")]
    finally:
        bar.empty()
    notes = [("warning", f"未能读取 {f.source}：{f.reason}") for f in report.failures]
    return notes + [("success", f"已索引 {report.documents} 个文件、{report.clauses} 个条款。")]


def show_notes(notes: list[tuple[str, str]]) -> None:
    for level, text in notes:
        getattr(st, level)(escape_html(text))


if not exists(INDEX_DIR):
    st.info(f"`{INDEX_DIR}/` 中还没有索引，正在从 `{CORPUS_DIR}/` 建立…")
    notes = run_ingest("向量化条款", [CORPUS_DIR])
    show_notes(notes)
    if not exists(INDEX_DIR):
        st.stop()

searcher = get_searcher(INDEX_DIR, str(resolve(INDEX_DIR)))
index = searcher.index
titles = {d.doc_id: d.title for d in index.docs.values()}


def add_to_basket(clause_ids: list[str]) -> None:
    for cid in clause_ids:
        if cid not in st.session_state.basket:
            st.session_state.basket.append(cid)


def show_hit(h: Hit, key: str, spans: tuple[tuple[int, int], ...]) -> None:
    """One cited clause: citation, marked text, source, copy, context, add-to-pack."""
    with st.container(border=True):
        st.markdown(f"**{h.rank}.** {escape_html(h.citation)}", unsafe_allow_html=True)
        st.markdown(f"<div class='clause'>{mark_html(h.clause.text, spans)}</div>", unsafe_allow_html=True)
        if h.superseded_by is not None:
            st.warning(escape_html(f"此文件已不是现行版本：{h.superseded_why}"))
        st.caption(escape_html(f"{h.doc.source} [{h.clause.start}:{h.clause.end}] · 得分 {h.score:.3f}"))
        st.code(h.citation, language=None)  # the code block carries a copy button
        st.button("加入学习材料", key=f"add-{key}", on_click=add_to_basket, args=([h.clause.clause_id],))
        with st.expander("在文档中查看"):
            whole = st.checkbox("显示全文", key=f"whole-{key}")
            around = index.doc_clauses(h.doc.doc_id) if whole else index.neighbours(h.clause, n=3)
            for c in around:
                mine = c == h.clause
                style = "border-left:3px solid #e8a33d;padding-left:8px" if mine else "color:#555"
                body = mark_html(c.text, spans if mine else ())
                st.markdown(f"<div style='{style}'>{body}</div>", unsafe_allow_html=True)


with st.sidebar:
    st.header("索引状态")
    st.write(f"文件：{len(index.docs)}　条款：{len(index)}")
    st.caption(escape_html(f"向量模型：{index.spec.id}（{index.dim} 维）"))
    st.caption(f"建立于：{index.manifest.get('created', '?')}")
    st.caption("检索层：" + "，".join(f"{t}{'✓' if ok else '…'}" for t, ok in index.tiers.items()))
    tier = status(INDEX_DIR)
    if tier and tier.get("state") == "embedding" and tier.get("total"):
        state = "进行中" if tier["running"] else "已中断，重新导入即可续做"
        st.progress(tier["done"] / tier["total"], text=f"向量层 {tier['done']}/{tier['total']}（{state}）")
    chosen = st.multiselect("限定文件", options=list(titles), format_func=lambda d: titles[d])
    mode = st.selectbox("检索方式", MODES, index=0)
    k = st.slider("条数", 1, 20, 5)
    old_versions = st.checkbox("包括已被取代的旧版本", help="已废止或已有新版本的文件默认不参与检索")
    st.write(f"学习材料：{len(st.session_state.basket)} 条")

ask, precedent, study, library = st.tabs(["问答", "措辞参考", "学习材料", "文库"])

with ask:
    question = st.text_input("问题", placeholder="例如：双随机抽查比例要达到多少？")
    if question.strip():
        hits = searcher.search(question, k=k, filters=Filters(tuple(chosen), superseded=old_versions), mode=mode)
        if "dense" not in searcher.tiers_for(mode) and mode != "lexical":
            st.caption("向量层尚未完成，本次仅用关键词检索。")
        if not hits:
            st.warning("没有找到相关条款。请换用更宽泛的说法、减少限定条件，或去掉引号。")
        for h in hits:
            show_hit(h, f"ask-{h.clause.clause_id}", h.highlights)

with precedent:
    draft = st.text_area("粘贴草稿句子或段落（用引号“…”可检索原文短语）", height=100)
    c1, c2 = st.columns(2)
    types = sorted({doc_type(t) for t in titles.values()})
    dtype = c1.selectbox("文件类型", ["全部", *types])
    years = sorted({(d.date or "")[:4] for d in index.docs.values() if d.date}, reverse=True)
    year = c2.selectbox("年份", ["全部", *years])
    if draft.strip():
        f = Filters(tuple(chosen), doc_type=None if dtype == "全部" else dtype, year=None if year == "全部" else year,
                    superseded=old_versions)
        hits = searcher.search(draft, k=k, filters=f, mode=mode)
        if not hits:
            st.warning("没有找到用过的相近表述。请缩短句子或放宽筛选。")
        for h in hits:
            show_hit(h, f"pre-{h.clause.clause_id}", shared_spans(draft, h.clause.text))

with study:
    topic = st.text_input("主题（把相关条款全部加入）", placeholder="例如：普法宣传教育")
    n_topic = st.slider("最多加入", 1, 50, 10)
    if st.button("加入该主题的条款", disabled=not topic.strip()):
        for h in searcher.search(topic, k=n_topic, filters=Filters(tuple(chosen), superseded=old_versions), mode=mode):
            if h.clause.clause_id not in st.session_state.basket:
                st.session_state.basket.append(h.clause.clause_id)
    items = resolve_items(index, st.session_state.basket)
    if not items:
        st.info("学习材料为空：在问答或措辞参考的结果中点“加入学习材料”，或在上面按主题加入。")
    for i, it in enumerate(items):
        with st.container(border=True):
            st.markdown(escape_html(it.citation), unsafe_allow_html=True)
            st.markdown(mark_html(it.text), unsafe_allow_html=True)
            if st.button("移除", key=f"rm-{i}-{st.session_state.basket[i]}"):
                st.session_state.basket.pop(i)
                st.rerun()
    if items:
        name = st.text_input("材料标题", value="学习材料")
        c1, c2, c3 = st.columns(3)
        c1.download_button("导出 Markdown", to_markdown(name, items), file_name="study-pack.md", mime="text/markdown")
        c2.download_button("导出 DOCX", to_docx(name, items), file_name="study-pack.docx",
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")  # fmt: skip
        if c3.button("清空"):
            st.session_state.basket = []
            st.rerun()

with library:
    rows = [
        {"文件": d.title, "类型": doc_type(d.title), "日期": d.date or "", "文号": d.doc_number or "",
         "发文机关": d.issuer or "", "条款": d.n_clauses, "格式": d.kind + ("（OCR）" if d.ocr else ""),
         "版本": f"已被取代：{index.superseded[d.doc_id].reason}" if d.doc_id in index.superseded else "现行",
         "路径": d.source}
        for d in sorted(index.docs.values(), key=lambda d: d.source)
    ]  # fmt: skip
    st.dataframe(rows, hide_index=True, use_container_width=True)
    skipped = index.manifest.get("skipped", [])
    if skipped:
        with st.expander(f"未收录的文件（{len(skipped)}）：每个文件都有原因"):
            items = "".join(f"<li>{escape_html(r['source'])}：{escape_html(r['reason'])}</li>" for r in skipped)
            st.markdown(f"<ul class='skipped'>{items}</ul>", unsafe_allow_html=True)
    st.caption("检索层：" + "，".join(f"{t}{'完成' if ok else '未完成'}" for t, ok in index.tiers.items()))
    kinds = supported_suffixes()
    ups = st.file_uploader(f"上传文件（{' '.join(kinds)}，单个不超过 {MAX_UPLOAD_BYTES // 2**20} MB）",
                           type=[k.lstrip(".") for k in kinds], accept_multiple_files=True)  # fmt: skip
    if ups and st.button("导入上传的文件"):
        notes, stored = [], []
        for up in ups:
            try:
                path = store(CORPUS_DIR, up.name, up.getvalue())
                notes.append(("success", f"已保存 {path.name}"))
                stored.append(str(path))
            except UploadError as exc:
                notes.append(("error", f"已拒绝：{exc}"))
        if stored:
            notes += run_ingest("导入新文件", stored)
        st.session_state.flash = notes
        st.rerun()
    gone = st.selectbox("移除文件", ["", *titles], format_func=lambda d: titles.get(d, "（选择）"))
    if gone and st.button("移除"):
        try:
            remove(INDEX_DIR, [gone])
            st.session_state.flash = [("success", f"已从索引中移除《{titles[gone]}》（文件本身仍在文库文件夹中）。")]
        except (ValueError, IndexBusyError) as exc:
            st.session_state.flash = [("error", str(exc))]
        st.rerun()
    show_notes(st.session_state.pop("flash", []))
