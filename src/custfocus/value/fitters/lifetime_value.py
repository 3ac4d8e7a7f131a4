"""Customer lifetime value from a fitted transaction model and a fitted spend model."""

from __future__ import annotations

import numpy as np


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
