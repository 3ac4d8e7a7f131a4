"""The report: every section present, unavailable ones say why, JSON carries what the HTML shows."""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest
from markupsafe import escape

from custfocus.data.loading import load_frames
from custfocus.report.build import build_report
from custfocus.report.html import render_html
from custfocus.report.json import dumps, report_dict


@pytest.fixture
def transactions_only():
    rng = pd.date_range("2024-01-01", "2024-06-28", freq="3D")
    frame = pd.DataFrame({
        "customer_id": [f"C{i % 40}" for i in range(len(rng))],
        "date": rng.date,
        "amount": [20.0 + i for i in range(len(rng))],
    })
    return load_frames({"transactions": frame}, as_of=date(2024, 6, 30), name="Tiny shop")


def test_sections_without_their_tables_say_what_they_need(transactions_only):
    report = build_report(transactions_only)
    by_key = {s.key: s for s in report.sections}
    assert by_key["pulse"].available is False
    assert by_key["pulse"].reason == "Not available: needs table responses."
    assert by_key["retention"].available is True
    html = render_html(report)
    assert "Not available: needs table responses." in html


def test_json_carries_every_headline_and_chart_of_the_html(transactions_only):
    report = build_report(transactions_only)
    payload = json.loads(dumps(report))
    html = render_html(report)
    for section in report.sections:
        entry = payload["sections"][section.key]
        assert entry["available"] == section.available
        for headline in section.headlines:
            assert str(escape(headline.value)) in html
            assert {"label": headline.label, "value": headline.value, "detail": headline.detail,
                    "caveat": headline.caveat} in entry["headlines"]
        assert [c["key"] for c in entry["charts"]] == [c.key for c in section.charts]
        for chart in section.charts:
            assert str(escape(chart.finding)) in html
    assert payload["sections"]["data"]["data"]["tables"]["transactions"]["read"] == len(
        transactions_only.tables["transactions"].execute())


def test_html_is_self_contained(transactions_only):
    html = render_html(build_report(transactions_only))
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=\"?https?:", html)
    assert "Plotly.newPlot" in html  # the charts are drawn by the inlined plotly.js


def test_report_dict_is_plain_json(transactions_only):
    payload = report_dict(build_report(transactions_only))
    text = dumps(build_report(transactions_only))
    assert "NaN" not in text and "Infinity" not in text
    assert set(payload) >= {"schema_version", "company", "as_of", "sections"}
    assert payload["company"] == "Tiny shop"


def test_a_model_that_did_not_converge_is_never_headlined(transactions_only):
    """On this shop the BG/NBD does not converge (r runs off to ~1e19): the value section says the
    value could not be estimated and why, shows no value, and profitability goes on without CLV."""
    report = build_report(transactions_only)
    by_key = {s.key: s for s in report.sections}
    value = by_key["value"]
    assert value.available is False and not value.headlines and not value.charts
    assert "could not be estimated" in value.reason and "did not converge" in value.reason
    assert "r ran off" in value.reason
    assert str(escape(value.reason)) in render_html(report)
    profit = by_key["profitability"]
    assert profit.available and profit.headlines
    assert any("could not be estimated" in caveat for caveat in profit.caveats)
    assert not any("Expected value" in h.label for s in report.sections for h in s.headlines)
