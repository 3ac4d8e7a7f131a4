"""The special functions behind the models, against mpmath at high precision."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from scipy.special import hyp2f1

from custfocus.value import special
from custfocus.value.special import alive_expected_purchases, pareto_nbd_log_integral

mp.mp.dps = 60


def _alive_ref(A, a, n, kappa):
    """c/(a-1) [1 - (1-z)^A 2F1(A, n; c; z)], c = a+n-1, z = kappa/(1+kappa) (FHL 2005 eq. 10
    without P(alive)), at 60 digits: the cancellations near a = 1 cost mpmath nothing."""
    A, a, n, kappa = (mp.mpf(float(v)) for v in (A, a, n, kappa))
    c = a + n - 1
    if abs(c) < 1e-12:  # 2F1 has a pole at c = 0: use E_p[(1 - (1 + kappa p)^-A) / p]
        f = lambda p: p ** (a - 2) * (1 - p) ** (n - 1) * (1 - (1 + kappa * p) ** (-A))  # noqa: E731
        return mp.quad(f, [0, 1 / (1 + kappa), 0.5, 1]) / mp.beta(a, n)
    z = kappa / (1 + kappa)
    return c / (a - 1) * (1 - (1 - z) ** A * mp.hyp2f1(A, n, c, z))


# (A = r + x, a, n = b + x, kappa = t / (alpha + T)): CDNOW-like values, a near 1, c <= 0
# (no repeat purchases and a + b < 1), z close to 1 (long horizons), frequencies in the thousands.
ALIVE_CASES = [
    (0.243, 0.793, 2.426, 39 / 43.3),
    (2.243, 0.793, 4.426, 39 / 43.3),
    (29.243, 0.793, 31.426, 1.0),
    (0.243, 1.0 + 1e-9, 2.426, 1.0),
    (0.243, 1.0 - 1e-7, 2.426, 50.0),
    (0.3, 0.2, 0.5, 3.0),  # c = a + n - 1 = -0.3
    (0.3, 0.4, 0.6, 3.0),  # c = 0
    (0.05, 0.05, 0.02, 1e4),
    (0.243, 0.793, 2.426, 1e7),
    (1.5, 3.0, 1.2, 1e5),
    (5000.243, 0.793, 5002.426, 1.0),
    (5000.243, 7.0, 5002.426, 1e6),
    (563.0, 1.74, 0.53, 2.9e4),  # A >> n: the series cancels, quadrature takes over
    (0.08, 18.2, 1826.0, 8.5),  # concentrated beta posterior
    (1000.2, 0.02, 1000.5, 1e-6),
]


@pytest.mark.parametrize("A,a,n,kappa", ALIVE_CASES)
def test_alive_expectation_matches_mpmath(A, a, n, kappa):
    got = alive_expected_purchases(A, a, n, kappa)
    ref = float(_alive_ref(A, a, n, kappa))
    assert np.isfinite(got)
    assert got == pytest.approx(ref, rel=1e-10)


def test_alive_expectation_random_extremes_both_paths():
    rng = np.random.default_rng(7)
    k = 40
    A = np.exp(rng.uniform(np.log(0.01), np.log(3000), k))
    a = np.exp(rng.uniform(np.log(0.02), np.log(20), k))
    n = np.exp(rng.uniform(np.log(0.01), np.log(3000), k))
    kappa = np.exp(rng.uniform(np.log(1e-4), np.log(1e8), k))
    ref = np.array([float(_alive_ref(*c)) for c in zip(A, a, n, kappa)])
    np.testing.assert_allclose(alive_expected_purchases(A, a, n, kappa), ref, rtol=1e-10)
    # the quadrature alone is right everywhere too
    np.testing.assert_allclose(special._alive_quadrature(A, a, n, kappa), ref, rtol=1e-10)


def test_alive_expectation_where_scipy_hyp2f1_fails():
    # a near 1 makes the closed form 0/0 and a long horizon pushes z to 1: scipy loses it.
    A, a, n, kappa = 0.243, 1.0 + 1e-12, 2.426, 1e6
    c = a + n - 1
    z = kappa / (1 + kappa)
    naive = c / (a - 1) * (1 - (1 - z) ** A * hyp2f1(A, n, c, z))
    ref = float(_alive_ref(A, a, n, kappa))
    assert not np.isclose(naive, ref, rtol=1e-6)  # the textbook formula in double precision
    assert alive_expected_purchases(A, a, n, kappa) == pytest.approx(ref, rel=1e-10)


def test_alive_expectation_broadcasts_and_is_zero_at_t0():
    out = alive_expected_purchases(np.array([0.5, 1.5])[:, None], 0.8, 2.4,
                                   np.array([0.0, 0.1, 1.0]))
    assert out.shape == (2, 3)
    assert np.all(out[:, 0] == 0)
    assert np.all(np.diff(out, axis=1) > 0)


def _log_i_ref(x, t_x, T, r, alpha, s, beta):
    """log of int_{t_x}^T (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau: the closed form through
    2F1 (a difference that needs many digits), or direct quadrature on a tiny interval."""
    x, t_x, T, r, alpha, s, beta = (mp.mpf(v) for v in (x, t_x, T, r, alpha, s, beta))
    if T - t_x < 1e-6 * T:
        return mp.log(mp.quad(lambda u: (alpha + u) ** (-(r + x)) * (beta + u) ** (-(s + 1)),
                              [t_x, T]))
    K = r + x + s
    at = alpha + t_x
    d = (beta - alpha) / at

    def J(w):
        return w**K / K * mp.hyp2f1(s + 1, K, K + 1, -d * w)

    return mp.log(at ** (-K) * (J(1) - J(at / (alpha + T))))


PARETO_CASES = [
    # x, t_x, T, r, alpha, s, beta
    (2, 30.43, 38.86, 0.553, 10.578, 0.606, 11.669),  # CDNOW customer 1
    (0, 0.0, 38.86, 0.553, 10.578, 0.606, 11.669),
    (5000, 37.0, 38.86, 0.553, 10.578, 0.606, 11.669),  # frequency in the thousands
    (800, 38.86 * (1 - 1e-9), 38.86, 0.553, 10.578, 0.606, 11.669),  # recency ~ T
    (3, 10.0, 40.0, 0.8, 5.0, 1.3, 5.0),  # alpha == beta
    (0, 0.0, 0.58, 0.179, 5594.7, 0.212, 0.4365),  # alpha >> beta
    (19, 0.0177, 0.0286, 2.07, 321.2, 0.213, 24.0),
    (2200, 1338.4, 1434.3, 17.8, 0.0129, 0.856, 0.0513),
    (1, 3.04, 4.42, 23.5, 0.0143, 0.0202, 824.8),  # beta >> alpha
    (12, 1.0, 3.0, 0.5, 2.0, 25.0, 0.05),  # large s
]


@pytest.mark.parametrize("case", PARETO_CASES)
def test_pareto_integral_matches_mpmath(case):
    x, t_x, T, *p = case
    got, grad = pareto_nbd_log_integral([x], [t_x], [T], *p)
    ref = _log_i_ref(*case)
    assert np.isfinite(got[0])
    assert got[0] == pytest.approx(float(ref), rel=1e-12, abs=1e-12)
    # gradient against mpmath's numerical derivative of the reference
    for j in range(4):
        def f(v, j=j):
            q = list(p)
            q[j] = v
            return _log_i_ref(x, t_x, T, *q)
        assert grad[0, j] == pytest.approx(float(mp.diff(f, mp.mpf(p[j]))), rel=1e-8, abs=1e-10)


def test_pareto_integral_zero_when_recency_equals_t():
    log_i, grad = pareto_nbd_log_integral([3, 0], [20.0, 5.0], [20.0, 5.0], 0.5, 10, 0.6, 11)
    assert np.all(log_i == -np.inf)
    assert np.all(grad == 0)
