"""Errors of the folder index: a folder that cannot be used, one that is unsafe, a damaged generation, a full disk."""

from __future__ import annotations

import errno
from pathlib import Path

from rag.storage.cache import DiskFullError as DiskFullError  # raised by save as well as by the cache


class IndexLoadError(RuntimeError):
    """An index folder that cannot be used as it is; the message says what to do."""


class UnsafeIndexError(IndexLoadError, ValueError):
    """An index folder holding something that could make rag write outside it or hang (a planted
    symlink, a FIFO, a pointer out of the folder); refused rather than followed."""


class DamagedGeneration(IndexLoadError):
    """One generation folder is damaged (missing, truncated, altered or unsafe file)."""


def disk_full(what: str | Path) -> DiskFullError:
    """The clear error for ENOSPC while writing `what`."""
    return DiskFullError(
        errno.ENOSPC,
        f"no space left on device while writing {what}; free space and run the ingest again — "
        "the previous index is intact",
    )
