"""Retention over the purchase cycle: simulated shops whose cycle is known, and a pandas oracle."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from custfocus.data.company import Company
from custfocus.retention import purchase_cycle, retention_rates, section, summary, window_retention

AS_OF = date(2025, 6, 30)
START = date(2022, 7, 1)


def regular_shop(periods: np.ndarray, seed: int, stop: dict[int, date] | None = None) -> pd.DataFrame:
    """Customer i buys every periods[i] days from a random first day, until AS_OF (or stop[i])."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, period in enumerate(periods):
        day = START + timedelta(days=int(rng.integers(0, period)))
        last = (stop or {}).get(i, AS_OF)
        while day <= last:
            rows.append((f"C{i}", day, 20.0))
            day += timedelta(days=int(period))
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def test_a_shop_of_regular_45_day_buyers(duckdb_engine):
    frame = regular_shop(np.full(1_000, 45), seed=1)
    transactions = duckdb_engine.from_frame("cycle_regular_45", frame)
    cycle = purchase_cycle(transactions, AS_OF)
    assert cycle.typical_days == 45 and cycle.n == 1_000
    assert (cycle.window_days, cycle.window_name) == (61, "two months")
    # Everyone buys at least once in any 61 days, so nobody is lost over the cycle's window ...
    window = window_retention(transactions, cycle.window_days, AS_OF)
    assert window.retention.estimate == 1.0 and window.retention.n == 1_000
    # ... while month on month half look lost: a May buyer buys again in June (45 days later) only
    # when the May purchase fell on the 16th or earlier, 16 of 31 days.
    monthly = retention_rates(transactions, AS_OF)
    last = monthly[monthly["complete"]].iloc[-1]
    assert last["rate"] == pytest.approx(16 / 31, abs=0.06)


def test_the_typical_cycle_is_the_median_customer_not_the_median_gap(duckdb_engine):
    # Customers' periods uniform on 20..100 days: the median customer buys every 60 days, while the
    # median of all gaps is pulled down by the frequent buyers (who contribute more gaps).
    periods = np.random.default_rng(5).integers(20, 101, size=2_000)
    frame = regular_shop(periods, seed=2)
    cycle = purchase_cycle(duckdb_engine.from_frame("cycle_uniform", frame), AS_OF)
    assert cycle.typical_days == pytest.approx(np.median(periods), abs=0.5)
    assert cycle.typical_days == pytest.approx(60, abs=4)
    assert cycle.window_days == 61


def test_a_shop_that_loses_a_known_share(duckdb_engine):
    # Weekly buyers (window: a week); 300 of 1,000 stop in the base week's first days, after buying in it.
    periods = np.full(1_000, 7)
    base_start = AS_OF - timedelta(days=13)
    frame = regular_shop(periods, seed=3, stop={i: base_start + timedelta(days=6) for i in range(300)})
    transactions = duckdb_engine.from_frame("cycle_churn", frame)
    cycle = purchase_cycle(transactions, AS_OF)
    assert (cycle.typical_days, cycle.window_name) == (7, "a week")
    window = window_retention(transactions, 7, AS_OF)
    assert (window.base_start, window.base_end) == (base_start, AS_OF - timedelta(days=7))
    assert (window.retained, window.retention.n) == (700, 1_000)
    assert window.churn.estimate == pytest.approx(0.3)


def test_window_retention_matches_a_pandas_oracle(duckdb_engine):
    rng = np.random.default_rng(8)
    n = 4_000
    frame = pd.DataFrame({
        "customer_id": rng.integers(0, 600, n).astype(str),
        "date": [START + timedelta(days=int(d)) for d in rng.integers(0, (AS_OF - START).days + 40, n)],
        "amount": np.where(rng.random(n) < 0.1, -15.0, 30.0),  # refunds are not purchases
    })
    transactions = duckdb_engine.from_frame("cycle_oracle", frame)
    for days in (7, 30, 91):
        result = window_retention(transactions, days, AS_OF)
        purchases = frame[(frame["amount"] > 0) & (frame["date"] <= AS_OF)]
        base_end = AS_OF - timedelta(days=days)
        base_days = purchases["date"].between(base_end - timedelta(days=days - 1), base_end)
        base = set(purchases.loc[base_days, "customer_id"])
        later = set(purchases.loc[purchases["date"] > base_end, "customer_id"])
        assert (result.retention.n, result.retained) == (len(base), len(base & later)), days
    gaps = purchases.groupby("customer_id")["date"].agg(
        lambda d: (max(d) - min(d)).days / (d.nunique() - 1) if d.nunique() > 1 else np.nan)
    assert purchase_cycle(transactions, AS_OF).typical_days == pytest.approx(gaps.median())


def test_too_short_a_history_gives_no_window(duckdb_engine):
    frame = regular_shop(np.full(50, 100), seed=4)
    frame = frame[frame["date"] >= AS_OF - timedelta(days=150)]
    transactions = duckdb_engine.from_frame("cycle_short", frame)
    assert window_retention(transactions, 182, AS_OF) is None
    assert summary(transactions, AS_OF).cycle_retention is None


def test_the_report_headlines_retention_over_the_cycle(duckdb_engine):
    frame = regular_shop(np.full(400, 45), seed=6)
    result = section(Company(tables={"transactions": duckdb_engine.from_frame("cycle_section", frame)}, as_of=AS_OF))
    labels = [h.label for h in result.headlines]
    assert "Retention over two months" in labels and "Monthly retention" not in labels
    headline = result.headlines[labels.index("Retention over two months")]
    assert headline.value == "100%"
    assert "(100%, 95% CI 99% to 100%); measured over two months because customers typically buy again after " \
           "45 days (median of 400 repeat customers)." in headline.detail
    assert "Month on month:" in headline.detail
    assert result.data["purchase_cycle"]["window_days"] == 61
    assert result.data["headlines"]["cycle_retention"]["retention"]["estimate"] == 1.0
    assert result.summary.startswith("400 of the 400 customers who bought between")
