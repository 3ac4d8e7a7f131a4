"""The loyalty section on the demo company (its planted satisfaction drives NPS, spend and dropout),
when tables are missing, and the same figures on DuckDB and Spark."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from custfocus.section import Context
from custfocus.value import shared_value
from custfocus import demo
from custfocus.data.company import Company
from custfocus.demo import PLANTED
from custfocus.data.loading import load, load_frames
from custfocus.loyalty import section
from custfocus.loyalty.presentation import TOP_CUSTOMERS


@pytest.fixture(scope="module")
def demo_company():
    return load_frames(demo.generate(customers=20_000, seed=7), as_of=PLANTED.default_as_of)


@pytest.fixture(scope="module")
def demo_section(demo_company):
    return section(demo_company)


def test_promoters_are_worth_clearly_more_on_the_demo(demo_section):
    # Satisfied customers answer higher, spend more per order and drop out later (the demo's copula).
    worth = demo_section.data["promoter_value"]
    assert worth["spend_gap"]["significant"] and worth["spend_gap"]["low"] > 0
    assert worth["clv_gap"]["significant"] and worth["clv_gap"]["low"] > 0
    spend = {row["nps_category"]: row["mean"] for row in worth["spend"]}
    assert spend["promoter"] > spend["passive"] > spend["detractor"]
    assert all(row["customers"] > 300 for row in worth["spend"])


def test_demo_matrix_and_headlines(demo_section):
    assert demo_section.key == "loyalty" and demo_section.available
    data = demo_section.data
    cells = {(row["attitude"], row["repeat"]): row for row in data["loyalty_matrix"]}
    assert sum(row["customers"] for row in cells.values()) == data["customers"] == 20_000
    assert data["surveyed"] + data["attitude_unknown"] == data["customers"]
    # Repeat buyers are worth more than the customers the model expected to buy more often.
    assert cells[("high", "high")]["clv_mean"] > cells[("high", "low")]["clv_mean"]
    assert cells[("low", "high")]["clv_mean"] > cells[("low", "low")]["clv_mean"]
    assert [h.label for h in demo_section.headlines] == [
        "Truly loyal", "Retained but not loyal", "A promoter's worth over a detractor"]
    true_share = data["headlines"]["true_loyalty"]
    assert true_share["n"] == data["surveyed"]
    assert true_share["estimate"] == pytest.approx(cells[("high", "high")]["customers"] / data["surveyed"])
    assert demo_section.headlines[2].value.startswith("+")
    assert demo_section.summary == demo_section.charts[0].finding
    assert "truly loyal" in demo_section.summary


def test_demo_retained_not_loyal_table(demo_section):
    top = demo_section.data["retained_not_loyal"]["top"]
    assert len(top) == TOP_CUSTOMERS
    risks = [row["value_at_risk"] for row in top]
    assert risks == sorted(risks, reverse=True)
    assert {row["nps_category"] for row in top} <= {"passive", "detractor"}
    assert all(row["frequency"] >= max(1, row["expected_repeat"]) for row in top)
    view = demo_section.tables[0]
    assert view.key == "retained_not_loyal" and len(view.frame) == TOP_CUSTOMERS


def test_json_and_chart_keys(demo_section):
    json.dumps(demo_section.data, allow_nan=False)
    assert [c.key for c in demo_section.charts] == ["loyalty_matrix", "promoter_value"]
    assert {c.key for c in demo_section.charts} | {"retained_not_loyal"} <= set(demo_section.data)
    assert any("no NPS answer" in c for c in demo_section.caveats)


def test_the_value_fit_is_shared_through_the_context(demo_company, demo_section):
    context = Context()
    fitted = shared_value(demo_company, context)
    assert shared_value(demo_company, context) is fitted
    again = section(demo_company, context)
    headlines, before = again.data["headlines"], demo_section.data["headlines"]
    assert headlines["true_loyalty"] == before["true_loyalty"]
    assert headlines["value_at_risk"] == pytest.approx(before["value_at_risk"])  # summed in another order


def _tiny(engine, responses: pd.DataFrame | None) -> Company:
    transactions = pd.DataFrame({"customer_id": ["A", "A", "B"], "amount": [10.0, 20.0, 5.0],
                                 "date": [date(2024, 1, 5), date(2024, 2, 5), date(2024, 1, 9)]})
    tables = {"transactions": engine.from_frame("loyalty_tiny_tx", transactions)}
    if responses is not None:
        tables["responses"] = engine.from_frame("loyalty_tiny_responses", responses)
    return Company(tables=tables, as_of=date(2024, 3, 1))


def test_unavailable_without_linked_nps_answers(duckdb_engine):
    missing = section(_tiny(duckdb_engine, None))
    assert not missing.available and missing.reason == "Not available: needs table responses."
    anonymous = pd.DataFrame({"date": [date(2024, 1, 6)], "score": [9], "kind": ["nps"]})
    unlinked = section(_tiny(duckdb_engine, anonymous))
    assert not unlinked.available and "no customer_id" in unlinked.reason
    csat_only = anonymous.assign(kind="csat", score=4, customer_id="A")
    assert "no NPS answer" in section(_tiny(duckdb_engine, csat_only)).reason


@pytest.mark.spark
def test_same_figures_on_duckdb_and_spark(tmp_path, spark_engine):
    demo.write(demo.generate(customers=1_500, seed=5), tmp_path)
    on_duckdb, on_spark = (section(load(tmp_path, engine=engine)).data for engine in ("duckdb", spark_engine))
    assert on_duckdb["surveyed"] > 100
    same = {"check_exact": False, "rtol": 1e-8, "atol": 1e-9}
    tables = {"loyalty_matrix": lambda d: d["loyalty_matrix"], "by_category": lambda d: d["by_category"],
              "top": lambda d: d["retained_not_loyal"]["top"], "spend": lambda d: d["promoter_value"]["spend"],
              "clv": lambda d: d["promoter_value"]["clv"],
              "gaps": lambda d: [d["promoter_value"]["spend_gap"], d["promoter_value"]["clv_gap"]],
              "headlines": lambda d: [d["headlines"]["true_loyalty"], d["headlines"]["spurious_loyalty"]]}
    for name, rows in tables.items():
        pd.testing.assert_frame_equal(pd.DataFrame(rows(on_spark)), pd.DataFrame(rows(on_duckdb)), obj=name, **same)
