"""Streamlit front end for cadres (问答), drafters (措辞参考), trainers (学习材料), task lists (任务) and the library.

All retrieval, export, upload, access and audit logic lives in `rag`; this page only lays it out.
Every piece of document text is shown through `escape_html`/`mark_html` or plain-text widgets.
Readers (everyone) search and read; librarians (signed in, or named by a trusted proxy header)
upload, replace and remove, and `rag.interfaces.audit` re-checks the role and logs each change.
An unexpected error shows a short reference; the details go to the server log only.
The library (open with fallback, reload on a new generation, the model server, search and ask with
their locks) is `rag.interfaces.library.Library`, the same service the HTTP API uses; its citation graph
gives every hit its stale citations and 被引用 counts, and the librarians' 需复核的引用. The version views
(新旧对照, 时间线: `rag.citing`) are computed once per state of the store and shared.
Run: streamlit run app.py   (settings: `rag.settings`; RAG_INDEX / RAG_CORPUS override the index/
and corpus/ folders; RAG_STORE=milvus:FILE.db or milvus:http://HOST:19530[#COLLECTION] searches a
Milvus store instead; RAG_LLM=URL#MODEL offers answers written by that OpenAI-compatible chat server,
every sentence checked. Only the server's environment names a model server: nothing a visitor types does.)
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from rag import settings
from rag.answers.extract import marks
from rag.answers.refs import referring
from rag.answers.types import AskResult, Ref
from rag.citing.citations import REASONS, Stale
from rag.citing.cite import citation, escape_html, mark_html, shared_spans
from rag.citing.diff import Diff, compare, what_changed
from rag.citing.diff import to_docx as diff_docx
from rag.citing.export import resolve_items, to_docx, to_markdown
from rag.citing.timeline import RELATIONS, Event, timeline
from rag.ingest.pipeline import IndexBusyError, status
from rag.interfaces import audit, auth, upload_guard
from rag.interfaces.library import Library
from rag.interfaces.upload import MAX_UPLOAD_BYTES, UploadError
from rag.reading.readers import supported_suffixes
from rag.search.retrieve import MODES, Filters, Hit, cap_query, doc_type, neighbours, wording
from rag.search.tasks import task_rows, to_xlsx
from rag.storage.errors import IndexLoadError
from rag.storage.generations import exists
from rag.storage.store import DocInfo, Store
from rag.storage.titles import place_names

SETTINGS = settings.current()
INDEX_DIR, CORPUS_DIR = SETTINGS.index, SETTINGS.corpus
STORE = SETTINGS.store or ""  # a Milvus store; empty: the RAG_INDEX folder
MILVUS_REFRESH_S = 30  # how often the page re-reads a Milvus store's document records
MAX_REFERRING = 10  # clauses shown under 被引用
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
USERS_FILE = auth.users_path(INDEX_DIR)
AUDIT_LOG = audit.audit_path(INDEX_DIR)
logger = logging.getLogger("rag.app")

st.set_page_config(page_title="政策文件条款检索", layout="wide")
st.session_state.setdefault("basket", [])


@st.cache_resource(show_spinner="加载索引…", max_entries=2)
def get_library(index_dir: str, store: str, env: str) -> Library:
    """The library every session shares: a folder index is checked for a new generation on every run
    (one small file read), a Milvus store's document records re-read at most every `MILVUS_REFRESH_S`
    seconds. `env` (the settings as printed, keys left out) is part of the key only, so that a changed
    environment, e.g. another model server, gets its own."""
    return Library(index_dir, store or None, reload_s=MILVUS_REFRESH_S if store else 0.0)


# The version views (新旧对照, 时间线) read whole documents: each is computed once per state of the store
# (`Versions.state`, a digest of its documents) and shared by every session. Stale citations and 被引用
# counts come with each hit, from the library's citation graph (`Library.citations`, one per state too).


@st.cache_resource(show_spinner=False, max_entries=32)
def _diff(_index: Store, state: str, old: str, new: str) -> Diff:
    return compare(_index, old, new)


@st.cache_resource(show_spinner=False, max_entries=32)
def _diff_docx(_index: Store, state: str, old: str, new: str) -> bytes:
    return diff_docx(_diff(_index, state, old, new))


@st.cache_resource(show_spinner=False, max_entries=64)
def _timeline(_index: Store, state: str, doc_id: str) -> list[Event]:
    return timeline(_index, doc_id)


@dataclass(frozen=True)
class Versions:
    """One state of the store and its cached 新旧对照 and timelines."""

    index: Store
    state: str

    @classmethod
    def of(cls, index: Store) -> Versions:
        docs = sorted((d.doc_id, d.sha256) for d in index.docs.values())
        return cls(index, f"{INDEX_DIR}|{STORE}|{hashlib.sha256(repr(docs).encode()).hexdigest()}")

    def diff(self, old: str, new: str) -> Diff:
        return _diff(self.index, self.state, old, new)

    def diff_docx(self, old: str, new: str) -> bytes:
        return _diff_docx(self.index, self.state, old, new)

    def timeline(self, doc_id: str) -> list[Event]:
        return _timeline(self.index, self.state, doc_id)


def dated(d: DocInfo) -> str:
    return f"《{d.title}》（{d.date or '日期不详'}）"


def stale_note(s: Stale) -> str:
    """The warning on a clause citing what is no longer in force: "引用的条文已修改：《X》第九条 → 第二十条（…）"."""
    c = s.citation
    head = ("引用的条文" if c.article else "引用的文件") + ("已删除" if s.reason == "removed" else s.status)
    text = f"{head}：《{c.cited.title}》{c.article or ''}" + (f" → {s.new_article}" if s.reason == "moved" else "")
    now = f"，现为{dated(s.replacement)}" if s.replacement else ""
    check = "；引用文件早于库中最早版本，条号需核对" if s.unheld else ""
    return f"{text}（所引为 {c.cited.date or '日期不详'} 版{now}{check}）"


def show_diff(versions: Versions, old: str, new: str, key: str) -> None:
    """The 新旧对照 of two documents: a three-column table (document text in a dataframe) and its .docx."""
    d = versions.diff(old, new)
    st.caption(escape_html(f"{dated(d.old)} → {dated(d.new)}"))
    st.dataframe([{"旧条文": p.old.text if p.old else "—", "新条文": p.new.text if p.new else "—",
                   "变化": "；".join(what_changed(p))} for p in d.pairs], hide_index=True, width="stretch")  # fmt: skip
    st.download_button("下载对照表 .docx", versions.diff_docx(old, new), file_name="新旧对照.docx", mime=DOCX,
                       key=f"diff-docx-{key}")  # fmt: skip


def cited_note(h: Hit) -> str | None:
    """How often current documents cite the hit: "被现行文件引用：本条 2 处，本文件 5 处" (None: never)."""
    if not (h.cited_by or h.doc_cited_by):
        return None
    return f"被现行文件引用：本条 {h.cited_by or 0} 处，本文件 {h.doc_cited_by or 0} 处"


def show_versions(versions: Versions, h: Hit, key: str) -> None:
    """Under a hit: its stale citations, the 新旧对照 with what replaced it, and its document's timeline."""
    for s in h.stale_refs:
        st.warning(escape_html(stale_note(s)))
    docs = versions.index.docs
    if h.superseded_by is not None and h.doc.doc_id in docs and h.superseded_by.doc_id in docs:
        with st.expander("新旧对照"):
            show_diff(versions, h.doc.doc_id, h.superseded_by.doc_id, key)
    with st.expander("时间线"):
        if h.doc.doc_id in docs and st.checkbox("查看本文件的相关文件", key=f"timeline-{key}"):
            st.dataframe([{"日期": e.date or "日期不详", "关系": RELATIONS[e.relation],
                           "文件": f"《{e.doc.title}》" + (f"（{e.doc.doc_number}）" if e.doc.doc_number else ""),
                           "依据": e.evidence, "出处": e.citation or ""}
                          for e in versions.timeline(h.doc.doc_id)], hide_index=True, width="stretch")  # fmt: skip


def run_ingest(who: auth.Identity, label: str, paths: list[str]) -> list[tuple[str, str]]:
    """Ingest with a progress bar (audited); returns (level, message) lines to show."""
    bar = st.progress(0.0, text=label)
    try:
        report = audit.ingest_audited(
            who, INDEX_DIR, paths,
            progress=lambda done, total: bar.progress(done / total, text=f"{label} {done}/{total}"),
        )  # fmt: skip
    except (ValueError, IndexBusyError, auth.NotAllowed) as exc:
        return [("error", f"无法建立索引：{exc}")]
    finally:
        bar.empty()
    notes = [("warning", f"未能读取 {f.source}：{f.reason}") for f in report.failures]
    return notes + [("success", f"已索引 {report.documents} 个文件、{report.clauses} 个条款。")]


def show_notes(notes: list[tuple[str, str]]) -> None:
    for level, text in notes:
        getattr(st, level)(escape_html(text))


def capped(text: str) -> str:
    """The query cut to the length searches take, with a notice when it was cut."""
    cut, was_cut = cap_query(text)
    if was_cut:
        st.info(f"问题共 {len(text)} 字，只检索前 {len(cut)} 字。")
    return cut


def add_to_basket(clause_ids: list[str]) -> None:
    for cid in clause_ids:
        if cid not in st.session_state.basket:
            st.session_state.basket.append(cid)


def show_hit(index: Store, versions: Versions, h: Hit, key: str, spans: tuple[tuple[int, int], ...],
             more: Callable[[], None] | None = None) -> None:  # fmt: skip
    """One cited clause: citation, marked text, versions, source, copy, context, add-to-pack (and `more`)."""
    with st.container(border=True):
        st.markdown(f"**{h.rank}.** {escape_html(h.citation)}", unsafe_allow_html=True)
        st.markdown(f"<div class='clause'>{mark_html(h.clause.text, spans)}</div>", unsafe_allow_html=True)
        if h.superseded_by is not None:
            st.warning(escape_html(f"此文件已不是现行版本：{h.superseded_why}"))
        if h.elsewhere:
            st.caption(escape_html(f"此为{h.elsewhere}的文件，与问题提到的地区不同。"))
        if h.newer_edition:
            st.caption(escape_html(f"此为较早年度的文件，较新的一版是《{h.newer_edition.title}》。"))
        if h.instruction_like:
            st.warning(escape_html(f"此条含有针对模型的指令性文字（“{h.instruction_like}”），模型据此作答不予核实。"))
        show_versions(versions, h, key)
        st.caption(escape_html(f"{h.doc.source} [{h.clause.start}:{h.clause.end}] · 得分 {h.score:.3f}"))
        if h.status:
            st.caption(escape_html(f"效力：{h.status} · 施行日期：{h.effective or '未注明'}"))
        if cited_note(h):
            st.caption(escape_html(cited_note(h)))
        st.code(h.citation, language=None)  # the code block carries a copy button
        st.button("加入学习材料", key=f"add-{key}", on_click=add_to_basket, args=([h.clause.clause_id],))
        with st.expander("在文档中查看"):
            whole = st.checkbox("显示全文", key=f"whole-{key}")
            around = index.doc_clauses(h.doc.doc_id) if whole else neighbours(index, h.clause, n=3)
            for c in around:
                mine = c == h.clause
                style = "border-left:3px solid #e8a33d;padding-left:8px" if mine else "color:#555"
                body = mark_html(c.text, spans if mine else ())
                st.markdown(f"<div style='{style}'>{body}</div>", unsafe_allow_html=True)
        if more is not None:
            more()


def identity() -> auth.Identity:
    """Who is using the page, checked afresh on every run (a removed account loses its rights at once)."""
    try:
        headers = dict(st.context.headers)
    except Exception:  # no request context (AppTest)
        headers = {}
    who = auth.resolve_identity(st.session_state.get("user"), headers, USERS_FILE, client(),
                                st.session_state.get("credential"))  # fmt: skip
    guard_uploads(who)
    if who.via == "header" and who.librarian and st.session_state.get("header_logged") != who.name:
        audit.record(AUDIT_LOG, who.label, "sign-in", None, method="header", client=client())
        st.session_state.header_logged = who.name
    return who


def guard_uploads(who: auth.Identity) -> None:
    """Only a librarian's session may keep files on Streamlit's upload endpoint (see upload_guard)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    try:
        upload_guard.install(Runtime.instance().uploaded_file_mgr)
    except RuntimeError:  # no runtime (AppTest): nothing to guard
        return
    (upload_guard.allow if who.librarian else upload_guard.revoke)(ctx.session_id)


def client() -> str | None:
    """The address this session's connection comes from (None: this machine, or no connection)."""
    try:
        ip = st.context.ip_address
    except Exception:  # no request context
        return None
    return ip if isinstance(ip, str) else None  # AppTest has a stand-in context


def sign_in_box(who: auth.Identity) -> None:
    """The sidebar's sign-in form for librarians, or who is signed in and a sign-out button."""
    st.divider()
    if who.librarian:
        st.write(f"馆员：{escape_html(who.label)}")
        if who.via == "password" and st.button("退出登录"):
            st.session_state.pop("user", None)
            st.session_state.pop("credential", None)
            st.rerun()
        return
    with st.form("signin", clear_on_submit=True):
        st.caption("馆员登录（上传、替换、移除文件）")
        name = st.text_input("用户名")
        password = st.text_input("密码", type="password")
        if st.form_submit_button("登录"):
            got = audit.sign_in_audited(USERS_FILE, AUDIT_LOG, name.strip(), password, client())
            if got.identity is not None:
                st.session_state.user, st.session_state.credential = got.identity.name, got.credential
                st.rerun()
            time.sleep(1)  # slows guessing down
            if got.wait:
                st.error(f"登录失败次数过多，请 {int(got.wait) + 1} 秒后再试。")
            else:
                st.error("用户名或密码不正确。")


def sidebar(library: Library, index: Store, titles: dict[str, str], who: auth.Identity) -> dict:
    """The index status, search settings and sign-in; returns the settings."""
    with st.sidebar:
        st.header("索引状态")
        st.write(f"文件：{len(index.docs)}　条款：{len(index)}")
        st.caption(escape_html(f"向量模型：{index.spec.id}（{index.dim} 维）"))
        st.caption(f"建立于：{library.manifest.get('created', '?')}" if not STORE else "存放：Milvus")
        st.caption("检索层：" + "，".join(f"{t}{'✓' if ok else '…'}" for t, ok in index.tiers.items()))
        tier = status(INDEX_DIR)
        if tier and tier.get("state") == "embedding" and tier.get("total"):
            state = "进行中" if tier["running"] else "已中断，重新导入即可续做"
            st.progress(tier["done"] / tier["total"], text=f"向量层 {tier['done']}/{tier['total']}（{state}）")
        chosen = st.multiselect("限定文件", options=list(titles), format_func=lambda d: titles[d])
        mode = st.selectbox("检索方式", MODES, index=0)
        k = st.slider("条数", 1, 20, 5)
        old_versions = st.checkbox("包括已被取代的旧版本", help="已废止或已有新版本的文件默认不参与检索")
        as_of = st.date_input("按日期检索当时有效的版本", value=None, key="as-of", help="留空：现行文件")
        places = place_names(index)
        place = None
        if len(places) > 1:  # a library of several places: what applies in one (its own, its province's, national)
            place = st.selectbox("地区", [None, *places], format_func=lambda c: places.get(c, "全部"),
                                 help="只检索适用于该地区的文件：本地区、上级地区和全国性的文件")  # fmt: skip
        st.write(f"学习材料：{len(st.session_state.basket)} 条")
        sign_in_box(who)
    return {"chosen": tuple(chosen), "mode": mode, "k": k, "old": old_versions,
            "as_of": as_of.isoformat() if as_of else None, "place": place}


def asked(library: Library, question: str, opt: dict, generate: bool) -> AskResult:
    """`Library.ask`, kept for the session: a click elsewhere on the page reruns the script, not the model."""
    key = (id(library.searcher()), question, opt["k"], opt["chosen"], opt["old"], opt["as_of"], opt["place"],
           opt["mode"], generate)  # fmt: skip
    kept = st.session_state.get("asked")
    if kept is not None and kept[0] == key:
        return kept[1]
    result = library.ask(question, k=opt["k"], mode=opt["mode"], generate=generate,
                         filters=Filters(opt["chosen"], superseded=opt["old"], as_of=opt["as_of"],
                                         place=opt["place"]))  # fmt: skip
    st.session_state.asked = (key, result)
    return result


def show_answer(result: AskResult) -> None:
    """The answer before the hits: the short span with its citation, then the sentence(s), each
    with [n] links to its hits; a generated sentence says whether it was verified, and why not."""
    a = result.answer
    by_rank = {h.rank: h for h in result.hits}
    if a.note:
        st.info(escape_html(a.note))
    with st.container(border=True):
        if a.short is not None and a.short.rank in by_rank:
            st.markdown(f"<div class='answer-short' style='font-size:1.4em'>答：<b>{escape_html(a.short.text)}</b>"
                        f"</div>", unsafe_allow_html=True)  # fmt: skip
            st.caption(escape_html(f"[{a.short.rank}] {by_rank[a.short.rank].citation}"))
        for s in a.sentences:
            links = "".join(f"<a href='#hit-{n}'>[{n}]</a>" if n in by_rank else f"[{n}]" for n in s.citations)
            body = f"{escape_html(s.text)} {links}"
            if a.mode == "extractive":
                st.markdown(f"<div class='answer-sentence'>{body}</div>", unsafe_allow_html=True)
            elif s.verified:
                st.markdown(f"<div class='answer-verified' style='border-left:3px solid #2e7d32;padding-left:8px'>"
                            f"{body} <span style='color:#2e7d32'>✓ 已核实</span></div>",
                            unsafe_allow_html=True)  # fmt: skip
            else:
                st.markdown(f"<div class='answer-unverified' style='border-left:3px solid #b26a00;padding-left:8px;"
                            f"color:#555'>{body} <span style='color:#b26a00'>未核实：{escape_html(s.reason)}</span>"
                            f"</div>", unsafe_allow_html=True)  # fmt: skip
        if a.mode == "generated":
            st.caption("模型生成：标“已核实”的句子，数字、日期、文号、标题和引语均见于所引条款；以条款原文为准。")


def show_refs(index: Store, h: Hit, refs: tuple[Ref, ...], key: str) -> None:
    """Under a hit: the references written in it, each resolved one openable; what refers to it, on demand."""
    for r in refs:
        if r.target_doc is None:
            st.caption(escape_html(f"→ {r.text}（文库中未找到）"))
            continue
        with st.expander(escape_html(f"→ {r.text}：《{r.target_title}》{r.target_label or ''}")):
            target = index.fetch([r.target_clause]) if r.target_clause else []
            doc = index.docs.get(r.target_doc)
            for c in target:
                if doc is not None:
                    st.markdown(escape_html(citation(doc, c)), unsafe_allow_html=True)
                st.markdown(f"<div class='clause'>{mark_html(c.text)}</div>", unsafe_allow_html=True)
            if not target:
                what = f"《{r.target_title}》" + (f"（{doc.doc_number}）" if doc is not None and doc.doc_number else "")
                st.markdown(escape_html(what + ("" if r.target_label is None else f" {r.target_label}")),
                            unsafe_allow_html=True)  # fmt: skip
    with st.expander("被引用"):
        if st.checkbox("查找引用本条的条款", key=f"referring-{key}"):
            found = referring(index, h.clause)
            if not found:
                st.caption("文库中没有条款引用本条。")
            for c, r in found[:MAX_REFERRING]:
                doc = index.docs.get(c.doc_id)
                where = citation(doc, c) if doc is not None else c.clause_id
                spans = ((r.start, r.end),) if 0 <= r.start < r.end <= len(c.text) else ()
                st.markdown(f"{escape_html(where)}<br>{mark_html(c.text, spans)}", unsafe_allow_html=True)
            if len(found) > MAX_REFERRING:
                st.caption(f"另有 {len(found) - MAX_REFERRING} 条未列出。")


def ask_tab(library: Library, versions: Versions, opt: dict) -> None:
    question = st.text_input("问题", placeholder="例如：双随机抽查比例要达到多少？")
    model = library.model
    if model.llm and model.error:  # the reason is in the server log (written when the library was opened)
        st.caption("模型服务设置有误（见服务器日志），问答只给条款原文摘录。")
    generate = model.available and st.checkbox("由模型生成回答（逐句核对）", value=False)
    if question.strip():
        question = capped(question)
        with st.spinner("检索并作答…"):
            result = asked(library, question, opt, generate)
        searcher = library.searcher()
        if "dense" not in searcher.tiers_for(opt["mode"]) and opt["mode"] != "lexical":
            st.caption("向量层尚未完成，本次仅用关键词检索。")
        if not result.hits:
            st.warning("没有找到相关条款。请换用更宽泛的说法、减少限定条件，或去掉引号。")
            return
        if named := searcher.places_named(question):
            st.caption(escape_html(f"问题提到{'、'.join(named)}：其他地区的文件排在后面。"))
        show_answer(result)
        for h in result.hits:
            key = f"ask-{h.clause.clause_id}"
            st.markdown(f"<a id='hit-{h.rank}'></a>", unsafe_allow_html=True)
            refs = result.refs.get(h.rank, ())
            show_hit(searcher.index, versions, h, key, marks(question, h, result.answer),
                     more=lambda h=h, refs=refs, key=key: show_refs(searcher.index, h, refs, key))  # fmt: skip


def precedent_tab(library: Library, versions: Versions, titles: dict[str, str], opt: dict) -> None:
    index = versions.index
    draft = st.text_area("粘贴草稿句子或段落（用引号“…”可检索原文短语）", height=100)
    c1, c2 = st.columns(2)
    types = sorted({doc_type(t) for t in titles.values()})
    dtype = c1.selectbox("文件类型", ["全部", *types])
    years = sorted({(d.date or "")[:4] for d in index.docs.values() if d.date}, reverse=True)
    year = c2.selectbox("年份", ["全部", *years])
    if draft.strip():
        draft = capped(draft)
        f = Filters(opt["chosen"], doc_type=None if dtype == "全部" else dtype, year=None if year == "全部" else year,
                    superseded=opt["old"], as_of=opt["as_of"], place=opt["place"])  # fmt: skip
        hits = library.search(draft, k=opt["k"], filters=f, mode=opt["mode"], config=wording(library.searcher().config))
        if not hits:
            st.warning("没有找到用过的相近表述。请缩短句子或放宽筛选。")
        for h in hits:
            show_hit(index, versions, h, f"pre-{h.clause.clause_id}", shared_spans(draft, h.clause.text))


def study_tab(library: Library, index: Store, opt: dict) -> None:
    topic = st.text_input("主题（把相关条款全部加入）", placeholder="例如：普法宣传教育")
    n_topic = st.slider("最多加入", 1, 50, 10)
    if st.button("加入该主题的条款", disabled=not topic.strip()):
        hits = library.search(capped(topic), k=n_topic, mode=opt["mode"],
                              filters=Filters(opt["chosen"], superseded=opt["old"], as_of=opt["as_of"],
                                              place=opt["place"]))  # fmt: skip
        for h in hits:
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
        c2.download_button("导出 DOCX", to_docx(name, items), file_name="study-pack.docx", mime=DOCX)
        if c3.button("清空"):
            st.session_state.basket = []
            st.rerun()


def tasks_tab(index: Store) -> None:
    """任务: the task rows of every 任务分工表 in the library, filtered like `rag tasks`, downloadable as .xlsx."""
    c1, c2 = st.columns(2)
    unit = c1.text_input("责任单位", placeholder="例如：环保局", key="task-unit")
    due = c2.date_input("完成时限不晚于", value=None, key="task-due")
    rows = task_rows(index, unit=unit, due_before=due.isoformat() if due else None)
    if not rows:
        st.info("没有符合条件的任务（任务分工表：表头有任务列，并有责任单位或完成时限列）。")
        return
    st.caption(f"{len(rows)} 项任务，按完成时限排列（长期任务在后）")
    st.dataframe([{"完成时限": r.deadline or "", "重点任务": r.task, "责任单位": r.unit_text,
                   "原文时限": r.deadline_text, "出处": r.citation} for r in rows], hide_index=True)  # fmt: skip
    st.download_button("下载 .xlsx", to_xlsx(rows), file_name="tasks.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip


def version_label(index: Store, d) -> str:
    if d.doc_id in index.superseded:
        return f"已被取代：{index.superseded[d.doc_id].reason}"
    return "现行"


def library_tab(library: Library, versions: Versions, titles: dict[str, str], who: auth.Identity) -> None:
    index = versions.index
    rows = [
        {"文件": d.title, "类型": doc_type(d.title), "日期": d.date or "", "文号": d.doc_number or "",
         "发文机关": d.issuer or "", "条款": d.n_clauses, "格式": d.kind + ("（OCR）" if d.ocr else ""),
         "版本": version_label(index, d), "路径": d.source}
        for d in sorted(index.docs.values(), key=lambda d: d.source)
    ]  # fmt: skip
    st.dataframe(rows, hide_index=True, width="stretch")
    skipped = library.manifest.get("skipped", [])
    if skipped:
        with st.expander(f"未收录的文件（{len(skipped)}）：每个文件都有原因"):
            items = "".join(f"<li>{escape_html(r['source'])}：{escape_html(r['reason'])}</li>" for r in skipped)
            st.markdown(f"<ul class='skipped'>{items}</ul>", unsafe_allow_html=True)
    st.caption("检索层：" + "，".join(f"{t}{'完成' if ok else '未完成'}" for t, ok in index.tiers.items()))
    pairs = {old: s.by for old, s in index.superseded.items() if old in index.docs and s.by in index.docs}
    if pairs:
        with st.expander(f"新旧对照（{len(pairs)} 对被取代的文件）"):
            old = st.selectbox("旧文件", list(pairs), key="diff-pair",
                               format_func=lambda o: f"{dated(index.docs[o])} → {dated(index.docs[pairs[o]])}")
            show_diff(versions, old, pairs[old], "library")
    if who.librarian:
        with st.spinner("查找需复核的引用…"):
            review = library.citations(index).stale()
        with st.expander(f"需复核的引用（{len(review)}）"):
            st.dataframe([{"引用文件": dated(s.citation.doc), "条款": s.citation.clause.label or "",
                           "引用": s.citation.mention, "所引版本": dated(s.citation.cited), "现状": REASONS[s.reason],
                           "新条号": (s.new_article or "") + ("（需核对）" if s.unheld and s.new_article else ""),
                           "现行文件": dated(s.replacement) if s.replacement else ""}
                          for s in review], hide_index=True, width="stretch")  # fmt: skip
    if STORE:
        st.caption("此文库存放在 Milvus：增删文件请在服务器上运行 rag ingest --store …（见 README）。")
        return
    if not who.librarian:
        st.caption("上传、替换或移除文件需要馆员登录（见侧栏）。")
        show_notes(st.session_state.pop("flash", []))
        return
    uploads(index, who)
    removal(titles, who)
    show_notes(st.session_state.pop("flash", []))
    for problem in audit.check_chain(AUDIT_LOG):
        st.error(escape_html(f"变更记录可能被篡改：{problem}（rag audit / rag verify 可复查）"))
    records = audit.read(AUDIT_LOG)[::-1]
    cols = ("time", "user", "action", "file", "result")
    failed = [r for r in records if r.get("action") == "sign-in-failed"]
    with st.expander("变更记录（最近 50 条）"):
        changes = [r for r in records if r.get("action") != "sign-in-failed"][:50]
        st.dataframe([{c: str(r.get(c) or "") for c in cols} for r in changes], hide_index=True,
                     width="stretch")  # fmt: skip
    with st.expander(f"登录失败记录（共 {len(failed)} 条，显示最近 50 条）"):
        st.dataframe([{c: str(r.get(c) or "") for c in cols} for r in failed[:50]], hide_index=True,
                     width="stretch")  # fmt: skip


def doc_for(index: Store, path: Path):
    """The indexed document read from `path`, if any."""
    want = path.resolve()
    return next((d for d in index.docs.values() if Path(d.source).resolve() == want), None)


def uploads(index: Store, who: auth.Identity) -> None:
    """Upload new files; a file whose name exists waits for the librarian to confirm the replacement."""
    kinds = supported_suffixes()
    ups = st.file_uploader(f"上传文件（{' '.join(kinds)}，单个不超过 {MAX_UPLOAD_BYTES // 2**20} MB）",
                           type=[k.lstrip(".") for k in kinds], accept_multiple_files=True,
                           key=f"uploads-{st.session_state.get('upload_round', 0)}")  # fmt: skip
    if ups and st.button("导入上传的文件"):
        notes, stored, pending = [], [], []
        for up in ups:
            if audit.existing(CORPUS_DIR, up.name) is not None:
                pending.append((up.name, up.getvalue()))
                continue
            try:
                path = audit.upload(who, CORPUS_DIR, INDEX_DIR, up.name, up.getvalue()).path
                notes.append(("success", f"已保存 {path.name}"))
                stored.append(str(path))
            except (UploadError, OSError, auth.NotAllowed) as exc:
                notes.append(("error", f"已拒绝：{exc}"))
        if stored:
            notes += run_ingest(who, "导入新文件", stored)
        st.session_state.pending = pending
        st.session_state.flash = notes
        st.session_state.upload_round = st.session_state.get("upload_round", 0) + 1  # empties the uploader
        st.rerun()
    pending = st.session_state.get("pending", [])
    for i, (name, data) in enumerate(pending):
        old = audit.existing(CORPUS_DIR, name)
        d = doc_for(index, old) if old is not None else None
        what = f"《{d.title}》" + (f"（{d.date}）" if d.date else "") if d is not None else "（尚未索引）"
        st.warning(escape_html(f"替换现有文件？{name}：现有文件{what}将作为旧版本保留在 .versions 文件夹中。"))
        c1, c2 = st.columns(2)
        if c1.button("确认替换", key=f"replace-{i}"):
            notes = []
            try:
                done = audit.upload(who, CORPUS_DIR, INDEX_DIR, name, data, replace=True)
                notes.append(("success", f"已替换 {done.path.name}，旧版本保存为 {done.archived}"))
                paths = [str(done.path)] + ([str(done.archived)] if done.archived else [])
                notes += run_ingest(who, "导入替换的文件", paths)
            except (UploadError, OSError, auth.NotAllowed) as exc:
                notes.append(("error", f"已拒绝：{exc}"))
            pending.pop(i)
            st.session_state.flash = notes
            st.rerun()
        if c2.button("取消", key=f"keep-{i}"):
            pending.pop(i)
            st.rerun()


def removal(titles: dict[str, str], who: auth.Identity) -> None:
    """Remove a document from the index, after a second, confirming click."""
    gone = st.selectbox("移除文件", ["", *titles], format_func=lambda d: titles.get(d, "（选择）"))
    if gone and st.button("从索引中移除"):
        st.session_state.confirm_remove = gone
    target = st.session_state.get("confirm_remove")
    if target and target in titles:
        st.warning(escape_html(f"确定移除《{titles[target]}》？（文件移到文库的 .removed 文件夹保存，不再收录）"))
        c1, c2 = st.columns(2)
        if c1.button("确认移除"):
            st.session_state.pop("confirm_remove", None)
            try:
                audit.remove_audited(who, INDEX_DIR, [target], library=CORPUS_DIR)
                done = f"已移除《{titles[target]}》（文件保存在文库的 .removed 文件夹中）。"
                st.session_state.flash = [("success", done)]
            except (ValueError, IndexBusyError, auth.NotAllowed) as exc:
                st.session_state.flash = [("error", str(exc))]
            st.rerun()
        if c2.button("取消移除"):
            st.session_state.pop("confirm_remove", None)
            st.rerun()


def page() -> None:
    problem = auth.header_config_problem()
    if problem:  # a trusted header with no proxy named: anyone could name themselves librarian
        logger.error("refusing to start: %s", problem)
        st.error(escape_html(f"服务器的登录设置有误，页面不提供服务：{problem}"))
        st.stop()
    who = identity()
    if not STORE and not exists(INDEX_DIR):
        st.info(f"`{INDEX_DIR}/` 中还没有索引，正在从 `{CORPUS_DIR}/` 建立…")
        builder = auth.Identity("app:first-start", auth.LIBRARIAN, "cli")  # the server builds its own index
        show_notes(run_ingest(builder, "向量化条款", [CORPUS_DIR]))
        if not exists(INDEX_DIR):
            st.stop()
    lib = get_library(INDEX_DIR, STORE, repr(SETTINGS))
    try:
        index = lib.index
    except IndexLoadError as exc:  # a damaged or busy store, no generation left: say what, not "出错了"
        logger.error("library not available: %s", exc)
        detail = f"：{exc}" if who.librarian else "，请联系馆员（详情见服务器日志）。"
        st.error(escape_html(f"文库暂时无法使用{detail}"))
        st.stop()
    if lib.fallback:  # the current generation is damaged: an older one answers
        why = "；".join(lib.problems[:3]) if who.librarian else ""
        st.warning(escape_html("当前索引已损坏，正在使用较早的完整版本检索，结果可能缺少最近导入的文件。"
                               + (f"原因：{why}。重新导入即可修复。" if why else "请联系馆员重新导入。")))  # fmt: skip
    titles = {d.doc_id: d.title for d in index.docs.values()}
    versions = Versions.of(index)
    opt = sidebar(lib, index, titles, who)
    ask, precedent, study, tasks, library = st.tabs(["问答", "措辞参考", "学习材料", "任务", "文库"])
    with ask:
        ask_tab(lib, versions, opt)
    with precedent:
        precedent_tab(lib, versions, titles, opt)
    with study:
        study_tab(lib, index, opt)
    with tasks:
        tasks_tab(index)
    with library:
        library_tab(lib, versions, titles, who)


try:
    page()
except ScriptControlException:  # st.rerun / st.stop
    raise
except Exception:
    ref = secrets.token_hex(4)
    logger.exception("page error, reference %s", ref)
    st.error(f"出错了，页面无法完成这次操作。请稍后重试；若仍出错，请把参考编号 {ref} 告诉管理员。")
