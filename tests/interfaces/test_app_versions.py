"""#22 in the app: the 新旧对照 of a superseded document (on its hits and in 文库), each hit's 时间线, and the
stale-citation warning on a clause citing an article that moved (with the librarians' 需复核的引用 list)."""

from __future__ import annotations

import html

import pytest
from streamlit.testing.v1 import AppTest

from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.interfaces import audit, auth
from tests.conftest import REPO

RULE, NOTICE = "某市河道保洁管理办法", "关于开展河道保洁考核的通知"
APPEAL = "保洁单位对考核结果有异议的，可以自收到结果之日起十五日内申请复核。"  # 第三条 (2019) -> 第四条 (2023)
OLD = [
    "第一条 为了规范河道保洁，制定本办法。",
    "第二条 本办法适用于本市河道保洁。",
    f"第三条 {APPEAL}",
    "第四条 违反本办法的，由水务部门处五百元以下罚款。",
    "第五条 本办法自2019年3月1日起施行。",
]
NEW = [
    *OLD[:2],
    "第三条 河道保洁实行网格化管理，每个网格明确一名责任人。",
    f"第四条 {APPEAL}",
    "第五条 违反本办法的，由水务部门处一千元以下罚款。",
    "第六条 本办法自2023年5月1日起施行。",
]
CITING = f"一、考核结果的复核依照《{RULE}》第三条办理。"
LIBRARY = {
    f"{RULE}(2019-03-01).txt": f"{RULE}\n\n" + "\n".join(OLD) + "\n",
    f"{RULE}(2023-05-01).txt": f"{RULE}\n\n" + "\n".join(NEW) + "\n",
    f"{NOTICE}(2021-06-01).txt": f"{NOTICE}\n\n各区水务局：\n{CITING}\n\n某市水务局\n2021年6月1日\n",
}
DIFF = [  # 旧条文, 新条文, 变化
    (OLD[0], NEW[0], "未变"),
    (OLD[1], NEW[1], "未变"),
    ("—", NEW[2], "新增"),
    (OLD[2], NEW[3], "条文未变（第三条 → 第四条）"),
    (OLD[3], NEW[4], "罚则：五百元以下罚款 → 一千元以下罚款"),
    (OLD[4], NEW[5], "日期：2019年3月1日 → 2023年5月1日"),
]
WARNING = f"引用的条文已修改：《{RULE}》第三条 → 第四条（所引为 2019-03-01 版，现为《{RULE}》（2023-05-01））"
NOTICE_AT = f"《{NOTICE}》 › 一、（2021-06-01）"
TIMELINES = {  # 日期, 关系, 文件, 依据, 出处: the notice's, then the 2019 办法's
    NOTICE: [("2019-03-01", "本文件引用", f"《{RULE}》", CITING, NOTICE_AT),
             ("2021-06-01", "本文件", f"《{NOTICE}》", "现行有效，自2021-06-01起施行", "")],
    RULE: [("2019-03-01", "本文件", f"《{RULE}》", "已修改，自2019-03-01起施行", ""),
           ("2021-06-01", "引用本文件", f"《{NOTICE}》", CITING, NOTICE_AT),
           ("2023-05-01", "新版本", f"《{RULE}》", f"同名文件《{RULE}》有2023-05-01 的新版本", "")],
}  # fmt: skip
PASSWORD = "correct horse battery"


@pytest.fixture()
def app(tmp_path, monkeypatch) -> AppTest:
    for var in (auth.USERS_ENV, audit.AUDIT_ENV, auth.HEADER_ENV, auth.LIBRARIANS_ENV, auth.PROXIES_ENV, "RAG_LLM"):
        monkeypatch.delenv(var, raising=False)
    auth.LIMITER.reset()
    lib, index = tmp_path / "lib", tmp_path / "index"
    lib.mkdir()
    for name, text in LIBRARY.items():
        (lib / name).write_text(text, encoding="utf-8")
    ingest([lib], index, parse_spec("hash:64"), show_progress=False)
    auth.add_user(index / "users.json", "alice", PASSWORD)
    monkeypatch.setenv("RAG_INDEX", str(index))
    monkeypatch.setenv("RAG_CORPUS", str(lib))
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=120)


def _rows(frame) -> list[tuple]:
    return [tuple(r) for r in frame.value.itertuples(index=False)]


def _frames(at: AppTest, label: str) -> list[list[tuple]]:
    """The tables inside the expanders labelled `label`, in page order."""
    return [_rows(f) for e in at.expander if html.unescape(e.label).startswith(label) for f in e.dataframe]


def test_versions_on_hits_and_in_the_library(app):
    at = app.run()
    assert not at.exception
    # 文库: every superseded -> current pair has its 新旧对照 (readers too); no review list for readers
    assert _frames(at, "新旧对照（1 对被取代的文件）") == [DIFF]
    assert not _frames(at, "需复核的引用")
    at.sidebar.selectbox[0].select("lexical")
    at.sidebar.checkbox[0].check()  # 包括已被取代的旧版本
    at.text_input[0].input("考核结果的复核依照哪一条").run()
    assert not at.exception
    assert [html.unescape(m.value) for m in at.markdown if m.value.startswith("**")] == [
        f"**1.** {NOTICE_AT}",
        f"**2.** 《{RULE}》 › 第四条（2023-05-01）",
        f"**3.** 《{RULE}》 › 第三条（2023-05-01）",
        f"**4.** 《{RULE}》 › 第三条（2019-03-01，已被《{RULE}》（2023-05-01）取代）",
        f"**5.** 《{RULE}》 › 第一条（2023-05-01）",
    ]
    # the notice's clause cites 第三条 of the 2019 version, now 第四条: the one stale-citation warning
    assert [html.unescape(w.value) for w in at.warning if "引用的" in w.value] == [WARNING]
    # the superseded hit's 新旧对照 (and its .docx), then the library's
    assert _frames(at, "新旧对照") == [DIFF, DIFF]
    assert [b.label for b in at.get("download_button")] == ["下载对照表 .docx"] * 2
    # each hit's timeline, on demand
    assert not _frames(at, "时间线")
    for box in [c for c in at.checkbox if c.label == "查看本文件的相关文件"]:
        box.check()
    at.run()
    assert not at.exception
    assert _frames(at, "时间线")[0] == TIMELINES[NOTICE] and _frames(at, "时间线")[3] == TIMELINES[RULE]
    # a librarian's 需复核的引用
    at.sidebar.text_input[0].input("alice")
    at.sidebar.text_input[1].input(PASSWORD)
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert _frames(at, "需复核的引用（1）") == [[(f"《{NOTICE}》（2021-06-01）", "一、", f"《{RULE}》第三条",
                                             f"《{RULE}》（2019-03-01）", "条文已移至新条号", "第四条",
                                             f"《{RULE}》（2023-05-01）")]]  # fmt: skip
