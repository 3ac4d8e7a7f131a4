"""'custfocus validate' checks assessment.toml by the rules the report reads it with."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from custfocus import maturity
from custfocus.cli import app
from custfocus.errors import InputError
from custfocus.report.inputs import validate_inputs

TRANSACTIONS = "customer_id,date,amount\nC1,2024-01-05,10.5\nC2,2024-02-01,3\n"
MARKUP = '[practices]\n"[red]we_are_great[/red]" = true\nnps_measured = "[bold]yes[/bold]"\n'


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # Rich would wrap the sentences the tests read whole
    (tmp_path / "transactions.csv").write_text(TRANSACTIONS)
    (tmp_path / "custfocus.toml").write_text('[company]\nas_of = "2024-06-30"\n')
    return tmp_path


def validate(folder, *args):
    result = CliRunner().invoke(app, ["validate", str(folder), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def test_every_problem_is_listed_with_file_key_and_value_and_brackets_print_literally(folder):
    (folder / "assessment.toml").write_text(MARKUP + "complaint_proces = false\n[assessment]\ndate = \"2026-02-30\"\n")
    result = validate(folder)
    assert result.exit_code == 1
    path = folder / "assessment.toml"
    for sentence in (
        f"{path}: [practices] '[red]we_are_great[/red]' = true is not a practice custfocus knows",
        f"{path}: [practices] nps_measured = '[bold]yes[/bold]' must be true or false.",
        f"{path}: [practices] complaint_proces = false is not a practice custfocus knows "
        "(did you mean complaint_process?)",
        f"{path}: [assessment] date = '2026-02-30' is not a date (use YYYY-MM-DD).",
    ):
        assert sentence in result.output, result.output
    assert "4 problem(s). Fix them in the file(s) named above." in result.output
    assert "quarantine" not in result.output  # quarantine sets rows aside, never a settings file


def test_validate_says_what_the_report_would_stop_on(folder):
    path = folder / "assessment.toml"
    path.write_text(MARKUP)
    with pytest.raises(InputError) as raised:
        maturity.read_assessment(path)
    first = json.loads(validate(folder, "--json").output)["file_problems"][0]
    assert str(raised.value).startswith(f"{first['file']}: {first['key']} = {first['value']} {first['message']}")
    assert "1 more" in str(raised.value)


def test_a_good_assessment_is_named_as_checked(folder):
    (folder / "assessment.toml").write_text(maturity.template({"nps_measured": True}, by="[b]Ann[/b]"))
    result = validate(folder)
    assert result.exit_code == 0 and "All tables are valid, and so is assessment.toml." in result.output
    payload = json.loads(validate(folder, "--json").output)
    assert payload["checked_files"] == [str(folder / "assessment.toml")] and payload["file_problems"] == []


def test_without_an_assessment_nothing_changes(folder):
    assert validate(folder).output.rstrip().endswith("All tables are valid.")
    assert validate_inputs(folder).checked_files == []


def test_table_and_file_problems_are_listed_together(folder):
    (folder / "transactions.csv").write_text(TRANSACTIONS + "C3,someday,4\n")
    (folder / "assessment.toml").write_text("[practices]\nnps_measured = 1\n")
    report = validate_inputs(folder)
    assert report.problem_total == 2 and not report.ok
    assert [p.column for p in report.problems] == ["date"]
    assert [(p.key, p.value) for p in report.files] == [("[practices] nps_measured", "1")]
    result = validate(folder)
    assert "nps_measured = 1 must be true or false" in result.output and "row 3" in result.output
    assert "quarantine" in result.output
