"""Every hostile input ends in a correct load or in a sentence naming what is wrong, never in an
internal error; counts add up; nothing is executed or disclosed. Cases come from ``cases.py``."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from custfocus.cli import app
from custfocus.data.validation import Problem
from hostile.cases import all_cases

runner = CliRunner()
CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_ends_in_a_load_or_a_sentence(case, tmp_path):
    if case.root_cannot_run and os.geteuid() == 0:
        pytest.skip("root reads every file whatever its permissions")
    folder = tmp_path / "company"
    folder.mkdir()
    case.build(folder)
    result = runner.invoke(app, ["validate", str(folder), "--json", *case.extra_args])
    output = result.output
    assert "Traceback" not in output and "Unexpected error" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    report = json.loads(output) if output.lstrip().startswith("{") else None
    # What the user reads: the error's sentence, or the problems as validate prints them.
    said = output if report is None else "\n".join(
        [Problem(**p).sentence() for p in report["problems"]] + report["notes"])
    if case.expect == "load":
        assert result.exit_code == 0, said
    else:
        assert result.exit_code == 1, said
        for word in case.must_say:
            assert word in said, f"{word!r} not in: {said[:2000]}"
    if report is not None:
        for table in report["tables"].values():
            assert table["read"] == table["used"] + table["rejected"], table
        if case.used is not None:
            t = report["tables"]["transactions"]
            assert (t["used"], t["rejected"]) == (case.used, case.rejected), t
    for check in case.checks:
        check(folder)
