"""Who may change the library: local librarian accounts and an optional trusted SSO header.

Everyone who reaches the page is a reader (ask, precedent, study pack, the library read-only).
Librarians may upload, replace and remove. A librarian is either

- a local account in a JSON file (`<index dir>/users.json`, or the file env RAG_USERS names),
  password hashed with salted scrypt (n=2**14, r=8, p=1) and compared in constant time; the
  file is written atomically with 0600 permissions; or
- a user named by a trusted request header (env RAG_TRUSTED_HEADER, e.g. X-Remote-User) who
  is listed in env RAG_LIBRARIANS (comma-separated). The header counts only on connections
  from the reverse proxies env RAG_TRUSTED_PROXIES lists (addresses or networks, comma-
  separated), which must set the header themselves and strip it from client requests; with
  the header set and no proxies listed the app refuses to start (`header_config_problem`).

A password sign-in lasts as long as the credential it was made with: a session keeps the
account's credential fingerprint (`credential`), and a reset password or an account removed
and created again ends it. Failed sign-ins are limited per account and per client
(`SignInLimiter`: 5 a minute, then a lock that doubles with each burst).

The functions that change the library (`rag.interfaces.audit`) call `require_librarian` themselves, so
hiding the controls is not the only guard.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rag import settings

logger = logging.getLogger(__name__)

USERS_FILE = "users.json"
USERS_ENV = settings.USERS
HEADER_ENV = settings.TRUSTED_HEADER
LIBRARIANS_ENV = settings.LIBRARIANS
PROXIES_ENV = settings.TRUSTED_PROXIES
LIBRARIAN = "librarian"
READER = "reader"
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD = 8
_NAME = re.compile(r"[\w.@-]{1,64}")


class AuthError(ValueError):
    """A bad user name, password or users file."""


class NotAllowed(PermissionError):
    """The caller is not a librarian."""


@dataclass(frozen=True)
class Identity:
    """Who is using the page: a name (None for an anonymous reader), a role and how it was established."""

    name: str | None = None
    role: str = READER
    via: str = "anonymous"  # anonymous | password | header | cli

    @property
    def librarian(self) -> bool:
        return self.role == LIBRARIAN

    @property
    def label(self) -> str:
        """The name for the audit log."""
        return self.name or "anonymous"


READER_IDENTITY = Identity()


def users_path(index_dir: str | Path) -> Path:
    """The accounts file: env RAG_USERS, else `<index dir>/users.json`."""
    return Path(settings.current().users or Path(index_dir) / USERS_FILE)


def check_name(name: str) -> str:
    """A user name: 1-64 letters, digits, '_', '.', '@' or '-'.

    Raises:
        AuthError: the name is not usable.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise AuthError(f"user name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
    return name


def hash_password(password: str, salt: bytes | None = None, **params: int) -> dict:
    """A salted scrypt record {"scrypt": {n, r, p}, "salt": hex, "hash": hex} of `password`."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    cost = {**SCRYPT, **params}
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **cost)
    return {"scrypt": cost, "salt": salt.hex(), "hash": digest.hex()}


def verify_password(record: Mapping, password: str) -> bool:
    """True when `password` matches a `hash_password` record (constant-time comparison)."""
    try:
        cost = {k: int(record["scrypt"][k]) for k in ("n", "r", "p")}
        salt = bytes.fromhex(record["salt"])
        want = bytes.fromhex(record["hash"])
    except (KeyError, TypeError, ValueError):
        return False
    got = hash_password(password, salt, **cost)["hash"]
    return hmac.compare_digest(bytes.fromhex(got), want)


_DUMMY = hash_password("not a password", b"\0" * 16)


def load_users(path: str | Path) -> dict[str, dict]:
    """name -> account record; {} when the file does not exist.

    Raises:
        AuthError: the file exists but is not a users file.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise AuthError(f"{path}: not a readable users file ({exc})") from exc
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise AuthError(f"{path}: not a users file (no \"users\" object)")
    return users


def save_users(path: str | Path, users: Mapping[str, dict]) -> None:
    """Write the accounts file atomically (temporary file, fsync, rename) with 0600 permissions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    body = json.dumps({"version": 1, "users": dict(users)}, ensure_ascii=False, indent=1).encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, body)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def add_user(path: str | Path, name: str, password: str, role: str = LIBRARIAN) -> bool:
    """Create or reset the account `name`; True when it is new.

    Raises:
        AuthError: a bad name, a password shorter than 8 characters, or a bad users file.
    """
    check_name(name)
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must have at least {MIN_PASSWORD} characters")
    users = load_users(path)
    new = name not in users
    users[name] = {"role": role, **hash_password(password),
                   "created": users.get(name, {}).get("created") or _now(), "updated": _now()}  # fmt: skip
    save_users(path, users)
    return new


def remove_user(path: str | Path, name: str) -> bool:
    """Delete the account `name`; False when there was none."""
    users = load_users(path)
    if name not in users:
        return False
    del users[name]
    save_users(path, users)
    return True


def credential(record: Mapping) -> str:
    """A fingerprint of an account's current password record: it changes when the password is set
    again (a new salt), so a session that keeps it ends with a reset or a re-created account."""
    return hashlib.sha256(f"{record.get('salt')}:{record.get('hash')}".encode()).hexdigest()[:32]


def authenticate(path: str | Path, name: str, password: str) -> Identity | None:
    """The librarian identity for a correct name and password, else None.

    An unknown name costs the same scrypt work as a known one, so timing does not tell them apart.
    """
    found = sign_in(path, name, password)
    return found[0] if found else None


def sign_in(path: str | Path, name: str, password: str) -> tuple[Identity, str] | None:
    """`authenticate`, with the account's credential fingerprint for the session to keep."""
    try:
        users = load_users(path)
    except AuthError as exc:
        logger.error("sign-in refused: %s", exc)
        users = {}
    record = users.get(name) if isinstance(name, str) else None
    ok = verify_password(record or _DUMMY, password or "") and record is not None
    if not ok:
        return None
    return Identity(name, record.get("role", LIBRARIAN), "password"), credential(record)


def librarians_from_env() -> set[str]:
    """The names env RAG_LIBRARIANS lists (comma-separated) as librarians for header sign-in."""
    return set(settings.current().librarians)


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks env RAG_TRUSTED_PROXIES lists (addresses or CIDR networks, comma-separated).

    Raises:
        AuthError: an entry is not an address or a network.
    """
    got = settings.current()
    problem = got.problem(PROXIES_ENV)
    if problem:
        raise AuthError(problem)
    return list(got.trusted_proxies)


def header_config_problem() -> str | None:
    """Why the trusted-header settings cannot be used (the app then refuses to start), or None."""
    if not settings.current().trusted_header:
        return None
    try:
        proxies = trusted_proxies()
    except AuthError as exc:
        return str(exc)
    if not proxies:
        return (f"{HEADER_ENV} is set but {PROXIES_ENV} is not: anyone reaching the app directly could name "
                f"themselves in the header. List the reverse proxy's address in {PROXIES_ENV} (e.g. 127.0.0.1), "
                f"or unset {HEADER_ENV}.")  # fmt: skip
    return None


def from_proxy(peer: str | None) -> bool:
    """True when the connection's address `peer` is one of the trusted proxies (None: the local machine)."""
    try:
        address = ipaddress.ip_address((peer or "127.0.0.1").split("%", 1)[0])
        return any(address in net for net in trusted_proxies())
    except (ValueError, AuthError):
        return False


def trusted_header_user(headers: Mapping[str, str] | None, peer: str | None = None) -> str | None:
    """The user named in the header env RAG_TRUSTED_HEADER names, on a connection from a trusted proxy."""
    header = settings.current().trusted_header
    if not header or not headers:
        return None
    want = header.lower()
    value = next((v for k, v in headers.items() if k.lower() == want), None)
    value = (value or "").strip()
    if not value:
        return None
    if not from_proxy(peer):
        logger.warning("ignoring %s header from %s: not a trusted proxy (%s)", header, peer or "127.0.0.1",
                       PROXIES_ENV)  # fmt: skip
        return None
    try:
        return check_name(value)
    except AuthError:
        logger.warning("ignoring %s header with an unusable user name", header)
        return None


def resolve_identity(signed_in: str | None, headers: Mapping[str, str] | None, users_file: str | Path,
                     peer: str | None = None, signed_with: str | None = None) -> Identity:  # fmt: skip
    """Who this request is, checked afresh on every run of the page.

    A name from the trusted header (on a connection from a trusted proxy) comes first, a librarian
    when listed in RAG_LIBRARIANS; then a password sign-in of this session, as long as the account
    exists with the credential it was made with (`signed_with`); else a reader.
    """
    via_header = trusted_header_user(headers, peer)
    if via_header and via_header in librarians_from_env():
        return Identity(via_header, LIBRARIAN, "header")
    if signed_in:
        try:
            record = load_users(users_file).get(signed_in)
        except AuthError:
            record = None
        if (record is not None and record.get("role", LIBRARIAN) == LIBRARIAN and signed_with is not None
                and hmac.compare_digest(credential(record), signed_with)):  # fmt: skip
            return Identity(signed_in, LIBRARIAN, "password")
    if via_header:
        return Identity(via_header, READER, "header")
    return READER_IDENTITY


class SignInLimiter:
    """Failed sign-ins per key (an account, a client): after `limit` within `window` seconds, the key
    is locked for `lock` seconds, doubling with each further lock (at most `max_lock`); a success
    clears an account's count. Shared by every session of the process (thread-safe).

    `failed` says when a record belongs in the audit log, so a burst of guesses writes a few summary
    records (its first failure, the lock with its count, the attempts refused while locked), never
    one per guess.
    """

    def __init__(self, limit: int = 5, window: float = 60.0, lock: float = 30.0, max_lock: float = 900.0,
                 clock=time.monotonic):  # fmt: skip
        self.limit, self.window, self.lock, self.max_lock, self.clock = limit, window, lock, max_lock, clock
        self._state: dict[str, dict] = {}
        self._mutex = threading.Lock()

    def wait(self, keys: list[str]) -> float:
        """Seconds until these keys may try again (0: now); a refused try is counted for the summary."""
        now = self.clock()
        with self._mutex:
            waits = [st["until"] - now for k in keys if (st := self._state.get(k)) and st["until"] > now]
            for k in keys:
                st = self._state.get(k)
                if st and st["until"] > now:
                    st["refused"] += 1
            return max(waits, default=0.0)

    def failed(self, keys: list[str]) -> dict | None:
        """Count a failed sign-in; returns what to write to the audit log, or None for nothing."""
        now = self.clock()
        with self._mutex:
            note: dict | None = None
            for k in keys:
                st = self._state.setdefault(k, {"count": 0, "first": now, "until": 0.0, "locks": 0, "refused": 0})
                if now - st["first"] > self.window and st["until"] <= now:  # a new burst
                    if st["refused"] and note is None:
                        note = {"key": k, "refused_while_locked": st["refused"]}
                    st.update(count=0, first=now, refused=0)
                st["count"] += 1
                if st["count"] == 1 and note is None:
                    note = {"key": k, "attempts": 1}
                if st["count"] >= self.limit and st["until"] <= now:
                    seconds = min(self.lock * 2 ** st["locks"], self.max_lock)
                    st.update(until=now + seconds, locks=st["locks"] + 1, count=0, first=now)
                    note = {"key": k, "attempts": self.limit, "locked_seconds": int(seconds)}
            return note

    def reset(self) -> None:
        """Forget every count and lock (a server restart does the same)."""
        with self._mutex:
            self._state.clear()

    def succeeded(self, keys: list[str]) -> None:
        """A correct sign-in: the account's failures are forgotten (a client's stay counted)."""
        with self._mutex:
            for k in keys:
                if k.startswith("account:"):
                    self._state.pop(k, None)


LIMITER = SignInLimiter()


def require_librarian(who: Identity) -> None:
    """Raises NotAllowed unless `who` is a librarian."""
    if not isinstance(who, Identity) or not who.librarian:
        raise NotAllowed("only a librarian may change the library; sign in first")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
