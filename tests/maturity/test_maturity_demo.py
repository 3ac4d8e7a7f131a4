"""The demo company: its report opens with a level and the next step, and its false claim is caught."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from custfocus import demo
from custfocus.cli import app
from custfocus.data.loading import load
from custfocus.demo.assessment import CONTRADICTED_CLAIM
from custfocus.report.build import build_report
from custfocus.report.html import render_html


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    demo.write(demo.generate(customers=1_500, seed=11), folder)
    return folder


@pytest.fixture(scope="module")
def report(demo_folder):
    return build_report(load(demo_folder))


def test_demo_report_gives_a_level_and_next_steps(report):
    data = report.section("maturity").data
    assert data["assessment"].endswith("assessment.toml") and not data["from_data_only"]
    assert data["confirmed_level"] == 1 and data["claimed_level"] == 2
    status = {c["key"]: c["status"] for c in data["criteria"]}
    assert status[CONTRADICTED_CLAIM] == "contradicted"
    assert [c["key"] for c in data["criteria"] if c["status"] == "contradicted"] == [CONTRADICTED_CLAIM]
    assert data["next_steps"] and all(step["level"] == 2 for step in data["next_steps"])
    assert CONTRADICTED_CLAIM in [step["key"] for step in data["next_steps"]]
    assert data["verdict"].startswith("Customer focus is confirmed at level 1 of 3 (quality service)")


def test_report_opens_with_the_verdict_and_the_next_step(report):
    html = render_html(report)
    verdict = report.section("maturity").data["verdict"]
    assert html.index(verdict) < html.index("id=\"headlines\"")
    assert html.index("Next step:") < html.index("id=\"headlines\"")
    assert [s.key for s in report.sections][-2:] == ["maturity", "data"]


def test_maturity_command(demo_folder):
    result = CliRunner().invoke(app, ["maturity", str(demo_folder), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["confirmed_level"] == 1 and payload["next_steps"]
