"""The first schema: responses, API keys, sessions, idempotency, cases with history, webhook outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "responses",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("customer_id", sa.String(200)),
        sa.Column("comment", sa.Text),
        sa.Column("touchpoint", sa.String(200)),
        sa.Column("department", sa.String(200)),
        sa.Column("employee_id", sa.String(200)),
        sa.Column("received_at", Moment, nullable=False),
    )
    op.create_index("ix_responses_date", "responses", ["date"])
    op.create_table(
        "api_keys",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("revoked_at", Moment),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("api_key_id", Id, sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("expires_at", Moment, nullable=False),
    )
    op.create_table(
        "idempotency",
        sa.Column("api_key_id", Id, primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("response_id", Id, sa.ForeignKey("responses.id"), nullable=False, unique=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("department", sa.String(200)),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("resolution", sa.Text),
        sa.Column("due_at", Moment, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
    )
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_table(
        "case_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("at", Moment, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("change", sa.JSON, nullable=False),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", Moment, nullable=False),
        sa.Column("delivered_at", Moment),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_outbox_pending", "outbox", ["delivered_at", "next_attempt_at"])


def downgrade() -> None:
    for table in ("outbox", "case_events", "cases", "idempotency", "sessions", "api_keys", "responses"):
        op.drop_table(table)
