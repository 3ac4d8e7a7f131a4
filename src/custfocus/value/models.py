"""Buy-till-you-die models fitted by exact maximum likelihood.

* :class:`BGNBD` — beta-geometric/NBD (Fader, Hardie & Lee 2005, "Counting your customers the
  easy way");
* :class:`MBGNBD` — modified BG/NBD, where a customer may also drop out right after the first
  purchase (Batislam, Denizel & Filiztekin 2007; Hoppe & Wagner 2007);
* :class:`ParetoNBD` — Pareto/NBD (Schmittlein, Morrison & Colombo 1987), likelihood as in
  Fader & Hardie (2005), "A note on deriving the Pareto/NBD model and related expressions";
* :class:`GammaGamma` — spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV";
  Fader & Hardie 2013, "The Gamma-Gamma model of monetary value");
* :func:`customer_lifetime_value` — discounted expected purchases times expected spend.

Conventions (scikit-learn style): parameters of the estimator go to ``__init__``; ``fit`` returns
``self``; learned values end in ``_``: ``params_`` (dict), ``log_likelihood_``,
``standard_errors_`` (dict), ``covariance_`` (DataFrame), ``n_customers_`` (sum of weights),
``n_rows_`` (rows actually fitted after merging), ``converged_``; ``summary()`` is a DataFrame.
Data: ``frequency`` = repeat purchases, ``recency`` = time from the first to the last purchase
(0 without repeat purchases), ``T`` = time from the first purchase to the end of the calibration
period, all in one time unit (the parameters ``alpha`` and ``beta`` are in that unit).

Fitting. The weighted log-likelihood is maximised over log-parameters. The BG/NBD, MBG/NBD and
Gamma-Gamma have analytic gradients *and* analytic Hessians, and use a trust-region Newton method
(``scipy.optimize.minimize(method="trust-exact")``); the Pareto/NBD has an analytic gradient and
uses L-BFGS-B followed by Newton polishing on a Hessian obtained by central differences of the
analytic gradient. Standard errors come from the inverse of the negative Hessian of the
(unpenalised) log-likelihood in natural parameters at the optimum: analytic for BG/NBD, MBG/NBD
and Gamma-Gamma, differences of the analytic gradient for the Pareto/NBD. 95% intervals are Wald
intervals on the log scale (``estimate * exp(+-1.96 se/estimate)``), which stay positive.

Large inputs: rows with equal (frequency, recency, T) are fitted once with a weight
(:func:`merge_equal_rows`; ``merge="auto"`` does so when a sample shows duplicates), terms that
depend on the frequency alone are computed once per distinct frequency, and with more than
``subsample`` rows the optimiser starts from a fit on a random subsample, so that only a few
Newton steps touch the full data.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import integrate, optimize
from scipy.special import betainc, betaln, digamma, expit, gammaln, polygamma

from custfocus.stats import Z95
from custfocus.value.special import alive_expected_purchases, pareto_nbd_log_integral

__all__ = [
    "BGNBD",
    "MBGNBD",
    "GammaGamma",
    "ParetoNBD",
    "customer_lifetime_value",
    "merge_equal_rows",
]


def _trigamma(x):
    return polygamma(1, x)


def _wsum(w, v) -> float:
    """sum(w * v) without BLAS: a multithreaded BLAS dot spins its threads and is slower than
    this on the vectors of a fit."""
    return float(np.einsum("i,i->", w, v))


# ---------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------


def _as_float(name, v) -> np.ndarray:
    arr = np.asarray(v, dtype=float).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has missing or infinite values")
    return arr


def _check_rft(frequency, recency, T, weights=None):
    x = _as_float("frequency", frequency)
    t_x = _as_float("recency", recency)
    T = _as_float("T", T)
    if not (x.size == t_x.size == T.size):
        raise ValueError("frequency, recency and T must have the same length")
    if x.size == 0:
        raise ValueError("no customers")
    if np.any(x < 0):
        raise ValueError("frequency must be >= 0")
    if np.any(T <= 0):
        raise ValueError("T must be > 0")
    if np.any(t_x < 0):
        raise ValueError("recency must be >= 0")
    if np.any(t_x > T):
        raise ValueError("recency must be <= T")
    # Without repeat purchases the recency carries no information (and is 0 by convention).
    t_x = np.where(x > 0, t_x, 0.0)
    if weights is None:
        w = np.ones(x.size)
    else:
        w = _as_float("weights", weights)
        if w.size != x.size:
            raise ValueError("weights must have the same length as frequency")
        if np.any(w < 0):
            raise ValueError("weights must be >= 0")
        keep = w > 0
        if not keep.all():
            x, t_x, T, w = x[keep], t_x[keep], T[keep], w[keep]
        if x.size == 0:
            raise ValueError("all weights are zero")
    return x, t_x, T, w


_HASH = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F),
         np.uint64(0x165667B19E3779F9), np.uint64(0x27D4EB2F165667C5))


def _group_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Group identical rows: (codes per row, index of one representative row per group).

    Rows are hashed (their float64 bit patterns mixed into one 64-bit key) and the keys
    factorised with a hash table, O(n). Every row is then compared with its group's
    representative; only if two different rows had collided does it fall back to an exact
    lexicographic sort.
    """
    cols = [np.ascontiguousarray(c, dtype=float) + 0.0 for c in columns]  # +0.0: -0.0 -> 0.0
    key = np.zeros(cols[0].size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c, mult in zip(cols, _HASH):
            bits = c.view(np.uint64)
            key ^= (bits ^ (bits >> np.uint64(29))) * mult
            key = (key << np.uint64(17)) | (key >> np.uint64(47))
    codes, uniq = pd.factorize(key)
    rep = np.empty(uniq.size, dtype=np.int64)
    rep[codes[::-1]] = np.arange(codes.size - 1, -1, -1)
    if all(np.array_equal(c[rep][codes], c) for c in cols):
        return codes, rep
    order = np.lexsort(cols[::-1])
    stacked = np.column_stack([c[order] for c in cols])
    new = np.r_[True, np.any(stacked[1:] != stacked[:-1], axis=1)]
    codes = np.empty(order.size, dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    return codes, order[new]


def merge_equal_rows(frequency, recency, T, monetary=None, weights=None):
    """Group customers with identical (frequency, recency, T[, monetary]) into one row each.

    Returns ``(frequency, recency, T, weights)`` — or ``(frequency, recency, T, monetary,
    weights)`` when ``monetary`` is given — where ``weights`` sums the weights (default 1) of the
    merged rows. Fitting the merged rows with their weights gives exactly the fit of the raw rows.
    Vectorised: hashing plus one hash-table pass (O(n)), checked exactly.
    """
    x = _as_float("frequency", frequency)
    t_x = _as_float("recency", recency)
    T = _as_float("T", T)
    cols = [x, t_x, T]
    if monetary is not None:
        cols.append(_as_float("monetary", monetary))
    w = np.ones(x.size) if weights is None else _as_float("weights", weights)
    codes, rep = _group_rows(cols)
    merged_w = np.bincount(codes, weights=w, minlength=rep.size)
    return (*(c[rep] for c in cols), merged_w)


def _worth_merging(columns: list[np.ndarray], sample: int = 20_000, seed: int = 0) -> bool:
    n = columns[0].size
    if n <= sample:
        return True
    idx = np.random.default_rng(seed).integers(0, n, sample)
    distinct = np.unique(np.column_stack([c[idx] for c in columns]), axis=0).shape[0]
    return distinct < 0.8 * sample


def _frequency_table(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct frequencies, their total weights, and each row's index into them."""
    xi = x.astype(np.int64)
    if np.array_equal(xi, x) and xi.size and xi.max() < 10_000_000:
        counts = np.bincount(xi, weights=w)
        ux = np.flatnonzero(counts > 0)
        lookup = np.zeros(counts.size, dtype=np.int64)
        lookup[ux] = np.arange(ux.size)
        return ux.astype(float), counts[ux], lookup[xi]
    ux, inv = np.unique(x, return_inverse=True)
    return ux, np.bincount(inv, weights=w), inv


# ---------------------------------------------------------------------------------------------
# Shared estimator machinery
# ---------------------------------------------------------------------------------------------


class _MLEModel:
    """Weighted exact maximum likelihood over positive parameters, fitted in log space."""

    _param_names: tuple[str, ...] = ()
    _analytic_hessian = False

    def __init__(self, penalizer: float = 0.0, initial_params=None, tol: float = 1e-10,
                 max_iter: int = 500, merge="auto", subsample: int | None = 50_000,
                 random_state: int = 0):
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.tol = tol
        self.max_iter = max_iter
        self.merge = merge
        self.subsample = subsample
        self.random_state = random_state

    # -- to be provided by subclasses --------------------------------------------------------
    def _prepare(self, *arrays, weights):  # -> data object
        raise NotImplementedError

    def _loglik(self, theta: np.ndarray, data, order: int):
        """Total weighted log-likelihood, gradient (order >= 1) and Hessian (order 2) in natural
        parameters."""
        raise NotImplementedError

    def _default_start(self, data) -> np.ndarray:
        raise NotImplementedError

    # -- fitting -------------------------------------------------------------------------------
    def _objective_factory(self, data):
        """Per-customer objective in log-parameters: ``-LL / n + penalizer * sum(theta^2)``
        and its gradient."""
        W = data.total_weight
        pen = float(self.penalizer)

        def fun(eta):
            theta = np.exp(eta)
            ll, g, _ = self._loglik(theta, data, 1)
            f = -ll / W + pen * np.sum(theta**2)
            grad = -g * theta / W + 2 * pen * theta**2
            if not np.isfinite(f):
                return np.inf, np.zeros_like(eta)
            return f, grad

        return fun

    def _newton(self, data, eta: np.ndarray) -> tuple[np.ndarray, bool, int]:
        """Damped Newton on the per-customer objective in log-parameters, with the analytic
        Hessian (eigenvalues floored to keep it positive definite) and a backtracking line
        search. Each iteration costs one evaluation of value, gradient and Hessian; from a
        subsample start it typically needs three or four."""
        W = data.total_weight
        pen = float(self.penalizer)

        def evaluate(e):
            theta = np.exp(e)
            ll, g, H = self._loglik(theta, data, 2)
            self._last_eval = (theta, (ll, g, H))
            f = -ll / W + pen * np.sum(theta**2)
            grad = -g * theta / W + 2 * pen * theta**2
            He = -(theta[:, None] * H * theta[None, :] + np.diag(theta * g)) / W
            return f, grad, He + np.diag(4 * pen * theta**2)

        f, g, H = evaluate(eta)
        if not np.isfinite(f):
            raise ValueError(f"{type(self).__name__}: the log-likelihood is not finite at the "
                             "starting values; pass initial_params")
        for it in range(1, self.max_iter + 1):
            if np.max(np.abs(g)) <= self.tol:
                return eta, True, it - 1
            vals, vecs = np.linalg.eigh(0.5 * (H + H.T))
            floor = max(1e-10, 1e-8 * np.max(np.abs(vals)))
            step = -vecs @ ((vecs.T @ g) / np.maximum(vals, floor))
            big = np.max(np.abs(step))
            if big > 3.0:
                step *= 3.0 / big
            slope = g @ step
            noise = 1e-14 * max(1.0, abs(f))  # rounding level of the summed objective
            if -slope <= noise:
                # Newton decrement at rounding level: take the last (tiny) step and stop.
                f1, g1, H1 = evaluate(eta + step)
                if np.isfinite(f1) and f1 <= f + noise:
                    eta, g, H = eta + step, g1, H1
                return eta, True, it
            t = 1.0
            for _ in range(40):
                f1, g1, H1 = evaluate(eta + t * step)
                if np.isfinite(f1) and f1 <= f + 1e-4 * t * slope:
                    break
                t *= 0.5
            else:
                return eta, bool(np.max(np.abs(g)) <= 1e3 * self.tol), it
            eta, f, g, H = eta + t * step, f1, g1, H1
            if np.max(np.abs(t * step)) < 1e-12:
                return eta, True, it
        return eta, bool(np.max(np.abs(g)) <= self.tol), self.max_iter

    def _optimise(self, data, start: np.ndarray, polish_from=None
                  ) -> tuple[np.ndarray, bool, int]:
        """Maximise the likelihood from ``start``. Models with an analytic Hessian use
        :meth:`_newton`. The others run L-BFGS-B, then Newton steps on a Hessian of the objective
        obtained by central differences of the analytic gradient; with ``polish_from`` (such a
        Hessian from a subsample fit) they skip L-BFGS-B and start the Newton steps at once."""
        eta0 = np.log(start)
        if self._analytic_hessian:
            return self._newton(data, eta0)
        fun = self._objective_factory(data)
        nit, ok = 0, True
        if polish_from is None:
            res = optimize.minimize(fun, eta0, jac=True, method="L-BFGS-B",
                                    options={"gtol": self.tol, "ftol": 1e-15,
                                             "maxiter": self.max_iter * 10, "maxcor": 20})
            eta0, ok, nit = res.x, bool(res.success) or res.status == 2, int(res.nit)
        H = polish_from if polish_from is not None else self._fd_objective_hessian(fun, eta0)
        eta, f, g = eta0, *fun(eta0)
        fresh = polish_from is None
        for _ in range(20):
            if np.max(np.abs(g)) <= self.tol:
                break
            vals, vecs = np.linalg.eigh(H)
            step = -vecs @ ((vecs.T @ g) / np.maximum(vals, 1e-10 * max(1.0, vals.max())))
            big = np.max(np.abs(step))
            if big > 1.0:
                step *= 1.0 / big
            noise = 1e-14 * max(1.0, abs(f))
            f1, g1 = fun(eta + step)
            if np.isfinite(f1) and f1 <= f + noise:
                eta, f, g = eta + step, f1, g1
                if np.max(np.abs(step)) < 1e-9:
                    break
            elif not fresh:  # the borrowed Hessian is too far off: refresh it once
                H, fresh = self._fd_objective_hessian(fun, eta), True
            else:
                break
        self._polish_hessian = H
        return eta, ok and np.isfinite(f), nit

    @staticmethod
    def _fd_objective_hessian(fun, eta, h: float = 1e-5) -> np.ndarray:
        """Hessian of the objective in log-parameters by central differences of its analytic
        gradient, symmetrised."""
        k = eta.size
        H = np.empty((k, k))
        for j in range(k):
            e = np.zeros(k)
            e[j] = h
            H[:, j] = (fun(eta + e)[1] - fun(eta - e)[1]) / (2 * h)
        return 0.5 * (H + H.T)

    def _fit_arrays(self, arrays: list[np.ndarray], w: np.ndarray):
        n_customers = float(w.sum())
        merge = self.merge
        if merge == "auto":
            merge = _worth_merging(arrays)
        if merge:
            codes, rep = _group_rows(arrays)
            w = np.bincount(codes, weights=w, minlength=rep.size)
            arrays = [a[rep] for a in arrays]
        data = self._prepare(*arrays, weights=w)
        if self.initial_params is not None:
            ip = self.initial_params
            vals = [ip[k] for k in self._param_names] if isinstance(ip, dict) else list(ip)
            start = np.asarray(vals, dtype=float)
            if start.shape != (len(self._param_names),) or np.any(start <= 0):
                raise ValueError(f"initial_params must give {len(self._param_names)} positive "
                                 f"values for {', '.join(self._param_names)}")
        polish = None
        if self.initial_params is None:
            start = self._default_start(data)
            n_rows = arrays[0].size
            if self.subsample and n_rows > 2 * self.subsample:
                rng = np.random.default_rng(self.random_state)
                idx = rng.integers(0, n_rows, self.subsample)
                sub = self._prepare(*(a[idx] for a in arrays), weights=w[idx])
                eta, _, _ = self._optimise(sub, start)
                start = np.exp(eta)
                polish = getattr(self, "_polish_hessian", None)
        eta, ok, nit = self._optimise(data, start, polish_from=polish)
        self._polish_hessian = None
        theta = np.exp(eta)
        last = getattr(self, "_last_eval", None)
        if last is not None and np.array_equal(last[0], theta):
            ll, g, H = last[1]
        else:
            ll, g, H = self._loglik(theta, data, 2)
        self._last_eval = None
        self.params_ = dict(zip(self._param_names, map(float, theta)))
        self.log_likelihood_ = float(ll)
        self.n_customers_ = n_customers
        self.n_rows_ = int(arrays[0].size)
        self.converged_ = ok
        self.n_iter_ = nit
        self.hessian_ = pd.DataFrame(H, index=self._param_names, columns=self._param_names)
        try:
            cov = np.linalg.inv(-H)
            if np.any(np.diag(cov) <= 0):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            warnings.warn(f"{type(self).__name__}: the Hessian is not negative definite at the "
                          "optimum; standard errors are not available", RuntimeWarning,
                          stacklevel=3)
            cov = np.full(H.shape, np.nan)
        self.covariance_ = pd.DataFrame(cov, index=self._param_names, columns=self._param_names)
        self.standard_errors_ = dict(zip(self._param_names, map(float, np.sqrt(np.diag(cov)))))
        if not ok:
            warnings.warn(f"{type(self).__name__}: the optimiser did not report convergence",
                          RuntimeWarning, stacklevel=3)
        return self

    # -- inspection ----------------------------------------------------------------------------
    def _theta(self) -> np.ndarray:
        if not hasattr(self, "params_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call fit() first")
        return np.array([self.params_[k] for k in self._param_names])

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% intervals (log-scale Wald); ``attrs`` holds
        ``log_likelihood``, ``n_customers``, ``n_rows`` and ``converged``."""
        theta = self._theta()
        se = np.array([self.standard_errors_[k] for k in self._param_names])
        with np.errstate(invalid="ignore"):
            spread = np.exp(Z95 * se / theta)
        out = pd.DataFrame({"estimate": theta, "std_error": se, "lower_95": theta / spread,
                            "upper_95": theta * spread}, index=list(self._param_names))
        out.index.name = "parameter"
        out.attrs.update(model=type(self).__name__, log_likelihood=self.log_likelihood_,
                         n_customers=self.n_customers_, n_rows=self.n_rows_,
                         converged=self.converged_)
        return out

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"{type(self).__name__}()"
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return (f"<{type(self).__name__}: {ps}; LL={self.log_likelihood_:.2f}, "
                f"n={self.n_customers_:g}>")


class _Data:
    pass


def _weights_column(frame: pd.DataFrame):
    for name in ("weight", "weights", "count", "n_customers"):
        if name in frame.columns:
            return frame[name].to_numpy()
    return None


class _TransactionModel(_MLEModel):
    """Models of the purchase process fitted on (frequency, recency, T)."""

    def fit(self, frequency, recency, T, weights=None):
        """Fit on one row per customer (or per group of equal customers, with ``weights``)."""
        x, t_x, T, w = _check_rft(frequency, recency, T, weights)
        return self._fit_arrays([x, t_x, T], w)

    def fit_summary(self, frame: pd.DataFrame):
        """Fit on a DataFrame with columns ``frequency``, ``recency``, ``T`` and optionally a
        ``weight`` (or ``weights``/``count``) column of customers per row."""
        return self.fit(frame["frequency"], frame["recency"], frame["T"], _weights_column(frame))

    def log_likelihood(self, frequency, recency, T, weights=None, params=None) -> float:
        """Weighted log-likelihood of data at the fitted (or given) parameters."""
        x, t_x, T, w = _check_rft(frequency, recency, T, weights)
        theta = self._theta() if params is None else np.array(
            [params[k] for k in self._param_names], dtype=float)
        return float(self._loglik(theta, self._prepare(x, t_x, T, weights=w), 0)[0])

    def _default_start(self, data) -> np.ndarray:
        # NBD moment guess for the purchase rate: E[lambda] = r/alpha = sum(x)/sum(T).
        rate = max(data.sum_x / data.sum_T, 1e-6)
        return np.array([1.0, 1.0 / rate, 1.0, 1.0])

    @staticmethod
    def _predict_inputs(frequency, recency, T):
        x = np.asarray(frequency, dtype=float)
        t_x = np.asarray(recency, dtype=float)
        T = np.asarray(T, dtype=float)
        x, t_x, T = np.broadcast_arrays(x, t_x, T)
        return x, np.where(x > 0, t_x, 0.0), T


# ---------------------------------------------------------------------------------------------
# BG/NBD and MBG/NBD
# ---------------------------------------------------------------------------------------------


class _BetaGeometricBase(_TransactionModel):
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
    _analytic_hessian = True
    _shift = 0

    def _prepare(self, x, t_x, T, weights):
        d = _Data()
        d.total_weight = float(weights.sum())
        d.sum_x = _wsum(weights, x)
        d.sum_T = _wsum(weights, T)
        d.ux, d.wx, inv = _frequency_table(x, weights)
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


class BGNBD(_BetaGeometricBase):
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


class MBGNBD(_BetaGeometricBase):
    """Modified BG/NBD (Batislam, Denizel & Filiztekin 2007; Hoppe & Wagner 2007): as the
    BG/NBD, but the customer may drop out right after the first purchase too, so customers
    without repeat purchases are not assumed alive."""

    _shift = 1

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer drawn at random at the first purchase:
        ``b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``."""
        r, alpha, a, b = self._theta()
        t = np.asarray(t, dtype=float)
        return b / (a + b) * alive_expected_purchases(r, a, b + 1.0, t / alpha)


# ---------------------------------------------------------------------------------------------
# Pareto/NBD
# ---------------------------------------------------------------------------------------------


class ParetoNBD(_TransactionModel):
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
    _analytic_hessian = False

    def _prepare(self, x, t_x, T, weights):
        d = _Data()
        d.total_weight = float(weights.sum())
        d.sum_x = _wsum(weights, x)
        d.sum_T = _wsum(weights, T)
        d.ux, d.wx, _ = _frequency_table(x, weights)
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
        return ll, g, self._fd_hessian(theta, d, g)

    def _fd_hessian(self, theta, d, g0):
        """Hessian by central differences of the analytic gradient (relative steps 1e-5),
        symmetrised."""
        k = theta.size
        H = np.empty((k, k))
        for j in range(k):
            h = 1e-5 * theta[j]
            tp, tm = theta.copy(), theta.copy()
            tp[j] += h
            tm[j] -= h
            H[:, j] = (self._loglik(tp, d, 1)[1] - self._loglik(tm, d, 1)[1]) / (2 * h)
        return 0.5 * (H + H.T)

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
        """P(X(t) = n) for a customer drawn at random at the first purchase.

        Either the customer is alive through (0, t], or dies at tau < t; lambda and mu are
        independent, so each case is the NBD count (lambda ~ Gamma(r, alpha)) times the chance of
        that lifetime (mu ~ Gamma(s, beta)): P = NBD(n; t) (beta/(beta+t))^s
        + int_0^t s beta^s / (beta+tau)^(s+1) NBD(n; tau) dtau. The smooth one-dimensional
        integral is done by adaptive quadrature for all (t, n) at once.
        """
        t, n = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(n, dtype=float))
        r, alpha, s, beta = self._theta()
        alive = _nbd_pmf(n, t, r, alpha) * np.exp(s * (math.log(beta) - np.log(beta + t)))

        def died_at(u):  # tau = u t, so every element integrates over [0, 1]
            tau = u * t
            density = s * np.exp(s * math.log(beta) - (s + 1.0) * np.log(beta + tau))
            return t * density * _nbd_pmf(n, tau, r, alpha)

        died, _ = integrate.quad_vec(died_at, 0.0, 1.0, epsabs=1e-14, epsrel=1e-10)
        return alive + died


def _nbd_pmf(n, t, r, alpha):
    """P(N(t) = n) when N is Poisson(lambda t) and lambda ~ Gamma(shape r, rate alpha)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_share = np.where(n > 0, n * (np.log(t) - np.log(alpha + t)), 0.0)
        return np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1.0)
                      + r * (math.log(alpha) - np.log(alpha + t)) + log_share)


def _pnbd_alive_expectation(shape_r, rate_a, s, rate_b, t):
    """(shape_r / rate_a) * rate_b/(s-1) * [1 - (rate_b/(rate_b+t))^(s-1)], stable at s = 1."""
    L = np.log1p(t / rate_b)
    y = -(s - 1.0) * L
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.where(np.abs(y) < 1e-8, 1.0 + 0.5 * y, np.expm1(y) / np.where(y == 0, 1, y))
    return shape_r / rate_a * rate_b * L * phi


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma spend model
# ---------------------------------------------------------------------------------------------


class GammaGamma(_MLEModel):
    """Gamma-Gamma model of the average spend per repeat purchase (Fader, Hardie & Lee 2005;
    Fader & Hardie 2013): spends are Gamma(p, nu), nu ~ Gamma(q, gamma) across customers,
    independent of the purchase process. Fitted on customers with frequency > 0; ``monetary`` is
    their average spend per repeat purchase. Per customer (x purchases, mean m):

        l = lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln(m) + px ln(x)
            - (px+q) ln(gamma + m x)
    """

    _param_names = ("p", "q", "gamma")
    _analytic_hessian = True

    def fit(self, frequency, monetary, weights=None):
        """Fit on customers' repeat-purchase counts and average spends; rows with frequency 0
        are ignored (they carry no spend information)."""
        x = _as_float("frequency", frequency)
        mv = _as_float("monetary", monetary)
        if x.size != mv.size:
            raise ValueError("frequency and monetary must have the same length")
        w = np.ones(x.size) if weights is None else _as_float("weights", weights)
        if np.any(w < 0):
            raise ValueError("weights must be >= 0")
        keep = (x > 0) & (w > 0)
        x, mv, w = x[keep], mv[keep], w[keep]
        if x.size == 0:
            raise ValueError("no customer with repeat purchases")
        if np.any(mv <= 0):
            raise ValueError("monetary must be > 0 for customers with repeat purchases")
        return self._fit_arrays([x, mv], w)

    def fit_summary(self, frame: pd.DataFrame):
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
        x = _as_float("frequency", frequency)
        mv = _as_float("monetary", monetary)
        w = np.ones(x.size) if weights is None else _as_float("weights", weights)
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


# ---------------------------------------------------------------------------------------------
# Customer lifetime value
# ---------------------------------------------------------------------------------------------


def customer_lifetime_value(transaction_model, spend_model, frequency, recency, T, monetary,
                            horizon: int = 12, discount_rate: float = 0.01,
                            time_unit_per_period: float = 1.0, chunk: int = 100_000
                            ) -> np.ndarray:
    """Expected discounted value of each customer's purchases over the next ``horizon`` periods.

    Convention (the one of lifetimes and of Fader, Hardie & Lee 2005): the future is cut into
    ``horizon`` periods of ``time_unit_per_period`` model time units each (e.g. 4.345 for
    months when the model was fitted in weeks, 30 for months of days, 1 when periods are the
    model's unit). Purchases expected during period k, ``E[X(k d)] - E[X((k-1) d)]`` given the
    history, are valued at the Gamma-Gamma expected spend and discounted at the end of the period
    by ``(1 + discount_rate)^k``; ``discount_rate`` is per period:

        CLV = E[spend | x, m] * sum_{k=1..horizon} (E[X(k d)] - E[X((k-1) d)]) / (1+r)^k.

    Customers with frequency 0 are valued at the population mean spend.
    """
    x = np.asarray(frequency, dtype=float).ravel()
    t_x = np.asarray(recency, dtype=float).ravel()
    T_ = np.asarray(T, dtype=float).ravel()
    mv = np.asarray(monetary, dtype=float).ravel()
    if horizon < 1:
        raise ValueError("horizon must be >= 1 period")
    k = np.arange(1, int(horizon) + 1)
    disc = (1.0 + discount_rate) ** -k.astype(float)
    times = k * float(time_unit_per_period)
    out = np.empty(x.size)
    for start in range(0, x.size, chunk):
        sl = slice(start, start + chunk)
        cum = transaction_model.expected_purchases(times[None, :], x[sl, None], t_x[sl, None],
                                                   T_[sl, None])
        per_period = np.diff(cum, axis=1, prepend=0.0)
        out[sl] = per_period @ disc
    return out * spend_model.expected_spend(x, mv)
