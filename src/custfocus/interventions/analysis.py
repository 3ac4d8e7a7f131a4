"""Does a service investment bring additional profit, and for whom? One result per intervention.

:func:`analyse` runs, for each intervention in the interventions table: the per-customer outcomes in
the engine (:mod:`.outcomes`), the split and balance checks and the average effects with their
verdict (:mod:`.effects`), the effect by segment, and the uplift models of whom to target
(:mod:`.uplift`). :func:`to_dict` gives the figures as plain JSON types, for ``--json``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custfocus.data.company import Company
from custfocus.errors import InputError
from custfocus.interventions import effects as fx
from custfocus.interventions import uplift
from custfocus.interventions.outcomes import (
    CATEGORICAL_FEATURES,
    NUMERIC_FEATURES,
    OUTCOMES,
    PRE_PERIOD,
    CostPerUse,
    Window,
    intervention_names,
    outcome_window,
    participant_outcomes,
)
from custfocus.stats import MIN_SAMPLE, to_jsonable

NEEDS = ("interventions", "transactions")
MIN_PER_GROUP_FOR_TARGETING = 500  # below this the uplift models only fit noise
MAX_SUBGROUP_LEVELS = 12
MAX_TARGETING_CUSTOMERS = 250_000  # beyond, the uplift models are fitted on a random sample of this size
BALANCE_COVARIATES = (*PRE_PERIOD, "recency_days", "frequency", "spend", "tenure_days", "last_nps")


@dataclass(frozen=True)
class Subgroup:
    """The effect within one group of customers (a segment, a region, ...)."""

    dimension: str
    group: str
    orders: fx.Effect
    net_profit: fx.Effect
    verdict: str  # at the Bonferroni-adjusted level of all subgroups compared

    def to_dict(self) -> dict:
        return {"dimension": self.dimension, "group": self.group, "verdict": self.verdict,
                "orders": self.orders.to_dict(), "net_profit": self.net_profit.to_dict()}


@dataclass(frozen=True)
class InterventionResult:
    """Everything measured about one intervention; money per treated customer unless named total.

    ``effects``: treated minus control per customer for each of ``orders``, ``revenue``,
    ``gross_profit``, ``treatment_cost`` and ``net_profit``. ``verdict``: pays / does not pay / not
    yet known, from the net profit's verdict interval. ``customers_needed``: participants (at this
    split) for 80% power if the true effect is the one estimated. ``targeting``: None when the
    experiment is too small to model (``targeting_note`` says why).
    """

    intervention: str
    currency: str
    window: Window
    cost_source: str  # "rule" (cost per use), "table" (interventions.cost) or "none"
    cost_rule: str | None
    split: fx.SampleRatio
    balance: tuple[fx.Balance, ...]
    effects: dict[str, fx.Effect]
    verdict: str
    break_even: fx.BreakEven | None
    customers_needed: int | None
    minimum_detectable_effect: float
    skewed: bool  # the net profit effect fails Cochran's rule: its intervals are approximate
    revenue_without_cost_share: float
    subgroups: tuple[Subgroup, ...]
    targeting: uplift.Targeting | None
    targeting_note: str | None
    targeted_by_group: dict[str, list[dict]]

    @property
    def n_treated(self) -> int:
        return self.split.n_treated

    @property
    def n_control(self) -> int:
        return self.split.n_control

    @property
    def too_small(self) -> bool:
        return min(self.n_treated, self.n_control) < MIN_SAMPLE

    @property
    def net_profit(self) -> fx.Effect:
        return self.effects["net_profit"]

    @property
    def total_net_profit(self) -> fx.Effect:
        """Net incremental profit summed over all treated customers."""
        return self.net_profit.scaled(self.n_treated)

    @property
    def imbalanced(self) -> list[fx.Balance]:
        return [b for b in self.balance if b.flagged]

    def to_dict(self) -> dict:
        return {
            "intervention": self.intervention,
            "currency": self.currency,
            "window": {"days": self.window.days, "chosen": self.window.chosen,
                       "first_assignment": self.window.first_assignment.isoformat(),
                       "last_assignment": self.window.last_assignment.isoformat(),
                       "excluded_treated": self.window.excluded_treated,
                       "excluded_control": self.window.excluded_control},
            "cost_source": self.cost_source,
            "cost_rule": self.cost_rule,
            "n_treated": self.n_treated,
            "n_control": self.n_control,
            "too_small": self.too_small,
            "split": self.split.to_dict(),
            "balance": [b.to_dict() for b in self.balance],
            "effects": {k: e.to_dict() for k, e in self.effects.items()},
            "totals": {k: self.effects[k].scaled(self.n_treated).to_dict()
                       for k in ("orders", "revenue", "gross_profit", "treatment_cost", "net_profit")
                       if k in self.effects},
            "verdict": self.verdict,
            "verdict_interval": "the wider of the Welch t and the bootstrap BCa 95% intervals",
            "break_even": self.break_even.to_dict() if self.break_even else None,
            "customers_needed": self.customers_needed,
            "minimum_detectable_effect": _finite(self.minimum_detectable_effect),
            "skewed": self.skewed,
            "revenue_without_cost_share": _finite(self.revenue_without_cost_share),
            "subgroups": [s.to_dict() for s in self.subgroups],
            "targeting": self.targeting.to_dict() if self.targeting else None,
            "targeting_note": self.targeting_note,
            "targeted_by_group": self.targeted_by_group,
        }


def analyse(company: Company, window: int | None = None, cost_per_use: CostPerUse | str | None = None,
            progress: Callable[[str], None] | None = None, planned_share: float | None = None,
            seed: int = 0) -> list[InterventionResult]:
    """Analyse every intervention of ``company`` (see the module doc and ``docs/interventions.md``).

    ``window``: outcome window in days from each assignment (default: up to as_of, the same for
    everyone). ``cost_per_use``: a :class:`CostPerUse` or its text (``"6.90:web,app"``), replacing
    the interventions table's cost. ``planned_share``: the planned share of treated customers, for
    the split check (default: the best-fitting common split). ``seed`` fixes bootstrap and folds.
    """
    missing = company.missing(*NEEDS)
    if missing:
        raise InputError(f"The interventions analysis needs the table(s) {', '.join(missing)}.")
    if isinstance(cost_per_use, str):
        cost_per_use = CostPerUse.parse(cost_per_use)
    if cost_per_use is not None and cost_per_use.channels:
        _check_channels(company, cost_per_use.channels)
    step = progress or (lambda message: None)
    results = []
    for name in intervention_names(company):
        step(f"Interventions: outcomes of {name}")
        span = outcome_window(company, name, window)
        frame = participant_outcomes(company, name, span, cost_per_use)
        results.append(analyse_participants(frame, name, span, company.currency, cost_per_use,
                                            _cost_source(company, cost_per_use), planned_share, seed,
                                            lambda message, name=name: step(f"Interventions: {name}: {message}")))
    return results


def analyse_participants(frame: pd.DataFrame, intervention: str, window: Window, currency: str = "EUR",
                         cost_per_use: CostPerUse | None = None, cost_source: str = "table",
                         planned_share: float | None = None, seed: int = 0,
                         progress: Callable[[str], None] | None = None) -> InterventionResult:
    """The statistics of one intervention from its participants' rows (see :func:`participant_outcomes`)."""
    step = progress or (lambda message: None)
    treated = frame["treated"].to_numpy(bool)
    split = fx.sample_ratio_check(int(treated.sum()), int((~treated).sum()), planned_share)
    balance = tuple(fx.balance(c, frame.loc[treated, c], frame.loc[~treated, c])
                    for c in BALANCE_COVARIATES if c in frame and frame[c].notna().any())
    step("effects and bootstrap intervals")
    outcomes = frame[list(OUTCOMES)].to_numpy(float)
    estimates, draws = fx.effects_with_bootstrap(outcomes[treated], outcomes[~treated], seed=seed)
    effects = dict(zip(OUTCOMES, estimates))
    net = effects["net_profit"]
    column = {name: k for k, name in enumerate(OUTCOMES)}
    uses = float(frame.loc[treated, "uses"].mean()) if treated.any() else None
    break_even = fx.break_even(effects["revenue"], effects["gross_profit"], effects["treatment_cost"], uses,
                               cost_per_use.amount if cost_per_use else None,
                               draws[:, column["revenue"]], draws[:, column["treatment_cost"]])
    revenue = frame["revenue"].clip(lower=0).sum()
    step("effects by segment")
    subgroups = _subgroups(frame, treated)
    step("uplift models")
    targeting, note, targeted = _targeting(frame, treated, seed, step)
    return InterventionResult(
        intervention=intervention, currency=currency, window=window, cost_source=cost_source,
        cost_rule=cost_per_use.describe(currency) if cost_per_use else None, split=split, balance=balance,
        effects=effects, verdict=fx.verdict(net), break_even=break_even,
        customers_needed=fx.customers_needed(net), minimum_detectable_effect=fx.minimum_detectable_effect(net),
        skewed=fx.too_skewed(frame.loc[treated, "net_profit"], frame.loc[~treated, "net_profit"]),
        revenue_without_cost_share=float(frame["revenue_without_cost"].sum() / revenue) if revenue > 0 else 0.0,
        subgroups=subgroups, targeting=targeting, targeting_note=note, targeted_by_group=targeted)


def _check_channels(company: Company, channels: tuple[str, ...]) -> None:
    """A channel the transactions never name would silently make the cost zero: refuse it."""
    transactions = company.table("transactions")
    if "channel" not in transactions.columns:
        raise InputError(f"--cost-per-use names channels ({', '.join(channels)}), but the transactions have no "
                         "channel column; give the cost alone, e.g. 6.90.")
    known = sorted(transactions.select("channel").distinct().to_pandas()["channel"].dropna().astype(str))
    unknown = [c for c in channels if c not in known]
    if unknown:
        raise InputError(f"--cost-per-use names channel(s) the transactions do not have: {', '.join(unknown)}; "
                         f"the channels are: {', '.join(known) or 'none'}.")


def _cost_source(company: Company, cost_per_use: CostPerUse | None) -> str:
    if cost_per_use is not None:
        return "rule"
    table = company.table("interventions")
    return "table" if "cost" in table.columns else "none"


def _subgroup_levels(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Categorical columns with a few levels, each level with enough customers in both groups."""
    levels = {}
    for dimension in CATEGORICAL_FEATURES:
        if dimension not in frame or frame[dimension].isna().all():
            continue
        counts = frame.groupby([dimension, "treated"]).size().unstack(fill_value=0)
        if len(counts) > MAX_SUBGROUP_LEVELS or len(counts) < 2:
            continue
        big = counts[(counts.get(True, 0) >= MIN_SAMPLE) & (counts.get(False, 0) >= MIN_SAMPLE)]
        levels[dimension] = sorted(str(g) for g in big.index)
    return levels


def _subgroups(frame: pd.DataFrame, treated: np.ndarray) -> tuple[Subgroup, ...]:
    levels = _subgroup_levels(frame)
    comparisons = sum(len(groups) for groups in levels.values())
    found = []
    for dimension, groups in levels.items():
        for group in groups:
            members = (frame[dimension] == group).to_numpy()
            orders = fx.welch(frame.loc[members & treated, "orders"], frame.loc[members & ~treated, "orders"])
            net = fx.welch(frame.loc[members & treated, "net_profit"], frame.loc[members & ~treated, "net_profit"])
            found.append(Subgroup(dimension, group, orders, net, fx.adjusted_verdict(net, comparisons)))
    return tuple(found)


def _targeting(frame: pd.DataFrame, treated: np.ndarray, seed: int, step: Callable[[str], None],
               most: int | None = None) -> tuple[uplift.Targeting | None, str | None, dict]:
    smaller = min(int(treated.sum()), int((~treated).sum()))
    if smaller < MIN_PER_GROUP_FOR_TARGETING:
        return None, (f"Too few customers to model whom to target: {smaller:,} in the smaller group, "
                      f"at least {MIN_PER_GROUP_FOR_TARGETING:,} are needed."), {}
    most = MAX_TARGETING_CUSTOMERS if most is None else most
    note = None
    if len(frame) > most:
        # The policy's values are per customer: a random sample estimates them without bias, with
        # intervals of its own size, at a bounded cost.
        chosen = np.sort(np.random.default_rng(seed).choice(len(frame), most, replace=False))
        note = (f"Whom to target is modelled on a random sample of {most:,} of the {len(frame):,} participants "
                "(its values are per customer, with intervals for the sample); the effects use all of them.")
        frame, treated = frame.iloc[chosen].reset_index(drop=True), treated[chosen]
    numeric = tuple(c for c in NUMERIC_FEATURES if c in frame and frame[c].notna().any())
    categorical = tuple(c for c in CATEGORICAL_FEATURES if c in frame and frame[c].notna().any())
    features = uplift.feature_frame(frame, numeric, categorical)
    fitted = uplift.cross_fit(features, treated, frame["net_profit"].to_numpy(float), seed=seed, progress=step)
    targeting = uplift.evaluate_targeting(fitted)
    composition = {}
    for dimension, groups in _subgroup_levels(frame).items():
        rows = []
        for group in groups:
            members = (frame[dimension] == group).to_numpy()
            rows.append({"group": group, "customers": int(members.sum()),
                         "targeted_share": float(targeting.targeted[members].mean())})
        composition[dimension] = rows
    return targeting, note, composition


def _finite(value):
    return float(value) if value is not None and math.isfinite(value) else None


def to_dict(results: list[InterventionResult]) -> dict:
    """The figures of :func:`analyse` as plain JSON types (no NaN), keyed by intervention."""
    return to_jsonable({"interventions": {r.intervention: r.to_dict() for r in results}})
