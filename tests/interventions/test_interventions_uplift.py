"""Uplift models and the value of targeting, on simulations whose true effects are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from custfocus.interventions import uplift


def light_model():
    """A small, fast base model for simulations (the defaults are tuned for larger experiments)."""
    return HistGradientBoostingRegressor(max_iter=60, learning_rate=0.1, max_leaf_nodes=8, min_samples_leaf=40,
                                         early_stopping=False, categorical_features="from_dtype", random_state=0)


def experiment(n: int, seed: int, lift: float = 12.0, cost: float = 4.0, tail: float = 1.0):
    """Customers with a segment and a past spend; treatment costs ``cost`` and lifts the heavy-tailed
    profit (lognormal with sigma ``tail``) by ``lift`` for "family" only, in proportion to past spend.
    Returns features, treatment, net profit and each customer's true effect."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(["family", "single", "business"], n, p=[0.2, 0.5, 0.3])
    past = rng.gamma(2.0, 1.0, n)
    true_effect = np.where(segment == "family", lift * past / 2.0, 0.0) - cost
    treated = rng.random(n) < 0.5
    baseline = 10.0 * past * rng.lognormal(-tail ** 2 / 2, tail, n)  # mean 10 x past, a long right tail
    profit = baseline + treated * true_effect + rng.normal(0, 5, n)
    features = uplift.feature_frame(pd.DataFrame({"past_spend": past, "segment": segment}),
                                    ("past_spend",), ("segment",))
    return features, treated, profit, true_effect


@pytest.mark.parametrize("learner", [uplift.TLearner, uplift.XLearner])
def test_learners_recover_who_responds(learner):
    features, treated, profit, truth = experiment(6_000, seed=1)
    model = learner(light_model()).fit(features, treated, profit)
    assert model is not None and hasattr(model, "predict")
    predicted = model.predict(features)
    assert np.corrcoef(predicted, truth)[0, 1] > 0.7
    family = (features["segment"] == "family").to_numpy()
    assert predicted[family].mean() - predicted[~family].mean() == pytest.approx(
        truth[family].mean() - truth[~family].mean(), rel=0.35)


def test_x_learner_reuses_fitted_outcome_models():
    features, treated, profit, _ = experiment(2_000, seed=2)
    outcomes = uplift.TLearner(light_model()).fit(features, treated, profit)
    x = uplift.XLearner(light_model(), outcome_models=outcomes).fit(features, treated, profit)
    assert x.outcome_models_ is outcomes


def test_the_doubly_robust_scores_average_to_the_true_effect():
    features, treated, profit, truth = experiment(8_000, seed=3)
    fitted = uplift.cross_fit(features, treated, profit, estimator=light_model())
    psi = fitted.doubly_robust
    assert abs(psi.mean() - truth.mean()) < 4 * psi.std() / np.sqrt(len(psi))
    assert set(np.unique(fitted.fold)) == set(range(uplift.FOLDS))


def test_targeting_beats_treating_all_or_none_when_one_segment_pays():
    features, treated, profit, truth = experiment(8_000, seed=4)
    targeting = uplift.evaluate_targeting(uplift.cross_fit(features, treated, profit, estimator=light_model()))
    true_value = np.mean(truth * targeting.evaluated)
    assert targeting.beats_all_and_none
    assert targeting.expected.low <= true_value <= targeting.expected.high
    assert 0.05 <= targeting.recommended_share <= 0.3  # families are 20%, and the most lifted of them pay
    family = (features["segment"] == "family").to_numpy()
    assert targeting.targeted[family].mean() > 0.5 and targeting.targeted[~family].mean() < 0.2
    assert targeting.treat_all.low <= truth.mean() <= targeting.treat_all.high


def test_without_a_profitable_group_targeting_is_not_claimed():
    features, treated, profit, truth = experiment(6_000, seed=5, lift=0.0, cost=0.5)
    targeting = uplift.evaluate_targeting(uplift.cross_fit(features, treated, profit, estimator=light_model()))
    assert not targeting.beats_all_and_none
    assert targeting.expected.high >= np.mean(truth * targeting.evaluated) >= targeting.expected.low


@pytest.mark.slow
def test_the_policy_value_is_estimated_without_optimism():
    """Over many simulated experiments the out-of-sample value is unbiased and its interval covers
    the truth about 95% of the time; the peak of the profit curve, read in sample, is optimistic."""
    errors, covered, peak_errors = [], [], []
    for seed in range(100):
        features, treated, profit, truth = experiment(4_000, seed=100 + seed, tail=0.5)
        targeting = uplift.evaluate_targeting(uplift.cross_fit(features, treated, profit, seed=seed,
                                                               estimator=light_model()))
        true_value = np.mean(truth * targeting.evaluated)
        errors.append(targeting.expected.estimate - true_value)
        covered.append(targeting.expected.low <= true_value <= targeting.expected.high)
        peak_errors.append(max(targeting.curve) - np.mean(truth * targeting.targeted))
    errors, peak_errors = np.array(errors), np.array(peak_errors)
    print(f"\npolicy value: mean error {errors.mean():+.3f} (sd {errors.std():.3f}), coverage {np.mean(covered):.2f}; "
          f"curve peak: mean error {peak_errors.mean():+.3f}")
    assert abs(errors.mean()) < 3 * errors.std() / np.sqrt(len(errors))
    assert np.mean(covered) >= 0.88  # 100 runs: a binomial standard error of 2 points
    assert peak_errors.mean() > 3 * peak_errors.std() / np.sqrt(len(peak_errors))


def test_large_experiments_model_targeting_on_a_random_sample(monkeypatch):
    from custfocus.interventions import analysis

    features, treated, profit, _ = experiment(3_000, seed=11)
    frame = pd.DataFrame({"past_spend": features["past_spend"], "segment": features["segment"].astype(str),
                          "treated": treated, "net_profit": profit})
    monkeypatch.setattr(analysis, "NUMERIC_FEATURES", ("past_spend",))
    monkeypatch.setattr(analysis, "CATEGORICAL_FEATURES", ("segment",))
    monkeypatch.setattr(analysis, "MIN_PER_GROUP_FOR_TARGETING", 100)
    fitted_on, cross_fit = [], uplift.cross_fit
    monkeypatch.setattr(uplift, "cross_fit", lambda X, t, y, **options: fitted_on.append(len(X)) or cross_fit(
        X, t, y, **{**options, "estimator": light_model()}))
    sampled, note, _ = analysis._targeting(frame, treated, seed=0, step=lambda m: None, most=1_200)
    assert fitted_on == [1_200] and sampled.expected.n == 1_200
    assert "random sample of 1,200 of the 3,000 participants" in note
    whole, no_note, _ = analysis._targeting(frame, treated, seed=0, step=lambda m: None, most=10_000)
    assert fitted_on[-1] == 3_000 and whole.expected.n == 3_000 and no_note is None
