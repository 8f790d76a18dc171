"""The document vocabulary (`rag.text.vocab`): golden outputs, and a scan that keeps it defined once.

The scan reads every module of the package outside rag/text/ and fails on a string literal that
spells a numeral character set (一二三四…) or a 文号 pattern (a regex with 〔 and 号), on a statement
that lists document types, and on a second definition of a vocabulary function.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from rag.storage.store import DocInfo
from rag.storage.titles import titles_of
from rag.text.numerals import cn_int, find_refs
from rag.text.vocab import (
    CN_DIGITS,
    CN_NUMERALS,
    CN_ONE_TO_TEN,
    DOC_NUMBER,
    DOC_TYPES,
    LAW_TYPES,
    TitleLookup,
    doc_number_brackets,
    doc_number_key,
    doc_type,
    normalise_title,
)  # fmt: skip
from tests.conftest import REPO

PACKAGE = REPO / "rag"
TEXT = PACKAGE / "text"


# ------------------------------------------------------------------ numerals


def test_numeral_sets():
    assert [cn_int(c) for c in CN_DIGITS] == [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert [cn_int(c) for c in CN_ONE_TO_TEN] == list(range(1, 11))
    assert set(CN_NUMERALS) - set(CN_DIGITS) == set("十百千万两")
    assert [cn_int(s) for s in ("二〇二四", "二○二四", "一千二百六十", "两百")] == [2024, 2024, 1260, 200]


# ------------------------------------------------------------------ 文号

_DOC_NUMBER = re.compile(DOC_NUMBER)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("国发〔2019〕5号", ("国发", "2019", "5")),
        ("根据国办发[2020]12号文件", ("根据国办发", "2020", "12")),
        ("甬民发（2022）第3号", ("甬民发", "2022", "3")),
        ("浙政办发【2021】 41 号", ("浙政办发", "2021", "41")),
        ("京政发〖2018〗7号", ("京政发", "2018", "7")),
        ("2019年5号", None),
        ("国发〔19〕5号", None),
    ],
)
def test_doc_number_pattern(text, parts):
    m = _DOC_NUMBER.search(text)
    assert (m and (m["agency"], m["year"], m["serial"])) == parts if parts else m is None


def test_doc_number_key_and_brackets():
    keys = {doc_number_key(n) for n in ("国发〔2019〕5号", "国发[2019]5号", "国发（2019）第5号", "国发【2019】 5 号")}
    assert keys == {"国发[2019]5号"}
    assert doc_number_brackets("甬民发[2022〕12号，国办发【2019）5号") == "甬民发〔2022〕12号，国办发〔2019〕5号"
    assert doc_number_brackets("见附件[2019]，共5页") == "见附件[2019]，共5页"  # no 号 after it: not a 文号


def test_reference_with_a_parenthesised_year():
    """《title》（文号） with the year in （）: the 文号 is the shared pattern, so it is read as a 文号."""
    (m,) = find_refs("按照《关于加强管理的通知》（甬政发（2020）8号）执行。")
    assert (m.kind, m.title, m.doc_number) == ("document", "关于加强管理的通知", "甬政发（2020）8号")


# ------------------------------------------------------------------ document types


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("中华人民共和国民法典", "法律"),
        ("中华人民共和国行政复议法（2023年修订）", "法律"),
        ("个体工商户条例", "条例"),
        ("宁波市养犬管理办法", "办法"),  # not 法律 because it ends in 法
        ("某市物业管理条例实施细则", "细则"),
        ("关于进一步加强安全生产工作的通知", "通知"),
        ("关于禁止燃放烟花爆竹的通告", "通告"),
        ("最高人民法院关于审理劳动争议案件适用法律问题的解释（一）", "司法解释"),
        ("2023年市场监管工作要点", "要点"),
        ("2024年度工作计划3篇", "计划"),
        ("关于某某的复函", "函"),
        ("宁波市城市概况", "其他"),
    ],
)
def test_doc_type(title, kind):
    assert doc_type(title) == kind


def test_type_lists():
    assert DOC_TYPES.index("办法") < DOC_TYPES.index("法")  # longest first
    assert set(LAW_TYPES) <= set(DOC_TYPES)
    (m,) = find_refs("本实施细则第三条所称")
    assert (m.kind, m.article) == ("self", "第三条")


# ------------------------------------------------------------------ titles


def test_normalise_title():
    titles = ("《中华人民共和国民法典》", "个体工商户条例(2016-02-06)", "物业管理条例（2020年修订）", "关于 印发的通知")
    assert [normalise_title(t) for t in titles] == ["民法典", "个体工商户条例", "物业管理条例", "关于印发的通知"]


def test_title_lookup():
    lookup = TitleLookup.build([
        ("new", "中华人民共和国行政复议法", "主席令第9号"),
        ("old", "行政复议法(2017-09-01)", None),
        ("plan", "宁波市养犬管理办法", "甬政发〔2020〕8号"),
        ("code", "民法典", None),
    ])  # fmt: skip
    assert lookup.by_title["行政复议法"] == ("new", "old")
    assert lookup.find("《行政复议法》") == "new"
    assert lookup.find(None, "甬政发[2020]8号") == "plan"
    assert lookup.find("某法", "国发〔2019〕5号") is None
    assert lookup.named("依照行政复议法和宁波市养犬管理办法") == ["new", "old", "plan"]
    assert lookup.named("民法典") == ["code"]


def _doc(doc_id: str, title: str, date: str | None, revised: bool = False, number: str | None = None) -> DocInfo:
    return DocInfo(doc_id, f"/lib/{doc_id}.txt", title, "0" * 64, "txt", date=date, doc_number=number, revised=revised)


def test_titles_of_a_store_newest_first_and_rebuilt_when_its_documents_change():
    store = SimpleNamespace(docs={
        "a": _doc("a", "某市物业管理条例", "2019-01-01"),
        "b": _doc("b", "某市物业管理条例（修订）", "2023-05-01", number="甬政发〔2023〕3号"),
        "c": _doc("c", "某市物业管理条例", "2023-05-01", revised=True),
    })  # fmt: skip
    lookup = titles_of(store)
    assert lookup.by_title["某市物业管理条例"] == ("c", "b", "a")  # same date: the one marked 修订 first
    assert titles_of(store) is lookup  # built once per state
    store.docs = {**store.docs, "d": _doc("d", "某市物业管理条例", "2024-01-01")}
    assert titles_of(store).find("某市物业管理条例") == "d"


# ------------------------------------------------------------------ defined once


def _literals(path: Path) -> Iterator[tuple[ast.stmt, int, str]]:
    """(statement, line, text) of each string literal in code (an f-string's literal parts joined); no docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            skip.add(id(first.value))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
    for stmt in ast.walk(tree):
        if not isinstance(stmt, ast.stmt) or isinstance(stmt, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                yield stmt, node.lineno, text
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                yield stmt, node.lineno, node.value


_NUMERAL_RUN = re.compile("|".join("一二三四五六七八九"[i : i + 5] for i in range(5)))  # 一二三四五, 二三四五六 …
_TYPE_WORDS = frozenset(DOC_TYPES)


def _vocabulary_outside_text(path: Path, root: Path = REPO) -> list[str]:
    found: list[str] = []
    types: dict[int, set[str]] = {}
    for stmt, line, text in _literals(path):
        where = f"{path.relative_to(root)}:{line}"
        if _NUMERAL_RUN.search(text):
            found.append(f"{where}: a numeral character set {text[:40]!r}")
        if ("〔" in text or "〕" in text) and "号" in text and "\\d" in text:
            found.append(f"{where}: a 文号 pattern {text[:40]!r}")
        words = {w.strip("()?:^$ ") for w in text.split("|")}
        types.setdefault(id(stmt), set()).update(words & _TYPE_WORDS)
        if len(types[id(stmt)]) >= 4:
            found.append(f"{where}: a list of document types {sorted(types[id(stmt)])}")
            types[id(stmt)] = set()
    return found


def test_the_vocabulary_is_defined_only_in_rag_text():
    modules = [p for p in PACKAGE.rglob("*.py") if TEXT not in p.parents]
    assert len(modules) > 50
    found = [f for p in modules for f in _vocabulary_outside_text(p)]
    assert not found, "define these in rag/text/vocab.py and import them:\n" + "\n".join(found)


def test_the_scan_sees_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        '"""Docstring: 国发〔2019〕5号 and 一二三四五 are fine here."""\n'
        "import re\n"
        "# a comment: 零一二三四五六七八九\n"
        '_CN = "零〇一二三四五六七八九十"\n'
        'NO = re.compile(rf"[{X}]{{1,12}}\\s*[〔\\[]\\d{{4}}[〕\\]]\\s*\\d+号")\n'
        'KINDS = ("通知", "意见", "办法", "条例")\n',
        encoding="utf-8",
    )
    found = _vocabulary_outside_text(bad, tmp_path)
    assert [f.split(": ")[0] for f in found] == ["bad.py:4", "bad.py:5", "bad.py:6"]
    assert [f.split(": ")[1].split(" ")[1] for f in found] == ["numeral", "文号", "list"]


def test_vocabulary_functions_are_defined_once():
    names = {"normalise_title", "doc_type", "doc_number_key", "titles_of", "cn_int", "cn_number", "find_doc_number"}
    defined: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names | {"TitleLookup", "Titles"}:
                defined.setdefault(node.name, []).append(str(path.relative_to(REPO)))
    assert {k: len(v) for k, v in defined.items() if len(v) > 1} == {}
    assert "Titles" not in defined
    assert all(p.startswith(("rag/text/", "rag/storage/titles.py")) for v in defined.values() for p in v), defined
