"""Key drivers: the points of the survey's own metric each theme costs, the other themes held fixed.

Themes are mentioned together (a late parcel brings a "where is my order" call), so comparing the
metric of a theme's mentioners with everyone else's ("naive") charges a theme with the effect of
the themes that come with it. Here every theme enters one model at once:

- NPS: two logistic regressions, of promoter (9-10) and of detractor (0-6), on all theme indicators;
- CSAT: a logistic regression of satisfied (4-5);
- CES: a linear regression of the score (1-7, 7 = very easy).

A theme's *points lost* is the metric predicted with that theme switched off for its mentioners minus
the metric predicted as observed, averaged over all commented answers (NPS points, percentage
points satisfied, or CES scale points): what removing the theme's problem would gain; negative for a
theme that lifts the score. Its 95% interval comes from a Poisson bootstrap. The models see only
which themes a comment mentions, so the fit runs on the distinct theme patterns with their counts
(cells of pattern x score): its cost does not grow with the number of comments.

Root cause or symptom: a theme whose naive effect is clear, which is mentioned (in at least 30% of
its comments) with a theme whose own effect is clear and of the same sign, and which keeps less than a
quarter of its naive effect in the model (or none distinguishable from zero), matters only through
that theme: a *symptom* of it. A theme whose own effect is clear is a *root cause* (or a *strength*
when it lifts the score), as far as comments can tell: a theme nobody mentions cannot be seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BOOTSTRAP_REPLICATES = 200
MIN_MENTIONS = 30  # fewer mentions than this: too few to conclude
RIDGE = 1e-4  # a whisper of shrinkage so a theme only promoters mention still has a finite effect
SYMPTOM_PARTNER_SHARE = 0.3  # a symptom's mentions that also mention its root cause, at least
SYMPTOM_RESIDUAL = 0.25  # a symptom keeps less than this share of its naive effect in the model
SEED = 20_260_930


@dataclass(frozen=True)
class MetricSpec:
    kind: str
    unit: str

    def outcomes(self, score: np.ndarray) -> dict[str, np.ndarray]:
        if self.kind == "nps":
            return {"promoter": (score >= 9).astype(float), "detractor": (score <= 6).astype(float)}
        if self.kind == "csat":
            return {"satisfied": (score >= 4).astype(float)}
        return {"score": score.astype(float)}

    def metric(self, predicted: dict[str, np.ndarray]) -> np.ndarray:
        if self.kind == "nps":
            return 100 * (predicted["promoter"] - predicted["detractor"])
        if self.kind == "csat":
            return 100 * predicted["satisfied"]
        return predicted["score"]

    @property
    def linear(self) -> bool:
        return self.kind == "ces"


METRICS = {"nps": MetricSpec("nps", "NPS points"), "csat": MetricSpec("csat", "points of CSAT (% satisfied)"),
           "ces": MetricSpec("ces", "points of CES (1-7 scale)")}


@dataclass(frozen=True)
class _Cells:
    """Distinct (theme pattern, score) cells with their counts: all the models need.

    Resampling the cells' counts (Poisson) is resampling the answers; the models themselves run on
    the distinct theme patterns, each with its weighted outcome totals.
    """

    patterns: np.ndarray  # (patterns, 1 + themes): intercept and indicators
    pattern_of: np.ndarray  # the pattern of each cell
    score: np.ndarray  # each cell's score
    count: np.ndarray  # answers in each cell


def _cells(themes: np.ndarray, score: np.ndarray) -> _Cells:
    keys = np.column_stack([themes.astype(np.int16), score.astype(np.int16)])
    distinct, count = np.unique(keys, axis=0, return_counts=True)
    patterns, pattern_of = np.unique(distinct[:, :-1], axis=0, return_inverse=True)
    design = np.column_stack([np.ones(len(patterns)), patterns]).astype(float)
    return _Cells(design, pattern_of.ravel(), distinct[:, -1].astype(float), count.astype(float))


def _fit_logistic(design: np.ndarray, rate: np.ndarray, weight: np.ndarray,
                  start: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """Weighted logistic regression of an observed ``rate`` by Newton's method (on the patterns)."""
    beta = np.zeros(design.shape[1]) if start is None else start.copy()
    penalty = RIDGE * max(weight.sum(), 1.0) * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(design @ beta, -30, 30)))
        gradient = design.T @ (weight * (rate - p)) - penalty @ beta
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian + 1e-10 * np.eye(len(beta)), gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            return beta, True
    return beta, False


def _fit_linear(design: np.ndarray, mean: np.ndarray, weight: np.ndarray,
                start: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    gram = (design * weight[:, None]).T @ design + RIDGE * max(weight.sum(), 1.0) * np.diag(
        np.r_[0.0, np.ones(design.shape[1] - 1)])
    return np.linalg.solve(gram + 1e-10 * np.eye(design.shape[1]), design.T @ (weight * mean)), True


def _points_lost(cells: _Cells, count: np.ndarray, spec: MetricSpec,
                 starts: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, bool, dict]:
    """Per theme: mean metric with the theme switched off for its mentioners minus as predicted.

    Also returns the fitted coefficients, to start the bootstrap's fits from."""
    design = cells.patterns
    themes = design.shape[1] - 1
    weight = np.bincount(cells.pattern_of, count, minlength=len(design))
    seen = weight > 0
    predicted, switched, fitted, converged = {}, {}, {}, True
    fit = _fit_linear if spec.linear else _fit_logistic
    link = (lambda eta: eta) if spec.linear else (lambda eta: 1 / (1 + np.exp(-eta)))
    for name, outcome in spec.outcomes(cells.score).items():
        total = np.bincount(cells.pattern_of, count * outcome, minlength=len(design))
        mean = np.divide(total, weight, out=np.zeros_like(total), where=seen)
        beta, ok = fit(design[seen], mean[seen], weight[seen], (starts or {}).get(name))
        converged &= ok
        fitted[name] = beta
        predicted[name] = link(design @ beta)
        switched[name] = np.stack([link(design @ beta - design[:, 1 + k] * beta[1 + k]) for k in range(themes)])
    actual = spec.metric(predicted)
    without = spec.metric(switched)  # (themes, patterns)
    return (without - actual) @ weight / weight.sum(), converged, fitted


def _naive(themes: np.ndarray, metric_values: np.ndarray) -> np.ndarray:
    """Share mentioning x (metric of the others - metric of the mentioners)."""
    out = np.full(themes.shape[1], np.nan)
    for k in range(themes.shape[1]):
        m = themes[:, k]
        if 0 < m.sum() < len(m):
            out[k] = m.mean() * (metric_values[~m].mean() - metric_values[m].mean())
    return out


def key_drivers(themes: np.ndarray, score: np.ndarray, kind: str, names=None,
                replicates: int = BOOTSTRAP_REPLICATES, seed: int = SEED) -> pd.DataFrame:
    """One row per theme: points_lost (estimate, low, high), the naive figure, mentions and role.

    ``themes`` is a boolean (comments, themes) matrix, ``score`` the comments' scores of one kind.
    """
    spec = METRICS[kind]
    themes = np.asarray(themes, bool)
    score = np.asarray(score, float)
    names = list(names) if names is not None else [f"theme {k + 1}" for k in range(themes.shape[1])]
    cells = _cells(themes, score)
    estimate, converged, fitted = _points_lost(cells, cells.count, spec)
    rng = np.random.default_rng(seed)
    draws = np.stack([_points_lost(cells, rng.poisson(cells.count).astype(float), spec, fitted)[0]
                      for _ in range(replicates)])
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    per_answer = spec.metric({k: v for k, v in spec.outcomes(score).items()})
    naive = _naive(themes, per_answer)
    naive_draws = _naive_bootstrap(themes, per_answer, rng, replicates)
    frame = pd.DataFrame({
        "theme": names, "mentions": themes.sum(axis=0), "share": themes.mean(axis=0),
        "points_lost": estimate, "low": low, "high": high, "n": len(score),
        "naive_points_lost": naive, "naive_low": naive_draws[0], "naive_high": naive_draws[1],
        "converged": converged,
    })
    frame["too_few_mentions"] = frame.mentions < MIN_MENTIONS
    return _roles(frame, themes)


def _naive_bootstrap(themes, per_answer, rng, replicates):
    """Interval of the naive figure, by resampling answers (Poisson weights on the cells)."""
    cells = _cells(themes, per_answer)
    mentions = cells.patterns[cells.pattern_of, 1:]  # (cells, themes)
    weights = rng.poisson(cells.count, size=(replicates, len(cells.count))).astype(float)
    total = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mentioned = weights @ mentions
        sum_mentioned = weights @ (mentions * cells.score[:, None])
        others = total - mentioned
        sum_others = (weights @ cells.score)[:, None] - sum_mentioned
        draws = mentioned / total * (sum_others / others - sum_mentioned / mentioned)
    return np.nanpercentile(draws, [2.5, 97.5], axis=0)


def _roles(frame: pd.DataFrame, themes: np.ndarray) -> pd.DataFrame:
    """Root cause, symptom of another theme, or not clear; see the module doc."""
    clear = ((frame.low > 0) | (frame.high < 0)).to_numpy()
    naive_clear = ((frame.naive_low > 0) | (frame.naive_high < 0)).to_numpy()
    roles, partners = [], []
    for k, row in frame.iterrows():
        partner = _root_of(k, frame, themes, clear) if naive_clear[k] else None
        # Most of its naive effect gone once the partner is held fixed: it matters through the partner.
        opposite = clear[k] and np.sign(row.points_lost) != np.sign(row.naive_points_lost)
        mostly_through = partner is not None and not opposite and (
            not clear[k] or abs(row.points_lost) < SYMPTOM_RESIDUAL * abs(row.naive_points_lost))
        if row.too_few_mentions:
            roles.append("too few mentions")
        elif mostly_through:
            roles.append("symptom")
        elif clear[k]:
            roles.append("root cause" if row.points_lost > 0 else "strength")
        else:
            roles.append("no clear effect")
        partners.append(partner if mostly_through and not row.too_few_mentions else None)
    return frame.assign(role=roles, symptom_of=pd.Series(partners, index=frame.index, dtype=object))


def _root_of(k: int, frame: pd.DataFrame, themes: np.ndarray, clear: np.ndarray) -> str | None:
    """The clear theme, of the same sign, most often mentioned along with theme k (if often enough)."""
    mentioned = themes[:, k]
    together = themes[mentioned].mean(axis=0) if mentioned.any() else np.zeros(themes.shape[1])
    together[k] = 0
    sign = np.sign(frame.naive_points_lost.iat[k])
    for j in np.argsort(-together, kind="stable"):
        if together[j] < SYMPTOM_PARTNER_SHARE:
            return None
        if clear[j] and np.sign(frame.points_lost.iat[j]) == sign:
            return str(frame.theme.iat[j])
    return None
