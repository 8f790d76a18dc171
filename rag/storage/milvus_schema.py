"""Milvus store records: the collection pair's schema, and clause, document, metadata and term-list
rows to and from what `rag.storage.milvus.MilvusStore` holds in memory.

A clause row's primary key is ``CLAUSE_ID@GEN``; ``doc_gen`` (``DOC_ID@GEN``) ties it to the
generation its document record names. ``headings`` is a JSON array as text; ``tokens`` are our jieba
tokens joined by spaces (cut to the field's size). The documents collection holds a record per
document (``info``: its `DocInfo` as JSON), the ``__rag_meta__`` record (embedder, format and lexical
settings as JSON) and the term list in ``__rag_terms__DIGEST_N`` chunks.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, replace

import numpy as np

from rag.embedding.embed import EmbedderSpec
from rag.reading.load import LoadError
from rag.storage.milvus_faults import StoreDamagedError
from rag.storage.store import CitationRecord, DocChange
from rag.text.split import Clause
from rag.text.terms import MAX_TERMS, TERMS_VERSION, LexicalConfig, terms_digest, valid_term

logger = logging.getLogger(__name__)

META_ID = "__rag_meta__"
TERMS_ID = "__rag_terms__"  # + digest + _N: the chunks of a term list
CITES_ID = "__rag_cites__"  # + digest + _N: the chunks of the library's resolved references
CITES_EXPR = f'gen == "" and doc_id like "{CITES_ID}%"'
SKIPPED_ID = "__rag_skipped__"  # + sha1 of the source: a file not indexed
SKIPPED_EXPR = f'gen == "" and doc_id like "{SKIPPED_ID}%"'
FORMAT_VERSION = 2  # 2: lexical settings and term list in the metadata
TERMS_CHUNK = 60_000  # bytes of JSON per term-list row (the field holds 65,535)
BM25_K1, BM25_B = 1.5, 0.75  # bm25s's defaults (Lucene)
MAX_VARCHAR = 65535  # bytes
CLAUSE_FIELDS = ["clause_id", "doc_id", "ordinal", "label", "headings", "text", "start", "end", "part"]
LIKE_UNSAFE = set('%_\\"')  # characters a `like` pattern cannot hold as they are


def lit(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(value, ensure_ascii=False)


def in_list(field: str, values: Iterable[str]) -> str:
    """A Milvus filter expression: `field` is one of `values`."""
    return f"{field} in [{', '.join(lit(v) for v in values)}]"


def create_collections(client, collection: str, dim: int) -> None:
    """Create the clause collection (BM25 over ``tokens``, inner product over ``vector``) and its documents
    collection (a 2-d placeholder vector: Milvus needs one in every collection)."""
    from pymilvus import DataType, Function, FunctionType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=1024)
    s.add_field("clause_id", DataType.VARCHAR, max_length=1024)
    s.add_field("doc_id", DataType.VARCHAR, max_length=512)
    s.add_field("doc_gen", DataType.VARCHAR, max_length=1024)
    s.add_field("ordinal", DataType.INT64)
    s.add_field("label", DataType.VARCHAR, max_length=MAX_VARCHAR)
    s.add_field("headings", DataType.VARCHAR, max_length=MAX_VARCHAR)
    s.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    s.add_field("start", DataType.INT64)
    s.add_field("end", DataType.INT64)
    s.add_field("part", DataType.INT64)
    s.add_field("key", DataType.VARCHAR, max_length=64)
    s.add_field(
        "tokens", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
        analyzer_params={"tokenizer": "standard"},
    )  # fmt: skip
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    s.add_function(
        Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"],
                 output_field_names=["sparse"])
    )  # fmt: skip
    ip = client.prepare_index_params()
    ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                 params={"bm25_k1": BM25_K1, "bm25_b": BM25_B})  # fmt: skip
    ip.add_index("vector", index_type="FLAT", metric_type="IP")
    client.create_collection(collection, schema=s, index_params=ip, consistency_level="Strong")
    d = client.create_schema(auto_id=False, enable_dynamic_field=False)
    d.add_field("doc_id", DataType.VARCHAR, is_primary=True, max_length=512)
    d.add_field("gen", DataType.VARCHAR, max_length=64)
    d.add_field("info", DataType.VARCHAR, max_length=MAX_VARCHAR)
    d.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    dp = client.prepare_index_params()
    dp.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_collection(f"{collection}_docs", schema=d, index_params=dp, consistency_level="Strong")
    create_windows(client, collection, dim)


def create_windows(client, collection: str, dim: int) -> None:
    """Create the sentence-window collection (``{collection}_win``: one row per window, ``id``
    ``CLAUSE_ID#K@GEN``, its clause's ``clause_id``, ``doc_id`` and ``doc_gen``, and its ``vector``) unless it
    is there (a store made before windows gets it on opening)."""
    from pymilvus import DataType

    if client.has_collection(f"{collection}_win"):
        return
    w = client.create_schema(auto_id=False, enable_dynamic_field=False)
    w.add_field("id", DataType.VARCHAR, is_primary=True, max_length=1100)
    w.add_field("clause_id", DataType.VARCHAR, max_length=1024)
    w.add_field("doc_id", DataType.VARCHAR, max_length=512)
    w.add_field("doc_gen", DataType.VARCHAR, max_length=1024)
    w.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    wp = client.prepare_index_params()
    wp.add_index("vector", index_type="FLAT", metric_type="IP")
    client.create_collection(f"{collection}_win", schema=w, index_params=wp, consistency_level="Strong")


def window_rows(d: DocChange, gen: str) -> list[dict]:
    """The sentence-window rows of one upserted document under generation `gen`."""
    if d.windows is None:
        return []
    dg, seen = f"{d.info.doc_id}@{gen}", {}
    out = []
    for k, v in zip(d.window_of, d.windows):
        cid = d.clauses[k].clause_id
        seen[cid] = seen.get(cid, -1) + 1
        out.append({"id": f"{cid}#{seen[cid]}@{gen}", "clause_id": cid, "doc_id": d.info.doc_id, "doc_gen": dg,
                    "vector": np.asarray(v, dtype=np.float32).tolist()})  # fmt: skip
    return out


def clause_from_row(row: Mapping) -> Clause:
    return Clause(
        doc_id=row["doc_id"], ordinal=int(row["ordinal"]), label=row["label"],
        headings=tuple(json.loads(row["headings"])), text=row["text"], start=int(row["start"]),
        end=int(row["end"]), part=int(row["part"]),
    )  # fmt: skip


def truncate_utf8(text: str, limit: int = MAX_VARCHAR) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    logger.warning("a clause's tokens exceed %d bytes; the rest is not indexed lexically", limit)
    return raw[:limit].decode("utf-8", "ignore").rsplit(" ", 1)[0]


def clause_rows(d: DocChange, gen: str) -> list[dict]:
    """The clause rows of one upserted document under generation `gen`."""
    dg = f"{d.info.doc_id}@{gen}"
    return [
        {
            "id": f"{c.clause_id}@{gen}", "clause_id": c.clause_id, "doc_id": d.info.doc_id, "doc_gen": dg,
            "ordinal": c.ordinal, "label": c.label, "headings": json.dumps(list(c.headings), ensure_ascii=False),
            "text": c.text, "start": c.start, "end": c.end, "part": c.part, "key": k,
            "tokens": truncate_utf8(" ".join(t)), "vector": np.asarray(v, dtype=np.float32).tolist(),
        }
        for c, k, t, v in zip(d.clauses, d.keys, d.tokens, d.vectors if d.vectors is not None else [])
    ]  # fmt: skip


def doc_record(d: DocChange, gen: str) -> dict:
    """The record of one upserted document, naming its rows of generation `gen`."""
    return {"doc_id": d.info.doc_id, "gen": gen, "v": [0.0, 0.0],
            "info": json.dumps(asdict(replace(d.info, n_clauses=len(d.clauses))), ensure_ascii=False)}  # fmt: skip


def meta_row(spec: EmbedderSpec, dim: int, lexical: LexicalConfig, terms: Sequence[str], term_rows: int,
             window_chars: int = 0) -> dict:  # fmt: skip
    """The metadata record: embedder, format version, lexical settings, the term list's rows and the clauses
    that have sentence windows (over `window_chars` characters; 0: none)."""
    rec = {"embedder": spec.to_dict(), "dim": dim, "format_version": FORMAT_VERSION, "lexical": lexical.to_dict(),
           "windows": window_chars}  # fmt: skip
    if lexical.terms:
        rec["terms"] = {"version": TERMS_VERSION, "digest": terms_digest(terms), "rows": term_rows}
    return {"doc_id": META_ID, "gen": "", "info": json.dumps(rec, ensure_ascii=False), "v": [0.0, 0.0]}


def skipped_rows(skipped: Iterable[LoadError]) -> list[dict]:
    """A record per file not indexed (its source and reason), keyed by the source."""
    return [{"doc_id": SKIPPED_ID + hashlib.sha1(e.source.encode("utf-8")).hexdigest(), "gen": "", "v": [0.0, 0.0],
             "info": json.dumps({"source": e.source[:4000], "reason": e.reason[:4000]}, ensure_ascii=False)}
            for e in skipped]  # fmt: skip


def read_skipped(rows: Iterable[Mapping]) -> list[dict]:
    """The files not indexed ({"source", "reason"}, by source) the records hold; a record that does not parse
    is left out (the list is a report, not the library)."""
    out = []
    for r in rows:
        try:
            rec = json.loads(r["info"]) if str(r["doc_id"]).startswith(SKIPPED_ID) else None
        except (TypeError, ValueError):
            rec = None
        if isinstance(rec, dict) and isinstance(rec.get("source"), str) and isinstance(rec.get("reason"), str):
            out.append({"source": rec["source"], "reason": rec["reason"]})
    return sorted(out, key=lambda r: r["source"])


def json_chunks(items: Sequence) -> list[list]:
    """`items` in runs whose JSON stays under the field size limit (one run, maybe empty, at least)."""
    chunks: list[list] = [[]]
    size = 0
    for item in items:
        b = len(json.dumps(item, ensure_ascii=False).encode("utf-8")) + 2
        if size + b > TERMS_CHUNK and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += b
    return chunks


def term_rows(terms: Sequence[str]) -> list[dict]:
    """A term list as rows of JSON chunks under the field size limit, named by the list's digest."""
    chunks = json_chunks(terms)
    digest = terms_digest(terms)
    return [{"doc_id": f"{TERMS_ID}{digest}_{i}", "gen": "", "info": json.dumps(c, ensure_ascii=False),
             "v": [0.0, 0.0]} for i, c in enumerate(chunks)]  # fmt: skip


def citation_rows(records: Sequence[CitationRecord]) -> list[dict]:
    """The references as rows of JSON chunks under the field size limit, each naming its set (a digest of them
    all) and the number of chunks, so that a set a killed ingest left half written is never read."""
    chunks = json_chunks([r.to_dict() for r in records])
    digest = hashlib.sha1(json.dumps(chunks, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]
    return [{"doc_id": f"{CITES_ID}{digest}_{i}", "gen": "", "v": [0.0, 0.0],
             "info": json.dumps({"set": digest, "i": i, "n": len(chunks), "records": c}, ensure_ascii=False)}
            for i, c in enumerate(chunks)]  # fmt: skip


def read_citations(rows: Iterable[Mapping]) -> tuple[tuple[CitationRecord, ...] | None, list[str]]:
    """The recorded references (None: none recorded, or no complete set) and the ids of the rows of every other
    set (left by an earlier ingest, to remove). A chunk that does not parse is left out: the references are
    then built on demand, as for a store written before they were recorded."""
    sets: dict[str, dict[int, list[CitationRecord]]] = {}
    size: dict[str, int] = {}
    ids: dict[str, list[str]] = {}
    for r in rows:
        try:
            rec = json.loads(r["info"])
            chunk = [CitationRecord.from_dict(x) for x in rec["records"]]
            key, i, n = str(rec["set"]), int(rec["i"]), int(rec["n"])
        except (TypeError, ValueError, KeyError):
            continue
        sets.setdefault(key, {})[i] = chunk
        size[key] = n
        ids.setdefault(key, []).append(str(r["doc_id"]))
    complete = [k for k, parts in sets.items() if set(parts) == set(range(size[k]))]
    if len(complete) != 1:
        return None, [i for k in ids for i in ids[k]]
    key = complete[0]
    return tuple(x for i in range(size[key]) for x in sets[key][i]), [i for k in ids if k != key for i in ids[k]]


def term_ids(terms: Sequence[str], rows: int) -> list[str]:
    """The ids of the rows holding a term list."""
    digest = terms_digest(terms)
    return [f"{TERMS_ID}{digest}_{i}" for i in range(rows)]


def read_meta(client, docs_collection: str, what: str, again: str) -> tuple[dict, EmbedderSpec, int]:
    """The metadata record, with the embedder and dimension it names (`what` names the store, `again`
    says how to rebuild it).

    Raises:
        StoreDamagedError: no record, one that does not parse, or a format this rag does not read.
    """
    meta = client.get(docs_collection, ids=[META_ID], output_fields=["info"])
    if not meta:
        raise StoreDamagedError(f"{what} has no rag metadata record ({META_ID} in {docs_collection})", again)
    try:
        rec = json.loads(meta[0]["info"])
        version = rec.get("format_version", 1)
    except (ValueError, TypeError, AttributeError) as exc:
        raise StoreDamagedError(f"{what}: its rag metadata record is not valid ({exc})", again) from None
    if version not in (1, FORMAT_VERSION):
        raise StoreDamagedError(f"{what} has format version {version!r}, this rag reads versions 1 and "
                                f"{FORMAT_VERSION}", again)  # fmt: skip
    try:
        if not isinstance(rec["embedder"], dict) or not all(isinstance(v, str) for v in rec["embedder"].values()):
            raise ValueError(f"embedder {rec['embedder']!r}")
        spec, dim = EmbedderSpec.from_dict(rec["embedder"]), rec["dim"]
        if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
            raise ValueError(f"dim {dim!r}")
        windows = rec.get("windows", 0)
        if isinstance(windows, bool) or not isinstance(windows, int) or windows < 0:
            raise ValueError(f"windows {windows!r}")
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreDamagedError(f"{what}: its rag metadata record is not valid ({exc})", again) from None
    return rec, spec, dim


def read_lexicon(
    client, docs_collection: str, meta: dict, what: str, again: str
) -> tuple[LexicalConfig, list[str], int]:
    """The lexical settings, term list and its row count a metadata record names (`what` names the
    store, `again` says how to rebuild it).

    Raises:
        StoreDamagedError: settings or a term list this rag cannot use.
    """
    try:
        lexical = LexicalConfig.from_dict(meta.get("lexical"))
    except (TypeError, ValueError, AttributeError) as exc:
        raise StoreDamagedError(f"{what}: unusable lexical settings ({exc})", again) from None
    if not lexical.terms:
        return lexical, [], 0
    rec = meta.get("terms") if isinstance(meta.get("terms"), dict) else {}
    if rec.get("version") != TERMS_VERSION:
        raise StoreDamagedError(f"{what}: term list version {rec.get('version')}, this rag uses {TERMS_VERSION}",
                                again)  # fmt: skip
    digest, n = rec.get("digest"), rec.get("rows")
    if not isinstance(digest, str) or not isinstance(n, int) or not 0 <= n <= MAX_TERMS:
        raise StoreDamagedError(f"{what}: damaged term-list record", again)
    ids = [f"{TERMS_ID}{digest}_{i}" for i in range(n)]
    rows: dict[str, str] = {}
    for b in range(0, n, 100):
        rows.update({r["doc_id"]: r["info"] for r in client.get(docs_collection, ids=ids[b : b + 100],
                                                                  output_fields=["info"])})  # fmt: skip
    try:
        terms = [t for i in ids for t in json.loads(rows[i])]
    except (KeyError, TypeError, ValueError):
        terms = None
    if (terms is None or len(terms) > MAX_TERMS or not all(isinstance(t, str) and valid_term(t) for t in terms)
            or terms_digest(terms) != digest):  # fmt: skip
        raise StoreDamagedError(f"{what}: its term list is missing or damaged", again)
    return lexical, terms, n

