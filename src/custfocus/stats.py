"""Shared statistics: the frozen result types and the intervals every analysis uses.

One family of results, one naming: ``estimate``, ``low``, ``high`` (a 95% interval unless a
``confidence`` says otherwise) and ``n`` (the observations behind it). A :class:`Difference` adds
the group sizes ``n_a``, ``n_b``, a ``p_value`` and ``significant``.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

Z95 = float(sps.norm.ppf(0.975))
# Below this many observations the normal approximations behind the intervals here are unreliable,
# so every analysis flags a group this small as too thin to conclude.
MIN_SAMPLE = 30


def z_value(confidence: float = 0.95) -> float:
    """The two-sided normal quantile for ``confidence``."""
    return float(sps.norm.ppf(0.5 + confidence / 2))


@dataclass(frozen=True)
class Estimate:
    """A statistic with its 95% confidence interval and the sample size behind it."""

    estimate: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def to_dict(self) -> dict:
        return to_jsonable(asdict(self))


@dataclass(frozen=True)
class Difference:
    """b minus a, with its confidence interval and two-sided p-value (in the units of the metric)."""

    estimate: float
    low: float
    high: float
    n_a: int
    n_b: int
    p_value: float
    significant: bool

    @property
    def n(self) -> int:
        return self.n_a + self.n_b

    def to_dict(self) -> dict:
        return to_jsonable(asdict(self))


@dataclass(frozen=True)
class Welch:
    """Welch's unequal-variance t statistics for a difference of two means (b minus a)."""

    estimate: float
    standard_error: float
    df: float  # Welch-Satterthwaite
    low: float
    high: float
    p_value: float


def welch(mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int,
          confidence: float = 0.95) -> Welch:
    """Welch's t interval and test of ``mean_b - mean_a`` from each group's mean, sample variance
    (n - 1) and size. Needs two or more observations per group and some spread; NaN otherwise."""
    estimate = mean_b - mean_a
    share_a = var_a / n_a if n_a > 1 else math.nan
    share_b = var_b / n_b if n_b > 1 else math.nan
    se = math.sqrt(share_a + share_b) if share_a + share_b >= 0 else math.nan
    if not se > 0:
        return Welch(float(estimate), se, math.nan, math.nan, math.nan, math.nan)
    df = (share_a + share_b) ** 2 / (share_a**2 / (n_a - 1) + share_b**2 / (n_b - 1))
    spread = float(sps.t.ppf(0.5 + confidence / 2, df)) * se
    p_value = float(2 * sps.t.sf(abs(estimate) / se, df))
    return Welch(float(estimate), se, float(df), estimate - spread, estimate + spread, p_value)


def t_intervals(mean, sd, n, confidence: float = 0.95):
    """Vectorised Student t interval of a mean: arrays (mean, low, high); NaN where n < 2."""
    mean = np.asarray(mean, dtype=float)
    n = np.asarray(n, dtype=float)
    enough = n >= 2
    degrees = np.where(enough, n - 1, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = sps.t.ppf(0.5 + confidence / 2, degrees) * np.asarray(sd, dtype=float) / np.sqrt(n)
    spread = np.where(enough, spread, np.nan)
    return mean, mean - spread, mean + spread


def wilson_interval(successes: float, n: float, z: float = Z95) -> Estimate:
    """Wilson score interval for a binomial proportion (good coverage at small n and near 0 or 1)."""
    if n <= 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Estimate(p, max(0.0, centre - spread), min(1.0, centre + spread), int(n))


def wilson_intervals(successes: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson bounds (low, high); NaN where n is 0."""
    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.clip(centre - spread, 0, 1), np.clip(centre + spread, 0, 1)


def to_jsonable(value):
    """Plain JSON types: numpy scalars to Python, NaN and infinity to null, dates to ISO strings,
    pandas periods to their names ('2024-03', '2024Q1')."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return to_jsonable(value.to_dict("records"))
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value
