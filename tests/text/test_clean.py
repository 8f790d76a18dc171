from __future__ import annotations

from rag.text.clean import clean_spans, cleaned_text, is_chrome
from tests.conftest import SAMPLE

CHROME = ["小编", "推荐访问", "版权所有", "当前位置", "备案号", "浏览量"]


def test_chrome_lines_recognised_by_general_rules():
    assert is_chrome("当前位置:某某网>范文大全 > 党建材料")
    assert is_chrome("您的位置：首页 > 通知公告")
    assert is_chrome("时间:2022-06-18 12:35:06 党建材料 浏览量:")
    assert is_chrome("发布时间：2021-03-01 来源：某某局")
    assert is_chrome("  开头摘录，下面是某某网小编给大家带来的工作要点,希望大家喜欢。")
    assert is_chrome("推荐访问:工作计划 党建 教育系统")
    assert is_chrome("相关推荐：2023年工作总结")
    assert is_chrome("版权所有:某某网 2018-2024 未经授权禁止复制")
    assert is_chrome("Powered by 某某网 © All Rights Reserved.。备案号:皖ICP备18025488号-2")


def test_body_lines_that_mention_chrome_words_are_kept():
    # real legal text mentions 备案号 and 版权 without being chrome
    assert not is_chrome("侵权嫌疑货物涉嫌侵犯备案知识产权的，申请书还应当包括海关备案号。")
    assert not is_chrome("九、为了明确双方的权利和义务，每个合作项目都应签订有一定时限的合同。对于版权所有者的权益")
    assert not is_chrome("一、依法行政工作")
    assert not is_chrome("时间紧迫，任务繁重，各县(市、区)教育行政部门要提升政治站位。")


def test_golden_clean_small_fixture(data_dir=None):
    from tests.conftest import REPO

    text = (REPO / "tests" / "data" / "policy_small.txt").read_text(encoding="utf-8")
    kept = cleaned_text(text, sep="|")
    assert kept == (
        "2023年市场监管工作要坚持稳中求进。\n\n  一、强化监管执法\n\n  (一)完善双随机机制\n\n"
        "  1.双随机抽查比例不低于5%。\n\n  2.抽查结果全部公示。\n\n  (二)加强信用监管\n\n"
        "  对失信主体实施联合惩戒。\n\n  二、优化营商环境\n\n  推进登记便利化。"
    )


def test_spans_are_verbatim_slices_and_ordered():
    text = SAMPLE.read_text(encoding="utf-8")
    spans = clean_spans(text)
    assert spans == sorted(spans)
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))


def test_sample_has_no_chrome_after_cleaning():
    text = SAMPLE.read_text(encoding="utf-8")
    kept = cleaned_text(text)
    for word in CHROME:
        assert word in text  # the raw page has it …
        assert word not in kept, word  # … the cleaned body does not
    assert "双随机任务关联信用规则率不低于90%" in kept


def test_lawrefbook_header_block_dropped():
    text = "# 某条例\n\n2011年4月16日 国务院令第596号公布\n\n<!-- INFO END -->\n\n第一条 为了规范。\n"
    assert cleaned_text(text) == "第一条 为了规范。"
