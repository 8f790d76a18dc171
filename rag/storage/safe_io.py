"""Safe file access for index folders: no-follow opens, size-checked reads, files created afresh and fsynced.

An index folder holds only regular files and folders that rag wrote. Anything else found there
(a planted symlink, a FIFO, a device, a file grown past its recorded size) is refused with
`UnsafeIndexError` rather than followed, so rag never reads or writes outside the folder or hangs.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from rag.storage.errors import DamagedGeneration, UnsafeIndexError


def lexists(p: Path) -> bool:
    """True when anything is at `p`, a dangling symlink included (nothing is followed)."""
    try:
        os.lstat(p)
        return True
    except FileNotFoundError:
        return False


def describe(mode: int) -> str:
    """What a file of this `st_mode` is, for messages: "a symbolic link", "a named pipe (FIFO)", …"""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: Path, limit: int | None) -> int:
    """A read-only descriptor of a regular file (never a symlink, never blocking on a FIFO).

    Raises:
        UnsafeIndexError: a symlink, FIFO, device or folder, or larger than `limit` bytes.
        FileNotFoundError: no such file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeIndexError(f"{path}: is a symbolic link; refused (an index folder holds only files)") from None
        if exc.errno == errno.ENXIO:  # a FIFO with no writer, or a socket
            raise UnsafeIndexError(f"{path}: is a named pipe or socket; refused") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeIndexError(f"{path}: is {describe(st.st_mode)}; refused (an index folder holds only files)")
    if limit is not None and st.st_size > limit:
        os.close(fd)
        raise UnsafeIndexError(f"{path}: {st.st_size} bytes, more than the {limit} recorded; refused")
    return fd


def read_file(path: Path, size: int | None, limit: int | None) -> bytes:
    """The bytes of a regular file, reading no more than `size` (the manifest's) or `limit` bytes
    (`limit` None: the file's own size, for indexes written before sizes were recorded)."""
    cap = int(size) if isinstance(size, int) else limit
    fd = open_regular(path, cap)
    if cap is None:
        cap = os.fstat(fd).st_size
    try:
        chunks, got = [], 0
        while got <= cap:
            b = os.read(fd, min(1 << 20, cap + 1 - got))
            if not b:
                break
            chunks.append(b)
            got += len(b)
    finally:
        os.close(fd)
    if got > cap:
        raise UnsafeIndexError(f"{path}: larger than the {cap} bytes recorded; refused")
    if isinstance(size, int) and got != size:
        raise DamagedGeneration(f"{path}: {got} bytes, the manifest records {size} (truncated or replaced)")
    return b"".join(chunks)


def sha256_file(path: Path, size: int | None = None) -> str:
    """sha256 of a regular file, opened as `open_regular` does (no larger than `size` when given)."""
    fd = open_regular(path, size)
    h = hashlib.sha256()
    try:
        while b := os.read(fd, 1 << 20):
            h.update(b)
    finally:
        os.close(fd)
    return h.hexdigest()


def write_new_file(path: Path, data: bytes) -> None:
    """Create `path` afresh (O_EXCL|O_NOFOLLOW), write and fsync it: a planted symlink is refused.

    A stale regular file of that name (left by a crash) is removed first.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeIndexError(
                f"{path} is {describe(st.st_mode)}, not a file rag wrote; refused so nothing outside the index "
                "folder is written. Remove it and run the command again"
            )
        os.unlink(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        raise UnsafeIndexError(f"{path} appeared while writing it; refused") from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(p: Path) -> None:
    """Flush a file rag wrote to disk (not following a symlink)."""
    fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
