"""The shared maximum-likelihood core of the customer-base models (one file per model family
beside this one: :mod:`.bgnbd`, :mod:`.mbgnbd`, :mod:`.pareto_nbd`, :mod:`.gamma_gamma`, :mod:`.bgbb`).

Conventions (scikit-learn's): every model follows the estimator protocol of scikit-learn's
``BaseEstimator`` (:class:`.estimator.Estimator`: ``get_params``, ``set_params`` and
:func:`sklearn.base.clone` work, without importing scikit-learn); its settings go to
``__init__``; ``fit`` returns ``self``; learned values end in ``_``: ``params_`` and
``standard_errors_`` (pandas Series indexed by parameter name), ``log_likelihood_``,
``covariance_`` (DataFrame), ``n_customers_`` (sum of weights), ``n_rows_`` (rows actually
fitted after merging), ``converged_`` and, when it is False, ``convergence_problem_`` (why, in
words); ``summary()`` is a DataFrame. A fit that did not converge warns with
:class:`ConvergenceWarning` (a ``UserWarning``), and its parameters must not be used.
Data: ``frequency`` = repeat purchases, ``recency`` = time from the first to the last purchase
(0 without repeat purchases), ``T`` = time from the first purchase to the end of the calibration
period, all in one time unit (the parameters ``alpha`` and ``beta`` are in that unit). Customers
with ``T = 0`` (first seen at the very end) carry no information and are left out of fits.

Fitting. The weighted log-likelihood is maximised over log-parameters. Models with analytic
gradients *and* analytic Hessians (BG/NBD, MBG/NBD, Gamma-Gamma, BG/BB) use a damped Newton
method; the Pareto/NBD has an analytic gradient and uses L-BFGS-B followed by Newton polishing on
a Hessian obtained by central differences of the analytic gradient. Standard errors come from the
inverse of the negative Hessian of the (unpenalised) log-likelihood in natural parameters at the
optimum. 95% intervals are Wald intervals on the log scale (``estimate * exp(+-1.96 se/estimate)``),
which stay positive.

Convergence. A fit has converged when the optimiser reached a stationary point, the
log-likelihood there is finite and no parameter ran off towards 0 or infinity (outside
``[1e-8, 1e8]``): such a fit is the limit of a simpler model the data cannot tell apart (for
instance every customer buying at the same rate), not an estimate.

Large inputs: rows with equal (frequency, recency, T) are fitted once with a weight
(:func:`merge_equal_rows`; ``merge="auto"`` does so when a sample shows duplicates), terms that
depend on the frequency alone are computed once per distinct frequency, and with more than
``subsample`` rows the optimiser starts from a fit on a random sample of that many customers, so
that only a few Newton steps touch the full data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import polygamma

from custfocus.stats import Z95
from custfocus.value.fitters.estimator import Estimator

PARAMETER_RANGE = (1e-8, 1e8)  # beyond it a parameter has run off to a boundary of the model


class ConvergenceWarning(UserWarning):
    """A model's fit did not converge (or its standard errors are not available)."""


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


def _checked_columns(weights, **columns) -> tuple[list[np.ndarray], np.ndarray]:
    """The named data columns as float arrays, and the weights (1 by default), checked: finite,
    of one length, at least one row, weights >= 0."""
    arrays = [_as_float(name, values) for name, values in columns.items()]
    if len({a.size for a in arrays}) != 1:
        raise ValueError(f"{', '.join(columns)} must have the same length")
    if arrays[0].size == 0:
        raise ValueError("no customers")
    w = np.ones(arrays[0].size) if weights is None else _as_float("weights", weights)
    if w.size != arrays[0].size:
        raise ValueError("weights must have the same length as frequency")
    if np.any(w < 0):
        raise ValueError("weights must be >= 0")
    return arrays, w


def _check_rft(frequency, recency, T, weights=None):
    (x, t_x, T), w = _checked_columns(weights, frequency=frequency, recency=recency, T=T)
    if np.any(x < 0):
        raise ValueError("frequency must be >= 0")
    if np.any(T < 0):
        raise ValueError("T must be >= 0")
    if np.any(t_x < 0):
        raise ValueError("recency must be >= 0")
    if np.any(t_x > T):
        raise ValueError("recency must be <= T")
    # Without repeat purchases the recency carries no information (and is 0 by convention).
    t_x = np.where(x > 0, t_x, 0.0)
    # A customer first seen at the very end (T = 0) was observed for no time: the likelihood is 1
    # whatever the parameters, so such rows are left out, as rows of weight 0 are.
    keep = (w > 0) & (T > 0)
    if not keep.any():
        raise ValueError("T must be > 0 for at least one customer of positive weight")
    return x[keep], t_x[keep], T[keep], w[keep]


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


class MaximumLikelihoodModel(Estimator):
    """Weighted exact maximum likelihood over positive parameters, fitted in log space.

    Settings: ``penalizer`` adds ``penalizer * sum(theta^2)`` to the per-customer objective (as
    lifetimes' ``penalizer_coef``); ``initial_params`` (dict or sequence) replaces the default
    start; ``tol`` is the gradient tolerance; ``merge``, ``subsample`` and ``random_state``
    control the large-input shortcuts of the module doc.
    """

    _param_names: tuple[str, ...] = ()
    # What it means when a pair of parameters runs off to infinity together (a Gamma or Beta
    # mixing distribution collapsing to one value), for the convergence message.
    _limits: tuple[tuple[tuple[str, str], str], ...] = ()
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
            # Imported here: the models with an analytic Hessian (BG/NBD, Gamma-Gamma) never need it.
            from scipy import optimize

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

    def _gradient_difference_hessian(self, theta: np.ndarray, data) -> np.ndarray:
        """Hessian of the log-likelihood in natural parameters by central differences of the
        analytic gradient (relative steps 1e-5), symmetrised: for models without an analytic
        Hessian."""
        k = theta.size
        H = np.empty((k, k))
        for j in range(k):
            h = 1e-5 * theta[j]
            up, down = theta.copy(), theta.copy()
            up[j] += h
            down[j] -= h
            H[:, j] = (self._loglik(up, data, 1)[1] - self._loglik(down, data, 1)[1]) / (2 * h)
        return 0.5 * (H + H.T)

    def _fit_arrays(self, arrays: list[np.ndarray], w: np.ndarray, initial_params=None):
        """Fit on the checked data columns with weights ``w``; ``initial_params`` (else the
        setting of the same name) replaces the default start."""
        n_customers = float(w.sum())
        merge = self.merge
        if merge == "auto":
            merge = _worth_merging(arrays)
        if merge:
            codes, rep = _group_rows(arrays)
            w = np.bincount(codes, weights=w, minlength=rep.size)
            arrays = [a[rep] for a in arrays]
        data = self._prepare(*arrays, weights=w)
        ip = self.initial_params if initial_params is None else initial_params
        if ip is not None:
            vals = [ip[k] for k in self._param_names] if hasattr(ip, "keys") else list(ip)
            start = np.asarray(vals, dtype=float)
            if start.shape != (len(self._param_names),) or np.any(start <= 0):
                raise ValueError(f"initial_params must give {len(self._param_names)} positive "
                                 f"values for {', '.join(self._param_names)}")
        polish = None
        if ip is None:
            start = self._default_start(data)
            n_rows = arrays[0].size
            if self.subsample and n_rows > 2 * self.subsample:
                # A sample of customers (rows drawn in proportion to their weights, equal draws
                # merged): on merged rows, whose weights range from 1 to thousands, a sample of
                # rows starts the optimiser further off, a full Newton step away.
                rng = np.random.default_rng(self.random_state)
                draws = np.bincount(rng.choice(n_rows, self.subsample, p=w / w.sum()), minlength=n_rows)
                idx = np.flatnonzero(draws)
                sub = self._prepare(*(a[idx] for a in arrays), weights=draws[idx].astype(float))
                eta, _, _ = self._optimise(sub, start)
                start = np.exp(eta)
                polish = getattr(self, "_polish_hessian", None)
        eta, ok, nit = self._optimise(data, start, polish_from=polish)
        self._polish_hessian = None
        self._store_fit(data, np.exp(eta), ok, nit, n_customers, int(arrays[0].size))
        return self

    def _store_fit(self, data, theta: np.ndarray, ok: bool, nit: int, n_customers: float,
                   n_rows: int) -> None:
        """Set the learned attributes at ``theta``, judge convergence and warn about problems."""
        last = getattr(self, "_last_eval", None)
        if last is not None and np.array_equal(last[0], theta):
            ll, _, H = last[1]
        else:
            ll, _, H = self._loglik(theta, data, 2)
        self._last_eval = None
        names = list(self._param_names)
        self.params_ = pd.Series(theta, index=names, dtype=float)
        self.log_likelihood_ = float(ll)
        self.n_customers_ = n_customers
        self.n_rows_ = n_rows
        self.n_iter_ = nit
        self.convergence_problem_ = self._convergence_problem(theta, float(ll), ok)
        self.converged_ = self.convergence_problem_ is None
        self.hessian_ = pd.DataFrame(H, index=names, columns=names)
        with np.errstate(invalid="ignore", over="ignore"):
            try:
                cov = np.linalg.inv(-H)
                if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
                    raise np.linalg.LinAlgError
            except np.linalg.LinAlgError:
                cov = np.full(H.shape, np.nan)
                if self.converged_:
                    warnings.warn(f"{type(self).__name__}: the Hessian is not negative definite at "
                                  "the optimum; standard errors are not available",
                                  ConvergenceWarning, stacklevel=4)
        self.covariance_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=names, dtype=float)
        if not self.converged_:
            warnings.warn(f"{type(self).__name__} did not converge: {self.convergence_problem_}",
                          ConvergenceWarning, stacklevel=4)

    def _convergence_problem(self, theta: np.ndarray, ll: float, optimiser_ok: bool) -> str | None:
        """Why the fit at ``theta`` is not an estimate (see the module doc), or None."""
        low, high = PARAMETER_RANGE
        ran_off = {name: value for name, value in zip(self._param_names, theta)
                   if not low <= value <= high}
        if ran_off:
            where = ", ".join(f"{name} ran off to {value:.2g}" for name, value in ran_off.items())
            limits = [meaning for pair, meaning in self._limits if set(pair) <= set(ran_off)]
            why = (" and ".join(limits) + ", which the model reaches only in this limit"
                   if limits else "the data cannot pin its parameters down, for instance because "
                   "customers differ too little or are too few")
            return f"the likelihood keeps rising towards the edge of the model ({where}): {why}"
        if not np.isfinite(ll):
            return "the log-likelihood at the optimiser's last point is not finite"
        if not optimiser_ok:
            return "the optimiser stopped before it reached a maximum of the likelihood"
        return None

    # -- inspection ----------------------------------------------------------------------------
    def _theta(self) -> np.ndarray:
        """The parameters in model order (``params_`` may also be set by hand, as a Series or a
        dict, to predict with known values)."""
        if not hasattr(self, "params_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call fit() first")
        return np.array([self.params_[k] for k in self._param_names], dtype=float)

    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% intervals (log-scale Wald); ``attrs`` holds
        ``log_likelihood``, ``n_customers``, ``n_rows`` and ``converged``."""
        theta = self._theta()
        se = np.array([self.standard_errors_[k] for k in self._param_names], dtype=float)
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
        ps = ", ".join(f"{k}={self.params_[k]:.4g}" for k in self._param_names)
        if not hasattr(self, "log_likelihood_"):  # parameters set by hand
            return f"<{type(self).__name__}: {ps}>"
        return (f"<{type(self).__name__}: {ps}; LL={self.log_likelihood_:.2f}, "
                f"n={self.n_customers_:g}" + ("" if self.converged_ else ", NOT CONVERGED") + ">")


class _Data:
    pass


def _weights_column(frame: pd.DataFrame):
    for name in ("weight", "weights", "count", "n_customers"):
        if name in frame.columns:
            return frame[name].to_numpy()
    return None


class TransactionModel(MaximumLikelihoodModel):
    """Models of the purchase process fitted on (frequency, recency, T)."""

    def fit(self, frequency, recency, T, weights=None, initial_params=None):
        """Fit on one row per customer (or per group of equal customers, with ``weights``);
        ``initial_params`` overrides the setting of the same name for this fit."""
        x, t_x, T, w = _check_rft(frequency, recency, T, weights)
        return self._fit_arrays([x, t_x, T], w, initial_params)

    def fit_frame(self, frame: pd.DataFrame):
        """Fit on a DataFrame of customer histories: columns ``frequency``, ``recency``, ``T``
        and optionally a ``weight`` (or ``weights``/``count``) column of customers per row."""
        return self.fit(frame["frequency"], frame["recency"], frame["T"], _weights_column(frame))

    def log_likelihood(self, frequency, recency, T, weights=None, params=None) -> float:
        """Weighted log-likelihood of data at the fitted (or given) parameters."""
        x, t_x, T, w = _check_rft(frequency, recency, T, weights)
        theta = self._theta() if params is None else np.array(
            [params[k] for k in self._param_names], dtype=float)
        return float(self._loglik(theta, self._prepare(x, t_x, T, weights=w), 0)[0])

    @staticmethod
    def _count_data(x, T, weights) -> tuple[_Data, np.ndarray]:
        """The data every transaction model's likelihood uses: total weight, weighted sums of x
        and T, the table of distinct frequencies (:func:`_frequency_table`); and each row's index
        into that table."""
        d = _Data()
        d.total_weight = float(weights.sum())
        d.sum_x = _wsum(weights, x)
        d.sum_T = _wsum(weights, T)
        d.ux, d.wx, inverse = _frequency_table(x, weights)
        return d, inverse

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
