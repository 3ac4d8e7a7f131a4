"""Crash test: many clients post while the server is SIGKILLed and restarted again and again.

Each client resends an answer it has no acknowledgement for, with the same Idempotency-Key, until
it gets one. Afterwards every acknowledged answer must be in the database exactly once, under the
id the acknowledgement named.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid

import httpx
import pytest
from service_server import Receiver, Server, free_port
from sqlalchemy import create_engine, select

from custfocus.service import create_key, schema

pytestmark = [pytest.mark.service, pytest.mark.slow]

CLIENTS = 8
ANSWERS_PER_CLIENT = 40  # at least; clients go on until the last kill is over
KILLS = 4


def test_no_acknowledged_answer_is_lost_or_doubled_across_kills(database, tmp_path):
    server = Server(database, tmp_path).start()
    key = create_key(database, ["submit"], name="durability")
    acknowledged: dict[str, int] = {}  # comment -> id from the 201
    resent = replayed = 0
    lock = threading.Lock()
    kills_over = threading.Event()

    def client(number: int) -> None:
        nonlocal resent, replayed
        rng = random.Random(number)
        with httpx.Client(timeout=10.0) as http:
            i = 0
            while i < ANSWERS_PER_CLIENT or not kills_over.is_set():
                i += 1
                marker = f"client {number} answer {i} {uuid.uuid4().hex}"
                body = {"kind": "nps", "score": rng.randint(0, 10), "comment": marker,
                        "customer_id": f"C{number:02d}{i:03d}"}
                headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex}
                attempts = 0
                while True:
                    attempts += 1
                    try:
                        answer = http.post(f"{server.url}/api/v1/responses", json=body, headers=headers)
                        if answer.status_code == 201:
                            with lock:
                                acknowledged[marker] = answer.json()["id"]
                                resent += attempts > 1
                                # Committed before the kill, acknowledged only now: the key's first result.
                                replayed += answer.headers.get("Idempotent-Replayed") == "true"
                            break
                        assert answer.status_code >= 500, answer.text  # only a crash may refuse an answer
                    except httpx.TransportError:
                        pass  # the server is down: send the same answer again with the same key
                    time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for _ in range(KILLS):
        time.sleep(random.uniform(0.5, 1.5))
        server.kill()
        server.start()
    kills_over.set()
    for thread in threads:
        thread.join(timeout=600)
    server.kill()

    assert len(acknowledged) >= CLIENTS * ANSWERS_PER_CLIENT
    engine = create_engine(database)
    with engine.connect() as connection:
        rows = connection.execute(select(schema.responses.c.id, schema.responses.c.comment)).all()
    engine.dispose()
    comments = [row.comment for row in rows]
    assert len(comments) == len(set(comments)), "an answer was stored twice"
    assert {row.comment: row.id for row in rows} == acknowledged
    print(f"\n{len(acknowledged)} answers from {CLIENTS} clients, {KILLS} SIGKILLs, "
          f"{resent} answers resent after a failure ({replayed} of them had been stored before the kill); "
          "every one stored once")


def test_a_webhook_written_before_a_crash_is_delivered_after_the_restart(sqlite_database, tmp_path):
    hook_port = free_port()  # nobody listens there yet: the delivery cannot happen before the kill
    server = Server(sqlite_database, tmp_path, args=("--webhook-url", f"http://127.0.0.1:{hook_port}/hook")).start()
    key = create_key(sqlite_database, ["submit"])
    answer = httpx.post(f"{server.url}/api/v1/responses", headers={"Authorization": f"Bearer {key}"},
                        json={"kind": "nps", "score": 0, "customer_id": "C-crash"})
    case_id = answer.json()["case_id"]
    server.kill()
    receiver = Receiver(failures=0, port=hook_port)
    try:
        server.start()
        deadline = time.monotonic() + 60  # the retry after the failed try waits its backoff
        while not receiver.calls and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.kill()
        receiver.server.shutdown()
    assert [json.loads(call["body"])["case"]["id"] for call in receiver.calls] == [case_id]
