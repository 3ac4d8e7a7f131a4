"""The internal-customer matrix: leniency recovered by simulation, the bottleneck weighted by customers."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from custfocus import people

from .conftest import SMALL


def simulated_ratings(leniency: dict, quality: dict, pairs: list, per_pair: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for rater, supplier in pairs:
        for i in range(per_pair):
            score = int(np.clip(np.rint(6.5 + leniency[rater] + quality[supplier] + rng.normal(0, 1.0)), 0, 10))
            rows.append({"from_department": rater, "to_department": supplier, "score": score,
                         "date": date(2024, 1, 1) + timedelta(days=91 * (i % 4))})
    return pd.DataFrame(rows)


def test_leniency_is_recovered_and_changes_the_ranking():
    """Lenient raters happen to rate the weak suppliers: raw means rank suppliers wrongly."""
    leniency = {"Kind": 1.2, "Fair": 0.0, "Harsh": -1.2}
    quality = {"S1": -0.8, "S2": -0.3, "S3": 0.3, "S4": 0.8}
    pairs = [("Kind", "S1"), ("Kind", "S2"), ("Fair", "S1"), ("Fair", "S4"), ("Harsh", "S3"), ("Harsh", "S4"),
             ("Fair", "S3")]
    result = people.internal_service(simulated_ratings(leniency, quality, pairs, 400), min_group_size=5)
    assert result.method == "additive model"
    raters = result.raters.set_index("rater")["leniency"]
    suppliers = result.suppliers.set_index("supplier")
    # Effects sum to zero, as the planted ones do; rounding to whole scores shrinks them a little.
    for rater, planted in leniency.items():
        assert raters[rater] == pytest.approx(planted, abs=0.12)
    adjusted = suppliers["adjusted"] - suppliers["adjusted"].mean()
    for supplier, planted in quality.items():
        assert adjusted[supplier] == pytest.approx(planted, abs=0.12)
    assert list(suppliers["adjusted"].sort_values().index) == ["S1", "S2", "S3", "S4"]
    assert list(suppliers["raw_mean"].sort_values().index) != ["S1", "S2", "S3", "S4"]


def test_additive_fit_is_exact_on_noiseless_cells():
    raters, suppliers = ["A", "A", "B", "C", "C"], ["X", "Y", "Y", "X", "Z"]
    a, b = {"A": 0.5, "B": -0.2, "C": -0.3}, {"X": 1.0, "Y": -0.4, "Z": -0.6}
    means = [6 + a[r] + b[s] for r, s in zip(raters, suppliers)]
    overall, leniency, quality = people.additive_fit(raters, suppliers, means, [10, 20, 5, 7, 9])
    assert overall == pytest.approx(6)
    assert leniency == pytest.approx(a) and quality == pytest.approx(b)
    # Two groups that never rate each other's suppliers: not identified.
    assert people.additive_fit(["A", "B"], ["X", "Y"], [5, 7], [10, 10]) is None


def test_weak_supplier_is_the_bottleneck_and_sure(acme):
    result = people.analyse(acme)
    bottleneck = result.bottleneck
    assert bottleneck["supplier"] == "Procurement"
    assert bottleneck["share_of_resamples"] >= 0.95
    reach = bottleneck["customers_reached"]
    assert reach["low"] <= reach["estimate"] <= reach["high"]
    assert "Procurement" in bottleneck["sentence"]


def test_bottleneck_weighs_ratings_by_customers_served():
    """A supplier rated worst by a department with few customers is not the bottleneck; one rated
    poorly by the department serving most customers is."""
    quality = {"Worst": -3.5, "Weak": -1.8, "Good": 0.5}
    leniency = {"Big": 0.0, "Small": 0.0}
    pairs = [("Small", "Worst"), ("Big", "Weak"), ("Big", "Good"), ("Small", "Good")]
    ratings = simulated_ratings(leniency, quality, pairs, 60, seed=4)
    served = pd.Series({"Big": 5000, "Small": 30})
    result = people.internal_service(ratings, served, min_group_size=5)
    suppliers = result.suppliers.set_index("supplier")
    assert suppliers["adjusted"].idxmin() == "Worst"
    assert result.bottleneck["supplier"] == "Weak"
    unweighted = people.internal_service(ratings, None, min_group_size=5)
    assert unweighted.bottleneck["supplier"] == "Worst"


def test_small_cells_and_small_departments_are_left_out(acme, acme_tables):
    result = people.analyse(acme).internal
    names = set(result.cells.rater) | set(result.cells.supplier) | set(result.suppliers.supplier)
    assert SMALL not in names
    assert (result.cells.people >= 5).all()
    # Without the headcount cap, cells count people as the most answers in one wave.
    internal = acme_tables["internal_responses"]
    few = internal[(internal.from_department == "Sales") & (internal.to_department == "Finance")].copy()
    few = pd.concat([few.iloc[:3], internal[internal.from_department == "Delivery"]])
    shown = people.internal_service(few, min_group_size=5)
    assert ("Sales", "Finance") not in set(zip(shown.cells.rater, shown.cells.supplier))
    assert shown.hidden_cells == 1


def test_asymmetric_pair(acme):
    asymmetric = people.analyse(acme).internal.asymmetric
    flagged = asymmetric[asymmetric.significant]
    assert {frozenset(p) for p in zip(flagged.department_a, flagged.department_b)} == {
        frozenset({"Delivery", "Procurement"})}
    row = flagged.iloc[0]
    low_side = row.a_rates_b if row.department_a == "Delivery" else row.b_rates_a
    assert low_side < 5
