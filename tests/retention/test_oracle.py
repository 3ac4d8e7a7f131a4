"""The metrics against a plain pandas computation of the same definitions, on random data.

The oracle works with pandas Periods and Python sets, independently of the integer period indexes
the library uses, and runs on both engines through ``any_engine``: the two engines agree because
both agree with it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from custfocus.retention import (
    acquisition,
    active,
    cohort_matrix,
    repeat_purchase_rate,
    retention_rates,
    revenue_retention,
)
from custfocus.stats import wilson_interval, wilson_intervals

AS_OF = date(2024, 2, 14)
PANDAS_FREQ = {"month": "M", "quarter": "Q", "week": "W-SUN"}  # W-SUN: weeks ending Sunday
ONE_PERIOD = {"month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3), "week": pd.DateOffset(weeks=1)}


class Oracle:
    """The retention definitions in plain pandas."""

    def __init__(self, frame: pd.DataFrame, as_of: date, period: str):
        frame = frame[frame["date"] <= as_of].copy()
        frame["period"] = pd.PeriodIndex(pd.to_datetime(frame["date"]), freq=PANDAS_FREQ[period])
        self.frame, self.as_of, self.period = frame, as_of, period
        purchases = frame[frame["amount"] > 0]
        self.purchases = purchases
        self.active_sets = purchases.groupby("period")["customer_id"].agg(set).to_dict()
        self.first_period = purchases.groupby("customer_id")["period"].min()
        self.periods = list(pd.period_range(purchases["period"].min(), pd.Period(as_of, PANDAS_FREQ[period])))
        self.revenue = frame.groupby(["customer_id", "period"])["amount"].sum().to_dict()

    def active_in(self, p) -> set:
        return self.active_sets.get(p, set())

    def complete(self, p) -> bool:
        return p.end_time.date() <= self.as_of

    def acquisition(self) -> pd.DataFrame:
        counts = self.first_period.value_counts()
        return self._frame([(p, {"new_customers": int(counts.get(p, 0))}) for p in self.periods])

    def active(self) -> pd.DataFrame:
        return self._frame([(p, {"active_customers": len(self.active_in(p))}) for p in self.periods])

    def retention_rates(self) -> pd.DataFrame:
        rows = []
        for p in self.periods[1:]:
            before = self.active_in(p - 1)
            retained = len(before & self.active_in(p))
            rate = retained / len(before) if before else np.nan
            rows.append((p, {"base": len(before), "retained": retained, "rate": rate, "churn": 1 - rate}))
        return self._frame(rows)

    def revenue_retention(self) -> pd.DataFrame:
        rows = []
        for p in self.periods[1:]:
            before = self.active_in(p - 1)
            base_revenue = sum(self.revenue[(c, p - 1)] for c in before)
            revenue = sum(self.revenue.get((c, p), 0.0) for c in before)
            ratio = revenue / base_revenue if base_revenue > 0 else np.nan
            rows.append(
                (p, {"base": len(before), "base_revenue": base_revenue, "revenue": revenue, "revenue_retention": ratio})
            )
        return self._frame(rows)

    def cohort_long(self) -> pd.DataFrame:
        rows = []
        last = self.periods[-1]
        for cohort, members in self.first_period.groupby(self.first_period).groups.items():
            members = set(members)
            for k in range((last - cohort).n + 1):
                n_active = len(members & self.active_in(cohort + k))
                rows.append(
                    {
                        "cohort": cohort.start_time,
                        "periods_after": k,
                        "cohort_size": len(members),
                        "active": n_active,
                        "share": n_active / len(members),
                        "complete": self.complete(cohort + k),
                    }
                )
        return pd.DataFrame(rows)

    def repeat_purchase(self, established_only: bool) -> tuple[int, int]:
        days = self.purchases.groupby("customer_id")["date"].agg(["nunique", "min"])
        if established_only:
            cutoff = (pd.Timestamp(self.as_of) - ONE_PERIOD[self.period]).date()
            days = days[days["min"] <= cutoff]
        return int((days["nunique"] >= 2).sum()), len(days)

    def _frame(self, rows) -> pd.DataFrame:
        return pd.DataFrame([{"period": p.start_time, "complete": self.complete(p), **values} for p, values in rows])


@pytest.mark.parametrize("period", ["month", "quarter", "week"])
def test_metrics_match_the_pandas_oracle(put, random_frame, period):
    tx = put(f"retention_oracle_tx_{period}", random_frame)
    oracle = Oracle(random_frame, AS_OF, period)
    assert len(oracle.periods) > 3 and oracle.purchases["customer_id"].nunique() > 200  # the data are not trivial

    _assert_same(acquisition(tx, AS_OF, period), oracle.acquisition())
    _assert_same(active(tx, AS_OF, period), oracle.active())

    rates = retention_rates(tx, AS_OF, period)
    expected = oracle.retention_rates()
    expected["low"], expected["high"] = wilson_intervals(expected["retained"], expected["base"])
    _assert_same(rates, expected[rates.columns])

    _assert_same(revenue_retention(tx, AS_OF, period), oracle.revenue_retention())

    cohorts = cohort_matrix(tx, AS_OF, period)
    long = cohorts.long.drop(columns=["low", "high"])
    _assert_same(long, oracle.cohort_long()[long.columns])
    assert cohorts.sizes.tolist() == oracle.first_period.value_counts().sort_index().tolist()

    for established_only in (False, True):
        repeaters, n = oracle.repeat_purchase(established_only)
        assert repeat_purchase_rate(tx, AS_OF, period, established_only=established_only) == wilson_interval(
            repeaters, n
        )


def test_the_oracle_data_exercise_the_edge_cases(random_frame):
    """Refunds, zero rows, same-day rows and rows after as_of all occur, so the comparison tests them."""
    assert (random_frame["amount"] < 0).sum() > 50
    assert (random_frame["amount"] == 0).sum() > 5
    assert random_frame.duplicated(["customer_id", "date"]).sum() > 50
    assert (random_frame["date"] > AS_OF).sum() > 20


def _assert_same(result: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(result.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        result.reset_index(drop=True),
        expected.reset_index(drop=True),
        check_dtype=False,
        check_index_type=False,
        rtol=1e-9,
    )
