"""The people figures and the follow-up check are the same on DuckDB and Spark."""

from __future__ import annotations

from custfocus import people
from custfocus.data.loading import load_frames
from custfocus.maturity.criteria import Evidence, _follow_up

from .conftest import AS_OF


def test_people_on_both_engines(any_engine, acme_tables, assert_close):
    duckdb = people.to_dict(people.analyse(load_frames(acme_tables, as_of=AS_OF)))
    other = load_frames(acme_tables, as_of=AS_OF, engine=any_engine)
    assert_close(people.to_dict(people.analyse(other)), duckdb)
    served = people.customers_served(other)
    assert served.to_dict() == {"Delivery": 900, "Finance": 40, "Sales": 300, "Support": 150}


def test_follow_up_check_on_both_engines(any_engine, acme_tables):
    import pandas as pd

    responses = acme_tables["responses"]
    detractors = responses[responses.score <= 6]
    followed = detractors.iloc[: len(detractors) * 2 // 3]
    events = pd.DataFrame({"customer_id": followed.customer_id, "date": pd.to_datetime(followed.date) + pd.Timedelta(days=3),
                           "kind": "Call", "cost": 4.0})
    company = load_frames({**acme_tables, "service_events": events}, as_of=AS_OF, engine=any_engine)
    finding = _follow_up(Evidence({}, company))
    assert finding.state == "met"
    assert finding.detail.startswith(f"{len(followed) / len(detractors):.0%} of {len(detractors):,} detractor answers")
