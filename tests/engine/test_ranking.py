"""Ranks by aggregated value bins against a full sort in NumPy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custfocus.engine import ranking
from custfocus.engine.ranking import PRECISION, RankedColumn


@pytest.fixture(scope="module")
def values() -> np.ndarray:
    rng = np.random.default_rng(4)
    heavy = rng.lognormal(3.0, 1.6, 20_000)  # a heavy right tail, like profit or CLV
    losses = -rng.lognormal(1.0, 1.0, 3_000)
    ties = np.repeat([0.0, 12.5, 99.99], 700)  # many equal values, zero among them
    tiny = rng.uniform(-1e-4, 1e-4, 500)
    return rng.permutation(np.concatenate([heavy, losses, ties, tiny]))


def ranked_on(engine, values, column="v") -> RankedColumn:
    frame = pd.DataFrame({column: np.concatenate([values, [np.nan] * 5])})  # nulls are left out
    return RankedColumn(engine.from_frame("values", frame), column)


def test_cumulative_sums_and_kth_values_equal_a_full_sort(any_engine, values):
    ranked = ranked_on(any_engine, values)
    ordered = np.sort(values)[::-1]
    ranks = np.unique(np.r_[0, 1, 2, np.linspace(1, values.size, 300).astype(int), values.size])
    assert ranked.n == values.size
    truth = np.r_[0.0, np.cumsum(ordered)][ranks]
    np.testing.assert_allclose(ranked.cumulative(ranks), truth, rtol=1e-9, atol=1e-6)
    positive = ranks[ranks > 0]
    sums, kth = ranked.at(ranks)
    np.testing.assert_allclose(sums, truth, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(kth[ranks > 0], ordered[positive - 1], rtol=1e-12)
    assert np.isnan(kth[ranks == 0]).all()


def test_without_pulling_values_the_error_stays_within_the_bin_width(duckdb_engine, values,
                                                                     monkeypatch):
    monkeypatch.setattr(ranking, "REFINE_LIMIT", 0)
    ranked = ranked_on(duckdb_engine, values)
    ordered = np.sort(values)[::-1]
    ranks = np.linspace(1, values.size, 500).astype(int)
    got = ranked.cumulative(ranks)
    truth = np.cumsum(ordered)[ranks - 1]
    # Each rank inside a bin is off by at most the bin's spread over the ranks taken from it.
    assert np.max(np.abs(got - truth) / np.cumsum(np.abs(ordered))[ranks - 1]) < PRECISION
    kth = ranked.at(ranks)[1]
    assert np.all(np.abs(kth - ordered[ranks - 1]) <= PRECISION * (1 + np.abs(ordered[ranks - 1])))


def test_no_values_and_bad_ranks(duckdb_engine):
    empty = ranked_on(duckdb_engine, np.array([]))
    assert empty.n == 0 and empty.cumulative([0]).tolist() == [0.0]
    with pytest.raises(ValueError, match="0..3"):
        ranked_on(duckdb_engine, np.array([1.0, 2.0, 3.0])).cumulative([4])
