"""The voice section of the report: which themes cost the survey's metric, what customers say, and
how their sentiment moves.

``Section.data`` keys (JSON) are those of :func:`custfocus.voice.to_dict`: ``comments``, ``metric``,
``unit``, ``headline``, ``themes`` (each with ``label``, ``terms``, ``share``, ``sentiment``,
``points_lost``, ``low``, ``high``, ``n``, ``naive_points_lost``, ``role``, ``symptom_of``,
``too_few_mentions``, ``examples``), ``drivers_by_kind``, ``sentiment``, ``themes_by_month``,
``themes_by_group`` and ``notes``; plus the figures of each chart under its key: ``drivers`` (the
driver rows of ``metric``) and ``sentiment_by_month``.

Comments are customer text: plotly renders some HTML in labels and hover text, so every piece of
text taken from comments is escaped here before it reaches a figure (the HTML template escapes the rest).
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from custfocus.data.company import Company
from custfocus.errors import CustfocusError
from custfocus.section import Chart, Context, Headline, Section, TableView
from custfocus.voice import analysis

KEY = "voice"
TITLE = "Voice of the customer: themes, sentiment and what they cost"
ROLE_COLOURS = {"root cause": "#b3261e", "symptom": "#e8a33d", "strength": "#2e7d32",
                "too few mentions": "#b0b0b0", "not clear": "#7a7a7a", "no clear effect": "#7a7a7a"}


def section(company: Company, context: Context) -> Section:
    if not company.has("responses"):
        return Section.unavailable(KEY, TITLE, company.missing("responses"))
    try:
        result = context.once("voice", lambda: analysis.analyse(company, progress=context.progress))
    except CustfocusError as failure:
        return Section(KEY, TITLE, available=False, reason=f"Not available: {failure}")
    section_ = Section(KEY, TITLE)
    section_.data = analysis.to_dict(result)
    # The figures behind each chart, under the chart's key.
    section_.data["drivers"] = section_.data["drivers_by_kind"].get(result.primary_kind, [])
    section_.data["sentiment_by_month"] = result.sentiment_by_month
    section_.summary = analysis.headline(result)
    section_.caveats.extend(result.notes)
    _headlines(section_, result)
    if result.unit and len(result.summary):
        section_.charts.append(_drivers_chart(result))
    if len(result.summary):
        section_.tables.append(_themes_table(result))
    if len(result.sentiment_by_month) > 1:
        section_.charts.append(_sentiment_chart(result))
    group = next(iter(result.by_group), None)
    if group and len(result.summary):
        section_.tables.append(_group_table(result, group))
    thin = result.summary.label[result.summary.get("too_few_mentions", pd.Series(False, index=result.summary.index))
                                .astype(bool)].tolist()
    if thin:
        section_.caveats.append(f"Too few mentions (under {analysis.drv.MIN_MENTIONS}) to conclude on: "
                                + ", ".join(thin) + ".")
    return section_


def _headlines(section_: Section, result: analysis.VoiceResult) -> None:
    # The root cause first: the report's card shows a section's first headline.
    cause = result.biggest_root_cause()
    if cause is not None and bool(cause.converged):
        section_.headlines.append(Headline(
            "Biggest root cause", cause.label,
            f"{cause.points_lost:+.1f} {result.unit} if removed (95% interval {cause.low:+.1f} to "
            f"{cause.high:+.1f}, n = {int(cause.n):,})"))
    section_.headlines.append(Headline("Comments analysed", f"{len(result.comments):,}",
                                       f"{result.themes.count} themes; sentiment {result.sentiment.method}"))


def _text(value: str) -> str:
    return html.escape(str(value), quote=False)


def _drivers_chart(result: analysis.VoiceResult) -> Chart:
    frame = result.summary.sort_values("points_lost", kind="stable")
    labels = [_text(label) for label in frame.label]
    hover = [f"{_text(r.label)}: {r.points_lost:+.1f} {result.unit} (95% interval {r.low:+.1f} to {r.high:+.1f})"
             f"<br>mentioned in {r.share:.1%} of comments; naive formula {r.naive_points_lost:+.1f}"
             f"<br>{_text(r.role)}" + (f" of {_text(r.symptom_of)}" if r.symptom_of else "")
             for r in frame.itertuples()]
    figure = go.Figure(go.Scatter(
        x=frame.points_lost, y=labels, mode="markers",
        marker={"size": 11, "color": [ROLE_COLOURS.get(r, "#7a7a7a") for r in frame.role]},
        error_x={"type": "data", "symmetric": False, "array": (frame.high - frame.points_lost).clip(lower=0),
                 "arrayminus": (frame.points_lost - frame.low).clip(lower=0)},
        text=hover, hovertemplate="%{text}<extra></extra>"))
    figure.add_vline(x=0, line_dash="dot", line_color="grey")
    figure.update_layout(xaxis_title=f"{result.unit} gained if the theme's problem were removed (95% interval)",
                         height=max(300, 40 * len(frame) + 120))
    return Chart("drivers", "What each theme costs, the other themes held fixed", analysis.headline(result),
                 figure, caveat="Red: root cause; orange: symptom of another theme; green: lifts the score; "
                                "grey: no clear effect or too few mentions.")


def _sentiment_chart(result: analysis.VoiceResult) -> Chart:
    monthly = result.sentiment_by_month
    x = pd.to_datetime(monthly.period + "-01")
    figure = go.Figure([
        go.Scatter(x=x, y=monthly.high, mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False),
        go.Scatter(x=x, y=monthly.low, mode="lines", line={"width": 0}, fill="tonexty",
                   fillcolor="rgba(31, 95, 168, 0.18)", name="95% interval", hoverinfo="skip"),
        go.Scatter(x=x, y=monthly["mean"], mode="lines+markers", name="mean sentiment",
                   line={"color": "#1f5fa8"},
                   text=[f"{p}: {m:+.2f} (n = {n:,})"
                         for p, m, n in zip(monthly.period, monthly["mean"], monthly.n, strict=True)],
                   hovertemplate="%{text}<extra></extra>"),
    ])
    figure.update_layout(yaxis_title="Mean sentiment (-1 to +1)", hovermode="x")
    first, last = monthly.iloc[0], monthly.iloc[-1]
    finding = (f"Mean sentiment went from {first['mean']:+.2f} in {first.period} to {last['mean']:+.2f} "
               f"in {last.period} ({result.sentiment.method}).")
    return Chart("sentiment_by_month", "Sentiment of comments by month", finding, figure)


def _themes_table(result: analysis.VoiceResult) -> TableView:
    rows = []
    for r in result.summary.itertuples():
        row = {"Theme": r.label, "Share": f"{r.share:.1%}", "Sentiment": f"{r.sentiment:+.2f}"}
        if result.unit:
            row["Points lost (95% interval)"] = f"{r.points_lost:+.1f} ({r.low:+.1f} to {r.high:+.1f})"
            row["Role"] = r.role + (f" of {r.symptom_of}" if r.symptom_of else "")
        row["Examples"] = " · ".join(f"“{e}”" for e in result.examples.get(r.label, []))
        rows.append(row)
    return TableView("themes", "Each theme, with what customers say", pd.DataFrame(rows),
                     finding="Top terms and every figure are in the JSON; examples are typical comments of the theme.")


def _group_table(result: analysis.VoiceResult, group: str) -> TableView:
    shares = result.by_group[group]
    view = shares.pivot(index="theme", columns="group", values="share").reindex(result.summary.label)
    view = (view * 100).round(1).astype(str) + "%"
    view.index.name = "Theme"
    return TableView(f"themes_by_{group}", f"Share of comments mentioning each theme, by {group}",
                     view.reset_index())
