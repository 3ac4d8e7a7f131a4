"""The report's profitability section: profit after the cost of serving customers, the whale
curve, tiers and acquisition by channel (the computation is :mod:`custfocus.profitability.analysis`).

``Section.data`` keys (JSON; money in the company's currency): :func:`profitability_data`, listed
in docs/profitability.md (``period``, ``totals``, ``whale_curve``, ``tiers``, ``by_group``,
``acquisition_by_channel``, ``caveats``). The tiers' warranted service follows each tier's CLV from
the run's shared value fit (:func:`custfocus.value.shared_value`); when customers' value could
not be estimated it follows gross margin, and a caveat says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from custfocus.data.company import Company
from custfocus.errors import CustfocusError
from custfocus.profitability.analysis import (
    ABOVE,
    BELOW,
    CORE,
    TOP_SHARE,
    Profitability,
    profitability,
)
from custfocus.section import Chart, Context, Headline, Section
from custfocus.stats import MIN_SAMPLE, to_jsonable
from custfocus.value import shared_value

KEY = "profitability"
TITLE = "Profitability: what customers earn after the cost of serving them"
_PROFIT_COLOUR, _COST_COLOUR, _WARRANTED_COLOUR = "#1f5fa8", "#d62728", "#7f7f7f"


def section(company: Company, context: Context) -> Section:
    """Build the profitability section, valuing the tiers with the run's shared CLV when there is one."""
    if not company.has("transactions"):
        return Section.unavailable(KEY, TITLE, company.missing("transactions"))
    caveats = []
    try:
        clv = shared_value(company, context).table.select("customer_id", "clv")
    except CustfocusError as failure:
        clv = None
        caveats.append("The service each tier warrants follows its gross margin, because customers' "
                       f"value could not be estimated: {failure}")
    context.progress("Profitability: profit after cost to serve")
    result = profitability(company, clv=clv, progress=context.progress)
    money = _money_formatter(result.currency)
    return Section(
        KEY, TITLE,
        summary=(f"From {result.period_start or 'the start'} to {result.as_of}, the "
                 f"{result.totals['customers']:,} customers made {money(result.totals['profit'])} of "
                 "profit after the cost of serving them."),
        headlines=profitability_headlines(result), charts=profitability_charts(result),
        caveats=caveats + list(result.caveats), data=profitability_data(result))


def profitability_headlines(result: Profitability) -> list[Headline]:
    """The headlines: profit after cost to serve, the whale's peak, the loss-makers."""
    totals, whale, money = result.totals, result.whale, _money_formatter(result.currency)
    period = _period_words(result)
    headlines = [Headline(
        "Profit after cost to serve", money(totals["profit"]),
        f"{period}: revenue {money(totals['revenue'])}, gross margin {money(totals['gross_margin'])}, "
        f"cost to serve {money(totals['cost_to_serve'])}; {totals['customers']:,} customers",
        None if result.cost_known and result.cost_to_serve_known else "costs incomplete: see the caveats",
    )]
    if whale.total_profit > 0:
        headlines.append(Headline(
            "Whale curve peak", f"{whale.peak_profit_share:.0%} of profit",
            f"made by the most profitable {whale.peak_customer_share:.0%} of customers "
            f"({whale.peak_customers:,}); the other {whale.loss_customers:,} lose {money(-whale.loss)}",
            _small_caveat(whale.customers)))
    return headlines


def profitability_charts(result: Profitability) -> list[Chart]:
    """The whale curve with its peak, the tiers' profit and cost to serve, and value / CAC by channel."""
    charts = [_whale_chart(result), _tiers_chart(result)]
    if result.channels is not None and len(result.channels):
        charts.append(_channels_chart(result))
    return charts


def profitability_data(result: Profitability) -> dict:
    """Every figure behind the headlines and charts, JSON-serialisable (keys: docs/profitability.md)."""
    whale, tiers = result.whale, result.tiers
    return to_jsonable({
        "period": {"start": result.period_start, "end": result.as_of},
        "currency": result.currency,
        "cost_known": result.cost_known,
        "cost_to_serve_known": result.cost_to_serve_known,
        "totals": result.totals,
        "whale_curve": {
            "customers": whale.customers, "total_profit": whale.total_profit,
            "peak": {"customers": whale.peak_customers, "customer_share": whale.peak_customer_share,
                     "profit": whale.peak_profit, "profit_share": whale.peak_profit_share},
            "top_fifth": {"customers": whale.top_fifth_customers, "profit": whale.top_fifth_profit,
                          "profit_share": whale.top_fifth_profit_share},
            "loss_customers": whale.loss_customers, "loss": whale.loss,
            "points": whale.curve,
        },
        "tiers": {"band": tiers.band, "value_basis": tiers.value_basis, "tolerance": tiers.tolerance,
                  "rows": _unknown_service(tiers.table, result.cost_to_serve_known)},
        "by_group": result.groups,
        "acquisition_by_channel": result.channels,
        "caveats": list(result.caveats),
    })


def _unknown_service(table: pd.DataFrame, known: bool) -> pd.DataFrame:
    """Without service events there is no cost to serve to judge: blank those columns."""
    if known:
        return table
    blanked = ["cost_to_serve", "cost_to_serve_per_customer", "warranted_cost_to_serve", "warranted_per_customer",
               "service_ratio", "verdict"]
    return table.assign(**{c: None for c in blanked})


def _whale_chart(result: Profitability) -> Chart:
    whale, money = result.whale, _money_formatter(result.currency)
    curve = whale.curve
    relative = whale.total_profit > 0
    y = curve["profit_share"] if relative else curve["cumulative_profit"]
    figure = go.Figure(go.Scatter(
        x=curve["customer_share"], y=y, mode="lines", name="Cumulative profit", line_color=_PROFIT_COLOUR,
        customdata=np.column_stack([curve["customers"], curve["cumulative_profit"]]),
        hovertemplate="top %{customdata[0]:,} customers (%{x:.0%}): %{customdata[1]:,.0f}<extra></extra>"))
    if whale.peak_customers:
        peak_y = whale.peak_profit_share if relative else whale.peak_profit
        figure.add_trace(go.Scatter(
            x=[whale.peak_customer_share], y=[peak_y], mode="markers+text", name="Peak",
            marker={"size": 11, "color": _COST_COLOUR}, textposition="bottom left",
            text=[f"peak: {whale.peak_customer_share:.0%} of customers, "
                  + (f"{peak_y:.0%} of profit" if relative else money(peak_y))]))
    if relative:
        figure.add_hline(y=1, line_dash="dot", line_color="grey", annotation_text="100% of profit")
    figure.update_layout(xaxis_title="customers, most profitable first", xaxis_tickformat=".0%",
                         yaxis_title="cumulative profit, share of total" if relative else
                         f"cumulative profit ({result.currency})",
                         yaxis_tickformat=".0%" if relative else None)
    return Chart("whale_curve", f"Whale curve: cumulative profit by customer, {_period_words(result)}",
                 _whale_finding(result), figure, _small_caveat(whale.customers))


def _whale_finding(result: Profitability) -> str:
    whale, money = result.whale, _money_formatter(result.currency)
    if whale.customers == 0:
        return "No customer bought or was served in the period."
    if whale.total_profit <= 0:
        return (f"The customers lost {money(-whale.total_profit)} in total after cost to serve: the "
                f"{whale.peak_customers:,} profitable ones made {money(whale.peak_profit)} and the "
                f"{whale.loss_customers:,} others lost {money(-whale.loss)}.")
    top = f"The top {TOP_SHARE:.0%} of customers make {whale.top_fifth_profit_share:.0%} of the profit"
    if whale.loss_customers == 0:
        return top + "; no customer loses money."
    return (f"{top}; profit peaks at {whale.peak_profit_share:.0%} of the total with the most profitable "
            f"{whale.peak_customer_share:.0%}, and the other {whale.loss_customers:,} customers "
            f"({whale.loss_customers / whale.customers:.0%}) lose {money(-whale.loss)}.")


def _tiers_chart(result: Profitability) -> Chart:
    table, known = result.tiers.table, result.cost_to_serve_known
    bars = [go.Bar(x=table["tier"], y=table["profit"], name="Profit", marker_color=_PROFIT_COLOUR)]
    if known:
        bars += [go.Bar(x=table["tier"], y=table["cost_to_serve"], name="Cost to serve now",
                        marker_color=_COST_COLOUR),
                 go.Bar(x=table["tier"], y=table["warranted_cost_to_serve"],
                        name=f"Cost to serve its {result.tiers.value_basis} warrants", marker_color=_WARRANTED_COLOUR)]
    figure = go.Figure(bars, layout=go.Layout(barmode="group", yaxis_title=result.currency,
                                              xaxis_title=_band_words(result)))
    return Chart("tiers", "Profit tiers: profit, cost to serve now, and what each tier's value warrants",
                 _tiers_finding(result), figure,
                 None if known else "Without service_events the cost to serve is unknown.")


def _tiers_finding(result: Profitability) -> str:
    table, money = result.tiers.table.set_index("tier"), _money_formatter(result.currency)
    core = table.loc[CORE]
    if not table["customers"].sum():
        return "No customer bought in the period, so there are no profit tiers."
    text = (f"The profitable core ({core['customer_share']:.0%} of customers) makes "
            f"{money(core['profit'])}")
    if not result.cost_to_serve_known:
        return text + "; without service costs the tiers' service levels cannot be judged."
    flagged = table[table["verdict"].isin([ABOVE, BELOW]) & (table["customers"] > 0)]
    if flagged.empty:
        return text + "; every tier is served in line with its value."
    # The tier furthest from its warranted level, in either direction (a ratio of 0 is as far as it gets).
    with np.errstate(divide="ignore"):
        distance = np.abs(np.log(flagged["service_ratio"].astype(float)))
    worst = flagged.loc[distance.idxmax()]
    text += f"; the {worst.name} is {worst['verdict']}: it costs {money(worst['cost_to_serve'])} to serve"
    if not math.isfinite(worst["service_ratio"]):
        return text + f" while its {result.tiers.value_basis} warrants nothing."
    return (text + f", {worst['service_ratio']:.1f} times the {money(worst['warranted_cost_to_serve'])} "
            f"its {result.tiers.value_basis} warrants.")


def _channels_chart(result: Profitability) -> Chart:
    channels = result.channels
    small = channels["too_small"].to_numpy(bool)
    figure = go.Figure(go.Bar(
        x=channels["channel"], y=channels["value_to_cac"],
        marker_color=np.where(small, "#b0b0b0", _PROFIT_COLOUR),
        error_y={"type": "data", "symmetric": False,
                 "array": (channels["value_to_cac_high"] - channels["value_to_cac"]).fillna(0),
                 "arrayminus": (channels["value_to_cac"] - channels["value_to_cac_low"]).fillna(0)},
        customdata=np.column_stack([channels["customers"], channels["acquisition_cost"], channels["payback_months"]]),
        hovertemplate=("%{x}: value %{y:.1f} x acquisition cost (n = %{customdata[0]:,}); mean cost "
                       "%{customdata[1]:.2f}, median payback %{customdata[2]} months<extra></extra>")))
    figure.add_hline(y=1, line_dash="dot", line_color="grey", annotation_text="value = acquisition cost")
    figure.update_layout(yaxis_title="value per customer / acquisition cost", xaxis_title="acquisition channel")
    return Chart("acquisition_by_channel", "Value against acquisition cost by channel, with 95% intervals",
                 _channels_finding(result), figure,
                 f"Grey bars: fewer than {MIN_SAMPLE} customers." if small.any() else None)


def _channels_finding(result: Profitability) -> str:
    channels = result.channels.dropna(subset=["value_to_cac"])
    if channels.empty:
        return "No channel has an acquisition cost to compare with."
    best = channels.loc[channels["value_to_cac"].idxmax()]
    worst = channels.loc[channels["value_to_cac"].idxmin()]
    what = "contribution to date plus CLV" if channels["future_contribution"].notna().any() else "contribution to date"
    text = (f"Per {result.currency} of acquisition cost, {best['channel']} customers bring {best['value_to_cac']:.1f} "
            f"({what}; 95% CI {best['value_to_cac_low']:.1f} to {best['value_to_cac_high']:.1f})")
    if worst["channel"] != best["channel"]:
        text += f" and {worst['channel']} customers {worst['value_to_cac']:.1f}"
    medians = channels["payback_months"]
    if medians.notna().all() and (medians == 0).all():
        text += "; in every channel at least half the customers paid back their acquisition cost on the first day"
    elif medians.notna().any():
        slowest = channels.loc[medians.idxmax()]
        text += f"; the slowest median payback is {slowest['payback_months']:.0f} months ({slowest['channel']})"
    if medians.isna().any():
        text += f"; fewer than half of the {', '.join(channels.loc[medians.isna(), 'channel'])} customers paid back yet"
    shares = channels.dropna(subset=["paid_back_share"])
    if len(shares):
        lowest = shares.loc[shares["paid_back_share"].idxmin()]
        text += (f"; {lowest['channel']} has the lowest share paid back within {result.horizon_months} months, "
                 f"{lowest['paid_back_share']:.0%}")
    return text + "."


def _period_words(result: Profitability) -> str:
    if result.period_start is None:
        return f"all history to {result.as_of:%d %b %Y}"
    return f"{result.period_start:%d %b %Y} to {result.as_of:%d %b %Y}"


def _band_words(result: Profitability) -> str:
    band = _money_formatter(result.currency)(result.tiers.band)
    return f"tiers by profit per customer: core above +{band}, tail below -{band}, middle in between"


def _money_formatter(currency: str):
    return lambda value: f"{value:,.0f} {currency}" if value is not None and math.isfinite(value) else "n/a"


def _small_caveat(n: int) -> str | None:
    return f"only {n} customer{'' if n == 1 else 's'}: too few to rely on" if 0 < n < MIN_SAMPLE else None
