"""HTTP search API (`rag serve`): read-only JSON endpoints over one store (a folder index or Milvus).

GET /health, GET|POST /search, GET|POST /ask, GET /clauses/{clause_id}, GET /documents,
GET /openapi.json. Search hits are exactly `rag search --json`'s (`Hit.to_dict()`), wrapped as
{"query", "hits", "notice"?}; an answer is exactly `rag ask --json`'s (`AskResult.to_dict()`, plus
"notice"?). A generated answer (`generate=true`) uses only the model server the server's own
environment names (`RAG_LLM=URL#MODEL`, `RAG_LLM_TIMEOUT`), never one a client names. Every error
is a JSON object {"error": ..., "code": <HTTP status>}; no traceback ever reaches a client. The
store is held by `rag.interfaces.library.Library`, as in the app: loaded once, reloaded when its
`CURRENT` pointer names another generation (checked at most every `reload_s` seconds; a Milvus
store re-reads its document records as often), the previous complete generation when the current
one is damaged.

A plain Starlette app (already installed with Streamlit) with a hand-written OpenAPI
description: no new dependency, and errors keep one shape (FastAPI's validation errors would
need overriding to do that).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from rag.citing.citations import CitationGraph
from rag.citing.cite import citation
from rag.interfaces.library import Library, ModelServer, ModelServerError, with_citations
from rag.search.retrieve import MODES, Filters, Hit, cap_query, doc_type, parse_config
from rag.storage.catalogue import status_book
from rag.storage.errors import IndexLoadError
from rag.storage.store import Store

logger = logging.getLogger(__name__)

MAX_K = 100  # as `rag search -k`
MAX_BODY_BYTES = 1 << 20  # a POST /search body; a 2,000-character question needs 6 KB
MAX_QUERY_BYTES = MAX_BODY_BYTES  # a GET query string: as much as a POST body (longer questions are cut)
MAX_REQUEST_HEAD = 8 << 20  # what uvicorn reads of a request's head before giving up (larger GETs get a 414)
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class ApiError(Exception):
    """A client-visible error: its message and HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


# ---------------------------------------------------------------- parameters


def _one(params: dict, name: str) -> object:
    value = params.get(name)
    if isinstance(value, list):
        if len(value) != 1:
            raise ApiError(f"{name}: give it once")
        value = value[0]
    return value


def _text(params: dict, name: str, default: str | None = None) -> str | None:
    value = _one(params, name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(f"{name} must be text, got {json.dumps(value)[:40]}")
    return value


def _int(params: dict, name: str, default: int, lo: int, hi: int) -> int:
    value = _one(params, name)
    if value is None:
        return default
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ApiError(f"{name}={value[:40]!r} is not a whole number (valid: {lo} to {hi})") from None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ApiError(f"{name}={json.dumps(value)[:40]} is out of range (valid: {lo} to {hi})")
    return value


def _bool(params: dict, name: str) -> bool:
    value = _one(params, name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ApiError(f"{name} must be true or false, got {json.dumps(value)[:40]}")


def _list(params: dict, name: str) -> list[str]:
    value = params.get(name)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise ApiError(f"{name} must be text or a list of texts")
    return values


def _settings(params: dict) -> list[str]:
    """`set` as NAME=VALUE strings: repeated in a query string, or a list or an object in a JSON body."""
    value = params.get("set")
    if isinstance(value, dict):
        return [f"{k}={'' if v is None else json.dumps(v) if isinstance(v, bool) else v}" for k, v in value.items()]
    return _list(params, "set")


def search_params(params: dict) -> dict:
    """Validated search arguments from a query string (values as lists) or a JSON body.

    Raises:
        ApiError: 400 naming the bad parameter and its valid values.
    """
    unknown = sorted(set(params) - {"q", "k", "mode", "doc", "folder", "type", "all_versions", "as_of", "place", "set"})
    if unknown:
        raise ApiError(f"unknown parameter(s) {unknown}; see /openapi.json")
    q = _text(params, "q")
    if not q or not q.strip():
        raise ApiError("q (the question) is required")
    mode = _text(params, "mode", "hybrid")
    if mode not in MODES:
        raise ApiError(f"unknown mode {mode!r}; choose one of {list(MODES)}")
    try:
        config = parse_config(_settings(params))
    except (ValueError, TypeError) as exc:
        raise ApiError(str(exc)) from None
    if config.adapter not in ("auto", "") or config.rerank_model:
        raise ApiError("over HTTP, adapter may only be 'auto' or '' and rerank_model is not settable "
                       "(they name files or models on the server)")  # fmt: skip
    try:
        filters = Filters(tuple(_list(params, "doc")), _text(params, "folder"), _text(params, "type"),
                          superseded=_bool(params, "all_versions"), as_of=_text(params, "as_of"))  # fmt: skip
    except ValueError as exc:
        raise ApiError(f"as_of: {exc}") from None
    try:
        filters = replace(filters, place=_text(params, "place"))
    except ValueError as exc:
        raise ApiError(f"place: {exc}") from None
    return {"q": q, "k": _int(params, "k", 5, 1, MAX_K), "mode": mode, "filters": filters, "config": config}


# ---------------------------------------------------------------- endpoints


def _holder(request: Request) -> Library:
    return request.app.state.holder


def _index(holder: Library) -> Store:
    """The store in service.

    Raises:
        ApiError: 503 when no store loads (the reason, without server paths).
    """
    try:
        return holder.index
    except IndexLoadError as exc:
        raise ApiError(holder.scrub(str(exc)), 503) from None


async def health(request: Request) -> JSONResponse:
    """200 with the index's generation, counts and tiers; 503 when no index loads."""
    holder = _holder(request)
    index = _index(holder)
    return JSONResponse(holder.public({
        "status": "ok", "index": "milvus" if holder.store else holder.index_dir.name, "generation": holder.generation,
        "documents": len(index.docs), "clauses": len(index), "tiers": index.tiers, "embedder": index.spec.id,
        "fallback": index.fallback, "problems": list(holder.problems),
        "reload_error": holder.error,
    }))  # fmt: skip


async def _params(request: Request) -> dict:
    if request.method == "GET" and len(request.url.query) > MAX_QUERY_BYTES:
        raise ApiError(f"the query string is over {MAX_QUERY_BYTES} bytes; POST the question as JSON", 414)
    if request.method == "GET":
        out: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            out.setdefault(name, []).append(value)
        return out
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(f"the request body is over {MAX_BODY_BYTES} bytes", 413)
    try:
        params = json.loads(body.decode("utf-8"))
    except RecursionError:
        raise ApiError("the JSON body is nested too deeply") from None
    except (UnicodeDecodeError, ValueError):
        raise ApiError('the body must be a JSON object, e.g. {"q": "…", "k": 5}') from None
    if not isinstance(params, dict):
        raise ApiError('the body must be a JSON object, e.g. {"q": "…", "k": 5}')
    return params


def run_search(holder: Library, args: dict) -> dict:
    """{"query", "hits", "notice"?}: the hits as `rag search --json` prints them."""
    question, cut = cap_query(args["q"])
    with _errors(holder):
        hits = holder.search(question, k=args["k"], filters=args["filters"], mode=args["mode"], config=args["config"])
    out: dict = {"query": question, "hits": [h.to_dict() for h in hits]}
    if cut:
        out["notice"] = f"the question has {len(args['q'])} characters; only the first {len(question)} are searched"
    return out


@contextlib.contextmanager
def _errors(holder: Library) -> Iterator[None]:
    """The library's errors as API errors: no store, or one failing under a search (Milvus down, damaged),
    503; a model server that is not there 400, or malformed 503; refused input 400."""
    try:
        yield
    except IndexLoadError as exc:
        raise ApiError(holder.scrub(str(exc)), 503) from None
    except ModelServerError as exc:
        raise ApiError(str(exc), 503 if exc.malformed else 400) from None
    except ValueError as exc:  # e.g. refused settings, or an embedder that cannot be loaded offline
        raise ApiError(str(exc)) from None


async def search(request: Request) -> JSONResponse:
    """GET (query string) or POST (JSON body) a question; see the OpenAPI description for parameters."""
    args = search_params(await _params(request))
    return JSONResponse(_holder(request).public(await run_in_threadpool(run_search, _holder(request), args)))


def ask_params(params: dict) -> dict:
    """`search_params` plus `generate` (a boolean).

    Raises:
        ApiError: 400 naming the bad parameter.
    """
    rest = {k: v for k, v in params.items() if k != "generate"}
    return {**search_params(rest), "generate": _bool(params, "generate")}


def run_ask(holder: Library, args: dict) -> dict:
    """`rag ask --json`'s object (`AskResult.to_dict()`), plus "notice" when the question was cut."""
    question, cut = cap_query(args["q"])
    with _errors(holder):
        result = holder.ask(question, k=args["k"], filters=args["filters"], mode=args["mode"],
                            config=args["config"], generate=args["generate"])  # fmt: skip
    out = result.to_dict()
    if cut:
        out["notice"] = f"the question has {len(args['q'])} characters; only the first {len(question)} are searched"
    return out


async def answer(request: Request) -> JSONResponse:
    """GET (query string) or POST (JSON body) a question; the search parameters and `generate`."""
    args = ask_params(await _params(request))
    holder = _holder(request)
    return JSONResponse(holder.public(await run_in_threadpool(run_ask, holder, args)))


def clause_record(index: Store, clause_id: str, graph: CitationGraph | None = None) -> dict:
    """One clause with its citation, its document's metadata and version status, and with `graph` (the
    store's citation graph) its `cited_by`, `doc_cited_by` and `stale_refs`, as a hit has them.

    Raises:
        ApiError: 404 for an unknown clause id (`DOC_ID:ORDINAL`, as `Clause.clause_id`).
    """
    doc_id, _, ordinal = clause_id.partition(":")
    found = [c for c in index.doc_clauses(doc_id) if str(c.ordinal) == ordinal] if doc_id in index.docs else []
    if not found:
        raise ApiError(f"no clause {clause_id!r} in the index (ids look like DOC_ID:ORDINAL)", 404)
    c, d = found[0], index.docs[doc_id]
    newer = index.superseded.get(doc_id)
    by = index.docs[newer.by] if newer else None
    book = status_book(index)
    hit = Hit(0, 0.0, c, d, citation(d, c, by), (), False, by, newer.reason if newer else None,
              book.status(doc_id), book.effective(doc_id))  # fmt: skip
    rec = (with_citations([hit], graph)[0] if graph is not None else hit).to_dict()
    for key in ("rank", "score", "highlights", "exact_ref"):
        rec.pop(key)
    return {"clause_id": c.clause_id, **rec}


async def clause(request: Request) -> JSONResponse:
    """GET one clause by id."""
    holder = _holder(request)
    index = _index(holder)
    with _errors(holder):
        graph = await run_in_threadpool(holder.citations, index)  # built once per state of the store
    return JSONResponse(holder.public(clause_record(index, request.path_params["clause_id"], graph)))


def document_list(index: Store) -> list[dict]:
    """Every document with its metadata and version status, by source path."""
    out, book = [], status_book(index)
    for d in sorted(index.docs.values(), key=lambda d: d.source):
        newer = index.superseded.get(d.doc_id)
        by = index.docs.get(newer.by) if newer else None
        out.append({
            "doc_id": d.doc_id, "title": d.title, "type": doc_type(d.title), "source": d.source, "kind": d.kind,
            "date": d.date, "doc_number": d.doc_number, "issuer": d.issuer, "clauses": d.n_clauses, "ocr": d.ocr,
            "current": newer is None, "status": book.status(d.doc_id), "effective": book.effective(d.doc_id),
            "replaced_by": None if newer is None else {
                "doc_id": newer.by, "title": by.title if by else None, "why": newer.reason},
        })  # fmt: skip
    return out


async def documents(request: Request) -> JSONResponse:
    """GET the document list."""
    holder = _holder(request)
    return JSONResponse(holder.public({"documents": document_list(_index(holder))}))


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(OPENAPI)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse({"error": _holder(request).scrub(exc.message), "code": exc.status}, status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail, "code": exc.status_code}, status_code=exc.status_code,
                        headers=exc.headers)  # fmt: skip


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("%s %s failed", request.method, request.url.path)
    return JSONResponse({"error": "internal error; the server log has the details", "code": 500}, status_code=500)


def create_app(
    index_dir: str | Path, reload_s: float = 2.0, store: str | None = None, llm: str | None = None
) -> Starlette:
    """The API over `index_dir`, or over the Milvus `store` (``milvus:URI[#COLLECTION]``) when given
    (loaded on the first request, or by `app.state.holder.warm()`); `/ask?generate=true` uses `llm`
    (``URL#MODEL``), by default the `RAG_LLM` environment variable."""
    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/search", search, methods=["GET", "POST"]),
            Route("/ask", answer, methods=["GET", "POST"]),
            Route("/clauses/{clause_id}", clause, methods=["GET"]),
            Route("/documents", documents, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _server_error},
    )
    app.state.holder = Library(index_dir, store, reload_s, ModelServer(llm))
    return app


def serve(
    index_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, reload_s: float = 2.0, store: str | None = None
) -> None:
    """Run the API with uvicorn until interrupted; the index and embedder are loaded before listening."""
    import uvicorn

    app = create_app(index_dir, reload_s, store)
    app.state.holder.warm()
    if app.state.holder.error:
        logger.warning("serving without an index: %s (/health answers 503 until one loads)", app.state.holder.error)
    uvicorn.run(app, **uvicorn_options(host, port))


def uvicorn_options(host: str, port: int) -> dict:
    """uvicorn settings: quiet, no Server header, request lines long enough for a capped GET question."""
    return {"host": host, "port": port, "log_level": "warning", "server_header": False,
            "h11_max_incomplete_event_size": MAX_REQUEST_HEAD}  # fmt: skip


# ---------------------------------------------------------------- OpenAPI

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_SEARCH_PARAMS = [
    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"},
     "description": "the question; longer than 2,000 characters it is cut (the response has a notice)"},
    {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 5}},
    {"name": "mode", "in": "query", "schema": {"type": "string", "enum": list(MODES), "default": "hybrid"}},
    {"name": "doc", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "explode": True,
     "description": "only these doc_ids (repeatable)"},
    {"name": "folder", "in": "query", "schema": {"type": "string"}, "description": "only sources under this folder"},
    {"name": "type", "in": "query", "schema": {"type": "string"},
     "description": "only this document type (法律, 条例, 办法, 通知, 要点, …)"},
    {"name": "all_versions", "in": "query", "schema": {"type": "boolean", "default": False},
     "description": "also search superseded documents"},
    {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "only documents in force on this day (YYYY-MM-DD): the older version before a revision"},
    {"name": "place", "in": "query", "schema": {"type": "string"},
     "description": "only what applies in this province, city or district (杭州, 上海宝山区): its own, its province's "
                    "and national documents"},
    {"name": "set", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "explode": True,
     "description": "search setting NAME=VALUE (SearchConfig fields, as `rag search --set`), repeatable"},
]  # fmt: skip
_SEARCH_BODY = {
    "type": "object", "required": ["q"],
    "properties": {
        "q": {"type": "string"}, "k": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 5},
        "mode": {"type": "string", "enum": list(MODES)}, "doc": {"type": "array", "items": {"type": "string"}},
        "folder": {"type": "string"}, "type": {"type": "string"}, "all_versions": {"type": "boolean"},
        "as_of": {"type": "string", "format": "date"}, "place": {"type": "string"},
        "set": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}],
                "description": "[\"NAME=VALUE\", …] or {\"NAME\": VALUE}"},
    },
}  # fmt: skip
_SEARCH_OK = {"description": "hits, exactly as `rag search --json` prints them",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResult"}}}}
_JSON_OBJECT = {"content": {"application/json": {"schema": {"type": "object"}}}}
_GENERATE = {"name": "generate", "in": "query", "schema": {"type": "boolean", "default": False},
             "description": "have the server's model (RAG_LLM) write the answer, every sentence verified; "
                            "400 when the server has no model"}  # fmt: skip
_ASK_BODY = {**_SEARCH_BODY, "properties": {**_SEARCH_BODY["properties"], "generate": {"type": "boolean"}}}
_ASK_OK = {"description": "the answer and its hits, exactly as `rag ask --json` prints them",
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AskResult"}}}}  # fmt: skip
OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "rag search API", "version": "1",
             "description": "Clause-level search over Chinese policy documents (read-only)."},
    "paths": {
        "/health": {"get": {"summary": "index generation, documents, clauses, tiers",
                            "responses": {"200": {"description": "an index is loaded", **_JSON_OBJECT},
                                          "503": _ERROR}}},
        "/search": {
            "get": {"summary": "search", "parameters": _SEARCH_PARAMS,
                    "responses": {"200": _SEARCH_OK, "400": _ERROR, "503": _ERROR}},
            "post": {"summary": "search (JSON body; for long questions)",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": _SEARCH_BODY}}},
                     "responses": {"200": _SEARCH_OK, "400": _ERROR, "413": _ERROR, "503": _ERROR}},
        },
        "/ask": {
            "get": {"summary": "answer: the extractive span (or a verified generated answer), hits and references",
                    "parameters": [*_SEARCH_PARAMS, _GENERATE],
                    "responses": {"200": _ASK_OK, "400": _ERROR, "503": _ERROR}},
            "post": {"summary": "answer (JSON body; for long questions)",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": _ASK_BODY}}},
                     "responses": {"200": _ASK_OK, "400": _ERROR, "413": _ERROR, "503": _ERROR}},
        },
        "/clauses/{clause_id}": {"get": {
            "summary": "one clause with its citation, document metadata and version status",
            "parameters": [{"name": "clause_id", "in": "path", "required": True, "schema": {"type": "string"},
                            "description": "DOC_ID:ORDINAL"}],
            "responses": {"200": {"description": "the clause", **_JSON_OBJECT}, "404": _ERROR, "503": _ERROR}}},
        "/documents": {"get": {"summary": "the documents with metadata and version status",
                               "responses": {"200": {"description": "{\"documents\": [...]}", **_JSON_OBJECT},
                                             "503": _ERROR}}},
        "/openapi.json": {"get": {"summary": "this description", "responses": {"200": {"description": "OpenAPI"}}}},
    },
    "components": {"schemas": {
        "Error": {"type": "object", "required": ["error", "code"],
                  "properties": {"error": {"type": "string"}, "code": {"type": "integer"}}},
        "SearchResult": {"type": "object", "required": ["query", "hits"], "properties": {
            "query": {"type": "string", "description": "the question as searched (sanitised, capped)"},
            "hits": {"type": "array", "items": {"type": "object"}},
            "notice": {"type": "string", "description": "present when the question was cut"}}},
        "AskResult": {"type": "object", "required": ["question", "mode", "answer", "hits"], "properties": {
            "question": {"type": "string", "description": "the question as searched (sanitised, capped)"},
            "mode": {"type": "string", "enum": ["extractive", "generated"]},
            "answer": {"type": "object", "description": "text, sentences (text, citations, verified, reason, "
                       "span?), short? (rank, start, end, text, source_start, source_end), note?"},
            "hits": {"type": "array", "items": {"type": "object"},
                     "description": "as /search, each with refs: [{text, span, target}]"},
            "notice": {"type": "string", "description": "present when the question was cut"}}},
    }},
}  # fmt: skip
