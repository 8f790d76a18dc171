"""`rag ask` over the sample index: exact extractive answers (clause and source offsets), and the
generated answer through `--llm` against a scripted chat server (tests/llm_stub.py), with every
way the server can fail falling back to the extractive answer with a note."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import REPO, run_cli
from tests.llm_stub import LLMStub, closed_port, raw, reply

QUESTION = "双随机抽查比例要达到多少？"
QUESTIONS = [
    json.loads(line)["query"]
    for line in (REPO / "tests" / "data" / "sample_questions.jsonl").read_text(encoding="utf-8").splitlines()
]
# clause [1] for QUESTION reads "…其中部门联合“双随机、一公开”监管比例达到20%以上。"
RIGHT = "部门联合“双随机、一公开”监管比例达到20%以上[1]。"
WRONG = "部门联合“双随机、一公开”监管比例达到30%以上[1]。"


def _ask(capsys, index_dir, question: str, *extra: str) -> dict:
    rc, out, err = run_cli(capsys, "ask", question, "--index", str(index_dir), "--json", *extra)
    assert rc == 0, err
    return json.loads(out)


def _exact(result: dict) -> None:
    """Every span is the hit's clause text at its clause offsets, and the source file's text at its source offsets."""
    hits = result["hits"]
    answer = result["answer"]
    spans = [(s["span"], s["text"]) for s in answer["sentences"] if "span" in s]
    if "short" in answer:
        spans.append((answer["short"], answer["short"]["text"]))
    assert spans
    for span, text in spans:
        hit = hits[span["rank"] - 1]
        assert hit["rank"] == span["rank"]
        assert hit["text"][span["start"] : span["end"]] == text
        source = open(hit["source"], encoding="utf-8").read()  # noqa: SIM115 (read once)
        assert source[span["source_start"] : span["source_end"]] == text


def test_every_sample_question_gets_an_exact_extractive_answer(capsys, sample_index_dir):
    from rag.answers.ask import ask
    from rag.search.retrieve import Searcher
    from rag.storage.index import ClauseIndex

    assert len(QUESTIONS) >= 40
    searcher = Searcher(ClauseIndex.load(sample_index_dir))  # one load for all; the CLI for a few of them
    for n, question in enumerate(QUESTIONS):
        result = _ask(capsys, sample_index_dir, question) if n % 15 == 0 else ask(searcher, question).to_dict()
        assert result["question"] == question and result["mode"] == "extractive", question
        assert result["answer"]["text"] and result["hits"], question
        assert all(isinstance(h["refs"], list) for h in result["hits"])
        _exact(result)
        if question == QUESTION:
            assert "20%" in result["answer"]["short"]["text"]
            assert result["hits"][0]["source"].endswith(".txt")


@pytest.fixture()
def stub():
    with LLMStub() as s:
        yield s


def test_a_correct_cited_reply_is_a_verified_generated_answer(capsys, sample_index_dir, stub):
    stub.script(reply(RIGHT))
    result = _ask(capsys, sample_index_dir, QUESTION, "--llm", stub.llm, "--llm-timeout", "10")
    assert result["mode"] == "generated" and "note" not in result["answer"]
    (s,) = result["answer"]["sentences"]
    assert s["verified"] and s["citations"] == [1] and "20%以上" in s["text"] and "span" not in s
    assert len(stub.requests) == 1


def test_a_wrong_figure_falls_back_to_the_extract(capsys, sample_index_dir, stub):
    stub.script(reply(WRONG))
    result = _ask(capsys, sample_index_dir, QUESTION, "--llm", stub.llm)
    assert result["mode"] == "extractive" and "核实" in result["answer"]["note"]
    assert "30%" not in json.dumps(result["answer"], ensure_ascii=False)  # never shown, let alone as verified
    _exact(result)
    # the plain-text answer says so too
    rc, out, _ = run_cli(capsys, "ask", QUESTION, "--index", str(sample_index_dir), "--llm", stub.llm)
    assert rc == 0 and "核实" in out.splitlines()[0] and "30%" not in out and "✓" not in out


def test_server_down_falls_back_with_a_note(capsys, sample_index_dir):
    llm = f"http://127.0.0.1:{closed_port()}/v1#m"
    result = _ask(capsys, sample_index_dir, QUESTION, "--llm", llm)
    note = result["answer"]["note"]
    assert result["mode"] == "extractive" and "模型服务暂时未能回答" in note and "127.0.0.1" not in note
    assert "20%" in result["answer"]["short"]["text"]
    _exact(result)


def test_a_stalled_server_gives_up_at_the_timeout(capsys, sample_index_dir, stub):
    stub.script(reply(RIGHT, delay=30))
    t0 = time.monotonic()
    result = _ask(capsys, sample_index_dir, QUESTION, "--llm", stub.llm, "--llm-timeout", "2")
    elapsed = time.monotonic() - t0
    assert elapsed < 5, elapsed
    note = result["answer"]["note"]
    assert result["mode"] == "extractive" and "模型服务暂时未能回答" in note and "127.0.0.1" not in note
    assert "20%" in result["answer"]["short"]["text"]


def test_malformed_json_falls_back_with_a_note(capsys, sample_index_dir, stub):
    stub.script(raw('{"choices": [{"message": {"content": "双随机'))
    rc, out, err = run_cli(capsys, "ask", QUESTION, "--index", str(sample_index_dir), "--json", "--llm", stub.llm)
    result = json.loads(out)
    assert rc == 0 and result["mode"] == "extractive" and "模型服务暂时未能回答" in result["answer"]["note"]
    assert "JSON" in err  # the operator sees why on stderr; the answer's reader is not told the server's address
    _exact(result)


@pytest.mark.parametrize("llm", ["http://127.0.0.1:11434/v1", "127.0.0.1:11434#qwen", "http://x/v1#", "ftp://x#m"])
def test_a_malformed_llm_value_is_exit_2(capsys, sample_index_dir, llm):
    rc, out, err = run_cli(capsys, "ask", QUESTION, "--index", str(sample_index_dir), "--llm", llm)
    assert rc == 2 and out == ""
    assert err.startswith("rag ask: ") and ("URL#MODEL" in err or "http://" in err) and "Traceback" not in err
    rc, out, _ = run_cli(capsys, "ask", QUESTION, "--index", str(sample_index_dir), "--llm", llm, "--json")
    assert rc == 2 and json.loads(out)["code"] == 2


SUMMARY = (
    "关于2023年培训工作的总结\n\n一、主要成绩\n全年完成培训任务，培训干部1200人次。\n二、存在的问题\n"
    "对照上级要求，我们的培训工作仍有一些不足和短板。\n"
    "一是培训覆盖面不够广，基层干部参训比例偏低。二是考核机制不够健全，培训效果难以评估。三是经费保障不足，部分课程无法开设。\n"
    "三、下一步打算\n扩大培训覆盖面，健全考核机制。\n"
)


def test_a_which_question_answers_with_the_items_after_a_lead_in_even_from_the_next_clause(tmp_path):
    from rag.answers.ask import ask
    from rag.embedding.embed import parse_spec
    from rag.ingest.pipeline import ingest
    from rag.search.retrieve import Searcher
    from rag.storage.index import ClauseIndex

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "培训总结.txt").write_text(SUMMARY, encoding="utf-8")
    ingest([tmp_path / "lib"], tmp_path / "idx", parse_spec("hash:64"), show_progress=False)
    searcher = Searcher(ClauseIndex.load(tmp_path / "idx"))
    result = ask(searcher, "培训工作存在哪些不足和短板", k=1)  # search returns the lead-in's clause only
    assert result.answer.text.startswith("一是培训覆盖面不够广") and "三是经费保障不足" in result.answer.text
    assert "仍有一些不足和短板" not in result.answer.text  # never the lead-in alone
    assert [h.rank for h in result.hits] == [1, 2] and result.hits[1].clause.label == "一是"
    span = result.answer.sentences[0].span
    assert result.hits[span.rank - 1].clause.text[span.start : span.end] == result.answer.text
    other = ask(searcher, "培训干部多少人次", k=1)  # not a which-ones question: the hits as searched
    assert len(other.hits) == 1
