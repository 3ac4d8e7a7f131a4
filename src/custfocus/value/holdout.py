"""The calibration / holdout check of the purchase models: fit on the purchases up to a date, then
compare the predictions for the following weeks with what the same customers did (Fader, Hardie &
Lee 2005, figures 2 and 4)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd

from custfocus.data.company import Company
from custfocus.errors import InputError
from custfocus.stats import Z95
from custfocus.value.clv import (
    _KEYS,
    MODEL_NAMES,
    Progress,
    _check_settings,
    _Histories,
    _transactions_and_as_of,
    fit_transaction_model,
)
from custfocus.value.fitters.mle import TransactionModel
from custfocus.value.summary import (
    DEFAULT_HOLDOUT_WEEKS,
    customer_summary,
    daily_activity,
    holdout_purchases,
    sufficient_statistics,
    unit_days,
)

FREQUENCY_BINS = 7  # calibration frequencies 0..6 and "7+", as in Fader, Hardie & Lee (2005)


@dataclass(frozen=True)
class HoldoutCheck:
    """The model fitted on purchases up to ``calibration_end`` against what customers did in the
    holdout ``(calibration_end, as_of]``.

    - ``predicted`` / ``actual``: total repeat purchase days in the holdout of the calibration
      customers, predicted from each customer's history (the conditional expectation) and
      observed; ``relative_error = predicted / actual - 1``.
    - ``by_frequency``: one row per calibration frequency 0, 1, ..., 6, "7+" (Fader, Hardie &
      Lee 2005, fig. 4): ``frequency`` (label), ``customers``, ``actual_mean`` with its 95%
      interval ``actual_low``/``actual_high`` (normal, from the spread within the bin),
      ``predicted_mean``, ``actual``, ``predicted`` (totals).
    - ``tracking``: ``week`` 1, 2, ... of the holdout, ``day`` (its last day, the last one may be
      short), ``actual`` and ``predicted`` cumulative repeat purchases from the start of the
      holdout; the prediction is unconditional, ``sum_i E[X(T_i + t)] - E[X(T_i)]`` over the
      calibration customers of age ``T_i``, which shows whether the model follows the flow of
      purchases over time (Fader, Hardie & Lee 2005, fig. 2).
    - ``table``: per customer (an Ibis expression): customer_id, frequency, recency, T,
      holdout_frequency, predicted.
    """

    model: TransactionModel
    model_name: str
    time_unit: str
    calibration_end: date
    as_of: date
    holdout_length: float  # in time_unit
    n_customers: int
    predicted: float
    actual: int
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame
    table: ibis.Table

    @property
    def relative_error(self) -> float:
        return self.predicted / self.actual - 1.0 if self.actual else math.nan


def calibration_holdout(source: Company | ibis.Table, *, calibration_end: date | None = None,
                        as_of: date | None = None, model: str = "bgnbd",
                        time_unit: str = "weeks", count_by: str = "day",
                        progress: Progress | None = None, summary: ibis.Table | None = None) -> HoldoutCheck:
    """Fit ``model`` on the purchases up to ``calibration_end`` (default: ``as_of`` minus
    :data:`DEFAULT_HOLDOUT_WEEKS` weeks) and compare its predictions for the holdout with what
    the same customers did in it. See :class:`HoldoutCheck`. A caller that has the customer
    summary at ``calibration_end`` already, with the same settings, passes it as ``summary``."""
    _check_settings(model, time_unit, count_by=count_by)
    transactions, as_of = _transactions_and_as_of(source, as_of)
    calibration_end = calibration_end or as_of - timedelta(weeks=DEFAULT_HOLDOUT_WEEKS)
    if calibration_end >= as_of:
        raise InputError(f"The calibration period must end before as_of ({as_of}), not on "
                         f"{calibration_end}.")
    step = progress or (lambda message: None)
    if summary is None:
        step("Holdout check: summarising the calibration period")
        summary = customer_summary(transactions, as_of=as_of, time_unit=time_unit,
                                   calibration_end=calibration_end, count_by=count_by).cache()
    stats = sufficient_statistics(summary)
    step(f"Holdout check: fitting the {MODEL_NAMES.get(model, model)} model")
    fitted = fit_transaction_model(model, stats)
    length = (as_of - calibration_end).days / unit_days(time_unit)
    predicted = _Histories(stats).expected(
        fitted, lambda x, t_x, T: fitted.expected_purchases(length, x, t_x, T))
    predictions = stats[_KEYS].assign(predicted=predicted)
    step("Holdout check: comparing with the holdout")
    # The calibration customers' days in the holdout, read once for both comparisons.
    days = daily_activity(transactions, after=calibration_end, until=as_of, count_by=count_by)
    days = days.semi_join(summary, "customer_id").cache()
    holdout = holdout_purchases(transactions, calibration_end, as_of, time_unit, count_by,
                                customers=summary.select("customer_id"), holdout=days)
    per_customer = summary.join(holdout, "customer_id").join(ibis.memtable(predictions), _KEYS)
    per_customer = per_customer.select("customer_id", *_KEYS, "holdout_frequency", "predicted")
    by_frequency = _by_frequency(stats, predicted, summary, days)
    return HoldoutCheck(
        model=fitted, model_name=MODEL_NAMES[model], time_unit=time_unit,
        calibration_end=calibration_end, as_of=as_of, holdout_length=length,
        n_customers=int(stats["weight"].sum()),
        predicted=float(by_frequency["predicted"].sum()),
        actual=int(by_frequency["actual"].sum()), by_frequency=by_frequency,
        tracking=_tracking(days, stats, fitted, calibration_end, as_of, unit_days(time_unit)),
        table=per_customer)


def _by_frequency(stats: pd.DataFrame, predicted: np.ndarray, summary: ibis.Table, days: ibis.Table) -> pd.DataFrame:
    """Per calibration frequency bin: the customers and their predictions from the histories
    (``predicted``: one customer's prediction per row of ``stats``); what they did from the
    holdout ``days`` of the customers who bought in it (the others add nothing)."""
    bins = np.minimum(stats["frequency"].to_numpy(), FREQUENCY_BINS)
    weight = stats["weight"].to_numpy(dtype=float)
    histories = pd.DataFrame({"bin": bins, "customers": stats["weight"].to_numpy(), "predicted": weight * predicted})
    bought = days.group_by("customer_id").agg(holdout_frequency=days.purchases.sum())
    t = bought.join(summary.select("customer_id", "frequency"), "customer_id")
    t = t.mutate(bin=ibis.least(t.frequency, FREQUENCY_BINS))
    hf = t.holdout_frequency.cast("float64")
    actual = t.group_by("bin").agg(actual=t.holdout_frequency.sum(), actual_squares=(hf * hf).sum()).to_pandas()
    frame = (histories.groupby("bin", as_index=False).sum().merge(actual, on="bin", how="left")
             .fillna({"actual": 0, "actual_squares": 0.0}).sort_values("bin", ignore_index=True))
    n = frame["customers"].to_numpy(dtype=float)
    mean = frame["actual"] / n
    variance = np.maximum(frame["actual_squares"] / n - mean**2, 0.0) * n / np.maximum(n - 1, 1)
    half = Z95 * np.sqrt(variance / n)
    labels = [f"{b}+" if b == FREQUENCY_BINS else str(b) for b in frame["bin"]]
    return pd.DataFrame({
        "frequency": labels, "customers": frame["customers"].astype("int64"),
        "actual_mean": mean, "actual_low": mean - half, "actual_high": mean + half,
        "predicted_mean": frame["predicted"] / n,
        "actual": frame["actual"].astype("int64"), "predicted": frame["predicted"],
    })


def _tracking(d: ibis.Table, stats, fitted, calibration_end: date, as_of: date, unit: float) -> pd.DataFrame:
    """``d``: the calibration customers' :func:`daily_activity` in the holdout."""
    holdout_days = (as_of - calibration_end).days
    weeks = np.arange(1, math.ceil(holdout_days / 7) + 1)
    day = np.minimum(7 * weeks, holdout_days)  # days into the holdout at each week's end
    # Actual: purchases of calibration customers, counted per holdout week in the engine.
    start = (calibration_end - date(1970, 1, 1)).days
    d = d.mutate(week=((d.date.epoch_days() - start - 1) // 7 + 1).cast("int64"))
    counts = d.group_by("week").agg(purchases=d.purchases.sum()).to_pandas()
    per_week = counts.set_index("week")["purchases"].reindex(weeks, fill_value=0)
    # Predicted: E[X(T + t)] - E[X(T)] summed over the customers of each age T.
    ages = stats.groupby("T")["weight"].sum()
    age = ages.index.to_numpy(dtype=float)[:, None]
    t = day[None, :] / unit
    gained = fitted.expected_purchases_new(age + t) - fitted.expected_purchases_new(age)
    return pd.DataFrame({
        "week": weeks, "day": day, "actual": np.cumsum(per_week.to_numpy()).astype("int64"),
        "predicted": ages.to_numpy(dtype=float) @ gained,
    })
