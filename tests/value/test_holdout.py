"""Calibration/holdout check on simulated BG/NBD purchases: predictions against what happened."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from custfocus.errors import InputError
from custfocus.value import charts
from custfocus.value.holdout import DEFAULT_HOLDOUT_WEEKS, FREQUENCY_BINS, calibration_holdout

START = date(2022, 1, 1)
DAYS = 730
AS_OF = START + timedelta(days=DAYS)
TRUTH = {"r": 0.55, "alpha": 10.0, "a": 0.8, "b": 2.6}  # rates per week


def simulate_transactions(n: int, seed: int) -> pd.DataFrame:
    """One row per purchase of ``n`` BG/NBD customers (FHL 2005) acquired uniformly over the first
    year and followed to AS_OF: Poisson purchases at rate lambda ~ Gamma(r, alpha) a week, and
    after each repeat purchase the customer drops out with probability p ~ Beta(a, b). A purchase
    at time t days after the first is dated first + floor(t)."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 365, n)
    weeks = (DAYS + 1 - first) / 7  # through the end of the last day
    rate = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"], n)
    dropout = rng.beta(TRUTH["a"], TRUTH["b"], n)
    events = rng.poisson(rate * weeks)
    kept = np.minimum(events, rng.geometric(dropout))  # the last purchase before dropping out
    owner = np.repeat(np.arange(n), events)
    time = rng.random(owner.size) * weeks[owner]
    order = np.lexsort((time, owner))
    owner, time = owner[order], time[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(events) - events, events)
    owner, time = owner[rank < kept[owner]], time[rank < kept[owner]]
    customer = np.concatenate([np.arange(n), owner])
    day = np.concatenate([first, first[owner] + np.floor(7 * time).astype(np.int64)])
    return pd.DataFrame({
        "customer_id": [f"C{c:07d}" for c in customer],
        "date": pd.to_datetime(START) + pd.to_timedelta(day, unit="D"),
        "amount": np.round(rng.gamma(6.0, 20.0, customer.size), 2),
    }).assign(date=lambda f: f["date"].dt.date)


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return simulate_transactions(3_000, seed=1)


def test_bins_and_tracking_are_the_customers_counted_plainly(any_engine, small):
    transactions = any_engine.from_frame("transactions", small)
    check = calibration_holdout(transactions, as_of=AS_OF)
    calibration_end = AS_OF - timedelta(weeks=DEFAULT_HOLDOUT_WEEKS)
    assert check.calibration_end == calibration_end
    assert check.holdout_length == pytest.approx(DEFAULT_HOLDOUT_WEEKS)

    # Plainly: purchase days per customer before and in the holdout.
    days = small[small["amount"] > 0].drop_duplicates(["customer_id", "date"])
    before = days[days["date"] <= calibration_end].groupby("customer_id").size() - 1
    after = days[(days["date"] > calibration_end)].groupby("customer_id").size()
    after = after.reindex(before.index, fill_value=0)
    bins = np.minimum(before, FREQUENCY_BINS)
    assert check.by_frequency["customers"].tolist() == bins.value_counts().sort_index().tolist()
    np.testing.assert_allclose(check.by_frequency["actual_mean"],
                               after.groupby(bins).mean().to_numpy(), rtol=1e-12)
    assert check.actual == after.sum() and check.n_customers == len(before)
    spread = after.groupby(bins).agg(["std", "size"])  # the normal interval of each bin's mean
    np.testing.assert_allclose(check.by_frequency["actual_high"] - check.by_frequency["actual_mean"],
                               1.959963984540054 * spread["std"] / np.sqrt(spread["size"]), rtol=1e-9)
    assert check.by_frequency["frequency"].iloc[-1] == f"{FREQUENCY_BINS}+"

    per_customer = check.table.to_pandas()
    assert len(per_customer) == len(before)
    x, t_x, T = (per_customer[k].to_numpy(dtype=float) for k in ("frequency", "recency", "T"))
    np.testing.assert_allclose(per_customer["predicted"],
                               check.model.expected_purchases(26.0, x, t_x, T), rtol=1e-10)
    assert check.predicted == pytest.approx(per_customer["predicted"].sum(), rel=1e-10)

    holdout_days = days[days["date"] > calibration_end]
    holdout_days = holdout_days[holdout_days["customer_id"].isin(before.index)]
    week = (pd.to_datetime(holdout_days["date"]) - pd.Timestamp(calibration_end)).dt.days
    cumulative = [(week <= 7 * w).sum() for w in check.tracking["week"]]
    assert check.tracking["actual"].tolist() == cumulative
    ages = per_customer["T"].to_numpy()
    expected_end = (check.model.expected_purchases_new(ages + 26.0)
                    - check.model.expected_purchases_new(ages)).sum()
    assert check.tracking["predicted"].iloc[-1] == pytest.approx(expected_end, rel=1e-10)

    for builder in (charts.holdout_frequency_chart, charts.holdout_tracking_chart):
        figure, finding, data = builder(check)
        assert finding.endswith(".") and json.dumps(data)


def test_holdout_purchases_are_predicted_within_a_few_percent(duckdb_engine):
    """200,000 simulated customers, one row per purchase: the BG/NBD fitted on the calibration
    period predicts the holdout in aggregate, by past frequency and week by week."""
    transactions = duckdb_engine.from_frame("transactions", simulate_transactions(200_000, 2))
    check = calibration_holdout(transactions, as_of=AS_OF, count_by="order")
    assert abs(check.relative_error) < 0.03, (check.predicted, check.actual)
    bins = check.by_frequency
    # Each group's prediction is within its 95% interval widened for the parameters' own error.
    slack = 0.03 * bins["predicted_mean"]
    assert ((bins["predicted_mean"] >= bins["actual_low"] - slack)
            & (bins["predicted_mean"] <= bins["actual_high"] + slack)).all(), bins
    final = check.tracking.iloc[-1]
    assert final["predicted"] == pytest.approx(final["actual"], rel=0.03)
    for name, value in TRUTH.items():
        error = (check.model.params_[name] - value) / check.model.standard_errors_[name]
        assert abs(error) < 3, (name, check.model.params_[name], error)


def test_calibration_must_end_before_as_of(duckdb_engine, small):
    transactions = duckdb_engine.from_frame("transactions", small)
    with pytest.raises(InputError, match="must end before as_of"):
        calibration_holdout(transactions, as_of=AS_OF, calibration_end=AS_OF)


@pytest.mark.spark
def test_duckdb_and_spark_give_the_same_check(duckdb_engine, spark_engine, small):
    checks = [calibration_holdout(engine.from_frame("transactions", small), as_of=AS_OF)
              for engine in (duckdb_engine, spark_engine)]
    for part in ("by_frequency", "tracking"):
        pd.testing.assert_frame_equal(*(getattr(c, part) for c in checks), check_dtype=False,
                                      rtol=1e-9)
    assert checks[0].model.params_.to_dict() == pytest.approx(checks[1].model.params_.to_dict(), rel=1e-9)


def test_the_reports_shared_pass_gives_the_standalone_fit_and_check(duckdb_engine, small):
    from custfocus.data.company import Company
    from custfocus.section import Context
    from custfocus.value.clv import customer_value, shared_summaries, shared_value

    company = Company(tables={"transactions": duckdb_engine.from_frame("transactions", small)}, as_of=AS_OF)
    context = Context()
    shared = shared_value(company, context)
    summaries = shared_summaries(company, context)
    checked = calibration_holdout(company, calibration_end=summaries.calibration_end,
                                  summary=summaries.at_calibration_end)
    alone, alone_check = customer_value(company), calibration_holdout(company)
    pd.testing.assert_series_equal(shared.transaction_model.params_, alone.transaction_model.params_, rtol=1e-10)
    assert shared.n_customers == alone.n_customers
    assert (checked.calibration_end, checked.n_customers, checked.actual) == (
        alone_check.calibration_end, alone_check.n_customers, alone_check.actual)
    assert checked.predicted == pytest.approx(alone_check.predicted, rel=1e-10)
    pd.testing.assert_frame_equal(checked.by_frequency, alone_check.by_frequency, rtol=1e-10)
    pd.testing.assert_frame_equal(checked.tracking, alone_check.tracking, rtol=1e-10)
