"""Uploads that must be refused with a reason (#20 item 2): Office lock files, names with control or
text-direction characters, and library entries that are links (replace never writes through one)."""

from __future__ import annotations

import pytest

from rag.interfaces import audit, auth
from rag.interfaces.upload import UploadError, safe_name, store

LIBRARIAN = auth.Identity("alice", auth.LIBRARIAN, "password")
TEXT = "一、要求\n1.新内容。\n".encode()


@pytest.mark.parametrize(
    "name, reason",
    [
        ("报告\u202egpj.txt", "U+202E"),  # right-to-left override: shows as 报告txt.jpg
        ("a\u2066b.txt", "U+2066"),
        ("a\u200fb.txt", "U+200F"),
        ("line\nbreak.txt", "U+000A"),
        ("~$通知.docx", "Office lock file"),
    ],
)
def test_names_refused_with_the_reason(name, reason):
    with pytest.raises(UploadError, match=reason.replace("$", r"\$").replace("+", r"\+")):
        safe_name(name)


def test_lock_file_upload_is_refused_and_audited(small):
    lib, index = small
    with pytest.raises(UploadError, match="lock file"):
        audit.upload(LIBRARIAN, lib, index, "~$河长制.txt", TEXT)
    assert not list(lib.glob("~$*"))
    assert audit.read(audit.audit_path(index))[-1]["result"].startswith("refused")


def test_replace_refuses_a_library_entry_that_is_a_link(small):
    lib, index = small
    other = (lib / "河长制.txt").read_bytes()
    (lib / "链接.txt").symlink_to(lib / "河长制.txt")
    assert audit.existing(lib, "链接.txt") == lib / "链接.txt"
    with pytest.raises(UploadError, match="is a link"):
        audit.upload(LIBRARIAN, lib, index, "链接.txt", TEXT, replace=True)
    assert (lib / "河长制.txt").read_bytes() == other  # nothing written through the link
    assert (lib / "链接.txt").is_symlink()
    assert not (lib / ".versions").exists() or not any((lib / ".versions").rglob("*"))
    with pytest.raises(UploadError, match="is a link"):  # store() itself never writes through one either
        store(lib, "链接.txt", TEXT)
    assert (lib / "河长制.txt").read_bytes() == other


def test_a_dangling_link_is_never_followed(small, tmp_path):
    lib, index = small
    outside = tmp_path / "outside.txt"
    (lib / "悬空.txt").symlink_to(outside)
    with pytest.raises(FileExistsError):
        audit.upload(LIBRARIAN, lib, index, "悬空.txt", TEXT)
    with pytest.raises(UploadError, match="is a link"):
        audit.upload(LIBRARIAN, lib, index, "悬空.txt", TEXT, replace=True)
    assert not outside.exists()


# sign-in (#20 item 1)


def test_sign_in_limiter_locks_after_five_failures_and_doubles():
    now = [0.0]
    lim = auth.SignInLimiter(clock=lambda: now[0])
    keys = ["account:alice", "client:10.0.0.9"]
    notes = [lim.failed(keys) for _ in range(5)]
    assert notes[0] == {"key": "account:alice", "attempts": 1}
    assert notes[1:4] == [None, None, None]  # a burst is summarised, not one record per guess
    assert notes[4]["locked_seconds"] == 30
    assert lim.wait(keys) == 30 and lim.wait(["account:bob", "client:10.0.0.9"]) == 30  # the client too
    assert lim.wait(["account:bob", "client:10.0.0.7"]) == 0
    now[0] += 31
    assert lim.wait(keys) == 0
    for _ in range(5):
        note = lim.failed(keys)
    assert note["locked_seconds"] == 60  # the next lock is twice as long
    lim.succeeded(keys)
    assert lim.wait(["account:alice", "client:10.0.0.7"]) == 0  # the account is clear, the client is not
    assert lim.wait(["account:carol", "client:10.0.0.9"]) > 0


def test_seventy_two_wrong_passwords_write_a_few_records(small):
    lib, index = small
    users = index / "users.json"
    auth.add_user(users, "alice", "correct horse battery")
    log = audit.audit_path(index)
    lim = auth.SignInLimiter()
    got = [audit.sign_in_audited(users, log, "alice", f"guess {i}", "10.0.0.9", lim) for i in range(72)]
    assert all(g.identity is None for g in got) and got[-1].wait > 0
    failed = [r for r in audit.read(log) if r["action"] == "sign-in-failed"]
    assert len(failed) == 2 and failed[-1]["locked_seconds"] == 30 and failed[0]["client"] == "10.0.0.9"
    # locked: even the right password waits, and is not checked
    assert audit.sign_in_audited(users, log, "alice", "correct horse battery", "10.0.0.9", lim).identity is None
    ok = audit.sign_in_audited(users, log, "alice", "correct horse battery", "10.0.0.7", auth.SignInLimiter())
    assert ok.identity.librarian and ok.credential
    last = audit.read(log)[-1]
    assert (last["action"], last["method"], last["user"]) == ("sign-in", "password", "alice")
    assert audit.check_chain(log) == []


# Streamlit's upload endpoint (#20 item 2)


def test_only_librarian_sessions_keep_uploads_and_within_a_cap():
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    from rag.interfaces import upload_guard

    mgr = MemoryUploadedFileManager("/_stcore/upload_file")
    upload_guard.install(mgr)
    upload_guard.install(mgr)  # once only
    big = b"x" * (19 * 2**20)
    for i in range(25):  # a reader's session pushing 25 × 19 MB
        mgr.add_file("reader-session", UploadedFileRec(f"r{i}", "a.pdf", "application/pdf", big))
    assert mgr.get_files("reader-session", [f"r{i}" for i in range(25)]) == []
    upload_guard.allow("librarian-session")
    try:
        for i in range(25):
            mgr.add_file("librarian-session", UploadedFileRec(f"l{i}", "a.pdf", "application/pdf", big))
        kept = mgr.get_files("librarian-session", [f"l{i}" for i in range(25)])
        assert len(kept) == upload_guard.SESSION_CAP_BYTES // len(big)  # capped, not unbounded
    finally:
        upload_guard.revoke("librarian-session")
    mgr.add_file("librarian-session", UploadedFileRec("late", "a.pdf", "application/pdf", b"%PDF"))
    assert mgr.get_files("librarian-session", ["late"]) == []  # signed out: dropped again
