"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV";
Fader & Hardie 2013, "The Gamma-Gamma model of monetary value")."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from custfocus.value.fitters.mle import (
    MaximumLikelihoodModel,
    _checked_columns,
    _Data,
    _trigamma,
    _weights_column,
    _wsum,
)


class GammaGamma(MaximumLikelihoodModel):
    """Gamma-Gamma model of the average spend per repeat purchase (Fader, Hardie & Lee 2005;
    Fader & Hardie 2013): spends are Gamma(p, nu), nu ~ Gamma(q, gamma) across customers,
    independent of the purchase process. Fitted on customers with frequency > 0; ``monetary`` is
    their average spend per repeat purchase. Per customer (x purchases, mean m):

        l = lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln(m) + px ln(x)
            - (px+q) ln(gamma + m x)
    """

    _param_names = ("p", "q", "gamma")
    _limits = ((("q", "gamma"), "every customer seems to spend the same on average"),)
    _analytic_hessian = True

    def fit(self, frequency, monetary, weights=None, initial_params=None):
        """Fit on customers' repeat-purchase counts and average spends; rows with frequency 0
        are ignored (they carry no spend information). ``initial_params`` overrides the setting
        of the same name for this fit."""
        (x, mv), w = _checked_columns(weights, frequency=frequency, monetary=monetary)
        keep = (x > 0) & (w > 0)
        x, mv, w = x[keep], mv[keep], w[keep]
        if x.size == 0:
            raise ValueError("no customer with repeat purchases")
        if np.any(mv <= 0):
            raise ValueError("monetary must be > 0 for customers with repeat purchases")
        return self._fit_arrays([x, mv], w, initial_params)

    def fit_frame(self, frame: pd.DataFrame):
        """Fit on a DataFrame with columns ``frequency``, ``monetary`` (or ``monetary_value``)
        and optionally a ``weight`` (or ``weights``/``count``) column."""
        col = "monetary" if "monetary" in frame.columns else "monetary_value"
        return self.fit(frame["frequency"], frame[col], _weights_column(frame))

    def _prepare(self, x, mv, weights):
        d = _Data()
        d.x, d.m, d.w = x, mv, weights
        d.total_weight = float(weights.sum())
        d.lnm = np.log(mv)
        d.lnx = np.log(x)
        d.mx = mv * x
        # The special functions depend on x alone: evaluate them once per distinct frequency.
        d.ux, inverse = np.unique(x, return_inverse=True)
        d.uw = np.bincount(inverse, weights=weights)
        d.sum_m = _wsum(weights, mv)
        d.sum_m2 = _wsum(weights, mv * mv)
        return d

    def _default_start(self, d) -> np.ndarray:
        return np.array([1.0, 2.0, d.sum_m / d.total_weight])

    def _loglik(self, theta, d, order):
        p, q, gam = theta
        x, w, ux, uw = d.x, d.w, d.ux, d.uw
        px, pu = p * x, p * ux
        L = np.log(gam + d.mx)
        ll = (_wsum(uw, gammaln(pu + q) - gammaln(pu))
              + _wsum(w, (px - 1.0) * d.lnm + px * d.lnx - (px + q) * L))
        ll += d.total_weight * (q * math.log(gam) - gammaln(q))
        if order == 0:
            return ll, None, None
        dg_pq = digamma(pu + q)
        inv = 1.0 / (gam + d.mx)
        W = d.total_weight
        g = np.array([
            _wsum(uw, ux * (dg_pq - digamma(pu))) + _wsum(w, x * (d.lnm + d.lnx - L)),
            _wsum(uw, dg_pq) - _wsum(w, L) + W * (math.log(gam) - digamma(q)),
            W * q / gam - _wsum(w, (px + q) * inv),
        ])
        if order == 1:
            return ll, g, None
        tg = _trigamma(pu + q)
        H = np.empty((3, 3))
        H[0, 0] = _wsum(uw, ux * ux * (tg - _trigamma(pu)))
        H[0, 1] = H[1, 0] = _wsum(uw, ux * tg)
        H[0, 2] = H[2, 0] = -_wsum(w, x * inv)
        H[1, 1] = _wsum(uw, tg) - W * _trigamma(q)
        H[1, 2] = H[2, 1] = W / gam - _wsum(w, inv)
        H[2, 2] = -W * q / gam**2 + _wsum(w, (px + q) * inv * inv)
        return ll, g, H

    def log_likelihood(self, frequency, monetary, weights=None, params=None) -> float:
        (x, mv), w = _checked_columns(weights, frequency=frequency, monetary=monetary)
        keep = x > 0
        theta = self._theta() if params is None else np.array(
            [params[k] for k in self._param_names], dtype=float)
        return float(self._loglik(theta, self._prepare(x[keep], mv[keep], w[keep]), 0)[0])

    def population_mean_spend(self) -> float:
        """E[spend per transaction] across customers: p gamma / (q - 1) (infinite if q <= 1)."""
        p, q, gam = self._theta()
        return p * gam / (q - 1.0) if q > 1 else math.inf

    def expected_spend(self, frequency, monetary) -> np.ndarray:
        """E[average spend | x, m] = p (gamma + m x) / (p x + q - 1) (Fader, Hardie & Lee 2005):
        a weighted mean of the population mean and the customer's own mean. Customers with
        frequency 0 get the population mean. Infinite where p x + q <= 1."""
        p, q, gam = self._theta()
        x = np.asarray(frequency, dtype=float)
        mv = np.where(x > 0, np.asarray(monetary, dtype=float), 0.0)
        den = p * x + q - 1.0
        with np.errstate(divide="ignore"):
            return np.where(den > 0, p * (gam + mv * x) / np.where(den > 0, den, 1.0), np.inf)
