"""Retention metrics on a handful of customers, with every expected number worked out by hand.

The data (see ``hand_frame`` in conftest.py), as_of = 15 April 2024, so April is incomplete:

    A  5 Jan +50, 5 Jan +20 (two rows, same day), 10 Feb +30, 2 Apr +40
    B  20 Jan +100, 3 Feb -100 (refund only: not active in Feb), 15 Mar +60
    C  14 Feb +80, 1 Mar +40, 20 Mar -10 (refund)
    D  30 Mar +70
    E  5 Feb -30 (a refund and never a purchase: never acquired, never active)
    F  31 Jan +10, 31 Jan +15 (two rows, same day: one purchase day)
    G  20 Apr +999 (after as_of: ignored)

Purchase months: A Jan, Feb, Apr; B Jan, Mar; C Feb, Mar; D Mar; F Jan.
Active by month: Jan {A, B, F} = 3; Feb {A, C} = 2; Mar {B, C, D} = 3; Apr {A} = 1.
First purchase: Jan A, B, F; Feb C; Mar D -> new customers 3, 1, 1, 0.
Net revenue by customer and month (refunds included):
    A Jan 70, Feb 30, Apr 40; B Jan 100, Feb -100, Mar 60; C Feb 80, Mar 30; D Mar 70; F Jan 25.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import pytest

from custfocus.retention import (
    acquisition,
    active,
    cohort_matrix,
    one_period_before,
    repeat_purchase_rate,
    retention_rates,
    revenue_retention,
)
from custfocus.stats import wilson_interval

AS_OF = date(2024, 4, 15)
MONTHS = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"])


@pytest.fixture
def tx(put, hand_frame):
    return put("retention_hand_tx", hand_frame)


def test_acquisition_counts_first_purchases_only(tx):
    result = acquisition(tx, AS_OF)
    assert list(result["period"]) == list(MONTHS)
    assert list(result["new_customers"]) == [3, 1, 1, 0]  # E (refund only) and G (after as_of) never count
    assert list(result["complete"]) == [True, True, True, False]


def test_active_ignores_refunds(tx):
    result = active(tx, AS_OF)
    assert list(result["active_customers"]) == [3, 2, 3, 1]  # B's February refund does not make B active


def test_retention_rates(tx):
    result = retention_rates(tx, AS_OF)
    # Feb: of Jan {A, B, F}, A came back: 1/3. Mar: of Feb {A, C}, C: 1/2. Apr: of Mar {B, C, D}, none.
    assert list(result["period"]) == list(MONTHS[1:])
    assert list(result["base"]) == [3, 2, 3]
    assert list(result["retained"]) == [1, 1, 0]
    assert list(result["complete"]) == [True, True, False]
    for row, (retained, base) in zip(result.itertuples(), [(1, 3), (1, 2), (0, 3)], strict=True):
        expected = wilson_interval(retained, base)
        assert row.rate == pytest.approx(expected.estimate)
        assert row.low == pytest.approx(expected.low, abs=1e-12)
        assert row.high == pytest.approx(expected.high)
        assert row.churn == pytest.approx(1 - retained / base)


def test_revenue_retention_includes_refunds(tx):
    result = revenue_retention(tx, AS_OF)
    # Feb: Jan customers {A, B, F} spent 70 + 100 + 25 = 195 in Jan and 30 - 100 + 0 = -70 in Feb.
    # Mar: Feb customers {A, C} spent 30 + 80 = 110 in Feb and 0 + 30 = 30 in Mar.
    # Apr: Mar customers {B, C, D} spent 60 + 30 + 70 = 160 in Mar and nothing in Apr.
    assert list(result["base"]) == [3, 2, 3]
    assert list(result["base_revenue"]) == pytest.approx([195.0, 110.0, 160.0])
    assert list(result["revenue"]) == pytest.approx([-70.0, 30.0, 0.0])
    assert list(result["revenue_retention"]) == pytest.approx([-70 / 195, 30 / 110, 0.0])
    assert list(result["complete"]) == [True, True, False]


def test_cohort_matrix(tx):
    cohorts = cohort_matrix(tx, AS_OF)
    # Jan cohort {A, B, F}: Feb A, Mar B, Apr A -> 3, 1, 1, 1. Feb cohort {C}: Mar C -> 1, 1, 0.
    # Mar cohort {D}: 1, 0. No one was acquired in April, so there is no April cohort.
    long = cohorts.long
    assert list(long["cohort"]) == [MONTHS[0]] * 4 + [MONTHS[1]] * 3 + [MONTHS[2]] * 2
    assert list(long["periods_after"]) == [0, 1, 2, 3, 0, 1, 2, 0, 1]
    assert list(long["active"]) == [3, 1, 1, 1, 1, 1, 0, 1, 0]
    assert list(long["cohort_size"]) == [3, 3, 3, 3, 1, 1, 1, 1, 1]
    assert list(long["share"]) == pytest.approx([1, 1 / 3, 1 / 3, 1 / 3, 1, 1, 0, 1, 0])
    assert list(long["complete"]) == [True, True, True, False, True, True, False, True, False]
    low, high = wilson_interval(1, 3).low, wilson_interval(1, 3).high
    assert (long["low"].iloc[1], long["high"].iloc[1]) == pytest.approx((low, high))

    assert list(cohorts.sizes) == [3, 1, 1]
    assert list(cohorts.sizes.index) == list(MONTHS[:3])
    # Wide form: complete cells only, so April's cells are missing.
    assert list(cohorts.wide.columns) == [0, 1, 2]
    assert cohorts.wide.loc[MONTHS[0]].tolist() == pytest.approx([1, 1 / 3, 1 / 3])
    assert cohorts.wide.loc[MONTHS[1]].iloc[:2].tolist() == [1, 1]
    assert math.isnan(cohorts.wide.loc[MONTHS[1], 2])
    assert cohorts.wide.loc[MONTHS[2], 0] == 1 and math.isnan(cohorts.wide.loc[MONTHS[2], 1])


def test_repeat_purchase_rate_counts_distinct_days(tx):
    # Purchase days: A 3, B 2, C 2, D 1, F 1 (two rows on 31 Jan are one day) -> 3 of 5.
    everyone = repeat_purchase_rate(tx, AS_OF)
    assert everyone == wilson_interval(3, 5)
    # Established: first purchase on or before 15 Mar excludes D (30 Mar) -> 3 of 4.
    established = repeat_purchase_rate(tx, AS_OF, established_only=True)
    assert established == wilson_interval(3, 4)


def test_quarters(tx):
    # Q1: everyone but E and G purchased -> 5 new, 5 active. Q2 (incomplete): A only, retained from Q1.
    assert list(acquisition(tx, AS_OF, "quarter")["new_customers"]) == [5, 0]
    assert list(active(tx, AS_OF, "quarter")["active_customers"]) == [5, 1]
    rates = retention_rates(tx, AS_OF, "quarter")
    assert rates[["base", "retained", "complete"]].values.tolist() == [[5, 1, False]]
    assert list(rates["period"]) == [pd.Timestamp("2024-04-01")]


def test_weeks_start_on_monday(tx):
    result = acquisition(tx, AS_OF, "week")
    new = result.set_index("period")["new_customers"]
    # A Fri 5 Jan -> week of Mon 1 Jan; B Sat 20 Jan -> 15 Jan; F Wed 31 Jan -> 29 Jan;
    # C Wed 14 Feb -> 12 Feb; D Sat 30 Mar -> 25 Mar. as_of Mon 15 Apr opens an incomplete week.
    assert new[new > 0].index.strftime("%Y-%m-%d").tolist() == [
        "2024-01-01",
        "2024-01-15",
        "2024-01-29",
        "2024-02-12",
        "2024-03-25",
    ]
    assert new.index[-1] == pd.Timestamp("2024-04-15")
    assert result["complete"].tolist() == [True] * (len(result) - 1) + [False]


def test_month_end_as_of_completes_the_month(tx):
    result = active(tx, date(2024, 3, 31))
    assert list(result["active_customers"]) == [3, 2, 3]
    assert result["complete"].all()


def test_default_as_of_is_the_latest_transaction(tx):
    # The latest row is G's on 20 Apr, so G is April's one new customer.
    assert list(acquisition(tx)["new_customers"]) == [3, 1, 1, 1]


def test_timestamps_are_cut_to_days(put, hand_frame):
    frame = hand_frame.copy()
    frame["date"] = [datetime(d.year, d.month, d.day, 23, 30) for d in frame["date"]]
    tx = put("retention_hand_tx_ts", frame)
    assert list(active(tx, AS_OF)["active_customers"]) == [3, 2, 3, 1]
    assert repeat_purchase_rate(tx, AS_OF) == wilson_interval(3, 5)


def test_before_any_purchase_everything_is_empty(tx):
    as_of = date(2023, 12, 31)
    assert acquisition(tx, as_of).empty
    assert retention_rates(tx, as_of).empty
    assert list(revenue_retention(tx, as_of).columns) == [
        "period",
        "complete",
        "base",
        "base_revenue",
        "revenue",
        "revenue_retention",
    ]
    assert cohort_matrix(tx, as_of).long.empty
    assert repeat_purchase_rate(tx, as_of).n == 0


@pytest.mark.parametrize(
    "metric", [acquisition, active, retention_rates, revenue_retention, cohort_matrix, repeat_purchase_rate]
)
def test_unknown_period_is_refused(tx, metric):
    with pytest.raises(ValueError, match="choose one of month, quarter, week"):
        metric(tx, AS_OF, "year")


@pytest.mark.parametrize(
    ("day", "period", "expected"),
    [
        (date(2024, 3, 31), "month", date(2024, 2, 29)),
        (date(2024, 1, 15), "month", date(2023, 12, 15)),
        (date(2024, 5, 31), "quarter", date(2024, 2, 29)),
        (date(2024, 3, 6), "week", date(2024, 2, 28)),
    ],
)
def test_one_period_before(day, period, expected):
    assert one_period_before(day, period) == expected
