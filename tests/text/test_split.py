from __future__ import annotations

import re

import pytest

from rag.reading.load import iter_files, load_file
from rag.text.clean import clean_spans
from rag.text.split import split_clauses, split_document, split_long
from tests.conftest import CIVIL_CODE, GETIHU, LAWS, LOCAL_REGS, REPO, SAMPLE, needs_shared


def _view(clauses):
    return [(c.label, " › ".join(c.headings), c.part) for c in clauses]


def test_golden_small_policy():
    text = (REPO / "tests" / "data" / "policy_small.txt").read_text(encoding="utf-8")
    cs = split_clauses(text)
    assert _view(cs) == [
        ("", "", 0),
        ("1.", "一、强化监管执法 › (一)完善双随机机制", 0),
        ("2.", "一、强化监管执法 › (一)完善双随机机制", 0),
        ("(二)", "一、强化监管执法", 0),
        ("二、", "", 0),
    ]
    # a heading with no body of its own travels with its first child
    assert cs[1].text == "一、强化监管执法\n\n  (一)完善双随机机制\n\n  1.双随机抽查比例不低于5%。"
    assert cs[3].text == "(二)加强信用监管\n\n  对失信主体实施联合惩戒。"
    assert cs[4].text == "二、优化营商环境\n\n  推进登记便利化。"
    for c in cs:
        assert text[c.start : c.end] == c.text


def test_golden_sample_structure():
    text = SAMPLE.read_text(encoding="utf-8")
    cs = split_clauses(text)
    by_label = {(c.label, c.headings): c for c in cs}
    c8 = by_label[("8.", ("篇1", "一、依法行政工作", "(三)加强“互联网+监管”平台应用"))]
    assert c8.text.startswith("(三)加强“互联网+监管”平台应用,全面拓展民政事务监管范围")
    assert "监管比例达到20%以上" in c8.text
    assert ("(十)", ("篇1", "二、法治宣传教育")) in by_label
    assert ("二要", ("篇2", "二、抓整改是基础")) in by_label
    assert ("三是", ("篇3", "二、明确任务")) in by_label
    parts = [c.label for c in cs if c.label.startswith("篇")]
    assert sorted(set(parts)) == ["篇1", "篇2", "篇3"]
    assert sum(1 for c in cs if re.fullmatch(r"\d+\.", c.label)) == 20  # items 1.–20. of 篇1
    assert len(cs) == 65


@needs_shared
def test_golden_civil_code_book_chapter_section():
    doc = load_file(CIVIL_CODE / "总则.md")
    cs = split_clauses(doc.text, doc_id=doc.doc_id, base_headings=doc.base_headings)
    arts = [c for c in cs if c.label.startswith("第")]
    assert len(arts) == 204 and arts[0].label == "第一条" and arts[-1].label == "第二百零四条"
    c54 = next(c for c in cs if c.label == "第五十四条")
    assert c54.headings == ("总则", "第二章 自然人", "第四节 个体工商户和农村承包经营户")
    # first article of a section: the section heading stays with it
    assert c54.text.startswith("### 第四节")
    assert c54.text.endswith("\n\n第五十四条 自然人从事工商业经营，经依法登记，为个体工商户。个体工商户可以起字号。")
    # the chapter heading is kept with the first article under it, not lost
    assert cs[0].text.startswith("## 第一章\u2002\u2002基本规定\n\n第一条 为了保护民事主体的合法权益")


@needs_shared
def test_golden_regulation_articles_keep_their_paragraphs():
    doc = load_file(GETIHU)
    cs = split_clauses(doc.text, doc_id=doc.doc_id)
    assert [c.label for c in cs[:3]] == ["第一条", "第二条", "第三条"]
    assert cs[1].text == (
        "第二条 有经营能力的公民，依照本条例规定经工商行政管理部门登记，从事工商业经营的，为个体工商户。\n\n"
        "个体工商户可以个人经营，也可以家庭经营。\n\n个体工商户的合法权益受法律保护，任何单位和个人不得侵害。"
    )
    assert doc.title == "个体工商户条例" and doc.date == "2016-02-06"


def test_enumerations_inside_an_article_stay_in_it():
    text = "第一条 总则。\n\n第二条 下列情形：\n（一）甲；\n（二）乙。\n\n第三条 附则。"
    cs = split_clauses(text)
    assert [c.label for c in cs] == ["第一条", "第二条", "第三条"]
    assert cs[1].text == "第二条 下列情形：\n（一）甲；\n（二）乙。"


def test_long_clause_splits_at_sentence_ends_with_path_repeated():
    body = "".join(f"第{i}句内容比较长一些用于测试切分。" for i in range(60))
    text = f"一、总体要求\n\n（一）工作目标\n\n1.{body}"
    cs = split_clauses(text, max_chars=200)
    assert len(cs) > 3
    assert all(len(c.text) <= 200 for c in cs)
    assert {c.label for c in cs} == {"1."} and [c.part for c in cs] == list(range(len(cs)))
    assert all(c.headings == ("一、总体要求", "（一）工作目标") for c in cs)
    assert all(c.text.endswith("。") for c in cs)
    assert "".join(c.text for c in cs).replace("\n", "").replace(" ", "") == text[text.index("一") :].replace(
        "\n", ""
    ).replace(" ", "")


def test_split_long_hard_cuts_a_sentence_without_ends():
    text = "甲" * 450
    assert split_long(text, 0, 450, 200) == [(0, 200), (200, 400), (400, 450)]


def _tiles(text, spans, clauses):
    ws = re.compile(r"\s+")
    body = ws.sub("", "".join(text[s:e] for s, e in spans))
    joined = ws.sub("", "".join(c.text for c in clauses))
    ordered = all(a.end <= b.start for a, b in zip(clauses, clauses[1:]))
    inside = all(any(s <= c.start and c.end <= e for s, e in spans) for c in clauses)
    return body == joined and ordered and inside


@needs_shared
@pytest.mark.parametrize("root", [LAWS, LOCAL_REGS, SAMPLE.parent])
def test_property_spans_tile_the_cleaned_body(root):
    """Over every shared document: no body text lost or duplicated, spans verbatim."""
    n = 0
    for f in iter_files([root]):
        doc = load_file(f)
        spans = doc.spans  # cleaned, 公文 zones (title, 主送, 署名, 成文日期, 版记…) left out
        assert all(any(s0 <= s and e <= e0 for s0, e0 in clean_spans(doc.text)) for s, e in spans), f
        cs = split_document(doc)
        assert all(doc.text[c.start : c.end] == c.text for c in cs), f
        assert _tiles(doc.text, spans, cs), f
        n += 1
    assert n > 0
