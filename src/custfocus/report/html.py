"""The HTML briefing: one self-contained file (plotly.js inlined) that opens offline from disk."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import plotly.io as pio
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs

from custfocus.report.build import Report

CHART_CONFIG = {"displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("custfocus.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    env.filters["chart_html"] = chart_html
    env.filters["table_html"] = lambda frame: frame.to_html(index=False, border=0, classes="grid", na_rep="–")
    return env


def chart_html(figure) -> str:
    figure.update_layout(template="plotly_white", margin={"l": 50, "r": 20, "t": 30, "b": 40},
                         height=figure.layout.height or 340, font={"family": "system-ui, sans-serif"})
    return pio.to_html(figure, full_html=False, include_plotlyjs=False, config=CHART_CONFIG)


def render_html(report: Report) -> str:
    return _environment().get_template("report.html.j2").render(report=report, plotlyjs=get_plotlyjs())


def write_html(report: Report, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
