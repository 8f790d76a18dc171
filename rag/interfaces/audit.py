"""The audit log, and the library changes that write to it (upload, replace, remove).

The log is append-only JSON lines (`<index dir>/audit.log`, or the file env RAG_AUDIT names),
one record per change: {"time": ISO 8601 UTC, "user", "action", "file", "sha256" (or
"sha256_before"/"sha256_after" for a replace), "result", ..., "seq", "prev"}. Each record is one
`write()` to a descriptor opened O_APPEND|O_NOFOLLOW under an exclusive lock, then fsync, so
concurrent writers never interleave and a symbolic link planted in its place is refused.

The log is a hash chain: "seq" is the record's line number and "prev" the sha256 of the line
before it (of "" for the first), and `<log>.head` holds the last record's seq and sha256. So
`check_chain` finds a record edited, inserted, removed or moved (the next link breaks), and the
end cut off or the file emptied (the head no longer matches). Records written before the chain
existed are accepted as an unlinked prefix, anchored by the first chained record.

The library changes check the caller's role themselves (`rag.interfaces.auth.require_librarian`), so
the page hiding its controls from readers is not the only guard. A replaced file is kept:
it is kept as `<library>/.versions/<UTC timestamp>/<name>` and stays indexed as an old version.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rag import settings
from rag.interfaces.auth import LIMITER, Identity, SignInLimiter, require_librarian, sign_in
from rag.interfaces.upload import UploadError, check_content, safe_name, store
from rag.reading.load import REMOVED_DIR
from rag.storage.catalogue import VERSIONS_DIR

logger = logging.getLogger(__name__)

AUDIT_FILE = "audit.log"
AUDIT_ENV = settings.AUDIT
ACTIONS = ("upload", "replace", "remove", "ingest", "user-add", "user-remove", "sign-in", "sign-in-failed")


def audit_path(index_dir: str | Path) -> Path:
    """The audit log: env RAG_AUDIT, else `<index dir>/audit.log`."""
    return Path(settings.current().audit or Path(index_dir) / AUDIT_FILE)


def now_iso() -> str:
    """The current time, ISO 8601 UTC, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: who (None: refused), the credential the session keeps, and
    how many seconds to wait when refused for too many failed attempts."""

    identity: Identity | None
    credential: str | None = None
    wait: float = 0.0


def sign_in_audited(users_file: str | Path, log: str | Path, name: str, password: str, client: str | None,
                    limiter: SignInLimiter = LIMITER) -> SignIn:  # fmt: skip
    """A password sign-in, rate-limited per account and per client, and audited: each success with its
    method, failures as a few summary records per burst (see `SignInLimiter.failed`)."""
    client = client or "127.0.0.1"
    keys = [f"account:{name}", f"client:{client}"]
    wait = limiter.wait(keys)
    if wait:
        return SignIn(None, wait=wait)
    found = sign_in(users_file, name, password)
    if found is not None:
        limiter.succeeded(keys)
        record(log, found[0].label, "sign-in", None, method="password", client=client)
        return SignIn(*found)
    note = limiter.failed(keys)
    if note is not None:
        note.pop("key")
        record(log, name[:64] or "(empty)", "sign-in-failed", None, result="refused", client=client, **note)
    return SignIn(None, wait=float(note.get("locked_seconds", 0)) if note else 0.0)


_TAIL_BYTES = 64 * 1024  # more than any one record


def head_path(path: str | Path) -> Path:
    """Where the audit log's head (its last record's seq and sha256) is kept: `<log>.head`."""
    return Path(f"{path}.head")


def _line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def _last_line(fd: int) -> tuple[bytes, int]:
    """The last line of the open log (without its newline) and the number of lines, read from `fd`.

    Only the end of the file is read when the last record carries its number ("seq"); a log whose
    last line has none (written before the chain, or torn) is counted through once.
    """
    size = os.fstat(fd).st_size
    if size == 0:
        return b"", 0
    start = max(0, size - _TAIL_BYTES)
    tail = os.pread(fd, size - start, start)
    body = tail.rstrip(b"\n")
    if start == 0 or b"\n" in body:
        last = body.rsplit(b"\n", 1)[-1]
        try:
            seq = json.loads(last).get("seq") if tail.endswith(b"\n") else None
        except (ValueError, AttributeError):
            seq = None
        if isinstance(seq, int) and not isinstance(seq, bool) and seq > 0:
            return last, seq
    lines, offset, rest = 0, 0, b""
    while block := os.pread(fd, 1 << 20, offset):
        offset += len(block)
        lines += block.count(b"\n")
        rest = (rest + block)[-(1 << 20) :]
    if not rest.endswith(b"\n"):  # a torn last line still counts as a line
        lines += 1
    return rest.rstrip(b"\n").rsplit(b"\n", 1)[-1], lines


def _write_head(path: Path, seq: int, digest: str) -> None:
    head = head_path(path)
    tmp = head.with_name(f".{head.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, json.dumps({"seq": seq, "sha256": digest}).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, head)


def record(path: str | Path, user: str, action: str, file: str | None = None, result: str = "ok", **extra) -> dict:
    """Append one record to the audit log, linked to the one before it, and return it.

    Raises:
        OSError: the log cannot be written (a symbolic link in its place, no space, ...).
    """
    rec = {"time": now_iso(), "user": user, "action": action, "file": file, **extra, "result": result}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # one writer at a time: the link needs the true last line
        last, lines = _last_line(fd)
        rec["seq"] = lines + 1
        rec["prev"] = _line_hash(last) if lines else _line_hash(b"")
        line = (json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"{path}: short write to the audit log ({written} of {len(line)} bytes)")
        os.fsync(fd)
        _write_head(path, rec["seq"], _line_hash(line))
    finally:
        os.close(fd)  # releases the lock
    return rec


def writable(path: str | Path) -> None:
    """Check that the audit log can be appended to, before a change that must be recorded.

    Raises:
        OSError: it cannot (a symbolic link in its place, a read-only folder, ...).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
    if not os.access(path.parent, os.W_OK):
        raise OSError(f"{path.parent}: the audit log's folder is not writable")


def check_chain(path: str | Path) -> list[str]:
    """What is wrong with the audit log's hash chain: the first broken link, a gap, the end cut off.

    Empty when the chain is whole (or there is no log and no head).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError as exc:
        return [f"{path}: cannot be read ({exc})"]
    try:
        head = json.loads(head_path(path).read_text(encoding="utf-8"))
        head = (int(head["seq"]), str(head["sha256"]))
    except FileNotFoundError:
        head = None
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{head_path(path)}: the head file is damaged; the end of the log cannot be checked"]
    if data is None:
        return [f"{path}: missing, but its head says {head[0]} records were written"] if head else []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    problems: list[str] = []
    chained = False
    prev = b""
    for n, line in enumerate(lines, start=1):
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("not an object")
        except ValueError:
            problems.append(f"record {n}: not a readable record (edited or torn)")
            break
        if "prev" not in rec and not chained:
            prev = line
            continue
        chained = True
        if rec.get("prev") != _line_hash(prev):
            problems.append(f"the chain breaks at record {n} ({rec.get('time')}, {rec.get('action')}): record "
                            f"{n - 1} was edited, or records were removed, inserted or moved there")  # fmt: skip
            break
        if rec.get("seq") != n:
            problems.append(f"record {n}: numbered {rec.get('seq')}: a gap or reordering in the log")
            break
        prev = line
    if not problems and chained:
        if head is None:
            problems.append(f"{head_path(path)} is missing: the end of the log cannot be checked")
        elif head != (len(lines), _line_hash(prev)):
            problems.append(f"the log ends at record {len(lines)}, but its head says {head[0]} were written: "
                            "records at the end were removed (truncated), or the last one was edited")  # fmt: skip
    elif not problems and head is not None and head[0] != len(lines):
        problems.append(f"the log has {len(lines)} records, but {head[0]} were written: emptied or truncated")
    return problems


def read(path: str | Path, n: int | None = None) -> list[dict]:
    """The last `n` records (all when None), oldest first; an unreadable line becomes a note record."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines[-n:] if n else lines:
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("not an object")
        except ValueError:
            rec = {"time": "", "user": "", "action": "?", "file": None, "result": f"unreadable line: {line[:80]}"}
        out.append(rec)
    return out


def sha256_file(path: str | Path) -> str | None:
    """The hex sha256 of a file's bytes, or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def is_old_version(source: str | Path) -> bool:
    """True for a file kept under a library's `.versions/` folder (a replaced file)."""
    return VERSIONS_DIR in Path(source).parts


def existing(library: str | Path, name: str) -> Path | None:
    """The file in `library` an upload named `name` would overwrite, if there is one."""
    try:
        target = Path(library) / safe_name(name)
    except UploadError:
        return None
    return target if target.is_file() or target.is_symlink() else None


@dataclass(frozen=True)
class Stored:
    """One accepted upload: the file written, and where the file it replaced now lives."""

    path: Path
    archived: Path | None = None


def archive(library: str | Path, path: Path, stamp: str | None = None) -> Path:
    """Keep a copy of a library file as `<library>/.versions/<UTC timestamp>/<name>` (still indexed).

    A hard link where the file system allows (instant, no second copy of the bytes), else a copy;
    the file itself stays in place until the new version replaces it atomically.
    """
    stamp = stamp or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(library) / VERSIONS_DIR / stamp
    folder.mkdir(parents=True, exist_ok=False)
    target = folder / path.name
    try:
        os.link(path, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(path, target, follow_symlinks=False)
    return target


def _rmdir_quietly(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def upload(who: Identity, library: str | Path, index_dir: str | Path, name: str, data: bytes,
           replace: bool = False) -> Stored:  # fmt: skip
    """Store an upload in the library and audit it; an existing file is replaced only when `replace`.

    Raises:
        NotAllowed: `who` is not a librarian.
        FileExistsError: a file of that name exists and `replace` is False (nothing is written).
        UploadError: the upload is refused (nothing is written).
    """
    require_librarian(who)
    log = audit_path(index_dir)
    _must_record(log, name)
    digest = hashlib.sha256(data).hexdigest()
    old = existing(library, name)
    action = "replace" if old is not None else "upload"
    try:
        clean = safe_name(name)
        check_content(clean, data)
        if old is not None and not replace:
            raise FileExistsError(f"{clean} already exists in the library")
        if old is not None and old.is_symlink():
            raise UploadError(f"{clean}: the library entry of that name is a link; replacing it is refused "
                              "(the file it points to would be overwritten): remove the link on the server first")
        before = sha256_file(old) if old is not None else None
        archived = archive(library, old) if old is not None else None
        try:
            path = store(library, clean, data)
        except Exception:
            if archived is not None:  # the old file was never replaced: drop the kept copy
                archived.unlink(missing_ok=True)
                _rmdir_quietly(archived.parent)
            raise
    except (UploadError, OSError) as exc:
        if not isinstance(exc, FileExistsError):
            record(log, who.label, action, name, result=f"refused: {exc}", sha256=digest)
        raise
    try:
        if archived is not None:
            record(log, who.label, "replace", clean, sha256_before=before, sha256_after=digest,
                   archived=str(archived.relative_to(Path(library))))  # fmt: skip
        else:
            record(log, who.label, "upload", clean, sha256=digest)
    except OSError as exc:  # a change that cannot be recorded does not happen: put the library back
        if archived is not None:
            os.replace(archived, path)
            _rmdir_quietly(archived.parent)
        else:
            path.unlink(missing_ok=True)
        raise UploadError(f"{clean}: not stored: the audit log cannot be written ({exc})") from exc
    return Stored(path, archived)


def _must_record(log: Path, what: str) -> None:
    """Refuse a change up front when its audit record could not be written.

    Raises:
        UploadError: the log cannot be appended to; the message names `what` and the reason.
    """
    try:
        writable(log)
    except OSError as exc:
        raise UploadError(f"{what}: refused: the audit log {log.name} cannot be written ({exc})") from exc


def ingest_audited(who: Identity, index_dir: str | Path, paths: Sequence[str | Path],
                   progress: Callable[[int, int], None] | None = None):  # fmt: skip
    """`rag.ingest.pipeline.ingest` for a librarian, audited; returns its report.

    Raises:
        NotAllowed, ValueError, IndexBusyError: as `ingest` (a failure is audited too).
    """
    from rag.ingest.pipeline import ingest

    require_librarian(who)
    log = audit_path(index_dir)
    names = ", ".join(Path(p).name for p in paths)
    _must_record(log, names)
    try:
        rep = ingest(paths, index_dir, show_progress=False, progress=progress)
    except Exception as exc:
        record(log, who.label, "ingest", names, result=f"failed: {exc}")
        raise
    record(log, who.label, "ingest", names, **ingest_fields(rep))
    return rep


def ingest_fields(rep) -> dict:
    """What an ingest record holds: counts, and the files added, changed and removed (by path)."""
    files = getattr(rep, "files", {}) or {}
    return dict(documents=rep.documents, added=rep.added, changed=rep.changed, removed=rep.removed,
                not_indexed=len(rep.failures), added_files=list(files.get("added", ())),
                changed_files=list(files.get("changed", ())), removed_files=list(files.get("removed", ())))  # fmt: skip


def remove_audited(who: Identity, index_dir: str | Path, targets: Sequence[str], library: str | Path | None = None):
    """`rag.ingest.pipeline.remove` for a librarian, audited with each removed file's sha256.

    With `library`, a removed file that lives in it is moved to `<library>/.removed/<stamp>/<name>`:
    kept (nothing is lost), but no longer ingested, so the next ingest of the library does not bring
    it back (it is listed as "removed by a librarian").

    Raises:
        NotAllowed, ValueError, IndexBusyError, IndexLoadError: as `remove`.
    """
    from rag.ingest.pipeline import remove

    require_librarian(who)
    log = audit_path(index_dir)
    _must_record(log, ", ".join(targets))
    try:
        gone = remove(index_dir, list(targets))
    except Exception as exc:
        record(log, who.label, "remove", ", ".join(targets), result=f"failed: {exc}")
        raise
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    for d in gone:
        kept = None
        src = Path(d.source)
        if library is not None and src.is_file() and Path(library).resolve() in src.resolve().parents:
            folder = Path(library) / REMOVED_DIR / stamp
            folder.mkdir(parents=True, exist_ok=True)
            kept = folder / src.name
            os.replace(src, kept)
        record(log, who.label, "remove", src.name, sha256=d.sha256, doc_id=d.doc_id, source=d.source,
               kept=str(kept) if kept else None)  # fmt: skip
    return gone
