"""The dashboard's figures: NPS, CSAT and CES with intervals for today, this week and this month
(the pulse statistics), the newest comments, and the queue of open cases with their ages."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
from sqlalchemy import Connection, func, select

from custfocus.pulse.stats import (
    NpsCounts,
    SatisfiedCounts,
    ScoreSummary,
    ces_interval,
    csat_interval,
    nps_interval,
    too_small,
)
from custfocus.service import schema
from custfocus.service.db import as_utc, now
from custfocus.stats import to_jsonable

NEWEST_COMMENTS = 20
QUEUE_LENGTH = 50
METRICS = {"nps": (NpsCounts, nps_interval), "csat": (SatisfiedCounts, csat_interval),
           "ces": (ScoreSummary, ces_interval)}


def periods(today: dt.date) -> dict[str, dt.date]:
    """First day of each period the dashboard shows (weeks start on Monday)."""
    return {"today": today, "week": today - dt.timedelta(days=today.weekday()), "month": today.replace(day=1)}


def pulse_figures(connection: Connection, today: dt.date) -> dict:
    """{period: {kind: estimate, low, high, n, too_small}} from the answers dated in each period."""
    starts = periods(today)
    counts = connection.execute(
        select(schema.responses.c.date, schema.responses.c.kind, schema.responses.c.score, func.count())
        .where(schema.responses.c.date >= min(starts.values()), schema.responses.c.date <= today)
        .group_by(schema.responses.c.date, schema.responses.c.kind, schema.responses.c.score)).all()
    figures: dict = {}
    for period, start in starts.items():
        histogram: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for day, kind, score, n in counts:
            if _as_date(day) >= start:
                histogram[kind].append((score, n))
        figures[period] = {"from": start.isoformat(), "metrics": {}}
        for kind, (summary, interval) in METRICS.items():
            pairs = histogram.get(kind, [])
            scores = np.repeat([s for s, _ in pairs], [n for _, n in pairs])
            estimate = interval(summary.from_scores(scores)).to_dict()
            thin = bool(too_small(estimate["n"], _nan(estimate["low"]), _nan(estimate["high"]), kind))
            figures[period]["metrics"][kind] = estimate | {"too_small": thin}
    return figures


def _nan(value):
    return np.nan if value is None else value


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def newest_comments(connection: Connection) -> list[dict]:
    r = schema.responses.c
    rows = connection.execute(
        select(r.id, r.date, r.kind, r.score, r.comment, r.touchpoint, r.department, r.customer_id)
        .where(r.comment.is_not(None)).order_by(r.id.desc()).limit(NEWEST_COMMENTS)).all()
    return [to_jsonable(dict(row._mapping)) for row in rows]


def case_queue(connection: Connection) -> list[dict]:
    c = schema.cases.c
    rows = connection.execute(
        select(c.id, c.customer_id, c.reason, c.owner, c.department, c.state, c.created_at, c.due_at)
        .where(c.state != "closed").order_by(c.due_at, c.id).limit(QUEUE_LENGTH)).all()
    moment = now()
    queue = []
    for row in rows:
        created, due = as_utc(row.created_at), as_utc(row.due_at)
        queue.append({"id": row.id, "customer_id": row.customer_id, "reason": row.reason, "owner": row.owner,
                      "department": row.department, "state": row.state, "created_at": created.isoformat(),
                      "due_at": due.isoformat(), "age_hours": round((moment - created).total_seconds() / 3600, 1),
                      "overdue": due < moment})
    return queue


def open_case_count(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(schema.cases)
                              .where(schema.cases.c.state != "closed")).scalar_one()


def dashboard(connection: Connection, today: dt.date) -> dict:
    return {"today": today.isoformat(), "pulse": pulse_figures(connection, today),
            "comments": newest_comments(connection), "cases": case_queue(connection),
            "open_cases": open_case_count(connection)}
