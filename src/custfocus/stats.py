"""Small shared statistics: the frozen result type and the intervals several modules use."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as sps

Z95 = float(sps.norm.ppf(0.975))


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
        return {k: _json_float(v) for k, v in asdict(self).items()}


def _json_float(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


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
