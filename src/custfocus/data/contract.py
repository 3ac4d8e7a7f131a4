"""The data contract: which tables a company may have, their columns, types and rules.

This is the single description that loading, validation, the demo company and the docs rely on.
Types are logical: ``id`` and ``text`` are strings, ``date`` accepts a date or a timestamp (kept as a
date in the company's time zone), ``number`` is a float, ``category`` is a string from a fixed set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Score ranges by survey kind (design: nps 0-10, csat 1-5, ces 1-7).
SCORE_RANGES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # id | text | date | number | integer | category
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    not_future: bool = False  # a date after as_of is an error
    description: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    description: str
    unique_key: tuple[str, ...] = ()  # columns whose combination must be unique
    needs_known_customer: bool = False  # customer_id must exist in `customers` when that table is given
    extra: dict = field(default_factory=dict)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "transactions",
            (
                Column("customer_id", "id", required=True),
                Column("date", "date", required=True, not_future=True),
                Column("amount", "number", required=True, description="revenue; negative = refund"),
                Column("order_id", "id"),
                Column("cost", "number", min=0, description="cost of goods"),
                Column("channel", "text"),
                Column("product", "text"),
            ),
            "one row per purchase (or refund)",
            unique_key=("order_id",),
            needs_known_customer=True,
        ),
        Table(
            "customers",
            (
                Column("customer_id", "id", required=True),
                Column("acquired_at", "date", not_future=True),
                Column("channel", "text"),
                Column("acquisition_cost", "number", min=0),
                Column("segment", "text"),
                Column("region", "text"),
            ),
            "one row per customer",
            unique_key=("customer_id",),
        ),
        Table(
            "responses",
            (
                Column("date", "date", required=True, not_future=True),
                Column("score", "integer", required=True),
                Column("kind", "category", required=True, choices=tuple(SCORE_RANGES)),
                Column("customer_id", "id"),
                Column("comment", "text"),
                Column("touchpoint", "text"),
                Column("department", "text"),
                Column("employee_id", "id"),
            ),
            "customer survey answers: NPS 0-10, CSAT 1-5, CES 1-7",
            needs_known_customer=True,
        ),
        Table(
            "service_events",
            (
                Column("customer_id", "id", required=True),
                Column("date", "date", required=True, not_future=True),
                Column("kind", "text", required=True),
                Column("cost", "number", required=True, min=0),
                Column("resolution_hours", "number", min=0),
                Column("department", "text"),
                Column("employee_id", "id"),
            ),
            "deliveries, tickets, returns, calls and what each cost",
            needs_known_customer=True,
        ),
        Table(
            "employee_responses",
            (
                Column("department", "text", required=True),
                Column("date", "date", required=True, not_future=True),
                Column("score", "integer", required=True, min=0, max=10),
                Column("employee_id", "id"),
                Column("comment", "text"),
            ),
            "employees' 'would you recommend working here' answers, 0-10",
        ),
        Table(
            "internal_responses",
            (
                Column("from_department", "text", required=True),
                Column("to_department", "text", required=True),
                Column("date", "date", required=True, not_future=True),
                Column("score", "integer", required=True, min=0, max=10),
                Column("comment", "text"),
            ),
            "how a department rates another it depends on, 0-10",
        ),
        Table(
            "interventions",
            (
                Column("customer_id", "id", required=True),
                Column("intervention", "text", required=True),
                Column("group", "category", required=True, choices=("treatment", "control")),
                Column("date", "date", required=True, not_future=True),
                Column("cost", "number", min=0),
            ),
            "experiment assignments: who got which treatment, and when",
            unique_key=("customer_id", "intervention"),
            needs_known_customer=True,
        ),
    )
}

# Loading order: customers first so that other tables can check their customer_id against it.
TABLE_ORDER = ("customers", "transactions", "responses", "service_events", "employee_responses",
               "internal_responses", "interventions")
