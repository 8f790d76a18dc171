"""Alignment accuracy of `rag.text.align` on law pairs labelled by hand (tests/data/diff_law_pairs.jsonl).

Each label line names two versions of a law in the laws corpus and, for every old article, the new
articles that carry its text (the first is its main successor; [] = removed); new articles that no
old article names are added. An article is right when the aligner gives exactly its labelled set
(strict), or at least links its main successor and nothing outside the set (main); an added article
is right when the aligner leaves it unpaired. Also counts the figure, deadline and penalty changes
the aligner marks. `python -m rag.evaluation.diff_eval [LABELS] [LAWS_DIR]` prints two tables: the
aligner on the characters only, and with the meaning of the articles (`align(similar=…)`: the cosines
of the default embedder's vectors of their passage texts, as an ingest embeds them).

`HELD_OUT` (tests/data/diff_law_pairs_heldout.jsonl) holds two more pairs, each labelled by hand before
the aligner was next changed and never used to tune it: a check against over-fitting the five
(反间谍法 2014→2023; 保守国家秘密法 2010→2024, labelled before the semantic signal was tried; as in
国防教育法, a new catch-all 构成犯罪的，依法追究刑事责任 article counts as added).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.embedding.embed import Embedder, make_embedder, parse_spec
from rag.reading.load import Document, load_file
from rag.storage.passages import passage_text
from rag.text.align import Pair, Similar, align
from rag.text.split import Clause, split_document

LABELS = Path(__file__).resolve().parents[2] / "tests" / "data" / "diff_law_pairs.jsonl"
HELD_OUT = LABELS.with_name("diff_law_pairs_heldout.jsonl")
LAWS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "laws"


@dataclass
class PairScore:
    """How one labelled law pair came out."""

    law: str
    articles: int = 0  # old articles plus added new ones
    strict: int = 0
    main: int = 0
    changes: Counter = field(default_factory=Counter)  # change kind -> how many marked
    wrong: list[str] = field(default_factory=list)  # "old -> predicted (labelled)"

    @property
    def strict_share(self) -> float:
        return self.strict / self.articles if self.articles else 0.0

    @property
    def main_share(self) -> float:
        return self.main / self.articles if self.articles else 0.0


def read_labels(path: str | Path = LABELS) -> list[dict]:
    """The label records, one per law pair."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def align_files(old: str | Path, new: str | Path, embedder: Embedder | None = None) -> list[Pair]:
    """The aligned pairs of two documents read and split as an ingest does; with `embedder`, also by the
    meaning of their clauses (the cosines of their passage vectors)."""
    a, b = load_file(old), load_file(new)
    return align(split_document(a), split_document(b), None if embedder is None else embedded(embedder, a, b))


def embedded(embedder: Embedder, old: Document, new: Document) -> Similar:
    """`align`'s `similar` for two documents' clauses: the cosines of their passage vectors."""

    def similar(a: Sequence[Clause], b: Sequence[Clause]) -> np.ndarray:
        va = embedder.embed_passages([passage_text(old, c) for c in a])
        vb = embedder.embed_passages([passage_text(new, c) for c in b])
        return va @ vb.T

    return similar


def score_pair(label: dict, pairs: list[Pair]) -> PairScore:
    """The scores of one law pair against its labels."""
    got: dict[str, set[str]] = {}
    linked_new: set[str] = set()
    new_labels: list[str] = []
    out = PairScore(label["law"])
    for p in pairs:
        if p.old is not None:
            got.setdefault(p.old.label, set())
        if p.new is not None:
            new_labels.append(p.new.label)
        if p.old is not None and p.new is not None:
            got[p.old.label].add(p.new.label)
            linked_new.add(p.new.label)
        for c in p.changes:
            out.changes[c.kind] += 1
    named = {n for targets in label["map"].values() for n in targets}
    for old, targets in label["map"].items():
        pred = got.get(old, set())
        out.articles += 1
        out.strict += pred == set(targets)
        out.main += (not targets and not pred) or (bool(targets) and targets[0] in pred and pred <= set(targets))
        if pred != set(targets):
            out.wrong.append(f"{old} -> {','.join(sorted(pred)) or '-'} (labelled {','.join(targets) or '-'})")
    for new in dict.fromkeys(new_labels):
        if new.startswith("第") and new.endswith("条") and new not in named:
            out.articles += 1
            ok = new not in linked_new
            out.strict += ok
            out.main += ok
            if not ok:
                out.wrong.append(f"added {new} was paired")
    return out


def evaluate(labels: str | Path = LABELS, laws: str | Path = LAWS, embedder: Embedder | None = None
             ) -> list[PairScore]:  # fmt: skip
    """Scores of every labelled pair (the laws read from `laws`; with `embedder`, aligned by meaning too)."""
    root = Path(laws)
    return [score_pair(rec, align_files(root / rec["old"], root / rec["new"], embedder))
            for rec in read_labels(labels)]  # fmt: skip


def table(scores: list[PairScore]) -> str:
    """A Markdown table: per pair and overall accuracy, and the changes marked by kind."""
    lines = ["| law pair | articles | strict | main | figure | deadline | penalty | date | body |", "|---" * 9 + "|"]
    for s in scores:
        lines.append(f"| {s.law} | {s.articles} | {s.strict_share:.3f} | {s.main_share:.3f} | "
                     + " | ".join(str(s.changes[k]) for k in ("figure", "deadline", "penalty", "date", "body")) + " |")
    n = sum(s.articles for s in scores)
    total = Counter()
    for s in scores:
        total.update(s.changes)
    lines.append(f"| all | {n} | {sum(s.strict for s in scores) / n:.3f} | {sum(s.main for s in scores) / n:.3f} | "
                 + " | ".join(str(total[k]) for k in ("figure", "deadline", "penalty", "date", "body")) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    labels, laws = (argv + [str(LABELS), str(LAWS)][len(argv) :])[:2]
    embedder = make_embedder(parse_spec(None))
    for name, with_embedder in (("characters only", None), (f"with meaning ({embedder.spec.id})", embedder)):
        scores = evaluate(labels, laws, with_embedder)
        print(f"{name}:\n{table(scores)}\n")
        for s in scores:
            for w in s.wrong:
                print(f"  {name}: {s.law}: {w}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
