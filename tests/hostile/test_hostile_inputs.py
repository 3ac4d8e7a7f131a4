"""Every hostile input ends in a correct load or in a sentence naming what is wrong, never in an
internal error; counts add up; nothing is executed or disclosed. Cases come from ``cases.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from custfocus.cli import app
from custfocus.data.validation import FileProblem, Problem
from hostile.cases import all_cases

runner = CliRunner()
CASES = all_cases()


# Root reads every file whatever its permissions, unless it gives up the capabilities that let it.
WITHOUT_FILE_OVERRIDE = ("setpriv", "--bounding-set=-dac_override,-dac_read_search",
                         "--inh-caps=-dac_override,-dac_read_search")


def validate_as_user(folder, extra_args) -> tuple[str, int]:
    """``custfocus validate`` in a process that, even run by root, cannot read a file it may not."""
    command = [sys.executable, "-m", "custfocus", "validate", str(folder), "--json", *extra_args]
    if os.geteuid() == 0:
        command = [*WITHOUT_FILE_OVERRIDE, *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return done.stdout + done.stderr, done.returncode


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_ends_in_a_load_or_a_sentence(case, tmp_path):
    folder = tmp_path / "company"
    folder.mkdir()
    case.build(folder)
    if case.root_cannot_run:
        output, exit_code = validate_as_user(folder, case.extra_args)
    else:
        result = runner.invoke(app, ["validate", str(folder), "--json", *case.extra_args])
        output, exit_code = result.output, result.exit_code
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output and "Unexpected error" not in output, output
    report = json.loads(output) if output.lstrip().startswith("{") else None
    # What the user reads: the error's sentence, or the problems as validate prints them.
    said = output if report is None else "\n".join(
        [Problem(**p).sentence() for p in report["problems"]] + report["notes"]
        + [FileProblem(**p).sentence() for p in report["file_problems"]])
    if case.expect == "load":
        assert exit_code == 0, said
    else:
        assert exit_code == 1, said
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
