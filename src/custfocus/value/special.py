"""Numerically stable special functions for the buy-till-you-die models.

Two quantities break the older libraries:

* the Gaussian hypergeometric term of the BG/NBD (and MBG/NBD) conditional expectation,
  ``c/(a-1) * [1 - (1-z)^A 2F1(A, n; c; z)]`` with ``z = t/(alpha+T+t)``: it cancels
  catastrophically near ``a = 1``, ``scipy.special.hyp2f1`` loses precision or fails as ``z``
  approaches 1 and for large parameters (frequencies in the thousands), and ``c`` may be zero or
  negative for customers without repeat purchases;
* the Pareto/NBD likelihood, usually written as a difference of two 2F1 values, which cancels
  when recency is close to T and overflows for large frequencies.

:func:`alive_expected_purchases` evaluates the first with a series that has no division by
``a - 1`` or ``c`` (a convergence check on every row) and, for the rows where it would converge
slowly (``z`` close to 1), with an integral over the posterior dropout probability computed by
double-exponential quadrature. :func:`pareto_nbd_log_integral` evaluates the Pareto/NBD
integral directly (never as a difference) with the same quadrature, in log space, together with
its gradient.

All functions are vectorised over customers; none loops over them in Python.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, expit

_EPS = np.finfo(float).eps

# ---------------------------------------------------------------------------------------------
# Double-exponential (tanh-sinh) quadrature on [0, 1], nested levels, per-row convergence.
# ---------------------------------------------------------------------------------------------

_U_MAX = 3.75  # v = expit(pi sinh u) reaches ~1e-46 here: the truncation is far below eps.
_H0 = 0.5


def _new_points(level: int) -> tuple[float, np.ndarray]:
    """The step h of ``level`` and the points u = k h it adds (every point at level 0, the odd
    multiples after), so that nested levels reuse the sums of the coarser ones."""
    h = _H0 / 2**level
    m = int(np.floor(_U_MAX / h))
    k = np.arange(-m, m + 1)
    if level > 0:
        k = k[k % 2 != 0]
    return h, k * h


def _de_nodes(level: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes added at ``level`` (all of them at level 0): v, 1 - v and weights (step included)."""
    h, u = _new_points(level)
    s = np.pi * np.sinh(u)
    v = expit(s)
    omv = expit(-s)
    w = h * np.pi * np.cosh(u) * v * omv
    return v, omv, w


_NODES = [_de_nodes(level) for level in range(8)]


def _ss_nodes(level: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """sinh-sinh nodes on the real line: l = sinh(pi/2 sinh u); returns l, dl/du and the step."""
    h, u = _new_points(level)
    inner = 0.5 * np.pi * np.sinh(u)
    ell = np.sinh(inner)
    dl = 0.5 * np.pi * np.cosh(u) * np.cosh(inner)
    return ell, dl, np.full(u.shape, h)


_SS_NODES = [_ss_nodes(level) for level in range(8)]


def integrate01(func, n_rows: int, n_out: int, rtol: float = 1e-12, max_level: int = 7,
                chunk: int = 1 << 15, nodes=None, min_level: int = 1
                ) -> tuple[np.ndarray, np.ndarray]:
    """Integrate ``n_rows`` functions over [0, 1] by nested tanh-sinh quadrature.

    ``func(rows, v, one_minus_v, w)`` returns the weighted sums ``sum_j w_j f_rows(v_j)`` as an
    array of shape ``(len(rows), n_out)``; component 0 decides convergence: a row stops when one
    halving of the step changes it by less than ``rtol`` (relative). Returns the integrals and a
    boolean array telling which rows converged before ``max_level``. ``nodes`` replaces the
    tanh-sinh table on [0, 1] by another nested table (such as the sinh-sinh one on the real
    line); ``min_level`` is the first level at which convergence may be declared.
    """
    table = _NODES if nodes is None else nodes
    out = np.empty((n_rows, n_out))
    converged = np.zeros(n_rows, dtype=bool)
    for start in range(0, n_rows, chunk):
        rows = np.arange(start, min(start + chunk, n_rows))
        v, omv, w = table[0]
        total = func(rows, v, omv, w)
        for level in range(1, max_level + 1):
            v, omv, w = table[level]
            new = 0.5 * total + func(rows, v, omv, w)
            done = np.abs(new[:, 0] - total[:, 0]) <= rtol * np.abs(new[:, 0])
            if level < min_level:
                done[:] = False
            if level == max_level:
                done[:] = True
            else:
                converged[rows[done]] = True
            out[rows[done]] = new[done]
            rows = rows[~done]
            total = new[~done]
            if rows.size == 0:
                break
    return out, converged


def _expm1_ratio(y):
    """expm1(y) / y, equal to 1 at y = 0 (no cancellation for small y)."""
    y = np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.expm1(y) / y
    small = np.abs(y) < 1e-8
    return np.where(small, 1.0 + 0.5 * y, out)


# ---------------------------------------------------------------------------------------------
# BG/NBD and MBG/NBD: expected purchases of a customer known to be alive.
# ---------------------------------------------------------------------------------------------

_SERIES_MAX_TERMS = 600
_SERIES_BLOCK = 8192  # rows summed together: their arrays stay in the processor's cache
_SERIES_CHECK_EVERY = 8  # terms between convergence checks


def alive_expected_purchases(A, a, n, kappa, rtol: float = 1e-14) -> np.ndarray:
    """Expected purchases in the next ``t`` of a customer who is alive now, under the BG/NBD
    story, with posterior purchase rate ``lambda ~ Gamma(A, alpha + T)`` and dropout probability
    ``p ~ Beta(a, n)``; ``kappa = t / (alpha + T)``:

        E = E_p[(1 - (1 + kappa p)^(-A)) / p] = c/(a-1) * [1 - (1-z)^A 2F1(A, n; c; z)],

    ``c = a + n - 1``, ``z = kappa / (1 + kappa)``. This is eq. 10 of Fader, Hardie & Lee (2005)
    without its P(alive) denominator (BG/NBD: ``A = r + x``, ``n = b + x``; MBG/NBD:
    ``n = b + x + 1``; the unconditional E[X(t)] is the case ``x = 0, T = 0``).

    Evaluation (all arguments broadcast):

    * Pfaff-Euler transformation, ``(1-z)^A 2F1(A, n; c; z) = (1-z)^(a-1) 2F1(c-A, a-1; c; z)``,
      and the factor ``a - 1`` of every term of that series taken out, give

          E = c L phi(-(a-1) L) - (1-z)^(a-1) sum_{k>=1} (c-A)_k (a)_(k-1) / ((c+1)_(k-1) k!) z^k,

      ``L = log(1 + kappa)``, ``phi(y) = expm1(y)/y``: no division by ``a - 1`` nor by ``c``,
      so ``a`` near 1 and ``c <= 0`` are harmless. The series is summed until its terms (times
      a bound on the geometric tail) fall below ``rtol`` of the result;
    * rows where it would need more than a few hundred terms (``z`` near 1) are integrated
      instead: the integral over ``p`` is split at 1/2 and each half is mapped so that the
      endpoint powers ``p^(a-1)``, ``(1-p)^(n-1)`` disappear, then tanh-sinh quadrature.
    """
    A, a, n, kappa = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (A, a, n, kappa)))
    shape = A.shape
    A, a, n, kappa = (v.ravel() for v in (A, a, n, kappa))
    out = np.zeros(A.shape)
    pos = kappa > 0
    todo = np.flatnonzero(pos)
    if todo.size:
        vals, ok = _alive_series(A[todo], a[todo], n[todo], kappa[todo], rtol)
        out[todo[ok]] = vals[ok]
        rest = todo[~ok]
        if rest.size:
            out[rest] = _alive_quadrature(A[rest], a[rest], n[rest], kappa[rest])
    return out.reshape(shape)


def _alive_series(A, a, n, kappa, rtol):
    """Series form of :func:`alive_expected_purchases`; returns values and a convergence flag.

    Rows are summed in blocks of :data:`_SERIES_BLOCK` that fit in the processor's cache, in order
    of decreasing ``z`` (slowest first), so that the rows of a block still summing are always a
    prefix of it: the arrays are sliced, never gathered, and convergence is checked every
    :data:`_SERIES_CHECK_EVERY` terms (a converged row that is still in the prefix only adds
    terms below the tolerance)."""
    c = a + n - 1.0
    L = np.log1p(kappa)
    z = kappa / (1.0 + kappa)
    lead = c * L * _expm1_ratio(-(a - 1.0) * L)
    scale = np.exp(-(a - 1.0) * L)  # (1 - z)^(a-1)
    pc = c - A
    # Beyond the parameters the terms fall like k^(a-2-A) z^k: rows that cannot converge within
    # the term budget go to quadrature right away.
    decay = (_SERIES_MAX_TERMS * -np.log(np.maximum(z, 1e-300))
             + np.maximum(A + 2.0 - a, 0.0) * np.log(_SERIES_MAX_TERMS))
    idx = np.flatnonzero(decay > 45.0)
    value = np.full(A.shape, np.nan)
    ok = np.zeros(A.shape, dtype=bool)
    # Slowest first; z in steps of 1/4096 is order enough, and sorting small integers is a
    # radix sort, several times faster than sorting the floats.
    idx = idx[np.argsort(np.round(z[idx] * -4096.0).astype(np.int16), kind="stable")]
    for start in range(0, idx.size, _SERIES_BLOCK):
        rows = idx[start:start + _SERIES_BLOCK]
        value[rows], ok[rows] = _alive_series_block(pc[rows], a[rows], c[rows], z[rows],
                                                    lead[rows], scale[rows], rtol)
    return value, ok


def _alive_series_block(pc, a, c, z, lead, scale, rtol):
    """The series of :func:`_alive_series` on rows sorted by decreasing ``z``."""
    term = pc * z
    total = term.copy()
    biggest = np.abs(term)
    tail_factor = scale / (1.0 - z)
    # Once k exceeds the parameters the term ratio increases towards z from below, so the
    # remaining tail is at most |t| z / (1 - z).
    tail_from = np.abs(pc) + np.abs(a)
    conv = np.zeros(pc.size, dtype=bool)
    m = pc.size  # rows [0, m) are still summing
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, _SERIES_MAX_TERMS):
            # term_{k+1} / term_k = (pc + k)(a + k - 1) z / ((c + k)(k + 1))
            t = term[:m]
            t *= (pc[:m] + k) * (a[:m] + (k - 1.0)) * z[:m] / ((c[:m] + k) * (k + 1.0))
            total[:m] += t
            size = np.abs(t)
            np.maximum(biggest[:m], size, out=biggest[:m])
            if k % _SERIES_CHECK_EVERY and k < _SERIES_MAX_TERMS - 1:
                continue
            est = lead[:m] - scale[:m] * total[:m]
            done = (size * tail_factor[:m] <= rtol * np.abs(est)) & (k + 1.0 > tail_from[:m])
            done |= t == 0.0  # terminating series
            conv[:m] |= done
            done |= ~np.isfinite(t)  # overflow: give the row up to quadrature
            if done.all():
                break
            m = int(np.flatnonzero(~done)[-1]) + 1
        est = lead - scale * total
        # Reject rows whose partial sums cancelled: their rounding error exceeds the tolerance.
        lost = (np.abs(lead) + scale * biggest) * (64 * _EPS) > 1e3 * rtol * np.abs(est)
    return est, conv & np.isfinite(est) & ~lost


def _alive_quadrature(A, a, n, kappa):
    """E_p[(1 - (1 + kappa p)^(-A)) / p], p ~ Beta(a, n), by double-exponential quadrature.

    The integral is taken over ``l = logit(p)`` on the real line, where the integrand
    ``p^a (1-p)^n h(p) / B(a, n)`` is smooth and has no endpoint singularity, with a sinh-sinh
    map centred on its largest value (found on a grid) and scaled by the width of the beta
    density in that variable. Everything is in log space, so nothing under- or overflows.
    """
    log_b = betaln(a, n)
    lo = np.minimum(np.log(a / n), -np.log1p(kappa)) - 8.0
    hi = np.maximum(np.log(a / n), -np.log1p(kappa)) + 8.0
    grid = np.linspace(0.0, 1.0, 65)
    cand = lo[:, None] + (hi - lo)[:, None] * grid[None, :]
    centre = cand[np.arange(A.size), np.argmax(_alive_log_integrand(cand, A, a, n, kappa), axis=1)]
    width = np.clip(np.sqrt(1.0 / a + 1.0 / n), 0.25, 10.0)

    def func(rows, u_nodes, dl, w):
        ell = centre[rows, None] + width[rows, None] * u_nodes[None, :]
        lf = _alive_log_integrand(ell, A[rows], a[rows], n[rows], kappa[rows])
        val = np.exp(lf - log_b[rows, None]) * (width[rows, None] * dl[None, :])
        return (val @ w)[:, None]

    res, _ = integrate01(func, A.size, 1, nodes=_SS_NODES, min_level=2)
    return res[:, 0]


def _alive_log_integrand(ell, A, a, n, kappa):
    """log of p^a (1-p)^n h(p), p = expit(ell), h(p) = (1 - (1 + kappa p)^(-A)) / p."""
    A, a, n, kappa = (v[:, None] for v in (A, a, n, kappa))
    log_p = -np.logaddexp(0.0, -ell)
    log_q = -np.logaddexp(0.0, ell)
    p = np.exp(log_p)
    u = A * np.log1p(kappa * p)
    # log h = log(-expm1(-u)) - log p; for tiny u, -expm1(-u) ~ u = A kappa p
    with np.errstate(divide="ignore", invalid="ignore"):
        log_h = np.where(u > 1e-300, np.log(-np.expm1(-u)) - log_p, np.log(A * kappa) + 0.0 * p)
    return a * log_p + n * log_q + log_h


# ---------------------------------------------------------------------------------------------
# Pareto/NBD: the integral over the dropout time.
# ---------------------------------------------------------------------------------------------


def pareto_nbd_log_integral(x, t_x, T, r, alpha, s, beta, gradient: bool = True,
                            rtol: float = 1e-10):
    """``log I`` and its gradient in ``(r, alpha, s, beta)``, where

        I = int_{t_x}^{T} (alpha + tau)^(-(r+x)) (beta + tau)^(-(s+1)) d tau,

    the probability-weighted chance that the customer dropped out between the last purchase and
    T (Fader & Hardie 2005, "A note on deriving the Pareto/NBD model": the likelihood is
    ``Gamma(r+x) alpha^r beta^s / Gamma(r) * [(alpha+T)^-(r+x) (beta+T)^-s + s I]``).

    The usual closed form is a difference of two Gaussian hypergeometric values that cancels as
    ``t_x -> T`` and overflows for large ``x``. Here, with ``K = r + x + s``,
    ``y = log((alpha+tau)/(alpha+t_x))`` and ``v = (1 - e^{-K y}) / (1 - e^{-K Y})``,

        I = (alpha+t_x)^(-K) * (-expm1(-K Y) / K) * int_0^1 g(v) dv,
        g = ((alpha+tau)/(beta+tau))^(s+1),

    exact, with a bounded monotone integrand, integrated by tanh-sinh quadrature. ``I = 0``
    (``log I = -inf``) where ``t_x == T``. Returns ``(log_I, grad)`` with ``grad`` of shape
    ``(n, 4)`` (zeros where ``I = 0``) or ``None``.

    Most rows take a faster exact route first: with the larger of alpha and beta as pivot ``P``,
    ``I`` is a series of positive terms (:func:`_pareto_series`); the rows where it would need
    more than ~100 terms (alpha and beta far apart relative to ``P + t_x``, or large
    frequencies when beta > alpha) go to the quadrature.
    """
    x, t_x, T = (np.asarray(v, dtype=float).ravel() for v in (x, t_x, T))
    nrow = x.size
    log_i = np.full(nrow, -np.inf)
    grad = np.zeros((nrow, 4)) if gradient else None
    live = np.flatnonzero(T > t_x)
    if live.size == 0:
        return log_i, grad
    li, gi, ok = _pareto_series(x[live], t_x[live], T[live], r, alpha, s, beta, gradient)
    done = live[ok]
    log_i[done] = li[ok]
    if gradient:
        grad[done] = gi[ok]
    rest = live[~ok]
    if rest.size:
        lq, gq = _pareto_quadrature(x[rest], t_x[rest], T[rest], r, alpha, s, beta, gradient,
                                    rtol)
        log_i[rest] = lq
        if gradient:
            grad[rest] = gq
    return log_i, grad


_PARETO_MAX_TERMS = 100


def _one_minus_exp_times_1pu(u, one_minus_exp, exp_neg):
    """1 - e^-u (1 + u) = (1 - e^-u) - u e^-u, by its Taylor series where that difference
    would cancel (u < 0.5)."""
    out = one_minus_exp - u * exp_neg
    small = u < 0.5
    if small.any():
        us = u[small]
        acc = np.zeros(us.size)
        power = us * us / 2.0  # u^k / k!, k = 2
        for k in range(2, 17):
            acc += (k - 1) * power if k % 2 == 0 else -(k - 1) * power
            power = power * us / (k + 1)
        out[small] = acc
    return out


def _pareto_series(x, t_x, T, r, alpha, s, beta, gradient):
    """Series for :func:`pareto_nbd_log_integral` (rows with t_x < T).

    With pivot ``P = max(alpha, beta)``, exponent ``e = s + 1`` (pivot alpha) or ``r + x``
    (pivot beta), ``eps = |alpha - beta| / (P + t_x)`` in [0, 1), ``q = (P+t_x)/(P+T)`` and
    ``K = r + x + s``, the binomial expansion of the other factor gives

        I = (P + t_x)^(-K) sum_j (e)_j / j! eps^j (1 - q^(K+j)) / (K + j),

    all terms positive (no cancellation; ``1 - q^(K+j)`` by a positive recurrence from
    ``expm1``, exact as t_x -> T). The gradient differentiates the sum term by term. Returns
    ``(log_I, grad, ok)``; rows with ``ok`` False need the quadrature.
    """
    m = r + x
    K = m + s
    pivot_alpha = alpha >= beta
    P = alpha if pivot_alpha else beta
    e = np.full(x.shape, s + 1.0) if pivot_alpha else m
    p_t = P + t_x
    eps = abs(alpha - beta) / p_t
    with np.errstate(divide="ignore"):
        need = e * eps / (1.0 - eps) + 40.0 / -np.log(eps)
    ok = (eps < 0.7) & (need < 0.8 * _PARETO_MAX_TERMS)
    n = x.size
    log_i = np.full(n, np.nan)
    grad = np.full((n, 4), np.nan) if gradient else None
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return log_i, grad, ok
    K_, e_, eps_, p_t_ = K[idx], e[idx], eps[idx], p_t[idx]
    Y = np.log1p((T[idx] - t_x[idx]) / p_t_)
    nn = idx.size
    # Running state of the rows still summing (compacted as rows finish): position, K, e, eps,
    # Y, q, 1 - q, q^(K+j), 1 - q^(K+j), C_j = (e)_j/j! eps^j, dC_j/d eps, psi(e+j) - psi(e),
    # and the five sums.
    state = [np.arange(nn), K_, e_, eps_, Y, np.exp(-Y), -np.expm1(-Y), np.exp(-K_ * Y),
             -np.expm1(-K_ * Y), np.ones(nn), np.zeros(nn), np.zeros(nn),
             np.zeros(nn), np.zeros(nn), np.zeros(nn), np.zeros(nn), np.zeros(nn)]
    sums = np.zeros((5, nn))
    conv = np.zeros(nn, dtype=bool)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        for j in range(_PARETO_MAX_TERMS):
            pos, k, ee, ep, y, q, d1, Q, D, C, G, H, S, SK, SY, SE, Se = state
            kj = k + j
            frac = D / kj
            term = C * frac
            S += term
            if gradient:
                # d/dK of (1 - q^(K+j))/(K+j) = -(1 - e^-u (1 + u)) / (K+j)^2, u = (K+j) Y
                SK -= C * _one_minus_exp_times_1pu(kj * y, D, Q) / (kj * kj)
                SY += C * Q
                SE += G * frac
                Se += term * H
            growth = (ee + j) / (j + 1.0)
            G = C * (ee + j)
            C = C * growth * ep
            H = H + 1.0 / (ee + j)
            D = D + Q * d1
            Q = Q * q
            # every later term ratio is at most rho = eps * max(1, (e + j) / (j + 1)); the
            # derivative in eps has terms G_(j+1) frac_(j+1) <= G frac
            rho = ep * np.maximum(1.0, growth)
            inv = (j + 2.0) / (1.0 - rho)
            done = (rho < 1.0) & (term * rho * inv <= 1e-17 * S) & (
                G * frac * inv <= 1e-16 * S * (1.0 + k))
            state = [pos, k, ee, ep, y, q, d1, Q, D, C, G, H, S, SK, SY, SE, Se]
            if done.any():
                fin = pos[done]
                conv[fin] = True
                for row, arr in enumerate((S, SK, SY, SE, Se)):
                    sums[row, fin] = arr[done]
                keep = ~done
                state = [arr[keep] for arr in state]
                if state[0].size == 0:
                    break
    ok[idx[~conv]] = False
    S, SK, SY, SE, Se = np.where(conv, sums, 1.0)
    log_p = np.log(p_t_)
    log_i[idx] = -K_ * log_p + np.log(S)
    if gradient:
        sk, sy, se_, sx = SK / S, SY / S, SE / S, Se / S
        g = np.empty((idx.size, 4))
        t_i, T_i = t_x[idx], T[idx]
        if pivot_alpha:
            b_t = beta + t_i
            g[:, 0] = -log_p + sk
            g[:, 1] = -K_ / p_t_ + se_ * b_t / p_t_**2 - sy * (T_i - t_i) / ((alpha + T_i) * p_t_)
            g[:, 2] = -log_p + sk + sx
            g[:, 3] = -se_ / p_t_
        else:
            a_t = alpha + t_i
            g[:, 0] = -log_p + sk + sx
            g[:, 1] = -se_ / p_t_
            g[:, 2] = -log_p + sk
            g[:, 3] = -K_ / p_t_ + se_ * a_t / p_t_**2 - sy * (T_i - t_i) / ((beta + T_i) * p_t_)
        grad[idx] = g
    return log_i, grad, ok


def _pareto_quadrature(x, t_x, T, r, alpha, s, beta, gradient, rtol):
    """Quadrature route of :func:`pareto_nbd_log_integral` (rows with t_x < T)."""
    m = r + x
    K = m + s
    a_t = alpha + t_x
    b_t = beta + t_x
    log_a_t = np.log(a_t)
    Y = np.log1p((T - t_x) / a_t)  # log((alpha+T)/(alpha+t_x)) > 0, exact as t_x -> T
    E = -np.expm1(-K * Y)  # 1 - ((alpha+t_x)/(alpha+T))^K, in (0, 1]
    tail = np.exp(-K * Y)
    sp1 = s + 1.0
    # g is monotone in tau, so its largest value sits at an end of [t_x, T]: scale by it.
    log_b_t = np.log(b_t)
    lg0 = sp1 * (log_a_t - log_b_t)
    lgT = sp1 * (np.log(alpha + T) - np.log(beta + T))
    lg_ref = np.maximum(lg0, lgT)
    n_out = 5 if gradient else 1

    def func(rows, v, omv, w):
        # 1 - v E = (1 - v) + v e^{-K Y}, computed without cancellation.
        one_minus = omv[None, :] + tail[rows, None] * v[None, :]
        y = -np.log(one_minus) / K[rows, None]
        em1 = np.expm1(y)
        # beta + tau = (beta + t_x) + (alpha + t_x) (e^y - 1)
        bt = b_t[rows, None] + a_t[rows, None] * em1
        log_bt_rel = np.log1p(a_t[rows, None] * em1 / b_t[rows, None])  # log((b+tau)/(b+t_x))
        lg = sp1 * (log_a_t[rows, None] + y - log_b_t[rows, None] - log_bt_rel)
        g = np.exp(lg - lg_ref[rows, None])
        gw = g * w[None, :]
        s0 = gw.sum(axis=1)
        if not gradient:
            return s0[:, None]
        return np.column_stack([
            s0,
            (gw * y).sum(axis=1),                       # < y >            (r)
            (gw * np.exp(-y)).sum(axis=1),              # < (a+t_x)/(a+tau) > (alpha)
            (gw * log_bt_rel).sum(axis=1),              # < log((b+tau)/(b+t_x)) > (s)
            (gw * b_t[rows, None] / bt).sum(axis=1),    # < (b+t_x)/(b+tau) > (beta)
        ])

    # One halving that changes the integral by < rtol leaves an error of about rtol^2 (the
    # quadrature converges doubly exponentially): ~1e-15 relative, checked against mpmath.
    res, _ = integrate01(func, x.size, n_out, rtol=rtol)
    mean_g = res[:, 0]
    log_i = -K * log_a_t + np.log(E) - np.log(K) + np.log(mean_g) + lg_ref
    grad = None
    if gradient:
        grad = np.empty((x.size, 4))
        my = res[:, 1] / mean_g
        mey = res[:, 2] / mean_g
        mlb = res[:, 3] / mean_g
        mib = res[:, 4] / mean_g
        grad[:, 0] = -log_a_t - my
        grad[:, 1] = -m / a_t * mey
        grad[:, 2] = -log_b_t - mlb
        grad[:, 3] = -sp1 / b_t * mib
    return log_i, grad
