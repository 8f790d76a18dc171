"""Generations: how an index folder holds its versions, and which one is current.

An index folder holds generation folders (`gen-<time>-<pid>-<ns>/`, each with its `manifest.json`
listing every file with its size and sha256) and a `CURRENT` file naming the current one. A new
generation is written beside the old ones and becomes current with one atomic `os.replace` of the
pointer (`write_generation`); the previous sound generation is kept as the fallback a reader
loads when the current one is damaged (`load_newest`). Every read goes through `rag.storage.safe_io`.
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rag.embedding.embed import EmbedderSpec
from rag.storage.errors import DamagedGeneration, DiskFullError, IndexLoadError, UnsafeIndexError, disk_full
from rag.storage.safe_io import describe, lexists, read_file, sha256_file, write_new_file
from rag.text.terms import LexicalConfig

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
TERMS_FILE = "terms.json"
CURRENT = "CURRENT"
MAX_MANIFEST_BYTES = 64 << 20  # a manifest is a few KB per thousand documents
MAX_POINTER_BYTES = 4096
_GEN_NAME = re.compile(r"gen-[0-9A-Za-z_.-]+")
_SAFE_PART = re.compile(r"[0-9A-Za-z_.-]+")

T = TypeVar("T")


def read_manifest(d: Path) -> dict:
    """The manifest of a generation folder, read safely; `DamagedGeneration` when unreadable."""
    try:
        m = json.loads(read_file(d / MANIFEST, None, MAX_MANIFEST_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise DamagedGeneration(f"{d / MANIFEST}: missing") from None
    except UnsafeIndexError as exc:
        raise DamagedGeneration(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise DamagedGeneration(f"{d / MANIFEST}: unreadable or damaged ({type(exc).__name__}: {exc})") from None
    if not isinstance(m, dict):
        raise DamagedGeneration(f"{d / MANIFEST}: not a JSON object")
    return m


def check_files(d: Path, manifest: dict, full: bool = False) -> list[str]:
    """Problems with a generation's files: each must be a regular file of the recorded size
    (and, with `full`, the recorded sha256). Empty when all is well."""
    files = manifest.get("files")
    if not isinstance(files, dict):  # written before sizes were recorded: only the kinds can be checked
        files = {n: {} for n in ("documents.jsonl", "clauses.jsonl")}
    problems = []
    for name in ("documents.jsonl", "clauses.jsonl"):
        if name not in files:
            problems.append(f"{d / MANIFEST}: does not list {name}")
    problems += _unlisted(d, files, legacy=not isinstance(manifest.get("files"), dict))
    for rel, rec in files.items():
        parts = rel.split("/") if isinstance(rel, str) else []
        if not parts or any(p in ("", ".", "..") or not _SAFE_PART.fullmatch(p) for p in parts):
            problems.append(f"{d / MANIFEST}: names an unsafe path {rel!r}")
            continue
        path = d.joinpath(*parts)
        try:
            for depth in range(1, len(parts)):  # folders on the way (bm25/) must be real folders
                st = os.lstat(d.joinpath(*parts[:depth]))
                if not stat.S_ISDIR(st.st_mode):
                    raise UnsafeIndexError(f"{d.joinpath(*parts[:depth])}: is {describe(st.st_mode)}; refused")
            st = os.lstat(path)
        except FileNotFoundError:
            problems.append(f"{path}: missing")
            continue
        except UnsafeIndexError as exc:
            problems.append(str(exc))
            continue
        if not stat.S_ISREG(st.st_mode):
            problems.append(f"{path}: is {describe(st.st_mode)}, not a regular file; refused")
            continue
        size = rec.get("size") if isinstance(rec, dict) else None
        if isinstance(size, int) and st.st_size != size:
            problems.append(f"{path}: {st.st_size} bytes, the manifest records {size} (truncated or replaced)")
            continue
        want = rec.get("sha256") if isinstance(rec, dict) else None
        if full and want:
            try:
                if sha256_file(path, size) != want:
                    problems.append(f"{path}: content differs from the sha256 the manifest records (altered)")
            except (OSError, UnsafeIndexError) as exc:
                problems.append(f"{path}: {exc}")
    return problems


def _unlisted(d: Path, files: dict, legacy: bool) -> list[str]:
    """Files the loader would read (dense.faiss, terms.json, bm25/*) that the manifest does not list.

    For a manifest written before files were listed, they need only be regular files.
    """
    problems = []
    candidates = [d / "dense.faiss", d / TERMS_FILE]
    bm25 = d / "bm25"
    try:
        st = os.lstat(bm25)
        if not stat.S_ISDIR(st.st_mode):
            return [f"{bm25}: is {describe(st.st_mode)}; refused"]
        candidates += [Path(e.path) for e in os.scandir(bm25)]
    except FileNotFoundError:
        pass
    for p in candidates:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        rel = p.relative_to(d).as_posix()
        if legacy and not stat.S_ISREG(st.st_mode):
            problems.append(f"{p}: is {describe(st.st_mode)}, not a regular file; refused")
        elif not legacy and rel not in files:
            problems.append(f"{p}: not listed in {d / MANIFEST}; refused")
    return problems


def write_generation(directory: str | Path, write: Callable[[Path, list[str]], None]) -> Path:
    """Write a new generation under `directory` by `write(folder, where)` and switch `CURRENT` to it atomically.

    `write` fills the folder, appending each file's path to `where` before it writes it (so an error
    names the file). Returns the generation folder. Older generations but the previous one are removed.

    Raises:
        DiskFullError: no space left; the temporary folder is removed, the previous
            generation stays current.
        UnsafeIndexError: the pointer's temporary file is a planted symlink or not a file.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    base = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{int(time.time_ns() % 1_000_000):06d}"
    name = base
    for n in itertools.count(1):  # never reuse a name: a failed save must not remove another generation
        if not lexists(root / name) and not lexists(root / f".tmp-{name}"):
            break
        name = f"{base}-{n}"
    tmp = root / f".tmp-{name}"
    where = [str(tmp)]
    final = root / name
    made = switched = False
    try:
        tmp.mkdir()
        write(tmp, where)
        if lexists(final):  # appeared meanwhile (another process): refuse rather than replace it
            raise FileExistsError(errno.EEXIST, "generation folder already exists", str(final))
        os.replace(tmp, final)
        made = True
        ptr = root / f".{CURRENT}.tmp"
        where.append(str(ptr))
        write_new_file(ptr, (name + "\n").encode("utf-8"))
        previous = read_pointer(root)[0]
        _clear_pointer_path(root / CURRENT)
        os.replace(ptr, root / CURRENT)
        switched = True
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if made and not switched:  # the new generation never became current: leave only the previous one
            shutil.rmtree(final, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC and not isinstance(exc, DiskFullError):
            raise disk_full(where[-1]) from exc
        raise
    keep = sound_previous(root, name, previous)
    for old in root.glob("gen-*"):
        if old.name not in (name, keep) and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob(".tmp-gen-*"):
        if not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
    return final


def load_newest(directory: str | Path, load: Callable[[Path], T]) -> tuple[T, list[str], str]:
    """The current generation under `directory` loaded by `load(folder)` or, when it or the pointer is
    damaged (`load` raises `DamagedGeneration`), the newest other generation that loads.

    Returns what `load` returned, the problems met on the way (empty: the current generation
    loaded) and the generation's name.

    Raises:
        IndexLoadError: no generation there, or none that loads; the message says what to run.
    """
    root = Path(directory)
    problems: list[str] = []
    name, bad_pointer = read_pointer(root)
    if bad_pointer:
        problems.append(bad_pointer)
    order = ([name] if name else []) + [g for g in generations(root) if g != name]
    if not order:
        why = f" ({'; '.join(problems)})" if problems else ""
        raise IndexLoadError(f"no index in {root}/{why}. Build one first: rag ingest PATH... --index {root}")
    if not name and not bad_pointer:  # a crash before the first switch, or a deleted pointer
        problems.append(f"{root / CURRENT}: missing")
    for gen in order:
        try:
            return load(root / gen), problems, gen
        except DamagedGeneration as exc:
            problems.append(str(exc))
    raise IndexLoadError(
        f"no usable index generation in {root}/: {'; '.join(problems)}. Rebuild it: rag ingest PATH... --index {root}"
    )


def sound_previous(root: Path, current: str, previous: str | None) -> str | None:
    """The generation to keep beside the new one: the previous if its files check out, else the
    newest other one that does (so a damaged generation never displaces the intact fallback)."""
    for gen in ([previous] if previous else []) + generations(root):
        if gen == current:
            continue
        try:
            if not check_files(root / gen, read_manifest(root / gen)):
                return gen
        except IndexLoadError:
            continue
    return None


def read_pointer(root: Path) -> tuple[str | None, str | None]:
    """(generation named by CURRENT, problem): the name only when it is a `gen-*` folder directly inside."""
    path = root / CURRENT
    try:
        raw = read_file(path, None, MAX_POINTER_BYTES)
    except FileNotFoundError:
        return None, None
    except (OSError, IndexLoadError) as exc:
        return None, f"{path}: unreadable ({exc})"
    name = raw.decode("utf-8", "replace").strip()
    if not _GEN_NAME.fullmatch(name):
        return None, f"{path}: names {name[:80]!r}, not a generation folder inside {root}/; refused"
    try:
        st = os.lstat(root / name)
    except FileNotFoundError:
        return None, f"{path}: names {name}, which is missing"
    if not stat.S_ISDIR(st.st_mode):
        return None, f"{path}: names {name}, which is {describe(st.st_mode)}; refused"
    return name, None


def _clear_pointer_path(path: Path) -> None:
    """Make room for the pointer file: a folder (or anything but a file or link) where `CURRENT` belongs
    is moved aside as `CURRENT.damaged-<time>` (kept, not deleted), so a rebuild always heals it."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
        return  # replaced atomically (a link itself, never its target)
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    logger.warning("%s is %s, not a pointer file: moved aside to %s", path, describe(st.st_mode), aside.name)
    os.replace(path, aside)


def generations(root: str | Path) -> list[str]:
    """Generation folders directly inside `root` that have a manifest, newest first (symlinks ignored)."""
    out = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    for e in entries:
        if _GEN_NAME.fullmatch(e.name) and e.is_dir(follow_symlinks=False) and lexists(Path(e.path) / MANIFEST):
            out.append(e.name)
    return sorted(out, reverse=True)


def resolve(directory: str | Path) -> Path:
    """The generation folder an index directory points at.

    Raises:
        IndexLoadError: there is no built index under `directory`.
    """
    root = Path(directory)
    if lexists(root / MANIFEST):
        return root
    name, _ = read_pointer(root)
    if name and lexists(root / name / MANIFEST):
        return root / name
    raise IndexLoadError(f"no index in {root}/. Build one first: rag ingest PATH... --index {root}")


def exists(directory: str | Path) -> bool:
    """True when `directory` holds an index generation (current or, if that is damaged, another one)."""
    try:
        resolve(directory)
        return True
    except IndexLoadError:
        return bool(generations(directory))


def current_key(directory: str | Path) -> str:
    """What identifies the index a reader should have open: the current generation's name, or, when
    the pointer is damaged, the generations present (so a cache keyed on it reloads once it heals)."""
    try:
        return resolve(directory).name
    except IndexLoadError:
        return "damaged:" + ",".join(generations(directory))


def recorded_spec(index_dir: str | Path) -> EmbedderSpec | None:
    """The embedder any readable manifest under `index_dir` records (the current first), else None.

    Lets a rebuild of a damaged index keep the embedder it was built with.
    """
    root = Path(index_dir)
    name, _ = read_pointer(root)
    for gen in ([name] if name else []) + [g for g in generations(root) if g != name]:
        try:
            emb = read_manifest(root / gen).get("embedder")
            if isinstance(emb, dict) and emb.get("backend") and emb.get("model"):
                return EmbedderSpec.from_dict(emb)
        except IndexLoadError:
            continue
    return None


def recorded_lexical(index_dir: str | Path) -> LexicalConfig | None:
    """The lexical settings any readable manifest under `index_dir` records (the current first), else None.

    Lets a rebuild of a damaged or outdated index keep the settings it was built with.
    """
    root = Path(index_dir)
    name, _ = read_pointer(root)
    for gen in ([name] if name else []) + [g for g in generations(root) if g != name]:
        try:
            return LexicalConfig.from_dict(read_manifest(root / gen).get("lexical"))
        except (IndexLoadError, TypeError, ValueError):
            continue
    return None


def recorded_windows(index_dir: str | Path) -> int | None:
    """The sentence-window setting (`rag.text.windows`) any readable manifest under `index_dir` records (the
    current first), else None: a rebuild of a damaged or outdated index keeps it."""
    root = Path(index_dir)
    name, _ = read_pointer(root)
    for gen in ([name] if name else []) + [g for g in generations(root) if g != name]:
        try:
            chars = (read_manifest(root / gen).get("windows") or {}).get("min_chars")
        except (IndexLoadError, AttributeError):
            continue
        if isinstance(chars, int) and not isinstance(chars, bool) and chars >= 0:
            return chars
    return None
