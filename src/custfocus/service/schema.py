"""The service's tables. ``responses`` carries the data contract's columns, so the report reads it as is.

The migrations under ``migrations/versions`` create these tables; this module is what the code
queries. A change here needs a new migration (tests compare the two).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    insert,
    select,
)

metadata = MetaData()

# BigInteger ids are plain INTEGER on SQLite (so they stay the rowid) and BIGINT elsewhere.
Id = BigInteger().with_variant(Integer(), "sqlite")

responses = Table(
    "responses", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # The data contract's columns (custfocus.data.contract.TABLES["responses"]).
    Column("date", Date, nullable=False),
    Column("score", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("customer_id", String(200)),
    Column("comment", Text),
    Column("touchpoint", String(200)),
    Column("department", String(200)),
    Column("employee_id", String(200)),
    # When the service received it (UTC), for the dashboard's newest comments.
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_responses_date", "date"),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False),  # shown in lists; the key itself is never stored
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(100), nullable=False),  # space-separated
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("api_key_id", Id, ForeignKey("api_keys.id"), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# The first result of each Idempotency-Key, per API key: a retry gets it back and stores nothing.
idempotency = Table(
    "idempotency", metadata,
    Column("api_key_id", Id, primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

cases = Table(
    "cases", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("response_id", Id, ForeignKey("responses.id"), nullable=False, unique=True),
    Column("customer_id", String(200), nullable=False),
    Column("reason", String(40), nullable=False),  # detractor | valuable at risk
    Column("department", String(200)),
    Column("owner", String(200), nullable=False),
    Column("state", String(20), nullable=False),  # open | in progress | closed
    Column("resolution", Text),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_cases_state", "state"),
)

case_events = Table(
    "case_events", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("change", JSON, nullable=False),  # {"field": [old, new], ...} or {"note": "..."}
)

# Webhook deliveries, written in the transaction that opens the case: a crash loses none.
outbox = Table(
    "outbox", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),
)

# The statements of the answer path, built once: values come as parameters, so SQLAlchemy compiles
# each statement once and every answer only binds values (building them per answer cost ~1 ms).
INSERT_RESPONSE = insert(responses).returning(responses.c.id)
INSERT_CASE = insert(cases).returning(cases.c.id)
INSERT_CASE_EVENT = insert(case_events)
INSERT_OUTBOX = insert(outbox)
INSERT_IDEMPOTENCY = insert(idempotency)
FIRST_RESULT = select(idempotency).where(and_(idempotency.c.api_key_id == bindparam("client_key"),
                                              idempotency.c.key == bindparam("idempotency_key")))
