"""API keys with scopes, dashboard sessions, and the brake on failed authentication.

A key is 32 random bytes (``cf_`` + URL-safe text); only its SHA-256 is stored. A slow password
hash would add nothing: the key is random, not chosen by a person, so it cannot be guessed from a
dictionary, and a fast hash keeps every request cheap.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, insert, select

from custfocus.errors import InputError
from custfocus.service import schema
from custfocus.service.db import as_utc, migrate, now, open_engine

SCOPES = ("submit", "read", "admin")
KEY_PREFIX = "cf_"
CACHE_SECONDS = 30.0


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Client:
    """Who is calling: the key's id and name, and what it may do (admin may do everything)."""

    key_id: int
    name: str
    scopes: frozenset[str]

    def may(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def create_key(db: str, scopes: list[str], name: str | None = None) -> str:
    """Create an API key in the database at ``db`` (migrating it first) and return the key itself."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InputError(f"--scope must be one of {', '.join(SCOPES)}"
                         + (f", not {', '.join(repr(s) for s in unknown)}." if unknown else "."))
    engine = open_engine(db)
    try:
        migrate(engine)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with engine.begin() as connection:
            connection.execute(insert(schema.api_keys).values(
                name=name or f"{'+'.join(scopes)} key", prefix=key[:10], key_hash=digest(key),
                scopes=" ".join(sorted(set(scopes))), created_at=now()))
        return key
    finally:
        engine.dispose()


class Keys:
    """Looks keys and sessions up, with a short cache so a request costs no extra query."""

    def __init__(self, engine: Engine, session_hours: int):
        self.engine = engine
        self.session_hours = session_hours
        self.cache: dict[str, tuple[float, Client]] = {}

    def cached(self, key: str) -> Client | None:
        """The key's client if it was looked up in the last CACHE_SECONDS (so a revoked key lasts that long)."""
        cached = self.cache.get(digest(key))
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        return None

    def client(self, key: str) -> Client | None:
        hashed = digest(key)
        with self.engine.connect() as connection:
            row = connection.execute(select(schema.api_keys).where(
                schema.api_keys.c.key_hash == hashed, schema.api_keys.c.revoked_at.is_(None))).first()
        if row is None:
            return None
        client = Client(row.id, row.name, frozenset(row.scopes.split()))
        self.cache[hashed] = (time.monotonic(), client)
        return client

    def open_session(self, client: Client, write) -> str:
        """A new session token for the dashboard (stored hashed, through the writer ``write``)."""
        token = secrets.token_urlsafe(32)
        expires = now() + timedelta(hours=self.session_hours)

        def store(connection):
            connection.execute(delete(schema.sessions).where(schema.sessions.c.expires_at < now()))
            connection.execute(insert(schema.sessions).values(token_hash=digest(token), api_key_id=client.key_id,
                                                              expires_at=expires))
        write(store)
        return token

    def session_client(self, token: str) -> Client | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(schema.sessions.c.expires_at, schema.api_keys)
                .join(schema.api_keys, schema.api_keys.c.id == schema.sessions.c.api_key_id)
                .where(schema.sessions.c.token_hash == digest(token), schema.api_keys.c.revoked_at.is_(None))).first()
        if row is None or as_utc(row.expires_at) < now():
            return None
        return Client(row.id, row.name, frozenset(row.scopes.split()))


class FailureBrake:
    """At most ``allowed`` failed authentications per client address in a sliding minute."""

    WINDOW = 60.0

    def __init__(self, allowed: int):
        self.allowed = allowed
        self.failures: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def retry_after(self, address: str) -> int:
        """Seconds until this address may try again (0: it may now)."""
        with self.lock:
            recent = self._recent(address)
            if len(recent) < self.allowed:
                return 0
            return max(1, int(recent[0] + self.WINDOW - time.monotonic()) + 1)

    def failed(self, address: str) -> None:
        with self.lock:
            self.failures[address] = self._recent(address)
            self.failures[address].append(time.monotonic())

    def _recent(self, address: str) -> deque[float]:
        """This address's failures within the window (addresses without any are forgotten)."""
        recent = self.failures.get(address, deque())
        while recent and recent[0] < time.monotonic() - self.WINDOW:
            recent.popleft()
        if not recent:
            self.failures.pop(address, None)
        return recent
