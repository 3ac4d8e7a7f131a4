"""The pulse section of the report: NPS, CSAT, CES and employee NPS with their intervals.

``Section.data`` keys (JSON; NPS in points, CSAT in percent, CES on its 1-7 scale; intervals 95%):

- ``small_sample_rule``: the "too small to conclude" rule in words.
- ``nps``, ``csat``, ``ces``, ``employee_nps``: the overall figure over all responses, with its
  counts, ``low``/``high`` and ``too_small``; None when there are no responses of that kind.
- ``nps_by_month``, ``csat_by_month``, ``ces_by_month``: one row per month (``period`` 'YYYY-MM')
  with the columns of :func:`custfocus.pulse.nps` / ``csat`` / ``ces``.
- ``nps_by_segment``: ``column`` (the segment column used), ``rows`` (one per segment) and
  ``highest_vs_lowest`` (a comparison, see below, plus ``pairs`` and ``p_value_adjusted``, the
  Bonferroni p-value over all pairs of segments); None when no column splits the responses.
- ``employee_nps_by_department``: ``column``, ``rows`` and ``highest_vs_lowest`` likewise.
- ``nps_change``: ``month`` and ``quarter``: the latest period against the one before, each a
  comparison ``{metric, a, b, value_a, value_b, n_a, n_b, difference (b - a), low, high, p_value,
  significant}``.
- ``responses_needed_for_5_point_nps``: ``margin``, ``at_observed_shares``, ``worst_case`` and
  ``median_responses_per_month``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from custfocus.data.company import Company
from custfocus.pulse import metrics, stats
from custfocus.section import Chart, Context, Headline, Section, TableView

KEY = "pulse"
TITLE = "Pulse: NPS, CSAT, CES and employee NPS"
PLANNING_MARGIN = 5.0  # NPS points: the precision a manager usually asks for
SEGMENT_COLUMNS = ("segment", "region", "touchpoint", "department")  # first one that splits the answers

_LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "enps": "employee NPS"}
_SMALL_COLOUR, _COLOUR = "#b0b0b0", "#1f5fa8"


def section(company: Company, context: Context) -> Section:
    """Build the pulse section; ``context.progress`` is called with a short note before each step."""
    if not company.has("responses"):
        return Section.unavailable(KEY, TITLE, company.missing("responses"))
    step = context.progress
    responses = company.table("responses")
    result = Section(KEY, TITLE)
    result.data["small_sample_rule"] = stats.SMALL_SAMPLE_RULE

    step("pulse: overall NPS, CSAT and CES")
    overall = {m: metrics.metric_table(responses, m).iloc[0] for m in ("nps", "csat", "ces")}
    employee_responses = company.tables.get("employee_responses")
    if employee_responses is not None:
        step("pulse: employee NPS")
        overall["enps"] = metrics.employee_nps(employee_responses, by=None).iloc[0]
    else:
        result.caveats.append("Employee NPS is not shown: it needs table employee_responses.")
    for metric, row in overall.items():
        result.data["employee_nps" if metric == "enps" else metric] = _record(row) if row["n"] > 0 else None
        if row["n"] > 0:
            result.headlines.append(_headline(metric, row))
        else:
            result.caveats.append(f"There are no {_LABELS[metric]} responses, so {_LABELS[metric]} is not shown.")
    result.data.setdefault("employee_nps", None)

    if overall["nps"]["n"] > 0:
        step("pulse: monthly figures and changes")
        by_month = {m: metrics.metric_table(responses, m, period="month") for m in ("nps", "csat", "ces")}
        _add_monthly(result, by_month)
        _add_change(result, responses, by_month["nps"])
        step("pulse: NPS by segment")
        _add_segments(result, company)
        _add_planning(result, overall["nps"], by_month["nps"])
    if result.data["employee_nps"] is not None:
        _add_ranked_chart(result, metrics.employee_nps(employee_responses), "department", "enps",
                          key="employee_nps_by_department", title="Employee NPS by department",
                          group_word="department")

    flagged = [_LABELS[m] for m, row in overall.items() if row["n"] > 0 and row["too_small"]]
    if flagged:
        result.caveats.append(f"Too few responses to conclude on overall {' and '.join(flagged)}. "
                              f"{stats.SMALL_SAMPLE_RULE}")
    result.summary = _summary(result.data)
    return result


# --- parts -----------------------------------------------------------------------------------


def _headline(metric: str, row: pd.Series) -> Headline:
    interval = f"95% CI {_value(metric, row['low'])} to {_value(metric, row['high'])}, n = {row['n']:,}"
    details = {
        "nps": f"promoters minus detractors of all answers; {interval}",
        "csat": f"share rating 4 or 5 of 5; {interval}",
        "ces": f"mean effort score, 1-7; {interval}",
        "enps": f"employees who would recommend working here, net; {interval}",
    }
    labels = {"nps": "Net Promoter Score", "csat": "Customer satisfaction (CSAT)",
              "ces": "Customer effort (CES)", "enps": "Employee NPS"}
    return Headline(labels[metric], _value(metric, _metric_value(metric, row)), details[metric],
                    "too few responses to conclude" if row["too_small"] else None)


def _add_monthly(result: Section, by_month: dict[str, pd.DataFrame]) -> None:
    monthly = by_month["nps"]
    for metric, frame in by_month.items():
        result.data[f"{metric}_by_month"] = _records(frame)
    small = monthly["too_small"].to_numpy(bool)
    starts = monthly["period"].dt.to_timestamp()
    hover = [f"{_period_name(p)}: NPS {_signed(v)} (95% CI {_signed(lo)} to {_signed(hi)}, n = {n:,})"
             + ("<br>too few responses to conclude" if s else "")
             for p, v, lo, hi, n, s in zip(monthly["period"], monthly["nps"], monthly["low"], monthly["high"],
                                           monthly["n"], small, strict=True)]
    figure = go.Figure([
        go.Scatter(x=starts, y=monthly["high"], mode="lines", line={"width": 0}, hoverinfo="skip",
                   showlegend=False),
        go.Scatter(x=starts, y=monthly["low"], mode="lines", line={"width": 0}, fill="tonexty",
                   fillcolor="rgba(31, 95, 168, 0.18)", name="95% interval", hoverinfo="skip"),
        go.Scatter(x=starts, y=monthly["nps"], mode="lines+markers", name="NPS",
                   line={"color": _COLOUR},
                   marker={"color": np.where(small, "white", _COLOUR), "size": 8,
                           "line": {"color": _COLOUR, "width": 2}},
                   text=hover, hovertemplate="%{text}<extra></extra>"),
    ])
    figure.update_layout(yaxis_title="NPS (points)", xaxis_title=None, hovermode="x")

    typical_half_width = float(np.nanmedian((monthly["high"] - monthly["low"]) / 2))
    if len(monthly) == 1:
        only = monthly.iloc[0]
        finding = f"NPS was {_signed(only['nps'])} in {_period_name(only['period'])} (n = {only['n']:,})."
    else:
        # Extremes of months too small to conclude on are mostly noise: leave them out when possible.
        reliable = monthly[~small] if (~small).sum() >= 2 else monthly
        best, worst = reliable.loc[reliable["nps"].idxmax()], reliable.loc[reliable["nps"].idxmin()]
        scope = (f"over {len(monthly)} months" if len(reliable) == len(monthly)
                 else f"over the {len(reliable)} months with enough responses")
        finding = (f"Monthly NPS ranged from {_signed(worst['nps'])} ({_period_name(worst['period'])}) "
                   f"to {_signed(best['nps'])} ({_period_name(best['period'])}) {scope}; "
                   f"a typical month is known to within ±{typical_half_width:.0f} points.")
    caveat = None
    if small.any():
        caveat = f"{_of(small.sum(), len(monthly), 'month')} too few responses to conclude (hollow markers)."
    result.charts.append(Chart("nps_by_month", "NPS by month, with its 95% interval", finding, figure, caveat))
    result.tables.append(TableView("monthly_scores", "NPS, CSAT and CES by month", _monthly_view(by_month),
                                   finding="* too few responses to conclude."))


def _monthly_view(by_month: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A readable month-by-month table; its numbers are those of the *_by_month data."""
    columns = []
    for metric, frame in by_month.items():
        shown = pd.DataFrame({
            "Month": frame["period"].astype(str),
            _LABELS[metric]: [_value(metric, v) + (" *" if s else "")
                              for v, s in zip(frame[metric], frame["too_small"], strict=True)],
            f"{_LABELS[metric]} n": frame["n"],
        })
        columns.append(shown.set_index("Month"))
    view = pd.concat(columns, axis=1).sort_index()
    for metric in by_month:
        count = f"{_LABELS[metric]} n"
        view[count] = view[count].fillna(0).astype(int)
        view[_LABELS[metric]] = view[_LABELS[metric]].fillna("")
    return view.reset_index()


def _add_change(result: Section, responses, monthly_nps: pd.DataFrame) -> None:
    latest_month = monthly_nps["period"].iloc[-1]
    changes = {
        "month": metrics.difference_row("nps", monthly_nps, "period", latest_month - 1, latest_month),
    }
    quarterly = metrics.nps(responses, period="quarter")
    latest_quarter = quarterly["period"].iloc[-1]
    changes["quarter"] = metrics.difference_row("nps", quarterly, "period", latest_quarter - 1, latest_quarter)
    result.data["nps_change"] = {span: _record(change) for span, change in changes.items()}

    finding = " ".join(_change_sentence("NPS", c) for c in changes.values())
    compared = {span: c for span, c in changes.items() if c["n_a"] > 0}
    if not compared:
        result.caveats.append(f"No NPS change to test: {finding}")
        return
    names = {"month": "Month on month", "quarter": "Quarter on quarter"}
    figure = go.Figure(go.Scatter(
        x=[c["difference"] for c in compared.values()],
        y=[f"{names[span]}:<br>{_period_name(c['a'])} to {_period_name(c['b'])}" for span, c in compared.items()],
        mode="markers", marker={"size": 11, "color": _COLOUR},
        error_x={"type": "data", "symmetric": False,
                 "array": [max(c["high"] - c["difference"], 0) for c in compared.values()],
                 "arrayminus": [max(c["difference"] - c["low"], 0) for c in compared.values()]},
        hovertemplate="%{x:+.0f} NPS points<extra></extra>",
    ))
    figure.add_vline(x=0, line_dash="dot", line_color="grey")
    figure.update_layout(xaxis_title="Change in NPS (points), with its 95% interval",
                         yaxis={"autorange": "reversed"})
    result.charts.append(Chart("nps_change", "Latest NPS change and whether it is more than noise",
                               finding, figure))


def _add_segments(result: Section, company: Company) -> None:
    responses = metrics.source_table(company, "nps")
    for column in SEGMENT_COLUMNS:
        if column in responses.columns:
            table = metrics.nps(responses, by=column)
            if table[column].notna().sum() >= 2:
                _add_ranked_chart(result, table, column, "nps", key="nps_by_segment",
                                  title=f"NPS by {column}", group_word=column)
                return
    result.data["nps_by_segment"] = None
    result.caveats.append("NPS by segment is not shown: no customer segment or region, touchpoint or "
                          "department splits the responses into two or more groups.")


def _add_ranked_chart(result: Section, table: pd.DataFrame, column: str, metric: str, *, key: str,
                      title: str, group_word: str) -> None:
    """A bar per group with its interval, and whether the highest and lowest really differ."""
    table = table[table[column].notna()].sort_values("nps", ascending=False).reset_index(drop=True)
    label = _LABELS[metric]
    entry = {"column": column, "rows": _records(table), "highest_vs_lowest": None}
    result.data[key] = entry
    if table.empty:
        return
    small = table["too_small"].to_numpy(bool)
    figure = go.Figure(go.Bar(
        x=table["nps"], y=table[column].astype(str), orientation="h",
        marker={"color": np.where(small, _SMALL_COLOUR, _COLOUR)},
        error_x={"type": "data", "symmetric": False, "array": table["high"] - table["nps"],
                 "arrayminus": table["nps"] - table["low"]},
        customdata=table["n"], hovertemplate="%{y}: %{x:+.0f} (n = %{customdata})<extra></extra>",
    ))
    figure.update_layout(xaxis_title=f"{label} (points), with its 95% interval", yaxis={"autorange": "reversed"})
    highest, lowest = table.iloc[0], table.iloc[-1]
    if len(table) == 1:
        finding = f"Only one {group_word} has answers: {highest[column]} at {_signed(highest['nps'])}."
    else:
        comparison = metrics.difference_row(metric, table, column, highest[column], lowest[column])
        # Picking the extremes out of k groups is k(k-1)/2 comparisons: Bonferroni keeps 5% honest.
        pairs = len(table) * (len(table) - 1) // 2
        adjusted = min(1.0, comparison["p_value"] * pairs)
        entry["highest_vs_lowest"] = {**_record(comparison), "pairs": pairs, "p_value_adjusted": adjusted,
                                      "significant": adjusted < 0.05}
        allowance = f" after allowing for {pairs} pairs of {group_word}s" if pairs > 1 else ""
        verdict = "is significant" if adjusted < 0.05 else "is within the noise"
        finding = (f"{label[:1].upper()}{label[1:]} is highest for {highest[column]} "
                   f"({_signed(highest['nps'])}, n = {highest['n']:,}) "
                   f"and lowest for {lowest[column]} ({_signed(lowest['nps'])}, n = {lowest['n']:,}); "
                   f"the gap of {abs(comparison['difference']):.0f} points {verdict} "
                   f"({_p_value(adjusted)}{allowance}).")
    caveat = (f"Grey bars: {_of(small.sum(), len(table), group_word)} too few responses to conclude."
              if small.any() else None)
    result.charts.append(Chart(key, title, finding, figure, caveat))


def _add_planning(result: Section, overall_nps: pd.Series, monthly_nps: pd.DataFrame) -> None:
    observed = stats.nps_responses_needed(PLANNING_MARGIN, overall_nps["promoters"] / overall_nps["n"],
                                          overall_nps["detractors"] / overall_nps["n"])
    worst = stats.nps_responses_needed(PLANNING_MARGIN)
    per_month = int(monthly_nps["n"].median())
    result.data["responses_needed_for_5_point_nps"] = {
        "margin": PLANNING_MARGIN, "at_observed_shares": observed, "worst_case": worst,
        "median_responses_per_month": per_month,
    }
    result.headlines.append(Headline(
        f"Responses for a ±{PLANNING_MARGIN:g} point NPS", f"{observed:,}",
        f"at the observed promoter and detractor shares (worst case {worst:,}); "
        f"a typical month brings {per_month:,}",
    ))


def _summary(data: dict) -> str:
    parts = []
    if data["nps"]:
        nps = data["nps"]
        parts.append(f"NPS is {_signed(nps['nps'])} (95% CI {_signed(nps['low'])} to {_signed(nps['high'])}, "
                     f"n = {nps['n']:,})")
    if data["csat"]:
        parts.append(f"CSAT {_value('csat', data['csat']['csat'])}")
    if data["ces"]:
        parts.append(f"CES {_value('ces', data['ces']['ces'])} of 7")
    if data["employee_nps"]:
        parts.append(f"employee NPS {_signed(data['employee_nps']['nps'])}")
    return "; ".join(parts) + "." if parts else "No survey responses to summarise."


# --- words and numbers -----------------------------------------------------------------------


def _change_sentence(label: str, change: dict) -> str:
    a, b = change["a"], change["b"]
    if change["n_a"] == 0:
        return f"There are no {label} responses in {_period_name(a)} to compare {_period_name(b)} with."
    before, after = _signed(change["value_a"]), _signed(change["value_b"])
    if before == after:
        movement = f"{label} stayed at {after}"
    else:
        movement = f"{label} {'rose' if change['difference'] > 0 else 'fell'} from {before} to {after}"
    verdict = "the change is significant" if change["significant"] else "the change is within the noise"
    return f"{movement} between {_between(a, b)}; {verdict} ({_p_value(change['p_value'])})."


def _of(count: int, total: int, noun: str) -> str:
    """'1 of 7 months has', '3 of 7 months have'."""
    return f"{count} of {total} {noun}s {'has' if count == 1 else 'have'}"


def _period_name(period: pd.Period) -> str:
    if period.freqstr.startswith("Q"):
        return f"Q{period.quarter} {period.year}"
    return period.strftime("%B %Y")


def _between(a: pd.Period, b: pd.Period) -> str:
    """'August and September 2024', with the year once when both periods share it."""
    first, second = _period_name(a), _period_name(b)
    if a.year == b.year:
        first = first.removesuffix(f" {a.year}")
    return f"{first} and {second}"


def _metric_value(metric: str, row) -> float:
    return row["nps" if metric == "enps" else metric]


def _value(metric: str, value: float) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if metric == "csat":
        return f"{value:.0f}%"
    if metric == "ces":
        return f"{value:.1f}"
    return _signed(value)


def _signed(value: float) -> str:
    points = round(value)
    return "0" if points == 0 else f"{points:+d}"


def _p_value(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


# --- JSON --------------------------------------------------------------------------------------


def _json(value):
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if value is pd.NA:
        return None
    return value


def _record(row) -> dict:
    return {str(k): _json(v) for k, v in dict(row).items()}


def _records(frame: pd.DataFrame) -> list[dict]:
    return [_record(row) for row in frame.to_dict("records")]
