"""The API against the real server, on SQLite and on PostgreSQL: answers, idempotency, the
contract's rules, scopes, cases and their history, webhooks, export, headers."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import uuid

import httpx
import pytest
from service_server import Receiver, Server
from sqlalchemy import create_engine, func, select

from custfocus.service import create_key, schema

pytestmark = pytest.mark.service
SECRET = "webhook-test-secret"


@pytest.fixture(scope="module")
def receiver(database):  # one per database: case ids start at 1 in each
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def server(database, receiver, tmp_path_factory):
    server = Server(database, tmp_path_factory.mktemp("logs"),
                    env={"CUSTFOCUS_WEBHOOK_SECRET": SECRET, "CUSTFOCUS_OWNERS": '{"Logistics": "dana"}'},
                    args=("--webhook-url", receiver.url)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def keys(database, server):
    return {scope: create_key(database, [scope], name=f"{scope} tester") for scope in ("submit", "read", "admin")}


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        yield client


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def post(http, key, answer, idempotency_key=None, path="/api/v1/responses"):
    headers = bearer(key) | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})
    return http.post(path, json=answer, headers=headers)


def stored(database, response_id: int):
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            return connection.execute(select(schema.responses).where(schema.responses.c.id == response_id)).first()
    finally:
        engine.dispose()


def count_where(database, table, *conditions) -> int:
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one()
    finally:
        engine.dispose()


def test_health_needs_no_key(http):
    answer = http.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_an_answer_is_stored_with_the_contract_columns(http, keys, database):
    answer = post(http, keys["submit"], {"kind": "CSAT", "score": 5, "comment": "  Quick and kind  ",
                                         "touchpoint": "phone", "date": "2026-01-15T23:30:00-05:00"})
    assert answer.status_code == 201
    row = stored(database, answer.json()["id"])
    # kind lower-cased and text trimmed, as the loader does; an offset timestamp counts in UTC (the default zone).
    assert (row.kind, row.score, row.comment, row.touchpoint) == ("csat", 5, "Quick and kind", "phone")
    assert row.date == dt.date(2026, 1, 16)
    assert answer.json()["case_id"] is None


def test_the_date_defaults_to_today(http, keys, database):
    answer = post(http, keys["submit"], {"kind": "nps", "score": 10})
    assert stored(database, answer.json()["id"]).date == dt.datetime.now(dt.UTC).date()


def test_a_retry_with_the_same_key_stores_nothing_new(http, keys, database):
    marker = uuid.uuid4().hex
    body = {"kind": "nps", "score": 8, "comment": marker}
    first = post(http, keys["submit"], body, idempotency_key=marker)
    again = post(http, keys["submit"], body, idempotency_key=marker)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert count_where(database, schema.responses, schema.responses.c.comment == marker) == 1
    reused = post(http, keys["submit"], body | {"score": 9}, idempotency_key=marker)
    assert reused.status_code == 422 and "different request" in reused.json()["detail"][0]["message"]


def test_concurrent_retries_with_one_key_store_one_answer(http, keys, database):
    marker = uuid.uuid4().hex
    results = []

    def send():
        with httpx.Client(base_url=str(http.base_url), timeout=30) as own:
            results.append(post(own, keys["submit"], {"kind": "ces", "score": 2, "comment": marker}, marker))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert count_where(database, schema.responses, schema.responses.c.comment == marker) == 1


@pytest.mark.parametrize(("body", "field", "value", "words"), [
    ({"kind": "nps", "score": 11}, "score", 11, "outside 0–10, the range of NPS scores"),
    ({"kind": "csat", "score": 0}, "score", 0, "outside 1–5, the range of CSAT scores"),
    ({"kind": "ces", "score": 8}, "score", 8, "outside 1–7, the range of CES scores"),
    ({"kind": "nsp", "score": 5}, "kind", "nsp", "is not one of nps, csat, ces"),
    ({"kind": "nps", "score": 7.5}, "score", 7.5, "is not a whole number"),
    ({"kind": "nps", "score": "seven"}, "score", "seven", "is not a whole number"),
    ({"kind": "nps"}, "score", None, "is missing"),
    ({"kind": "nps", "score": 5, "date": "2999-01-01"}, "date", "2999-01-01", "is after today"),
    ({"kind": "nps", "score": 5, "date": "1850-01-01"}, "date", "1850-01-01", "before 1900"),
    ({"kind": "nps", "score": 5, "date": "last week"}, "date", "last week", "is not a date"),
    ({"kind": "nps", "score": 5, "scroe": 5}, "scroe", 5, "is not a field of an answer"),
])
def test_bad_input_gets_422_naming_field_and_value(http, keys, body, field, value, words):
    answer = post(http, keys["submit"], body)
    assert answer.status_code == 422
    problem = next(p for p in answer.json()["detail"] if p["field"] == field)
    assert problem["value"] == value
    assert words in problem["message"] and problem["message"].startswith(field)


def test_a_batch_is_stored_whole_or_not_at_all(http, keys, database):
    marker = uuid.uuid4().hex
    good = [{"kind": "nps", "score": s, "comment": marker} for s in (9, 10, 7)]
    refused = post(http, keys["submit"], {"responses": [*good, {"kind": "nps", "score": 12}]},
                   path="/api/v1/responses/batch")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "responses[3].score"
    assert count_where(database, schema.responses, schema.responses.c.comment == marker) == 0
    taken = post(http, keys["submit"], {"responses": good}, idempotency_key=marker, path="/api/v1/responses/batch")
    again = post(http, keys["submit"], {"responses": good}, idempotency_key=marker, path="/api/v1/responses/batch")
    assert taken.status_code == 201 and len(taken.json()["ids"]) == 3 and again.json() == taken.json()
    assert count_where(database, schema.responses, schema.responses.c.comment == marker) == 3


def test_export_pages_through_every_answer_once(http, keys):
    seen, after = [], 0
    while after is not None:
        page = http.get("/api/v1/responses", params={"after_id": after, "limit": 3}, headers=bearer(keys["read"]))
        assert page.status_code == 200
        seen += [row["id"] for row in page.json()["responses"]]
        after = page.json()["next_after_id"]
    assert seen == sorted(set(seen)) and len(seen) >= 5
    everything = http.get("/api/v1/responses", params={"limit": 5000}, headers=bearer(keys["read"])).json()
    assert [row["id"] for row in everything["responses"]] == seen


def test_scopes(http, keys):
    answer = {"kind": "nps", "score": 9}
    assert post(http, keys["read"], answer).status_code == 403
    assert http.get("/api/v1/responses", headers=bearer(keys["submit"])).status_code == 403
    assert http.get("/api/v1/cases", headers=bearer(keys["read"])).status_code == 200
    assert http.patch("/api/v1/cases/1", json={"note": "x"}, headers=bearer(keys["read"])).status_code == 403
    assert post(http, keys["admin"], answer).status_code == 201  # admin may do everything
    assert http.get("/api/v1/responses").status_code == 401
    assert http.get("/api/v1/responses", headers={"Authorization": "Basic abc"}).status_code == 401


def test_a_detractor_opens_a_case_and_the_case_keeps_its_history(http, keys, database):
    customer = f"C-{uuid.uuid4().hex[:8]}"
    opened = post(http, keys["submit"], {"kind": "nps", "score": 2, "customer_id": customer,
                                         "department": "Logistics", "comment": "Parcel lost"}).json()
    assert opened["case_id"] is not None
    case = http.get(f"/api/v1/cases/{opened['case_id']}", headers=bearer(keys["read"])).json()
    assert (case["customer_id"], case["owner"], case["state"], case["reason"]) == (customer, "dana", "open", "detractor")
    due = dt.datetime.fromisoformat(case["due_at"]) - dt.datetime.fromisoformat(case["created_at"])
    assert due == dt.timedelta(hours=48)
    admin = bearer(keys["admin"])
    path = f"/api/v1/cases/{opened['case_id']}"
    assert http.patch(path, json={"state": "in progress", "owner": "lee"}, headers=admin).status_code == 200
    refused = http.patch(path, json={"state": "closed"}, headers=admin)
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "resolution"
    closed = http.patch(path, json={"state": "closed", "resolution": "Refunded and called back"}, headers=admin).json()
    assert closed["state"] == "closed" and closed["resolution"] == "Refunded and called back"
    assert [event["change"] for event in closed["history"]] == [
        {"state": [None, "open"], "reason": "detractor"},
        {"state": ["open", "in progress"], "owner": ["dana", "lee"]},
        {"state": ["in progress", "closed"], "resolution": [None, "Refunded and called back"]},
    ]
    assert closed["history"][1]["actor"] == "admin tester"
    listed = http.get("/api/v1/cases", params={"state": "closed"}, headers=bearer(keys["read"])).json()["cases"]
    assert opened["case_id"] in [c["id"] for c in listed]


@pytest.mark.parametrize(("kind", "score", "opens"), [
    ("nps", 6, True), ("nps", 7, False), ("csat", 2, True), ("csat", 3, False), ("ces", 6, True), ("ces", 5, False)])
def test_which_answers_open_a_case(http, keys, kind, score, opens):
    answer = post(http, keys["submit"], {"kind": kind, "score": score, "customer_id": "C-edge"}).json()
    assert (answer["case_id"] is not None) == opens


def test_no_case_without_a_customer(http, keys):
    assert post(http, keys["submit"], {"kind": "nps", "score": 0}).json()["case_id"] is None


def test_new_cases_reach_the_webhook_signed_after_a_failed_try(http, keys, receiver):
    customer = f"C-{uuid.uuid4().hex[:8]}"
    case_id = post(http, keys["submit"], {"kind": "csat", "score": 1, "customer_id": customer}).json()["case_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mine = [c for c in receiver.calls if json.loads(c["body"])["case"]["id"] == case_id]
        if mine:
            break
        time.sleep(0.2)
    assert mine, "the webhook never arrived"
    call = mine[0]
    headers = {k.lower(): v for k, v in call["headers"].items()}
    expected = hmac.new(SECRET.encode(), headers["x-custfocus-timestamp"].encode() + b"." + call["body"],
                        hashlib.sha256).hexdigest()
    assert headers["x-custfocus-signature"] == f"sha256={expected}"
    payload = json.loads(call["body"])
    assert payload["event"] == "case.opened" and payload["response"]["customer_id"] == customer
    assert receiver.failures_left == 0  # the first delivery failed and was retried


def test_security_headers_forbid_inline_scripts(http):
    policy = http.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_the_openapi_document_describes_the_answers_api(http):
    spec = http.get("/openapi.json").json()
    assert {"/api/v1/responses", "/api/v1/responses/batch", "/api/v1/cases", "/healthz"} <= set(spec["paths"])
    assert "Idempotency-Key" in json.dumps(spec["paths"]["/api/v1/responses"]["post"])
