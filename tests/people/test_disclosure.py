"""The department of three is disclosed nowhere: not in the HTML, the JSON or any command's output."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from custfocus import demo, people
from custfocus.cli import app
from custfocus.data.loading import load
from custfocus.report.build import build_report
from custfocus.report.html import render_html
from custfocus.report.json import dumps

from .conftest import SMALL

runner = CliRunner()


def run(*args) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def acme_report(acme_tables):
    from custfocus.data.loading import load_frames

    from .conftest import AS_OF

    return build_report(load_frames(acme_tables, as_of=AS_OF, name="Acme"))


def test_report_html_and_json_never_name_the_small_department(acme_report):
    html, payload = render_html(acme_report), dumps(acme_report)
    assert SMALL not in html and SMALL not in payload
    people_section = json.loads(payload)["sections"]["people"]
    assert people_section["data"]["bottleneck"]["supplier"] == "Procurement"
    assert people_section["data"]["employee_nps"]["hidden"]["small_departments"] == 1
    assert "Procurement" in html


@pytest.mark.parametrize("args", [
    ("people",), ("people", "--json"), ("nps", "--metric", "enps"), ("nps", "--metric", "enps", "--json"),
    ("nps", "--metric", "enps", "--by", "department"), ("nps", "--metric", "enps", "--by", "department", "--json"),
])
def test_commands_never_name_the_small_department(acme_folder, args):
    result = run(args[0], acme_folder, *args[1:])
    assert result.exit_code == 0, result.output
    assert SMALL not in result.output
    assert "Sales" in result.output or args[:3] == ("nps", "--metric", "enps") and "--by" not in args


def test_people_json_names_the_bottleneck(acme_folder):
    payload = json.loads(run("people", acme_folder, "--json").output)
    assert payload["bottleneck"]["supplier"] == "Procurement"


@pytest.mark.parametrize("args", [("--by", "employee_id"), ("--period", "month"), ("--by", "comment")])
def test_other_employee_breakdowns_are_refused_with_a_sentence(acme_folder, args):
    result = run("nps", acme_folder, "--metric", "enps", *args)
    assert result.exit_code == 1
    assert "only by department" in result.output


def test_the_demo_plants_a_small_department_that_never_shows(tmp_path):
    demo.write(demo.generate(customers=3_000, seed=2), tmp_path)
    company = load(tmp_path)
    answers = company.table("employee_responses").to_pandas()
    assert answers[answers.department == demo.PLANTED.people.small_department].employee_id.nunique() == 3
    payload = json.dumps(people.to_dict(people.analyse(company)))
    assert demo.PLANTED.people.small_department not in payload
