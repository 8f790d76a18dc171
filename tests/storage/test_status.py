"""Status on every clause (#22 item 3): 现行有效 / 已修改 / 已废止 / 尚未施行 and the date a document takes
effect, in `rag search --json`, the API and the app; `--as-of` returns the version in force on a day."""

from __future__ import annotations

import json
import shutil

import pytest

from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.interfaces.api import ApiError, clause_record, document_list, search_params
from rag.search.retrieve import Filters, Searcher
from rag.storage.catalogue import status_book
from rag.storage.index import ClauseIndex
from rag.text.effective import effective_date
from tests.conftest import LAWS, run_cli

HASH = parse_spec("hash:64")
T = "某市养老服务补贴管理办法"
NOTICE = "关于做好高龄津贴发放工作的通知"
LIBRARY = {
    f"{T}(2019-05-10).txt": f"{T}\n\n第一条 为了规范养老服务补贴发放，制定本办法。\n"
                            "第二条 养老服务补贴标准为每人每月200元。\n第三条 本办法自2019年7月1日起施行。\n",
    f"{T}(2023-01-15).txt": f"{T}\n\n第一条 为了规范养老服务补贴发放，制定本办法。\n"
                            "第二条 补贴对象应当年满八十周岁。\n第三条 养老服务补贴标准为每人每月300元。\n"
                            f"第四条 本办法自2023年3月1日起施行。《{NOTICE}》（某民发〔2018〕3号）同时废止。\n",
    f"{NOTICE}(2018-03-01).txt": f"{NOTICE}\n\n某民发〔2018〕3号\n\n一、高龄津贴标准为每人每月100元。\n"
                                 "二、本通知自印发之日起施行。\n",
    "某市智慧养老服务规定(2025-06-01).txt": "某市智慧养老服务规定\n\n第一条 智慧养老服务平台由市民政局建设，"
                                            "为老年人提供养老服务补贴申领服务。\n第二条 本规定自2099年1月1日起施行。\n",
    "某市老年人优待证管理规定(2016-04-01).txt": "某市老年人优待证管理规定\n\n第一条 老年人优待证由区民政局发放。\n"
                                                "第二条 本规定自2016年5月1日起施行。\n",
    "关于《某市敬老优待办法》的政策解读(2024-01-10).txt": "关于《某市敬老优待办法》的政策解读\n\n"
        "一、《某市敬老优待办法》自2024年2月1日起施行，《某市老年人优待证管理规定》同时废止。\n",
}  # fmt: skip
# (title, date) -> (status today, effective)
STATUS = {
    (T, "2019-05-10"): ("已修改", "2019-07-01"),  # replaced by its revision
    (T, "2023-01-15"): ("现行有效", "2023-03-01"),
    (NOTICE, "2018-03-01"): ("已废止", "2018-03-01"),  # repealed by a separate document; 自印发之日起施行
    ("某市智慧养老服务规定", "2025-06-01"): ("尚未施行", "2099-01-01"),
    ("某市老年人优待证管理规定", "2016-04-01"): ("已废止", "2016-05-01"),  # a 解读 reports it repealed, no successor
    ("关于《某市敬老优待办法》的政策解读", "2024-01-10"): ("现行有效", "2024-01-10"),  # states none: its own date
}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("status")
    (root / "lib").mkdir()
    for name, text in LIBRARY.items():
        (root / "lib" / name).write_text(text, encoding="utf-8")
    ingest([root / "lib"], root / "idx", HASH, show_progress=False)
    return root / "idx"


def _search(capsys, index_dir, question, *extra):
    rc, out, err = run_cli(capsys, "search", question, "--index", str(index_dir), "--mode", "lexical", "--json",
                           *extra)  # fmt: skip
    assert rc == 0, err
    return json.loads(out)


@pytest.mark.parametrize(
    "text, own, want",
    [
        ("第九十条 本法自2024年1月1日起施行。", "2023-09-01", "2024-01-01"),
        ("第三十条 本办法由市财政局负责解释，自2023年3月1日起实施。", "2023-01-15", "2023-03-01"),
        ("本通知自印发之日起施行。", "2018-03-01", "2018-03-01"),
        ("第二十条 本规定自公布之日起30日后施行。", "2020-01-01", "2020-01-31"),
        ("第四十三条 本法自一九九九年十月一日起施行。", "1999-04-29", "1999-10-01"),
        ("本解释自２０１３年１月１日起施行。", None, "2013-01-01"),
        ("（2002年3月15日最高人民法院公告公布 自2002年3月26日起施行）", "2002-03-15", "2002-03-26"),
        ("施行日期：2023年3月1日", None, "2023-03-01"),
        ("补贴标准自2020年1月1日起执行。降低成本，自2021年1月1日起执行。", "2019-12-01", "2019-12-01"),  # no 本办法
        ("《某市敬老优待办法》自2024年2月1日起施行。", "2024-01-10", "2024-01-10"),  # another document's date
        ("本办法自2019年7月1日起施行。\n本通知自印发之日起施行。", "2019-05-10", "2019-05-10"),  # the last one
        ("第一条 为了规范管理，制定本办法。", None, None),
    ],
)
def test_effective_date(text, own, want):
    assert effective_date(text, own) == want


def test_status_and_effective_of_every_hit(index_dir, capsys):
    hits = _search(capsys, index_dir, "养老服务补贴 高龄津贴 优待证 智慧养老 政策解读", "--all-versions", "-k", "30")
    got = {(h["title"], h["date"]): (h["status"], h["effective"]) for h in hits}
    assert got == STATUS
    current = _search(capsys, index_dir, "养老服务补贴标准", "-k", "1")[0]  # the default: current documents
    assert (current["text"], current["status"], current["effective"], current["current"]) == (
        "第三条 养老服务补贴标准为每人每月300元。", "现行有效", "2023-03-01", True)


@pytest.mark.parametrize(
    "as_of, text, titles",
    [
        ("2019-06-01", "一、高龄津贴标准为每人每月100元。", {NOTICE, "某市老年人优待证管理规定"}),  # no 办法 yet
        ("2023-02-28", "第二条 养老服务补贴标准为每人每月200元。", {T, NOTICE, "某市老年人优待证管理规定"}),
        ("2023-03-01", "第三条 养老服务补贴标准为每人每月300元。", {T, "某市老年人优待证管理规定"}),
        ("2026-01-01", "第三条 养老服务补贴标准为每人每月300元。", {T, "关于《某市敬老优待办法》的政策解读"}),
    ],
)
def test_as_of_returns_the_version_in_force(index_dir, capsys, as_of, text, titles):
    hits = _search(capsys, index_dir, "养老服务补贴 高龄津贴标准 优待证 智慧养老 解读", "--as-of", as_of, "-k", "30")
    assert {h["title"] for h in hits} == titles
    assert {h["status"] for h in hits} == {"现行有效"}  # as of that day
    top = _search(capsys, index_dir, "养老服务补贴标准", "--as-of", as_of, "-k", "1")[0]
    assert top["text"] == text
    olds = {(h["date"], h["status"]) for h in hits if h["title"] == T}
    assert len(olds) <= 1  # one version of the 办法 at a time


def test_as_of_with_all_versions_and_a_bad_date(index_dir, capsys):
    hits = _search(capsys, index_dir, "养老服务补贴标准", "--as-of", "2023-03-01", "--all-versions", "-k", "30")
    assert {(h["date"], h["status"]) for h in hits if h["title"] == T} == {("2019-05-10", "已修改"),
                                                                           ("2023-01-15", "现行有效")}  # fmt: skip
    with pytest.raises(SystemExit) as exc:  # argparse: usage and the reason, exit code 2
        run_cli(capsys, "search", "补贴", "--index", str(index_dir), "--as-of", "2023-02-30")
    assert exc.value.code == 2
    assert "--as-of: '2023-02-30' is not a date; expected YYYY-MM-DD" in capsys.readouterr().err
    with pytest.raises(ValueError, match="expected YYYY-MM-DD"):
        Filters(as_of="2023/03/01")


def test_api_records_carry_status_and_as_of(index_dir):
    index = ClauseIndex.load(index_dir)
    docs = {(d["title"], d["date"]): (d["status"], d["effective"]) for d in document_list(index)}
    assert docs == STATUS
    old = next(d for d in index.docs.values() if d.title == T and d.date == "2019-05-10")
    rec = clause_record(index, f"{old.doc_id}:1")
    assert (rec["text"], rec["status"], rec["effective"], rec["current"]) == (
        "第二条 养老服务补贴标准为每人每月200元。", "已修改", "2019-07-01", False)
    args = search_params({"q": ["补贴标准"], "as_of": ["2023-02-01"]})
    assert args["filters"] == Filters(as_of="2023-02-01")
    hits = Searcher(index).search(args["q"], k=1, filters=args["filters"], mode="lexical")
    assert [(h.clause.text, h.to_dict()["status"]) for h in hits] == [
        ("第二条 养老服务补贴标准为每人每月200元。", "现行有效")]
    with pytest.raises(ApiError, match="as_of: '2023-13-01' is not a date"):
        search_params({"q": ["补贴"], "as_of": ["2023-13-01"]})


def test_api_search_over_http_equals_the_cli(index_dir, capsys):
    from tests.interfaces.test_api import call, q, running

    with running(index_dir) as base:
        status, body = call(f"{base}/search?" + q({"q": "补贴标准", "as_of": "2023-02-01", "mode": "lexical", "k": 2}))
    assert status == 200
    cli = _search(capsys, index_dir, "补贴标准", "--as-of", "2023-02-01", "-k", "2")
    assert [(h["clause_id"], h["status"], h["effective"]) for h in body["hits"]] == [
        (h["clause_id"], h["status"], h["effective"]) for h in cli]
    assert body["hits"][0]["text"] == "第二条 养老服务补贴标准为每人每月200元。"


def test_app_hit_card_shows_status_and_the_date_control_searches_as_of(index_dir, monkeypatch):
    import datetime as dt

    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    monkeypatch.setenv("RAG_INDEX", str(index_dir))
    monkeypatch.setenv("RAG_CORPUS", str(index_dir.parent / "lib"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.sidebar.selectbox[0].select("lexical").run()
    at.text_input[0].input("养老服务补贴标准").run()
    assert not at.exception
    assert [c.value for c in at.caption if "效力" in c.value][0] == "效力：现行有效 · 施行日期：2023-03-01"
    at.date_input(key="as-of").set_value(dt.date(2023, 2, 1)).run()
    assert not at.exception
    assert [c.value for c in at.caption if "效力" in c.value][0] == "效力：现行有效 · 施行日期：2019-07-01"
    shown = [m.value for m in at.markdown]
    # the version in force then, its amount marked as the answer (补贴标准 asks for an amount)
    assert "<div class='clause'>第二条 养老服务补贴标准为<mark>每人每月200元</mark>。</div>" in shown


def test_status_book_is_built_once_per_store_state(index_dir):
    index = ClauseIndex.load(index_dir)
    book = status_book(index)
    assert status_book(index) is book
    new = next(d for d in index.docs.values() if d.title == T and d.date == "2023-01-15")
    assert book.status(new.doc_id, "2023-02-28") == "尚未施行" and book.status(new.doc_id, "2023-03-01") == "现行有效"
    index.drop_documents([new.doc_id])  # the revision gone: the 2019 version is current again
    again = status_book(index)
    assert again is not book
    old = next(d for d in index.docs.values() if d.title == T)
    assert (again.status(old.doc_id), again.effective(old.doc_id)) == ("现行有效", "2019-07-01")


# ---------------------------------------------------------------- revised laws of the corpus (slow)

LAW_FILES = [
    "诉讼与非诉讼程序法/行政复议法(2017-09-01).md", "诉讼与非诉讼程序法/行政复议法(2023-09-01).md",
    "民法商法/公司法(2018-10-26).md", "民法商法/公司法(2023-12-29).md",
    "经济法/统计法(2009-06-27).md", "经济法/统计法(2024-09-13).md",
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(not LAWS.is_dir(), reason="../shared/corpora/laws not present")
def test_revised_laws_as_of(tmp_path, capsys):
    lib = tmp_path / "laws"
    lib.mkdir()
    for name in LAW_FILES:
        shutil.copy(LAWS / name, lib / name.split("/")[1])
    ingest([lib], tmp_path / "idx", HASH, show_progress=False)
    idx = str(tmp_path / "idx")

    def top(question, *extra):
        h = _search(capsys, idx, question, "-k", "1", *extra)[0]
        text = h["text"][h["text"].index(h["label"]) :]  # from the label on (a chapter heading may open it)
        return h["date"], h["label"], text[:30], h["status"], h["effective"]

    # today: the current versions; an amended law keeps its first 施行 date ("本法自2010年1月1日起施行")
    assert top("行政复议法第九条") == (
        "2023-09-01", "第九条", "第九条 对在行政复议工作中做出显著成绩的单位和个人，按照国家", "现行有效", "2024-01-01")
    assert top("行政复议法第九条", "--all-versions", "--doc", _doc_id(idx, "行政复议法", "2017-09-01"))[3:] == (
        "已修改", "1999-10-01")
    # before a revision took effect: the old version's article, in force then
    assert top("行政复议法第九条", "--as-of", "2020-01-01") == (
        "2017-09-01", "第九条", "第九条 公民、法人或者其他组织认为具体行政行为侵犯其合法权益", "现行有效", "1999-10-01")
    assert top("行政复议法第九条", "--as-of", "2023-12-31")[0] == "2017-09-01"  # adopted 2023-09-01, in force 2024
    assert top("行政复议法第九条", "--as-of", "2024-01-01")[0] == "2023-09-01"
    assert top("公司法第二十六条", "--as-of", "2024-06-30") == (
        "2018-10-26", "第二十六条", "第二十六条 有限责任公司的注册资本为在公司登记机关登记的全体", "现行有效",
        "2006-01-01")
    assert top("公司法第二十六条", "--as-of", "2024-07-01")[:2] == ("2023-12-29", "第二十六条")
    assert top("统计法第四十一条", "--as-of", "2020-01-01")[:3] == (
        "2009-06-27", "第四十一条", "第四十一条 作为统计调查对象的国家机关、企业事业单位或者其他")
    assert top("统计法第四十一条")[0::3] == ("2024-09-13", "现行有效")
    for question, date in (("行政复议申请", "2017-09-01"), ("公司注册资本", "2018-10-26"), ("统计调查", "2009-06-27")):
        hits = _search(capsys, idx, question, "--as-of", "2020-01-01", "-k", "50")
        assert len(hits) == 50 and {h["date"] for h in hits if h["title"] == hits[0]["title"]} == {date}
        assert {h["date"] for h in hits} <= {"2017-09-01", "2018-10-26", "2009-06-27"}  # no revision of 2023-24


def _doc_id(index_dir: str, title: str, date: str) -> str:
    index = ClauseIndex.load(index_dir)
    return next(d.doc_id for d in index.docs.values() if title in d.title and d.date == date)
