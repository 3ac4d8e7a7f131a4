"""A promoter's worth: hand-worked spend after the first answer, Welch's t from scipy, a pandas oracle."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from custfocus.loyalty import promoter_value, subsequent_spend

AS_OF = date(2024, 12, 31)


def _dated(rows, columns) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


@pytest.fixture
def hand(any_engine):
    """A 30-day window, so first answers up to 1 Dec 2024 count.

    A  NPS 3 on 10 Jan (first: detractor), 10 on 1 Jun (latest: promoter). Bought 10 Jan 100 (the day
       of the answer: left out), 20 Jan 50, 9 Feb 20 (day 30: in), 10 Feb 70 (day 31: out): spend 70
    B  NPS 9 on 1 Mar: promoter; 5 Mar 40, refund 10 Mar -10: spend 30
    C  NPS 10 on 1 Mar: promoter; nothing: spend 0
    D  NPS 4 on 1 May: detractor; 20 May 10: spend 10
    E  NPS 7 on 1 May: passive; 2 May 25: spend 25
    F  NPS 10 on 15 Dec: too recent for a 30-day window
    G  only a CSAT answer
    H  NPS 9 and 5 on 1 Apr: the lower, detractor; 10 Apr 60: spend 60
    Promoters B, C: 30, 0. Detractors A, D, H: 70, 10, 60. Passive E: 25.
    """
    responses = _dated([
        ("A", "2024-01-10", 3, "nps"), ("A", "2024-06-01", 10, "nps"), ("B", "2024-03-01", 9, "nps"),
        ("C", "2024-03-01", 10, "nps"), ("D", "2024-05-01", 4, "nps"), ("E", "2024-05-01", 7, "nps"),
        ("F", "2024-12-15", 10, "nps"), ("G", "2024-02-01", 5, "csat"), ("H", "2024-04-01", 9, "nps"),
        ("H", "2024-04-01", 5, "nps"),
    ], ["customer_id", "date", "score", "kind"])
    transactions = _dated([
        ("A", "2024-01-10", 100.0), ("A", "2024-01-20", 50.0), ("A", "2024-02-09", 20.0), ("A", "2024-02-10", 70.0),
        ("B", "2024-03-05", 40.0), ("B", "2024-03-10", -10.0), ("D", "2024-05-20", 10.0), ("E", "2024-05-02", 25.0),
        ("G", "2024-02-05", 99.0), ("H", "2024-04-10", 60.0),
    ], ["customer_id", "date", "amount"])
    clv = pd.DataFrame({"customer_id": list("ABCDEFH"), "clv": [200.0, 100.0, 50.0, 20.0, 30.0, 300.0, 10.0]})
    return {name: any_engine.from_frame(f"promoter_{name}", frame)
            for name, frame in {"responses": responses, "transactions": transactions, "clv": clv}.items()}


def test_subsequent_spend_by_hand(hand):
    spend = subsequent_spend(hand["transactions"], hand["responses"], as_of=AS_OF, window_days=30).to_pandas()
    spend = spend.set_index("customer_id").sort_index()
    assert spend["spend"].to_dict() == {"A": 70, "B": 30, "C": 0, "D": 10, "E": 25, "H": 60}
    assert spend["nps_category"].to_dict() == {"A": "detractor", "B": "promoter", "C": "promoter",
                                               "D": "detractor", "E": "passive", "H": "detractor"}


def test_promoter_value_by_hand(hand):
    worth = promoter_value(hand["transactions"], hand["responses"], as_of=AS_OF, window_days=30, clv=hand["clv"])
    assert worth.answered_by == date(2024, 12, 1) and worth.too_recent == 1
    spend = worth.spend.set_index("nps_category")
    assert spend["customers"].to_dict() == {"promoter": 2, "passive": 1, "detractor": 3}
    assert spend["mean"].to_dict() == pytest.approx({"promoter": 15, "passive": 25, "detractor": 140 / 3})
    assert spend.loc["promoter", "low"] == pytest.approx(
        15 - sps.t.ppf(0.975, 1) * np.std([30, 0], ddof=1) / np.sqrt(2))
    assert np.isnan(spend.loc["passive", "low"])  # one customer: no interval
    # Welch's t, promoter minus detractor, against scipy.
    welch = sps.ttest_ind([30, 0], [70, 10, 60], equal_var=False)
    interval = welch.confidence_interval()
    gap = worth.spend_gap
    assert gap.estimate == pytest.approx(15 - 140 / 3)
    assert (gap.low, gap.high) == pytest.approx((interval.low, interval.high))
    assert gap.p_value == pytest.approx(welch.pvalue)
    assert (gap.n_a, gap.n_b) == (3, 2)
    # CLV by the latest answer: promoters A, B, C, F (200, 100, 50, 300); detractors D, H (20, 10).
    clv = worth.clv.set_index("nps_category")
    assert clv["customers"].to_dict() == {"promoter": 4, "passive": 1, "detractor": 2}
    assert clv["mean"].to_dict() == pytest.approx({"promoter": 162.5, "passive": 30, "detractor": 15})
    assert worth.clv_gap.estimate == pytest.approx(147.5)


def test_no_gap_without_detractors(any_engine):
    responses = any_engine.from_frame("promoter_only", _dated([("A", "2023-06-01", 10, "nps")],
                                                              ["customer_id", "date", "score", "kind"]))
    transactions = any_engine.from_frame("promoter_only_tx", _dated([("A", "2023-07-01", 5.0)],
                                                                    ["customer_id", "date", "amount"]))
    worth = promoter_value(transactions, responses, as_of=AS_OF)
    assert worth.spend_gap is None and worth.clv is None
    assert worth.spend["customers"].tolist() == [1, 0, 0]


def test_spend_against_pandas(any_engine, random_loyalty_frames):
    frames = random_loyalty_frames
    responses = any_engine.from_frame("promoter_random_responses", frames["responses"])
    transactions = any_engine.from_frame("promoter_random_tx", frames["transactions"])
    window = 180
    worth = promoter_value(transactions, responses, as_of=AS_OF, window_days=window)

    answers = frames["responses"]
    answers = answers[(answers["kind"] == "nps") & answers["customer_id"].notna() & (answers["date"] <= AS_OF)]
    first = answers.sort_values(["customer_id", "date", "score"]).groupby("customer_id").head(1)
    eligible = first[first["date"] <= AS_OF - timedelta(days=window)]
    assert worth.too_recent == len(first) - len(eligible)
    tx = frames["transactions"]
    spends = []
    for row in eligible.itertuples():
        mine = tx[(tx["customer_id"] == row.customer_id) & (tx["date"] > row.date)
                  & (tx["date"] <= row.date + timedelta(days=window))]
        spends.append(mine["amount"].sum())
    eligible = eligible.assign(spend=spends, category=pd.cut(eligible["score"], [-1, 6, 8, 10],
                                                             labels=["detractor", "passive", "promoter"]))
    table = worth.spend.set_index("nps_category")
    for category, group in eligible.groupby("category", observed=True):
        assert table.loc[category, "customers"] == len(group)
        assert table.loc[category, "mean"] == pytest.approx(group["spend"].mean())
        assert table.loc[category, "total"] == pytest.approx(group["spend"].sum())
    welch = sps.ttest_ind(eligible.loc[eligible["category"] == "promoter", "spend"],
                          eligible.loc[eligible["category"] == "detractor", "spend"], equal_var=False)
    assert worth.spend_gap.p_value == pytest.approx(welch.pvalue)
