"""The people section of the report: employee NPS (anonymised), internal service and the chain.

``Section.data`` is :func:`custfocus.people.to_dict` (documented in docs/report-json.md):
``min_group_size``, ``anonymity_rule``, ``employee_nps`` (``company``, ``by_department``, ``by_wave``,
``changes``, ``hidden`` counts, ``counted_by``), ``employee_nps_by_wave`` (the department x wave
cells), ``internal`` (``cells``, ``raters`` with
their leniency, ``suppliers`` raw and adjusted with ``customers_reached``, ``asymmetric`` pairs,
``method``), ``bottleneck`` and ``chain``. Hidden groups are never named, only counted.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from custfocus.data.company import Company
from custfocus.people import anonymity
from custfocus.people.analysis import NEEDS_ANY, People, analyse, to_dict
from custfocus.section import Chart, Context, Headline, Section, TableView

KEY = "people"
TITLE = "People: employee NPS, internal customers and the service-profit chain"
_COLOUR, _SMALL_COLOUR = "#1f5fa8", "#b0b0b0"


def section(company: Company, context: Context) -> Section:
    if not any(company.has(name) for name in NEEDS_ANY):
        return Section.unavailable(KEY, TITLE, list(NEEDS_ANY))
    result = analyse(company, progress=context.progress)
    out = Section(KEY, TITLE, data=to_dict(result), caveats=list(result.notes))
    out.caveats.append(anonymity.rule_sentence(result.min_group_size))
    if result.employee is not None:
        _employee(out, result)
    if result.internal is not None:
        _internal(out, result)
    if result.chain:
        _chain(out, result)
    out.summary = _summary(result)
    return out


# --- employee NPS ----------------------------------------------------------------------------


def _employee(out: Section, result: People) -> None:
    e = result.employee
    hidden = e.hidden
    if len(e.company):
        row = e.company.iloc[0]
        out.headlines.append(Headline(
            "Employee NPS", _signed(row["nps"]),
            f"would recommend working here, net; 95% CI {_signed(row['low'])} to {_signed(row['high'])}, "
            f"{row['people']:,} people, {row['n']:,} answers over {len(e.waves)} wave(s)",
            "too few answers to conclude" if row["too_small"] else None))
    if hidden["departments"]:
        complements = hidden["departments"] - hidden["small_departments"]
        out.caveats.append(
            f"{hidden['departments']} department(s) not shown: {hidden['small_departments']} with fewer than "
            f"{e.min_group_size} people, whose answers are left out of every figure, the company's included"
            + (f"; {complements} more so that a small group cannot be worked out by subtraction." if complements
               else "."))
    if hidden["department_waves"] or hidden["company_waves"] or hidden["company"]:
        out.caveats.append(f"{hidden['department_waves']} department-wave figure(s), {hidden['company_waves']} "
                           f"company wave figure(s){' and the company figure' if hidden['company'] else ''} "
                           "are hidden by the anonymity rule.")
    if e.counted_by != "employee_id":
        out.caveats.append("employee_responses have no employee_id, so people are counted as answers per wave "
                           "(one answer per person and wave) and a department's waves as the same people.")
    by_department = e.departments
    if by_department.empty:
        return
    figure = go.Figure(go.Bar(
        x=by_department["nps"], y=by_department["department"].astype(str), orientation="h",
        marker={"color": np.where(by_department["too_small"], _SMALL_COLOUR, _COLOUR)},
        error_x={"type": "data", "symmetric": False, "array": by_department["high"] - by_department["nps"],
                 "arrayminus": by_department["nps"] - by_department["low"]},
        customdata=by_department[["people", "n"]],
        hovertemplate="%{y}: %{x:+.0f} (%{customdata[0]} people, %{customdata[1]} answers)<extra></extra>"))
    figure.update_layout(xaxis_title="Employee NPS (points), all waves, with its 95% interval",
                         yaxis={"autorange": "reversed"})
    top, bottom = by_department.iloc[0], by_department.iloc[-1]
    finding = (f"Employee NPS is highest in {top['department']} ({_signed(top['nps'])}, {top['people']} people) and "
               f"lowest in {bottom['department']} ({_signed(bottom['nps'])}, {bottom['people']} people).")
    out.charts.append(Chart("employee_nps", "Employee NPS by department (groups of at least "
                            f"{e.min_group_size} people)", finding, figure))
    cells = e.cells
    if cells["wave"].nunique() >= 2:
        matrix = cells.pivot(index="department", columns="wave", values="nps")
        heat = go.Figure(go.Heatmap(z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index),
                                    colorscale="RdBu", zmid=0, hoverongaps=False,
                                    hovertemplate="%{y}, wave of %{x}: %{z:+.0f}<extra></extra>"))
        significant = e.changes[e.changes["significant"]]
        finding = ("No department's employee NPS changed by more than the noise between its last two waves."
                   if significant.empty else "Changed beyond the noise between the last two waves: " + "; ".join(
                       f"{r.department} {_signed(r.value_a)} to {_signed(r.value_b)}" for r in significant.itertuples())
                   + ".")
        out.charts.append(Chart("employee_nps_by_wave", "Employee NPS by department and wave (blank: hidden)",
                                finding, heat))


# --- internal customers ----------------------------------------------------------------------


def _internal(out: Section, result: People) -> None:
    i = result.internal
    if i.hidden_cells:
        out.caveats.append(f"{i.hidden_cells} cell(s) of the internal-customer matrix have fewer than "
                           f"{i.min_group_size} people behind them and are left out of every figure.")
    if i.self_ratings:
        out.caveats.append(f"{i.self_ratings:,} internal rating(s) of a department by itself are left out.")
    if i.cells.empty:
        return
    figure = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                           subplot_titles=("as rated", "rater leniency removed"))
    for position, column in enumerate(("mean", "adjusted_mean"), start=1):
        matrix = i.cells.pivot(index="rater", columns="supplier", values=column)
        n = i.cells.pivot(index="rater", columns="supplier", values="n").reindex_like(matrix)
        figure.add_trace(go.Heatmap(
            z=matrix.to_numpy(), x=list(matrix.columns), y=list(matrix.index), colorscale="RdYlGn", zmin=0, zmax=10,
            customdata=n.to_numpy(), hoverongaps=False, showscale=position == 2,
            hovertemplate="%{y} rates %{x}: %{z:.1f} of 10 (n = %{customdata})<extra></extra>"), row=1, col=position)
    figure.update_xaxes(title_text="supplier (the department rated)")
    figure.update_yaxes(title_text="internal customer (rater)", row=1, col=1)
    worst = i.cells.loc[i.cells["adjusted_mean"].idxmin()]
    finding = (f"The lowest rating: {worst['rater']} rates {worst['supplier']} {worst['mean']:.1f} of 10 "
               f"({worst['adjusted_mean']:.1f} with {worst['rater']}'s leniency removed; n = {worst['n']}).")
    out.charts.append(Chart("internal", "Internal-customer matrix: how each department rates those it depends on",
                            finding, figure))
    suppliers = i.suppliers.assign(**{
        "raw mean": i.suppliers["raw_mean"].round(1), "adjusted": i.suppliers["adjusted"].round(1),
        "customers reached by poor service": [
            f"{v:,.0f}" + (f" ({lo:,.0f} to {hi:,.0f})" if lo == lo else "")
            for v, lo, hi in zip(i.suppliers["customers_reached"], i.suppliers["low"], i.suppliers["high"],
                                 strict=True)]})
    view = suppliers[["supplier", "n", "raters", "raw mean", "adjusted", "customers reached by poor service"]]
    out.tables.append(TableView("suppliers", "Internal suppliers: raw and leniency-adjusted scores", view,
                                finding=f"Adjusted by the {i.method}; customers reached weighted by {i.weights_from}."))
    bottleneck = result.bottleneck
    if bottleneck is not None:
        reach = bottleneck["customers_reached"]
        share = bottleneck["share_of_resamples"]
        out.headlines.append(Headline(
            "Bottleneck supplier", bottleneck["supplier"],
            f"its poor service reaches about {reach['estimate']:,.0f} customers (95% CI {reach['low']:,.0f} to "
            f"{reach['high']:,.0f}) through the departments it serves; named in {share:.0%} of "
            f"{bottleneck['resamples']} resamples",
            None if share >= 0.7 else "not clearly the bottleneck: another supplier is named often"))
    asymmetric = i.asymmetric[i.asymmetric["significant"]]
    if len(asymmetric):
        view = pd.DataFrame({
            "pair": [f"{a} / {b}" for a, b in zip(asymmetric["department_a"], asymmetric["department_b"], strict=True)],
            "A rates B": asymmetric["a_rates_b"].round(1), "B rates A": asymmetric["b_rates_a"].round(1),
            "gap (95% CI)": [f"{d:+.1f} ({lo:+.1f} to {hi:+.1f})" for d, lo, hi in
                             zip(asymmetric["difference"], asymmetric["low"], asymmetric["high"], strict=True)]})
        out.tables.append(TableView("asymmetric", "Asymmetric pairs: one side is served clearly worse", view,
                                    finding="Leniency removed; Welch's t, Bonferroni over the pairs tested."))


# --- chain -----------------------------------------------------------------------------------


def _chain(out: Section, result: People) -> None:
    link = result.chain.get("employee_nps")
    units = pd.DataFrame(result.chain.get("departments", []))
    if link is None or units.empty:
        return
    figure = go.Figure(go.Scatter(
        x=units["employee_nps"], y=units["customer_nps"], mode="markers+text", text=units["department"],
        textposition="top center", marker={"size": 11, "color": _COLOUR},
        hovertemplate="%{text}: employee NPS %{x:+.0f}, customer NPS %{y:+.0f}<extra></extra>"))
    figure.update_layout(xaxis_title="Employee NPS (points)", yaxis_title="Customer NPS of the department (points)")
    caveat = None
    if link.get("most_influential") and link.get("pearson") is not None:
        caveat = f"Most influential department: {link['most_influential']} (leave-one-out)."
    out.charts.append(Chart("chain", "Service-profit chain: employee NPS against customer NPS", link["verdict"],
                            figure, caveat))
    for key in ("internal_service", "lead_lag"):
        if result.chain.get(key):
            out.caveats.append(result.chain[key]["verdict"])


def _summary(result: People) -> str:
    parts = []
    if result.employee is not None and len(result.employee.company):
        parts.append(f"Employee NPS is {_signed(result.employee.company['nps'].iloc[0])}")
    if result.bottleneck is not None:
        parts.append(f"{result.bottleneck['supplier']} is the bottleneck internal supplier "
                     f"(named in {result.bottleneck['share_of_resamples']:.0%} of resamples)")
    if result.chain.get("employee_nps"):
        verdict = result.chain["employee_nps"]["verdict"]
        parts.append(verdict[:1].lower() + verdict[1:].rstrip("."))
    return "; ".join(parts) + "." if parts else "No employee figures can be shown."


def _signed(value) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    points = round(value)
    return "0" if points == 0 else f"{points:+d}"
