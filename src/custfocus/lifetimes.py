"""lifetimes' fitters under their own names, on custfocus's models: migrate by changing one import.

lifetimes (Davidson-Pilon, archived) is the library most customer-base analyses were written with.
Each class here is the custfocus model of the same family (:mod:`custfocus.value.fitters`: exact
maximum likelihood, analytic gradients, standard errors, convergence checks) with lifetimes'
constructor argument (``penalizer_coef``), ``fit`` signature and method names::

    from custfocus.lifetimes import BetaGeoFitter      # was: from lifetimes import BetaGeoFitter

    bgf = BetaGeoFitter(penalizer_coef=0.0).fit(data["frequency"], data["recency"], data["T"])
    bgf.summary                                        # coef, se(coef), lower/upper 95% bound
    bgf.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86)

======================================  ===========================================
lifetimes                               custfocus model
======================================  ===========================================
``BetaGeoFitter``                       :class:`~custfocus.value.fitters.BGNBD`
``ModifiedBetaGeoFitter``               :class:`~custfocus.value.fitters.MBGNBD`
``ParetoNBDFitter``                     :class:`~custfocus.value.fitters.ParetoNBD`
``BetaGeoBetaBinomFitter``              :class:`~custfocus.value.fitters.BGBB`
``GammaGammaFitter``                    :class:`~custfocus.value.fitters.GammaGamma`
======================================  ===========================================

What differs from lifetimes, on purpose:

- A fit that does not converge warns (:class:`~custfocus.value.fitters.ConvergenceWarning`) and
  sets ``converged_ = False`` with ``convergence_problem_`` saying why, instead of raising.
- ``fit`` accepts lifetimes' ``verbose``, ``tol``, ``iterative_fitting`` and other optimiser
  keywords and ignores them: the optimiser here stops on the gradient (tolerance 1e-10 per
  customer) and needs no restarts. ``initial_params`` are, as in lifetimes, log-parameters.
- Saving and loading (``save_model``/``load_model``, which used dill) are not offered: the
  fitters are plain scikit-learn estimators, so :mod:`pickle` or joblib store them.
- Plotting (``lifetimes.plotting``) and the data utilities (``lifetimes.utils``) are not here;
  :func:`custfocus.value.customer_summary` builds the (frequency, recency, T) table in the
  engine.

As in lifetimes, ``summary`` is a property, ``confidence_intervals_`` are ``params_ +- 1.96
standard_errors_`` and ``data`` holds the fitted data (index ``index`` when given).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from custfocus.value.fitters import BGBB, BGNBD, MBGNBD, GammaGamma, ParetoNBD
from custfocus.value.fitters import customer_lifetime_value as _lifetime_value
from custfocus.value.fitters.mle import ConvergenceWarning

__all__ = [
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
]

# lifetimes' customer_lifetime_value: model time units per month of each ``freq`` of the data.
_UNITS_PER_MONTH = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 30.0 * 24}


class _LifetimesNames:
    """lifetimes' constructor, attributes and summary over a custfocus model (first in the MRO)."""

    # The custfocus settings lifetimes does not expose keep their defaults.
    initial_params = None
    tol = 1e-10
    max_iter = 500
    merge = "auto"
    subsample = 50_000
    random_state = 0

    def __init__(self, penalizer_coef: float = 0.0):
        self.penalizer_coef = penalizer_coef

    @property
    def penalizer(self) -> float:
        return self.penalizer_coef

    @property
    def variance_matrix_(self) -> pd.DataFrame:
        return self.covariance_

    @property
    def confidence_intervals_(self) -> pd.DataFrame:
        return pd.DataFrame({"lower 95% bound": self.params_ - 1.96 * self.standard_errors_,
                             "upper 95% bound": self.params_ + 1.96 * self.standard_errors_})

    @property
    def summary(self) -> pd.DataFrame:
        """lifetimes' summary: ``coef``, ``se(coef)``, ``lower 95% bound``, ``upper 95% bound``."""
        return pd.DataFrame({"coef": self.params_, "se(coef)": self.standard_errors_}).join(
            self.confidence_intervals_)

    def _unload_params(self, *names):
        if not hasattr(self, "params_"):
            raise ValueError("Model has not been fit yet. Please call the .fit method first.")
        return [self.params_[name] for name in names]

    def _keep_data(self, columns: dict, weights, index) -> None:
        first = next(iter(columns.values()))
        size = len(np.atleast_1d(np.asarray(first)))
        weights = np.ones(size, dtype=np.int64) if weights is None else np.asarray(weights)
        frame = {name: np.asarray(values) for name, values in columns.items()}
        self.data = pd.DataFrame(frame | {"weights": weights}, index=index)

    @staticmethod
    def _start(initial_params):
        """lifetimes' initial_params are log-parameters."""
        return None if initial_params is None else np.exp(np.asarray(initial_params, dtype=float))


class _LifetimesTransactionModel(_LifetimesNames):
    """lifetimes' names for the (frequency, recency, T) models."""

    def fit(self, frequency, recency, T, weights=None, initial_params=None, verbose=False,
            tol=None, index=None, **optimiser_options):
        """Fit on one row per customer (or per group, with ``weights``); lifetimes' optimiser
        keywords are accepted and ignored (see the module doc)."""
        super().fit(frequency, recency, T, weights, initial_params=self._start(initial_params))
        self._keep_data({"frequency": frequency, "recency": recency, "T": T}, weights, index)
        return self

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T):
        return self.expected_purchases(t, frequency, recency, T)

    predict = conditional_expected_number_of_purchases_up_to_time

    def conditional_probability_alive(self, frequency, recency, T):
        return self.probability_alive(frequency, recency, T)

    def conditional_probability_alive_matrix(self, max_frequency=None, max_recency=None):
        """P(alive) of every (recency, frequency) at T = the largest recency (lifetimes' layout:
        rows are recency, columns frequency)."""
        max_frequency = max_frequency or int(self.data["frequency"].max())
        max_recency = max_recency or int(self.data["T"].max())
        recency, frequency = np.mgrid[0:max_recency + 1, 0:max_frequency + 1].astype(float)
        return self.conditional_probability_alive(frequency, recency, float(max_recency))

    def expected_number_of_purchases_up_to_time(self, t):
        return self.expected_purchases_new(t)

    def probability_of_n_purchases_up_to_time(self, t, n):
        return self.probability_of_n_purchases(t, n)


class BetaGeoFitter(_LifetimesTransactionModel, BGNBD):
    """lifetimes' ``BetaGeoFitter``: the BG/NBD model (parameters r, alpha, a, b)."""


class ModifiedBetaGeoFitter(_LifetimesTransactionModel, MBGNBD):
    """lifetimes' ``ModifiedBetaGeoFitter``: the MBG/NBD model (parameters r, alpha, a, b)."""


class ParetoNBDFitter(_LifetimesTransactionModel, ParetoNBD):
    """lifetimes' ``ParetoNBDFitter``: the Pareto/NBD model (parameters r, alpha, s, beta)."""

    def conditional_probability_of_n_purchases_up_to_time(self, n, t, frequency, recency, T):
        return self.conditional_probability_of_n_purchases(t, n, frequency, recency, T)


class BetaGeoBetaBinomFitter(_LifetimesNames, BGBB):
    """lifetimes' ``BetaGeoBetaBinomFitter``: the discrete-time BG/BB model (parameters alpha,
    beta, gamma, delta) on (frequency, recency, n_periods)."""

    def fit(self, frequency, recency, n_periods, weights=None, initial_params=None,
            verbose=False, tol=None, index=None, **optimiser_options):
        super().fit(frequency, recency, n_periods, weights,
                    initial_params=self._start(initial_params))
        self._keep_data({"frequency": frequency, "recency": recency, "n_periods": n_periods},
                        weights, index)
        return self

    def conditional_expected_number_of_purchases_up_to_time(self, m_periods_in_future, frequency,
                                                             recency, n_periods):
        return self.expected_purchases(m_periods_in_future, frequency, recency, n_periods)

    def conditional_probability_alive(self, m_periods_in_future, frequency, recency, n_periods):
        return self.probability_alive(frequency, recency, n_periods, m_periods_in_future)

    def expected_number_of_transactions_in_first_n_periods(self, n) -> pd.DataFrame:
        """Expected customers with 0, 1, ..., n transactions in their first n opportunities
        (FHS 2010, eq. 7, times the customers fitted): column ``model``, indexed by x."""
        x = np.arange(int(n) + 1)
        expected = self.probability_of_n_purchases(n, x) * self.data["weights"].sum()
        return pd.DataFrame({"model": expected}, index=pd.Index(x, name="frequency"))


class GammaGammaFitter(_LifetimesNames, GammaGamma):
    """lifetimes' ``GammaGammaFitter``: the Gamma-Gamma spend model (parameters p, q, v)."""

    _param_names = ("p", "q", "v")

    def fit(self, frequency, monetary_value, weights=None, initial_params=None, verbose=False,
            tol=None, index=None, q_constraint=False, **optimiser_options):
        """Fit on repeat buyers' frequencies and mean spends. With ``q_constraint`` a maximum at
        q <= 1 (an infinite mean spend) warns instead of passing silently."""
        super().fit(frequency, monetary_value, weights, initial_params=self._start(initial_params))
        self._keep_data({"frequency": frequency, "monetary_value": monetary_value}, weights, index)
        if q_constraint and self.params_["q"] <= 1:
            warnings.warn("GammaGammaFitter: the likelihood's maximum has q <= 1, so the mean spend "
                          "is infinite", ConvergenceWarning, stacklevel=2)
        return self

    def conditional_expected_average_profit(self, frequency=None, monetary_value=None):
        """E[spend per transaction | x, m] for each customer (the fitted data by default)."""
        if frequency is None:
            frequency, monetary_value = self.data["frequency"], self.data["monetary_value"]
        expected = self.expected_spend(frequency, monetary_value)
        if isinstance(frequency, pd.Series):
            return pd.Series(expected, index=frequency.index)
        return expected

    def customer_lifetime_value(self, transaction_prediction_model, frequency, recency, T,
                                monetary_value, time=12, discount_rate=0.01, freq="D"):
        """Discounted value of the next ``time`` months (lifetimes' convention: ``freq`` is the
        time unit of recency and T, a month is 30 days, 4.345 weeks or 720 hours, and
        ``discount_rate`` is monthly)."""
        values = _lifetime_value(transaction_prediction_model, self, frequency, recency, T,
                                 monetary_value, horizon=time, discount_rate=discount_rate,
                                 time_unit_per_period=_UNITS_PER_MONTH[freq])
        index = frequency.index if isinstance(frequency, pd.Series) else None
        return pd.Series(values, index=index, name="clv")
