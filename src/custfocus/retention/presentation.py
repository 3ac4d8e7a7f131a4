"""The retention section of the report: headlines, charts with findings, caveats and JSON data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from custfocus.data.company import Company
from custfocus.retention.metrics import CohortMatrix, RetentionSummary, summary
from custfocus.section import Chart, Context, Headline, Section
from custfocus.stats import MIN_SAMPLE, Estimate, to_jsonable

KEY = "retention"
TITLE = "Retention: are customers coming and staying?"
PERIOD = "month"
TRAILING = 12  # months averaged in the findings, compared with the 12 before
HEATMAP_COHORTS = 24  # most recent cohorts shown in the heatmap
BAND_LINE, BAND_FILL = "rgb(31, 119, 180)", "rgba(31, 119, 180, 0.2)"


def section(company: Company, context: Context) -> Section:
    """Build the retention section from the company's transactions, monthly, as of ``company.as_of``.

    ``context.progress`` is called with a short description before each step.

    Keys of ``data`` (dates are ISO strings, missing numbers None; "complete months" exclude the
    month that contains as_of when as_of is not its last day):

    - ``period``: "month"; ``as_of``; ``last_complete_period``: first day of the last complete month
      (None if there is none).
    - ``headlines``: ``new_customers`` and ``active_customers`` in the last complete month;
      ``retention`` and ``churn`` (estimate, low, high, n = customers active the month before) for
      that month; ``repeat_purchase_rate`` (estimate, low, high, n) among customers whose first
      purchase is on or before ``repeat_purchase_cutoff``; ``revenue_retention`` for the last
      complete month with ``revenue_retention_base`` (customers active the month before);
      ``cycle_retention``: the headline, retention over the purchase cycle's window (``days``,
      ``base_start``, ``base_end``, ``as_of``, ``retained``, ``retention`` and ``churn`` as estimate,
      low, high, n = customers who bought in the base window), None when it cannot be measured.
    - ``purchase_cycle``: ``typical_days`` (median over repeat customers of their mean days between
      purchase days), ``n`` (those customers), ``window_days`` and ``window_name`` (the headline window).
    - ``flow.by_period``: period, complete, new_customers, active_customers, for every month.
    - ``retention.by_period``: period, complete, base, retained, rate, low, high, churn.
      ``retention.trailing``: ``months`` averaged, pooled ``rate`` (retained / base summed over the
      last ``months`` complete months) and ``previous_rate`` for the 12 months before (None unless
      24 complete months exist).
    - ``cohorts``: the heatmap: ``cohort`` (first days of the cohort months shown), ``cohort_size``,
      ``periods_after`` (1, 2, ...), ``share`` (one row per cohort, None where not yet complete), and
      ``pooled``: {"1": share of all cohorts active one month after acquisition, "<k>": the same k
      months after, k = min(6, longest observed)}.
    - ``revenue_retention.by_period``: period, complete, base, base_revenue, revenue,
      revenue_retention; ``revenue_retention.trailing`` as for retention, pooled as revenue /
      base_revenue.
    """
    if not company.has("transactions"):
        return Section.unavailable(KEY, TITLE, company.missing("transactions"))
    step = context.progress
    transactions, as_of = company.table("transactions"), company.as_of

    step("Retention: acquisition, active base, retention by month and over the purchase cycle, cohorts")
    figures = summary(transactions, as_of, PERIOD, with_cohorts=True)
    flow, rates, revenue, repeat = figures.flow, figures.rates, figures.revenue, figures.repeat
    if flow.empty:
        return Section(
            key=KEY,
            title=TITLE,
            available=False,
            reason=f"Not available: no purchases (transactions with a positive amount) up to {as_of:%d %b %Y}.",
        )
    cohorts = figures.cohorts

    done_flow = flow[flow["complete"]]
    done_rates = rates[rates["complete"]]
    done_revenue = revenue[revenue["complete"]]
    retention_trend = _trailing(done_rates, "retained", "base")
    revenue_trend = _trailing(done_revenue, "revenue", "base_revenue")
    pooled_cohorts = _pooled_cohort_shares(cohorts.long)
    heatmap = _heatmap_frame(cohorts)

    headlines = _headlines(done_flow, done_rates, done_revenue, figures)
    charts = [
        _flow_chart(done_flow),
        _retention_chart(done_rates, retention_trend),
        _cohort_chart(heatmap, cohorts.sizes, pooled_cohorts),
        _revenue_chart(done_revenue, revenue_trend),
    ]
    caveats = _caveats(flow, done_rates, figures)
    last = done_flow["period"].iloc[-1] if len(done_flow) else None
    data = {
        "period": PERIOD,
        "as_of": as_of,
        "last_complete_period": last,
        "headlines": {
            "new_customers": _last(done_flow, "new_customers"),
            "active_customers": _last(done_flow, "active_customers"),
            "retention": _rate_estimate(done_rates).to_dict() if len(done_rates) else None,
            "churn": _churn_estimate(done_rates).to_dict() if len(done_rates) else None,
            "repeat_purchase_rate": repeat.to_dict(),
            "repeat_purchase_cutoff": figures.repeat_cutoff,
            "cycle_retention": figures.cycle_retention.to_dict() if figures.cycle_retention else None,
            "revenue_retention": _last(done_revenue, "revenue_retention"),
            "revenue_retention_base": _last(done_revenue, "base"),
        },
        "purchase_cycle": figures.cycle.to_dict(),
        "flow": {"by_period": flow.to_dict("records")},
        "retention": {"by_period": rates.to_dict("records"), "trailing": retention_trend},
        "cohorts": {
            "cohort": list(heatmap.index),
            "cohort_size": [int(cohorts.sizes[c]) for c in heatmap.index],
            "periods_after": list(heatmap.columns),
            "share": heatmap.to_numpy().tolist(),
            "pooled": {str(k): v for k, v in pooled_cohorts.items()},
        },
        "revenue_retention": {"by_period": revenue.to_dict("records"), "trailing": revenue_trend},
    }
    return Section(
        key=KEY,
        title=TITLE,
        summary=figures.cycle_sentence() if figures.cycle_measured else charts[1].finding,
        headlines=headlines,
        charts=charts,
        caveats=caveats,
        data=to_jsonable(data),
    )


# --- headlines -----------------------------------------------------------------------------------


def _headlines(flow, rates, revenue, figures: RetentionSummary) -> list[Headline]:
    headlines = []
    if len(flow):
        month = _label(flow["period"].iloc[-1])
        previous = (
            f", against {flow['new_customers'].iloc[-2]:,} in {_label(flow['period'].iloc[-2])}"
            if len(flow) > 1
            else ""
        )
        headlines += [
            Headline("New customers", f"{flow['new_customers'].iloc[-1]:,}", f"first purchase in {month}{previous}"),
            Headline("Active customers", f"{flow['active_customers'].iloc[-1]:,}", f"bought at least once in {month}"),
        ]
    monthly = _monthly_sentence(rates)
    # The retention rate leads: it is the figure the briefing opens with for this section.
    if figures.cycle_measured:
        rate = figures.cycle_retention.retention
        headlines.insert(0, Headline(f"Retention over {figures.cycle.window_name}", _pct(rate.estimate),
                                  f"{figures.cycle_sentence()} {monthly}", _small_base_caveat(rate.n, "in the base")))
    elif len(rates) and rates["base"].iloc[-1] > 0:
        rate = _rate_estimate(rates)
        headlines.insert(0, Headline("Monthly retention", _pct(rate.estimate), monthly,
                                  _small_base_caveat(rate.n, f"active in {_label(rates['period'].iloc[-1] - pd.DateOffset(months=1))}")))
    repeat = figures.repeat
    if repeat.n:
        headlines.append(
            Headline(
                "Repeat-purchase rate",
                _pct(repeat.estimate),
                f"95% CI {_pct(repeat.low)} to {_pct(repeat.high)}: bought on two or more days, among the "
                f"{repeat.n:,} customers acquired by {figures.repeat_cutoff:%d %b %Y}",
                _small_base_caveat(repeat.n, "in the base"),
            )
        )
    if len(revenue) and revenue["base"].iloc[-1] > 0:
        month, before = _label(revenue["period"].iloc[-1]), _label(revenue["period"].iloc[-1] - pd.DateOffset(months=1))
        headlines.append(
            Headline(
                "Revenue retention",
                _pct(revenue["revenue_retention"].iloc[-1]),
                f"{month} revenue of the {revenue['base'].iloc[-1]:,} customers active in {before}, "
                f"against their {before} revenue (refunds included)",
                _small_base_caveat(int(revenue["base"].iloc[-1]), f"active in {before}"),
            )
        )
    return headlines


def _monthly_sentence(rates: pd.DataFrame) -> str:
    if not len(rates):
        return "No complete month to measure month-on-month retention yet."
    rate = _rate_estimate(rates)
    month, before = _label(rates["period"].iloc[-1]), _label(rates["period"].iloc[-1] - pd.DateOffset(months=1))
    return (f"Month on month: {_pct(rate.estimate)} (95% CI {_pct(rate.low)} to {_pct(rate.high)}): "
            f"{rates['retained'].iloc[-1]:,} of the {rate.n:,} customers active in {before} bought again in {month}.")


def _rate_estimate(rates: pd.DataFrame) -> Estimate:
    row = rates.iloc[-1]
    return Estimate(float(row["rate"]), float(row["low"]), float(row["high"]), int(row["base"]))


def _churn_estimate(rates: pd.DataFrame) -> Estimate:
    rate = _rate_estimate(rates)
    return Estimate(1 - rate.estimate, 1 - rate.high, 1 - rate.low, rate.n)


def _small_base_caveat(n: int, who: str) -> str | None:
    if n >= MIN_SAMPLE:
        return None
    return f"only {n} customers {who}: too few for a precise rate"


# --- charts --------------------------------------------------------------------------------------


def _flow_chart(flow: pd.DataFrame) -> Chart:
    figure = go.Figure(
        [
            go.Bar(x=flow["period"], y=flow["new_customers"], name="New customers"),
            go.Scatter(x=flow["period"], y=flow["active_customers"], name="Active customers", mode="lines+markers"),
        ],
        layout=go.Layout(yaxis_title="customers", xaxis_title="month", hovermode="x unified"),
    )
    first = _label(flow["period"].iloc[0]) if len(flow) else None
    return Chart(
        key="flow",
        title="New customers and active customers by month",
        finding=_flow_finding(flow),
        figure=figure,
        caveat=(
            f"The data begin in {first}: customers who bought before then count as new when first seen, "
            "so the first months overstate acquisition."
            if first
            else None
        ),
    )


def _flow_finding(flow: pd.DataFrame) -> str:
    if flow.empty:
        return "No complete month of data yet."
    last = flow.iloc[-1]
    new = _customers(last["new_customers"], "new customer")
    text = f"{new} in {_label(last['period'])} and {last['active_customers']:,} active"
    if len(flow) < 2:
        return text + "."
    reference = flow.iloc[-1 - TRAILING] if len(flow) > TRAILING else flow.iloc[0]
    then = reference["active_customers"]
    if then == 0:
        return text + "."
    change = last["active_customers"] / then - 1
    direction = "up" if change > 0 else "down"
    return text + (
        f"; the active base is {direction} {abs(change):.0%} on {_label(reference['period'])} ({then:,})."
        if round(change, 2) != 0
        else f"; the active base is level with {_label(reference['period'])} ({then:,})."
    )


def _retention_chart(rates: pd.DataFrame, trend: dict) -> Chart:
    figure = go.Figure(
        [
            go.Scatter(
                x=rates["period"], y=rates["high"], mode="lines", line_width=0, showlegend=False, hoverinfo="skip"
            ),
            go.Scatter(
                x=rates["period"],
                y=rates["low"],
                mode="lines",
                line_width=0,
                fill="tonexty",
                fillcolor=BAND_FILL,
                name="95% interval",
                hoverinfo="skip",
            ),
            go.Scatter(
                x=rates["period"],
                y=rates["rate"],
                mode="lines+markers",
                name="Retention",
                line_color=BAND_LINE,
                customdata=np.column_stack([rates["retained"], rates["base"]]) if len(rates) else None,
                hovertemplate="%{y:.1%}: %{customdata[0]:,} of %{customdata[1]:,}<extra></extra>",
            ),
        ],
        layout=go.Layout(yaxis_title="share of last month's customers", yaxis_tickformat=".0%", xaxis_title="month"),
    )
    smallest = int(rates["base"].min()) if len(rates) else MIN_SAMPLE
    return Chart(
        key="retention",
        title="Month-on-month retention, with 95% interval",
        finding=_trend_finding("Month-on-month retention", trend),
        figure=figure,
        caveat=(
            f"Some months rest on fewer than {MIN_SAMPLE} customers (as few as {smallest}): "
            "their rates are imprecise, as the interval band shows."
            if smallest < MIN_SAMPLE
            else None
        ),
    )


def _cohort_chart(heatmap: pd.DataFrame, sizes: pd.Series, pooled: dict[int, float]) -> Chart:
    labels = [f"{_label(c)} (n={sizes[c]:,})" for c in heatmap.index]
    figure = go.Figure(
        go.Heatmap(
            z=heatmap.to_numpy(),
            x=list(heatmap.columns),
            y=labels,
            colorscale="Blues",
            zmin=0,
            texttemplate="%{z:.0%}",
            hovertemplate="%{y}, month %{x}: %{z:.1%}<extra></extra>",
            colorbar_tickformat=".0%",
        ),
        layout=go.Layout(xaxis_title="months after the first purchase", yaxis_autorange="reversed"),
    )
    if 1 in pooled:
        finding = f"Of each month's new customers, {_pct(pooled[1])} bought again the month after their first purchase"
        later = [k for k in pooled if k > 1]
        finding += f" and {_pct(pooled[later[0]])} {later[0]} months after." if later else "."
    else:
        finding = "Too little history yet to follow cohorts beyond their first month."
    return Chart(
        key="cohorts",
        title=(
            "Share of each monthly cohort buying again, by months since the first purchase "
            f"(last {HEATMAP_COHORTS} cohorts)"
        ),
        finding=finding,
        figure=figure,
    )


def _revenue_chart(revenue: pd.DataFrame, trend: dict) -> Chart:
    figure = go.Figure(
        go.Scatter(x=revenue["period"], y=revenue["revenue_retention"], mode="lines+markers", name="Revenue retention"),
        layout=go.Layout(
            yaxis_title="revenue kept from last month's customers", yaxis_tickformat=".0%", xaxis_title="month"
        ),
    )
    figure.add_hline(y=1, line_dash="dot", annotation_text="100%: they spent as much as the month before")
    return Chart(
        key="revenue_retention",
        title="Revenue retention: last month's customers' revenue this month, against last month",
        finding=_trend_finding("Revenue retention", trend),
        figure=figure,
    )


def _trend_finding(what: str, trend: dict) -> str:
    if trend["months"] == 0 or trend["rate"] is None:
        return f"{what}: no complete month to measure yet."
    window = "the last complete month" if trend["months"] == 1 else f"the last {trend['months']} complete months"
    text = f"{what} averaged {_pct(trend['rate'])} over {window}"
    previous = trend["previous_rate"]
    if previous is None:
        return text + "."
    if _pct(previous) == _pct(trend["rate"]):
        return text + f", level with the year before ({_pct(previous)})."
    return text + f", {'up' if trend['rate'] > previous else 'down'} from {_pct(previous)} the year before."


# --- figures behind the findings -----------------------------------------------------------------


def _trailing(frame: pd.DataFrame, numerator: str, denominator: str) -> dict:
    """Pooled ratio over the last 12 complete months, and over the 12 before when they exist."""
    recent = frame.tail(TRAILING)
    earlier = frame.iloc[-2 * TRAILING : -TRAILING] if len(frame) >= 2 * TRAILING else None
    return {
        "months": len(recent),
        "rate": _ratio(recent[numerator].sum(), recent[denominator].sum()),
        "previous_rate": None if earlier is None else _ratio(earlier[numerator].sum(), earlier[denominator].sum()),
    }


def _pooled_cohort_shares(long: pd.DataFrame) -> dict[int, float]:
    """Share of all cohort members active k months after acquisition (complete cells), k = 1 and up to 6."""
    done = long[long["complete"] & (long["periods_after"] > 0)]
    if done.empty:
        return {}
    shares = {}
    for k in sorted({1, min(6, int(done["periods_after"].max()))}):
        cells = done[done["periods_after"] == k]
        shares[k] = _ratio(cells["active"].sum(), cells["cohort_size"].sum())
    return shares


def _heatmap_frame(cohorts: CohortMatrix) -> pd.DataFrame:
    """The recent complete cohort cells, without month 0 (always 100%)."""
    return cohorts.wide.tail(HEATMAP_COHORTS).drop(columns=0, errors="ignore").dropna(axis="columns", how="all")


def _caveats(flow: pd.DataFrame, rates: pd.DataFrame, figures: RetentionSummary) -> list[str]:
    caveats = []
    current = flow.iloc[-1]
    if not current["complete"]:
        caveats.append(
            f"{_label(current['period'])} is incomplete at {figures.as_of:%d %b %Y}: "
            "it is left out of the headlines and charts."
        )
    complete_months = int(flow["complete"].sum())
    if complete_months < TRAILING + 1:
        caveats.append(
            f"Only {complete_months} complete month{'s' if complete_months != 1 else ''} of data: "
            "too short to compare with a year earlier."
        )
    if len(rates) and rates["base"].iloc[-1] == 0:
        before = _label(rates["period"].iloc[-1] - pd.DateOffset(months=1))
        caveats.append(f"No customer bought in {before}, so the latest month-on-month retention and revenue "
                       "retention cannot be measured.")
    elif len(rates) and rates["base"].iloc[-1] < MIN_SAMPLE:
        before = _label(rates["period"].iloc[-1] - pd.DateOffset(months=1))
        caveats.append(
            f"Only {rates['base'].iloc[-1]} customers were active in {before}, the base of the latest "
            "retention, churn and revenue-retention rates: they are imprecise."
        )
    if not figures.cycle_measured:
        caveats.append(figures.cycle_sentence())
    repeat = figures.repeat
    if 0 < repeat.n < MIN_SAMPLE:
        caveats.append(f"The repeat-purchase rate rests on only {repeat.n} customers.")
    return caveats


# --- formatting ----------------------------------------------------------------------------------


def _label(period) -> str:
    return f"{pd.Timestamp(period):%b %Y}"


def _pct(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"


def _customers(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _ratio(numerator, denominator) -> float | None:
    return float(numerator / denominator) if denominator > 0 else None


def _last(frame: pd.DataFrame, column: str):
    return frame[column].iloc[-1] if len(frame) else None
