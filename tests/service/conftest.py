"""The real server for the service tests: `custfocus serve` in a subprocess on 127.0.0.1, a free port.

Databases: a SQLite file per module, and a fresh PostgreSQL database per module when
CUSTFOCUS_TEST_POSTGRES_URL names a server (.ci/run starts one with .ci/start-postgres).
"""

from __future__ import annotations

import os
import uuid

import pytest
from service_server import Server
from sqlalchemy import create_engine, text

POSTGRES_ENV = "CUSTFOCUS_TEST_POSTGRES_URL"


def _postgres_database(url: str):
    """A new empty database on the server of ``url``; returns its URL and a function that drops it."""
    name = f"custfocus_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.rsplit("/", 1)[0] + f"/{name}", drop


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url and os.environ.get("CUSTFOCUS_REQUIRE_POSTGRES"):
        pytest.fail(f"{POSTGRES_ENV} is not set but CUSTFOCUS_REQUIRE_POSTGRES is (CI must test PostgreSQL)")
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set; .ci/run sets it (start a server with .ci/start-postgres)")
    return url


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path_factory):
    """A fresh service database URL: SQLite, then PostgreSQL (each test module gets its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('service')}/custfocus.db"
        return
    url, drop = _postgres_database(postgres_url())
    yield url
    drop()


@pytest.fixture
def sqlite_database(tmp_path):
    return f"sqlite:///{tmp_path}/custfocus.db"


@pytest.fixture
def start_server(tmp_path_factory):
    """``start_server(db, env=..., args=...)``: a started server, stopped after the test."""
    servers: list[Server] = []

    def start(db: str, env: dict | None = None, args: tuple[str, ...] = ()) -> Server:
        server = Server(db, tmp_path_factory.mktemp("logs"), env, args)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
