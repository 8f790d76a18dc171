"""Extractive answers: golden outputs on tiny clauses (figures, dates, bodies; principles, procedures,
lists, reasons), exact spans over the sample index and gold spans, the answer-span set's concise floor."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answers.extract import (
    asked_units,
    candidates,
    extract,
    marker_runs,
    marks,
    question_focus,
    question_kind,
    segments,
)
from rag.search.retrieve import Hit
from rag.storage.store import DocInfo
from rag.text.split import Clause
from tests.conftest import LOCAL_REGS, REPO, needs_shared

DOC = DocInfo(doc_id="d1", source="d1.txt", title="某市管理条例", sha256="x", kind="txt")


def hit(rank: int, text: str, label: str = "第一条") -> Hit:
    c = Clause("d1", rank - 1, label, (), text, 0, len(text))
    return Hit(rank, 1.0 / rank, c, DOC, f"《某市管理条例》 › {label}")


HITS = [
    hit(1, "第十条 用水单位应当在接到通知之日起30日内办理手续。逾期未办理的，处5000元以下罚款。"),
    hit(2, "第十一条 县级以上人民政府生态环境主管部门负责本行政区域大气污染防治的监督管理。"),
    hit(3, "第十二条 抽查比例不低于5%，掌上执法率达到95%，检查结果公示率达到100%。每年开展检查不少于2次。"),
]


def _exact(answer, hits) -> None:
    by_rank = {h.rank: h for h in hits}
    for s in answer.sentences:
        assert by_rank[s.span.rank].clause.text[s.span.start : s.span.end] == s.span.text == s.text
    if answer.short is not None:
        sh = answer.short
        assert by_rank[sh.rank].clause.text[sh.start : sh.end] == sh.text


UNIT_HITS = [
    hit(1, "第十五条 公共体育设施必须对社会开放，开放时间每年不得少于300天，每天不得少于8小时。"),
    hit(2, "（三）扩大就业见习规模。全年募集就业见习岗位不少于3000个，对吸纳就业见习的单位，按当地最低工资标准的"
           "70%给予见习补贴；见习期满留用率达到50%以上的，补贴标准提高到80%。"),  # fmt: skip
    hit(3, "2024年，全县农村卫生厕所普及率达到92%以上，新改造户厕3200户；发生险情后，乡镇应当在30分钟内电话报告。"),
    hit(4, "（一）自查阶段（7月1日至7月31日）。各单位开展自查，形成自查报告，于7月31日前报送市政府办公室。"
           "自查报告一般不超过3000字。"),  # fmt: skip
]


@pytest.mark.parametrize(
    "question, short, rank",
    [
        ("公共体育设施每天开放时间不得少于几小时", "每天不得少于8小时", 1),  # not the first figure, 300天
        ("公共体育设施每年开放不少于多少天", "每年不得少于300天", 1),
        ("单位接收就业见习给多少补贴", "70%", 2),  # a subsidy as a share: not 不少于3000个
        ("发生险情后多长时间内电话报告", "30分钟内", 3),  # minutes are a deadline too
        ("今年全县改造多少户厕所", "3200户", 3),  # not 达到92%以上
        ("自查报告写多少字合适", "不超过3000字", 4),  # not 7月31日
    ],
)
def test_a_short_span_has_the_unit_the_question_asks_for(question, short, rank):
    hits = [hit(1, UNIT_HITS[rank - 1].clause.text)]  # the clause alone: the unit decides within it
    a = extract(question, hits)
    assert a.short is not None and a.short.text == short
    _exact(a, hits)


@pytest.mark.parametrize(
    "question, clause, short",
    [
        # 万 inside a figure; 多快 asks for a time
        ("防汛编织袋县里要储备多少", "县级防汛物资储备编织袋不少于5万条、救生衣不少于2000件。", "不少于5万条"),
        ("发布预警后乡镇要多快通知到户", "发布红色预警后，相关乡镇要在1小时内将预警信息通知到户。", "1小时内"),
        ("救助资金每个月几号之前发到位", "市民政局每年开展一次绩效评价，救助资金于每月10日前发放到位。", "每月10日前"),
        ("员工报告隐患的奖励标准", "对报告重大事故隐患的员工给予不低于1000元的奖励。", "不低于1000元"),
        ("献全血两次之间要隔多久", "捐献全血的，献血间隔期不少于六个月。", "不少于六个月"),  # with its comparator
        ("公文检查结果在效能考核里占几分", "检查结果纳入年度机关效能考核，所占分值为3分。", "3分"),
        ("学校附近多远以内不能开网吧", "在学校周边二百米范围内不得设置互联网上网服务营业场所。", "二百米范围内"),
        ("实地抽查抽多少单位", "实地抽查的单位不少于三分之一。", "不少于三分之一"),  # a fraction; 分 never cuts it
        # what an amount is counted per stays with it
        ("转移安置群众一天补助多少钱", "转移人员的临时生活补助按每人每天50元标准发放。", "每人每天50元"),
        ("海淀区占用耕地每平方米交多少税", "海淀区、丰台区为每平方米四十五元；", "每平方米四十五元"),
        ("特困人员里未成年人的年龄界限是多少", "本办法所称未成年人，是指未满十六周岁的公民。", "未满十六周岁"),
        # when it takes effect: the date 起施行, not the repealed document's (which may share its very title)
        ("浙江省基本农田保护条例从哪天起施行",
         "第十九条 本条例自2002年12月1日起施行。1994年8月31日浙江省第八届人民代表大会常务委员会第十二次会议通过的"
         "《浙江省基本农田保护条例》同时废止。", "2002年12月1日起"),
        ("北京市体育设施管理条例什么时候开始施行",
         "第三十条 本条例自2000年1月1日起施行。1996年7月30日北京市人民政府发布的《北京市公共体育场所管理办法》"
         "同时废止。",
         "2000年1月1日起"),
        # units of measure: 摄氏度, 毫升
        ("供暖期间卧室室温不能低于多少度", "供热企业应当保证采暖供热期内用户卧室、起居室的温度不低于十八摄氏度。",
         "不低于十八摄氏度"),
        ("献全血一次最多不能超过多少毫升", "捐献全血的，每次献血量一般为二百毫升，最多不超过四百毫升。",
         "不超过四百毫升"),
        # two figures a choice is given between
        ("不合格食品除赔偿损失外还能要几倍的赔偿金",
         "消费者除要求赔偿损失外，还可以要求支付价款十倍或者损失三倍的赔偿金。", "十倍或者损失三倍"),
        # 分别: the figure in the place of the item the question names
        ("全护理的特困人员护理费按最低工资的百分之几算",
         "全自理、半护理、全护理特困人员照料护理标准分别按照当地最低工资标准的5%、20%、40%确定。", "40%"),
        ("半护理的特困人员护理标准是多少",
         "全自理、半护理、全护理特困人员照料护理标准分别按照当地最低工资标准的5%、20%、40%确定。", "20%"),
        ("汛期下大雨时水库多久巡查一次", "汛期遇强降雨时，水库每2小时1次巡查。", "每2小时1次"),
        # how often: 每季度 answers 多久…一次
        ("饭店油烟净化设施多久清洗一次",
         "餐饮业经营者应当及时清洗维护油烟净化设施，信息保存期限不少于两年。排放油烟的餐饮服务经营者至少每季度对油烟"
         "净化设施进行一次清洗维护。", "至少每季度"),
        # 怎么罚 asks for the fine
        ("从高空抛掷物品怎么罚", "从建筑物中抛掷物品的，由公安机关责令改正，处一千元以上三千元以下罚款。",
         "一千元以上三千元以下"),
        # a generic head alone (…的组织领导 -> 组织) is no body
        ("本地区退役军人安置工作由谁统筹实施",
         "地方各级退役军人事务工作领导机构负责本地区退役军人安置工作的组织领导和统筹实施。",
         "地方各级退役军人事务工作领导机构"),
        # a body ends where the wording of the action starts (依照前款规定)
        ("重大食品安全事故由哪个部门组织调查",
         "涉及两个以上省的重大食品安全事故由国务院食品安全监督管理部门依照前款规定组织事故责任调查。",
         "国务院食品安全监督管理部门"),
        # never from inside a word of the action (可以委托 -> not 以委托…)
        ("养犬登记申请由谁受理",
         "区市容环境卫生行政主管部门可以委托街道办事处受理居民养犬登记申请。",
         "街道办事处"),
        # a body named by its duty
        ("重大事故隐患排查治理情况向谁报告",
         "重大事故隐患排查治理情况应当及时向负有安全生产监督管理职责的部门和职工大会报告。",
         "负有安全生产监督管理职责的部门"),
        # a bracketed part and the levels before a body are part of its name
        ("物业服务合同报哪个部门备案",
         "物业服务企业应当将物业服务合同报送县（市、区）人民政府住房城乡建设主管部门备案。",
         "县（市、区）人民政府住房城乡建设主管部门"),
        # the relative clause that says which body, back to the word it follows (由, 向 …)
        ("两个以上行政机关共同制作的政府信息由谁负责公开",
         "两个以上行政机关共同制作的政府信息，由牵头制作的行政机关负责公开。", "牵头制作的行政机关"),
        ("对法律援助机构的决定有异议，向哪个部门提出",
         "对法律援助机构不予法律援助的决定有异议的，可以向设立该法律援助机构的司法行政部门提出。",
         "设立该法律援助机构的司法行政部门"),
        ("本行政区域的疫情信息由谁公布",
         "国务院卫生行政部门可以授权省、自治区、直辖市人民政府卫生行政部门向社会公布本行政区域的疫情信息。",
         "省、自治区、直辖市人民政府卫生行政部门"),
    ],
)
def test_short_span_patterns(question, clause, short):
    a = extract(question, [hit(1, clause)])
    assert a.short is not None and a.short.text == short


@pytest.mark.parametrize(
    "question, units",
    [
        ("补多少钱", ("元", "倍", "%", "％", "百分之")),
        ("至少要几个人", ("人", "名")),
        ("多少天内办结", ("日", "天", "工作日")),
        ("比例要达到多少", ("%", "％", "百分之", "个百分点", "‰")),
        ("什么时候开始施行", ()),
        ("年底考核排前几名的乡镇奖励多少", ("元", "倍", "%", "％", "百分之")),  # what it ends on: money, not 名
        ("今年一共要改造几个老小区", ("个",)),
    ],
)
def test_asked_units(question, units):
    assert asked_units(question) == units


@pytest.mark.parametrize(
    "question, kind",
    [("罚款是多少", "amount"), ("多长时间内办理", "time"), ("由哪个部门负责", "body"), ("如何办理手续", None)],
)
def test_question_kind(question, kind):
    assert question_kind(question) == kind


@pytest.mark.parametrize(
    "question, short, rank",
    [
        ("接到通知后多长时间内要办理手续", "30日内", 1),
        ("逾期未办理的罚款多少", "5000元以下", 1),
        ("大气污染防治由哪个部门负责监督管理", "县级以上人民政府生态环境主管部门", 2),
        ("检查结果公示率要达到多少", "达到100%", 3),
        ("掌上执法率是多少", "达到95%", 3),
        ("每年检查几次", "不少于2次", 3),
    ],
)
def test_short_spans_golden(question, short, rank):
    a = extract(question, HITS)
    assert a.mode == "extractive"
    assert a.short is not None and a.short.text == short and a.short.rank == rank
    assert len(a.sentences) == 1 and a.sentences[0].citations == (rank,) and a.sentences[0].verified
    assert a.sentences[0].reason == f"verbatim from clause [{rank}]"
    assert short in a.text
    _exact(a, HITS)


def test_a_discourse_word_before_a_generic_head_names_no_body():
    a = extract("由哪个部门负责联合抽查", [hit(1, "其中部门联合抽查比例达到20%以上。")])
    assert a.short is None  # not 其中部门


def test_sentence_answer_without_short_span():
    a = extract("用水单位应当怎样办理手续", HITS)
    assert a.short is None
    assert a.text == "第十条 用水单位应当在接到通知之日起30日内办理手续。"
    _exact(a, HITS)


def test_meaning_chooses_between_sentences_the_words_cannot_tell_apart():
    clause = "分包单位对所招用农民工的工资支付负直接责任。分包单位拖欠农民工工资的，由施工总承包单位先行清偿。"
    hits = [hit(1, clause)]
    asked = "分包单位欠了农民工的钱"

    def meaning(texts):  # the second sentence is the closer in meaning
        return np.array([0.80 if "先行清偿" in t else 0.70 for t in texts])

    assert extract(asked, hits).text.startswith("分包单位对所招用")  # by the words alone: the first
    assert extract(asked, hits, meaning=meaning).text.startswith("分包单位拖欠")


def test_an_unreachable_embedder_leaves_the_words_to_choose():
    def down(texts):
        raise OSError("connection refused")

    assert extract("罚款是多少", HITS, meaning=down).text == extract("罚款是多少", HITS).text


def test_ties_prefer_the_top_hit_and_no_hits_is_empty():
    twins = [hit(1, "甲事项应当公开。"), hit(2, "甲事项应当公开。")]
    assert extract("甲事项公开", twins).sentences[0].citations == (1,)
    assert extract("什么", []).text == ""


def test_candidates_find_figures_dates_ratios():
    text = "自2022年5月1日起施行，比例为1:3，三年内完成，百分之八十五以上。"
    found = {text[s:e] for s, e in candidates("amount", text)} | {text[s:e] for s, e in candidates("time", text)}
    assert {"2022年5月1日起", "1:3", "三年内", "百分之八十五以上"} <= found


def test_marks_span_and_one_sentence_never_whole_clause():
    a = extract("逾期未办理的罚款多少", HITS)
    m = marks("逾期未办理的罚款多少", HITS[0], a)
    text = HITS[0].clause.text
    assert (a.short.start, a.short.end) in m
    assert len(m) <= 2 and (0, len(text)) not in m
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(m, m[1:]))  # sorted, non-overlapping
    other = marks("逾期未办理的罚款多少", HITS[2], a)
    assert len(other) <= 1


def test_sample_questions_get_exact_extractive_answers(sample_index_dir):
    from rag.search.retrieve import Searcher
    from rag.storage.index import ClauseIndex

    searcher = Searcher(ClauseIndex.load(sample_index_dir))
    for line in (REPO / "tests" / "data" / "sample_questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)["query"]
        hits = searcher.search(q, k=5)
        for a in (extract(q, hits), extract(q, hits, meaning=searcher.meaning(q))):  # as `rag ask` answers
            assert a.mode == "extractive" and a.text and len(a.sentences) == 1, q
            _exact(a, hits)
            if q == "双随机抽查比例要达到多少？":
                assert a.short is not None and "20%" in a.short.text


def test_searcher_meaning_is_the_cosine_of_question_and_sentence(sample_index_dir):
    from rag.search.retrieve import Searcher
    from rag.storage.index import ClauseIndex

    searcher = Searcher(ClauseIndex.load(sample_index_dir))
    cos = searcher.meaning("双随机抽查比例要达到多少？")(["双随机抽查比例达到20%以上。", "全面加强党的政治建设。"])
    assert cos.shape == (2,) and -1 <= cos.min() and cos.max() <= 1 + 1e-6 and cos[0] > cos[1]
    assert searcher.meaning("双随机抽查比例要达到多少？", "lexical") is None  # no model loaded for a lexical search


@needs_shared
def test_answer_span_gold_occurs_in_named_clause():
    from rag.reading.load import load_file
    from rag.text.split import split_document

    rows = [json.loads(x) for x in (REPO / "tests" / "data" / "answer_spans.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) >= 110
    assert sum(r.get("kind") in FOCUS_KINDS for r in rows) >= 60
    assert len({r["qid"] for r in rows}) == len(rows)
    docs: dict = {}
    for r in rows:
        src = r["source"]
        local = src.startswith(("corpus/", "tests/"))
        path = REPO / src if local else LOCAL_REGS / src.removeprefix("local-regs/")
        if path not in docs:
            d = load_file(path)
            docs[path] = (d, split_document(d))
        d, clauses = docs[path]
        assert d.title == r["title"], r["qid"]
        assert any(c.label == r["label"] and r["answer"] in c.text for c in clauses), r["qid"]


@needs_shared
@pytest.mark.parametrize(
    "name, size", [("answer_spans_laws", 80), ("answer_spans_rules", 40), ("answer_spans_fresh", 60)]
)
def test_unseen_answer_sets_gold_occurs_in_named_clause(name, size):
    """The two answer sets over the laws and local regulations (written by reading the documents, never
    tuned on): every gold span is verbatim in a clause of its label, the title is the document's own,
    and no question copies 9 characters of its clause."""
    from rag.evaluation.answers import source_path
    from rag.reading.load import load_file
    from rag.text.split import split_document

    rows = [json.loads(x) for x in (REPO / "tests" / "data" / f"{name}.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) == size and len({r["qid"] for r in rows}) == size
    assert {r["kind"] for r in rows} <= {"amount", "time", "body", "rule", *FOCUS_KINDS}
    assert sum(r["source"].startswith("laws/") for r in rows) == size // 2
    for r in rows:
        d = load_file(source_path(r["source"]))
        assert d.title == r["title"], r["qid"]
        clause = next((c.text for c in split_document(d) if c.label == r["label"] and r["answer"] in c.text), None)
        assert clause is not None, r["qid"]
        assert not any(clause[i : i + 9] in r["query"] for i in range(len(clause) - 8)), r["qid"]


# --- why / what principle / which / how: the segment that carries the question's focus ---

FOCUS_KINDS = ("principle", "procedure", "list", "reason")


@pytest.mark.parametrize(
    "question, focus",
    [
        ("教师招聘依据什么原则", "principle"),
        ("抽查的比例和频次按照什么原则来定", "principle"),  # 比例: still no figure asked
        ("信访投诉请求应当怎样处理", "procedure"),
        ("如何办理手续", "procedure"),
        ("基础类改造包括哪些内容", "list"),
        ("县里教育眼下有哪几方面短板", "list"),  # 哪几: a list, not a figure
        ("为什么要制定这个方案", "reason"),
        ("开展检查出于什么目的", "reason"),
        ("罚款是多少", None),
        ("由哪些部门负责", None),
        ("什么时候开始施行", None),
    ],
)
def test_question_focus(question, focus):
    assert question_focus(question) == focus
    if focus is not None:
        assert question_kind(question) is None


def test_segments_cut_at_punctuation_and_markers_not_inside_quotes():
    text = "8.按照“属地管理,分级负责”的原则,合理确定比例；暂不具备条件的：一是加强领导（一）落实责任①明确分工。"
    segs = segments(text)
    assert [text[s.start : s.end] for s in segs] == [
        "8.按照“属地管理,分级负责”的原则",
        "合理确定比例",
        "暂不具备条件的",
        "一是加强领导",
        "（一）落实责任",
        "①明确分工",
    ]
    assert [s.marker for s in segs] == [("num", 8), None, None, ("say是", 1), ("paren", 1), ("circ", 1)]
    assert text[segs[0].body : segs[0].end] == "按照“属地管理,分级负责”的原则"
    assert all(text[s.start : s.end] == text[s.start : s.end].strip() for s in segs)


def test_marker_runs_from_first_item_to_the_last_items_first_sentence():
    text = "基础依然薄弱：一是交通事故占比高，去年占六成；二是施工事故多发；三是火灾风险突出。对这些问题要警惕。"
    ((s, e),) = marker_runs(text)
    assert text[s:e] == "一是交通事故占比高，去年占六成；二是施工事故多发；三是火灾风险突出"
    assert marker_runs("一是统一思想。要落实责任。") == []  # one item is no enumeration


def _focus(question: str, hits: list[Hit]):
    a = extract(question, hits)
    _exact(a, hits)
    assert a.mode == "extractive" and len(a.sentences) == 1 and a.sentences[0].verified
    if a.short is not None:  # the short span lies in the answer sentence
        s = a.sentences[0].span
        assert s.rank == a.short.rank and s.start <= a.short.start and a.short.end <= s.end
    return a


@pytest.mark.parametrize(
    "question, clause, short",
    [
        (
            "摸清自然减员后按什么原则做教师需求调查",
            "二是要分类施策。在摸清教师自然减员的前提下,按照“减一补一”的原则,做好每所学校教师需求调查,"
            "制订好教师招聘方案,逐步缓解教师结构性缺编问题。",
            "按照“减一补一”的原则",
        ),
        (
            "随机抽查比例和频次依据什么原则来定",
            "8.完善抽查工作机制,按照“属地管理,分级负责”的原则,合理确定随机抽查的比例和频次,确保掌上执法率达到95%。",
            "按照“属地管理,分级负责”的原则",  # the comma inside the quote cuts nothing
        ),
        (
            "整改责任坚持什么原则",
            "要明确责任。各单位一把手要切实扛起整改的政治责任,坚持“谁排查谁整改”,“谁主管谁整改”,各就各位、各负其责。",
            "坚持“谁排查谁整改”,“谁主管谁整改”",
        ),
    ],
)
def test_principle_is_the_segment_naming_it(question, clause, short):
    a = _focus(question, [hit(1, clause), HITS[1]])
    assert a.short is not None and a.short.text == short and a.short.rank == 1


@pytest.mark.parametrize(
    "question, clause, short",
    [
        (
            "信访投诉请求应当怎样处理",
            "14.认真执行“首问负责即问即办”规定,引导信访人依法逐级走访和依法定途径分类处理信访投诉请求,"
            "对应当通过行政复议等法定程序解决的诉求,引导当事人通过法定途径解决,有效维护群众合法权益。",
            "引导信访人依法逐级走访和依法定途径分类处理信访投诉请求",
        ),
        (
            "进度落后、投诉多的街道怎么处理",
            "（三）强化督查。每月对改造进度进行通报，对进度滞后、群众投诉较多的街道，由区政府分管领导约谈主要负责人。",
            "由区政府分管领导约谈主要负责人",  # the action after the condition, not the condition
        ),
        (
            "暂不具备物业条件的小区怎么管理",
            "改造完成的小区，原则上引入专业化物业服务；暂不具备条件的，由社区居委会托管，实行“准物业”管理，"
            "物业服务费按照每月每平方米0.3元标准收取，不足部分由区财政给予补贴。",
            "由社区居委会托管，实行“准物业”管理",  # the actions that go together, up to SPAN_CAP
        ),
    ],
)
def test_procedure_is_the_action_after_the_condition(question, clause, short):
    a = _focus(question, [hit(1, clause), HITS[1]])
    assert a.short is not None and a.short.text == short


def test_a_laws_long_action_keeps_the_action_that_follows_it():
    clause = ("第十九条 犬只伤害他人的，养犬人或者管理人应当立即将受伤人送至疾病预防控制机构或者医院进行治疗，"
              "先行垫付医疗费用，并将伤人犬只及时送至动物防疫机构检查。")
    a = _focus("狗咬伤了人，养犬人应当怎么做", [hit(1, clause), HITS[1]])
    assert a.short is not None and a.short.text.endswith("进行治疗，先行垫付医疗费用")


def test_title_words_count_for_every_sentence_of_their_document():
    """Title words say which document, not which sentence: every sentence of a document whose title holds
    them gets their share, so the same sentence in a document about something else does not win on rank."""
    text = "第十条 申请人向户籍所在地的乡镇人民政府提出书面申请。"

    def doc_hit(rank: int, doc_id: str, title: str) -> Hit:
        d = DocInfo(doc_id=doc_id, source=f"{doc_id}.md", title=title, sha256=doc_id, kind="md")
        return Hit(rank, 1.0 / rank, Clause(doc_id, 0, "第十条", (), text, 0, len(text)), d, f"《{title}》 › 第十条")

    hits = [doc_hit(1, "zj", "浙江省社会救助条例"), doc_hit(2, "cq", "重庆市城乡居民最低生活保障条例")]
    assert extract("申请最低生活保障要向哪里递交书面申请", hits).sentences[0].citations == (2,)


def test_procedure_never_stops_at_a_lead_in_when_items_follow():
    clause = "第九条 携犬出户的，应当遵守下列规定：\n（一）为犬只佩带犬牌；\n（二）为犬只束牵引带；\n（三）即时清除犬粪。"  # noqa: E501
    a = _focus("携犬出户时应当怎样做", [hit(1, clause), HITS[1]])
    assert a.short is not None
    assert a.short.text == "应当遵守下列规定：\n（一）为犬只佩带犬牌；\n（二）为犬只束牵引带；\n（三）即时清除犬粪"
    assert "（三）" in a.text  # the answer sentence widened to the items


@pytest.mark.parametrize(
    "question, clause, short",
    [
        # the rule about what is asked (开除), not the other rule of the sentence
        ("学校能开除学生吗", "对违反学校管理制度的学生，学校应当予以批评教育，不得开除。", "不得开除"),
        ("行政机关提供申请书格式文本可以收费吗", "行政机关应当向申请人提供行政许可申请书格式文本，不得收费。",
         "不得收费"),
        # the action after the manner it is done in
        ("业主委员会能不能要求侵占通道的人停止侵害",
         "业主委员会对侵占通道等损害他人合法权益的行为，有权依照法律、法规以及管理规约，请求行为人停止侵害、排除妨碍。",
         "有权依照法律、法规以及管理规约，请求行为人停止侵害、排除妨碍"),
        # an action in the scope of the modal before it
        ("机关开会还能用一次性纸杯吗", "党政机关应当推行无纸化办公，不使用一次性杯具。", "不使用一次性杯具"),
    ],
)
def test_may_or_must_is_the_rule_from_its_modal_word(question, clause, short):
    a = _focus(question, [hit(1, clause), HITS[1]])
    assert a.short is not None and a.short.text == short


def test_may_or_must_never_answers_with_a_condition():
    clause = "第五十条 用人单位依照本法有关规定应当向劳动者支付经济补偿的，在办结工作交接时支付。"
    a = _focus("用人单位必须支付经济补偿吗", [hit(1, clause), HITS[1]])
    assert a.short is None or not a.short.text.endswith("的")


def test_may_or_must_never_answers_with_a_lead_in_alone():
    clause = "第二十条 游客游园禁止下列行为：擅自营火、烧烤；攀折花木；在非游泳区游泳。"
    a = _focus("公园里能不能烧烤", [hit(1, clause), HITS[1]])
    assert a.short is not None and a.short.text == "擅自营火、烧烤"  # the rule about 烧烤, not 禁止下列行为


def test_a_question_whether_there_is_a_provision_gets_the_sentence():
    assert question_focus("有没有关于行政审批告知承诺制的规定") is None
    assert question_focus("公园里能不能烧烤") == "rule"


def test_a_purpose_article_is_read_past_its_label():
    clause = "第一条 为了规范和促进法律援助工作，保障公民的合法权益，维护社会公平正义，制定本法。"
    a = _focus("法律援助法的立法目的是什么", [hit(1, clause), HITS[1]])
    assert a.short is not None and a.short.text == "为了规范和促进法律援助工作，保障公民的合法权益，维护社会公平正义"


def test_list_is_the_enumerated_items_after_a_lead_in():
    clause = (
        "2023年全县事故总体平稳。但我们也要清醒看到，全县安全生产基础依然薄弱：一是道路交通事故占比居高不下；"
        "二是建筑施工领域事故时有发生；三是电动自行车火灾风险突出，去年火灾中有三成由电动自行车引发。对这些问题必须保持警惕。"
    )
    a = _focus("安全生产基础薄弱表现在哪些方面", [hit(1, clause), HITS[1]])
    assert a.short is not None and a.short.text == (
        "一是道路交通事故占比居高不下；二是建筑施工领域事故时有发生；三是电动自行车火灾风险突出，去年火灾中有三成由电动自行车引发"
    )
    assert "一是" in a.text and "三是" in a.text  # the answer sentence holds the items, not the lead-in alone


def test_list_never_stops_at_a_lead_in_when_the_next_clause_holds_the_items():
    lead = hit(1, "一、认清形势。近年来教育工作不断推进。但我们也要清醒地看到,全县教育事业发展仍有一些不足和短板。")
    items = hit(
        2,
        "一是教育发展质量有待进一步提升。高中整体办学质量还需要进一步提升。二是师德师风建设方面有待进一步加强。"
        "三是师资队伍建设有待加强。面对这些问题,我们要积极补短板、强弱项,加快教育事业发展。",
        "一是",
    )
    a = _focus("全县教育事业发展有哪些不足和短板", [lead, items, HITS[2]])
    # the items' sentences are the answer (a short span as long as they would add nothing)
    assert a.sentences[0].citations == (2,) and a.short is None
    assert a.text == (
        "一是教育发展质量有待进一步提升。高中整体办学质量还需要进一步提升。二是师德师风建设方面有待进一步加强。三是师资队伍建设有待加强。"
    )
    # the same lead-in without the items among the hits: no list to invent
    alone = extract("全县教育事业发展有哪些不足和短板", [lead, HITS[2]])
    assert alone.short is None or "一是" not in alone.short.text


@pytest.mark.parametrize(
    "question, clause, short",
    [
        (
            "企业招用哪些人员可以领扩岗补助",
            "（一）鼓励企业吸纳就业。对招用毕业年度未就业高校毕业生、16至24岁登记失业青年、退役军人，签订1年以上劳动合同"
            "并缴纳失业、工伤、养老保险费的企业，按每招用1人1500元的标准发放一次性扩岗补助。",
            "对招用毕业年度未就业高校毕业生、16至24岁登记失业青年、退役军人",  # what 招用 takes, not the insurances
        ),
        (
            "“三清一改”指哪些工作",
            "1.开展“三清一改”，即清理农村生活垃圾、清理村内塘沟、清理畜禽养殖粪污等农业生产废弃物，改变影响农村人居环境的不良习惯。"
            "各乡镇每月检查一次。",
            "即清理农村生活垃圾、清理村内塘沟、清理畜禽养殖粪污等农业生产废弃物，改变影响农村人居环境的不良习惯",
        ),
    ],
)
def test_list_is_the_enumeration(question, clause, short):
    a = _focus(question, [hit(1, clause), HITS[1]])
    assert a.short is not None and a.short.text == short


@pytest.mark.parametrize(
    "question, clause, short",
    [
        (
            "为什么要制定老旧小区改造方案",
            "为加快推进城镇老旧小区改造，改善居民居住条件，提升城市品质，根据市委、市政府的工作部署，结合我区实际，制定本方案。",
            "为加快推进城镇老旧小区改造，改善居民居住条件，提升城市品质",  # the purpose clause, up to 根据
        ),
        (
            "为什么说查找问题是前提",
            "一、找问题是前提。查找问题是专项活动的前提,只有把这一阶段工作做扎实,才能保证后续工作有效推进。",
            "只有把这一阶段工作做扎实,才能保证后续工作有效推进",
        ),
        (
            "冬春救助逐户走访是为了什么",
            "2.每年12月至次年2月开展冬春救助专项行动，对低保、特困、低保边缘家庭逐户走访，确保困难群众温暖过冬，"
            "走访情况于次年3月10日前汇总上报。",
            "确保困难群众温暖过冬",
        ),
        (
            "为什么说防汛形势严峻",
            "据气象部门预测，今年我县主汛期降水总体偏多二至三成，极端天气过程多发，防汛形势严峻复杂。",
            "今年我县主汛期降水总体偏多二至三成，极端天气过程多发",  # what comes before the conclusion
        ),
    ],
)
def test_reason_is_the_purpose_or_cause(question, clause, short):
    a = _focus(question, [hit(1, clause), HITS[1]])
    assert a.short is not None and a.short.text == short


def test_a_focus_segment_as_long_as_its_sentence_is_no_short_answer():
    a = _focus("社会救助资金的管理遵循什么原则", [hit(1, "五、强化资金监管。实行专账管理、专款专用。"), HITS[1]])
    assert a.short is None and a.text == "实行专账管理、专款专用。"


@pytest.fixture(scope="module")
def answer_span_index(tmp_path_factory):
    """The documents of tests/data/answer_spans.jsonl (the shared local regulations when present)
    ingested with the default embedder, and the questions on them."""
    from rag.evaluation.answers import build_index, load_questions, source_path

    questions = [q for q in load_questions() if source_path(q["source"]).is_file()]
    return build_index(questions, tmp_path_factory.mktemp("answer-spans") / "index"), questions


@pytest.mark.slow
def test_answer_span_set_concise_floor(answer_span_index):
    """The short answer (else the sentence) holds the gold span in at most 3× its length + 40 characters
    for at least 85% of the set, and of its why / principle / which / how questions."""
    from rag.evaluation.answers import SPAN_KINDS, answer_spans

    index, questions = answer_span_index
    results = answer_spans(index, questions)
    focus = [r for r in results if r.kind not in SPAN_KINDS]
    assert len(focus) >= 60
    misses = [f"{r.qid} {r.query}: {r.answer[:40]}" for r in results if not r.concise]
    assert sum(r.concise for r in results) >= 0.85 * len(results), misses
    assert sum(r.concise for r in focus) >= 0.85 * len(focus), misses
