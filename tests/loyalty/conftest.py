"""Shared test data for loyalty: hand-worked customers and a model whose expectation is known."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest


class LinearModel:
    """A stand-in for a fitted BG/NBD: E[X(T)] = T / 10."""

    @staticmethod
    def expected_purchases_new(t):
        return np.asarray(t, dtype=float) / 10


@pytest.fixture
def linear_model() -> LinearModel:
    return LinearModel()


def dated(rows, columns) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


@pytest.fixture
def hand_value() -> pd.DataFrame:
    """Eight valued customers; expected repeat purchase days E = T / 10:

    P1 3 repeat days at T 20 (E 2): high    P2 1 at T 20 (E 2): low
    D1 5 at T 30 (E 3): high                S1 2 at T 20 (E 2): high (equal counts)
    D2 0 at T 0 (E 0): low (no repeat)      N1 1 at T 5 (E 0.5): high
    N2 0 at T 50 (E 5): low                 T1 4 at T 10 (E 1): high
    """
    return pd.DataFrame({
        "customer_id": ["P1", "P2", "D1", "S1", "D2", "N1", "N2", "T1"],
        "frequency": [3, 1, 5, 2, 0, 1, 0, 4],
        "recency": [15.0, 5.0, 28.0, 18.0, 0.0, 4.0, 0.0, 9.0],
        "T": [20.0, 20.0, 30.0, 20.0, 0.0, 5.0, 50.0, 10.0],
        "revenue": [500.0, 80.0, 900.0, 600.0, 20.0, 90.0, 30.0, 300.0],
        "p_alive": [0.9, 0.8, 0.7, 0.95, 1.0, 0.85, 0.4, 0.6],
        "clv": [400.0, 50.0, 300.0, 500.0, 10.0, 80.0, 0.0, 100.0],
    })


@pytest.fixture
def hand_responses() -> pd.DataFrame:
    """Answers up to 31 Dec 2024 (kind nps unless said):

    P1 3 on 1 Mar, 10 on 1 Oct: latest promoter        P2 9: promoter
    D1 4: detractor                                     S1 8: passive
    D2 0: detractor                                     N1 only a CSAT 5: attitude unknown
    N2 10 on 5 Jan 2025, after as_of: attitude unknown  T1 10 and 6 on 1 Nov: the lower, detractor
    an NPS 2 without customer_id and an NPS 10 of X9, who has no purchases: both left out
    """
    rows = [
        ("P1", "2024-03-01", 3, "nps"), ("P1", "2024-10-01", 10, "nps"), ("P2", "2024-06-01", 9, "nps"),
        ("D1", "2024-06-01", 4, "nps"), ("S1", "2024-07-01", 8, "nps"), ("D2", "2024-12-31", 0, "nps"),
        ("N1", "2024-05-01", 5, "csat"), ("N2", "2025-01-05", 10, "nps"), ("T1", "2024-11-01", 10, "nps"),
        ("T1", "2024-11-01", 6, "nps"), (None, "2024-08-01", 2, "nps"), ("X9", "2024-08-01", 10, "nps"),
    ]
    return dated(rows, ["customer_id", "date", "score", "kind"])


@pytest.fixture(scope="session")
def random_loyalty_frames() -> dict[str, pd.DataFrame]:
    """400 valued customers, transactions over 2023-2024 and NPS/CSAT answers, some after as_of, some
    without a customer, several on one day."""
    rng = np.random.default_rng(11)
    n = 400
    ids = [f"c{i:03d}" for i in range(n)]
    value = pd.DataFrame({
        "customer_id": ids,
        "frequency": rng.poisson(2, n),
        "T": rng.integers(0, 100, n).astype(float),
        "revenue": np.round(rng.gamma(2, 100, n), 2),
        "p_alive": rng.uniform(0, 1, n),
        "clv": np.round(rng.gamma(1.5, 80, n), 2),
    })
    answers = []
    for i in rng.choice(n, 300):
        day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 760)))
        kind = rng.choice(["nps", "nps", "nps", "csat"])
        answers.append((ids[i], day.date(), int(rng.integers(0, 11) if kind == "nps" else rng.integers(1, 6)), kind))
    answers += [(None, date(2024, 3, 1), 3, "nps")]
    responses = pd.DataFrame(answers, columns=["customer_id", "date", "score", "kind"])
    rows = []
    for i in range(n):
        for _ in range(rng.poisson(4)):
            day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 730)))
            amount = round(float(rng.gamma(2, 30)) * (-1 if rng.random() < 0.05 else 1), 2)
            rows.append((ids[i], day.date(), amount))
    transactions = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return {"value": value, "responses": responses, "transactions": transactions}
