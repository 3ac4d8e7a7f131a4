"""Whom to target: uplift models of net profit and the honest value of "treat the top k%".

Learners (scikit-learn conventions: ``fit(X, treatment, y)`` returns self, ``predict(X)`` gives each
customer's predicted effect of the treatment), on gradient boosting
(:class:`~sklearn.ensemble.HistGradientBoostingRegressor` by default):

* :class:`TLearner`, two models: one outcome model per group; effect = treated model - control model.
* :class:`XLearner` (Kuenzel, Sekhon, Bickel & Yu 2019, PNAS): imputes each customer's effect with
  the other group's outcome model, models those imputed effects in each group and blends the two by
  the share treated.

Heavy tails: the learners fit on the outcome clipped to its 0.5% and 99.5% quantiles (a few huge
baskets would otherwise steer the trees); every evaluation uses the outcome as it is.

Evaluation (:func:`evaluate_targeting`) is cross-fitted: customers are split into folds (stratified by
group); each fold is scored by models fitted on the other folds. Each customer also gets a doubly
robust score ``psi = m1 - m0 + W (Y - m1) / e - (1 - W) (Y - m0) / (1 - e)`` from out-of-fold
outcome models ``m0, m1`` and the share treated ``e``. With randomised assignment the mean of psi
over any set chosen without that set's outcomes is an unbiased estimate of the effect there, whatever
the quality of ``m0, m1``. So the value of "treat the top k%" per customer of the population is
``mean(psi * treated_by_policy)`` with standard error ``sd / sqrt(n)``:

* The *profit curve*: that value at every share k (ranked within each fold by its own model).
* The *Qini area* (uplift AUC above random targeting): the mean over shares of the curve minus the
  straight line from treating no one to treating all. The learner with the larger area is chosen.
* The *honest value* of the recommended policy: for each fold, the learner and the share are chosen
  on the other folds only, then applied to the fold; the values of all folds together are the
  estimate. Reading the peak of the curve instead would be optimistic (the peak picks noise).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from custfocus.stats import Z95, Estimate

FOLDS = 5
SHARES = tuple(round(k / 20, 2) for k in range(21))  # 0%, 5%, ..., 100% treated
OUTCOME_CLIP = 0.005
MAX_CATEGORIES = 50  # rarer categories are pooled as "other" (the trees take at most 255)


def gradient_boosting(random_state: int = 0) -> HistGradientBoostingRegressor:
    """The default base model: small, regularised trees with early stopping (noisy outcomes)."""
    return HistGradientBoostingRegressor(
        learning_rate=0.05, max_iter=200, max_leaf_nodes=15, min_samples_leaf=50, l2_regularization=1.0,
        early_stopping=True, validation_fraction=0.2, n_iter_no_change=10, categorical_features="from_dtype",
        random_state=random_state)


def feature_frame(frame: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...]) -> pd.DataFrame:
    """Model inputs: numbers as floats (NaN = unknown), categories as pandas categoricals."""
    features = pd.DataFrame({c: pd.to_numeric(frame[c], errors="coerce").astype(float) for c in numeric},
                            index=frame.index)
    for column in categorical:
        values = frame[column].astype("string")
        common = values.value_counts().index[:MAX_CATEGORIES]
        values = values.where(values.isin(common) | values.isna(), "other")
        features[column] = pd.Categorical(values.astype(object).where(values.notna(), None))
    return features


def _one_thread(method):
    """Run a fit or predict on one OpenMP thread: the trees are small, and OpenMP's barriers cost far
    more than they save on a loaded machine (tens of times slower when processes compete for cores)."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with threadpool_limits(1, user_api="openmp"):
            return method(*args, **kwargs)

    return wrapper


class TLearner(BaseEstimator):
    """Two outcome models, one per group; the predicted effect is their difference."""

    def __init__(self, estimator=None, outcome_clip: float = OUTCOME_CLIP):
        self.estimator = estimator
        self.outcome_clip = outcome_clip

    @_one_thread
    def fit(self, X, treatment, y) -> TLearner:
        treated, y = np.asarray(treatment, bool), _clipped(y, self.outcome_clip)
        base = self.estimator if self.estimator is not None else gradient_boosting()
        self.control_model_ = clone(base).fit(_rows(X, ~treated), y[~treated])
        self.treated_model_ = clone(base).fit(_rows(X, treated), y[treated])
        return self

    @_one_thread
    def predict_outcomes(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Predicted outcome without and with the treatment."""
        return self.control_model_.predict(X), self.treated_model_.predict(X)

    def predict(self, X) -> np.ndarray:
        without, with_treatment = self.predict_outcomes(X)
        return with_treatment - without


class XLearner(BaseEstimator):
    """Kuenzel et al.'s X-learner. ``outcome_models``: a fitted :class:`TLearner` to reuse (its
    models are then not refitted), else one is fitted with ``estimator``."""

    def __init__(self, estimator=None, outcome_models: TLearner | None = None, outcome_clip: float = OUTCOME_CLIP):
        self.estimator = estimator
        self.outcome_models = outcome_models
        self.outcome_clip = outcome_clip

    @_one_thread
    def fit(self, X, treatment, y) -> XLearner:
        treated, y = np.asarray(treatment, bool), _clipped(y, self.outcome_clip)
        base = self.estimator if self.estimator is not None else gradient_boosting()
        outcomes = self.outcome_models
        if outcomes is None or not hasattr(outcomes, "treated_model_"):
            outcomes = TLearner(base, self.outcome_clip).fit(X, treatment, y)
        self.outcome_models_ = outcomes
        # Each group's imputed effects come from the other group's model, fitted without them.
        imputed_treated = y[treated] - outcomes.control_model_.predict(_rows(X, treated))
        imputed_control = outcomes.treated_model_.predict(_rows(X, ~treated)) - y[~treated]
        self.treated_effect_model_ = clone(base).fit(_rows(X, treated), imputed_treated)
        self.control_effect_model_ = clone(base).fit(_rows(X, ~treated), imputed_control)
        self.treated_share_ = float(treated.mean())
        return self

    @_one_thread
    def predict(self, X) -> np.ndarray:
        share = self.treated_share_
        return share * self.control_effect_model_.predict(X) + (1 - share) * self.treated_effect_model_.predict(X)


LEARNERS = {"T-learner": "two outcome models", "X-learner": "Kuenzel et al. 2019"}


def _rows(X, mask: np.ndarray):
    return X[mask] if not hasattr(X, "iloc") else X.iloc[np.flatnonzero(mask)]


def _clipped(y, quantile: float) -> np.ndarray:
    y = np.asarray(y, float)
    if quantile <= 0 or len(y) == 0:
        return y
    low, high = np.quantile(y, [quantile, 1 - quantile])
    return np.clip(y, low, high)


# --- cross-fitting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrossFit:
    """Out-of-fold effect scores of each learner and doubly robust scores, per customer."""

    fold: np.ndarray
    scores: dict[str, np.ndarray]
    doubly_robust: np.ndarray
    treated_share: float


def cross_fit(X: pd.DataFrame, treatment, y, folds: int = FOLDS, seed: int = 0, estimator=None,
              progress: Callable[[str], None] | None = None) -> CrossFit:
    """Fit both learners on all folds but one and score that fold, for every fold."""
    step = progress or (lambda message: None)
    treated, y = np.asarray(treatment, bool), np.asarray(y, float)
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    for group in (treated, ~treated):  # stratified: every fold has both groups in proportion
        members = rng.permutation(np.flatnonzero(group))
        fold[members] = np.arange(len(members)) % folds
    share = float(treated.mean())
    scores = {name: np.empty(len(y)) for name in LEARNERS}
    psi = np.empty(len(y))
    base = estimator if estimator is not None else gradient_boosting(seed)
    for k in range(folds):
        step(f"fitting uplift models, fold {k + 1} of {folds}")
        train, test = fold != k, fold == k
        X_train, X_test = _rows(X, train), _rows(X, test)
        t_learner = TLearner(base).fit(X_train, treated[train], y[train])
        x_learner = XLearner(base, outcome_models=t_learner).fit(X_train, treated[train], y[train])
        without, with_treatment = t_learner.predict_outcomes(X_test)
        scores["T-learner"][test] = with_treatment - without
        scores["X-learner"][test] = x_learner.predict(X_test)
        w, outcome = treated[test], y[test]
        psi[test] = (with_treatment - without + w * (outcome - with_treatment) / share
                     - (~w) * (outcome - without) / (1 - share))
    return CrossFit(fold, scores, psi, share)


def top_share(score: np.ndarray, fold: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """True for the customers ranked in the top ``share`` of their fold (ties broken at random)."""
    chosen = np.zeros(len(score), bool)
    order_noise = np.random.default_rng(seed).random(len(score))
    for k in np.unique(fold):
        members = np.flatnonzero(fold == k)
        count = int(round(share * len(members)))
        ranked = members[np.lexsort((order_noise[members], -score[members]))]
        chosen[ranked[:count]] = True
    return chosen


def profit_curve(score: np.ndarray, psi: np.ndarray, fold: np.ndarray,
                 shares: tuple[float, ...] = SHARES) -> tuple[np.ndarray, np.ndarray]:
    """Value per customer of treating the top k (each k in ``shares``) and its standard error."""
    values, errors = [], []
    for share in shares:
        gain = psi * top_share(score, fold, share)
        values.append(gain.mean())
        errors.append(gain.std(ddof=1) / math.sqrt(len(gain)))
    return np.array(values), np.array(errors)


def qini_area(curve: np.ndarray, shares: tuple[float, ...] = SHARES) -> float:
    """Area between the profit curve and random targeting (trapezoids over ``shares``)."""
    shares = np.asarray(shares)
    return float(np.trapezoid(curve - shares * curve[-1], shares))


def _mean_estimate(values: np.ndarray) -> Estimate:
    mean = float(values.mean())
    half = Z95 * float(values.std(ddof=1)) / math.sqrt(len(values))
    return Estimate(mean, mean - half, mean + half, len(values))


@dataclass(frozen=True)
class Targeting:
    """Whom to treat. Values are net incremental profit per customer of the experiment's population.

    ``learner``: the learner with the larger cross-fitted Qini area (``qini``). ``curve``: its profit
    curve at ``shares`` with 95% bounds (``curve_low``, ``curve_high``); ``curves``: every learner's.
    ``recommended_share``: where the curve peaks. ``expected``: the honest out-of-sample value of
    choosing the learner and the share without the customers it is measured on (see the module doc),
    which is also its gain over treating no one; ``gain_over_all``: that policy minus treating
    everyone (paired); ``treat_all``: the value of treating everyone.
    ``fold_choices``: the (learner, share) chosen for each fold. Per customer (not in
    :meth:`to_dict`): ``targeted``, whether the recommended policy treats them; ``evaluated``, whether
    the fold-wise policy behind ``expected`` does.
    """

    learner: str
    qini: dict[str, float]
    shares: tuple[float, ...]
    curve: tuple[float, ...]
    curve_low: tuple[float, ...]
    curve_high: tuple[float, ...]
    curves: dict[str, tuple[float, ...]]
    recommended_share: float
    expected: Estimate
    treat_all: Estimate
    gain_over_all: Estimate
    fold_choices: tuple[tuple[str, float], ...]
    targeted: np.ndarray = field(repr=False, compare=False)
    evaluated: np.ndarray = field(repr=False, compare=False)

    @property
    def beats_all_and_none(self) -> bool:
        return self.gain_over_all.low > 0 and self.expected.low > 0

    def to_dict(self) -> dict:
        return {
            "learner": self.learner, "qini_area": self.qini, "shares": list(self.shares),
            "profit_curve": {"value": list(self.curve), "low": list(self.curve_low), "high": list(self.curve_high)},
            "learner_curves": {name: list(values) for name, values in self.curves.items()},
            "recommended_share": self.recommended_share, "expected": self.expected.to_dict(),
            "treat_all": self.treat_all.to_dict(), "gain_over_all": self.gain_over_all.to_dict(),
            "beats_all_and_none": self.beats_all_and_none,
            "fold_choices": [{"learner": name, "share": share} for name, share in self.fold_choices],
        }


def evaluate_targeting(fitted: CrossFit, shares: tuple[float, ...] = SHARES) -> Targeting:
    """Choose the learner and the share to treat, and estimate the policy's value out of sample."""
    psi, fold = fitted.doubly_robust, fitted.fold
    curves = {name: profit_curve(score, psi, fold, shares) for name, score in fitted.scores.items()}
    qini = {name: qini_area(values, shares) for name, (values, _) in curves.items()}
    learner = max(qini, key=qini.get)
    values, errors = curves[learner]
    recommended = shares[int(np.argmax(values))]

    policy, choices = np.zeros(len(psi), bool), []
    for k in np.unique(fold):
        rest, here = fold != k, fold == k
        rest_curves = {name: profit_curve(score[rest], psi[rest], fold[rest], shares)[0]
                       for name, score in fitted.scores.items()}
        chosen = max(rest_curves, key=lambda name: qini_area(rest_curves[name], shares))
        share = shares[int(np.argmax(rest_curves[chosen]))]
        policy[here] = top_share(fitted.scores[chosen][here], fold[here], share)
        choices.append((chosen, share))
    return Targeting(
        learner=learner, qini=qini, shares=tuple(shares), curve=tuple(values),
        curve_low=tuple(values - Z95 * errors), curve_high=tuple(values + Z95 * errors),
        curves={name: tuple(v) for name, (v, _) in curves.items()}, recommended_share=recommended,
        expected=_mean_estimate(psi * policy), treat_all=_mean_estimate(psi),
        gain_over_all=_mean_estimate(psi * policy - psi),
        fold_choices=tuple(choices), targeted=top_share(fitted.scores[learner], fold, recommended),
        evaluated=policy)
