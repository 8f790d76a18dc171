"""Answer figures: `python -m rag.evaluation.answers`.

(a) Answer spans: the documents named in `tests/data/answer_spans.jsonl` are ingested into a
folder index (reused under `build/answer-spans`, default embedder), each question is searched
(k=5) and answered by `rag.answers.extract.extract`; the table counts how often the answer
sentence and the short span contain the gold span, and the misses are listed.

(b) Cross-references: 20 laws drawn with a fixed seed from the laws corpus are split; every
本法/本条例/本规定/本办法/本解释第X条 reference is resolved within its own document; the share
resolved to an existing clause is printed with the failures.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from rag.answers.extract import extract
from rag.text.numerals import find_refs

REPO = Path(__file__).resolve().parents[2]
SPANS = REPO / "tests" / "data" / "answer_spans.jsonl"
SHARED = REPO.parent / "shared" / "corpora"
CROSSREF_WORDS = ("本法", "本条例", "本规定", "本办法", "本解释")


@dataclass(frozen=True)
class SpanResult:
    qid: str
    query: str
    gold: str
    sentence: str
    short: str | None
    retrieved: bool  # the gold span is in one of the top 3 hits' clauses (what `extract` reads)

    @property
    def in_sentence(self) -> bool:
        return self.gold in self.sentence

    @property
    def in_short(self) -> bool:
        return self.short is not None and self.gold in self.short


def load_questions(path: Path = SPANS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def source_path(source: str) -> Path:
    """'corpus/…' -> the repository's file; 'local-regs/…' -> the shared corpus file."""
    return REPO / source if source.startswith("corpus/") else SHARED / source


def build_index(questions: list[dict], index_dir: Path) -> Path:
    """Ingest the questions' source files (copied into one folder) into `index_dir`; reused when current."""
    from rag.ingest.pipeline import ingest

    files = sorted({source_path(q["source"]) for q in questions})
    staging = index_dir.parent / (index_dir.name + "-files")
    staging.mkdir(parents=True, exist_ok=True)
    for f in files:
        target = staging / f.name
        if not target.exists():
            shutil.copyfile(f, target)
    ingest([staging], index_dir, show_progress=False)
    return index_dir


def answer_spans(index_dir: Path, questions: list[dict], k: int = 5) -> list[SpanResult]:
    from rag.search.retrieve import Searcher
    from rag.storage.index import ClauseIndex

    searcher = Searcher(ClauseIndex.load(index_dir))
    out = []
    for q in questions:
        hits = searcher.search(q["query"], k=k)
        a = extract(q["query"], hits)
        retrieved = any(q["answer"] in h.clause.text and h.doc.title == q["title"] for h in hits[:3])
        out.append(SpanResult(q["qid"], q["query"], q["answer"], a.text, a.short.text if a.short else None, retrieved))
    return out


@dataclass(frozen=True)
class RefResult:
    law: str
    clause: str
    text: str
    target: str
    found: bool


def crossrefs(laws_dir: Path, n: int = 20, seed: int = 13) -> list[RefResult]:
    """Every 本法/本条例…第X条 reference of `n` laws drawn with `seed`, resolved within its document."""
    from rag.reading.load import load_file
    from rag.text.split import split_document

    files = sorted(p for p in laws_dir.rglob("*.md") if not p.name.startswith("_"))
    out = []
    for f in random.Random(seed).sample(files, n):
        clauses = split_document(load_file(f))
        labels = {c.label for c in clauses}
        for c in clauses:
            for m in find_refs(c.text):
                if m.kind == "self" and m.text.startswith(CROSSREF_WORDS):
                    out.append(RefResult(f.stem, c.label, m.text, m.article or "", m.article in labels))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=REPO / "build" / "answer-spans")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--laws", type=Path, default=SHARED / "laws")
    args = ap.parse_args(argv)

    questions = load_questions()
    index_dir = build_index(questions, args.index)
    results = answer_spans(index_dir, questions, args.k)
    n = len(results)
    sent = sum(r.in_sentence for r in results)
    short = sum(r.in_short for r in results)
    print(f"answer spans ({n} questions, k={args.k})")
    print(f"  {'answer':<22}{'contains gold':>14}{'share':>8}")
    print(f"  {'sentence (answer.text)':<22}{sent:>14}{sent / n:>8.0%}")
    print(f"  {'short span':<22}{short:>14}{short / n:>8.0%}")
    got = sum(r.retrieved for r in results)
    print(f"  {'gold clause in top 3':<22}{got:>14}{got / n:>8.0%}  (the ceiling for extraction)")
    for r in results:
        if not r.in_short:
            where = ("ok" if r.in_sentence else "MISS") + ("" if r.retrieved else ", not retrieved")
            print(f"  miss {r.qid} {r.query} | gold {r.gold} | short {r.short} | sentence {where}: {r.sentence[:70]}")
    if args.laws.is_dir():
        refs = crossrefs(args.laws)
        ok = sum(r.found for r in refs)
        print(f"\ncross-references (20 laws): {ok}/{len(refs)} resolved ({ok / max(1, len(refs)):.1%})")
        for r in refs:
            if not r.found:
                print(f"  unresolved {r.law} {r.clause}: {r.text} -> {r.target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
