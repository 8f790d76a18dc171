"""新旧对照 (#22 item 1): clause alignment across versions, marked changes, `rag diff`, and the
alignment accuracy on hand-labelled law pairs (slow; reads ../shared/corpora/laws)."""

from __future__ import annotations

import io
import json

import pytest

from rag.embedding.embed import parse_spec
from rag.reading.load import load_file
from rag.text.align import Change, align, diff_text
from rag.text.split import split_document
from tests.conftest import LAWS, run_cli

TITLE = "某市困难职工帮扶资金管理办法"
OLD = """某市困难职工帮扶资金管理办法

第一条 为了规范困难职工帮扶资金管理，制定本办法。
第二条 帮扶资金由市总工会统一管理。
第三条 申请人应当在收到通知之日起三十日内提交申请材料。
第四条 补助标准为每人每月200元，由县级人民政府发放。
第五条 申请人应当如实填报家庭收入情况。对虚报冒领的，责令退回，并处一千元以上五千元以下的罚款。
第六条 市总工会每年向职工代表大会报告帮扶资金使用情况。
第七条 帮扶资金实行专户管理，专款专用。年度结余资金结转下年使用，不得挪作他用。
第八条 本办法自2020年1月1日起施行。
"""
NEW = """某市困难职工帮扶资金管理办法

第一条 为了规范困难职工帮扶资金管理，制定本办法。
第二条 帮扶资金由市总工会统一管理。
第三条 帮扶对象应当具有本市户籍，并持有困难职工证。
第四条 申请人应当在收到通知之日起十五日内提交申请材料。
第五条 补助标准为每人每月300元，由市人民政府发放。
第六条 申请人应当如实填报家庭收入情况。对虚报冒领的，责令退回，并处二千元以上一万元以下的罚款。
第七条 帮扶资金实行专户管理，专款专用。
第八条 年度结余资金结转下年使用，不得挪作他用。
第九条 本办法自2024年3月1日起施行。
"""
# (old label, new label, status, changes): renumbered after an inserted article, a removed one, a split one
GOLDEN = [
    ("第一条", "第一条", "same", []),
    ("第二条", "第二条", "same", []),
    (None, "第三条", "added", []),
    ("第三条", "第四条", "changed", [("deadline", "三十日内", "十五日内")]),
    ("第四条", "第五条", "changed", [("figure", "200元", "300元"), ("body", "县级人民政府", "市人民政府")]),
    ("第五条", "第六条", "changed", [("penalty", "一千元以上五千元以下的罚款", "二千元以上一万元以下的罚款")]),
    ("第六条", None, "removed", []),
    ("第七条", "第七条", "changed", []),  # split: each new article against its part of the old one
    ("第七条", "第八条", "changed", []),
    ("第八条", "第九条", "changed", [("date", "2020年1月1日", "2024年3月1日")]),
]


@pytest.fixture()
def library(tmp_path):
    lib = tmp_path / "library"
    lib.mkdir()
    (lib / f"{TITLE}(2020-01-01).txt").write_text(OLD, encoding="utf-8")
    (lib / f"{TITLE}(2024-03-01).txt").write_text(NEW, encoding="utf-8")
    return lib


def _rows(pairs):
    return [(p.old.label if p.old else None, p.new.label if p.new else None, p.status,
             [(c.kind, c.old, c.new) for c in p.changes]) for p in pairs]  # fmt: skip


def test_policy_revision_pairs_and_changes(library):
    old, new = (  # the two versions
        split_document(load_file(library / f"{TITLE}({d}).txt"))
        for d in ("2020-01-01", "2024-03-01")
    )
    pairs = align(old, new)
    assert _rows(pairs) == GOLDEN
    assert pairs[3].old.text == "第三条 申请人应当在收到通知之日起三十日内提交申请材料。"  # verbatim, from the label on
    assert pairs[3].new.body == "申请人应当在收到通知之日起十五日内提交申请材料。"


@pytest.mark.parametrize(
    "old, new, changes",
    [
        ("自知道之日起六十日提出申请", "自知道之日起六十日内提出申请", [("deadline", "六十日", "六十日内")]),
        ("由国务院规定", "由县级以上人民政府规定", [("body", "国务院", "县级以上人民政府")]),
        ("比例不低于百分之三十", "比例不低于百分之四十", [("figure", "百分之三十", "百分之四十")]),
        ("可以书面申请，也可以口头申请", "可以书面申请；书面申请有困难的，也可以口头申请",
         [("text", "", "；书面申请有困难的")]),
    ],
)  # fmt: skip
def test_changes_are_typed_and_widened_to_the_whole_figure(old, new, changes):
    assert [(c.kind, c.old, c.new) for c in diff_text(old, new)] == changes


def test_typed_changes_come_before_word_changes():
    got = diff_text("申请人应当在三十日内提交书面材料", "申请人可以在十五日内提交材料")
    assert got[0] == Change("deadline", "三十日内", "十五日内")
    assert {c.kind for c in got[1:]} == {"text"}


@pytest.fixture()
def index(library, tmp_path):
    from rag.ingest.pipeline import ingest

    d = tmp_path / "index"
    ingest([library], d, parse_spec("hash:64"), show_progress=False)
    return d


def test_cli_diff_json(index, capsys):
    rc, out, _ = run_cli(capsys, "diff", f"{TITLE}(2020-01-01)", f"{TITLE}(2024-03-01)", "--index", str(index),
                         "--json")  # fmt: skip
    assert rc == 0
    data = json.loads(out)
    assert set(data) == {"old", "new", "pairs"}
    assert data["old"]["title"] == TITLE and data["old"]["date"] == "2020-01-01" and data["new"]["date"] == "2024-03-01"
    assert [(p["old_label"], p["new_label"], p["status"], [(c["kind"], c["old"], c["new"]) for c in p["changes"]])
            for p in data["pairs"]] == GOLDEN  # fmt: skip
    assert set(data["pairs"][2]) == {"old_label", "new_label", "status", "old_text", "new_text", "changes"}
    assert data["pairs"][2]["old_text"] is None and data["pairs"][6]["new_text"] is None


def test_cli_diff_defaults_to_the_replacing_version_and_names_ambiguous_titles(index, capsys):
    rc, out, _ = run_cli(capsys, "diff", f"{TITLE}(2020-01-01)", "--index", str(index), "--json")
    assert rc == 0 and json.loads(out)["new"]["date"] == "2024-03-01"
    rc, out, err = run_cli(capsys, "diff", TITLE, f"{TITLE}(2024-03-01)", "--index", str(index))
    assert rc == 2 and "names 2 documents" in err and "2020-01-01" in err and "2024-03-01" in err


def test_cli_diff_markdown_and_docx_tables(index, tmp_path, capsys):
    rc, out, _ = run_cli(capsys, "diff", f"{TITLE}(2020-01-01)", "--index", str(index), "--format", "md")
    assert rc == 0
    assert "| 原条文 | 新条文 | 变化 |" in out
    assert ("| 第三条 申请人应当在收到通知之日起三十日内提交申请材料。 | 第四条 申请人应当在收到通知之日起十五日内"
            "提交申请材料。 | 期限：三十日内 → 十五日内 |") in out  # fmt: skip
    assert "| 第六条 市总工会每年向职工代表大会报告帮扶资金使用情况。 | — | 删除 |" in out
    target = tmp_path / "对照表.docx"
    rc, _, _ = run_cli(capsys, "diff", f"{TITLE}(2020-01-01)", "--index", str(index), "--format", "docx",
                       "-o", str(target))  # fmt: skip
    assert rc == 0
    import docx

    table = docx.Document(io.BytesIO(target.read_bytes())).tables[0]
    assert [c.text for c in table.rows[0].cells] == ["原条文", "新条文", "变化"]
    assert [c.text for c in table.rows[5].cells] == [
        "第四条 补助标准为每人每月200元，由县级人民政府发放。",
        "第五条 补助标准为每人每月300元，由市人民政府发放。",
        "数字：200元 → 300元\n机关：县级人民政府 → 市人民政府",
    ]


@pytest.mark.slow
@pytest.mark.skipif(not LAWS.is_dir(), reason="../shared/corpora/laws not present")
def test_law_pairs_alignment_accuracy():
    """Five law pairs labelled by hand (tests/data/diff_law_pairs.jsonl): the table and its floor."""
    from rag.evaluation.diff_eval import align_files, evaluate, table

    scores = evaluate()
    print(table(scores))
    by_law = {s.law: s for s in scores}
    assert len(scores) == 5
    assert by_law["对外贸易法"].strict_share == 1.0 and by_law["统计法"].strict_share == 1.0
    assert sum(s.strict for s in scores) / sum(s.articles for s in scores) >= 0.9
    pairs = align_files(LAWS / "经济法/统计法(2009-06-27).md", LAWS / "经济法/统计法(2024-09-13).md")
    p = next(p for p in pairs if p.old and p.old.label == "第四十一条")
    assert p.new.label == "第四十四条"
    assert Change("penalty", "五万元以下的罚款", "十万元以下的罚款") in p.changes
    pairs = align_files(LAWS / "诉讼与非诉讼程序法/行政复议法(2017-09-01).md",
                        LAWS / "诉讼与非诉讼程序法/行政复议法(2023-09-01).md")  # fmt: skip
    labels = {(p.old.label, p.new.label) for p in pairs if p.old and p.new}
    assert {("第九条", "第二十条"), ("第三十一条", "第六十二条")} <= labels
    p = next(p for p in pairs if p.old and p.old.label == "第四十三条")
    assert Change("date", "1999年10月1日", "2024年1月1日") in p.changes
