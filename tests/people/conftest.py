"""Acme: a company unlike the demo, with planted employee NPS, a weak internal supplier (Procurement,
rated poorly by Delivery, which serves most customers) and a department of three people (Legal)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custfocus.data.loading import load_frames

AS_OF = date(2024, 12, 31)
WAVES = [date(2024, 1, 8), date(2024, 4, 8), date(2024, 7, 8), date(2024, 10, 7)]
HEADCOUNT = {"Sales": 12, "Support": 18, "Delivery": 25, "Procurement": 9, "Finance": 7, "Legal": 3}
SMALL = "Legal"
# Shares of (promoters, passives, detractors) per department: the planted employee NPS.
SHARES = {"Sales": (0.5, 0.3, 0.2), "Support": (0.4, 0.4, 0.2), "Delivery": (0.2, 0.3, 0.5),
          "Procurement": (0.3, 0.4, 0.3), "Finance": (0.35, 0.4, 0.25), "Legal": (0.9, 0.1, 0.0)}
# (rater, supplier) -> mean internal score; Procurement serves Delivery badly.
INTERNAL = {("Delivery", "Procurement"): 3.0, ("Delivery", "Finance"): 7.5, ("Sales", "Finance"): 7.0,
            ("Sales", "Procurement"): 7.0, ("Support", "Finance"): 6.5, ("Support", "Delivery"): 7.5,
            ("Finance", "Sales"): 7.0, ("Procurement", "Delivery"): 8.0, ("Legal", "Finance"): 2.0}
CUSTOMERS_SERVED = {"Delivery": 900, "Sales": 300, "Support": 150, "Finance": 40}
CUSTOMER_NPS_SHARES = {"Delivery": (0.25, 0.35, 0.4), "Sales": (0.5, 0.3, 0.2), "Support": (0.45, 0.3, 0.25),
                       "Finance": (0.4, 0.4, 0.2)}


def _scores(rng, shares, size):
    kind = rng.choice(3, size=size, p=shares)
    return np.select([kind == 0, kind == 1], [rng.integers(9, 11, size), rng.integers(7, 9, size)],
                     rng.integers(0, 7, size))


def acme_frames(seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows = []
    number = 0
    for department, people in HEADCOUNT.items():
        for person in range(people):
            number += 1
            for wave in WAVES:
                if rng.random() < 0.85:
                    rows.append({"department": department, "date": wave + timedelta(days=int(rng.integers(0, 6))),
                                 "employee_id": f"P{number:03d}"})
    employees = pd.DataFrame(rows)
    employees["score"] = 0
    for department, group in employees.groupby("department"):
        employees.loc[group.index, "score"] = _scores(rng, SHARES[department], len(group))

    internal = []
    for (rater, supplier), mean in INTERNAL.items():
        for wave in WAVES:
            for _ in range(HEADCOUNT[rater]):
                if rng.random() < 0.8:
                    internal.append({"from_department": rater, "to_department": supplier,
                                     "date": wave + timedelta(days=int(rng.integers(0, 6))),
                                     "score": int(np.clip(np.rint(rng.normal(mean, 1.3)), 0, 10))})
    customers, responses, transactions = [], [], []
    for department, count in CUSTOMERS_SERVED.items():
        for i in range(count):
            customer = f"{department[:2].upper()}{i:04d}"
            customers.append(customer)
            day = date(2024, 1, 1) + timedelta(days=int(rng.integers(0, 360)))
            responses.append({"customer_id": customer, "date": day, "kind": "nps", "department": department,
                              "score": int(_scores(rng, CUSTOMER_NPS_SHARES[department], 1)[0])})
            transactions.append({"customer_id": customer, "date": day, "amount": float(rng.integers(10, 200))})
    return {"transactions": pd.DataFrame(transactions), "responses": pd.DataFrame(responses),
            "employee_responses": employees, "internal_responses": pd.DataFrame(internal)}


@pytest.fixture(scope="module")
def acme_tables():
    return acme_frames()


@pytest.fixture
def acme(acme_tables):
    return load_frames(acme_tables, as_of=AS_OF, name="Acme")


@pytest.fixture(scope="module")
def acme_folder(tmp_path_factory, acme_tables) -> Path:
    folder = tmp_path_factory.mktemp("acme")
    for name, frame in acme_tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    (folder / "custfocus.toml").write_text(f'[company]\nname = "Acme"\nas_of = "{AS_OF.isoformat()}"\n')
    return folder
