"""Do the 95% intervals cover the true effect 95% of the time? Simulations with known truth.

Spend per customer is heavy-tailed: 30% of control customers buy, each spending lognormal(4, 1.2)
(mean 112, a long right tail); the treatment lifts the buying rate to 33% and baskets by 5%. The true
effect is the difference of the population means, exactly
``exp(4 + 1.2^2 / 2) * (0.33 * 1.05 - 0.30)``. Run with ``-s`` to print the coverage table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from custfocus.interventions import effects as fx

SIGMA = 1.2
TRUE_EFFECT = math.exp(4.0 + SIGMA ** 2 / 2) * (0.33 * 1.05 - 0.30)


def spend(rng, n, buy_rate, basket):
    return np.where(rng.random(n) < buy_rate, basket * rng.lognormal(4.0, SIGMA, n), 0.0)


def coverage(n_treated: int, n_control: int, runs: int, seed: int) -> dict[str, float]:
    """Share of simulated experiments whose interval holds the true effect, per interval kind."""
    rng = np.random.default_rng(seed)
    hits = {"welch": 0, "bca": 0, "verdict": 0, "skewed": 0}
    for run in range(runs):
        treated, control = spend(rng, n_treated, 0.33, 1.05), spend(rng, n_control, 0.30, 1.0)
        (effect,), _ = fx.effects_with_bootstrap(treated[:, None], control[:, None], replicates=1_000, seed=run)
        hits["welch"] += effect.low <= TRUE_EFFECT <= effect.high
        hits["bca"] += effect.bootstrap_low <= TRUE_EFFECT <= effect.bootstrap_high
        hits["verdict"] += effect.verdict_low <= TRUE_EFFECT <= effect.verdict_high
        hits["skewed"] += fx.too_skewed(treated, control)
    shares = {kind: count / runs for kind, count in hits.items()}
    print(f"\n{n_treated:>5} treated {n_control:>5} control, {runs} runs: " +
          ", ".join(f"{kind} {share:.3f}" for kind, share in shares.items()))
    return shares


def test_intervals_cover_heavy_tailed_spend_in_a_balanced_experiment():
    shares = coverage(300, 300, runs=300, seed=1)
    # 300 runs: a binomial standard error of 1.3 points around 95%.
    assert 0.91 <= shares["welch"] <= 0.99
    assert shares["verdict"] >= shares["welch"]
    assert shares["skewed"] == 0  # equal groups: the skewness of the two means cancels


@pytest.mark.slow
@pytest.mark.parametrize("n", [100, 500, 2_000])
def test_welch_and_the_verdict_interval_cover_95_percent_in_balanced_experiments(n):
    shares = coverage(n, n, runs=1_000, seed=n)
    # 1,000 runs: standard error 0.7 points; Welch is a little conservative on these tails.
    assert 0.935 <= shares["welch"] <= 0.98
    assert 0.935 <= shares["verdict"] <= 0.98
    assert shares["bca"] < shares["welch"]  # the bootstrap alone is too narrow on heavy tails
    assert shares["skewed"] == 0


@pytest.mark.slow
@pytest.mark.parametrize(("n_treated", "n_control"), [(100, 900), (900, 100)])
def test_a_small_skewed_group_is_flagged_because_no_interval_holds_there(n_treated, n_control):
    shares = coverage(n_treated, n_control, runs=1_000, seed=n_treated)
    assert shares["verdict"] >= max(shares["welch"], shares["bca"]) and shares["verdict"] >= 0.88
    assert shares["skewed"] > 0.9  # ... so the report says the intervals are approximate
