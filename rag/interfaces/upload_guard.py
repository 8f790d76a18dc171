"""Streamlit's upload endpoint (`PUT /_stcore/upload_file/<session>/<file>`) stores files for any open
session, uploader widget or not: a reader could fill the server's memory with them. `install` wraps the
runtime's uploaded-file manager so that a file is kept only for a session the app has marked as a
librarian's (`allow`), and only while that session holds less than `SESSION_CAP_BYTES`; anything else is
dropped on arrival (and logged), so a reader's uploads never stay in memory.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from rag.interfaces.upload import MAX_UPLOAD_BYTES

logger = logging.getLogger(__name__)

SESSION_CAP_BYTES = 5 * MAX_UPLOAD_BYTES  # what one librarian session may hold in uploads at once
_librarians: set[str] = set()
_lock = threading.Lock()


def allow(session_id: str) -> None:
    """Let this session's uploads be kept (its user is a librarian now)."""
    with _lock:
        _librarians.add(session_id)


def revoke(session_id: str) -> None:
    """Drop this session's uploads from now on (signed out, or a reader)."""
    with _lock:
        _librarians.discard(session_id)


def allowed(session_id: str) -> bool:
    with _lock:
        return session_id in _librarians


def install(manager: Any) -> None:
    """Wrap `manager.add_file` (Streamlit's MemoryUploadedFileManager) once."""
    if getattr(manager, "_rag_guarded", False):
        return
    add_file = manager.add_file

    def guarded(session_id: str, file: Any) -> None:
        size = len(getattr(file, "data", b""))
        if not allowed(session_id):
            logger.warning("upload of %d bytes from a session that may not upload: dropped", size)
            return
        with manager._lock:
            held = sum(len(f.data) for f in manager.file_storage.get(session_id, {}).values())
        if held + size > SESSION_CAP_BYTES:
            logger.warning("upload of %d bytes dropped: the session already holds %d bytes", size, held)
            return
        add_file(session_id, file)

    manager.add_file = guarded
    manager._rag_guarded = True
