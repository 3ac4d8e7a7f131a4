"""`custfocus demo --service-db`: the demo's answers in the service database, readable by the loader."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, func, select

from custfocus import demo
from custfocus.data.loading import validate
from custfocus.service import fill_from_demo, schema
from custfocus.service.cases import case_reason

pytestmark = pytest.mark.service


def test_the_demo_fills_the_service_database_and_the_loader_reads_it(tmp_path, monkeypatch):
    today = dt.date.today()
    tables = demo.generate(customers=600, seed=5, as_of=today)
    url = f"sqlite:///{tmp_path}/custfocus.db"
    filled = fill_from_demo(url, tables)
    answers = tables["responses"].to_pylist()
    recent_detractors = sum(1 for row in answers if row["date"] >= today - dt.timedelta(days=7)
                            and case_reason(row, {}) == "detractor")
    assert filled["responses"] == len(answers) and filled["cases"] == recent_detractors
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(schema.cases)).scalar_one() == recent_detractors
    engine.dispose()
    monkeypatch.chdir(tmp_path)  # the relative URL, as the README writes it
    report = validate("sqlite:///custfocus.db", as_of=today)
    assert report.ok, [p.sentence() for p in report.problems]
    for name, table in tables.items():
        assert report.tables[name].used == table.num_rows, name
