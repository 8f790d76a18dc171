"""Access and audit: accounts, roles, the trusted header, the audit log, replace/remove, CLI hygiene."""

from __future__ import annotations

import io
import json
import os
import stat

import pytest
from streamlit.testing.v1 import AppTest

from rag.ingest.pipeline import ingest
from rag.interfaces import audit, auth
from rag.storage.index import ClauseIndex
from tests.conftest import REPO, run_cli

LIBRARIAN = auth.Identity("alice", auth.LIBRARIAN, "password")
PASSWORD = "correct horse battery"




# accounts


def test_password_hash_round_trip_and_salt():
    a, b = auth.hash_password(PASSWORD), auth.hash_password(PASSWORD)
    assert a["salt"] != b["salt"] and a["hash"] != b["hash"]  # salted
    assert a["scrypt"] == {"n": 2**14, "r": 8, "p": 1}
    assert auth.verify_password(a, PASSWORD)
    assert not auth.verify_password(a, PASSWORD + "x")
    assert not auth.verify_password({"salt": "zz"}, PASSWORD)  # a broken record never matches


def test_accounts_file_is_private_and_passwords_checked(tmp_path):
    path = tmp_path / "users.json"
    assert auth.add_user(path, "alice", PASSWORD)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert PASSWORD not in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["users.json"]  # no temporary file left behind
    assert auth.authenticate(path, "alice", PASSWORD) == auth.Identity("alice", auth.LIBRARIAN, "password")
    assert auth.authenticate(path, "alice", "wrong password") is None
    assert auth.authenticate(path, "nobody", PASSWORD) is None
    with pytest.raises(auth.AuthError, match="at least 8"):
        auth.add_user(path, "bob", "short")
    with pytest.raises(auth.AuthError, match="user name"):
        auth.add_user(path, "../evil", PASSWORD)
    assert not auth.add_user(path, "alice", "another password")  # a reset, not a new account
    assert auth.authenticate(path, "alice", PASSWORD) is None
    assert auth.remove_user(path, "alice") and not auth.remove_user(path, "alice")


def test_rag_user_commands(small, capsys, monkeypatch):
    _, index = small
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    rc, out, _ = run_cli(capsys, "user", "add", "alice", "--password-stdin", "--index", str(index))
    assert rc == 0 and "added librarian alice" in out
    users = index / "users.json"
    assert stat.S_IMODE(os.stat(users).st_mode) == 0o600
    assert auth.authenticate(users, "alice", PASSWORD)
    rc, out, _ = run_cli(capsys, "user", "list", "--index", str(index), "--json")
    assert rc == 0 and [u["name"] for u in json.loads(out)] == ["alice"]
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    rc, _, err = run_cli(capsys, "user", "add", "bob", "--password-stdin", "--index", str(index))
    assert rc == 2 and "at least 8" in err
    rc, out, _ = run_cli(capsys, "user", "remove", "alice", "--index", str(index))
    assert rc == 0 and auth.load_users(users) == {}
    rc, _, err = run_cli(capsys, "user", "remove", "alice", "--index", str(index))
    assert rc == 2 and "no account" in err
    actions = [r["action"] for r in audit.read(audit.audit_path(index))]
    assert actions[-2:] == ["user-add", "user-remove"]


def test_trusted_header_names_the_user(monkeypatch, tmp_path):
    users = tmp_path / "users.json"
    headers = {"x-remote-user": "carol", "Host": "example"}
    monkeypatch.delenv(auth.HEADER_ENV, raising=False)
    assert auth.resolve_identity(None, headers, users) == auth.READER_IDENTITY  # header ignored unless configured
    monkeypatch.setenv(auth.HEADER_ENV, "X-Remote-User")
    monkeypatch.setenv(auth.LIBRARIANS_ENV, "dave, carol")
    assert "RAG_TRUSTED_PROXIES is not" in auth.header_config_problem()  # the app refuses to start
    assert auth.resolve_identity(None, headers, users) == auth.READER_IDENTITY  # no proxy trusted: ignored
    monkeypatch.setenv(auth.PROXIES_ENV, "10.0.0.5, 127.0.0.1")
    assert auth.header_config_problem() is None
    assert auth.resolve_identity(None, headers, users) == auth.Identity("carol", auth.LIBRARIAN, "header")
    assert auth.resolve_identity(None, headers, users, "10.0.0.5").librarian  # from the proxy
    assert auth.resolve_identity(None, headers, users, "10.0.0.9") == auth.READER_IDENTITY  # sent directly
    monkeypatch.setenv(auth.PROXIES_ENV, "10.0.0.0/29")
    assert auth.resolve_identity(None, headers, users, "10.0.0.5").librarian
    assert auth.resolve_identity(None, headers, users) == auth.READER_IDENTITY  # this machine is not listed now
    monkeypatch.setenv(auth.PROXIES_ENV, "proxy.example")
    assert "not an address" in auth.header_config_problem()
    monkeypatch.setenv(auth.PROXIES_ENV, "127.0.0.1")
    monkeypatch.setenv(auth.LIBRARIANS_ENV, "dave")
    assert auth.resolve_identity(None, headers, users) == auth.Identity("carol", auth.READER, "header")
    assert auth.trusted_header_user({"X-Remote-User": "bad name<script>"}) is None
    assert auth.trusted_header_user({}) is None


def test_signed_in_account_rechecked(tmp_path, monkeypatch):
    monkeypatch.delenv(auth.HEADER_ENV, raising=False)
    users = tmp_path / "users.json"
    auth.add_user(users, "alice", PASSWORD)
    who, cred = auth.sign_in(users, "alice", PASSWORD)
    assert auth.resolve_identity("alice", {}, users, signed_with=cred).librarian
    assert not auth.resolve_identity("alice", {}, users).librarian  # no credential kept: not signed in
    auth.add_user(users, "alice", "a new password")  # a reset ends the session
    assert not auth.resolve_identity("alice", {}, users, signed_with=cred).librarian
    cred = auth.sign_in(users, "alice", "a new password")[1]
    assert auth.resolve_identity("alice", {}, users, signed_with=cred).librarian
    auth.remove_user(users, "alice")
    assert not auth.resolve_identity("alice", {}, users, signed_with=cred).librarian  # removed: rights gone
    auth.add_user(users, "alice", "a new password")  # created again, even with the same password
    assert not auth.resolve_identity("alice", {}, users, signed_with=cred).librarian
    with pytest.raises(auth.NotAllowed):
        auth.require_librarian(auth.READER_IDENTITY)


# audit log and library changes


def test_audit_log_appends_one_json_line_per_record(tmp_path):
    log = tmp_path / "audit.log"
    audit.record(log, "alice", "upload", "a.txt", sha256="00" * 32)
    audit.record(log, "bob", "remove", "b\n.txt\x1b[2J")
    lines = log.read_bytes().splitlines()
    assert len(lines) == 2 and stat.S_IMODE(os.stat(log).st_mode) == 0o600
    first = json.loads(lines[0])
    assert first["user"] == "alice" and first["action"] == "upload" and first["result"] == "ok"
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert [r["user"] for r in audit.read(log)] == ["alice", "bob"]
    assert [r["user"] for r in audit.read(log, 1)] == ["bob"]
    link = tmp_path / "link.log"
    link.symlink_to(tmp_path / "elsewhere.log")
    with pytest.raises(OSError):
        audit.record(link, "mallory", "upload", "x")
    assert not (tmp_path / "elsewhere.log").exists()


def test_readers_cannot_change_the_library(small):
    lib, index = small
    before = sorted(p.name for p in lib.iterdir())
    with pytest.raises(auth.NotAllowed):
        audit.upload(auth.READER_IDENTITY, lib, index, "河长制.txt", "一、新\n1.新内容。\n".encode())
    with pytest.raises(auth.NotAllowed):
        audit.remove_audited(auth.READER_IDENTITY, index, ["河长制.txt"])
    with pytest.raises(auth.NotAllowed):
        audit.ingest_audited(auth.READER_IDENTITY, index, [lib])
    assert sorted(p.name for p in lib.iterdir()) == before


def test_replace_keeps_the_old_version_and_is_audited(small):
    lib, index = small
    old = (lib / "河长制.txt").read_bytes()
    new = "一、总体要求\n1.全市河长制巡河频次每周不少于一次。\n".encode()
    with pytest.raises(FileExistsError):
        audit.upload(LIBRARIAN, lib, index, "河长制.txt", new)
    assert (lib / "河长制.txt").read_bytes() == old  # nothing overwritten without confirmation
    done = audit.upload(LIBRARIAN, lib, index, "河长制.txt", new, replace=True)
    assert done.path.read_bytes() == new
    assert done.archived is not None and done.archived.read_bytes() == old
    assert audit.is_old_version(done.archived) and done.archived.name == "河长制.txt"
    rec = audit.read(audit.audit_path(index))[-1]
    assert rec["action"] == "replace" and rec["user"] == "alice"
    assert rec["sha256_before"] == audit.sha256_file(done.archived) and rec["sha256_after"] == audit.sha256_file(
        done.path
    )
    rep = audit.ingest_audited(LIBRARIAN, index, [done.path, done.archived])
    assert rep.documents == 3
    assert audit.read(audit.audit_path(index))[-1]["action"] == "ingest"
    with pytest.raises(audit.UploadError):
        audit.upload(LIBRARIAN, lib, index, "bad.pdf", b"not a pdf")
    last = audit.read(audit.audit_path(index))[-1]
    assert last["action"] == "upload" and last["result"].startswith("refused")
    with pytest.raises(audit.UploadError):
        audit.upload(LIBRARIAN, lib, index, "河长制.txt", b"", replace=True)
    assert done.path.read_bytes() == new and len(list((lib / ".versions").glob("*/*"))) == 1


def test_failed_replace_keeps_the_current_file(small, monkeypatch):
    lib, index = small
    old = (lib / "河长制.txt").read_bytes()

    def unreadable(library, name, data):
        raise audit.UploadError(f"{name}: cannot be read: broken")

    monkeypatch.setattr(audit, "store", unreadable)
    with pytest.raises(audit.UploadError):
        audit.upload(LIBRARIAN, lib, index, "河长制.txt", "一、新\n1.新内容。\n".encode(), replace=True)
    assert (lib / "河长制.txt").read_bytes() == old
    assert not list((lib / ".versions").glob("*/*"))
    rec = audit.read(audit.audit_path(index))[-1]
    assert rec["action"] == "replace" and rec["result"].startswith("refused")


def test_remove_is_audited_with_the_file_hash(small, capsys):
    lib, index = small
    gone = audit.remove_audited(LIBRARIAN, index, [str(lib / "河长制.txt")])
    assert [d.title for d in gone] == ["河长制"]
    rec = audit.read(audit.audit_path(index))[-1]
    assert rec["action"] == "remove" and rec["sha256"] == audit.sha256_file(lib / "河长制.txt")
    rc, out, _ = run_cli(capsys, "audit", "--index", str(index), "-n", "1")
    assert rc == 0 and "alice  remove  河长制.txt  ok" in out
    rc, out, _ = run_cli(capsys, "audit", "--index", str(index), "--json")
    assert rc == 0 and json.loads(out)[-1]["action"] == "remove"


def test_removed_in_the_app_is_kept_and_not_ingested_again(small):

    lib, index = small
    data = (lib / "河长制.txt").read_bytes()
    audit.remove_audited(LIBRARIAN, index, [str(lib / "河长制.txt")], library=lib)
    assert not (lib / "河长制.txt").exists()
    (kept,) = (lib / ".removed").glob("*/河长制.txt")
    assert kept.read_bytes() == data and audit.read(audit.audit_path(index))[-1]["kept"] == str(kept)
    rep = ingest([lib], index, show_progress=False)
    assert "河长制" not in {d.title for d in rep_docs(index)}
    assert any(e.reason == "removed by a librarian (kept under .removed)" for e in rep.failures)


def rep_docs(index):
    from rag.storage.index import ClauseIndex

    return ClauseIndex.load(index).docs.values()


def test_cli_remove_and_ingest_are_audited(small, capsys):
    lib, index = small
    rc, out, _ = run_cli(capsys, "remove", str(lib / "escape.txt"), "--index", str(index))
    assert rc == 0 and "\x1b" not in out
    rc, _, _ = run_cli(capsys, "ingest", str(lib), "--index", str(index), "-q")
    assert rc == 0
    recs = audit.read(audit.audit_path(index))
    assert [r["action"] for r in recs[-2:]] == ["remove", "ingest"]
    assert recs[-1]["user"].startswith("cli:")


# the page (AppTest)


def _app(monkeypatch, index, lib) -> AppTest:
    monkeypatch.setenv("RAG_INDEX", str(index))
    monkeypatch.setenv("RAG_CORPUS", str(lib))
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=60)


def _library_texts(at: AppTest) -> str:
    return "\n".join(str(getattr(e, "value", "")) for e in at.main.caption) + "\n".join(
        str(getattr(e, "label", "")) for e in at.main.button
    )


def test_page_reader_then_librarian(small, monkeypatch):
    lib, index = small
    auth.add_user(index / "users.json", "alice", PASSWORD)
    at = _app(monkeypatch, index, lib).run()
    assert not at.exception
    assert "需要馆员登录" in _library_texts(at)
    assert not [b for b in at.main.button if b.label in ("从索引中移除", "导入上传的文件", "确认替换")]
    at.sidebar.text_input[0].input("alice")
    at.sidebar.text_input[1].input("wrong password")
    at.sidebar.button[0].click().run()
    assert any("用户名或密码不正确" in e.value for e in at.sidebar.error)
    assert audit.read(index / "audit.log")[-1]["action"] == "sign-in-failed"
    at.sidebar.text_input[0].input("alice")
    at.sidebar.text_input[1].input(PASSWORD)
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert any("馆员：alice" in m.value for m in at.sidebar.markdown)
    assert "需要馆员登录" not in _library_texts(at)
    doc_id = next(d.doc_id for d in ClauseIndex.load(index).docs.values() if d.title == "河长制")
    next(s for s in at.main.selectbox if s.label == "移除文件").set_value(doc_id).run()
    next(b for b in at.main.button if b.label == "从索引中移除").click().run()
    assert any("确定移除《河长制》" in w.value for w in at.main.warning)
    assert audit.read(index / "audit.log")[-1]["action"] == "sign-in"  # nothing removed yet
    next(b for b in at.main.button if b.label == "确认移除").click().run()
    assert not at.exception
    assert audit.read(index / "audit.log")[-1]["action"] == "remove"
    assert "河长制" not in {d.title for d in ClauseIndex.load(index).docs.values()}


def test_page_error_shows_a_reference_not_a_traceback(small, monkeypatch, caplog):
    lib, index = small

    def broken(*args, **kwargs):  # an unexpected failure (a damaged library is named instead: test_app_fallback)
        raise RuntimeError(f"unexpected failure reading {index}")

    monkeypatch.setattr("rag.search.retrieve.Searcher.search", broken)
    at = _app(monkeypatch, index, lib).run()
    at.text_input[0].input("巡河频次").run()
    assert not at.exception
    shown = "\n".join(e.value for e in at.error)
    assert "参考编号" in shown and "Traceback" not in shown and str(index) not in shown
    ref = shown.split("参考编号 ")[1].split()[0]
    logged = [r for r in caplog.records if r.name == "rag.app" and ref in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the details are in the server log, under the reference


def test_streamlit_config_for_the_office():
    """The settings `make run` starts with (.streamlit/config.toml, read from the repository root)."""
    import tomllib

    from rag.interfaces.upload import MAX_UPLOAD_BYTES

    cfg = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["server"]["headless"] is True and cfg["server"]["enableXsrfProtection"] is True
    assert cfg["server"]["address"] == "127.0.0.1"  # a bare `streamlit run app.py` is local too
    assert cfg["server"]["maxUploadSize"] * 2**20 == MAX_UPLOAD_BYTES
    assert cfg["client"] == {"showErrorDetails": "none", "toolbarMode": "viewer"}
    assert cfg["logger"]["hideWelcomeMessage"] is True  # no external-IP lookup at start
    assert "--server.address $(ADDRESS)" in (REPO / "Makefile").read_text(encoding="utf-8")
    assert "ADDRESS ?= 127.0.0.1" in (REPO / "Makefile").read_text(encoding="utf-8")


def test_no_external_address_lookup_at_start(monkeypatch):
    """Listening on every interface, Streamlit's start banner would ask an internet service for the
    external IP; with the repository's config it never calls that lookup."""
    from streamlit import config, net_util
    from streamlit.web import bootstrap

    monkeypatch.chdir(REPO)
    config.get_config_options(force_reparse=True)
    try:
        config.set_option("server.address", "0.0.0.0", "command-line argument or environment variable")

        def lookup():
            raise AssertionError("external IP lookup attempted")

        monkeypatch.setattr(net_util, "get_external_ip", lookup)
        assert config.get_option("logger.hideWelcomeMessage") is True
        bootstrap._print_url(False)
    finally:
        config.get_config_options(force_reparse=True)
