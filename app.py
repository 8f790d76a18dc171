"""Streamlit front end: ask a question, get the cited clauses. All retrieval is in `rag`.

Run: streamlit run app.py   (RAG_INDEX / RAG_CORPUS override the index/ and corpus/ folders)
"""

from __future__ import annotations

import os

import streamlit as st

from rag.cite import escape_html, mark_html
from rag.index import ClauseIndex, exists, resolve
from rag.pipeline import ingest, status
from rag.retrieve import MODES, Filters, Searcher

INDEX_DIR = os.environ.get("RAG_INDEX", "index")
CORPUS_DIR = os.environ.get("RAG_CORPUS", "corpus")

st.set_page_config(page_title="政策文件条款检索", layout="wide")


@st.cache_resource(show_spinner="加载索引…", max_entries=2)
def get_searcher(index_dir: str, generation: str) -> Searcher:
    """One Searcher per index generation; a rebuilt index gets a fresh one."""
    return Searcher(ClauseIndex.load(index_dir))


if not exists(INDEX_DIR):
    st.info(f"`{INDEX_DIR}/` 中还没有索引，正在从 `{CORPUS_DIR}/` 建立…")
    bar = st.progress(0.0, text="向量化条款…")
    try:
        report = ingest(
            [CORPUS_DIR],
            INDEX_DIR,
            show_progress=False,
            progress=lambda done, total: bar.progress(done / total, text=f"向量化条款 {done}/{total}"),
        )
    except ValueError as exc:
        st.error(f"无法建立索引：{exc}")
        st.stop()
    bar.empty()
    st.success(f"已索引 {report.documents} 个文件、{report.clauses} 个条款。")

searcher = get_searcher(INDEX_DIR, str(resolve(INDEX_DIR)))
index = searcher.index

with st.sidebar:
    st.header("索引状态")
    st.write(f"文件：{len(index.docs)}　条款：{len(index)}")
    st.caption(f"向量模型：{index.spec.id}（{index.dim} 维）")
    st.caption(f"建立于：{index.manifest.get('created', '?')}")
    st.caption("检索层：" + "，".join(f"{t}{'✓' if ok else '…'}" for t, ok in index.tiers.items()))
    tier = status(INDEX_DIR)
    if tier and tier.get("state") == "embedding" and tier.get("total"):
        state = "进行中" if tier["running"] else "已中断，重新导入即可续做"
        st.progress(tier["done"] / tier["total"], text=f"向量层 {tier['done']}/{tier['total']}（{state}）")
    titles = {d.doc_id: d.title for d in index.docs.values()}
    chosen = st.multiselect("限定文件", options=list(titles), format_func=lambda d: titles[d])
    mode = st.selectbox("检索方式", MODES, index=0)
    k = st.slider("条数", 1, 20, 5)

st.title("政策文件条款检索")
question = st.text_input("问题或草稿句子", placeholder="例如：双随机抽查比例要达到多少？")

if question.strip():
    hits = searcher.search(question, k=k, filters=Filters(doc_ids=tuple(chosen)), mode=mode)
    if "dense" not in searcher.tiers_for(mode) and mode != "lexical":
        st.caption("向量层尚未完成，本次仅用关键词检索。")
    if not hits:
        st.warning("没有找到相关条款。请换用更宽泛的说法或减少限定条件。")
    for h in hits:
        with st.container(border=True):
            st.markdown(f"**{h.rank}.** {escape_html(h.citation)}", unsafe_allow_html=True)
            st.markdown(f"<div class='clause'>{mark_html(h.clause.text, h.highlights)}</div>", unsafe_allow_html=True)
            st.caption(f"{h.doc.source} [{h.clause.start}:{h.clause.end}] · 得分 {h.score:.4f}")
            with st.expander("在文档中查看"):
                for c in index.neighbours(h.clause, n=2):
                    body = mark_html(c.text, h.highlights if c == h.clause else ())
                    style = "border-left:3px solid #e8a33d;padding-left:8px" if c == h.clause else "color:#666"
                    st.markdown(f"<div style='{style}'>{body}</div>", unsafe_allow_html=True)
