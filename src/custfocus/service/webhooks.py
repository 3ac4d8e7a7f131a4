"""Webhooks for new cases, delivered from the outbox table at least once.

The case and its outbox row commit together; a delivery thread posts pending rows and marks them
delivered only after a 2xx answer. A crash between the POST and the mark sends the row again after
the restart, so receivers should drop repeats by the ``X-Custfocus-Delivery`` header. Failures are
retried with exponential backoff (2 s, 4 s, ... up to an hour).

Signature: ``X-Custfocus-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with the
shared secret, and the timestamp in ``X-Custfocus-Timestamp`` (reject old ones to stop replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta

import httpx
from sqlalchemy import Engine, select, update

from custfocus.service import schema
from custfocus.service.db import Writer, now

FIRST_RETRY_SECONDS = 2.0
LONGEST_RETRY_SECONDS = 3600.0
POLL_SECONDS = 0.5
BATCH = 50


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones."""
    return min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1))


class Deliverer:
    """A thread that posts due outbox rows to ``url`` until stopped."""

    def __init__(self, engine: Engine, writer: Writer, url: str, secret: str):
        self.engine, self.writer, self.url, self.secret = engine, writer, url, secret
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="custfocus-webhooks", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        with httpx.Client(timeout=10.0) as http:
            while not self.stopping.is_set():
                try:
                    sent = self.deliver_due(http)
                except Exception:  # noqa: BLE001  (the database is away for a moment: next tick)
                    sent = 0
                if not sent:
                    self.stopping.wait(POLL_SECONDS)

    def deliver_due(self, http: httpx.Client) -> int:
        """Post every due row once; returns how many were tried."""
        with self.engine.connect() as connection:
            due = connection.execute(
                select(schema.outbox).where(schema.outbox.c.delivered_at.is_(None),
                                            schema.outbox.c.next_attempt_at <= now())
                .order_by(schema.outbox.c.id).limit(BATCH)).all()
        for row in due:
            body = json.dumps(row.payload, separators=(",", ":")).encode()
            timestamp = str(int(time.time()))
            try:
                answer = http.post(self.url, content=body, headers={
                    "Content-Type": "application/json", "X-Custfocus-Event": row.event,
                    "X-Custfocus-Delivery": str(row.id), "X-Custfocus-Timestamp": timestamp,
                    "X-Custfocus-Signature": signature(self.secret, timestamp, body)})
                error = None if answer.is_success else f"HTTP {answer.status_code}"
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}"
            self.writer.run(lambda connection, row=row, error=error: self._record(connection, row, error))
        return len(due)

    @staticmethod
    def _record(connection, row, error: str | None) -> None:
        moment = now()
        if error is None:
            values = {"delivered_at": moment, "attempts": row.attempts + 1, "last_error": None}
        else:
            values = {"attempts": row.attempts + 1, "last_error": error,
                      "next_attempt_at": moment + timedelta(seconds=backoff(row.attempts + 1))}
        connection.execute(update(schema.outbox).where(schema.outbox.c.id == row.id).values(**values))
