"""Per-customer summaries in the engine, against plain pandas and against lifetimes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custfocus.value.fitters import BGNBD
from custfocus.value.summary import (
    TIME_UNITS,
    customer_summaries,
    customer_summary,
    holdout_purchases,
    spend_statistics,
    sufficient_statistics,
)

AS_OF = date(2024, 6, 30)
CALIBRATION_END = date(2024, 3, 31)
START = date(2023, 1, 1)


def random_transactions(n_customers: int = 400, seed: int = 0) -> pd.DataFrame:
    """Messy transactions: several rows on one day, refunds (some on a day without purchase, some
    before the first purchase), zero amounts, refund-only customers and rows after AS_OF."""
    rng = np.random.default_rng(seed)
    rows = []
    span = (AS_OF - START).days + 30  # some rows fall after as_of
    for c in range(n_customers):
        n = rng.integers(1, 12)
        days = rng.integers(0, span, n)
        # Repeat some days, so that one day carries several rows.
        days = np.concatenate([days, rng.choice(days, rng.integers(0, 3))])
        for d in days:
            kind = rng.random()
            amount = (-round(rng.uniform(1, 50), 2) if kind < 0.12
                      else 0.0 if kind < 0.15 else round(rng.gamma(3, 20), 2))
            rows.append((f"C{c:04d}", START + timedelta(days=int(d)), amount))
    rows.append(("REFUND_ONLY", date(2024, 1, 5), -20.0))
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def plain_summary(frame: pd.DataFrame, end: date, unit: float, count_by: str = "day"
                  ) -> pd.DataFrame:
    """The definitions of custfocus.value.summary, one customer at a time."""
    observed = frame[frame["date"] <= end]
    out = []
    for customer, rows in observed.groupby("customer_id"):
        bought = rows[rows["amount"] >= 0]
        if bought.empty:
            continue
        by_day = bought.groupby("date")["amount"].agg(["sum", "count"]).sort_index()
        first, last = by_day.index[0], by_day.index[-1]
        if count_by == "day":
            purchases, first_spend = len(by_day), by_day["sum"].iloc[0]
        else:
            purchases = by_day["count"].sum()
            first_spend = by_day["sum"].iloc[0] / by_day["count"].iloc[0]
        frequency = purchases - 1
        out.append({
            "customer_id": customer,
            "frequency": frequency,
            "recency": (last - first).days / unit,
            "T": (end - first).days / unit,
            "monetary_value": (by_day["sum"].sum() - first_spend) / frequency if frequency else 0.0,
            "first_purchase": first,
            "revenue": rows["amount"].sum(),
        })
    return pd.DataFrame(out)


def pulled(table, key="customer_id") -> pd.DataFrame:
    frame = table.to_pandas().sort_values(key, ignore_index=True)
    if "first_purchase" in frame:
        frame["first_purchase"] = pd.to_datetime(frame["first_purchase"]).dt.date
    return frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return random_transactions()


@pytest.mark.parametrize("time_unit", list(TIME_UNITS))
@pytest.mark.parametrize("calibration_end", [None, CALIBRATION_END])
def test_summary_matches_plain_pandas(any_engine, frame, time_unit, calibration_end):
    table = any_engine.from_frame("transactions", frame)
    got = pulled(customer_summary(table, as_of=AS_OF, time_unit=time_unit,
                                  calibration_end=calibration_end))
    expected = plain_summary(frame, calibration_end or AS_OF, TIME_UNITS[time_unit])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)
    assert str(got["frequency"].dtype) == "int64"
    assert "REFUND_ONLY" not in set(got["customer_id"])


def test_count_by_order_counts_every_purchase_row(any_engine, frame):
    table = any_engine.from_frame("transactions", frame)
    got = pulled(customer_summary(table, as_of=AS_OF, count_by="order"))
    expected = plain_summary(frame, AS_OF, 7.0, count_by="order")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)


@pytest.mark.parametrize("count_by", ["day", "order"])
def test_both_summaries_from_one_pass_match_plain_pandas(any_engine, frame, count_by):
    table = any_engine.from_frame("transactions", frame)
    at_as_of, at_calibration_end = customer_summaries(table, as_of=AS_OF, calibration_end=CALIBRATION_END,
                                                      time_unit="months", count_by=count_by)
    unit = TIME_UNITS["months"]
    for got, end in ((at_as_of, AS_OF), (at_calibration_end, CALIBRATION_END)):
        pd.testing.assert_frame_equal(pulled(got), plain_summary(frame, end, unit, count_by=count_by),
                                      check_dtype=False, rtol=1e-12)


def test_summary_matches_lifetimes(any_engine, frame):
    from lifetimes import utils
    table = any_engine.from_frame("transactions", frame)
    for time_unit, days in TIME_UNITS.items():
        got = pulled(customer_summary(table, as_of=AS_OF, time_unit=time_unit))
        # lifetimes counts every row as a purchase: give it the purchases only.
        theirs = utils.summary_data_from_transaction_data(
            frame[frame["amount"] >= 0], "customer_id", "date", monetary_value_col="amount",
            observation_period_end=AS_OF, freq="D", freq_multiplier=days)
        theirs = theirs.sort_index().reset_index()
        columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
        pd.testing.assert_frame_equal(got[columns], theirs[columns], check_dtype=False,
                                      rtol=1e-12)


def test_timestamps_count_by_their_day(duckdb_engine):
    frame = pd.DataFrame({
        "customer_id": ["A", "A", "A", "B"],
        "date": [datetime(2024, 1, 1, 9), datetime(2024, 1, 1, 18), datetime(2024, 1, 8, 12),
                 datetime(2024, 1, 3, 23, 59)],
        "amount": [10.0, 5.0, 20.0, 7.0],
    })
    got = pulled(customer_summary(duckdb_engine.from_frame("t", frame), as_of=date(2024, 1, 15),
                                  time_unit="days"))
    assert got["frequency"].tolist() == [1, 0]
    assert got["recency"].tolist() == [7.0, 0.0]
    assert got["T"].tolist() == [14.0, 12.0]
    assert got["monetary_value"].tolist() == [20.0, 0.0]
    assert got["revenue"].tolist() == [35.0, 7.0]


def plain_holdout(frame: pd.DataFrame, calibration_end: date, as_of: date) -> pd.DataFrame:
    calibration = frame[(frame["date"] <= calibration_end) & (frame["amount"] >= 0)]
    holdout = frame[(frame["date"] > calibration_end) & (frame["date"] <= as_of)]
    out = []
    for customer in sorted(set(calibration["customer_id"])):
        rows = holdout[holdout["customer_id"] == customer]
        out.append({
            "customer_id": customer,
            "holdout_frequency": rows.loc[rows["amount"] >= 0, "date"].nunique(),
            "holdout_revenue": rows["amount"].sum(),
        })
    return pd.DataFrame(out)


def test_holdout_purchases_match_plain_pandas_and_lifetimes(any_engine, frame):
    table = any_engine.from_frame("transactions", frame)
    got = pulled(holdout_purchases(table, CALIBRATION_END, AS_OF, "weeks"))
    expected = plain_holdout(frame, CALIBRATION_END, AS_OF)
    pd.testing.assert_frame_equal(got.drop(columns="holdout_duration"), expected,
                                  check_dtype=False, rtol=1e-12)
    assert np.allclose(got["holdout_duration"], (AS_OF - CALIBRATION_END).days / 7)

    from lifetimes import utils
    theirs = utils.calibration_and_holdout_data(
        frame[frame["amount"] >= 0], "customer_id", "date", calibration_period_end=CALIBRATION_END,
        observation_period_end=AS_OF, freq="D", freq_multiplier=7,
        monetary_value_col="amount").sort_index()  # (lifetimes fails on pandas 3 without it)
    assert got["holdout_frequency"].tolist() == theirs["frequency_holdout"].tolist()
    assert np.allclose(got["holdout_duration"], theirs["duration_holdout"])


def test_sufficient_statistics_merge_equal_rows(any_engine, frame):
    table = any_engine.from_frame("transactions", frame)
    summary = customer_summary(table, as_of=AS_OF)
    per_customer = summary.to_pandas()
    stats = sufficient_statistics(summary)
    expected = (per_customer.groupby(["frequency", "recency", "T"]).size()
                .rename("weight").reset_index())
    pd.testing.assert_frame_equal(stats, expected, check_dtype=False)
    # The weighted likelihood of the merged rows is the likelihood of the customers.
    usable, rows = per_customer[per_customer["T"] > 0], stats[stats["T"] > 0]
    params = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    merged = BGNBD().log_likelihood(rows["frequency"], rows["recency"], rows["T"],
                                    rows["weight"], params=params)
    direct = BGNBD().log_likelihood(usable["frequency"], usable["recency"], usable["T"],
                                    params=params)
    assert merged == pytest.approx(direct, rel=1e-12)

    spend = spend_statistics(summary)
    # Repeat buyers whose repeat purchases were all free carry no positive spend to fit.
    buyers = per_customer[(per_customer["frequency"] > 0) & (per_customer["monetary_value"] > 0)]
    assert spend["weight"].sum() == len(buyers)
    expected_spend = (buyers.groupby(["frequency", "monetary_value"]).size()
                      .rename("weight").reset_index())
    pd.testing.assert_frame_equal(spend, expected_spend, check_dtype=False)


def test_bad_arguments_are_refused(duckdb_engine, frame):
    table = duckdb_engine.from_frame("transactions", frame)
    with pytest.raises(ValueError, match="time unit"):
        customer_summary(table, as_of=AS_OF, time_unit="fortnights")
    with pytest.raises(ValueError, match="before as_of"):
        customer_summary(table, as_of=AS_OF, calibration_end=AS_OF)
    with pytest.raises(ValueError, match="count_by"):
        customer_summary(table, as_of=AS_OF, count_by="basket")


def test_a_free_order_is_a_purchase_occasion_and_a_refund_is_not(duckdb_engine):
    frame = pd.DataFrame({
        "customer_id": ["FREE", "FREE_THEN_PAID", "FREE_THEN_PAID", "PAID_THEN_FREE",
                        "PAID_THEN_FREE", "REFUND"],
        "date": [date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 1),
                 date(2024, 1, 8), date(2024, 1, 3)],
        "amount": [0.0, 0.0, 30.0, 30.0, 0.0, -10.0],
    })
    got = pulled(customer_summary(duckdb_engine.from_frame("t", frame), as_of=date(2024, 1, 15),
                                  time_unit="days")).set_index("customer_id")
    assert list(got.index) == ["FREE", "FREE_THEN_PAID", "PAID_THEN_FREE"]
    assert got["frequency"].tolist() == [0, 1, 1]
    assert got["T"].tolist() == [14.0, 14.0, 14.0]
    assert got["recency"].tolist() == [0.0, 7.0, 7.0]
    assert got["monetary_value"].tolist() == [0.0, 30.0, 0.0]  # the free repeat is worth 0
    assert got["revenue"].tolist() == [0.0, 30.0, 30.0]


def cdnow_raw_transactions() -> pd.DataFrame:
    """The CDNOW sample as recorded: 6,919 purchases of 2,357 customers (lifetimes ships it)."""
    import lifetimes.datasets

    path = Path(lifetimes.datasets.__file__).parent / "CDNOW_sample.txt"
    raw = pd.read_csv(path, sep=r"\s+", header=None, dtype={"customer_id": str, "date": str},
                      names=["master_id", "customer_id", "date", "cds", "amount"])
    return raw.assign(date=pd.to_datetime(raw["date"], format="%Y%m%d").dt.date)[
        ["customer_id", "date", "amount"]]


def test_raw_cdnow_transactions_give_the_published_bgnbd_estimates(duckdb_engine):
    """From the raw CDNOW transactions, with the 39-week calibration period of Fader, Hardie &
    Lee (2005) (first purchases in the first quarter of 1997, calibration to 30 September 1997),
    every customer is summarised, the 8 whose only order was free included, and the published
    BG/NBD estimates come out: r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4; to four
    decimals Hardie's r .2426, alpha 4.4135, a .7929, b 2.4258 within 1e-4 (his summary file
    rounds recency and T to two decimals of a week)."""
    raw = cdnow_raw_transactions()
    assert len(raw) == 6_919 and (raw["amount"] == 0).sum() == 8
    summary = customer_summary(duckdb_engine.from_frame("transactions", raw),
                               as_of=date(1997, 9, 30), time_unit="weeks")
    stats = sufficient_statistics(summary)
    assert stats["weight"].sum() == 2_357
    model = BGNBD().fit_frame(stats)
    assert model.converged_
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert round(model.params_[name], 3) == published, name
    for name, hardie in {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}.items():
        assert model.params_[name] == pytest.approx(hardie, abs=1.5e-4), name
    assert round(model.log_likelihood_, 1) == -9582.4
