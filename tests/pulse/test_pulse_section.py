"""The pulse report section on small companies with known answers."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from custfocus.section import Context
from custfocus.data.company import Company
from custfocus.pulse import section, stats

MONTHS = [date(2024, m, 10) for m in range(3, 10)]  # March to September 2024


def _nps_scores(promoters, passives, detractors):
    return [10, 9] * (promoters // 2) + [9] * (promoters % 2) + [8, 7] * (passives // 2) + [7] * (passives % 2) \
        + [6, 3] * (detractors // 2) + [0] * (detractors % 2)


def _responses(nps_by_month):
    """NPS answers with the given (promoters, passives, detractors) per month, plus CSAT and CES."""
    rows = []
    for day, counts in zip(MONTHS, nps_by_month, strict=True):
        rows += [(day, "nps", score) for score in _nps_scores(*counts)]
        rows += [(day, "csat", score) for score in [5, 4, 4, 2] * 10]
        rows += [(day, "ces", score) for score in [6, 5, 3, 7] * 10]
    frame = pd.DataFrame(rows, columns=["date", "kind", "score"])
    frame["customer_id"] = [f"c{i % 20}" for i in range(len(frame))]
    frame["touchpoint"] = [("web", "shop", "phone")[i % 3] for i in range(len(frame))]
    return frame


STEADY_THEN_FALL = [(5, 3, 2)] + [(75, 45, 30)] * 5 + [(30, 45, 75)]  # +30 each month, then -30


@pytest.fixture
def full_company(duckdb_engine):
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(20)],
                              "segment": ["Business" if i % 2 else "Retail" for i in range(20)]})
    employees = pd.DataFrame({"department": ["Sales"] * 40 + ["Support"] * 40,
                              "date": [date(2024, 9, 1)] * 80,
                              "score": _nps_scores(20, 10, 10) + _nps_scores(5, 10, 25)})
    tables = {
        "responses": duckdb_engine.from_frame("responses", _responses(STEADY_THEN_FALL)),
        "customers": duckdb_engine.from_frame("customers", customers),
        "employee_responses": duckdb_engine.from_frame("employee_responses", employees),
    }
    return Company(tables=tables, as_of=date(2024, 9, 30))


def test_full_section_headlines_first_with_intervals(full_company):
    result = section(full_company)
    assert result.available and result.key == "pulse"
    assert [h.label for h in result.headlines] == [
        "Net Promoter Score", "Customer satisfaction (CSAT)", "Customer effort (CES)",
        "Responses for a ±5 point NPS",
    ]
    nps = result.headlines[0]
    promoters, detractors, n = 5 + 5 * 75 + 30, 2 + 5 * 30 + 75, 10 + 6 * 150
    assert nps.value == f"{round(100 * (promoters - detractors) / n):+d}"
    assert f"n = {n:,}" in nps.detail and "95% CI" in nps.detail
    assert result.headlines[1].value == "75%"  # 5 4 4 2: three of four satisfied
    assert result.headlines[2].value == "5.2"  # mean of 6 5 3 7
    assert result.headlines[3].value == f"{stats.nps_responses_needed(5, promoters / n, detractors / n):,}"


def test_full_section_charts_findings_and_data(full_company):
    result = section(full_company)
    keys = [chart.key for chart in result.charts]
    # Employee NPS belongs to the people section, which applies the anonymity rule.
    assert keys == ["nps_by_month", "nps_change", "nps_by_segment"]
    assert not any("employee" in key for key in result.data)
    assert all(isinstance(chart.figure, go.Figure) and chart.finding for chart in result.charts)
    assert all(key in result.data for key in keys)
    json.dumps(result.data, allow_nan=False)  # figures only, JSON-ready

    change = result.charts[1].finding
    assert change.startswith("NPS fell from +30 to -30 between August and September 2024; "
                             "the change is significant (p < 0.001).")
    assert "between Q2 and Q3 2024" in change
    month = result.data["nps_change"]["month"]
    assert (month["a"], month["b"], month["significant"]) == ("2024-08", "2024-09", True)

    by_month = result.data["nps_by_month"]
    assert [row["period"] for row in by_month][:2] == ["2024-03", "2024-04"]
    assert [row["too_small"] for row in by_month] == [True] + [False] * 6
    assert result.charts[0].caveat.startswith("1 of 7 months")
    assert result.data["nps_by_segment"]["column"] == "segment"
    assert result.data["responses_needed_for_5_point_nps"]["worst_case"] == stats.nps_responses_needed(5)
    assert result.data["responses_needed_for_5_point_nps"]["median_responses_per_month"] == 150
    assert len(result.tables[0].frame) == 7
    assert result.summary.startswith("NPS is +")


def test_section_without_employee_or_customer_tables(duckdb_engine):
    steady = [(5, 3, 2)] + [(75, 45, 30)] * 6
    company = Company(tables={"responses": duckdb_engine.from_frame("responses", _responses(steady))},
                      as_of=date(2024, 9, 30))
    result = section(company)
    assert result.available
    assert "Employee NPS" not in [h.label for h in result.headlines]
    by_touchpoint = result.data["nps_by_segment"]
    assert by_touchpoint["column"] == "touchpoint" and len(by_touchpoint["rows"]) == 3
    gap = by_touchpoint["highest_vs_lowest"]
    assert gap["pairs"] == 3 and gap["p_value_adjusted"] == pytest.approx(min(1.0, 3 * gap["p_value"]))
    assert gap["a"] == by_touchpoint["rows"][0]["touchpoint"]
    assert "stayed at +30 between August and September 2024; the change is within the noise (p = 1.00)" \
        in result.charts[1].finding


def test_section_with_only_csat_answers(duckdb_engine):
    frame = pd.DataFrame({"date": [date(2024, 9, 1)] * 4, "kind": ["csat"] * 4, "score": [5, 4, 1, 5]})
    company = Company(tables={"responses": duckdb_engine.from_frame("responses", frame)}, as_of=date(2024, 9, 30))
    result = section(company)
    assert [h.label for h in result.headlines] == ["Customer satisfaction (CSAT)"]
    assert result.headlines[0].caveat == "too few responses to conclude"
    assert result.charts == []
    assert result.data["nps"] is None
    assert any("no NPS responses" in caveat for caveat in result.caveats)


def test_section_unavailable_without_responses(duckdb_engine):
    transactions = pd.DataFrame({"customer_id": ["c1"], "date": [date(2024, 9, 1)], "amount": [10.0]})
    company = Company(tables={"transactions": duckdb_engine.from_frame("transactions", transactions)},
                      as_of=date(2024, 9, 30))
    result = section(company)
    assert not result.available
    assert result.reason == "Not available: needs table responses."


def test_section_reports_progress(full_company):
    notes = []
    section(full_company, Context(progress=notes.append))
    assert notes and all(note.startswith("pulse: ") for note in notes)
