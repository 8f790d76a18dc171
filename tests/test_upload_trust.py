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
