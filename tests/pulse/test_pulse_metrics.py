"""The pulse tables on a small hand-made frame, the same on DuckDB and Spark."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from custfocus import people, pulse
from custfocus.data.loading import load_frames
from custfocus.errors import InputError
from custfocus.pulse import metrics, stats

# (date, kind, score, customer_id, touchpoint)
ANSWERS = [
    # August 2024: NPS 10 9 9 9 8 7 6 2 -> 4 promoters, 2 passives, 2 detractors = +25
    (date(2024, 8, 1), "nps", 10, "c1", "web"),
    (date(2024, 8, 2), "nps", 9, "c2", "web"),
    (date(2024, 8, 5), "nps", 9, "c3", "shop"),
    (date(2024, 8, 9), "nps", 9, "c4", "shop"),
    (date(2024, 8, 12), "nps", 8, "c1", "web"),
    (date(2024, 8, 20), "nps", 7, "c2", "shop"),
    (date(2024, 8, 28), "nps", 6, "c9", "web"),
    (date(2024, 8, 31), "nps", 2, "c3", None),
    # September 2024: NPS 10 8 8 5 4 3 -> 1, 2, 3 = -33.3
    (date(2024, 9, 2), "nps", 10, "c1", "web"),
    (date(2024, 9, 3), "nps", 8, "c4", "shop"),
    (date(2024, 9, 9), "nps", 8, "c2", "web"),
    (date(2024, 9, 16), "nps", 5, "c3", "shop"),
    (date(2024, 9, 23), "nps", 4, "c4", "web"),
    (date(2024, 9, 30), "nps", 3, "c2", "shop"),
    # CSAT: August 5 4 3, September 5 5 4 2
    (date(2024, 8, 3), "csat", 5, "c1", "web"),
    (date(2024, 8, 4), "csat", 4, "c2", "web"),
    (date(2024, 8, 6), "csat", 3, "c3", "shop"),
    (date(2024, 9, 4), "csat", 5, "c1", "web"),
    (date(2024, 9, 5), "csat", 5, "c2", "shop"),
    (date(2024, 9, 6), "csat", 4, "c3", "shop"),
    (date(2024, 9, 7), "csat", 2, "c4", "web"),
    # CES: August 7 5 6, September 2 4
    (date(2024, 8, 7), "ces", 7, "c1", "web"),
    (date(2024, 8, 8), "ces", 5, "c2", "web"),
    (date(2024, 8, 10), "ces", 6, "c3", "shop"),
    (date(2024, 9, 10), "ces", 2, "c4", "shop"),
    (date(2024, 9, 11), "ces", 4, "c1", "web"),
]
SEGMENTS = {"c1": "Business", "c2": "Business", "c3": "Retail", "c4": "Retail"}  # c9 is unknown


def _scores(kind, month=None, where=lambda answer: True):
    return [a[2] for a in ANSWERS if a[1] == kind and (month is None or a[0].month == month) and where(a)]


def _plain_nps(scores):
    return 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)


@pytest.fixture
def responses(put_table):
    frame = pd.DataFrame(ANSWERS, columns=["date", "kind", "score", "customer_id", "touchpoint"])
    # An object column keeps the missing touchpoint a null on Spark too (a pandas str column
    # reaches Spark as the text 'NaN').
    frame["touchpoint"] = pd.Series([a[4] for a in ANSWERS], dtype=object)
    return put_table("responses", frame)


@pytest.fixture
def customers(put_table):
    frame = pd.DataFrame({"customer_id": list(SEGMENTS), "segment": list(SEGMENTS.values()),
                          "region": ["North", "South", "North", "South"]})
    return put_table("customers", frame)


def test_overall_nps_counts_only_nps_answers(responses):
    table = pulse.nps(responses)
    scores = _scores("nps")
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["n"], row["promoters"], row["passives"], row["detractors"]) == (14, 5, 4, 5)
    assert row["nps"] == pytest.approx(_plain_nps(scores))
    expected = stats.nps_interval(stats.NpsCounts.from_scores(scores))
    assert (row["low"], row["high"]) == pytest.approx((expected.low, expected.high))
    assert bool(row["too_small"])  # 14 answers
    assert list(table.columns) == ["n", "promoters", "passives", "detractors", "nps", "low", "high", "too_small"]


def test_nps_by_month(responses):
    table = pulse.nps(responses, period="month")
    assert [str(p) for p in table["period"]] == ["2024-08", "2024-09"]
    assert table["nps"].tolist() == pytest.approx([25.0, -100 / 3])
    assert table["n"].tolist() == [8, 6]
    assert table["too_small"].all()


def test_nps_by_week_starts_on_monday(responses):
    table = pulse.nps(responses, period="week")
    first = table["period"].iloc[0]
    assert first.start_time.date() == date(2024, 7, 29)  # Thursday 1 August is in the week of Monday 29 July
    assert table["n"].sum() == 14


def test_nps_by_month_and_touchpoint_puts_missing_values_last(responses):
    table = pulse.nps(responses, by="touchpoint", period="month")
    august = table[table["period"] == pd.Period("2024-08", "M")]
    assert august["touchpoint"].iloc[:2].tolist() == ["shop", "web"]
    assert pd.isna(august["touchpoint"].iloc[2])
    web = august[august["touchpoint"] == "web"].iloc[0]
    assert web["nps"] == pytest.approx(_plain_nps(_scores("nps", 8, lambda a: a[4] == "web")))


def test_nps_by_customer_segment(responses, customers):
    joined = pulse.with_customer_attributes(responses, customers)
    assert set(joined.columns) == {"date", "kind", "score", "customer_id", "touchpoint", "segment", "region"}
    table = pulse.nps(joined, by="segment")
    assert table["segment"].iloc[:2].tolist() == ["Business", "Retail"]
    business = table.iloc[0]
    expected = _scores("nps", where=lambda a: SEGMENTS.get(a[3]) == "Business")
    assert business["n"] == len(expected)
    assert business["nps"] == pytest.approx(_plain_nps(expected))
    assert table["n"].sum() == 14  # the unknown customer c9 is kept, with no segment
    assert pd.isna(table["segment"].iloc[2])


def test_csat_by_month(responses):
    table = pulse.csat(responses, period="month")
    assert table["n"].tolist() == [3, 4]
    assert table["satisfied"].tolist() == [2, 3]
    assert table["csat"].tolist() == pytest.approx([200 / 3, 75.0])
    expected = stats.csat_interval(stats.SatisfiedCounts(3, 4))
    assert (table["low"].iloc[1], table["high"].iloc[1]) == pytest.approx((expected.low, expected.high))


def test_ces_by_month(responses):
    table = pulse.ces(responses, period="month")
    assert table["ces"].tolist() == pytest.approx([6.0, 3.0])
    assert table["sd"].tolist() == pytest.approx([1.0, 2**0.5])
    expected = stats.ces_interval(stats.ScoreSummary.from_scores([2, 4]))
    assert (table["low"].iloc[1], table["high"].iloc[1]) == pytest.approx((expected.low, expected.high))


def test_compare_latest_month_with_the_one_before(responses):
    change = pulse.compare(responses, period="month").iloc[0]
    expected = stats.nps_difference(stats.NpsCounts.from_scores(_scores("nps", 8)),
                                    stats.NpsCounts.from_scores(_scores("nps", 9)))
    assert (str(change["a"]), str(change["b"])) == ("2024-08", "2024-09")
    assert (change["value_a"], change["value_b"]) == pytest.approx((25.0, -100 / 3))
    assert change["difference"] == pytest.approx(expected.estimate)
    assert change["p_value"] == pytest.approx(expected.p_value)
    assert (change["n_a"], change["n_b"]) == (8, 6)


def test_compare_csat_and_ces_between_named_periods(responses):
    csat_change = pulse.compare(responses, "2024-08", "2024-09", metric="csat", period="month").iloc[0]
    assert csat_change["difference"] == pytest.approx(75 - 200 / 3)
    ces_change = pulse.compare(responses, date(2024, 8, 15), "2024-09", metric="ces", period="month").iloc[0]
    expected = stats.ces_difference(stats.ScoreSummary.from_scores([7, 5, 6]),
                                    stats.ScoreSummary.from_scores([2, 4]))
    assert ces_change["difference"] == pytest.approx(-3.0)
    assert ces_change["p_value"] == pytest.approx(expected.p_value)


def test_compare_segments_and_a_period_without_answers(responses, customers):
    joined = pulse.with_customer_attributes(responses, customers)
    change = pulse.compare(joined, "Business", "Retail", by="segment").iloc[0]
    business = _scores("nps", where=lambda a: SEGMENTS.get(a[3]) == "Business")
    retail = _scores("nps", where=lambda a: SEGMENTS.get(a[3]) == "Retail")
    assert change["difference"] == pytest.approx(_plain_nps(retail) - _plain_nps(business))
    empty = pulse.compare(responses, "2024-06", "2024-09", period="month").iloc[0]
    assert empty["n_a"] == 0 and pd.isna(empty["p_value"]) and not empty["significant"]


# Employee answers: Support is 3 people, whom pulse (showing every group) used to show.
EMPLOYEE_ANSWERS = pd.DataFrame({
    "department": ["Sales"] * 6 + ["Support"] * 3,
    "date": [date(2024, 9, d) for d in range(1, 10)],
    "score": [10, 9, 3, 7, 9, 8, 0, 6, 9],
    "employee_id": [f"e{i}" for i in range(9)],
})


def test_pulse_shows_no_employee_answers_and_points_to_people(duckdb_engine):
    answers = duckdb_engine.from_frame("pulse_employee_responses", EMPLOYEE_ANSWERS)
    one_sale = pd.DataFrame({"customer_id": ["c1"], "date": [date(2024, 9, 1)], "amount": [10.0]})
    company = load_frames({"transactions": one_sale, "employee_responses": EMPLOYEE_ANSWERS},
                          as_of=date(2024, 10, 1))
    assert not hasattr(pulse, "employee_nps")
    refused = [
        lambda: pulse.metric_table(answers, "enps", by="department"),
        lambda: pulse.compare(answers, "Sales", "Support", metric="enps", by="department"),
        lambda: pulse.responses_needed(5, "enps", answers),
        lambda: metrics.difference_row("enps", EMPLOYEE_ANSWERS, "department", "Sales", "Support"),
        lambda: pulse.metric_table_for(company, "enps", by="department"),
        lambda: pulse.source_table(company, "enps"),
    ]
    for call in refused:
        with pytest.raises((ValueError, InputError), match="custfocus.people"):
            call()
    # The library path that remains shows Sales, not the 3 people of Support.
    shown = people.company_employee_nps(company)
    assert shown.departments["department"].tolist() == ["Sales"]
    assert "Support" not in shown.cells["department"].tolist()


def test_no_answers_of_a_kind_give_an_empty_row(responses):
    row = pulse.nps(responses.filter(responses.kind == "csat")).iloc[0]
    assert row["n"] == 0 and pd.isna(row["nps"]) and bool(row["too_small"])
    assert pulse.nps(responses.filter(responses.kind == "csat"), period="month").empty


def test_responses_needed_uses_observed_shares_or_the_worst_case(responses):
    assert pulse.responses_needed(5) == stats.nps_responses_needed(5)
    assert pulse.responses_needed(5, responses=responses) == stats.nps_responses_needed(5, 5 / 14, 5 / 14)
    assert pulse.responses_needed(5, "csat", responses) == stats.proportion_responses_needed(5, 5 / 7)
    assert pulse.responses_needed(0.5, "ces") == stats.mean_responses_needed(0.5, stats.WORST_CASE_CES_SD)


def test_bad_arguments_say_what_is_wrong(responses):
    with pytest.raises(ValueError, match="cannot group by region"):
        pulse.nps(responses, by="region")
    with pytest.raises(ValueError, match="Unknown period"):
        pulse.nps(responses, period="year")
    with pytest.raises(ValueError, match="exactly one of"):
        pulse.compare(responses)
    with pytest.raises(ValueError, match="needs both"):
        pulse.compare(responses, "Business", by="touchpoint")
