from __future__ import annotations

import pytest

from rag.text.editions import edition, names_a_year


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("江城市2024年政务服务工作要点", ("江城市#政务服务工作要点", 2024)),
        ("江城市2023年政务服务工作要点", ("江城市#政务服务工作要点", 2023)),
        ("关于开展2024年度机关公文处理工作检查的通知", ("关于开展#机关公文处理工作检查的通知", 2024)),
        ("某市2023—2025年行动计划", ("某市#行动计划", 2025)),  # a span: its last year
        ("某市2021-2023年行动计划", ("某市#行动计划", 2023)),
        ("中华人民共和国宪法修正案（1988年）", None),  # an amendment's mark, not a yearly series
        ("中华人民共和国民法典", None),
        ("关于印发12345热线工作规范的通知", None),
    ],
)
def test_edition(title, expected):
    assert edition(title) == expected


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("今年要新增多少个一件事", False),  # this year: the newest edition
        ("每年培训几次", False),
        ("马上年底前要完成什么", False),
        ("12345工单逾期没办结会有什么后果", False),
        ("2023年要新增多少个一件事", True),
        ("2023要新增多少", True),
        ("二〇二三年的目标是什么", True),
        ("去年新增了多少", True),
        ("上年度完成了多少", True),
    ],
)
def test_names_a_year(question, names):
    assert names_a_year(question) is names
