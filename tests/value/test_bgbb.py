"""The BG/BB model: Fader, Hardie & Shang (2010) on the donations data (published estimates,
log-likelihood and tables), its closed forms against direct sums, and recovery of simulated
parameters (its gradient is checked with the other models' in test_value_models.py)."""

from __future__ import annotations

import numpy as np
import pytest
from lifetimes.datasets import load_donations

from custfocus.value.fitters import BGBB
from custfocus.value.simulate import simulate_bgbb


@pytest.fixture(scope="module")
def donations():
    return load_donations()


@pytest.fixture(scope="module")
def bgbb(donations):
    return BGBB().fit_frame(donations)


def test_reproduces_fader_hardie_shang_2010(bgbb, donations):
    # FHS (2010), table 3: alpha 1.204, beta 0.750, gamma 0.657, delta 2.783, LL -33,225.6,
    # on 11,104 donors of the 1995 cohort with 6 opportunities (1996-2001).
    assert bgbb.converged_
    assert bgbb.n_customers_ == 11_104
    for name, published in {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}.items():
        assert round(bgbb.params_[name], 3) == published, name
    assert round(bgbb.log_likelihood_, 1) == -33225.6


def test_conditional_expectation_is_the_sum_of_alive_chances(bgbb, donations):
    """The closed form of E[X(n, n+t) | history] (eq. 13) against its definition: the chance of
    being alive at each future opportunity times the posterior mean transaction probability."""
    x, t_x, n = (donations[c].to_numpy(float) for c in ("frequency", "recency", "periods"))
    alpha, beta, _, _ = bgbb.params_
    for future in (1, 5, 20):
        direct = sum(bgbb.probability_alive(x, t_x, n, k) for k in range(1, future + 1))
        direct *= (alpha + x) / (alpha + beta + n)
        np.testing.assert_allclose(bgbb.expected_purchases(future, x, t_x, n), direct, rtol=1e-10)


def test_count_distribution_sums_to_one_and_has_the_closed_form_mean(bgbb):
    for periods in (1, 6, 30):
        counts = np.arange(periods + 1)
        pmf = bgbb.probability_of_n_purchases(periods, counts)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert counts @ pmf == pytest.approx(float(bgbb.expected_purchases_new(periods)), rel=1e-10)


def test_probability_alive_falls_with_time_since_the_last_donation(bgbb):
    # FHS (2010) table 6: for a fixed frequency, the longer since the last donation, the lower.
    chances = bgbb.probability_alive([3, 3, 3], [3, 4, 6], [6, 6, 6])
    assert chances[0] < chances[1] < chances[2] <= 1


def test_recovers_simulated_parameters():
    truth = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    data = simulate_bgbb(100_000, **truth, n_periods=10, seed=21)
    model = BGBB().fit_frame(data)
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name


def test_input_is_checked():
    with pytest.raises(ValueError, match="frequency <= recency <= n_periods"):
        BGBB().fit([2], [1], [6])
    with pytest.raises(ValueError, match="whole numbers"):
        BGBB().fit([1], [1.5], [6])
