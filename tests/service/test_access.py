"""Keys, the dashboard's session cookie, and the brake on failed authentication, on the real server."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import create_engine, select

from custfocus.service import create_key, schema

pytestmark = pytest.mark.service


def test_keys_create_prints_the_key_alone_and_stores_only_its_hash(sqlite_database):
    done = subprocess.run([sys.executable, "-m", "custfocus", "keys", "create", "--scope", "read", "--name",
                           "Team [red]dashboard[/red]", "--db", sqlite_database],
                          capture_output=True, text=True, env=os.environ.copy(), check=True)
    key = done.stdout.strip()
    assert done.stdout == key + "\n" and key.startswith("cf_") and len(key) > 40
    engine = create_engine(sqlite_database)
    with engine.connect() as connection:
        row = connection.execute(select(schema.api_keys)).one()
    engine.dispose()
    assert key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64
    assert (row.name, row.scopes) == ("Team [red]dashboard[/red]", "read")


def test_keys_create_refuses_an_unknown_scope(sqlite_database):
    done = subprocess.run([sys.executable, "-m", "custfocus", "keys", "create", "--scope", "write",
                           "--db", sqlite_database], capture_output=True, text=True, env=os.environ.copy(), check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert "--scope must be one of submit, read, admin, not 'write'" in done.stderr


def test_failed_authentication_is_braked(sqlite_database, start_server):
    server = start_server(sqlite_database, env={"CUSTFOCUS_AUTH_FAILURES_ALLOWED": "3"})
    good = create_key(sqlite_database, ["read"])
    with httpx.Client(base_url=server.url) as http:
        wrong = [http.get("/api/v1/cases", headers={"Authorization": f"Bearer cf_guess{i}"}).status_code
                 for i in range(5)]
        assert wrong == [401, 401, 401, 429, 429]
        braked = http.get("/api/v1/cases", headers={"Authorization": f"Bearer {good}"})
        assert braked.status_code == 429 and int(braked.headers["Retry-After"]) > 0
        assert http.get("/healthz").status_code == 200


def test_the_dashboard_takes_a_key_once_then_keeps_a_session(sqlite_database, start_server):
    server = start_server(sqlite_database)
    reader, submitter = create_key(sqlite_database, ["read"]), create_key(sqlite_database, ["submit"])
    with httpx.Client(base_url=server.url) as http:
        assert "API key" in http.get("/").text  # the sign-in form
        assert http.post("/session", data={"key": submitter}).status_code == 401  # no read scope
        signed_in = http.post("/session", data={"key": reader})
        assert signed_in.status_code == 303
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert 'id="pulse"' in http.get("/").text
        assert http.get("/api/v1/dashboard").status_code == 200  # the cookie, no header
        # The cookie only reads: writing still needs a key in the header.
        assert http.post("/api/v1/responses", json={"kind": "nps", "score": 9}).status_code == 401
    with httpx.Client(base_url=server.url, cookies={"custfocus_session": "forged"}) as forger:
        assert forger.get("/api/v1/dashboard").status_code == 401


def test_a_bad_database_url_is_one_sentence(tmp_path):
    done = subprocess.run([sys.executable, "-m", "custfocus", "serve", "--db", "mysql://x@y/z"],
                          capture_output=True, text=True, env=os.environ.copy(), timeout=120, check=False)
    assert done.returncode == 1
    assert "the service runs on SQLite or PostgreSQL, not mysql" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_setting_is_one_sentence(sqlite_database):
    done = subprocess.run([sys.executable, "-m", "custfocus", "serve", "--db", sqlite_database],
                          capture_output=True, text=True, env=os.environ | {"CUSTFOCUS_CASE_DUE_HOURS": "soon"},
                          timeout=120, check=False)
    assert done.returncode == 1
    assert "CUSTFOCUS_CASE_DUE_HOURS value 'soon'" in done.stderr and "Traceback" not in done.stderr
