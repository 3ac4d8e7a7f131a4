"""Statistics of the pulse surveys, computed from counts and summaries (no tables here).

Units are the ones a report shows: NPS in points (-100..+100), CSAT in percent satisfied (0..100),
CES in points of its 1-7 scale. Intervals are two-sided at ``confidence`` (95% by default).

* NPS: the plain sample NPS, with the adjusted-Wald interval of Rocks (2016, The American
  Statistician, "Interval estimation for the Net Promoter Score"): add 3 to n and 3/4 to promoters
  and to detractors, then a Wald interval on the difference of the two shares.
* CSAT: the share answering 4 or 5 of 5, with the Wilson interval.
* CES: the mean score, with a Student t interval.
* Differences (b minus a): NPS with the adjusted-Wald variance of each group; CSAT with the
  Agresti-Caffo interval (one success and one failure added to each group); CES with Welch's t.
  The p-value comes from the same statistic as the interval, so ``significant`` is true exactly
  when the interval excludes zero.

The "too small to conclude" rule (:func:`too_small`): fewer than ``MIN_RESPONSES`` (30) responses,
or a 95% interval wider than ± 7.5% of the scale's span (15 NPS points, 7.5 CSAT percentage
points, 0.45 on the CES scale). Below 30 the normal approximations behind every interval here are
unreliable; beyond that half-width a typical month-to-month move cannot be told from noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from custfocus.stats import (
    MIN_SAMPLE,
    Difference,
    Estimate,
    t_intervals,
    welch,
    wilson_intervals,
    z_value,
)

PROMOTER_MIN = 9  # 9-10 promote
DETRACTOR_MAX = 6  # 0-6 detract, 7-8 are passive
SATISFIED_MIN = 4  # CSAT 4 or 5 of 5 counts as satisfied

MIN_RESPONSES = MIN_SAMPLE
MAX_HALF_WIDTH = {"nps": 15.0, "csat": 7.5, "ces": 0.45}
WORST_CASE_CES_SD = 3.0  # half the answers at 1, half at 7

# Rocks (2016): pseudo-observations added before the Wald interval.
_ADDED_RESPONSES = 3.0
_ADDED_PROMOTERS = _ADDED_DETRACTORS = 0.75


@dataclass(frozen=True)
class NpsCounts:
    """How many answers of an NPS question were promoters, passives and detractors."""

    promoters: int
    passives: int
    detractors: int

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @classmethod
    def from_scores(cls, scores: Iterable[int]) -> NpsCounts:
        scores = np.asarray(list(scores))
        promoters = int((scores >= PROMOTER_MIN).sum())
        detractors = int((scores <= DETRACTOR_MAX).sum())
        return cls(promoters, len(scores) - promoters - detractors, detractors)


@dataclass(frozen=True)
class SatisfiedCounts:
    """How many CSAT answers were satisfied (4-5) out of n."""

    satisfied: int
    n: int

    @classmethod
    def from_scores(cls, scores: Iterable[int]) -> SatisfiedCounts:
        scores = np.asarray(list(scores))
        return cls(int((scores >= SATISFIED_MIN).sum()), len(scores))


@dataclass(frozen=True)
class ScoreSummary:
    """Mean, sample standard deviation and count of scores (CES)."""

    mean: float
    sd: float
    n: int

    @classmethod
    def from_scores(cls, scores: Iterable[float]) -> ScoreSummary:
        scores = np.asarray(list(scores), dtype=float)
        sd = float(scores.std(ddof=1)) if len(scores) > 1 else math.nan
        return cls(float(scores.mean()) if len(scores) else math.nan, sd, len(scores))


# --- NPS -------------------------------------------------------------------------------------


def _adjusted_nps(promoters, detractors, n):
    """Rocks' adjusted shares: (centre, variance per response, adjusted n), as arrays."""
    adjusted_n = np.asarray(n, dtype=float) + _ADDED_RESPONSES
    p_pro = (np.asarray(promoters, dtype=float) + _ADDED_PROMOTERS) / adjusted_n
    p_det = (np.asarray(detractors, dtype=float) + _ADDED_DETRACTORS) / adjusted_n
    centre = p_pro - p_det
    return centre, p_pro + p_det - centre**2, adjusted_n


def nps_intervals(promoters, detractors, n, confidence: float = 0.95):
    """Vectorised NPS and its adjusted-Wald interval, in points: arrays (nps, low, high).

    NaN where n is 0. Counts may be fractional (expected counts for planning).
    """
    n = np.asarray(n, dtype=float)
    centre, variance, adjusted_n = _adjusted_nps(promoters, detractors, n)
    spread = z_value(confidence) * np.sqrt(variance / adjusted_n)
    empty = n <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        nps = np.where(empty, np.nan, (np.asarray(promoters) - np.asarray(detractors)) / n)
    low = np.where(empty, np.nan, np.clip(centre - spread, -1, 1))
    high = np.where(empty, np.nan, np.clip(centre + spread, -1, 1))
    return 100 * nps, 100 * low, 100 * high


def nps_interval(counts: NpsCounts, confidence: float = 0.95) -> Estimate:
    """The NPS in points with its adjusted-Wald interval (Rocks 2016)."""
    nps, low, high = nps_intervals(counts.promoters, counts.detractors, counts.n, confidence)
    return Estimate(float(nps), float(low), float(high), counts.n)


def nps_difference(a: NpsCounts, b: NpsCounts, confidence: float = 0.95) -> Difference:
    """NPS of b minus NPS of a, in points, with each group's adjusted-Wald variance."""
    if a.n == 0 or b.n == 0:
        return Difference(math.nan, math.nan, math.nan, a.n, b.n, math.nan, False)
    centre_a, variance_a, adjusted_n_a = _adjusted_nps(a.promoters, a.detractors, a.n)
    centre_b, variance_b, adjusted_n_b = _adjusted_nps(b.promoters, b.detractors, b.n)
    se = math.sqrt(variance_a / adjusted_n_a + variance_b / adjusted_n_b)
    plain = (b.promoters - b.detractors) / b.n - (a.promoters - a.detractors) / a.n
    return _normal_difference(100 * plain, 100 * float(centre_b - centre_a), 100 * se, a.n, b.n,
                              confidence, bound=200.0)


def _normal_difference(estimate, centre, se, n_a, n_b, confidence, bound) -> Difference:
    z = z_value(confidence)
    p_value = math.erfc(abs(centre) / se / math.sqrt(2))  # two-sided normal tail
    low, high = max(-bound, centre - z * se), min(bound, centre + z * se)
    return Difference(float(estimate), low, high, int(n_a), int(n_b), p_value, p_value < 1 - confidence)


# --- CSAT ------------------------------------------------------------------------------------


def csat_intervals(satisfied, n, confidence: float = 0.95):
    """Vectorised CSAT and its Wilson interval, in percent: arrays (csat, low, high); NaN where n is 0."""
    satisfied = np.asarray(satisfied, dtype=float)
    n = np.asarray(n, dtype=float)
    low, high = wilson_intervals(satisfied, n, z_value(confidence))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = satisfied / n
    return 100 * share, 100 * low, 100 * high


def csat_interval(counts: SatisfiedCounts, confidence: float = 0.95) -> Estimate:
    """Percent satisfied (4-5 of 5) with its Wilson interval."""
    csat, low, high = csat_intervals(counts.satisfied, counts.n, confidence)
    return Estimate(float(csat), float(low), float(high), counts.n)


def csat_difference(a: SatisfiedCounts, b: SatisfiedCounts, confidence: float = 0.95) -> Difference:
    """CSAT of b minus CSAT of a, in percentage points (Agresti-Caffo interval)."""
    if a.n == 0 or b.n == 0:
        return Difference(math.nan, math.nan, math.nan, a.n, b.n, math.nan, False)
    # Agresti & Caffo (2000): one success and one failure added to each group.
    share_a, share_b = (a.satisfied + 1) / (a.n + 2), (b.satisfied + 1) / (b.n + 2)
    se = math.sqrt(share_a * (1 - share_a) / (a.n + 2) + share_b * (1 - share_b) / (b.n + 2))
    plain = b.satisfied / b.n - a.satisfied / a.n
    return _normal_difference(100 * plain, 100 * (share_b - share_a), 100 * se, a.n, b.n,
                              confidence, bound=100.0)


# --- CES -------------------------------------------------------------------------------------


def ces_intervals(mean, sd, n, confidence: float = 0.95):
    """Vectorised mean score and its t interval: arrays (mean, low, high); NaN where n < 2."""
    return t_intervals(mean, sd, n, confidence)


def ces_interval(summary: ScoreSummary, confidence: float = 0.95) -> Estimate:
    """Mean CES with its t interval."""
    mean, low, high = ces_intervals(summary.mean, summary.sd, summary.n, confidence)
    return Estimate(float(mean), float(low), float(high), summary.n)


def ces_difference(a: ScoreSummary, b: ScoreSummary, confidence: float = 0.95) -> Difference:
    """Mean CES of b minus that of a, with Welch's t interval and test."""
    test = welch(a.mean, a.sd**2, a.n, b.mean, b.sd**2, b.n, confidence)
    # Fewer than two answers, or no spread at all: no interval and no test.
    return Difference(test.estimate, test.low, test.high, a.n, b.n, test.p_value,
                      test.p_value < 1 - confidence)


# --- Planning --------------------------------------------------------------------------------


def _smallest_n(half_width_at, margin: float) -> int:
    """Smallest n >= 1 with half_width_at(n) <= margin (half-widths shrink as n grows)."""
    if not margin > 0:
        raise ValueError(f"margin must be positive, got {margin}")
    high = 1
    while half_width_at(high) > margin:
        high *= 2
    low = high // 2  # half_width_at(low) > margin, or low == 0
    while high - low > 1:
        middle = (low + high) // 2
        if half_width_at(middle) > margin:
            low = middle
        else:
            high = middle
    return max(high, 1)


def nps_responses_needed(margin: float = 5.0, promoter_share: float = 0.5,
                         detractor_share: float = 0.5, confidence: float = 0.95) -> int:
    """Responses for the NPS interval to be ± ``margin`` points, given the expected shares.

    The defaults (half promoters, half detractors) are the worst case, the largest variance.
    """
    if promoter_share < 0 or detractor_share < 0 or promoter_share + detractor_share > 1:
        raise ValueError("promoter and detractor shares must be non-negative and add up to at most 1")

    def half_width(n):
        _, low, high = nps_intervals(promoter_share * n, detractor_share * n, n, confidence)
        return float(high - low) / 2

    return _smallest_n(half_width, margin)


def proportion_responses_needed(margin: float = 5.0, share: float = 0.5, confidence: float = 0.95) -> int:
    """Responses for a Wilson interval of ± ``margin`` percentage points around ``share``.

    ``share`` defaults to 0.5, the worst case. Used for CSAT.
    """
    if not 0 <= share <= 1:
        raise ValueError(f"share must be between 0 and 1, got {share}")

    def half_width(n):
        _, low, high = csat_intervals(share * n, n, confidence)
        return float(high - low) / 2

    return _smallest_n(half_width, margin)


def mean_responses_needed(margin: float, sd: float = WORST_CASE_CES_SD, confidence: float = 0.95) -> int:
    """Responses for a t interval of ± ``margin`` scale points on a mean (CES)."""

    def half_width(n):
        _, low, high = ces_intervals(0.0, sd, n, confidence)
        return float(high - low) / 2 if n >= 2 else math.inf

    return _smallest_n(half_width, margin)


# --- Too small to conclude -------------------------------------------------------------------


def too_small(n, low, high, metric: str):
    """Vectorised "too small to conclude" flag (see the module docstring for the rule).

    ``metric`` is 'nps' (also employee NPS), 'csat' or 'ces'; a missing interval counts as too small.
    """
    half_width = (np.asarray(high, dtype=float) - np.asarray(low, dtype=float)) / 2
    with np.errstate(invalid="ignore"):
        narrow_enough = half_width <= MAX_HALF_WIDTH[metric]
    return (np.asarray(n) < MIN_RESPONSES) | ~narrow_enough


SMALL_SAMPLE_RULE = (
    f"Flagged 'too small to conclude' when there are fewer than {MIN_RESPONSES} responses or the 95% "
    f"interval is wider than ±{MAX_HALF_WIDTH['nps']:g} NPS points, ±{MAX_HALF_WIDTH['csat']:g} CSAT "
    f"percentage points or ±{MAX_HALF_WIDTH['ces']:g} CES points (7.5% of each scale's span)."
)
