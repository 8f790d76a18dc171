"""The folder index's files: what one generation folder holds, written and read back.

A generation holds documents.jsonl (each document's metadata and clause digest), clauses.jsonl
(each clause and its content key), dense.faiss (FAISS's own format), bm25/ (bm25s, no pickle),
terms.json (the library's term list, when the lexical settings use one), windows.faiss and
window_owner.npy (the sentence windows' vectors and each one's clause row, with the dense tier), citations.jsonl (the
references its clauses make, resolved at ingest; absent in older generations) and manifest.json (versions,
embedder, lexical settings, counts and every file's size and sha256). Reading treats every byte as
untrusted: any parse failure is `DamagedGeneration`, so the loader falls back to the previous one.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import bm25s
import faiss
import numpy as np

from rag import __version__
from rag.embedding.embed import EmbedderSpec
from rag.storage.dense import finite
from rag.storage.errors import DamagedGeneration, IndexLoadError, UnsafeIndexError
from rag.storage.generations import MANIFEST, TERMS_FILE, check_files, read_manifest
from rag.storage.safe_io import fsync_file, lexists, read_file, sha256_file
from rag.storage.store import CitationRecord, DocInfo
from rag.text.split import CHUNKER_VERSION, Clause
from rag.text.terms import MAX_TERMS, TERMS_VERSION, LexicalConfig, valid_term

FORMAT_VERSION = 2  # 2: the lexical settings (`LexicalConfig`) and the library's term list (terms.json)
READ_FORMATS = (1, 2)  # a version-1 index is a plain lexical one and reads as such


class Generation(NamedTuple):
    """What one generation holds: everything a `ClauseIndex` is made of, in its constructor's order."""

    spec: EmbedderSpec
    dim: int
    docs: dict[str, DocInfo]
    clauses: list[Clause]
    keys: list[str]
    dense: faiss.Index | None
    bm25: bm25s.BM25 | None
    manifest: dict
    lexical: LexicalConfig
    terms: Sequence[str]
    citations: Sequence[CitationRecord] | None = None
    windows: faiss.Index | None = None
    window_owner: np.ndarray | None = None
    window_chars: int = 0


CITATIONS_FILE = "citations.jsonl"
WINDOWS_FILE, OWNERS_FILE = "windows.faiss", "window_owner.npy"  # the sentence windows' vectors, each one's clause row


def write_files(d: Path, where: list[str], gen: Generation, tiers: Mapping[str, bool]) -> None:
    """Write every file of a generation holding `gen` (with these complete `tiers`) into `d`, appending each
    file's path to `where` before writing it (so an error names it)."""
    by_doc: dict[str, list[Clause]] = {}
    for c in gen.clauses:
        by_doc.setdefault(c.doc_id, []).append(c)
    where.append(str(d / "documents.jsonl"))
    with open(d / "documents.jsonl", "w", encoding="utf-8") as f:
        for info in gen.docs.values():
            rec = asdict(info)
            rec["clauses_digest"] = clauses_digest(by_doc.get(info.doc_id, []))
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    where.append(str(d / "clauses.jsonl"))
    with open(d / "clauses.jsonl", "w", encoding="utf-8") as f:
        for c, k in zip(gen.clauses, gen.keys):
            rec = asdict(c)
            rec["headings"] = list(c.headings)
            rec["key"] = k
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    if gen.dense is not None:
        where.append(str(d / "dense.faiss"))
        faiss.write_index(gen.dense, str(d / "dense.faiss"))
    if gen.windows is not None:
        where.append(str(d / WINDOWS_FILE))
        faiss.write_index(gen.windows, str(d / WINDOWS_FILE))
        where.append(str(d / OWNERS_FILE))
        np.save(d / OWNERS_FILE, np.asarray(gen.window_owner, "<i8"), allow_pickle=False)
    if gen.bm25 is not None:
        where.append(str(d / "bm25"))
        gen.bm25.save(str(d / "bm25"), show_progress=False)
    if gen.lexical.terms:
        where.append(str(d / TERMS_FILE))
        rec = {"version": TERMS_VERSION, "terms": list(gen.terms)}
        (d / TERMS_FILE).write_text(json.dumps(rec, ensure_ascii=False, indent=0), encoding="utf-8")
    if gen.citations is not None:
        where.append(str(d / CITATIONS_FILE))
        with open(d / CITATIONS_FILE, "w", encoding="utf-8") as f:
            for r in gen.citations:
                f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    files = {}
    for p in sorted(d.rglob("*")):
        if p.is_file():
            fsync_file(p)
            files[p.relative_to(d).as_posix()] = {"size": p.stat().st_size, "sha256": sha256_file(p)}
    manifest = {
        **gen.manifest,
        "format_version": FORMAT_VERSION,
        "rag_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "embedder": {**gen.spec.to_dict(), "id": gen.spec.id, "dim": gen.dim},
        "chunker_version": CHUNKER_VERSION,
        "lexical": gen.lexical.to_dict(),
        "windows": {"min_chars": gen.window_chars, "count": 0 if gen.windows is None else gen.windows.ntotal},
        "counts": {"documents": len(gen.docs), "clauses": len(gen.clauses)},
        "tiers": dict(tiers),
        "documents": {i.doc_id: {"source": i.source, "sha256": i.sha256} for i in gen.docs.values()},
        "files": files,
    }
    manifest.pop("problems", None)
    manifest.pop("terms", None)
    if gen.lexical.terms:
        manifest["terms"] = {"version": TERMS_VERSION, "count": len(gen.terms)}
    where.append(str(d / MANIFEST))
    (d / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    fsync_file(d / MANIFEST)


def read_files(
    d: Path, root: Path, expect: EmbedderSpec | None, full: bool = False
) -> tuple[Generation, dict[str, str]]:
    """What one generation folder of the index at `root` holds, and each document's clause digest.

    Raises:
        DamagedGeneration: any of its files is unusable.
        IndexLoadError: another format version, chunker or term-list version, or (when `expect` is given)
            another embedder; the message says what to run.
    """
    manifest = read_manifest(d)
    fv = manifest.get("format_version")
    if fv not in READ_FORMATS:
        raise IndexLoadError(
            f"{d}: index format version {fv}, but this rag ({__version__}) reads versions "
            f"{', '.join(map(str, READ_FORMATS))}. Rebuild it: rag ingest PATH... --index {root}"
        )
    if manifest.get("chunker_version") != CHUNKER_VERSION:
        raise IndexLoadError(
            f"{d}: clauses were split by chunker version {manifest.get('chunker_version')}, this rag uses "
            f"{CHUNKER_VERSION}. Rebuild it: rag ingest PATH... --index {root}"
        )
    try:
        emb = manifest["embedder"]
        spec = EmbedderSpec.from_dict(emb)
        dim = int(emb["dim"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DamagedGeneration(f"{d / MANIFEST}: no usable embedder record ({exc})") from None
    try:
        lexical = LexicalConfig.from_dict(manifest.get("lexical"))
    except (TypeError, ValueError) as exc:
        raise DamagedGeneration(f"{d / MANIFEST}: no usable lexical settings ({exc})") from None
    if lexical.terms and (manifest.get("terms") or {}).get("version") != TERMS_VERSION:
        raise IndexLoadError(
            f"{d}: its term list was built by term-list version {(manifest.get('terms') or {}).get('version')}, "
            f"this rag tokenises with version {TERMS_VERSION}. Rebuild it: rag ingest PATH... --index {root}"
        )
    if expect is not None and expect != spec:
        raise IndexLoadError(
            f"{d}: built with embedder {spec.id!r}, but {expect.id!r} was asked for. Search it without "
            f"choosing an embedder, or rebuild it with the new one: rag ingest PATH... --index {root} "
            f"--embedder {expect.model}"
        )
    problems = check_files(d, manifest, full=full)
    if problems:
        raise DamagedGeneration("; ".join(problems))
    sizes = {k: v.get("size") for k, v in (manifest.get("files") or {}).items() if isinstance(v, dict)}
    docs: dict[str, DocInfo] = {}
    digests: dict[str, str] = {}
    clauses, keys = [], []
    where = d / "documents.jsonl"
    try:
        for line in read_file(where, sizes.get("documents.jsonl"), None).decode("utf-8").splitlines():
            rec = json.loads(line)
            info = DocInfo.from_json(rec)
            docs[info.doc_id] = info
            if rec.get("clauses_digest"):
                digests[info.doc_id] = rec["clauses_digest"]
        where = d / "clauses.jsonl"
        for line in read_file(where, sizes.get("clauses.jsonl"), None).decode("utf-8").splitlines():
            rec = json.loads(line)
            keys.append(rec.pop("key"))
            rec["headings"] = tuple(rec["headings"])
            clauses.append(Clause(**rec))
        if any(c.doc_id not in docs for c in clauses):
            raise ValueError("a clause names a document that is not in documents.jsonl")
        dense = None
        where = d / "dense.faiss"
        if lexists(where):
            raw = read_file(where, sizes.get("dense.faiss"), None)
            dense = faiss.deserialize_index(np.frombuffer(raw, dtype=np.uint8))
            if dense.d != dim or dense.ntotal != len(clauses):
                raise ValueError("dense index does not match the manifest")
            if not finite(dense):
                raise ValueError("dense vectors hold NaN or infinite values (bytes changed on disk)")
            nprobe = (manifest.get("dense_index") or {}).get("nprobe")
            if nprobe and isinstance(dense, faiss.IndexIVF):
                dense.nprobe = int(nprobe)
        windows, owner = None, None
        window_chars = int((manifest.get("windows") or {}).get("min_chars") or 0)
        if WINDOWS_FILE in sizes:
            where = d / WINDOWS_FILE
            windows = faiss.deserialize_index(np.frombuffer(read_file(where, sizes[WINDOWS_FILE], None), np.uint8))
            where = d / OWNERS_FILE
            owner = np.load(io.BytesIO(read_file(where, sizes.get(OWNERS_FILE), None)), allow_pickle=False)
            if dense is None or windows.d != dim or owner.shape != (windows.ntotal,) or owner.dtype.kind != "i":
                raise ValueError("the sentence windows do not match the dense index")
            if len(owner) and (owner.min() < 0 or owner.max() >= len(clauses)) or not finite(windows):
                raise ValueError("a sentence window names no clause or holds NaN/infinite values")
            nprobe = (manifest.get("windows_index") or {}).get("nprobe")
            if nprobe and isinstance(windows, faiss.IndexIVF):
                windows.nprobe = int(nprobe)
        where = d / "bm25"
        bm25 = bm25s.BM25.load(str(where), allow_pickle=False) if lexists(where) else None
        if bm25 is not None and int(bm25.scores["num_docs"]) != len(clauses):
            raise ValueError("BM25 index does not match the clauses")
        terms: list[str] = []
        if lexical.terms:
            where = d / TERMS_FILE
            terms = _parse_terms(read_file(where, sizes.get(TERMS_FILE), None))
        citations = None
        if CITATIONS_FILE in sizes:
            where = d / CITATIONS_FILE
            raw = read_file(where, sizes.get(CITATIONS_FILE), None).decode("utf-8")
            citations = tuple(CitationRecord.from_dict(json.loads(line)) for line in raw.splitlines() if line)
    except Exception as exc:  # any parse failure of these untrusted bytes means: damaged
        if isinstance(exc, UnsafeIndexError):
            raise DamagedGeneration(str(exc)) from None
        raise DamagedGeneration(f"{where}: unreadable or damaged ({type(exc).__name__}: {exc})") from None
    return Generation(spec, dim, docs, clauses, keys, dense, bm25, manifest, lexical, terms, citations, windows,
                      owner, window_chars), digests  # fmt: skip


def _parse_terms(raw: bytes) -> list[str]:
    """The term list of a terms.json file; ValueError unless it is one this rag wrote."""
    rec = json.loads(raw.decode("utf-8"))
    if not isinstance(rec, dict) or rec.get("version") != TERMS_VERSION or not isinstance(rec.get("terms"), list):
        raise ValueError(f"not a version-{TERMS_VERSION} term list")
    terms = rec["terms"]
    if len(terms) > MAX_TERMS or not all(isinstance(t, str) and valid_term(t) for t in terms):
        raise ValueError(f"more than {MAX_TERMS} terms, or one that is not a term")
    return terms


def clauses_digest(clauses: Sequence[Clause]) -> str:
    """sha256 of a document's clauses as split (texts, spans, labels, headings): detects edits."""
    h = hashlib.sha256()
    for c in clauses:
        rec = [c.ordinal, c.label, list(c.headings), c.text, c.start, c.end, c.part]
        h.update(json.dumps(rec, ensure_ascii=False).encode("utf-8") + b"\n")
    return h.hexdigest()
