"""The Dick & Basu (1994) loyalty matrix: attitude (NPS) crossed with behaviour (repeat patronage).

Definitions (also in ``docs/loyalty.md``):

- *Attitude* comes from the customer's latest NPS answer on or before ``as_of`` (several on that day:
  the lowest score, the cautious reading). Promoters (9-10) have a *high* relative attitude;
  passives (7-8) and detractors (0-6) a *low* one. Passives count as low because Dick & Basu's
  loyalty needs a strong, differentiated attitude, and passives are satisfied but unenthusiastic:
  the customers the next best offer wins (Reichheld 2003). Customers without an NPS answer have
  *attitude unknown*: they are counted apart, never dropped.
- *Behaviour*: repeat patronage is *high* when the customer's repeat purchase days (``frequency``)
  are at least one and at least what the fitted BG/NBD expects of a customer drawn at random at
  the same age, E[X(T)] (``expected_purchases_new(T)``, Fader, Hardie & Lee 2005 eq. 9); *low*
  otherwise. Comparing with the expectation at the customer's own age keeps new customers, who have
  had no time to come back, from counting as disloyal by default.
- Cells: *true loyalty* (high attitude, high repeat), *latent loyalty* (high, low), *spurious
  loyalty* (low, high): retained but not loyal, held by convenience, habit or a deal, and *no
  loyalty* (low, low).
- *Value at risk* of a spurious customer: their CLV, the discounted value of the purchases the
  model expects over the horizon (P(alive) is already in it). It is what leaves with them when the
  convenience that holds them gives way to the next best offer.
"""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd

from custfocus.pulse.stats import DETRACTOR_MAX, PROMOTER_MIN
from custfocus.stats import MIN_SAMPLE, t_intervals

PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"
CATEGORIES = (PROMOTER, PASSIVE, DETRACTOR)
HIGH, LOW, UNKNOWN = "high", "low", "unknown"
TRUE_LOYALTY, LATENT_LOYALTY = "true loyalty", "latent loyalty"
SPURIOUS_LOYALTY, NO_LOYALTY = "spurious loyalty", "no loyalty"
ATTITUDE_UNKNOWN = "attitude unknown"
CELLS = {(HIGH, HIGH): TRUE_LOYALTY, (HIGH, LOW): LATENT_LOYALTY, (LOW, HIGH): SPURIOUS_LOYALTY,
         (LOW, LOW): NO_LOYALTY, (UNKNOWN, HIGH): ATTITUDE_UNKNOWN, (UNKNOWN, LOW): ATTITUDE_UNKNOWN}


def nps_category(score: ibis.Value) -> ibis.Value:
    """promoter (9-10), passive (7-8) or detractor (0-6), as an engine expression."""
    return ibis.cases((score >= PROMOTER_MIN, PROMOTER), (score <= DETRACTOR_MAX, DETRACTOR), else_=PASSIVE)


def nps_answers(responses: ibis.Table, as_of: date) -> ibis.Table:
    """NPS answers of known customers dated on or before ``as_of``: customer_id, date, score."""
    nps = responses.filter((responses.kind == "nps") & responses.customer_id.notnull()
                           & (responses.date <= as_of))
    return nps.select("customer_id", "date", "score")


def first_or_latest_nps(responses: ibis.Table, *, as_of: date, latest: bool = True) -> ibis.Table:
    """One NPS answer per customer, chosen in the engine with a window function: the latest (or the
    first) on or before ``as_of``; on a day with several, the lowest score.

    Columns: customer_id, nps_date, nps_score, nps_category.
    """
    nps = nps_answers(responses, as_of)
    when = ibis.desc(nps.date) if latest else nps.date
    rank = ibis.row_number().over(group_by=nps.customer_id, order_by=[when, nps.score])
    chosen = nps.mutate(rank=rank).filter(lambda t: t["rank"] == 0)
    return chosen.select("customer_id", nps_date=chosen.date, nps_score=chosen.score,
                         nps_category=nps_category(chosen.score))


def loyalty_table(value: ibis.Table, responses: ibis.Table, model, *, as_of: date) -> ibis.Table:
    """Every valued customer with their attitude, behaviour and loyalty cell.

    ``value``: one row per customer with ``customer_id``, ``frequency`` (repeat purchase days),
    ``T`` (age in the model's time unit), ``revenue``, ``p_alive`` and ``clv``, as in
    ``custfocus.value.clv.customer_value(...).table``. ``model``: the fitted transaction model
    (its ``expected_purchases_new`` gives E[X(T)]).

    Columns: customer_id, frequency, T, expected_repeat, repeat, nps_date, nps_score, nps_category
    (NULL when unknown), attitude, cell, revenue, p_alive, clv, value_at_risk (CLV of spurious
    customers, 0 otherwise).
    """
    # E[X(T)] is a NumPy function: computed once per distinct age and joined back in the engine.
    ages = value.select("T").distinct().to_pandas()["T"].to_numpy(dtype=float)
    expected = ibis.memtable(pd.DataFrame({"T": ages, "expected_repeat": np.asarray(
        model.expected_purchases_new(ages), dtype=float)}))
    table = value.join(expected, "T")
    table = table.left_join(first_or_latest_nps(responses, as_of=as_of), "customer_id").drop("customer_id_right")
    repeat = ((table.frequency >= 1) & (table.frequency >= table.expected_repeat)).ifelse(HIGH, LOW)
    attitude = ibis.cases((table.nps_category == PROMOTER, HIGH), (table.nps_category.notnull(), LOW),
                          else_=UNKNOWN)
    table = table.mutate(repeat=repeat, attitude=attitude)
    cell = ibis.cases(*(((table.attitude == a) & (table.repeat == r), name) for (a, r), name in CELLS.items()))
    table = table.mutate(cell=cell)
    return table.select(
        "customer_id", "frequency", "T", "expected_repeat", "repeat", "nps_date", "nps_score", "nps_category",
        "attitude", "cell", "revenue", "p_alive", "clv",
        value_at_risk=(table.cell == SPURIOUS_LOYALTY).ifelse(table.clv.fill_null(0.0), 0.0),
    )


def loyalty_matrix(table: ibis.Table) -> pd.DataFrame:
    """The matrix: one row per (attitude, repeat), the four cells then attitude unknown.

    Columns: attitude, repeat, cell, customers, share (of all customers), share_of_surveyed (of
    customers with an NPS answer; NaN for attitude unknown), revenue (sum), clv (sum), clv_mean with
    its t interval clv_low/clv_high, p_alive_mean, value_at_risk (sum) and too_small.
    """
    frame = _summaries(table, ["attitude", "repeat"])
    grid = pd.DataFrame(list(CELLS), columns=["attitude", "repeat"])
    frame = grid.merge(frame, on=["attitude", "repeat"], how="left")
    frame.insert(2, "cell", [CELLS[(a, r)] for a, r in zip(frame["attitude"], frame["repeat"], strict=True)])
    surveyed = frame["attitude"] != UNKNOWN
    frame = _with_shares(frame)
    frame.insert(frame.columns.get_loc("share") + 1, "share_of_surveyed",
                 (frame["customers"] / frame.loc[surveyed, "customers"].sum()).where(surveyed))
    return frame


def loyalty_by_category(table: ibis.Table) -> pd.DataFrame:
    """As :func:`loyalty_matrix`, by NPS category (promoter, passive, detractor, unknown) and repeat,
    so that the detractors among the retained-but-not-loyal can be told from the passives."""
    frame = _summaries(table.mutate(nps_category=table.nps_category.fill_null(UNKNOWN)), ["nps_category", "repeat"])
    grid = pd.DataFrame([(c, r) for c in (*CATEGORIES, UNKNOWN) for r in (HIGH, LOW)],
                        columns=["nps_category", "repeat"])
    return _with_shares(grid.merge(frame, on=["nps_category", "repeat"], how="left"))


def retained_not_loyal(table: ibis.Table) -> ibis.Table:
    """The spurious-loyalty customers (repeat buyers who are passives or detractors), the largest
    value at risk first (ties by customer_id). An Ibis table: take the top with ``.limit(n)``."""
    spurious = table.filter(table.cell == SPURIOUS_LOYALTY)
    return spurious.select(
        "customer_id", "nps_category", "nps_score", "nps_date", "frequency", "expected_repeat", "revenue",
        "p_alive", "clv", "value_at_risk",
    ).order_by([ibis.desc("value_at_risk"), "customer_id"])


def _summaries(table: ibis.Table, keys: list[str]) -> pd.DataFrame:
    frame = table.group_by(keys).agg(
        customers=table.count(), revenue=table.revenue.sum(), clv=table.clv.sum(), clv_mean=table.clv.mean(),
        clv_sd=table.clv.std(), clv_n=table.clv.count(), p_alive_mean=table.p_alive.mean(),
        value_at_risk=table.value_at_risk.sum(),
    ).to_pandas()
    _, frame["clv_low"], frame["clv_high"] = t_intervals(frame["clv_mean"], frame["clv_sd"], frame["clv_n"])
    return frame.drop(columns=["clv_sd", "clv_n"])


def _with_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Empty cells as zeros, the share of all customers and the small-cell flag."""
    frame = frame.fillna({"customers": 0, "revenue": 0.0, "clv": 0.0, "value_at_risk": 0.0})
    frame["customers"] = frame["customers"].astype("int64")
    total = frame["customers"].sum()
    frame.insert(frame.columns.get_loc("customers") + 1, "share", frame["customers"] / total if total else np.nan)
    frame["too_small"] = frame["customers"] < MIN_SAMPLE
    order = ["customers", "share", "revenue", "clv", "clv_mean", "clv_low", "clv_high", "p_alive_mean",
             "value_at_risk", "too_small"]
    keys = [c for c in frame.columns if c not in order]
    return frame[keys + order]
