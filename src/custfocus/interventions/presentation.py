"""The interventions section of the report: per intervention, the verdict in one sentence first, then
the effects table, the profit and Qini curves, and the segments where it pays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from custfocus.data.company import Company
from custfocus.interventions.analysis import NEEDS, InterventionResult, analyse
from custfocus.interventions.effects import DOES_NOT_PAY, PAYS
from custfocus.section import Chart, Context, Headline, Section, TableView
from custfocus.stats import to_jsonable

KEY = "interventions"
TITLE = "Interventions: does a service investment bring additional profit, and for whom?"
ROWS = {"orders": "Orders", "revenue": "Revenue", "gross_profit": "Gross profit",
        "treatment_cost": "Treatment cost", "net_profit": "Net profit"}
VERDICT_COLOURS = {PAYS: "rgb(44, 160, 44)", DOES_NOT_PAY: "rgb(214, 39, 40)"}
UNKNOWN_COLOUR = "rgb(127, 127, 127)"
BAND_LINE, BAND_FILL = "rgb(31, 119, 180)", "rgba(31, 119, 180, 0.2)"
MATERIAL_COST_GAP = 0.01  # revenue without a cost of goods worth a caveat


def section(company: Company, context: Context) -> Section:
    """The report section (key ``interventions``); every figure shown is in ``data``.

    ``data``: ``as_of``, ``currency`` and ``interventions``: {name: :meth:`InterventionResult.to_dict`
    plus ``sentence``, the verdict in words}; and under each chart's key what it plots:
    ``<name>.subgroups`` (the subgroups), ``<name>.profit_curve`` (``shares``, ``value``, ``low``,
    ``high``, ``recommended_share``) and ``<name>.qini_curve`` (``shares``, ``curves`` by learner,
    ``qini_area``). Effects are per treated customer, treated minus control.
    """
    missing = company.missing(*NEEDS)
    if missing:
        return Section.unavailable(KEY, TITLE, missing)
    results = analyse(company, progress=context.progress)
    if not results:
        return Section(key=KEY, title=TITLE, available=False,
                       reason="Not available: the interventions table has no assignments.")
    result = Section(key=KEY, title=TITLE)
    sentences = {}
    for item in results:
        sentences[item.intervention] = verdict_sentence(item)
        _add_intervention(result, item, many=len(results) > 1)
    result.summary = " ".join(sentences.values())
    figures = {r.intervention: r.to_dict() for r in results}
    result.data = to_jsonable({
        "as_of": company.as_of, "currency": company.currency,
        "interventions": {name: item | {"sentence": sentences[name]} for name, item in figures.items()},
    } | {key: value for item in figures.values() for key, value in _chart_figures(item).items()})
    return result


def _chart_figures(item: dict) -> dict:
    """What each chart plots, under the chart's own key (every chart key is a key of the data)."""
    name, targeting, figures = item["intervention"], item["targeting"], {}
    if targeting is not None:
        figures[f"{name}.profit_curve"] = {"shares": targeting["shares"], **targeting["profit_curve"],
                                           "recommended_share": targeting["recommended_share"]}
        figures[f"{name}.qini_curve"] = {"shares": targeting["shares"], "curves": targeting["learner_curves"],
                                         "qini_area": targeting["qini_area"]}
    if item["subgroups"]:
        figures[f"{name}.subgroups"] = item["subgroups"]
    return figures


def verdict_sentence(result: InterventionResult) -> str:
    """The verdict in one sentence, with the segments where it pays and any doubt about the split."""
    name, net, c = result.intervention, result.net_profit, result.currency
    interval = f"95% CI {_number(net.verdict_low)} to {_number(net.verdict_high)}, n = {net.n:,}"
    missing = _missing_group(result)
    if missing:
        return f"Whether {name} pays cannot be measured: {_missing_group_reason(result)}."
    if result.verdict == PAYS:
        text = (f"{name} pays: {_orders_clause(result)}, and each treated customer brings {_number(net.estimate)} "
                f"{c} of net profit ({interval}), {_number(result.total_net_profit.estimate, 0)} {c} over the "
                f"{result.n_treated:,} treated.")
    elif result.verdict == DOES_NOT_PAY:
        but = "but" if result.effects["orders"].verdict_low > 0 else "and"
        text = (f"{name} does not pay: {_orders_clause(result)}, {but} net profit per treated customer is "
                f"{_number(net.estimate)} {c} ({interval}), {_number(result.total_net_profit.estimate, 0)} {c} over "
                f"the {result.n_treated:,} treated.")
    else:
        needed = (f"; a conclusive answer needs about {result.customers_needed:,} customers at this split"
                  if result.customers_needed else "")
        text = (f"Whether {name} pays is not yet known: net profit per treated customer is {_number(net.estimate)} "
                f"{c} ({interval}){needed}.")
    paying = [s for s in result.subgroups if s.verdict == PAYS]
    if paying and result.verdict != PAYS:
        text += " It pays for " + "; ".join(
            f"{s.dimension} {s.group} ({_number(s.net_profit.estimate)} {c} per treated customer)" for s in paying) + "."
    if result.split.mismatch or result.imbalanced:
        text += " Check the assignment before acting on it: " + "; ".join(_split_problems(result)) + "."
    return text


def _missing_group(result: InterventionResult) -> str | None:
    """'no control group' (or 'no treated group') when everyone is on one side: nothing to compare."""
    if result.n_control == 0:
        return "no control group"
    if result.n_treated == 0:
        return "no treated group"
    return None


def _missing_group_reason(result: InterventionResult) -> str:
    everyone = result.n_treated + result.n_control
    side, other = ("treated", "untreated") if result.n_control == 0 else ("in the control group", "treated")
    return (f"all {everyone:,} participants were {side}, so there is no {other} group to compare with; assign "
            f"some customers to each group")


def _orders_clause(result: InterventionResult) -> str:
    orders = result.effects["orders"]
    interval = f"95% CI {_number(orders.verdict_low, 3)} to {_number(orders.verdict_high, 3)}"
    size = _number(abs(orders.estimate), 3, signed=False)
    if orders.verdict_low > 0:
        return f"it raises orders by {size} per treated customer ({interval})"
    if orders.verdict_high < 0:
        return f"it lowers orders by {size} per treated customer ({interval})"
    return f"its effect on orders is not measurable ({_number(orders.estimate, 3)} per customer, {interval})"


def _split_problems(result: InterventionResult) -> list[str]:
    problems = []
    split = result.split
    if split.mismatch:
        assumed = " (assumed)" if split.planned_share_assumed else ""
        problems.append(f"{split.observed_share:.1%} of customers were treated against a planned "
                        f"{split.planned_share:.1%}{assumed}, a sample-ratio mismatch ({_p(split.p_value)})")
    problems += [f"the groups differed before assignment in {b.covariate} (standardised difference "
                 f"{b.standardized_difference:+.2f}, {_p(b.p_value)})" for b in result.imbalanced]
    return problems


# --- one intervention ----------------------------------------------------------------------------


def _add_intervention(section: Section, result: InterventionResult, many: bool) -> None:
    name, net, c = result.intervention, result.net_profit, result.currency
    prefix = f"{name}: " if many else ""
    missing = _missing_group(result)
    section.headlines.append(Headline(
        f"{name}: net profit per treated customer", missing, _missing_group_reason(result) + ".",
    ) if missing else Headline(
        f"{name}: net profit per treated customer", f"{_number(net.estimate)} {c}",
        f"{result.verdict}; 95% CI {_number(net.verdict_low)} to {_number(net.verdict_high)}, "
        f"{result.n_treated:,} treated and {result.n_control:,} control customers",
        "too few customers to conclude" if result.too_small else None))
    section.tables.append(TableView(f"{name}.effects", f"{prefix}Effects per treated customer, treated minus control "
                                    f"over {result.window.days} days", _effects_table(result),
                                    finding=verdict_sentence(result)))
    if result.break_even is not None and np.isfinite(result.break_even.cost):
        section.tables.append(TableView(f"{name}.break_even", f"{prefix}What would make it pay",
                                        _break_even_table(result), finding=_break_even_finding(result)))
    if result.targeting is not None:
        section.charts.append(_profit_chart(result))
        section.charts.append(_qini_chart(result))
    if result.subgroups:
        section.charts.append(_subgroup_chart(result))
        section.tables.append(TableView(f"{name}.subgroups", f"{prefix}Effects by group of customers",
                                        _subgroup_table(result), finding=_subgroup_finding(result)))
    section.caveats += [prefix + caveat for caveat in _caveats(result)]


def _effects_table(result: InterventionResult) -> pd.DataFrame:
    rows = []
    for key, label in ROWS.items():
        effect = result.effects[key]
        digits = 3 if key == "orders" else 2
        rows.append({
            "": label,
            "treated": _number(effect.mean_treated, digits, signed=False),
            "control": _number(effect.mean_control, digits, signed=False),
            "difference": _number(effect.estimate, digits),
            "95% CI (Welch t)": f"{_number(effect.low, digits)} to {_number(effect.high, digits)}",
            "95% CI (bootstrap BCa)": f"{_number(effect.bootstrap_low, digits)} to {_number(effect.bootstrap_high, digits)}",
            "standard error": _number(effect.standard_error, digits, signed=False),
            "total over the treated": _number(effect.estimate * result.n_treated, 0),
        })
    return pd.DataFrame(rows)


def _break_even_table(result: InterventionResult) -> pd.DataFrame:
    even, c = result.break_even, result.currency
    rows = [{"": f"Treatment cost per treated customer ({c})", "now": _number(even.cost_now, signed=False),
             "break-even": _number(even.cost), "95% CI": f"{_number(even.cost_low)} to {_number(even.cost_high)}"}]
    if even.cost_per_use is not None:
        rows.append({"": f"Cost per use ({c})", "now": _number(even.cost_per_use_now, signed=False),
                     "break-even": _number(even.cost_per_use), "95% CI": ""})
    if even.margin is not None:
        rows.append({"": "Gross margin on the extra revenue", "now": f"{even.margin_now:.0%}",
                     "break-even": f"{even.margin:.0%}",
                     "95% CI": f"{even.margin_low:.0%} to {even.margin_high:.0%}" if even.margin_low is not None else ""})
    return pd.DataFrame(rows)


def _break_even_finding(result: InterventionResult) -> str:
    even, c = result.break_even, result.currency
    text = (f"It breaks even at a cost of {_number(even.cost)} {c} per treated customer (now "
            f"{_number(even.cost_now, signed=False)})")
    if even.margin is not None:
        text += f", or at a {even.margin:.0%} gross margin on the extra revenue (now {even.margin_now:.0%})"
    return text + "."


def _profit_chart(result: InterventionResult) -> Chart:
    targeting, c = result.targeting, result.currency
    population = targeting.expected.n
    shares = np.asarray(targeting.shares)
    value, low, high = (np.asarray(v) * population for v in (targeting.curve, targeting.curve_low,
                                                           targeting.curve_high))
    best = targeting.shares.index(targeting.recommended_share)
    figure = go.Figure([
        go.Scatter(x=shares, y=high, mode="lines", line_width=0, showlegend=False, hoverinfo="skip"),
        go.Scatter(x=shares, y=low, mode="lines", line_width=0, fill="tonexty", fillcolor=BAND_FILL,
                   name="95% interval", hoverinfo="skip"),
        go.Scatter(x=shares, y=value, mode="lines+markers", line_color=BAND_LINE,
                   name=f"treat the top share ({targeting.learner})",
                   hovertemplate="%{x:.0%} treated: %{y:,.0f} " + c + "<extra></extra>"),
        go.Scatter(x=[shares[best]], y=[value[best]], mode="markers", marker={"size": 13, "symbol": "star"},
                   name="recommended share"),
    ], layout=go.Layout(xaxis_title="share of customers treated, best-ranked first", xaxis_tickformat=".0%",
                        yaxis_title=f"net incremental profit ({c})"))
    figure.add_hline(y=0, line_dash="dot")
    return Chart(
        key=f"{result.intervention}.profit_curve",
        title=(f"{result.intervention}: net incremental profit if the {population:,} customers of the "
               f"experiment had been treated by rank"),
        finding=targeting_sentence(result), figure=figure,
        caveat=("The curve's peak is read from the same data and flatters the policy; the expected profit in the "
                "finding is measured on customers the choice did not see (its interval is a little narrow: it "
                "covers 90-94% in simulations, docs/interventions.md)."))


def targeting_sentence(result: InterventionResult) -> str:
    """Whom to target, in words (or why targeting is not known)."""
    targeting, c = result.targeting, result.currency
    if targeting is None:
        return result.targeting_note or ""
    expected, everyone = targeting.expected, targeting.treat_all
    value = (f"{_number(expected.estimate)} {c} per customer (95% CI {_number(expected.low)} to "
             f"{_number(expected.high)}, measured out of sample)")
    everyone_text = f"treating everyone {_number(everyone.estimate)} {c} per customer"
    share = targeting.recommended_share
    if targeting.beats_all_and_none and 0 < share < 1:
        return (f"Treat the {share:.0%} of customers the {targeting.learner} ranks highest: that earns {value}, "
                f"against {everyone_text} and nothing for treating no one.")
    if everyone.low > 0:
        return (f"No targeting beats treating everyone: {everyone_text} (95% CI {_number(everyone.low)} to "
                f"{_number(everyone.high)}); the best-ranked share earns {value}.")
    return (f"No targeting is shown to beat treating everyone or no one: the best-ranked {share:.0%} earns {value}, "
            f"{everyone_text}.")


def _qini_chart(result: InterventionResult) -> Chart:
    targeting, c = result.targeting, result.currency
    shares = np.asarray(targeting.shares)
    traces = [go.Scatter(x=shares, y=values, mode="lines", name=f"{name} (Qini area {targeting.qini[name]:+.2f})")
              for name, values in targeting.curves.items()]
    everyone = targeting.curves[targeting.learner][-1]
    traces.append(go.Scatter(x=[0, 1], y=[0, everyone], mode="lines", line_dash="dash", name="random targeting"))
    figure = go.Figure(traces, layout=go.Layout(
        xaxis_title="share of customers treated, best-ranked first", xaxis_tickformat=".0%",
        yaxis_title=f"net incremental profit per customer ({c})"))
    best = targeting.qini[targeting.learner]
    areas = ", ".join(f"{name} {area:+.2f}" for name, area in targeting.qini.items())
    finding = (f"The {targeting.learner} ranks customers best: its curve lies {best:+.2f} {c} per customer above "
               f"random targeting on average (Qini areas: {areas})." if best > 0 else
               f"Neither model ranks customers better than random targeting (Qini areas: {areas} {c} per customer).")
    return Chart(
        key=f"{result.intervention}.qini_curve",
        title=f"{result.intervention}: Qini curves of the uplift models (cross-fitted)",
        finding=finding,
        figure=figure)


def _subgroup_chart(result: InterventionResult) -> Chart:
    groups, c = result.subgroups, result.currency
    labels = [f"{s.dimension}: {s.group}" for s in groups]
    nets = [s.net_profit for s in groups]
    figure = go.Figure(go.Scatter(
        x=[e.estimate for e in nets], y=labels, mode="markers",
        marker={"size": 10, "color": [VERDICT_COLOURS.get(s.verdict, UNKNOWN_COLOUR) for s in groups]},
        error_x={"type": "data", "symmetric": False, "array": [e.high - e.estimate for e in nets],
                 "arrayminus": [e.estimate - e.low for e in nets]},
        customdata=[[s.verdict, e.n] for s, e in zip(groups, nets)],
        hovertemplate="%{y}: %{x:+.2f} " + c + " (%{customdata[0]}, n = %{customdata[1]:,})<extra></extra>"),
        layout=go.Layout(xaxis_title=f"net profit per treated customer ({c}), 95% CI", yaxis_autorange="reversed",
                         height=max(300, 28 * len(groups) + 120)))
    figure.add_vline(x=0, line_dash="dot")
    return Chart(key=f"{result.intervention}.subgroups",
                 title=f"{result.intervention}: net profit per treated customer, by group of customers",
                 finding=_subgroup_finding(result), figure=figure,
                 caveat=(f"Green: pays, red: does not pay, grey: not yet known, each after allowing for the "
                         f"{len(groups)} groups compared (Bonferroni); the bars are plain 95% intervals."))


def _subgroup_finding(result: InterventionResult) -> str:
    c = result.currency
    paying = [s for s in result.subgroups if s.verdict == PAYS]
    if not paying:
        return "No group of customers shows a net profit clearly above zero."
    parts = [f"{s.dimension} {s.group} ({_number(s.net_profit.estimate)} {c} per treated customer, 95% CI "
             f"{_number(s.net_profit.low)} to {_number(s.net_profit.high)}, n = {s.net_profit.n:,})" for s in paying]
    return "It pays for " + "; ".join(parts) + "."


def _subgroup_table(result: InterventionResult) -> pd.DataFrame:
    shares = {(dimension, row["group"]): row["targeted_share"]
              for dimension, rows in result.targeted_by_group.items() for row in rows}
    rows = []
    for s in result.subgroups:
        orders, net = s.orders, s.net_profit
        targeted = shares.get((s.dimension, s.group))
        rows.append({
            "group": f"{s.dimension}: {s.group}",
            "treated": f"{net.n_treated:,}", "control": f"{net.n_control:,}",
            "extra orders": f"{_number(orders.estimate, 3)} ({_number(orders.low, 3)} to {_number(orders.high, 3)})",
            "net profit": f"{_number(net.estimate)} ({_number(net.low)} to {_number(net.high)})",
            "verdict": s.verdict,
            "targeted at the recommended share": f"{targeted:.0%}" if targeted is not None else "",
        })
    return pd.DataFrame(rows)


def _caveats(result: InterventionResult) -> list[str]:
    notes, c = [], result.currency
    if _missing_group(result):
        notes.append(f"{result.intervention}: {_missing_group_reason(result)}.")
    elif result.too_small:
        notes.append(f"Only {result.n_treated:,} treated and {result.n_control:,} control customers: too few for "
                     "reliable intervals; treat every figure as indicative.")
    elif result.skewed:
        notes.append("A few large spenders make the net profit effect skewed for groups of this size (Cochran's "
                     "rule), so its intervals are approximate and may be somewhat too narrow.")
    notes += [problem[0].upper() + problem[1:] + "." for problem in _split_problems(result)]
    if result.cost_source == "none":
        notes.append("No treatment cost is known (the interventions table has no cost column and no cost-per-use "
                     "rule was given): net profit equals gross profit.")
    if result.revenue_without_cost_share > MATERIAL_COST_GAP:
        notes.append(f"{result.revenue_without_cost_share:.0%} of the window's revenue has no cost of goods and "
                     "counts at full margin, which overstates gross profit; the break-even margin shows what "
                     "margin the treatment needs.")
    excluded = result.window.excluded_treated + result.window.excluded_control
    if excluded:
        notes.append(f"{excluded:,} customers ({result.window.excluded_treated:,} treated) were assigned too late "
                     f"for a full {result.window.days}-day window before the data end, and are left out.")
    if result.targeting_note:
        notes.append(result.targeting_note)
    if result.verdict not in (PAYS, DOES_NOT_PAY) and result.customers_needed:
        notes.append(f"The experiment can detect a net effect of {_number(result.minimum_detectable_effect, signed=False)} {c} per "
                     f"treated customer with 80% power; about {result.customers_needed:,} customers would tell the "
                     "observed effect from zero.")
    return notes


# --- words and numbers -----------------------------------------------------------------------------


def _number(value: float, digits: int = 2, signed: bool = True) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:+,.{digits}f}" if signed else f"{value:,.{digits}f}"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
