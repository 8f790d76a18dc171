"""The audit log as a hash chain (#20 item 3): tampering found by `rag audit`/`rag verify` and shown to
librarians; a change whose record cannot be written does not happen; ingests name the files they changed."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from rag.interfaces import audit, auth
from tests.conftest import REPO, run_cli

LIBRARIAN = auth.Identity("alice", auth.LIBRARIAN, "password")


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "audit.log"
    for i in range(5):
        audit.record(path, "alice", "upload", f"f{i}.docx", sha256=f"{i:064d}")
    return path


def _lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def _write(path, lines):
    path.write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")


def test_records_are_linked_and_numbered(log):
    recs = audit.read(log)
    assert [r["seq"] for r in recs] == [1, 2, 3, 4, 5]
    assert len({r["prev"] for r in recs}) == 5
    head = json.loads(audit.head_path(log).read_text())
    assert head["seq"] == 5
    assert audit.check_chain(log) == []


@pytest.mark.parametrize(
    "tamper, expected",
    [
        (lambda ls: [ls[0], ls[1].replace("f1.docx", "fX.docx"), *ls[2:]], "breaks at record 3"),  # edited
        (lambda ls: [ls[0], *ls[2:]], "breaks at record 2"),  # removed
        (lambda ls: [ls[0], ls[2], ls[1], *ls[3:]], "breaks at record 2"),  # reordered
        (lambda ls: [*ls[:2], ls[1], *ls[2:]], "breaks at record 3"),  # a copy inserted
        (lambda ls: ls[:3], "ends at record 3, but its head says 5"),  # truncated
        (lambda ls: [*ls[:4], ls[4].replace("alice", "mallory")], "the last one was edited"),  # last edited
        (lambda ls: [], "0 records, but 5 were written"),  # emptied
        (lambda ls: [*ls[:4], '{"time": "", "action": "upload"}'], "breaks at record 5"),  # unlinked record forged
    ],
)
def test_every_kind_of_tampering_is_reported(log, tamper, expected):
    _write(log, tamper(_lines(log)))
    problems = audit.check_chain(log)
    assert len(problems) == 1 and expected in problems[0]


def test_records_from_before_the_chain_are_an_anchored_prefix(tmp_path):
    path = tmp_path / "audit.log"
    old = [json.dumps({"time": "2026-01-01T00:00:00+00:00", "user": "u", "action": "upload", "file": f"{i}.txt",
                       "result": "ok"}) for i in range(2)]  # fmt: skip
    _write(path, old)
    audit.record(path, "alice", "remove", "0.txt")
    assert audit.read(path)[-1]["seq"] == 3 and audit.check_chain(path) == []
    _write(path, [old[0], old[1].replace("1.txt", "9.txt"), _lines(path)[2]])
    assert "breaks at record 3" in audit.check_chain(path)[0]


def test_rag_audit_and_verify_exit_1_on_a_tampered_log(small, capsys):
    lib, index = small
    audit.upload(LIBRARIAN, lib, index, "新文件.txt", "一、要求\n1.新内容。\n".encode())
    audit.upload(LIBRARIAN, lib, index, "另一个.txt", "一、要求\n1.另一内容。\n".encode())
    path = audit.audit_path(index)
    rc, _, err = run_cli(capsys, "audit", "--index", str(index))
    assert rc == 0 and "TAMPERED" not in err
    rc, out, _ = run_cli(capsys, "verify", "--index", str(index), "--quick")
    assert rc == 0, out
    lines = _lines(path)
    _write(path, [lines[0].replace("新文件", "旧文件"), *lines[1:]])  # one record edited
    rc, _, err = run_cli(capsys, "audit", "--index", str(index))
    assert rc == 1 and "TAMPERED" in err and "breaks at record 2" in err
    _write(path, lines[:1])  # the edit undone, the last record removed
    rc, out, _ = run_cli(capsys, "verify", "--index", str(index), "--quick")
    assert rc == 1 and "audit log" in out and "truncated" in out


def test_a_change_that_cannot_be_recorded_does_not_happen(small):
    lib, index = small
    path = audit.audit_path(index)
    path.unlink(missing_ok=True)
    path.symlink_to(index / "elsewhere.log")  # the log cannot be opened (O_NOFOLLOW)
    with pytest.raises(audit.UploadError, match="audit log"):
        audit.upload(LIBRARIAN, lib, index, "新文件.txt", "一、要求\n1.新内容。\n".encode())
    assert not (lib / "新文件.txt").exists()
    with pytest.raises(audit.UploadError, match="audit log"):
        audit.remove_audited(LIBRARIAN, index, [str(lib / "河长制.txt")], library=lib)
    assert (lib / "河长制.txt").is_file() and not (index / "elsewhere.log").exists()


def test_a_record_that_fails_after_the_file_is_stored_puts_the_library_back(small, monkeypatch):
    lib, index = small
    original = (lib / "河长制.txt").read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit, "record", full_disk)
    with pytest.raises(audit.UploadError, match="not stored"):
        audit.upload(LIBRARIAN, lib, index, "河长制.txt", "一、新\n1.新内容。\n".encode(), replace=True)
    assert (lib / "河长制.txt").read_bytes() == original
    assert not any((lib / ".versions").rglob("*.txt")) if (lib / ".versions").exists() else True
    with pytest.raises(audit.UploadError, match="not stored"):
        audit.upload(LIBRARIAN, lib, index, "新文件.txt", "一、要求\n1.新内容。\n".encode())
    assert not (lib / "新文件.txt").exists()


def test_ingest_records_name_the_files_it_found_changed(small, capsys):
    lib, index = small
    (lib / "河长制.txt").write_text("一、总体要求\n1.巡河频次每月不少于三次。\n", encoding="utf-8")  # a hand edit
    (lib / "新增.txt").write_text("一、要求\n1.新增内容。\n", encoding="utf-8")
    (lib / "escape.txt").unlink()
    rc, _, _ = run_cli(capsys, "ingest", str(lib), "--index", str(index), "-q")
    assert rc == 0
    rec = audit.read(audit.audit_path(index))[-1]
    assert rec["action"] == "ingest" and (rec["added"], rec["changed"], rec["removed"]) == (1, 1, 1)
    assert [p.rsplit("/", 1)[-1] for p in rec["added_files"]] == ["新增.txt"]
    assert [p.rsplit("/", 1)[-1] for p in rec["changed_files"]] == ["河长制.txt"]
    assert [p.rsplit("/", 1)[-1] for p in rec["removed_files"]] == ["escape.txt"]


def test_the_app_warns_librarians_and_keeps_changes_apart_from_failed_sign_ins(small, monkeypatch):
    lib, index = small
    password = "correct horse battery"
    auth.add_user(index / "users.json", "alice", password)
    audit.upload(LIBRARIAN, lib, index, "新文件.txt", "一、要求\n1.新内容。\n".encode())
    path = audit.audit_path(index)
    for _ in range(60):
        audit.record(path, "mallory", "sign-in-failed", None, result="refused")
    monkeypatch.setenv("RAG_INDEX", str(index))
    monkeypatch.setenv("RAG_CORPUS", str(lib))

    def librarian_page() -> AppTest:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
        at.sidebar.text_input[0].input("alice")
        at.sidebar.text_input[1].input(password)
        at.sidebar.button[0].click().run()
        assert not at.exception
        return at

    at = librarian_page()
    changes, failed = at.main.dataframe[-2].value, at.main.dataframe[-1].value
    assert "新文件.txt" in changes.to_string() and "sign-in-failed" not in changes.to_string()
    assert len(failed) == 50 and set(failed["action"]) == {"sign-in-failed"}
    assert not [e for e in at.error if "篡改" in e.value]
    lines = _lines(path)
    _write(path, [*lines[:1], *lines[2:]])  # a change removed from the log
    at = librarian_page()
    assert any("篡改" in e.value and "breaks at record 2" in e.value for e in at.error)
