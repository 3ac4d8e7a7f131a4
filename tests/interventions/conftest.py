"""Shared test data for interventions: a hand-worked company and a way to put tables on an engine."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from custfocus.data.company import Company

AS_OF = date(2024, 6, 30)


def company_on(engine, frames: dict, as_of: date = AS_OF) -> Company:
    """A company whose (contract-valid) tables are put on ``engine`` as they are, without validation."""
    return Company(tables={name: engine.from_frame(name, frame) for name, frame in frames.items()},
                   as_of=as_of, backend=engine)


def _frame(rows, columns) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("date", "acquired_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


@pytest.fixture
def hand_frames() -> dict[str, pd.DataFrame]:
    """Four participants of "call", as_of 30 June 2024 (worked through in test_interventions_outcomes):

    A treated 1 Jun: bought 1 May (+100, cost 60, web), 25 May (+50, cost 20, app), 1 Jun (+80, cost
      50, web), refunded it 5 Jun (-80, cost 0), 11 Jun (+40, web, no cost), 12 Jun (+999, web);
      NPS 9 on 20 May, 3 on 28 May, 10 on 2 Jun. Acquired 1 Dec 2023, family. Listed cost 12.5.
    B control 1 Jun: 1 Jan 2023 (+30, store), 3 Jun (+20, cost 5, store); no acquired_at; CSAT 5.
    C treated 1 Jun: no purchases; acquired 31 May. Listed cost 0.
    D control 20 Jun: 19 Jun (+10, cost 4, web), 25 Jun (+70, cost 30, web); NPS 6 and 8 on 10 Jun.
    E has purchases but is not in the experiment.
    """
    transactions = _frame([
        ("A", "2024-05-01", 100.0, 60.0, "web"), ("A", "2024-05-25", 50.0, 20.0, "app"),
        ("A", "2024-06-01", 80.0, 50.0, "web"), ("A", "2024-06-05", -80.0, 0.0, "web"),
        ("A", "2024-06-11", 40.0, None, "web"), ("A", "2024-06-12", 999.0, 500.0, "web"),
        ("B", "2023-01-01", 30.0, 10.0, "store"), ("B", "2024-06-03", 20.0, 5.0, "store"),
        ("D", "2024-06-19", 10.0, 4.0, "web"), ("D", "2024-06-25", 70.0, 30.0, "web"),
        ("E", "2024-06-02", 55.0, 20.0, "web"),
    ], ["customer_id", "date", "amount", "cost", "channel"])
    transactions.insert(3, "order_id", [f"O{i}" for i in range(len(transactions))])
    customers = _frame([
        ("A", "2023-12-01", "family", "North", "search"), ("B", None, "single", "South", "store"),
        ("C", "2024-05-31", "single", "North", "social"), ("D", "2024-01-01", "business", "East", "search"),
        ("E", "2024-01-01", "family", "West", "search"),
    ], ["customer_id", "acquired_at", "segment", "region", "channel"])
    responses = _frame([
        ("A", "2024-05-20", 9, "nps"), ("A", "2024-05-28", 3, "nps"), ("A", "2024-06-02", 10, "nps"),
        ("B", "2024-05-02", 5, "csat"), ("D", "2024-06-10", 6, "nps"), ("D", "2024-06-10", 8, "nps"),
    ], ["customer_id", "date", "score", "kind"])
    interventions = _frame([
        ("A", "call", "treatment", "2024-06-01", 12.5), ("B", "call", "control", "2024-06-01", None),
        ("C", "call", "treatment", "2024-06-01", 0.0), ("D", "call", "control", "2024-06-20", 0.0),
    ], ["customer_id", "intervention", "group", "date", "cost"])
    return {"transactions": transactions, "customers": customers, "responses": responses,
            "interventions": interventions}
