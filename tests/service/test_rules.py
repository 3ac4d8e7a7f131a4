"""The service's rules without a server: the contract's checks agree with `custfocus validate`,
the migrations build the schema the code queries, the dashboard feeds the pulse statistics the right
counts, and which answers open cases."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import insert

from custfocus.data.loading import validate
from custfocus.pulse.stats import NpsCounts, nps_interval
from custfocus.service import schema
from custfocus.service.answers import Answer, answer_row, request_problems
from custfocus.service.cases import AtRisk, case_reason
from custfocus.service.dashboard import pulse_figures
from custfocus.service.db import migrate, open_engine
from custfocus.service.webhooks import backoff

pytestmark = pytest.mark.service
TODAY = dt.date(2026, 3, 18)  # a Wednesday
UTC = dt.UTC


def api_accepts(record: dict) -> bool:
    try:
        answer = Answer.model_validate_json(json.dumps(record))
    except ValidationError as failure:
        assert request_problems(failure.errors(include_url=False))  # every refusal names a field
        return False
    _, problems = answer_row(answer, TODAY, UTC)
    return not problems


def test_the_api_takes_exactly_the_answers_the_loader_takes(tmp_path):
    kinds = ["nps", "NPS", "csat", "ces", "star"]
    scores = [-1, 0, 1, 2, 5, 6, 7, 8, 10, 11, 4.5]
    dates = ["2026-03-18", "2026-03-19", "1899-12-31", "2026-02-30", "2026-03-01T22:00:00+00:00"]
    records = [{"kind": k, "score": s, "date": d} for k, s, d in itertools.product(kinds, scores, dates)]
    pd.DataFrame({"customer_id": ["C1"], "date": ["2026-03-01"], "amount": [10.0]}).to_csv(
        tmp_path / "transactions.csv", index=False)
    pd.DataFrame(records).to_csv(tmp_path / "responses.csv", index=False)
    report = validate(tmp_path, as_of=TODAY)
    rejected_rows = {p.row for p in report.problems if p.table == "responses"}
    loader_accepts = [row not in rejected_rows for row in range(1, len(records) + 1)]
    assert [api_accepts(r) for r in records] == loader_accepts
    assert 0 < sum(loader_accepts) < len(records)


def test_a_refusal_names_the_field_and_the_value():
    with pytest.raises(ValidationError) as failure:
        Answer.model_validate({"kind": "nps", "score": "ten", "date": "soon", "mood": "fine"})
    problems = {p.field: p for p in request_problems(failure.value.errors())}
    assert problems["score"].to_dict()["message"] == "score value 'ten': is not a whole number"
    assert problems["date"].value == "soon"
    assert problems["mood"].to_dict()["message"].startswith("mood value 'fine': is not a field of an answer")


def test_an_offset_timestamp_counts_in_the_service_time_zone():
    from zoneinfo import ZoneInfo

    answer = Answer.model_validate({"kind": "nps", "score": 9, "date": "2026-03-17T23:30:00+00:00"})
    assert answer_row(answer, TODAY, ZoneInfo("Europe/Berlin"))[0]["date"] == dt.date(2026, 3, 18)
    assert answer_row(answer, TODAY, UTC)[0]["date"] == dt.date(2026, 3, 17)


def test_the_migrations_build_the_schema_the_code_queries(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path}/service.db")
    migrate(engine)
    migrate(engine)  # a second start changes nothing
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    engine.dispose()
    assert differences == []


def test_sqlite_is_opened_durable(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path}/service.db")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_the_dashboard_counts_each_period_and_feeds_the_pulse_statistics(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path}/service.db")
    migrate(engine)
    monday, first = dt.date(2026, 3, 16), dt.date(2026, 3, 1)
    answers = ([(TODAY, 10)] * 5 + [(TODAY, 3)] * 2 + [(monday, 8)] * 4 + [(monday, 0)] * 3
               + [(first, 9)] * 6 + [(dt.date(2026, 2, 28), 0)] * 50 + [(dt.date(2026, 3, 19), 0)] * 9)
    moment = dt.datetime(2026, 3, 18, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(insert(schema.responses), [
            {"date": day, "score": score, "kind": "nps", "received_at": moment} for day, score in answers])
        figures = pulse_figures(connection, TODAY)
    engine.dispose()
    # By hand: today 5 promoters, 2 detractors; the week adds Monday's 4 passives and 3 detractors;
    # the month adds the 1st's 6 promoters. February and tomorrow count nowhere.
    expected = {"today": NpsCounts(5, 0, 2), "week": NpsCounts(5, 4, 5), "month": NpsCounts(11, 4, 5)}
    for period, counts in expected.items():
        shown = figures[period]["metrics"]["nps"]
        assert shown["n"] == counts.n
        assert shown["estimate"] == pytest.approx(100 * (counts.promoters - counts.detractors) / counts.n)
        assert (shown["low"], shown["high"]) == pytest.approx((nps_interval(counts).low, nps_interval(counts).high))
        assert shown["too_small"]  # under 30 answers
    assert figures["month"]["metrics"]["csat"]["n"] == 0


@pytest.mark.parametrize(("kind", "score", "customer", "reason"), [
    ("nps", 0, "A", "detractor"), ("nps", 6, "A", "detractor"), ("nps", 7, "A", None),
    ("nps", 7, "RISK", "valuable at risk"), ("nps", 8, "RISK", "valuable at risk"), ("nps", 9, "RISK", None),
    ("csat", 2, "A", "detractor"), ("csat", 3, "RISK", "valuable at risk"), ("csat", 4, "RISK", None),
    ("ces", 6, "A", "detractor"), ("ces", 5, "RISK", "valuable at risk"), ("ces", 3, "RISK", None),
    ("nps", 0, None, None),
])
def test_which_answers_open_a_case(kind, score, customer, reason):
    at_risk = {"RISK": AtRisk(clv=900.0, p_alive=0.2)}
    assert case_reason({"kind": kind, "score": score, "customer_id": customer}, at_risk) == reason


def test_webhook_retries_back_off_exponentially_up_to_an_hour():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff(40) == 3600


def test_a_failing_write_is_undone_alone_and_its_neighbours_commit(tmp_path):
    import time

    from custfocus.service.db import Writer

    engine = open_engine(f"sqlite:///{tmp_path}/service.db")
    migrate(engine)
    writer = Writer(engine)
    moment = dt.datetime(2026, 3, 18, tzinfo=UTC)

    def answer(score):
        def work(connection):
            connection.execute(schema.INSERT_RESPONSE, {"date": TODAY, "score": score, "kind": "nps",
                                                        "received_at": moment})
            if score == 3:
                raise ValueError("refused")
            return score
        return work

    busy = writer.submit(lambda connection: time.sleep(0.3))  # the next five wait and share one group
    futures = [writer.submit(answer(score)) for score in range(1, 6)]
    busy.result()
    outcomes = [f.exception() or f.result() for f in futures]
    writer.close()
    with engine.connect() as connection:
        stored = sorted(row.score for row in connection.execute(schema.responses.select()))
    engine.dispose()
    assert outcomes[:2] + outcomes[3:] == [1, 2, 4, 5] and isinstance(outcomes[2], ValueError)
    assert stored == [1, 2, 4, 5]
