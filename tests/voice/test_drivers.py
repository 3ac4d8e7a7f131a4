"""Key drivers against simulations with known truth, and against the closed form with one theme.

The truth of a simulation is computed from its latent model, not from the method: scores are
``round(mu + N(0, sd))`` clipped to 0-10, so the expected NPS of any latent mean is a normal
probability, and a theme's true points lost is the mean change of that expectation when the theme's
effect is taken out of the mean of those who mention it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from custfocus.voice.drivers import MIN_MENTIONS, key_drivers

SD = 1.8
NAMES = ["billing error", "support call", "price", "friendly staff"]
EFFECTS = np.array([-3.0, 0.0, -0.7, 0.8])  # support call: a pure symptom of billing errors


def expected_nps(mu: np.ndarray) -> np.ndarray:
    return 100 * ((1 - ndtr((8.5 - mu) / SD)) - ndtr((6.5 - mu) / SD))


def co_mentioned(n: int, seed: int, effects: np.ndarray = EFFECTS):
    rng = np.random.default_rng(seed)
    billing = rng.random(n) < 0.15
    support = np.where(billing, rng.random(n) < 0.7, rng.random(n) < 0.05)
    themes = np.column_stack([billing, support, rng.random(n) < 0.10, rng.random(n) < 0.20])
    mu = 8.0 + themes @ effects
    score = np.clip(np.rint(mu + rng.normal(0, SD, n)), 0, 10)
    truth = np.array([(expected_nps(mu - themes[:, k] * effects[k]) - expected_nps(mu)).mean()
                      for k in range(themes.shape[1])])
    return themes, score, truth


@pytest.fixture(scope="module")
def planted():
    themes, score, truth = co_mentioned(30_000, seed=1)
    return key_drivers(themes, score, "nps", NAMES), truth


def test_recovers_planted_points_where_the_naive_formula_inflates_co_mentioned_themes(planted):
    drivers, truth = planted
    print("\ntruth", truth.round(2), "\nmodel", drivers.points_lost.round(2).tolist(),
          "\nnaive", drivers.naive_points_lost.round(2).tolist())
    # Every planted effect within 10% of its size (or 1 point for the zero one).
    assert np.all(np.abs(drivers.points_lost - truth) <= np.maximum(0.1 * np.abs(truth), 1.0))
    # The symptom is charged with the billing error's effect by the naive formula, not by the model.
    assert drivers.naive_points_lost[1] > 6 > 1 > drivers.points_lost[1]
    # The biggest driver is the billing error under both, but only the model gets the order after it.
    assert drivers.points_lost.idxmax() == 0


def test_intervals_cover_the_truth_and_roles_follow_the_structure(planted):
    drivers, truth = planted
    covered = (drivers.low - 0.6 <= truth) & (truth <= drivers.high + 0.6)  # 0.6: the logit-vs-probit bias
    assert covered.all()
    assert drivers.role.tolist() == ["root cause", "symptom", "root cause", "strength"]
    assert drivers.symptom_of[1] == "billing error"


def test_one_theme_reduces_to_the_closed_form():
    """With one theme the logistic models are saturated: the counterfactual is share x difference."""
    rng = np.random.default_rng(3)
    theme = rng.random(4_000) < 0.3
    score = np.clip(np.rint(8 - 2.5 * theme + rng.normal(0, 2, 4_000)), 0, 10)
    nps = 100 * ((score >= 9).astype(float) - (score <= 6))
    closed_form = theme.mean() * (nps[~theme].mean() - nps[theme].mean())
    drivers = key_drivers(theme[:, None], score, "nps", ["late"], replicates=20)
    assert drivers.points_lost[0] == pytest.approx(closed_form, rel=0.005)  # only the tiny ridge differs
    assert drivers.naive_points_lost[0] == pytest.approx(closed_form, abs=1e-9)


def test_csat_and_ces_use_their_own_units():
    rng = np.random.default_rng(5)
    n = 20_000
    a = rng.random(n) < 0.2
    b = np.where(a, rng.random(n) < 0.6, rng.random(n) < 0.05)
    themes = np.column_stack([a, b])
    latent = 4.8 - 1.2 * a + rng.normal(0, 1.0, n)
    ces = np.clip(latent, 1, 7)  # continuous inside 1-7: the linear model is exact
    truth_ces = (np.clip(latent + 1.2 * a, 1, 7) - ces).mean()
    drivers = key_drivers(themes, ces, "ces", ["a", "b"], replicates=50)
    assert drivers.points_lost[0] == pytest.approx(truth_ces, rel=0.05)
    assert abs(drivers.points_lost[1]) < 0.02 < drivers.naive_points_lost[1]

    csat = np.clip(np.rint(3.9 - 1.5 * a + rng.normal(0, 0.8, n)), 1, 5)
    satisfied_mu = 3.9 - 1.5 * a
    truth_csat = 100 * ((1 - ndtr((3.5 - (satisfied_mu + 1.5 * a)) / 0.8))
                        - (1 - ndtr((3.5 - satisfied_mu) / 0.8))).mean()
    drivers = key_drivers(themes, csat, "csat", ["a", "b"], replicates=50)
    assert drivers.points_lost[0] == pytest.approx(truth_csat, rel=0.1)
    assert abs(drivers.points_lost[1]) < 1.0 < drivers.naive_points_lost[1]


def test_thin_themes_are_flagged_and_not_called_root_causes():
    themes, score, _ = co_mentioned(5_000, seed=2)
    rare = np.zeros(len(score), bool)
    rare[:MIN_MENTIONS - 1] = True
    drivers = key_drivers(np.column_stack([themes, rare]), score, "nps", [*NAMES, "rare"], replicates=30)
    assert drivers.too_few_mentions.tolist() == [False] * 4 + [True]
    assert drivers.role.iat[4] == "too few mentions"


def test_same_data_same_figures():
    themes, score, _ = co_mentioned(3_000, seed=4)
    first = key_drivers(themes, score, "nps", NAMES, replicates=30)
    second = key_drivers(themes, score, "nps", NAMES, replicates=30)
    assert first.equals(second)
