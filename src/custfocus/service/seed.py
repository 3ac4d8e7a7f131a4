"""Filling a service database with the demo company, so the dashboard shows something at once.

The survey answers go into ``responses``; those of the last ``case_days`` days go through the same
case rules as live ones (older ones are history and open no case). The company's other tables are
written beside them, so `custfocus report --source <db>` reads a whole company from the database.
Generate the demo with ``as_of`` today for the dashboard's today, week and month to have answers.
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
    """Store the demo's tables in the service database at ``db``; returns what was stored."""
    step = progress or (lambda message: None)
    answers = tables["responses"].to_pylist()
    latest = max(row["date"] for row in answers)
    recent = latest - dt.timedelta(days=case_days)
    settings = ServiceSettings(db=db)
    rules = CaseRules(settings.owners, settings.default_owner, settings.case_due_hours, at_risk={})
    engine = open_engine(db)
    cases = 0
    try:
        migrate(engine)
        moment = now()
        with engine.begin() as connection:
            history = [row | {"received_at": moment} for row in answers if row["date"] < recent]
            for start in range(0, len(history), CHUNK):
                step(f"Storing answers {start + 1:,}-{min(start + CHUNK, len(history)):,} of {len(answers):,}")
                connection.execute(insert(schema.responses), history[start:start + CHUNK])
            step("Storing the last days' answers and their cases")
            for row in (row for row in answers if row["date"] >= recent):
                response_id = connection.execute(schema.INSERT_RESPONSE, row | {"received_at": moment}).scalar_one()
                cases += rules.open_case(connection, response_id, row, moment) is not None
        for name, table in tables.items():
            if name != "responses":
                step(f"Storing {name}")
                table.to_pandas().to_sql(name, engine, if_exists="replace", index=False, chunksize=CHUNK)
    finally:
        engine.dispose()
    return {"responses": len(answers), "cases": cases,
            "tables": {name: table.num_rows for name, table in tables.items()}}
