"""Simulate customers from the buy-till-you-die models, with known parameters.

Each function returns a DataFrame with one row per customer: ``frequency`` (repeat purchases),
``recency`` (time of the last repeat purchase, 0 when there is none) and ``T`` (time since the
first purchase), all in the model's time unit. They are the oracles of the parameter-recovery
tests and of the demo company: fitting the matching model must give back the parameters.

Everything is vectorised; one million customers take well under a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _ages(T, n: int, rng: np.random.Generator) -> np.ndarray:
    if callable(T):
        return np.asarray(T(n, rng), dtype=float)
    T = np.asarray(T, dtype=float)
    return np.broadcast_to(T, (n,)).astype(float, copy=True)


def _observe(lam: np.ndarray, lifetime_purchases: np.ndarray, window: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Frequency and recency when a customer buys at rate ``lam`` in ``[0, window]`` and stops
    after ``lifetime_purchases`` repeat purchases (``inf``: never stops on a purchase).

    The number of Poisson arrivals in the window is drawn first; given it, the arrival times are
    uniform order statistics, so the time of the x-th one is ``window * Beta(x, n - x + 1)``.
    """
    arrivals = rng.poisson(lam * window)
    x = np.minimum(arrivals, lifetime_purchases).astype(np.int64)
    recency = np.zeros(x.shape)
    has = x > 0
    recency[has] = window[has] * rng.beta(x[has], arrivals[has] - x[has] + 1)
    return x, recency


def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, T=52.0,
                   seed=None) -> pd.DataFrame:
    """BG/NBD (Fader, Hardie & Lee 2005): Poisson purchases at rate lambda ~ Gamma(r, alpha) while
    alive; after each repeat purchase the customer drops out with probability p ~ Beta(a, b).

    ``T`` is a number, an array of n ages, or a callable ``T(n, rng)``.
    """
    rng = np.random.default_rng(seed)
    T = _ages(T, n, rng)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    # The purchase after which the customer drops out: 1, 2, ... (geometric).
    last = rng.geometric(p)
    x, recency = _observe(lam, last, T, rng)
    return pd.DataFrame({"frequency": x, "recency": recency, "T": T})


def simulate_mbgnbd(n: int, r: float, alpha: float, a: float, b: float, T=52.0,
                    seed=None) -> pd.DataFrame:
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): as BG/NBD, but the customer may also drop
    out right after the first purchase (time 0), so the number of repeat purchases made while
    alive is geometric from 0."""
    rng = np.random.default_rng(seed)
    T = _ages(T, n, rng)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    last = rng.geometric(p) - 1
    x, recency = _observe(lam, last, T, rng)
    return pd.DataFrame({"frequency": x, "recency": recency, "T": T})


def simulate_pareto_nbd(n: int, r: float, alpha: float, s: float, beta: float, T=52.0,
                        seed=None) -> pd.DataFrame:
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987): Poisson purchases at rate
    lambda ~ Gamma(r, alpha) until an exponential lifetime with rate mu ~ Gamma(s, beta)."""
    rng = np.random.default_rng(seed)
    T = _ages(T, n, rng)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    lifetime = rng.exponential(1.0 / mu)
    window = np.minimum(lifetime, T)
    x, recency = _observe(lam, np.full(n, np.iinfo(np.int64).max), window, rng)
    return pd.DataFrame({"frequency": x, "recency": recency, "T": T})


def simulate_gamma_gamma(frequency, p: float, q: float, gamma: float, seed=None) -> np.ndarray:
    """Average spend per repeat purchase under the Gamma-Gamma model (Fader, Hardie & Lee 2005;
    Fader & Hardie 2013): each spend is Gamma(p, nu), nu ~ Gamma(q, gamma) per customer, so the
    mean of x spends is Gamma(p x, nu x). Customers with frequency 0 get 0."""
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency)
    nu = rng.gamma(q, 1.0 / gamma, x.shape)
    out = np.zeros(x.shape)
    has = x > 0
    out[has] = rng.gamma(p * x[has], 1.0 / (nu[has] * x[has]))
    return out


def simulate_bgbb(n: int, alpha: float, beta: float, gamma: float, delta: float, n_periods=6,
                  seed=None) -> pd.DataFrame:
    """BG/BB (Fader, Hardie & Shang 2010): at each of ``n_periods`` opportunities after the first
    transaction a customer first drops out for good with probability theta ~ Beta(gamma, delta),
    and if still alive transacts with probability p ~ Beta(alpha, beta). Columns ``frequency``,
    ``recency`` (the opportunity of the last transaction, 0 without one) and ``n_periods``."""
    rng = np.random.default_rng(seed)
    periods = np.broadcast_to(np.asarray(n_periods, dtype=np.int64), (n,))
    p = rng.beta(alpha, beta, n)
    theta = rng.beta(gamma, delta, n)
    alive_for = np.minimum(rng.geometric(theta) - 1, periods)  # opportunities survived
    opportunity = np.arange(1, periods.max() + 1)[None, :]
    bought = (rng.random((n, opportunity.size)) < p[:, None]) & (opportunity <= alive_for[:, None])
    return pd.DataFrame({"frequency": bought.sum(axis=1),
                         "recency": np.where(bought, opportunity, 0).max(axis=1),
                         "n_periods": periods})
