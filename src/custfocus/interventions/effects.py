"""Statistics of a randomised experiment: effects, the split check, break-even and sample size.

All effects are treated minus control, per customer, in the outcome's units.

* Welch: the difference in means with the unpooled standard error
  ``sqrt(s_t^2 / n_t + s_c^2 / n_c)`` (sample variances, n - 1), a Student t interval on the
  Welch-Satterthwaite degrees of freedom and its two-sided p-value. This is the textbook estimate
  published experiments report, so their effects and standard errors come back exactly.
* Bootstrap: BCa (bias-corrected and accelerated, Efron 1987) from resampling customers within each
  group, with the acceleration from the empirical influence of each customer. It follows the skew of
  heavy-tailed spend that a symmetric t interval cannot.
* Verdict interval: from the lower of the two lower bounds to the higher of the two upper bounds.
  The verdict says *pays* or *does not pay* only when both intervals exclude zero on the same side;
  otherwise it is *not yet known*. (Coverage of each, by simulation: ``docs/interventions.md``.)
* Split check: a chi-square test of the group sizes against the planned share (a sample-ratio
  mismatch at p < 0.001); when the plan is not given, the common design (1/2, 1/3, 1/4, 1/5, 1/10,
  1/20, 1/100 or their complements) that fits best is assumed and said.
* Thin data: when the difference in means is itself skewed (Cochran's rule: skewness of the estimate
  0.2 or more, as when a small group of heavy-tailed spenders is compared with a large one), the
  report says the intervals are approximate.
* Balance: standardised mean differences (difference over the root of the average of the two
  variances) of what was known before assignment; a covariate is flagged when the groups differ
  beyond chance (Welch p < 0.001) or by a material and significant amount (|SMD| >= 0.1, p < 0.05).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as sps

from custfocus import stats
from custfocus.stats import Z95, to_jsonable

CONFIDENCE = 0.95
POWER = 0.8
SRM_ALPHA = 0.001
MATERIAL_SMD = 0.1
MAX_ESTIMATE_SKEWNESS = 0.2  # Cochran's rule, for the skewness of the estimate
BOOTSTRAP_REPLICATES = 2000
NORMAL_LIMIT_BEYOND = 200_000  # customers per group beyond which replicates come from the normal limit
COMMON_SPLITS = (1 / 2, 1 / 3, 2 / 3, 1 / 4, 3 / 4, 1 / 5, 4 / 5, 1 / 10, 9 / 10, 1 / 20, 19 / 20,
                 1 / 100, 99 / 100)
PAYS, DOES_NOT_PAY, NOT_YET_KNOWN = "pays", "does not pay", "not yet known"


def _to_dict(instance) -> dict:
    return to_jsonable({k: float(v) if isinstance(v, float | np.floating) else v
                        for k, v in asdict(instance).items()})


@dataclass(frozen=True)
class Effect:
    """Treated minus control: the difference in means, its Welch and bootstrap 95% intervals."""

    estimate: float
    low: float  # Welch t interval
    high: float
    standard_error: float  # unpooled: sqrt(s_t^2 / n_t + s_c^2 / n_c)
    df: float  # Welch-Satterthwaite
    p_value: float
    n_treated: int
    n_control: int
    mean_treated: float
    mean_control: float
    sd_treated: float
    sd_control: float
    bootstrap_low: float = math.nan  # BCa
    bootstrap_high: float = math.nan

    @property
    def n(self) -> int:
        return self.n_treated + self.n_control

    @property
    def verdict_low(self) -> float:
        return min((v for v in (self.low, self.bootstrap_low) if v == v), default=math.nan)

    @property
    def verdict_high(self) -> float:
        return max((v for v in (self.high, self.bootstrap_high) if v == v), default=math.nan)

    def scaled(self, factor: float) -> Effect:
        """The same effect in other units (per treated customer -> total over all treated)."""
        scale = ("estimate", "low", "high", "standard_error", "mean_treated", "mean_control",
                 "bootstrap_low", "bootstrap_high")
        values = asdict(self)
        values.update({k: values[k] * factor for k in scale})
        values.update({k: abs(values[k] * factor) for k in ("sd_treated", "sd_control")})
        if factor < 0:
            for a, b in (("low", "high"), ("bootstrap_low", "bootstrap_high")):
                values[a], values[b] = values[b], values[a]
        return Effect(**values)

    def to_dict(self) -> dict:
        return _to_dict(self) | to_jsonable({"verdict_low": self.verdict_low,
                                             "verdict_high": self.verdict_high})


def welch(treated, control, confidence: float = CONFIDENCE) -> Effect:
    """Difference in means (treated - control) with the Welch t interval."""
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    return welch_from_moments(treated.mean() if len(treated) else math.nan, _variance(treated), len(treated),
                              control.mean() if len(control) else math.nan, _variance(control), len(control),
                              confidence)


def welch_from_moments(mean_treated: float, var_treated: float, n_treated: int, mean_control: float,
                       var_control: float, n_control: int, confidence: float = CONFIDENCE) -> Effect:
    """:func:`welch` from each group's mean, sample variance (n - 1) and size."""
    test = stats.welch(mean_control, var_control, n_control, mean_treated, var_treated, n_treated, confidence)
    df, low, high, p = test.df, test.low, test.high, test.p_value
    if test.standard_error == 0:  # every customer of each group alike: the limit of the interval is the point
        df, low, high, p = math.inf, test.estimate, test.estimate, float(test.estimate == 0)
    return Effect(test.estimate, float(low), float(high), float(test.standard_error), float(df), float(p),
                  int(n_treated), int(n_control), float(mean_treated), float(mean_control),
                  math.sqrt(var_treated) if var_treated == var_treated else math.nan,
                  math.sqrt(var_control) if var_control == var_control else math.nan)


def _variance(values: np.ndarray) -> float:
    return float(values.var(ddof=1)) if len(values) > 1 else math.nan


def bootstrap_differences(treated: np.ndarray, control: np.ndarray, replicates: int = BOOTSTRAP_REPLICATES,
                          seed: int = 0, normal_beyond: int = NORMAL_LIMIT_BEYOND) -> np.ndarray:
    """Bootstrap replicates of the differences in column means, customers resampled within groups.

    ``treated`` and ``control`` are (customers x outcomes); the result is (replicates x outcomes).
    Every outcome shares the same resamples, so ratios of replicates are replicates of ratios.
    Resampling costs replicates x customers; when both groups have more than ``normal_beyond``
    customers the replicates are drawn from the bootstrap's normal limit instead (the central limit
    theorem: the same means and the same covariance of the outcomes' means), which at that size
    differs from resampling by far less than the replicates' own noise.
    """
    rng = np.random.default_rng(seed)
    treated, control = np.atleast_2d(np.asarray(treated, float).T).T, np.atleast_2d(np.asarray(control, float).T).T
    if min(len(treated), len(control)) > normal_beyond:
        spread = _mean_covariance(treated) + _mean_covariance(control)
        centre = treated.mean(axis=0) - control.mean(axis=0)
        return rng.multivariate_normal(centre, spread, size=replicates, method="eigh")
    return _bootstrap_means(treated, replicates, rng) - _bootstrap_means(control, replicates, rng)


def _mean_covariance(values: np.ndarray) -> np.ndarray:
    """The covariance of the column means of ``values`` (customers x outcomes) under resampling of
    customers (divided by n, not n - 1)."""
    return np.atleast_2d(np.cov(values, rowvar=False, ddof=0)) / len(values)


def _bootstrap_means(values: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    n = len(values)
    means = np.empty((replicates, values.shape[1]))
    # Resample counts per customer (a bincount per replicate), then one matrix product: memory stays
    # at about ten million counts whatever the size of the experiment.
    chunk = max(1, 10_000_000 // max(n, 1))
    for start in range(0, replicates, chunk):
        rows = min(chunk, replicates - start)
        draws = rng.integers(0, n, (rows, n)) + (np.arange(rows) * n)[:, None]
        counts = np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n)
        means[start:start + rows] = counts @ values / n
    return means


def bca_interval(replicates: np.ndarray, estimate: float, treated: np.ndarray, control: np.ndarray,
                 confidence: float = CONFIDENCE) -> tuple[float, float]:
    """BCa interval of a difference in means from its bootstrap ``replicates`` (one outcome)."""
    replicates = np.asarray(replicates, float)
    if not np.isfinite(estimate):
        return math.nan, math.nan
    if replicates.std() == 0:  # every customer of each group alike
        return estimate, estimate
    below = np.mean(replicates < estimate) + 0.5 * np.mean(replicates == estimate)
    bias = sps.norm.ppf(np.clip(below, 1 / len(replicates), 1 - 1 / len(replicates)))
    # Empirical influence of each customer on the difference in means.
    influence = np.concatenate([(treated - treated.mean()) / len(treated),
                                -(control - control.mean()) / len(control)])
    spread = np.sum(influence ** 2)
    acceleration = np.sum(influence ** 3) / (6 * spread ** 1.5) if spread > 0 else 0.0
    z = sps.norm.ppf([0.5 - confidence / 2, 0.5 + confidence / 2])
    shifted = bias + (bias + z) / (1 - acceleration * (bias + z))
    low, high = np.quantile(replicates, sps.norm.cdf(shifted))
    return float(low), float(high)


def effects_with_bootstrap(treated: np.ndarray, control: np.ndarray, replicates: int = BOOTSTRAP_REPLICATES,
                           seed: int = 0) -> tuple[list[Effect], np.ndarray]:
    """Welch effects of each column, with BCa bounds added; also the bootstrap replicates."""
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    if min(len(treated), len(control)) < 2:
        return [welch(treated[:, k], control[:, k]) for k in range(treated.shape[1])], \
            np.full((replicates, treated.shape[1]), math.nan)
    draws = bootstrap_differences(treated, control, replicates, seed)
    effects = []
    for k in range(treated.shape[1]):
        effect = welch(treated[:, k], control[:, k])
        low, high = bca_interval(draws[:, k], effect.estimate, treated[:, k], control[:, k])
        effects.append(Effect(**{**asdict(effect), "bootstrap_low": low, "bootstrap_high": high}))
    return effects, draws


def too_skewed(treated, control, limit: float = MAX_ESTIMATE_SKEWNESS) -> bool:
    """Is the difference in means too skewed for its intervals to hold?

    Cochran's rule (Cochran 1977, *Sampling Techniques*: n > 25 g^2 for the mean of data with
    skewness g) asks a mean's own skewness, g / sqrt(n), to stay below 0.2. For the difference of two
    means of spend with a common shape it is ``g |1/n_t^2 - 1/n_c^2| / (1/n_t + 1/n_c)^1.5``, with g
    the skewness of both groups pooled (each centred on its own mean; per-group third moments are
    far too noisy on heavy tails). Equal groups cancel out; a small group beside a large one does
    not, and then every interval here covers less than it says (docs/interventions.md).
    """
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    n_t, n_c = len(treated), len(control)
    if min(n_t, n_c) < 3:
        return False
    residuals = np.concatenate([treated - treated.mean(), control - control.mean()])
    variance = np.mean(residuals ** 2)
    if variance <= 0:
        return False
    skewness = np.mean(residuals ** 3) / variance ** 1.5
    return abs(skewness) * abs(1 / n_t ** 2 - 1 / n_c ** 2) / (1 / n_t + 1 / n_c) ** 1.5 >= limit


def verdict(effect: Effect) -> str:
    """Pays / does not pay when both intervals exclude zero on the same side, else not yet known."""
    if effect.verdict_low > 0:
        return PAYS
    if effect.verdict_high < 0:
        return DOES_NOT_PAY
    return NOT_YET_KNOWN


def adjusted_verdict(effect: Effect, comparisons: int) -> str:
    """The verdict of one of ``comparisons`` subgroups: Welch at a Bonferroni-adjusted level."""
    if not effect.standard_error > 0:
        return NOT_YET_KNOWN
    t = sps.t.ppf(1 - (1 - CONFIDENCE) / (2 * max(comparisons, 1)), effect.df)
    if effect.estimate - t * effect.standard_error > 0:
        return PAYS
    if effect.estimate + t * effect.standard_error < 0:
        return DOES_NOT_PAY
    return NOT_YET_KNOWN


# --- the split -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRatio:
    """Are the group sizes what the design planned? (chi-square goodness of fit, 1 df)."""

    n_treated: int
    n_control: int
    planned_share: float  # of treated customers
    planned_share_assumed: bool  # True when the plan was not given and the best common split was used
    observed_share: float
    chi_square: float
    p_value: float

    @property
    def mismatch(self) -> bool:
        return self.p_value < SRM_ALPHA

    def to_dict(self) -> dict:
        return _to_dict(self) | {"mismatch": self.mismatch, "alpha": SRM_ALPHA}


def sample_ratio_check(n_treated: int, n_control: int, planned_share: float | None = None) -> SampleRatio:
    total = n_treated + n_control
    shares = np.asarray(COMMON_SPLITS if planned_share is None else (planned_share,))
    # Two cells: sum of (observed - expected)^2 / expected = (n_t - N p)^2 / (N p (1 - p)).
    chi_square = (n_treated - total * shares) ** 2 / (total * shares * (1 - shares))
    best = int(np.argmin(chi_square))
    return SampleRatio(n_treated, n_control, float(shares[best]), planned_share is None, n_treated / total,
                       float(chi_square[best]), float(sps.chi2.sf(chi_square[best], 1)))


@dataclass(frozen=True)
class Balance:
    """One covariate measured before assignment, compared between the groups."""

    covariate: str
    mean_treated: float
    mean_control: float
    standardized_difference: float
    p_value: float
    n_treated: int  # customers with a value
    n_control: int

    @property
    def flagged(self) -> bool:
        smd, p = abs(self.standardized_difference), self.p_value
        return bool(p < SRM_ALPHA or (smd >= MATERIAL_SMD and p < 1 - CONFIDENCE))

    def to_dict(self) -> dict:
        return _to_dict(self) | {"flagged": self.flagged}


def balance(covariate: str, treated, control) -> Balance:
    """Standardised mean difference and Welch p-value of a pre-assignment covariate (NaN left out)."""
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    treated, control = treated[np.isfinite(treated)], control[np.isfinite(control)]
    effect = welch(treated, control)
    pooled = math.sqrt((effect.sd_treated ** 2 + effect.sd_control ** 2) / 2) if effect.n_treated > 1 else math.nan
    smd = effect.estimate / pooled if pooled > 0 else 0.0 if effect.estimate == 0 else math.nan
    p = effect.p_value if effect.p_value == effect.p_value else 1.0
    return Balance(covariate, effect.mean_treated, effect.mean_control, float(smd), float(p),
                   effect.n_treated, effect.n_control)


# --- break-even and sample size ------------------------------------------------------------------


@dataclass(frozen=True)
class BreakEven:
    """What would make the treatment pay, per treated customer.

    ``cost``: the treatment cost at which it breaks even = its incremental gross profit (interval as
    that effect's). ``cost_now``: what it costs now (treated minus control mean cost).
    ``cost_per_use``: the same per use, when costed by a per-use rule. ``margin``: the gross margin on
    the incremental revenue that would pay for today's cost (cost / incremental revenue; bootstrap
    percentile interval, given only when the revenue effect is clearly positive), against
    ``margin_now`` = incremental gross profit / incremental revenue.
    """

    cost: float
    cost_low: float
    cost_high: float
    cost_now: float
    cost_per_use: float | None
    cost_per_use_now: float | None
    margin: float | None
    margin_low: float | None
    margin_high: float | None
    margin_now: float | None

    def to_dict(self) -> dict:
        return _to_dict(self)


def break_even(revenue: Effect, gross_profit: Effect, cost: Effect, uses_per_treated: float | None,
               cost_per_use: float | None, revenue_draws: np.ndarray, cost_draws: np.ndarray) -> BreakEven:
    margin = margin_low = margin_high = margin_now = None
    if revenue.estimate > 0:
        margin = cost.estimate / revenue.estimate
        margin_now = gross_profit.estimate / revenue.estimate
        if revenue.verdict_low > 0:
            margin_low, margin_high = (float(q) for q in np.quantile(cost_draws / revenue_draws, [0.025, 0.975]))
    per_use = None
    if cost_per_use is not None and uses_per_treated:
        per_use = gross_profit.estimate / uses_per_treated
    return BreakEven(gross_profit.estimate, gross_profit.verdict_low, gross_profit.verdict_high, cost.estimate,
                     per_use, cost_per_use, margin, margin_low, margin_high, margin_now)


def customers_needed(effect: Effect, power: float = POWER) -> int | None:
    """Customers (both groups, at the observed split) to tell ``effect`` from zero with ``power``.

    Assumes the true effect is the one estimated; None when that is zero or nothing varies.
    """
    if not (effect.estimate and effect.n_treated and effect.n_control) or not effect.standard_error > 0:
        return None
    share = effect.n_treated / effect.n
    per_customer = effect.sd_treated ** 2 / share + effect.sd_control ** 2 / (1 - share)
    return math.ceil((Z95 + sps.norm.ppf(power)) ** 2 * per_customer / effect.estimate ** 2)


def minimum_detectable_effect(effect: Effect, power: float = POWER) -> float:
    """The smallest true effect this experiment detects with ``power`` (two-sided 5%)."""
    return (Z95 + float(sps.norm.ppf(power))) * effect.standard_error
