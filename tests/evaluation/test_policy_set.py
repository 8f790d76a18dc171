"""The policy-domain labelled question set (issue #12): its shape and that every gold label is real.

Questions (`tests/data/policy_questions.jsonl`) are over three sources: the sample document in
`corpus/`, the policy documents written for this set (`tests/data/policy/`), and local regulations
from the shared corpus (`local-regs/…`, relative to ../shared/corpora/local-regs). Each gold
(title, label, path) must match a clause of its source as the project's own reader and splitter
produce it, and each "answer" must occur verbatim in that clause. The local-regs checks are skipped
when the shared corpus is absent.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from rag.evaluation.evaluate import Question, read_questions
from rag.reading.load import load_file
from rag.text.split import Clause, split_document
from tests.conftest import LOCAL_REGS, REPO

QUESTIONS = REPO / "tests" / "data" / "policy_questions.jsonl"
CORPUS_LIST = REPO / "tests" / "data" / "policy_corpus.txt"
WRITTEN = REPO / "tests" / "data" / "policy"
KINDS = {"rule", "figure", "deadline", "body", "procedure", "keyword", "draft"}
LR = "local-regs/"
MIN_COPY = 12  # a query may not share this many consecutive characters with its gold clause

no_local_regs = pytest.mark.skipif(not LOCAL_REGS.is_dir(), reason=f"{LOCAL_REGS} not present (shared corpus)")


def _records() -> list[dict]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _pairs() -> list[tuple[dict, Question]]:
    recs, qs = _records(), read_questions(QUESTIONS)
    assert len(recs) == len(qs)
    return list(zip(recs, qs))


def _group(source: str) -> str:
    if source.startswith(LR):
        return "local-regs"
    if source.startswith("tests/data/policy/"):
        return "written"
    return "corpus"


def _path(source: str) -> Path:
    return LOCAL_REGS / source[len(LR) :] if source.startswith(LR) else REPO / source


@cache
def _document(source: str) -> tuple[str, tuple[Clause, ...]]:
    doc = load_file(_path(source))
    return doc.title, tuple(split_document(doc))


def test_file_parses_and_is_large_enough():
    recs, qs = _records(), read_questions(QUESTIONS)
    assert len(qs) == len(recs) >= 160
    assert len({r["qid"] for r in recs}) == len(recs), "duplicate qid"
    for r, q in zip(recs, qs):
        assert q.kind in KINDS, (r["qid"], q.kind)
        assert q.relevant and r.get("source"), r["qid"]
        assert _group(r["source"]) != "corpus" or r["source"].startswith("corpus/"), r["source"]


def test_composition():
    groups = Counter(_group(r["source"]) for r in _records())
    total = sum(groups.values())
    assert groups["written"] >= 50, groups
    assert groups["written"] + groups["local-regs"] >= 0.6 * total, groups
    assert len(Counter(r["kind"] for r in _records())) == len(KINDS), "every kind is represented"


def test_written_documents():
    files = sorted(WRITTEN.glob("*.txt"))
    assert 8 <= len(files) <= 10
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert 1500 <= len(text) <= 4000, (f.name, len(text))
        assert text.splitlines()[0].strip(), f"{f.name}: the first line is the title"


def _check_gold(group: str) -> int:
    n = 0
    for rec, q in _pairs():
        if _group(rec["source"]) != group:
            continue
        title, clauses = _document(rec["source"])
        hits = []
        for rel in q.relevant:
            matching = [c for c in clauses if rel.matches_clause(title, c)]
            assert matching, f"{rec['qid']}: no clause {rel} in {rec['source']} (title {title!r})"
            hits += matching
        answer = rec.get("answer")
        if answer:
            assert any(answer in c.text for c in hits), f"{rec['qid']}: answer {answer!r} not in its gold clause"
        for c in hits:
            copied = [q.query[i : i + MIN_COPY] for i in range(len(q.query) - MIN_COPY + 1)]
            assert not any(s in c.text for s in copied), f"{rec['qid']}: query copies its gold clause"
        n += 1
    return n


@pytest.mark.parametrize("group", ["corpus", "written"])
def test_gold_labels_in_repo_documents(group):
    assert _check_gold(group) > 0


@no_local_regs
def test_gold_labels_in_local_regs():
    assert _check_gold("local-regs") > 0


def _corpus_list() -> list[str]:
    return [line.strip() for line in CORPUS_LIST.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_corpus_list_covers_questions():
    listed = _corpus_list()
    assert len(listed) == len(set(listed)), "duplicate source in policy_corpus.txt"
    assert {r["source"] for r in _records()} <= set(listed)
    assert {f"tests/data/policy/{f.name}" for f in WRITTEN.glob("*.txt")} <= set(listed)
    local = [s for s in listed if s.startswith(LR)]
    answering = {r["source"] for r in _records() if r["source"].startswith(LR)}
    assert len(local) - len(answering) >= 15, "local-regs distractors"
    for s in listed:
        if not s.startswith(LR):
            assert _path(s).is_file(), s


@no_local_regs
def test_corpus_list_local_regs_exist():
    missing = [s for s in _corpus_list() if s.startswith(LR) and not _path(s).is_file()]
    assert not missing
    for s in _corpus_list():
        if s.startswith(LR):
            assert _document(s)[1], f"{s}: no clauses"
