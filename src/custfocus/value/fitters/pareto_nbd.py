"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), likelihood as in Fader & Hardie
(2005), "A note on deriving the Pareto/NBD model and related expressions"."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma, expit, gammaln

from custfocus.value.fitters.mle import TransactionModel, _wsum
from custfocus.value.special import pareto_nbd_log_integral


class ParetoNBD(TransactionModel):
    """Pareto/NBD model: purchases at rate lambda ~ Gamma(r, alpha) while alive, exponential
    lifetime with rate mu ~ Gamma(s, beta).

    Likelihood (Fader & Hardie 2005, "A note on deriving the Pareto/NBD model"), per customer:

        L = G(r+x) alpha^r beta^s / G(r) * [(alpha+T)^-(r+x) (beta+T)^-s + s I],
        I = int_{t_x}^T (alpha+tau)^-(r+x) (beta+tau)^-(s+1) d tau,

    evaluated in log space with ``I`` from :func:`pareto_nbd_log_integral` (no difference of
    hypergeometric functions: no cancellation as recency -> T, no overflow for frequencies in the
    thousands, the same code for alpha < beta, alpha > beta and alpha == beta).
    """

    _param_names = ("r", "alpha", "s", "beta")
    _limits = ((("r", "alpha"), "every customer seems to buy at the same rate"),
               (("s", "beta"), "every customer seems to drop out at the same rate"))
    _analytic_hessian = False

    def _prepare(self, x, t_x, T, weights):
        d, _ = self._count_data(x, T, weights)
        d.x, d.t_x, d.T, d.w = x, t_x, T, weights
        return d

    def _default_start(self, data) -> np.ndarray:
        rate = max(data.sum_x / data.sum_T, 1e-6)
        mean_T = data.sum_T / data.total_weight
        return np.array([1.0, 1.0 / rate, 1.0, mean_T])

    def _row_terms(self, theta, d, gradient: bool):
        r, alpha, s, beta = theta
        m = r + d.x
        LaT = np.log(alpha + d.T)
        LbT = np.log(beta + d.T)
        p1 = -m * LaT - s * LbT
        log_i, gi = pareto_nbd_log_integral(d.x, d.t_x, d.T, r, alpha, s, beta, gradient)
        p2 = math.log(s) + log_i
        ll_rows = np.logaddexp(p1, p2)
        if not gradient:
            return ll_rows, None
        w1 = np.exp(p1 - ll_rows)  # share of the "alive at T" term
        w2 = np.exp(p2 - ll_rows)
        g = np.empty((d.x.size, 4))
        g[:, 0] = -w1 * LaT + w2 * gi[:, 0]
        g[:, 1] = -w1 * m / (alpha + d.T) + w2 * gi[:, 1]
        g[:, 2] = -w1 * LbT + w2 * (1.0 / s + gi[:, 2])
        g[:, 3] = -w1 * s / (beta + d.T) + w2 * gi[:, 3]
        return ll_rows, g

    def _loglik(self, theta, d, order):
        r, alpha, s, beta = theta
        X, Wx, W = d.ux, d.wx, d.total_weight
        ll_rows, g_rows = self._row_terms(theta, d, order >= 1)
        ll = Wx @ gammaln(r + X) + W * (-gammaln(r) + r * math.log(alpha) + s * math.log(beta))
        ll += _wsum(d.w, ll_rows)
        if order == 0:
            return ll, None, None
        g = np.einsum("i,ij->j", d.w, g_rows)
        g[0] += Wx @ digamma(r + X) + W * (math.log(alpha) - digamma(r))
        g[1] += W * r / alpha
        g[2] += W * math.log(beta)
        g[3] += W * s / beta
        if order == 1:
            return ll, g, None
        return ll, g, self._gradient_difference_hessian(theta, d)

    # -- predictions ---------------------------------------------------------------------------
    def _log_terms(self, x, t_x, T):
        r, alpha, s, beta = self._theta()
        shape = x.shape
        x, t_x, T = x.ravel(), t_x.ravel(), T.ravel()
        p1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        log_i, _ = pareto_nbd_log_integral(x, t_x, T, r, alpha, s, beta, gradient=False)
        p2 = math.log(s) + log_i
        return p1.reshape(shape), p2.reshape(shape)

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive at T | history) = share of the first term of the likelihood."""
        x, t_x, T = self._predict_inputs(frequency, recency, T)
        p1, p2 = self._log_terms(x, t_x, T)
        return expit(p1 - p2)

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[purchases in (T, T+t] | history] = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1))
        [1 - ((beta+T)/(beta+T+t))^(s-1)], evaluated without division by s - 1."""
        x, t_x, T = self._predict_inputs(frequency, recency, T)
        r, alpha, s, beta = self._theta()
        alive = self.probability_alive(x, t_x, T)
        return alive * _pnbd_alive_expectation(r + x, alpha + T, s, beta + T, np.asarray(t, float))

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]."""
        r, alpha, s, beta = self._theta()
        return _pnbd_alive_expectation(r, alpha, s, beta, np.asarray(t, dtype=float))

    def probability_of_n_purchases(self, t, n) -> np.ndarray:
        """P(X(t) = n) for a customer drawn at random at the first purchase (see
        :func:`_count_pmf`)."""
        return _count_pmf(t, n, *self._theta())

    def conditional_probability_of_n_purchases(self, t, n, frequency, recency, T) -> np.ndarray:
        """P(n purchases in (T, T + t] | history). A customer alive at T has the posterior
        purchase rate Gamma(r + x, alpha + T) and, the lifetime being memoryless, the posterior
        dropout rate Gamma(s, beta + T): from T on, a new Pareto/NBD customer with those
        parameters. A customer who has dropped out makes no purchase."""
        x, t_x, T = self._predict_inputs(frequency, recency, T)
        r, alpha, s, beta = self._theta()
        alive = self.probability_alive(x, t_x, T)
        n = np.asarray(n, dtype=float)
        return alive * _count_pmf(t, n, r + x, alpha + T, s, beta + T) + (1.0 - alive) * (n == 0)


def _count_pmf(t, n, r, alpha, s, beta) -> np.ndarray:
    """P(X(t) = n) for a Pareto/NBD customer at the first purchase (all arguments broadcast).

    Either the customer is alive through (0, t], or dies at tau < t; lambda and mu are
    independent, so each case is the NBD count (lambda ~ Gamma(r, alpha)) times the chance of
    that lifetime (mu ~ Gamma(s, beta)): P = NBD(n; t) (beta/(beta+t))^s
    + int_0^t s beta^s / (beta+tau)^(s+1) NBD(n; tau) dtau. The smooth one-dimensional
    integral is done by adaptive quadrature for all elements at once.
    """
    t, n, r, alpha, s, beta = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                                    for v in (t, n, r, alpha, s, beta)))
    alive = _nbd_pmf(n, t, r, alpha) * np.exp(s * (np.log(beta) - np.log(beta + t)))

    def died_at(u):  # tau = u t, so every element integrates over [0, 1]
        tau = u * t
        density = s * np.exp(s * np.log(beta) - (s + 1.0) * np.log(beta + tau))
        return t * density * _nbd_pmf(n, tau, r, alpha)

    # Imported here, not with the module: only this rarely used prediction needs it.
    from scipy import integrate

    died, _ = integrate.quad_vec(died_at, 0.0, 1.0, epsabs=1e-14, epsrel=1e-10)
    return alive + died


def _nbd_pmf(n, t, r, alpha):
    """P(N(t) = n) when N is Poisson(lambda t) and lambda ~ Gamma(shape r, rate alpha)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_share = np.where(n > 0, n * (np.log(t) - np.log(alpha + t)), 0.0)
        return np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1.0)
                      + r * (np.log(alpha) - np.log(alpha + t)) + log_share)


def _pnbd_alive_expectation(shape_r, rate_a, s, rate_b, t):
    """(shape_r / rate_a) * rate_b/(s-1) * [1 - (rate_b/(rate_b+t))^(s-1)], stable at s = 1."""
    L = np.log1p(t / rate_b)
    y = -(s - 1.0) * L
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.where(np.abs(y) < 1e-8, 1.0 + 0.5 * y, np.expm1(y) / np.where(y == 0, 1, y))
    return shape_r / rate_a * rate_b * L * phi
