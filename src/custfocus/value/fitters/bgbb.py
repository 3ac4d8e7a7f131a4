"""The beta-geometric/beta-Bernoulli (BG/BB) model of discrete transaction opportunities (Fader,
Hardie & Shang 2010, "Customer-base analysis in a discrete-time noncontractual setting",
Marketing Science 29(6)): yearly donations, annual events, renewals that can happen once a period.

Story: at each of the ``n`` opportunities after the first transaction a customer who is still
"alive" transacts with probability ``p``, and before each opportunity drops out for good with
probability ``theta``; across customers ``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma,
delta)``. Data per customer: ``frequency`` x (repeat transactions), ``recency`` t_x (the
opportunity of the last one, 0 without repeats) and ``n_periods`` n, whole numbers with
``0 <= x <= t_x <= n`` (and ``t_x = 0`` when ``x = 0``).

Exact likelihood (FHS 2010, eq. 5), with B the beta function:

    L = B(alpha+x, beta+n-x)/B(alpha, beta) * B(gamma, delta+n)/B(gamma, delta)
        + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha, beta)
                              * B(gamma+1, delta+t_x+i)/B(gamma, delta)

(alive through all n opportunities, or dropped out just after opportunity t_x + i), evaluated as
a log-sum-exp of its terms. The gradient is analytic (digamma functions of each term, weighted by
the term's share of L); the Hessian comes from differences of the gradient.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln

from custfocus.value.fitters.mle import (
    MaximumLikelihoodModel,
    _checked_columns,
    _Data,
    _weights_column,
)


class BGBB(MaximumLikelihoodModel):
    """BG/BB model: parameters ``alpha, beta`` (transaction probability ~ Beta) and ``gamma,
    delta`` (dropout probability ~ Beta). Fit on (frequency, recency, n_periods[, weights]).

    >>> m = BGBB().fit(frequency, recency, n_periods, weights)
    >>> m.probability_alive(frequency, recency, n_periods)   # alive at the next opportunity
    >>> m.expected_purchases(5, frequency, recency, n_periods)
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _limits = ((("alpha", "beta"), "every customer seems to transact with the same probability"),
               (("gamma", "delta"), "every customer seems to have the same chance of dropping out"))
    _analytic_hessian = False

    def fit(self, frequency, recency, n_periods, weights=None, initial_params=None):
        """Fit on one row per customer, or per group of equal customers with ``weights``;
        ``initial_params`` overrides the setting of the same name for this fit."""
        x, t_x, n, w = _check_opportunities(frequency, recency, n_periods, weights)
        return self._fit_arrays([x, t_x, n], w, initial_params)

    def fit_frame(self, frame):
        """Fit on a DataFrame with columns ``frequency``, ``recency``, ``n_periods`` (or
        ``periods``) and optionally ``weight`` (or ``weights``/``count``)."""
        n = frame["n_periods"] if "n_periods" in frame.columns else frame["periods"]
        return self.fit(frame["frequency"], frame["recency"], n, _weights_column(frame))

    def log_likelihood(self, frequency, recency, n_periods, weights=None, params=None) -> float:
        """Weighted log-likelihood of data at the fitted (or given) parameters."""
        x, t_x, n, w = _check_opportunities(frequency, recency, n_periods, weights)
        theta = self._theta() if params is None else np.array(
            [params[k] for k in self._param_names], dtype=float)
        return float(self._loglik(theta, self._prepare(x, t_x, n, weights=w), 0)[0])

    # -- likelihood ----------------------------------------------------------------------------
    def _prepare(self, x, t_x, n, weights):
        d = _Data()
        d.x, d.t_x, d.n, d.w = x, t_x, n, weights
        d.total_weight = float(weights.sum())
        d.sum_x, d.sum_n = float(weights @ x), float(weights @ n)
        # Opportunities after the last transaction at which the customer may have dropped out.
        gaps = (n - t_x).astype(np.int64)
        d.steps = np.arange(gaps.max() if gaps.size else 0)[None, :]
        d.valid = d.steps < gaps[:, None]
        d.after = t_x[:, None] + d.steps  # t_x + i
        return d

    def _default_start(self, d) -> np.ndarray:
        rate = min(max(d.sum_x / max(d.sum_n, 1.0), 0.05), 0.95)  # transactions per opportunity
        return np.array([rate, 1.0 - rate, 1.0, 1.0])

    @staticmethod
    def _likelihood_rows(theta, d):
        """Per row, the log of the likelihood's sum of terms (before dividing by B(alpha, beta)
        B(gamma, delta)) and each term's share of it: (log_sum, alive share, dropped shares)."""
        alpha, beta, gamma, delta = theta
        xc = d.x[:, None]
        alive = betaln(alpha + d.x, beta + d.n - d.x) + betaln(gamma, delta + d.n)
        dropped = np.where(d.valid, betaln(alpha + xc, beta + d.after - xc)
                           + betaln(gamma + 1.0, delta + d.after), -np.inf)
        top = np.maximum(alive, dropped.max(axis=1, initial=-np.inf))
        w_alive = np.exp(alive - top)
        w_dropped = np.exp(dropped - top[:, None])
        total = w_alive + w_dropped.sum(axis=1)
        return top + np.log(total), w_alive / total, w_dropped / total[:, None]

    def _loglik(self, theta, d, order):
        alpha, beta, gamma, delta = theta
        x, n, after = d.x, d.n, d.after
        xc = x[:, None]
        log_sum, s_alive, s_dropped = self._likelihood_rows(theta, d)
        constant = betaln(alpha, beta) + betaln(gamma, delta)
        ll = float(d.w @ log_sum) - d.total_weight * constant
        if order == 0:
            return ll, None, None

        def mix(at_alive, at_dropped):
            """Each row's term derivatives averaged with the terms' shares of the likelihood."""
            return s_alive * at_alive + (s_dropped * at_dropped).sum(axis=1)

        ab_n = mix(digamma(alpha + beta + n), digamma(alpha + beta + after))
        g = np.array([
            d.w @ (digamma(alpha + x) - ab_n),
            d.w @ (mix(digamma(beta + n - x), digamma(beta + after - xc)) - ab_n),
            d.w @ mix(digamma(gamma) - digamma(gamma + delta + n),
                      digamma(gamma + 1.0) - digamma(gamma + delta + 1.0 + after)),
            d.w @ mix(digamma(delta + n) - digamma(gamma + delta + n),
                      digamma(delta + after) - digamma(gamma + delta + 1.0 + after)),
        ])
        g -= d.total_weight * np.array([
            digamma(alpha) - digamma(alpha + beta), digamma(beta) - digamma(alpha + beta),
            digamma(gamma) - digamma(gamma + delta), digamma(delta) - digamma(gamma + delta)])
        if order == 1:
            return ll, g, None
        return ll, g, self._gradient_difference_hessian(theta, d)

    # -- predictions ---------------------------------------------------------------------------
    def _row_log_likelihood(self, x, t_x, n) -> np.ndarray:
        shape = x.shape
        d = self._prepare(x.ravel(), t_x.ravel(), n.ravel(), weights=np.ones(x.size))
        theta = self._theta()
        log_sum, _, _ = self._likelihood_rows(theta, d)
        alpha, beta, gamma, delta = theta
        return (log_sum - betaln(alpha, beta) - betaln(gamma, delta)).reshape(shape)

    def _inputs(self, frequency, recency, n_periods):
        x, t_x, n = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                          for v in (frequency, recency, n_periods)))
        return x, np.where(x > 0, t_x, 0.0), n

    def _log_alive_through(self, x, n, periods_ahead) -> np.ndarray:
        """log P(history and alive at opportunity n + periods_ahead), unnormalised by L."""
        alpha, beta, gamma, delta = self._theta()
        return (betaln(alpha + x, beta + n - x) - betaln(alpha, beta)
                + betaln(gamma, delta + n + periods_ahead) - betaln(gamma, delta))

    def probability_alive(self, frequency, recency, n_periods, periods_ahead=1) -> np.ndarray:
        """P(alive at opportunity n + ``periods_ahead`` | history) (FHS 2010, eq. 11 for 1)."""
        x, t_x, n = self._inputs(frequency, recency, n_periods)
        log_l = self._row_log_likelihood(x, t_x, n)
        return np.exp(self._log_alive_through(x, n, np.asarray(periods_ahead, float)) - log_l)

    def expected_purchases(self, t, frequency, recency, n_periods) -> np.ndarray:
        """E[transactions in the next ``t`` opportunities | history] (FHS 2010, eq. 13):
        ``P(alive at n+1)``-type terms summed in closed form,

            B(alpha+x+1, beta+n-x)/B(alpha, beta) / L * delta/(gamma-1) * G(gamma+delta)/G(1+delta)
            * [G(1+delta+n)/G(gamma+delta+n) - G(1+delta+n+t)/G(gamma+delta+n+t)].
        """
        x, t_x, n = self._inputs(frequency, recency, n_periods)
        alpha, beta, gamma, delta = self._theta()
        log_l = self._row_log_likelihood(x, t_x, n)
        t = np.asarray(t, dtype=float)
        share = np.exp(betaln(alpha + x + 1.0, beta + n - x) - betaln(alpha, beta) - log_l
                       + gammaln(gamma + delta) - gammaln(1.0 + delta)
                       + _log_gamma_ratio(n, gamma, delta))
        return share * delta * _one_minus_ratio_over(n, t, gamma, delta)

    def expected_purchases_new(self, n_periods) -> np.ndarray:
        """E[X(n)]: transactions in the first n opportunities of a new customer (FHS 2010,
        eq. 8): alpha/(alpha+beta) * delta/(gamma-1) * [1 - G(gamma+delta) G(1+delta+n) /
        (G(gamma+delta+n) G(1+delta))]."""
        alpha, beta, gamma, delta = self._theta()
        n = np.asarray(n_periods, dtype=float)
        start = np.zeros_like(n)
        return (alpha / (alpha + beta) * delta * np.exp(
            gammaln(gamma + delta) - gammaln(1.0 + delta) + _log_gamma_ratio(start, gamma, delta))
            * _one_minus_ratio_over(start, n, gamma, delta))

    def probability_of_n_purchases(self, n_periods, n) -> np.ndarray:
        """P(X(n_periods) = n) for a new customer (FHS 2010, eq. 7): alive throughout, or
        dropped out after opportunity i = n, ..., n_periods - 1."""
        alpha, beta, gamma, delta = self._theta()
        periods, x = np.broadcast_arrays(np.asarray(n_periods, dtype=float),
                                         np.asarray(n, dtype=float))
        shape = periods.shape
        periods, x = periods.ravel(), x.ravel()
        log_b = betaln(alpha, beta) + betaln(gamma, delta)
        alive = (_log_choose(periods, x) + betaln(alpha + x, beta + periods - x)
                 + betaln(gamma, delta + periods) - log_b)
        i = np.arange(int(periods.max()) if periods.size else 0)[None, :]
        xc = x[:, None]
        valid = (i >= xc) & (i < periods[:, None])
        with np.errstate(invalid="ignore"):
            dropped = np.where(valid, _log_choose(i, xc) + betaln(alpha + xc, beta + i - xc)
                               + betaln(gamma + 1.0, delta + i) - log_b, -np.inf)
        out = np.exp(alive) + np.exp(dropped).sum(axis=1)
        return np.where((x >= 0) & (x <= periods), out, 0.0).reshape(shape)


def _log_choose(n, k):
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def _log_gamma_ratio(n, gamma, delta):
    """log G(1+delta+n) / G(gamma+delta+n)."""
    return gammaln(1.0 + delta + n) - gammaln(gamma + delta + n)


def _one_minus_ratio_over(n, t, gamma, delta):
    """[1 - G(1+delta+n+t) G(gamma+delta+n) / (G(gamma+delta+n+t) G(1+delta+n))] / (gamma - 1),
    continuous through gamma = 1 (there, its limit: a difference of digamma functions)."""
    change = _log_gamma_ratio(n + t, gamma, delta) - _log_gamma_ratio(n, gamma, delta)
    if abs(gamma - 1.0) > 1e-8:
        return -np.expm1(change) / (gamma - 1.0)
    # d/d gamma of the change at gamma = 1: -(digamma(1+delta+n+t) - digamma(1+delta+n))
    return digamma(1.0 + delta + n + t) - digamma(1.0 + delta + n)


def _check_opportunities(frequency, recency, n_periods, weights=None):
    (x, t_x, n), w = _checked_columns(weights, frequency=frequency, recency=recency,
                                      n_periods=n_periods)
    for name, values in (("frequency", x), ("recency", t_x), ("n_periods", n)):
        if np.any(values != np.round(values)):
            raise ValueError(f"{name} must be whole numbers of opportunities")
    if np.any(x < 0):
        raise ValueError("frequency must be >= 0")
    if np.any(n <= 0):
        raise ValueError("n_periods must be > 0")
    if np.any((x > 0) & ((t_x < x) | (t_x > n))):
        raise ValueError("recency must satisfy frequency <= recency <= n_periods")
    t_x = np.where(x > 0, t_x, 0.0)
    keep = w > 0
    if not keep.any():
        raise ValueError("all weights are zero")
    return x[keep], t_x[keep], n[keep], w[keep]
