"""Sentence windows (`rag.text.windows`): golden outputs on tiny Chinese fixtures."""

from __future__ import annotations

from rag.text.windows import one_sentence, sentence_windows, sentences

LONG = "第五条 各级部门应当加强监管。抽查比例不低于百分之五；抽查结果全部公示！对违法行为依法处理？"


def test_sentences_cut_after_stops_and_at_line_ends():
    got = sentences("一是加强领导。二是压实责任；\n三是强化督查\n\n")
    assert got == ["一是加强领导。", "二是压实责任；", "三是强化督查"]
    assert sentences("") == [] and sentences("  \n ") == []


def test_windows_are_runs_of_two_sentences_of_a_long_clause():
    assert sentence_windows(LONG, min_chars=20) == [
        "第五条 各级部门应当加强监管。抽查比例不低于百分之五；",
        "抽查比例不低于百分之五；抽查结果全部公示！",
        "抽查结果全部公示！对违法行为依法处理？",
    ]
    three = sentence_windows(LONG, min_chars=20, size=3)
    assert three == [
        "第五条 各级部门应当加强监管。抽查比例不低于百分之五；抽查结果全部公示！",
        "抽查比例不低于百分之五；抽查结果全部公示！对违法行为依法处理？",
    ]


def test_no_windows_for_short_clauses_single_sentences_or_when_off():
    assert sentence_windows(LONG, min_chars=len(LONG)) == []  # not longer than min_chars
    assert sentence_windows(LONG, min_chars=0) == []  # off
    assert sentence_windows("甲" * 300, min_chars=20) == []  # one sentence: the clause itself
    two = "甲" * 30 + "。" + "乙" * 30
    assert sentence_windows(two, min_chars=20) == ["甲" * 30 + "。", "乙" * 30]  # two sentences: each alone


def test_one_sentence_questions_and_stories_told_before_the_question():
    assert one_sentence("劳动合同到期不续签，公司要赔偿吗？")
    assert one_sentence("双随机抽查比例要达到多少")
    assert one_sentence("老外 住酒店 报备 派出所")
    assert one_sentence("  ？")  # nothing but a stop: no second sentence
    assert not one_sentence("某公司与员工签订了劳动合同。合同到期后公司不续签，根据哪条规定应当支付补偿？")
    assert not one_sentence("我在上海工作; 公司欠薪怎么办?")  # ASCII stops count too
    assert not one_sentence("第一行\n第二行")
