"""Opening the database, migrating it, and the one writer that commits answers in groups.

SQLite: WAL journal, ``synchronous=FULL`` (a commit is on disk before it returns), ``BEGIN
IMMEDIATE`` with a long busy timeout. Every write of the server goes through one :class:`Writer`
thread, so writes never meet a busy lock inside the server; answers that arrive together share one
commit (group commit), which is what lets a disk that needs ~5 ms per fsync take hundreds of
answers a second. A request is acknowledged only after the commit that holds it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from custfocus.errors import InputError

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
GROUP_LIMIT = 256  # most requests sharing one commit


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every moment the service stores is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def open_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite or PostgreSQL), with SQLite's durability settings."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(f"--db '{url}' is not a database URL; use e.g. sqlite:///custfocus.db or "
                         "postgresql+psycopg://user@host/db.") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InputError(f"--db '{url}': the service runs on SQLite or PostgreSQL, not {backend}.")
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
    if backend == "sqlite":
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_size=8, max_overflow=8, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # SQLAlchemy issues BEGIN itself (below); the driver's own transaction handling is off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # IMMEDIATE takes the write lock at once, so a transaction never fails half-way on a busy lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (Alembic migrations shipped in the package)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_migrated(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


Work = Callable[[Connection], Any]


class Writer:
    """One thread that runs every write; requests waiting together share a transaction.

    The group runs as one transaction; when a piece of work fails (a constraint, a bug), the group is
    rolled back and run again with each piece in its own savepoint, so the faulty one is undone alone
    and its caller gets the exception while the others commit. Results are handed back only after
    the commit.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.pending: queue.Queue[tuple[Work, Future] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="custfocus-writer", daemon=True)
        self.thread.start()

    def submit(self, work: Work) -> Future:
        future: Future = Future()
        self.pending.put((work, future))
        return future

    def run(self, work: Work) -> Any:
        """Run ``work`` in the writer and wait for its committed result (for callers off the event loop)."""
        return self.submit(work).result()

    def close(self) -> None:
        self.pending.put(None)
        self.thread.join()

    def _run(self) -> None:
        connection: Connection | None = None
        while True:
            first = self.pending.get()
            if first is None:
                if connection is not None:
                    connection.close()
                return
            group = [first]
            while len(group) < GROUP_LIMIT:
                try:
                    item = self.pending.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.pending.put(None)  # stop after this group
                    break
                group.append(item)
            try:
                connection = connection or self.engine.connect()
            except Exception as failure:  # noqa: BLE001  (database unreachable: these fail, later ones retry)
                for _, future in group:
                    future.set_exception(failure)
                continue
            if not self._commit_group(connection, group):
                # The connection may be broken (a database restart): the next group gets a fresh one.
                connection.invalidate()
                connection.close()
                connection = None

    @classmethod
    def _commit_group(cls, connection: Connection, group: list[tuple[Work, Future]]) -> bool:
        """Commit the group; True unless the connection failed. Results are handed out after the commit."""
        try:
            with connection.begin():
                results = [work(connection) for work, _ in group]
        except DBAPIError as failure:
            if failure.connection_invalidated or len(group) == 1:
                for _, future in group:
                    future.set_exception(failure)
                return not failure.connection_invalidated
            return cls._commit_one_by_one(connection, group)
        except Exception:  # noqa: BLE001  (a bug in one piece of work must not fail its neighbours)
            return cls._commit_one_by_one(connection, group)
        for result, (_, future) in zip(results, group, strict=True):
            future.set_result(result)
        return True

    @staticmethod
    def _commit_one_by_one(connection: Connection, group: list[tuple[Work, Future]]) -> bool:
        """After a failed group: each piece in its own savepoint, so only the faulty one is undone."""
        outcomes: list[tuple[bool, Any]] = []
        try:
            with connection.begin():
                for work, _ in group:
                    try:
                        with connection.begin_nested():
                            outcomes.append((True, work(connection)))
                    except Exception as failure:  # noqa: BLE001  (undone alone; its caller gets it)
                        outcomes.append((False, failure))
        except Exception as failure:  # noqa: BLE001  (the commit failed: nothing of the group is stored)
            for _, future in group:
                future.set_exception(failure)
            return False
        for (ok, value), (_, future) in zip(outcomes, group, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        return True
