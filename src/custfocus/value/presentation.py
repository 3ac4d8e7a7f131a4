"""The value section of the report: what customers are worth over the coming months, and how
well the model predicted a held-out period. (What they earn after the cost of serving them is the
profitability section, :mod:`custfocus.profitability.presentation`.)

``Section.data`` keys (JSON; money in the company's currency):

- ``clv``: :func:`custfocus.value.clv.clv_report`: model, settings, both models' parameters with
  standard errors and intervals, log-likelihood, n, totals and caveats.
- ``clv_distribution``: the CLV deciles behind the chart of the same key
  (:func:`custfocus.value.charts.clv_distribution_chart`).
- ``parameters``: the fitted parameters table's data.
- ``holdout_by_frequency`` and ``holdout_tracking``: the calibration / holdout check
  (:class:`custfocus.value.holdout.HoldoutCheck`), with ``calibration_end``, ``predicted``, ``actual``
  and ``relative_error`` under ``holdout``; absent, with a caveat, when the history is too short.

When the purchase model could not be estimated (its fit did not converge), the section is not
available and says why: no value is shown from a model that did not converge.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from custfocus.data.company import Company
from custfocus.errors import CustfocusError
from custfocus.section import Chart, Context, Headline, Section, TableView
from custfocus.stats import to_jsonable
from custfocus.value.charts import (
    clv_distribution_chart,
    holdout_frequency_chart,
    holdout_tracking_chart,
    parameter_table,
)
from custfocus.value.clv import clv_report, shared_summaries, shared_value
from custfocus.value.holdout import DEFAULT_HOLDOUT_WEEKS, calibration_holdout

KEY = "value"
TITLE = "Value: what customers are worth"
MIN_CUSTOMERS = 200  # below this the models' parameters are too uncertain to act on
# A holdout check needs a calibration period at least as long as the holdout itself.
MIN_HISTORY = timedelta(weeks=2 * DEFAULT_HOLDOUT_WEEKS)


def section(company: Company, context: Context) -> Section:
    """Build the value section on the value fit the run shares (:func:`shared_value`)."""
    if not company.has("transactions"):
        return Section.unavailable(KEY, TITLE, company.missing("transactions"))
    try:
        value = shared_value(company, context)
    except CustfocusError as failure:
        return Section(key=KEY, title=TITLE, available=False,
                       reason=f"Not available: customers' value could not be estimated. {failure}")
    report = clv_report(value)
    result = Section(KEY, TITLE, data={"clv": report}, caveats=list(value.caveats))
    if value.n_customers < MIN_CUSTOMERS:
        result.caveats.insert(0, f"Only {value.n_customers:,} customers: too few for the lifetime-value models to "
                                 f"be trusted (at least {MIN_CUSTOMERS:,} are needed); read the values as rough.")
    totals = report["totals"]

    figure, finding, data = clv_distribution_chart(value, company.currency)
    result.charts.append(Chart("clv_distribution", f"Who holds the next {value.horizon_months} months' value",
                               finding, figure))
    result.data["clv_distribution"] = data
    frame, finding, data = parameter_table(value)
    result.tables.append(TableView("parameters", "The fitted models", frame, finding))
    result.data["parameters"] = data

    clv = totals.get("clv") or {}
    if clv.get("estimate") is not None:
        result.headlines.append(Headline(
            f"Expected value, next {value.horizon_months} months", f"{clv['estimate']:,.0f} {company.currency}",
            (f"95% CI {clv['low']:,.0f} to {clv['high']:,.0f}; " if clv.get("low") is not None
             else "no interval: the models' uncertainty could not be estimated; ")
            + f"{report['n_customers']:,} customers, "
            f"{totals['mean_clv']['estimate']:,.2f} {company.currency} each on average; {report['model']} with "
            f"Gamma-Gamma, discounted at {value.annual_discount_rate:.0%} a year"))
    alive = totals["expected_alive"] / max(report["n_customers"], 1)
    result.headlines.append(Headline(
        "Customers still active", f"{alive:.0%}",
        f"expected share of the {report['n_customers']:,} customers who have not dropped out "
        f"({totals['expected_alive']:,.0f})"))

    _add_holdout(result, company, context)

    deciles = result.data["clv_distribution"].get("deciles") or [{}]
    top_share = deciles[0].get("share")
    result.summary = (
        f"The {report['n_customers']:,} customers are expected to bring {clv.get('estimate') or 0:,.0f} {company.currency} over the "
        f"next {value.horizon_months} months"
        + (f", {top_share:.0%} of it from the most valuable tenth" if top_share is not None else "")
        + "."
        if clv.get("estimate") is not None else
        "No spend is known, so customers' value cannot be estimated; purchase predictions are shown.")
    return result


def _add_holdout(result: Section, company: Company, context: Context) -> None:
    """The calibration / holdout check, when the history is long enough to hold some back."""
    first = pd.Timestamp(company.table("transactions").date.min().execute())
    if pd.isna(first) or company.as_of - first.date() < MIN_HISTORY:
        result.caveats.append(f"The model is not checked against a holdout: that needs at least "
                              f"{2 * DEFAULT_HOLDOUT_WEEKS} weeks of history.")
        return
    try:
        summaries = shared_summaries(company, context)
        check = calibration_holdout(company, calibration_end=summaries.calibration_end, progress=context.progress,
                                    summary=summaries.at_calibration_end)
    except CustfocusError as failure:
        result.caveats.append(f"The holdout check could not run: {failure}")
        return
    for key, title, build in (
        ("holdout_by_frequency", "Does the model predict who buys again? (holdout check)", holdout_frequency_chart),
        ("holdout_tracking", "Does it follow purchases over time? (holdout check)", holdout_tracking_chart),
    ):
        figure, finding, data = build(check)
        result.charts.append(Chart(key, title, finding, figure))
        result.data[key] = data
    result.data["holdout"] = to_jsonable({
        "calibration_end": check.calibration_end, "as_of": check.as_of, "customers": check.n_customers,
        "predicted": check.predicted, "actual": check.actual, "relative_error": check.relative_error})
