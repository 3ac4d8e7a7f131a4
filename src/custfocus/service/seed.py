"""Filling a service database with the demo company's answers, so the dashboard shows something at once.

The demo's dates are moved forward so that its last answer is dated today (the dashboard shows
today, this week and this month). Answers of the last ``case_days`` days go through the same case
rules as live ones; older ones are history, and open no case.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from sqlalchemy import insert

from custfocus.service import schema
from custfocus.service.cases import CaseRules
from custfocus.service.db import migrate, now, open_engine
from custfocus.service.settings import ServiceSettings

CHUNK = 5000


def fill_from_demo(db: str, tables: dict[str, pa.Table], *, case_days: int = 7, progress=None) -> dict:
    """Store ``tables["responses"]`` (dates shifted to end today); returns counts and the shift in days."""
    step = progress or (lambda message: None)
    frame = tables["responses"].to_pandas()
    dates = frame["date"].map(lambda value: value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10]))
    today = dt.date.today()
    shift = today - max(dates)
    frame["date"] = dates + shift
    columns = [c.name for c in schema.responses.columns if c.name in frame.columns]
    rows = [{k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}
            for record in frame[columns].to_dict("records")]
    settings = ServiceSettings(db=db)
    rules = CaseRules(settings.owners, settings.default_owner, settings.case_due_hours, at_risk={})
    recent = today - dt.timedelta(days=case_days)
    engine = open_engine(db)
    cases = 0
    try:
        migrate(engine)
        moment = now()
        with engine.begin() as connection:
            history = [row | {"received_at": moment} for row in rows if row["date"] < recent]
            for start in range(0, len(history), CHUNK):
                step(f"Storing answers {start + 1:,}-{min(start + CHUNK, len(history)):,} of {len(rows):,}")
                connection.execute(insert(schema.responses), history[start:start + CHUNK])
            step("Storing the last days' answers and their cases")
            for row in (row for row in rows if row["date"] >= recent):
                response_id = connection.execute(insert(schema.responses).values(row | {"received_at": moment})
                                                 .returning(schema.responses.c.id)).scalar_one()
                cases += rules.open_case(connection, response_id, row, moment) is not None
    finally:
        engine.dispose()
    return {"responses": len(rows), "cases": cases, "shift_days": shift.days}
