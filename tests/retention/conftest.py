"""Shared test data for retention."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest


def put_frame(engine, name: str, frame: pd.DataFrame) -> ibis.Table:
    return engine.from_frame(name, frame)


@pytest.fixture
def put_on():
    """Return :func:`put_frame`, for tests that choose their engines themselves."""
    return put_frame


@pytest.fixture
def put(any_engine):
    """Return a function that puts a pandas frame on the engine under test."""
    return lambda name, frame: put_frame(any_engine, name, frame)


@pytest.fixture
def hand_frame() -> pd.DataFrame:
    """A handful of customers over January to April 2024 (the tests use as_of = 15 April 2024):

    A  5 Jan +50, 5 Jan +20 (two rows, same day), 10 Feb +30, 2 Apr +40
    B  20 Jan +100, 3 Feb -100 (refund only: not active in Feb), 15 Mar +60
    C  14 Feb +80, 1 Mar +40, 20 Mar -10 (refund)
    D  30 Mar +70
    E  5 Feb -30 (a refund and never a purchase: never acquired, never active)
    F  31 Jan +10, 31 Jan +15 (two rows, same day: one purchase day)
    G  20 Apr +999 (after as_of: ignored)
    """
    rows = [
        ("A", "2024-01-05", 50.0),
        ("A", "2024-01-05", 20.0),
        ("A", "2024-02-10", 30.0),
        ("A", "2024-04-02", 40.0),
        ("B", "2024-01-20", 100.0),
        ("B", "2024-02-03", -100.0),
        ("B", "2024-03-15", 60.0),
        ("C", "2024-02-14", 80.0),
        ("C", "2024-03-01", 40.0),
        ("C", "2024-03-20", -10.0),
        ("D", "2024-03-30", 70.0),
        ("E", "2024-02-05", -30.0),
        ("F", "2024-01-31", 10.0),
        ("F", "2024-01-31", 15.0),
        ("G", "2024-04-20", 999.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


@pytest.fixture(scope="session")
def random_frame() -> pd.DataFrame:
    """Customers arriving from January 2022 and buying at random intervals until March 2024, with
    refunds, zero rows and several rows on one day."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(300):
        day = pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(rng.integers(0, 800)))
        while day <= pd.Timestamp("2024-03-31"):
            for _ in range(rng.choice([1, 2], p=[0.85, 0.15])):
                kind = rng.choice(["purchase", "refund", "zero"], p=[0.85, 0.12, 0.03])
                amount = {"purchase": rng.gamma(2, 40), "refund": -rng.gamma(2, 20), "zero": 0.0}[kind]
                rows.append((f"c{i:04d}", day.date(), round(float(amount), 2)))
            day += pd.Timedelta(days=int(rng.geometric(1 / 45)))
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
