"""The situation-then-question labelled sets (`tests/data/situation_*.jsonl`), the place-named set
(`tests/data/place_questions.jsonl`: short questions naming a province, city or district) and the
drafter's set (`tests/data/draft_sentences.jsonl`: one sentence of a draft, not a question, whose
earlier wording is sought), all over the situation set's library: shape and real gold labels.

Each line describes a concrete situation and then asks a question; its `relevant` items are the one
to three articles a lawyer would cite, each naming the document title as our reader gives it
(`law`), the clause label (`article`) and the source file (`file`). A file is relative to
../shared/corpora/laws, or to ../shared/corpora/local-regs when the item says
`"source_root": "local-regs"`. Every gold label must be a clause of that file as the project's own
reader and splitter produce it, the file must be the newest of the versions of that law kept in its
folder (superseded versions are hidden from default searches), and a query may not copy a run of
its gold clauses' text. The corpus checks are skipped when the shared corpus is absent.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from rag.evaluation.evaluate import Question, read_questions
from rag.reading.load import load_file, title_from_stem
from rag.search.retrieve import normalise_title
from rag.text.places import named_places
from rag.text.split import Clause, split_document
from tests.conftest import LAWS, LOCAL_REGS, REPO

DATA = REPO / "tests" / "data"
SITUATION_SETS = sorted(DATA.glob("situation_*.jsonl"))
PLACE_SET = DATA / "place_questions.jsonl"
DRAFT_SET = DATA / "draft_sentences.jsonl"
KEYWORD_SET = DATA / "keyword_queries.jsonl"
SETS = [*SITUATION_SETS, PLACE_SET, DRAFT_SET, KEYWORD_SET]
KINDS = {PLACE_SET: "place", DRAFT_SET: "draft", KEYWORD_SET: "keyword"}  # else "situation"
LAWS_SET = DATA / "situation_laws.jsonl"
ROOTS = {"laws": LAWS, "local-regs": LOCAL_REGS}  # `source_root` of a relevant item; absent: laws
MIN_COPY = 12  # a query may not share this many consecutive characters with a gold clause
MIN_QUERY = 40  # a situation, then the question
MIN_PLACE_QUERY = 12  # a place-named question is short
DRAFT_LENGTH = (25, 90)  # a draft sentence (or two short ones)
KEYWORDS = re.compile(r"\w{1,12}(?: \w{1,12}){1,4}")  # two to five words, one space between
MIN_TOTAL = 200  # questions over all the situation sets
REGULATION_FOLDERS = ("行政法规", "部门规章", "司法解释")
_FILE_DATE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)")


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _pairs(path: Path) -> list[tuple[dict, Question]]:
    recs, qs = _records(path), read_questions(path)
    assert len(recs) == len(qs), path.name
    return list(zip(recs, qs))


def _root(item: dict) -> str:
    return item.get("source_root") or "laws"


@cache
def _document(root: str, rel: str) -> tuple[str, tuple[Clause, ...]]:
    doc = load_file(ROOTS[root] / rel)
    return doc.title, tuple(split_document(doc))


def _version(path: Path) -> tuple[str, str | None]:
    """(normalised title from the file name, its version date or None)."""
    dates = _FILE_DATE.findall(path.stem)
    return normalise_title(title_from_stem(path.stem)), (dates[-1] if dates else None)


def _copied_run(query: str, text: str) -> str | None:
    runs = (query[i : i + MIN_COPY] for i in range(len(query) - MIN_COPY + 1))
    return next((run for run in runs if run in text), None)


def test_sets_present():
    assert LAWS_SET in SETS, f"{LAWS_SET} missing"


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_set_shape(path):
    kind = KINDS.get(path, "situation")
    for rec, q in _pairs(path):
        qid = rec.get("qid")
        assert qid and q.qid == qid, f"{path.name}: a line without a qid"
        assert q.kind == kind, (qid, q.kind)
        shortest, longest = {"place": (MIN_PLACE_QUERY, 200), "draft": DRAFT_LENGTH, "keyword": (4, 24)}.get(
            kind, (MIN_QUERY, 400)
        )
        chars = len(q.query.replace(" ", ""))
        assert shortest <= chars <= longest, f"{qid}: query not {shortest}-{longest} characters"
        if kind == "place":
            assert named_places(q.query), f"{qid}: names no place"
        if kind in ("draft", "keyword"):  # no place: a drafter writes for their own (本市)
            assert not named_places(q.query), f"{qid}: names a place"
        if kind == "draft":
            assert not q.query.rstrip().endswith(("？", "?")), f"{qid}: a question, not a draft sentence"
        if kind == "keyword":
            assert KEYWORDS.fullmatch(q.query), f"{qid}: not two to five words with one space between"
        assert 1 <= len(rec["relevant"]) <= 3, f"{qid}: one to three gold articles"
        assert len(set(q.relevant)) == len(q.relevant), f"{qid}: a gold article twice"
        for item in rec["relevant"]:
            assert item.get("law") and item.get("article") and item.get("file"), (qid, item)
            assert _root(item) in ROOTS, (qid, item.get("source_root"))
            assert not Path(item["file"]).is_absolute() and ".." not in Path(item["file"]).parts, (qid, item["file"])


def test_qids_unique_across_sets():
    qids = Counter(rec["qid"] for path in SETS for rec in _records(path))
    assert not [q for q, n in qids.items() if n > 1], "qid used twice"


def test_total_size():
    total = sum(len(_records(path)) for path in SITUATION_SETS)
    names = [p.name for p in SITUATION_SETS]
    assert total >= MIN_TOTAL, f"{total} situation questions over {names}; want >= {MIN_TOTAL}"


@pytest.mark.parametrize("path", [PLACE_SET, DRAFT_SET, KEYWORD_SET], ids=lambda p: p.name)
def test_set_is_over_the_situation_library(path):
    """Every local regulation the set cites is one of the situation library's (so its index holds it)."""
    library = set((DATA / "situation_corpus.txt").read_text(encoding="utf-8").split())
    recs = _records(path)
    assert len(recs) >= 80
    cited = {f"local-regs/{item['file']}" for rec in recs for item in rec["relevant"] if _root(item) == "local-regs"}
    assert cited and cited <= library, sorted(cited - library)[:3]


def test_draft_set_composition():
    """Drafts of local regulations and of national laws, spread over many documents."""
    recs = _records(DRAFT_SET)
    local = [rec for rec in recs if all(_root(item) == "local-regs" for item in rec["relevant"])]
    laws = [rec for rec in recs if all(_root(item) == "laws" for item in rec["relevant"])]
    assert len(local) >= 50 and len(laws) >= 30, (len(local), len(laws))
    per_file = Counter(f for rec in recs for f in {item["file"] for item in rec["relevant"]})
    assert len(per_file) >= 50, "spread over many documents"


def test_laws_set_composition():
    recs = _records(LAWS_SET)
    assert len(recs) >= 100
    assert all(_root(item) == "laws" for rec in recs for item in rec["relevant"])
    per_file = Counter(f for rec in recs for f in {item["file"] for item in rec["relevant"]})
    assert len(per_file) >= 30, "spread over many laws"
    assert max(per_file.values()) <= 8, per_file.most_common(3)
    regs = [rec["qid"] for rec in recs if any(item["file"].startswith(REGULATION_FOLDERS) for item in rec["relevant"])]
    assert len(regs) >= 8, "行政法规 / 部门规章 / 司法解释 questions"


def _skip_if_absent(roots: set[str]) -> None:
    missing = [r for r in sorted(roots) if not ROOTS[r].is_dir()]
    if missing:
        pytest.skip(f"shared corpus not present: {[str(ROOTS[r]) for r in missing]}")


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_gold_labels_are_clauses(path):
    pairs = _pairs(path)
    _skip_if_absent({_root(item) for rec, _ in pairs for item in rec["relevant"]})
    for rec, q in pairs:
        for item, rel in zip(rec["relevant"], q.relevant):
            root, rel_path = _root(item), item["file"]
            assert (ROOTS[root] / rel_path).is_file(), f"{rec['qid']}: no file {root}/{rel_path}"
            title, clauses = _document(root, rel_path)
            assert normalise_title(item["law"]) == normalise_title(title), f"{rec['qid']}: {item['law']!r} vs {title!r}"
            hits = [c for c in clauses if rel.matches_clause(title, c)]
            assert hits, f"{rec['qid']}: no clause {item['article']} in {root}/{rel_path}"
            for c in hits:
                run = _copied_run(q.query, c.text)
                assert run is None, f"{rec['qid']}: query copies {run!r} from {item['article']}"


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_gold_files_are_newest_versions(path):
    items = [item for rec in _records(path) for item in rec["relevant"]]
    _skip_if_absent({_root(item) for item in items})
    for root, rel_path in sorted({(_root(item), item["file"]) for item in items}):
        gold = ROOTS[root] / rel_path
        title, date = _version(gold)
        siblings = [_version(p) for p in gold.parent.iterdir() if p.is_file() and p != gold]
        dated = [d for t, d in siblings if t == title and d]
        if dated:
            assert date, f"{root}/{rel_path}: undated, but its folder has dated versions {dated}"
            assert date >= max(dated), f"{root}/{rel_path}: a newer version ({max(dated)}) is in its folder"
