"""The pulse statistics against simulation and independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from custfocus.pulse import stats

REPLICATIONS = 4000


# --- NPS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("promoter_share", "detractor_share", "n"),
    [(0.5, 0.2, 50), (0.3, 0.3, 100), (0.7, 0.1, 30), (0.2, 0.5, 200), (0.6, 0.05, 400), (0.4, 0.35, 20)],
)
def test_nps_interval_covers_the_true_nps_about_95_percent_of_the_time(promoter_share, detractor_share, n):
    rng = np.random.default_rng(20160127)
    counts = rng.multinomial(n, [promoter_share, 1 - promoter_share - detractor_share, detractor_share],
                             size=REPLICATIONS)
    _, low, high = stats.nps_intervals(counts[:, 0], counts[:, 2], n)
    true_nps = 100 * (promoter_share - detractor_share)
    coverage = np.mean((low <= true_nps) & (true_nps <= high))
    assert 0.93 <= coverage <= 0.97


def test_nps_from_scores_matches_a_plain_count():
    scores = [10, 9, 9, 8, 7, 7, 6, 5, 0, 3, 10, 8]
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    counts = stats.NpsCounts.from_scores(scores)
    assert (counts.promoters, counts.passives, counts.detractors) == (4, 4, 4)
    assert stats.nps_interval(counts).estimate == pytest.approx(100 * (promoters - detractors) / len(scores))
    assert stats.nps_interval(counts).n == len(scores)


def test_adjusted_wald_interval_equals_the_mean_of_an_augmented_sample():
    # Rocks' adjustment is a Wald interval on scores +1/0/-1 after adding 0.75 promoters,
    # 1.5 passives and 0.75 detractors: compute it that way, as a weighted mean and variance.
    promoters, passives, detractors = 41, 30, 19
    values = np.array([1.0, 0.0, -1.0])
    weights = np.array([promoters + 0.75, passives + 1.5, detractors + 0.75])
    mean = np.average(values, weights=weights)
    variance = np.average((values - mean) ** 2, weights=weights)
    spread = 1.959963984540054 * math.sqrt(variance / weights.sum())
    estimate = stats.nps_interval(stats.NpsCounts(promoters, passives, detractors))
    assert estimate.low == pytest.approx(100 * (mean - spread))
    assert estimate.high == pytest.approx(100 * (mean + spread))
    assert estimate.estimate == pytest.approx(100 * (promoters - detractors) / 90)


def test_nps_interval_is_clipped_to_the_scale_and_empty_groups_have_none():
    all_promoters = stats.nps_interval(stats.NpsCounts(5, 0, 0))
    assert all_promoters.estimate == 100
    assert all_promoters.high == 100
    assert all_promoters.low < 100
    nps, low, high = stats.nps_intervals([0, 3], [0, 1], [0, 4])
    assert np.isnan([nps[0], low[0], high[0]]).all()
    assert nps[1] == pytest.approx(50)


def test_nps_difference_detects_equal_shares_about_5_percent_of_the_time():
    rng = np.random.default_rng(3)
    shares = [0.45, 0.3, 0.25]
    false_positives = [
        stats.nps_difference(stats.NpsCounts(*rng.multinomial(n_a, shares)),
                             stats.NpsCounts(*rng.multinomial(n_b, shares))).significant
        for n_a, n_b in [(100, 100), (60, 250)] * (REPLICATIONS // 2)
    ]
    assert 0.035 <= np.mean(false_positives) <= 0.065


def test_nps_difference_is_b_minus_a_and_significance_matches_the_interval():
    a, b = stats.NpsCounts(60, 20, 20), stats.NpsCounts(30, 20, 50)
    difference = stats.nps_difference(a, b)
    assert difference.estimate == pytest.approx(-20 - 40)
    assert (difference.n_a, difference.n_b) == (100, 100)
    assert difference.significant and difference.high < 0
    assert difference.p_value < 0.001
    same = stats.nps_difference(a, a)
    assert same.estimate == 0 and same.p_value == pytest.approx(1.0) and not same.significant
    assert same.low < 0 < same.high


def test_difference_with_an_empty_group_is_unknown_and_serialises():
    difference = stats.nps_difference(stats.NpsCounts(0, 0, 0), stats.NpsCounts(3, 1, 1))
    assert math.isnan(difference.p_value) and not difference.significant
    assert difference.to_dict()["p_value"] is None
    assert difference.to_dict()["n_b"] == 5


# --- CSAT ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("satisfied", "n"), [(17, 20), (0, 12), (80, 100), (3, 3)])
def test_csat_interval_is_the_wilson_interval(satisfied, n):
    # The Wilson interval holds the p whose score test accepts: (p_hat - p)^2 = z^2 p (1 - p) / n.
    z = 1.959963984540054
    p_hat = satisfied / n
    roots = np.sort(np.roots([1 + z * z / n, -(2 * p_hat + z * z / n), p_hat**2]).real)
    estimate = stats.csat_interval(stats.SatisfiedCounts(satisfied, n))
    assert estimate.estimate == pytest.approx(100 * p_hat)
    assert (estimate.low, estimate.high) == pytest.approx(100 * np.clip(roots, 0, 1), abs=1e-9)


def test_csat_difference_detects_equal_shares_about_5_percent_of_the_time():
    rng = np.random.default_rng(4)
    false_positives = [
        stats.csat_difference(stats.SatisfiedCounts(rng.binomial(n_a, 0.75), n_a),
                              stats.SatisfiedCounts(rng.binomial(n_b, 0.75), n_b)).significant
        for n_a, n_b in [(120, 120), (80, 200)] * (REPLICATIONS // 2)
    ]
    assert 0.035 <= np.mean(false_positives) <= 0.065


def test_csat_difference_in_percentage_points():
    difference = stats.csat_difference(stats.SatisfiedCounts(60, 100), stats.SatisfiedCounts(90, 100))
    assert difference.estimate == pytest.approx(30)
    assert difference.significant and difference.low > 0


# --- CES -------------------------------------------------------------------------------------


def test_ces_interval_matches_scipy_t_interval():
    scores = [7, 6, 6, 5, 7, 3, 4, 6, 5, 7, 2, 6]
    summary = stats.ScoreSummary.from_scores(scores)
    expected = sps.t.interval(0.95, len(scores) - 1, loc=np.mean(scores), scale=sps.sem(scores))
    estimate = stats.ces_interval(summary)
    assert estimate.estimate == pytest.approx(np.mean(scores))
    assert (estimate.low, estimate.high) == pytest.approx(expected)


def test_ces_difference_is_welchs_t_test():
    a, b = [5, 6, 7, 7, 6, 5, 4, 6], [3, 4, 5, 2, 6, 4, 3, 5, 4, 4, 7]
    expected = sps.ttest_ind(b, a, equal_var=False)
    difference = stats.ces_difference(stats.ScoreSummary.from_scores(a), stats.ScoreSummary.from_scores(b))
    assert difference.estimate == pytest.approx(np.mean(b) - np.mean(a))
    assert difference.p_value == pytest.approx(expected.pvalue)
    assert (difference.low, difference.high) == pytest.approx(tuple(expected.confidence_interval()))
    assert difference.significant == (expected.pvalue < 0.05)


def test_ces_difference_detects_equal_means_about_5_percent_of_the_time():
    rng = np.random.default_rng(5)
    answer_shares = [0.05, 0.05, 0.1, 0.2, 0.3, 0.2, 0.1]
    scores = rng.choice(np.arange(1, 8), size=(REPLICATIONS, 40 + 90), p=answer_shares)
    false_positives = [
        stats.ces_difference(stats.ScoreSummary.from_scores(row[:40]),
                             stats.ScoreSummary.from_scores(row[40:])).significant
        for row in scores
    ]
    assert 0.035 <= np.mean(false_positives) <= 0.065


def test_ces_needs_two_answers_for_an_interval():
    assert math.isnan(stats.ces_interval(stats.ScoreSummary.from_scores([5])).low)
    single = stats.ces_difference(stats.ScoreSummary.from_scores([5]), stats.ScoreSummary.from_scores([4, 6]))
    assert math.isnan(single.p_value) and not single.significant


# --- planning --------------------------------------------------------------------------------


def _nps_half_width(n, promoter_share, detractor_share):
    _, low, high = stats.nps_intervals(promoter_share * n, detractor_share * n, n)
    return float(high - low) / 2


@pytest.mark.parametrize(
    ("margin", "promoter_share", "detractor_share"),
    [(5, 0.5, 0.5), (5, 0.4, 0.2), (10, 0.6, 0.1), (3, 0.3, 0.3), (15, 0.8, 0.05)],
)
def test_nps_responses_needed_is_the_smallest_n_reaching_the_margin(margin, promoter_share, detractor_share):
    n = stats.nps_responses_needed(margin, promoter_share, detractor_share)
    assert _nps_half_width(n, promoter_share, detractor_share) <= margin
    assert _nps_half_width(n - 1, promoter_share, detractor_share) > margin
    # The textbook approximation z^2 var / margin^2 lands within a few responses.
    variance = promoter_share + detractor_share - (promoter_share - detractor_share) ** 2
    assert n == pytest.approx(1.96**2 * variance / (margin / 100) ** 2, abs=5)


def test_nps_worst_case_needs_the_most_responses():
    worst = stats.nps_responses_needed(5)
    grid = [(p, d) for p in np.linspace(0, 1, 11) for d in np.linspace(0, 1, 11) if p + d <= 1]
    assert all(stats.nps_responses_needed(5, p, d) <= worst for p, d in grid)
    assert worst == stats.nps_responses_needed(5, 0.5, 0.5)


@pytest.mark.parametrize(("margin", "share"), [(5, 0.5), (3, 0.8), (10, 0.95)])
def test_proportion_responses_needed_is_the_smallest_n_reaching_the_margin(margin, share):
    def half_width(n):
        _, low, high = stats.csat_intervals(share * n, n)
        return float(high - low) / 2

    n = stats.proportion_responses_needed(margin, share)
    assert half_width(n) <= margin < half_width(n - 1)


def test_mean_responses_needed_is_the_smallest_n_reaching_the_margin():
    def half_width(n):
        _, low, high = stats.ces_intervals(0.0, 1.5, n)
        return float(high - low) / 2

    n = stats.mean_responses_needed(0.2, sd=1.5)
    assert half_width(n) <= 0.2 < half_width(n - 1)


def test_responses_needed_rejects_impossible_inputs():
    with pytest.raises(ValueError):
        stats.nps_responses_needed(0)
    with pytest.raises(ValueError):
        stats.nps_responses_needed(5, 0.7, 0.5)
    with pytest.raises(ValueError):
        stats.proportion_responses_needed(5, 1.5)


# --- too small to conclude -------------------------------------------------------------------


def test_too_small_rule():
    n = np.array([29, 30, 30, 500, 40])
    half_width = np.array([5.0, 15.0, 15.5, 3.0, np.nan])
    flags = stats.too_small(n, -half_width, half_width, "nps")
    assert flags.tolist() == [True, False, True, False, True]
    assert stats.too_small([100, 100], [70.0, 60.0], [80.0, 80.0], "csat").tolist() == [False, True]
    assert stats.too_small([100, 100], [4.0, 4.2], [5.0, 5.0], "ces").tolist() == [True, False]
