"""Who may change the library: local librarian accounts and an optional trusted SSO header.

Everyone who reaches the page is a reader (ask, precedent, study pack, the library read-only).
Librarians may upload, replace and remove. A librarian is either

- a local account in a JSON file (`<index dir>/users.json`, or the file env RAG_USERS names),
  password hashed with salted scrypt (n=2**14, r=8, p=1) and compared in constant time; the
  file is written atomically with 0600 permissions; or
- a user named by a trusted request header (env RAG_TRUSTED_HEADER, e.g. X-Remote-User) who
  is listed in env RAG_LIBRARIANS (comma-separated). Only set RAG_TRUSTED_HEADER behind a
  reverse proxy that sets the header itself and strips it from client requests: anyone who
  can reach the app directly could otherwise send it and be whoever they name.

The functions that change the library (`rag.interfaces.audit`) call `require_librarian` themselves, so
hiding the controls is not the only guard.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

USERS_FILE = "users.json"
USERS_ENV = "RAG_USERS"
HEADER_ENV = "RAG_TRUSTED_HEADER"
LIBRARIANS_ENV = "RAG_LIBRARIANS"
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
    return Path(os.environ.get(USERS_ENV) or Path(index_dir) / USERS_FILE)


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


def authenticate(path: str | Path, name: str, password: str) -> Identity | None:
    """The librarian identity for a correct name and password, else None.

    An unknown name costs the same scrypt work as a known one, so timing does not tell them apart.
    """
    try:
        users = load_users(path)
    except AuthError as exc:
        logger.error("sign-in refused: %s", exc)
        users = {}
    record = users.get(name) if isinstance(name, str) else None
    ok = verify_password(record or _DUMMY, password or "") and record is not None
    if not ok:
        return None
    return Identity(name, record.get("role", LIBRARIAN), "password")


def librarians_from_env() -> set[str]:
    """The names env RAG_LIBRARIANS lists (comma-separated) as librarians for header sign-in."""
    return {n.strip() for n in os.environ.get(LIBRARIANS_ENV, "").split(",") if n.strip()}


def trusted_header_user(headers: Mapping[str, str] | None) -> str | None:
    """The user a trusted proxy named in the header env RAG_TRUSTED_HEADER names, if that is set."""
    header = os.environ.get(HEADER_ENV, "").strip()
    if not header or not headers:
        return None
    want = header.lower()
    value = next((v for k, v in headers.items() if k.lower() == want), None)
    value = (value or "").strip()
    if not value:
        return None
    try:
        return check_name(value)
    except AuthError:
        logger.warning("ignoring %s header with an unusable user name", header)
        return None


def resolve_identity(signed_in: str | None, headers: Mapping[str, str] | None, users_file: str | Path) -> Identity:
    """Who this request is, checked afresh on every run of the page.

    A name from the trusted header comes first (a librarian when listed in RAG_LIBRARIANS);
    then a password sign-in of this session, as long as the account still exists; else a reader.
    """
    via_header = trusted_header_user(headers)
    if via_header and via_header in librarians_from_env():
        return Identity(via_header, LIBRARIAN, "header")
    if signed_in:
        try:
            record = load_users(users_file).get(signed_in)
        except AuthError:
            record = None
        if record is not None and record.get("role", LIBRARIAN) == LIBRARIAN:
            return Identity(signed_in, LIBRARIAN, "password")
    if via_header:
        return Identity(via_header, READER, "header")
    return READER_IDENTITY


def require_librarian(who: Identity) -> None:
    """Raises NotAllowed unless `who` is a librarian."""
    if not isinstance(who, Identity) or not who.librarian:
        raise NotAllowed("only a librarian may change the library; sign in first")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
