"""Answer figures: `python -m rag.evaluation.answers`.

(a) Answer spans: the documents named in `tests/data/answer_spans.jsonl` are ingested into a
folder index (reused under `build/answer-spans`; default embedder, or `--embedder`), each
question is searched (k=5) and answered as `rag ask` answers it (`rag.answers.ask.answer_hits`);
the table counts how often the answer sentence and the short span contain the gold span, and the
misses are listed. The concise
criterion: the short span (or the sentence when there is none) contains the gold span and is at
most `CONCISE_FACTOR` × its length + `CONCISE_SLACK` characters; printed overall and per kind
(the row's "kind", else `question_kind` of the question: amount / time / body).

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
from typing import TYPE_CHECKING

from rag.answers.ask import answer_hits
from rag.answers.extract import candidates, question_focus, question_kind
from rag.text.numerals import find_refs

if TYPE_CHECKING:
    from rag.embedding.embed import EmbedderSpec

REPO = Path(__file__).resolve().parents[2]
SPANS = REPO / "tests" / "data" / "answer_spans.jsonl"
SHARED = REPO.parent / "shared" / "corpora"
CROSSREF_WORDS = ("本法", "本条例", "本规定", "本办法", "本解释")
CONCISE_FACTOR = 3
CONCISE_SLACK = 40
SPAN_KINDS = ("amount", "time", "body", "other")  # the figure/date/body rows (no "kind" field)


def concise(answer: str, gold: str) -> bool:
    """`answer` holds `gold` and is at most CONCISE_FACTOR × len(gold) + CONCISE_SLACK characters."""
    return gold in answer and len(answer) <= CONCISE_FACTOR * len(gold) + CONCISE_SLACK


@dataclass(frozen=True)
class SpanResult:
    qid: str
    query: str
    gold: str
    sentence: str
    short: str | None
    retrieved: bool  # the gold span is in one of the top 3 hits' clauses (what `extract` reads)
    kind: str = ""

    @property
    def in_sentence(self) -> bool:
        return self.gold in self.sentence

    @property
    def in_short(self) -> bool:
        return self.short is not None and self.gold in self.short

    @property
    def answer(self) -> str:
        """What a reader quotes: the short span, or the sentence when there is none."""
        return self.short if self.short is not None else self.sentence

    @property
    def concise(self) -> bool:
        return concise(self.answer, self.gold)

    @property
    def figure_exact(self) -> bool:
        """For an amount or time question: the short span lies inside the gold span and holds every figure,
        date and deadline the gold span holds (九十日内 for a gold 自立案之日起九十日内: what the gold adds
        around its figure is no part of the answer; 满十六周岁 for 未满十六周岁 is wrong)."""
        if self.kind not in ("amount", "time") or self.short is None or self.short not in self.gold:
            return False
        facts = [self.gold[s:e] for s, e in candidates(self.kind, self.gold)]
        return bool(facts) and all(f in self.short for f in facts)


# the policy set's kinds (tests/data/policy_questions.jsonl) in this table's names
POLICY_KINDS = {"figure": "amount", "deadline": "time", "body": "body"}


def load_questions(path: Path = SPANS) -> list[dict]:
    """The questions with an answer span: this set's rows, or the policy set's (its gold clause's title, its
    figure/deadline/body kinds as amount/time/body; a rule, procedure or other row's kind left to the query)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        q = json.loads(line) if line.strip() else {}
        if not q.get("answer"):
            continue
        if "title" not in q:
            kind = POLICY_KINDS.get(q.get("kind", ""))
            q = {**q, "title": q["relevant"][0]["title"], "kind": kind or question_focus(q["query"]) or "rule"}
        out.append(q)
    return out


def source_path(source: str) -> Path:
    """'corpus/…', 'tests/…' -> the repository's file; 'local-regs/…' -> the shared corpus file."""
    return REPO / source if source.startswith(("corpus/", "tests/")) else SHARED / source


def kind_of(question: dict) -> str:
    """The row's "kind"; for the figure/date/body rows without one, `question_kind` of the query."""
    return question.get("kind") or question_kind(question["query"]) or "other"


def build_index(questions: list[dict], index_dir: Path, spec: EmbedderSpec | None = None) -> Path:
    """Ingest the questions' source files (copied into one folder) into `index_dir` with `spec` (None: the
    default embedder); reused when current."""
    from rag.ingest.pipeline import ingest

    files = sorted({source_path(q["source"]) for q in questions})
    staging = index_dir.parent / (index_dir.name + "-files")
    staging.mkdir(parents=True, exist_ok=True)
    for f in files:
        target = staging / f.name
        if not target.exists():
            shutil.copyfile(f, target)
    ingest([staging], index_dir, spec, show_progress=False)
    return index_dir


def answer_spans(index_dir: Path, questions: list[dict], k: int = 5) -> list[SpanResult]:
    from rag.search.retrieve import Searcher
    from rag.storage.index import ClauseIndex

    searcher = Searcher(ClauseIndex.load(index_dir))
    out = []
    for q in questions:
        hits = searcher.search(q["query"], k=k)
        # as `rag ask` answers (a list's next clause too, the sentences' meaning)
        a = answer_hits(searcher.index, q["query"], hits, meaning=searcher.meaning(q["query"])).answer
        retrieved = any(q["answer"] in h.clause.text and h.doc.title == q["title"] for h in hits[:3])
        short = a.short.text if a.short else None
        out.append(SpanResult(q["qid"], q["query"], q["answer"], a.text, short, retrieved, kind_of(q)))
    return out


def concise_table(results: list[SpanResult]) -> list[str]:
    """Lines of the concise-criterion table: overall, then per kind."""
    kinds = sorted({r.kind for r in results}, key=lambda k: (k not in SPAN_KINDS, k))
    rows = [
        ("all", results),
        ("figure/date/body", [r for r in results if r.kind in SPAN_KINDS]),
        ("how/which/why", [r for r in results if r.kind not in SPAN_KINDS]),
    ] + [(f"  {k}", [r for r in results if r.kind == k]) for k in kinds]
    lines = [f"  {'kind':<22}{'questions':>10}{'concise':>9}{'share':>8}{'or figure-exact':>17}"]
    for name, rs in rows:
        ok = sum(r.concise for r in rs)
        either = sum(r.concise or r.figure_exact for r in rs)
        n = max(1, len(rs))
        lines.append(f"  {name:<22}{len(rs):>10}{ok:>9}{ok / n:>8.0%}{either:>11}{either / n:>6.0%}")
    return lines


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
    ap.add_argument("--questions", type=Path, default=SPANS,
                    help="questions with answer spans (default: the answer-span set; or the policy set's file)")
    ap.add_argument("--index", type=Path, help="default: build/answer-spans, or build/answer-spans-QUESTIONS")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--laws", type=Path, default=SHARED / "laws")
    ap.add_argument(
        "--embedder", default=None, help="embedder of a new index (default: the packaged one; see rag ingest)"
    )
    args = ap.parse_args(argv)
    from rag.embedding.embed import parse_spec

    questions = load_questions(args.questions)
    default = "answer-spans" if args.questions == SPANS else f"answer-spans-{args.questions.stem}"
    spec = parse_spec(args.embedder) if args.embedder else None
    index_dir = build_index(questions, args.index or REPO / "build" / default, spec)
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
    print(f"concise: the short span (else the sentence) holds the gold span in <= {CONCISE_FACTOR}x its length"
          f" + {CONCISE_SLACK} characters")  # fmt: skip
    print("figure-exact: for an amount or time question, the short span lies inside the gold span and holds"
          " every figure, date and deadline in it")  # fmt: skip
    print("\n".join(concise_table(results)))
    for r in results:  # the figure/date/body questions ask for a short span
        if not r.in_short and r.kind in SPAN_KINDS:
            where = ("ok" if r.in_sentence else "MISS") + ("" if r.retrieved else ", not retrieved")
            print(f"  miss {r.qid} {r.query} | gold {r.gold} | short {r.short} | sentence {where}: {r.sentence[:70]}")
    for r in results:
        if not r.concise:
            where = "" if r.retrieved else " (not retrieved)"
            print(f"  not concise {r.qid} [{r.kind}]{where} {r.query} | gold {r.gold} | answer {r.answer[:90]}")
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
