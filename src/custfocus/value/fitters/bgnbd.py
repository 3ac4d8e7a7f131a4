"""The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"), and the
beta-geometric likelihood it shares with the modified BG/NBD (:mod:`.mbgnbd`)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import betainc, betaln, digamma, expit, gammaln

from custfocus.value.fitters.mle import (
    TransactionModel,
    _trigamma,
    _wsum,
)
from custfocus.value.special import alive_expected_purchases


class BetaGeometricModel(TransactionModel):
    """Common likelihood of BG/NBD (shift 0, dropout only after repeat purchases) and MBG/NBD
    (shift 1, dropout also at time 0).

    Per customer, with m = r + x:

        l = lnG(m) - lnG(r) + r ln(alpha) + lnB(a, b + x + shift) - lnB(a, b)
            - m ln(alpha + T) + softplus(u)         [softplus only for rows that can have dropped]
        u = ln(a) - ln(b + x + shift - 1) + m (ln(alpha + T) - ln(alpha + t_x))

    the log of the two-term sum of FHL (2005) eq. 6 (resp. Batislam et al. 2007), written as
    log(e^A + e^B) = A + softplus(B - A).
    """

    _param_names = ("r", "alpha", "a", "b")
    _limits = ((("r", "alpha"), "every customer seems to buy at the same rate"),
               (("a", "b"), "every customer seems to have the same chance of dropping out"))
    _analytic_hessian = True
    _shift = 0

    def _prepare(self, x, t_x, T, weights):
        d, inv = self._count_data(x, T, weights)
        if self._shift == 0:
            drop = x > 0
            d.T0, d.w0 = T[~drop], weights[~drop]
            d.xp, d.tp, d.Tp, d.wp, d.inv = x[drop], t_x[drop], T[drop], weights[drop], inv[drop]
        else:
            d.T0, d.w0 = T[:0], weights[:0]
            d.xp, d.tp, d.Tp, d.wp, d.inv = x, t_x, T, weights, inv
        return d

    def _loglik(self, theta, d, order):
        r, alpha, a, b = theta
        sh = self._shift
        X, Wx = d.ux, d.wx
        W = d.total_weight
        ln_alpha = math.log(alpha)
        ll = Wx @ (gammaln(r + X) + betaln(a, b + X + sh)) + W * (
            -gammaln(r) + r * ln_alpha - betaln(a, b))
        # rows without the dropout term: -r ln(alpha + T)
        LT0 = np.log(alpha + d.T0)
        ll -= r * _wsum(d.w0, LT0)
        # rows with it
        m = r + d.xp
        LT = np.log(alpha + d.Tp)
        Lt = np.log(alpha + d.tp)
        dd = LT - Lt
        ib = 1.0 / (b + d.xp + sh - 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ib_x = -np.log(b + X + sh - 1.0)  # per distinct frequency (unused where x = 0)
        u = math.log(a) + log_ib_x[d.inv] + m * dd
        e = np.exp(-np.abs(u))
        sp = np.maximum(u, 0.0) + np.log1p(e)  # softplus(u) = log(1 + e^u), stable
        wp = d.wp
        ll += _wsum(wp, sp - m * LT)
        if order == 0:
            return ll, None, None
        sig = np.where(u >= 0, 1.0, e) / (1.0 + e)  # logistic(u)
        iT0 = 1.0 / (alpha + d.T0)
        iT = 1.0 / (alpha + d.Tp)
        it = 1.0 / (alpha + d.tp)
        ee = iT - it  # d(dd)/d alpha
        ws = wp * sig
        ab = a + b
        g = np.empty(4)
        g[0] = Wx @ digamma(r + X) + W * (ln_alpha - digamma(r)) - _wsum(d.w0, LT0) + _wsum(wp, (
            sig * dd - LT))
        g[1] = W * r / alpha - r * (_wsum(d.w0, iT0)) + _wsum(wp, (m * (sig * ee - iT)))
        g[2] = W * digamma(ab) - Wx @ digamma(ab + X + sh) + ws.sum() / a
        g[3] = (Wx @ (digamma(b + X + sh) - digamma(ab + X + sh))
                + W * (digamma(ab) - digamma(b)) - _wsum(ws, ib))
        if order == 1:
            return ll, g, None
        sp2 = wp * sig * (1.0 - sig)  # weight * softplus''
        mee = m * ee
        H = np.empty((4, 4))
        tri_ab = _trigamma(ab)
        tri_abx = _trigamma(ab + X + sh)
        H[0, 0] = Wx @ _trigamma(r + X) - W * _trigamma(r) + _wsum(sp2, (dd * dd))
        H[0, 1] = W / alpha - _wsum(d.w0, iT0) + _wsum(wp, (sig * ee - iT)) + _wsum(sp2, (dd * mee))
        H[0, 2] = (_wsum(sp2, dd)) / a
        H[0, 3] = -(_wsum(sp2, (dd * ib)))
        H[1, 1] = (-W * r / alpha**2 + r * (_wsum(d.w0, iT0 * iT0))
                   + _wsum(wp, m * (iT * iT + sig * (it * it - iT * iT)))
                   + _wsum(sp2, mee * mee))
        H[1, 2] = (_wsum(sp2, mee)) / a
        H[1, 3] = -(_wsum(sp2, (mee * ib)))
        H[2, 2] = W * tri_ab - Wx @ tri_abx + (sp2.sum() - ws.sum()) / a**2
        H[2, 3] = W * tri_ab - Wx @ tri_abx - (_wsum(sp2, ib)) / a
        H[3, 3] = (Wx @ (_trigamma(b + X + sh) - tri_abx) + W * (tri_ab - _trigamma(b))
                   + _wsum((sp2 + ws), (ib * ib)))
        H = np.triu(H) + np.triu(H, 1).T
        return ll, g, H

    # -- predictions ---------------------------------------------------------------------------
    def _log_odds_dead(self, x, t_x, T):
        """u = log(P(dropped out) / P(alive)) given the history."""
        r, alpha, a, b = self._theta()
        sh = self._shift
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (math.log(a) - np.log(b + x + sh - 1.0)
                 + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        if sh == 0:
            u = np.where(x > 0, u, -np.inf)
        return u

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive at T | frequency, recency, T)."""
        x, t_x, T = self._predict_inputs(frequency, recency, T)
        return expit(-self._log_odds_dead(x, t_x, T))

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[purchases in (T, T + t] | history]: FHL (2005) eq. 10 for the BG/NBD, its MBG/NBD
        analogue, with the hypergeometric term from :func:`alive_expected_purchases`.
        ``t`` broadcasts against the customers."""
        x, t_x, T = self._predict_inputs(frequency, recency, T)
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self._theta()
        alive = expit(-self._log_odds_dead(x, t_x, T))
        e = alive_expected_purchases(r + x, a, b + x + self._shift, t / (alpha + T))
        return alive * e

    def probability_of_n_purchases(self, t, n) -> np.ndarray:
        """P(X(t) = n) for a customer drawn at random at the first purchase (FHL 2005 eq. 8 for
        the BG/NBD; the MBG/NBD adds the chance of dropping out at time 0)."""
        t = np.asarray(t, dtype=float)
        n = np.asarray(n, dtype=float)
        t, n = np.broadcast_arrays(t, n)
        r, alpha, a, b = self._theta()
        sh = self._shift
        lq = math.log(alpha) - np.log(alpha + t)  # log P(no purchase) share of the NBD
        with np.errstate(divide="ignore"):
            l1q = np.log(t) - np.log(alpha + t)
            nb = np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * lq
                        + np.where(n > 0, n * l1q, 0.0))
        first = np.exp(betaln(a, b + n + sh) - betaln(a, b)) * nb
        # P(NBD count >= n) = I_{t/(alpha+t)}(n, r), for n >= 1
        with np.errstate(invalid="ignore"):
            surv = betainc(np.maximum(n, 1e-300), r, t / (alpha + t))
            second = np.exp(betaln(a + 1, b + n + sh - 1.0) - betaln(a, b)) * surv
        out = first + np.where(n > 0, second, 0.0)
        if sh == 1:
            out = out + np.where(n == 0, a / (a + b), 0.0)
        return out


class BGNBD(BetaGeometricModel):
    """BG/NBD model (Fader, Hardie & Lee 2005). Parameters ``r, alpha`` (gamma heterogeneity of
    the purchase rate, alpha in the time unit of the data) and ``a, b`` (beta heterogeneity of
    the dropout probability after each repeat purchase).

    >>> m = BGNBD().fit(frequency, recency, T)
    >>> m.summary(); m.expected_purchases(39, frequency, recency, T)
    """

    _shift = 0

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer drawn at random at the first purchase (FHL 2005 eq. 9)."""
        r, alpha, a, b = self._theta()
        t = np.asarray(t, dtype=float)
        return alive_expected_purchases(r, a, b, t / alpha)
