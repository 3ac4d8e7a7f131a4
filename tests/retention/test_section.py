"""The retention section: headlines, findings and caveats from the numbers, and JSON-ready data."""

from __future__ import annotations

import json
from datetime import date

import plotly.graph_objects as go
import pytest

from custfocus.section import Context
from custfocus.data.company import Company
from custfocus.retention import section

HAND_AS_OF = date(2024, 4, 15)
RANDOM_AS_OF = date(2024, 2, 14)


@pytest.fixture
def tiny(duckdb_engine, hand_frame):
    """The hand-worked customers of test_hand_worked.py; March 2024 is the last complete month."""
    transactions = duckdb_engine.from_frame("retention_section_tx", hand_frame)
    return section(Company(tables={"transactions": transactions}, as_of=HAND_AS_OF))


def test_headlines_on_the_tiny_company(tiny):
    assert tiny.key == "retention" and tiny.available
    by_label = {h.label: h for h in tiny.headlines}
    assert list(by_label) == [
        "Monthly retention",  # leads; the data are too short for two purchase-cycle windows
        "New customers",
        "Active customers",
        "Repeat-purchase rate",
        "Revenue retention",
    ]
    # March: D is new; B, C and D are active; of February's A and C, only C came back.
    assert by_label["New customers"].value == "1"
    assert "Mar 2024, against 1 in Feb 2024" in by_label["New customers"].detail
    assert by_label["Active customers"].value == "3"
    assert by_label["Monthly retention"].value == "50%"
    assert "1 of the 2 customers active in Feb 2024 bought again in Mar 2024" in by_label["Monthly retention"].detail
    assert tiny.data["headlines"]["churn"]["estimate"] == 0.5
    # Established customers (first purchase by 15 Mar): A, B, C, F; A, B and C bought on 2+ days.
    assert by_label["Repeat-purchase rate"].value == "75%"
    assert "4 customers acquired by 15 Mar 2024" in by_label["Repeat-purchase rate"].detail
    # March revenue of February's customers A and C: 0 + 30, against 30 + 80 in February.
    assert by_label["Revenue retention"].value == "27%"
    for label in ("Monthly retention", "Repeat-purchase rate", "Revenue retention"):
        assert by_label[label].caveat, label  # every base here is far below 30 customers


def test_findings_and_caveats_on_the_tiny_company(tiny):
    findings = {c.key: c.finding for c in tiny.charts}
    assert list(findings) == ["flow", "retention", "cohorts", "revenue_retention"]
    assert all(isinstance(c.figure, go.Figure) for c in tiny.charts)
    assert findings["flow"] == "1 new customer in Mar 2024 and 3 active; the active base is level with Jan 2024 (3)."
    # Pooled over February and March: (1 + 1) / (3 + 2).
    assert findings["retention"] == "Month-on-month retention averaged 40% over the last 2 complete months."
    # Month 1: Jan cohort 1 of 3, Feb cohort 1 of 1 -> 2 of 4; month 2: Jan cohort 1 of 3.
    assert findings["cohorts"] == (
        "Of each month's new customers, 50% bought again the month after their first purchase and 33% 2 months after."
    )
    # (-70 + 30) / (195 + 110): a refund larger than the next month's spending.
    assert findings["revenue_retention"] == "Revenue retention averaged -13% over the last 2 complete months."
    assert tiny.caveats == [
        "Apr 2024 is incomplete at 15 Apr 2024: it is left out of the headlines and charts.",
        "Only 3 complete months of data: too short to compare with a year earlier.",
        "Only 2 customers were active in Feb 2024, the base of the latest retention, churn and "
        "revenue-retention rates: they are imprecise.",
        # A (gaps averaging 44 days), B (55) and C (16): median 44 days, windows of two months from 16 Dec 2023.
        "Customers typically buy again after 44 days, but the data do not cover two windows of two months yet, "
        "so retention is shown month on month only.",
        "The repeat-purchase rate rests on only 4 customers.",
    ]


def test_data_is_json_and_holds_the_figures(tiny):
    data = json.loads(json.dumps(tiny.data, allow_nan=False))
    assert data == tiny.data  # plain JSON types only: no tuples, numpy scalars or dates
    assert data["as_of"] == "2024-04-15" and data["last_complete_period"] == "2024-03-01"
    headlines = data["headlines"]
    assert headlines["new_customers"] == 1 and headlines["active_customers"] == 3
    assert headlines["retention"]["estimate"] == 0.5 and headlines["retention"]["n"] == 2
    assert headlines["churn"]["estimate"] == 0.5
    assert headlines["repeat_purchase_rate"]["estimate"] == 0.75
    assert headlines["repeat_purchase_cutoff"] == "2024-03-15"
    assert headlines["revenue_retention"] == pytest.approx(30 / 110)
    assert [row["active_customers"] for row in data["flow"]["by_period"]] == [3, 2, 3, 1]
    assert data["flow"]["by_period"][-1] == {
        "period": "2024-04-01",
        "complete": False,
        "new_customers": 0,
        "active_customers": 1,
    }
    assert [row["retained"] for row in data["retention"]["by_period"]] == [1, 1, 0]
    assert data["retention"]["trailing"] == {"months": 2, "rate": 0.4, "previous_rate": None}
    # Heatmap: months 1 and 2 of the complete cohort cells; the March cohort's month 1 (April) is open.
    cohorts = data["cohorts"]
    assert cohorts["cohort"] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert cohorts["cohort_size"] == [3, 1, 1]
    assert cohorts["periods_after"] == [1, 2]
    assert cohorts["share"] == [[pytest.approx(1 / 3), pytest.approx(1 / 3)], [1.0, None], [None, None]]
    assert cohorts["pooled"] == {"1": 0.5, "2": pytest.approx(1 / 3)}
    assert data["revenue_retention"]["trailing"]["rate"] == pytest.approx(-40 / 305)


def test_a_longer_history_compares_with_the_year_before(duckdb_engine, random_frame):
    transactions = duckdb_engine.from_frame("retention_section_random_tx", random_frame)
    result = section(Company(tables={"transactions": transactions}, as_of=RANDOM_AS_OF))
    json.dumps(result.data, allow_nan=False)
    complete = [row for row in result.data["retention"]["by_period"] if row["complete"]]
    assert len(complete) == 24  # February 2022 to January 2024
    recent, earlier = complete[-12:], complete[:12]
    rate = sum(r["retained"] for r in recent) / sum(r["base"] for r in recent)
    previous = sum(r["retained"] for r in earlier) / sum(r["base"] for r in earlier)
    assert result.data["retention"]["trailing"] == {"months": 12, "rate": rate, "previous_rate": previous}
    finding = next(c.finding for c in result.charts if c.key == "retention")
    direction = "up" if round(rate, 2) > round(previous, 2) else "down"
    assert finding == (
        f"Month-on-month retention averaged {rate:.0%} over the last 12 complete months, "
        f"{direction} from {previous:.0%} the year before."
    )
    assert not any("too short" in caveat for caveat in result.caveats)
    assert len(result.data["cohorts"]["cohort"]) == 24  # the heatmap keeps the latest 24 cohorts


def test_without_transactions_the_section_says_why():
    result = section(Company(tables={}, as_of=HAND_AS_OF))
    assert not result.available
    assert result.reason == "Not available: needs table transactions."


def test_without_purchases_by_as_of_the_section_says_why(duckdb_engine, hand_frame):
    transactions = duckdb_engine.from_frame("retention_section_early_tx", hand_frame)
    result = section(Company(tables={"transactions": transactions}, as_of=date(2023, 12, 31)))
    assert not result.available
    assert "no purchases" in result.reason


def test_without_a_complete_month_nothing_is_claimed(duckdb_engine, hand_frame):
    transactions = duckdb_engine.from_frame("retention_section_january_tx", hand_frame)
    result = section(Company(tables={"transactions": transactions}, as_of=date(2024, 1, 20)))
    assert result.available
    # No complete month, and no customer acquired a month before as_of for the repeat-purchase rate.
    assert result.headlines == []
    assert [c.finding for c in result.charts] == [
        "No complete month of data yet.",
        "Month-on-month retention: no complete month to measure yet.",
        "Too little history yet to follow cohorts beyond their first month.",
        "Revenue retention: no complete month to measure yet.",
    ]
    assert result.caveats == [
        "Jan 2024 is incomplete at 20 Jan 2024: it is left out of the headlines and charts.",
        "Only 0 complete months of data: too short to compare with a year earlier.",
        "No customer has bought on two different days yet, so the purchase cycle cannot be measured and "
        "retention is shown month on month only.",
    ]
    json.dumps(result.data, allow_nan=False)
    assert result.data["last_complete_period"] is None and result.data["headlines"]["retention"] is None


def test_progress_is_reported(duckdb_engine, hand_frame):
    transactions = duckdb_engine.from_frame("retention_section_progress_tx", hand_frame)
    steps = []
    section(Company(tables={"transactions": transactions}, as_of=HAND_AS_OF), Context(progress=steps.append))
    assert steps and all(step.startswith("Retention: ") for step in steps)


@pytest.mark.spark
def test_duckdb_and_spark_give_the_same_section(duckdb_engine, spark_engine, random_frame, put_on, assert_close):
    def data_on(engine):
        transactions = put_on(engine, "retention_section_both_tx", random_frame)
        return section(Company(tables={"transactions": transactions}, as_of=RANDOM_AS_OF)).data

    assert_close(data_on(duckdb_engine), data_on(spark_engine))
