"""What a promoter is worth against a detractor (after Bain's "value of a promoter").

Definitions (also in ``docs/loyalty.md``):

- *Subsequent spend*: for each customer with an NPS answer, the net amount (refunds included) of
  their transactions dated in the ``window_days`` (365) days after their *first* NPS answer, the day
  of the answer excluded. The first answer is taken because it is fixed by what happened before it:
  choosing the latest would look ahead (customers who keep buying get surveyed again, so their
  latest answer depends on their later purchases). Only answers at least ``window_days`` before
  ``as_of`` count, so that every customer is followed over a full window; customers whose first
  answer is more recent are left out (``too_recent``), not switched to another answer.
- *CLV by category*: the mean CLV (the value module's, over its horizon) of customers by the
  category of their *latest* answer, the attitude the loyalty matrix uses: CLV looks forward from
  ``as_of``, so the latest answer does not look ahead.
- Intervals: Student t for each category's mean; Welch's t (unequal variances) for the promoter
  minus detractor difference. Spend is skewed, so with few customers per category (under 30) the
  intervals are rough and flagged ``too_small``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import pandas as pd

from custfocus.engine import keep
from custfocus.loyalty.matrix import (
    CATEGORIES,
    DETRACTOR,
    PROMOTER,
    first_or_latest_nps,
)
from custfocus.pulse.stats import ScoreSummary, ces_difference
from custfocus.stats import MIN_SAMPLE, Difference, t_intervals

WINDOW_DAYS = 365


@dataclass(frozen=True)
class PromoterValue:
    """Spend after the first NPS answer and CLV, by NPS category, and promoter minus detractor.

    ``spend`` and ``clv``: one row per category (promoter, passive, detractor): ``nps_category``,
    ``customers``, ``mean``, ``low``, ``high`` (95% t interval), ``sd``, ``total`` and ``too_small``.
    ``spend_gap`` / ``clv_gap``: promoter minus detractor (Welch), None when a side is empty.
    ``clv`` is None when no CLV was given.
    """

    window_days: int
    answered_by: date  # the last first-answer date with a full window
    spend: pd.DataFrame
    spend_gap: Difference | None
    clv: pd.DataFrame | None
    clv_gap: Difference | None
    too_recent: int  # customers whose first answer is after answered_by


def subsequent_spend(transactions: ibis.Table, responses: ibis.Table, *, as_of: date,
                     window_days: int = WINDOW_DAYS) -> ibis.Table:
    """One row per customer whose first NPS answer is at least ``window_days`` before ``as_of``:
    customer_id, nps_date, nps_score, nps_category, spend (0 when they bought nothing)."""
    return _spend_after(transactions, first_or_latest_nps(responses, as_of=as_of, latest=False),
                        as_of=as_of, window_days=window_days)


def _spend_after(transactions: ibis.Table, firsts: ibis.Table, *, as_of: date, window_days: int) -> ibis.Table:
    """:func:`subsequent_spend` from the customers' first answers (``firsts``)."""
    first = firsts.filter(firsts.nps_date <= as_of - timedelta(days=window_days))
    tx = transactions.select("customer_id", "date", "amount")
    after = first.join(tx, "customer_id")
    days_after = after.date.epoch_days() - after.nps_date.epoch_days()
    after = after.filter((days_after > 0) & (days_after <= window_days))
    spent = after.group_by("customer_id").agg(spend=after.amount.sum())
    joined = first.left_join(spent, "customer_id")
    return joined.select("customer_id", "nps_date", "nps_score", "nps_category",
                         spend=joined.spend.fill_null(0.0))


def promoter_value(transactions: ibis.Table, responses: ibis.Table, *, as_of: date,
                   window_days: int = WINDOW_DAYS, clv: ibis.Table | None = None) -> PromoterValue:
    """Subsequent spend by NPS category (first answer) and, with ``clv`` (customer_id, clv), mean
    CLV by category (latest answer); see the module doc."""
    answered_by = as_of - timedelta(days=window_days)
    # Kept: choosing each customer's first answer is a window over every answer, read twice here.
    firsts = keep(first_or_latest_nps(responses, as_of=as_of, latest=False))
    spend = _spend_after(transactions, firsts, as_of=as_of, window_days=window_days)
    too_recent = int(firsts.filter(firsts.nps_date > answered_by).count().to_pandas())
    spend_table = category_means(spend, "spend")
    clv_table = None
    if clv is not None:
        latest = first_or_latest_nps(responses, as_of=as_of, latest=True)
        valued = latest.join(clv.select("customer_id", "clv"), "customer_id")
        clv_table = category_means(valued.filter(valued.clv.notnull()), "clv")
    return PromoterValue(window_days, answered_by, spend_table, promoter_gap(spend_table), clv_table,
                         None if clv_table is None else promoter_gap(clv_table), too_recent)


def category_means(table: ibis.Table, column: str) -> pd.DataFrame:
    """Mean of ``column`` per NPS category with its t interval (all three categories, empty ones too)."""
    frame = table.group_by("nps_category").agg(
        customers=table.count(), mean=table[column].mean(), sd=table[column].std(), total=table[column].sum(),
    ).to_pandas()
    frame = pd.DataFrame({"nps_category": list(CATEGORIES)}).merge(frame, on="nps_category", how="left")
    frame = frame.fillna({"customers": 0, "total": 0.0}).astype({"customers": "int64"})
    _, frame["low"], frame["high"] = t_intervals(frame["mean"], frame["sd"], frame["customers"])
    frame["too_small"] = frame["customers"] < MIN_SAMPLE
    return frame[["nps_category", "customers", "mean", "low", "high", "sd", "total", "too_small"]]


def promoter_gap(means: pd.DataFrame) -> Difference | None:
    """Promoter minus detractor mean, Welch's t (the statistic pulse uses for CES differences)."""
    rows = means.set_index("nps_category")
    promoter, detractor = rows.loc[PROMOTER], rows.loc[DETRACTOR]
    if promoter["customers"] == 0 or detractor["customers"] == 0:
        return None
    summaries = [ScoreSummary(float(r["mean"]), float(r["sd"]) if pd.notna(r["sd"]) else math.nan,
                              int(r["customers"])) for r in (detractor, promoter)]
    return ces_difference(*summaries)
