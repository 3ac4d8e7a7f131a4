"""Closing the loop: which answers open a follow-up case, and what happens to a case afterwards.

A detractor with a customer_id opens a case: NPS 0-6, CSAT 1-2, CES 6-7 (on CES a high score is
effort, bad). So does a passive (NPS 7-8, CSAT 3, CES 4-5) whose customer is valuable and at risk:
in the top fifth by CLV and with a probability of being alive below one half, by the value model
fitted once on the company's tables when the service starts with ``--data``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from custfocus.errors import InputError
from custfocus.service import schema
from custfocus.service.answers import Problem
from custfocus.service.db import as_utc

DETRACTOR = {"nps": (0, 6), "csat": (1, 2), "ces": (6, 7)}
PASSIVE = {"nps": (7, 8), "csat": (3, 3), "ces": (4, 5)}
STATES = ("open", "in progress", "closed")
VALUABLE_SHARE = 0.2  # the top fifth of customers by CLV
AT_RISK_BELOW = 0.5  # probability alive

REASON_DETRACTOR = "detractor"
REASON_AT_RISK = "valuable at risk"


class CaseRuleBroken(InputError):
    """A change a case cannot take (closing it without a resolution, an unknown state)."""

    def __init__(self, problem: Problem):
        super().__init__(problem.to_dict()["message"])
        self.problem = problem


@dataclass(frozen=True)
class AtRisk:
    """A valuable customer the value model thinks is slipping away."""

    clv: float
    p_alive: float


def valuable_at_risk(company) -> dict[str, AtRisk]:
    """Customers in the top fifth by CLV whose probability alive is below one half."""
    from custfocus.value import customer_value

    table = customer_value(company).table.select("customer_id", "clv", "p_alive").to_pandas()
    threshold = table["clv"].quantile(1 - VALUABLE_SHARE)
    chosen = table[(table["clv"] >= threshold) & (table["p_alive"] < AT_RISK_BELOW)]
    return {str(row.customer_id): AtRisk(float(row.clv), float(row.p_alive)) for row in chosen.itertuples()}


def case_reason(row: dict, at_risk: dict[str, AtRisk]) -> str | None:
    """Why this answer opens a case, or None."""
    customer = row.get("customer_id")
    if not customer:
        return None
    low, high = DETRACTOR[row["kind"]]
    if low <= row["score"] <= high:
        return REASON_DETRACTOR
    low, high = PASSIVE[row["kind"]]
    if low <= row["score"] <= high and customer in at_risk:
        return REASON_AT_RISK
    return None


@dataclass(frozen=True)
class CaseRules:
    owners: dict[str, str]
    default_owner: str
    due_hours: int
    at_risk: dict[str, AtRisk]

    def owner(self, department: str | None) -> str:
        return self.owners.get(department or "", self.default_owner)

    def open_case(self, connection: Connection, response_id: int, row: dict, moment: dt.datetime) -> int | None:
        """Open the answer's case if it needs one, with its first history entry and its webhook."""
        reason = case_reason(row, self.at_risk)
        if reason is None:
            return None
        due = moment + dt.timedelta(hours=self.due_hours)
        values = {"response_id": response_id, "customer_id": row["customer_id"], "reason": reason,
                  "department": row.get("department"), "owner": self.owner(row.get("department")),
                  "state": "open", "due_at": due, "created_at": moment, "updated_at": moment}
        case_id = connection.execute(schema.INSERT_CASE, values).scalar_one()
        connection.execute(schema.INSERT_CASE_EVENT, {"case_id": case_id, "at": moment, "actor": "service",
                                                      "change": {"state": [None, "open"], "reason": reason}})
        payload = {"event": "case.opened", "case": case_json(values | {"id": case_id}),
                   "response": {"id": response_id, **{k: _json(v) for k, v in row.items()}}}
        if reason == REASON_AT_RISK:
            risk = self.at_risk[row["customer_id"]]
            payload["customer_value"] = {"clv": risk.clv, "p_alive": risk.p_alive}
        connection.execute(schema.INSERT_OUTBOX, {"event": "case.opened", "payload": payload, "created_at": moment,
                                                  "attempts": 0, "next_attempt_at": moment, "delivered_at": None,
                                                  "last_error": None})
        return case_id


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def case_json(case: Any) -> dict:
    mapping = dict(case._mapping) if hasattr(case, "_mapping") else dict(case)
    return {key: _json(as_utc(value) if isinstance(value, dt.datetime) else value)
            for key, value in mapping.items()}


def change_case(connection: Connection, case_id: int, changes: dict, actor: str, moment: dt.datetime) -> dict:
    """Apply a PATCH (state, owner, resolution, note) with its history entry; the updated case."""
    case = connection.execute(select(schema.cases).where(schema.cases.c.id == case_id)).first()
    if case is None:
        raise LookupError(f"There is no case {case_id}.")
    state = changes.get("state", case.state)
    if state not in STATES:
        raise CaseRuleBroken(Problem("state", state, f"is not one of {', '.join(STATES)}"))
    resolution = changes.get("resolution", case.resolution)
    if state == "closed" and not resolution:
        raise CaseRuleBroken(Problem("resolution", None, "is missing (closing a case needs a resolution)"))
    if case.state == "closed" and state != "closed" and "resolution" not in changes:
        resolution = None  # a reopened case is no longer resolved
    updates = {"state": state, "owner": changes.get("owner", case.owner), "resolution": resolution}
    history = {field: [getattr(case, field), value] for field, value in updates.items()
               if value != getattr(case, field)}
    if changes.get("note"):
        history["note"] = changes["note"]
    if history:
        connection.execute(update(schema.cases).where(schema.cases.c.id == case_id)
                           .values(**updates, updated_at=moment))
        connection.execute(insert(schema.case_events).values(case_id=case_id, at=moment, actor=actor,
                                                             change=history))
    return case_detail(connection, case_id)


def case_detail(connection: Connection, case_id: int) -> dict | None:
    case = connection.execute(select(schema.cases).where(schema.cases.c.id == case_id)).first()
    if case is None:
        return None
    events = connection.execute(select(schema.case_events).where(schema.case_events.c.case_id == case_id)
                                .order_by(schema.case_events.c.id)).all()
    return case_json(case) | {"history": [case_json(e) for e in events]}
