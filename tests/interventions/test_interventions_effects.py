"""Effect statistics against independent computations (scipy) and published results."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from conftest import company_on
from scipy import stats

from custfocus.interventions import analyse
from custfocus.interventions import effects as fx

# Wikipedia, "Welch's t-test", Examples, example 1: t = -2.46, nu = 24.99, p = 0.021.
WELCH_A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
WELCH_A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]


def heavy_tailed(rng, n, buy_rate, scale=1.0):
    """Spend per customer: most buy nothing, buyers spend lognormally (a long right tail)."""
    return np.where(rng.random(n) < buy_rate, scale * rng.lognormal(4.0, 1.2, n), 0.0)


def test_welch_matches_scipy_on_heavy_tailed_spend():
    rng = np.random.default_rng(1)
    treated, control = heavy_tailed(rng, 700, 0.35, 1.1), heavy_tailed(rng, 1_300, 0.3)
    effect = fx.welch(treated, control)
    reference = stats.ttest_ind(treated, control, equal_var=False)
    low, high = reference.confidence_interval(0.95)
    textbook_se = math.sqrt(treated.var(ddof=1) / 700 + control.var(ddof=1) / 1_300)
    assert effect.estimate == pytest.approx(treated.mean() - control.mean(), rel=1e-12)
    assert effect.standard_error == pytest.approx(textbook_se, rel=1e-12)
    assert effect.estimate / effect.standard_error == pytest.approx(reference.statistic, rel=1e-10)
    assert effect.df == pytest.approx(reference.df, rel=1e-10)
    assert effect.p_value == pytest.approx(reference.pvalue, rel=1e-8)
    assert (effect.low, effect.high) == (pytest.approx(low, rel=1e-10), pytest.approx(high, rel=1e-10))


def test_welch_reproduces_the_published_example():
    effect = fx.welch(WELCH_A1, WELCH_A2)
    assert round(effect.estimate / effect.standard_error, 2) == -2.46
    assert round(effect.df, 2) == 24.99
    assert round(effect.p_value, 3) == 0.021


def test_the_published_example_comes_back_through_the_data_contract(duckdb_engine):
    """Each value is one customer's revenue in the window; group A1 treated, A2 control."""
    assigned = date(2024, 3, 1)
    ids = [f"T{i}" for i in range(len(WELCH_A1))] + [f"C{i}" for i in range(len(WELCH_A2))]
    amounts = WELCH_A1 + WELCH_A2
    frames = {
        "transactions": pd.DataFrame({"customer_id": ids, "date": [assigned + timedelta(days=3)] * len(ids),
                                      "amount": amounts}),
        "interventions": pd.DataFrame({"customer_id": ids, "intervention": "mailing",
                                       "group": ["treatment"] * len(WELCH_A1) + ["control"] * len(WELCH_A2),
                                       "date": [assigned] * len(ids)}),
    }
    result, = analyse(company_on(duckdb_engine, frames, date(2024, 3, 31)))
    revenue, reference = result.effects["revenue"], fx.welch(WELCH_A1, WELCH_A2)
    assert revenue.estimate == pytest.approx(np.mean(WELCH_A1) - np.mean(WELCH_A2), rel=1e-12)
    assert revenue.standard_error == pytest.approx(reference.standard_error, rel=1e-12)
    assert revenue.df == pytest.approx(24.99, abs=0.005)
    # No cost of goods and no treatment cost: net profit is the revenue effect, and says so.
    assert result.net_profit.estimate == pytest.approx(revenue.estimate, rel=1e-12)
    assert result.cost_source == "none" and result.revenue_without_cost_share == pytest.approx(1.0)


def test_bca_matches_scipys_bootstrap():
    rng = np.random.default_rng(2)
    treated, control = heavy_tailed(rng, 300, 0.4, 1.2), heavy_tailed(rng, 300, 0.4)
    (effect,), _ = fx.effects_with_bootstrap(treated[:, None], control[:, None], replicates=20_000, seed=3)
    reference = stats.bootstrap((treated, control), lambda t, c, axis: t.mean(axis) - c.mean(axis),
                                method="BCa", n_resamples=20_000, random_state=4).confidence_interval
    width = effect.high - effect.low
    assert effect.bootstrap_low == pytest.approx(reference.low, abs=0.03 * width)
    assert effect.bootstrap_high == pytest.approx(reference.high, abs=0.03 * width)
    # Right-skewed spend: the BCa interval leans right of the symmetric t interval.
    assert effect.bootstrap_high - effect.estimate > effect.estimate - effect.bootstrap_low


def test_bootstrap_replicates_share_resamples_across_outcomes():
    rng = np.random.default_rng(5)
    values = rng.normal(size=(200, 1))
    draws = fx.bootstrap_differences(np.hstack([values, 2 * values]), np.zeros((50, 2)), replicates=300)
    assert np.allclose(draws[:, 1], 2 * draws[:, 0])


def test_sample_ratio_mismatch_is_flagged_and_a_fair_split_is_not():
    rng = np.random.default_rng(6)
    fair = [fx.sample_ratio_check(t, 100_000 - t) for t in rng.binomial(100_000, 0.5, 2_000)]
    assert np.mean([s.mismatch for s in fair]) < 0.004  # alpha is 0.001
    assert all(s.planned_share == 0.5 and s.planned_share_assumed for s in fair)
    # A 50/50 split that lost 3% of its treated customers (a logging bug, say).
    broken = fx.sample_ratio_check(48_500, 50_000)
    assert broken.mismatch and broken.planned_share == 0.5
    reference = stats.chisquare([48_500, 50_000])
    assert broken.chi_square == pytest.approx(reference.statistic) and broken.p_value == pytest.approx(reference.pvalue)
    holdout = fx.sample_ratio_check(9_020, 980)  # a 90/10 design is recognised, not called a mismatch
    assert holdout.planned_share == pytest.approx(0.9) and not holdout.mismatch
    assert fx.sample_ratio_check(9_020, 980, planned_share=0.5).mismatch


def test_groups_that_differ_before_assignment_are_flagged():
    rng = np.random.default_rng(7)
    control = rng.poisson(2.0, 5_000)
    assert not fx.balance("pre_orders", rng.poisson(2.0, 5_000), control).flagged
    shifted = fx.balance("pre_orders", rng.poisson(2.3, 5_000), control)
    assert shifted.flagged and shifted.standardized_difference == pytest.approx(0.3 / math.sqrt(2.15), abs=0.05)


def test_customers_needed_gives_the_stated_power():
    """At the sample size it names, 80% of simulated experiments tell the effect from zero."""
    rng = np.random.default_rng(8)
    pilot = fx.welch(rng.normal(1.0, 10.0, 2_000), rng.normal(0.0, 10.0, 2_000))
    needed = fx.customers_needed(pilot)
    expected = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) ** 2 * (
        pilot.sd_treated ** 2 / 0.5 + pilot.sd_control ** 2 / 0.5) / pilot.estimate ** 2
    assert needed == math.ceil(expected)
    half = needed // 2
    significant = [fx.welch(rng.normal(pilot.estimate, pilot.sd_treated, half),
                            rng.normal(0.0, pilot.sd_control, half)).low > 0 for _ in range(600)]
    assert np.mean(significant) == pytest.approx(0.8, abs=0.05)


def test_groups_without_spread_give_a_point_interval():
    (effect,), _ = fx.effects_with_bootstrap(np.ones((50, 1)), np.zeros((60, 1)), replicates=100)
    assert (effect.estimate, effect.low, effect.high, effect.standard_error) == (1.0, 1.0, 1.0, 0.0)
    assert (effect.bootstrap_low, effect.bootstrap_high, effect.p_value) == (1.0, 1.0, 0.0)
    assert fx.verdict(effect) == fx.PAYS
    assert math.isnan(fx.welch([1.0], [0.0, 1.0]).low)  # one customer: no interval at all


def test_verdicts_follow_both_intervals():
    def effect(low, high, boot_low, boot_high):
        return fx.Effect(0.5 * (low + high), low, high, 1.0, 100.0, 0.5, 10, 10, 0, 0, 1, 1, boot_low, boot_high)

    assert fx.verdict(effect(0.1, 2.0, 0.2, 2.1)) == fx.PAYS
    assert fx.verdict(effect(-2.0, -0.1, -2.1, -0.2)) == fx.DOES_NOT_PAY
    assert fx.verdict(effect(0.1, 2.0, -0.1, 2.1)) == fx.NOT_YET_KNOWN  # the bootstrap disagrees


def test_break_even_cost_and_margin():
    rng = np.random.default_rng(9)
    n = 4_000
    revenue_t, revenue_c = rng.normal(30, 5, n), rng.normal(20, 5, n)
    gross_t, gross_c = 0.3 * revenue_t, 0.3 * revenue_c
    cost_t, cost_c = np.full(n, 4.0), np.zeros(n)
    effects, draws = fx.effects_with_bootstrap(np.column_stack([revenue_t, gross_t, cost_t]),
                                               np.column_stack([revenue_c, gross_c, cost_c]), replicates=500)
    revenue, gross, cost = effects
    even = fx.break_even(revenue, gross, cost, uses_per_treated=2.0, cost_per_use=2.0,
                         revenue_draws=draws[:, 0], cost_draws=draws[:, 2])
    assert even.cost == pytest.approx(gross.estimate) and even.cost_now == pytest.approx(4.0)
    assert even.cost_per_use == pytest.approx(gross.estimate / 2.0) and even.cost_per_use_now == 2.0
    assert even.margin == pytest.approx(4.0 / revenue.estimate) and even.margin_now == pytest.approx(0.3)
    assert even.margin_low < even.margin < even.margin_high


def test_totals_scale_the_effect_and_its_interval():
    effect = fx.welch([3.0, 5.0, 4.0], [1.0, 2.0, 0.0])
    total = effect.scaled(1_000)
    assert (total.estimate, total.low, total.high) == pytest.approx(
        (1_000 * effect.estimate, 1_000 * effect.low, 1_000 * effect.high))
    assert total.p_value == effect.p_value and total.n == effect.n


def test_large_groups_draw_from_the_bootstrap_normal_limit_with_the_same_spread_and_links():
    # Right-skewed spend and a second outcome tied to it: the normal limit (used beyond a size)
    # must give the resampling bootstrap's centre, spread and correlation between outcomes.
    rng = np.random.default_rng(8)
    spend_t, spend_c = rng.lognormal(3, 1, 30_000), rng.lognormal(2.9, 1, 30_000)
    treated = np.column_stack([spend_t, 0.3 * spend_t + rng.normal(0, 5, spend_t.size)])
    control = np.column_stack([spend_c, 0.3 * spend_c + rng.normal(0, 5, spend_c.size)])
    resampled = fx.bootstrap_differences(treated, control, replicates=2_000, seed=1, normal_beyond=10**9)
    limit = fx.bootstrap_differences(treated, control, replicates=2_000, seed=1, normal_beyond=10_000)
    assert not np.allclose(resampled, limit)  # the second really is the other method
    spread = resampled.std(axis=0)
    np.testing.assert_allclose(limit.mean(axis=0), resampled.mean(axis=0), atol=0.1 * spread.max())
    np.testing.assert_allclose(limit.std(axis=0), spread, rtol=0.08)  # 2,000 replicates: ~3% noise
    assert np.corrcoef(limit.T)[0, 1] == pytest.approx(np.corrcoef(resampled.T)[0, 1], abs=0.05)
