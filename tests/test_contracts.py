"""Contracts between the code and its documentation: the README's commands and snippets, the report's keys."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import typer

from custfocus import demo
from custfocus.cli import app
from custfocus.data.loading import load
from custfocus.report.build import build_report

README = Path(__file__).parents[1] / "README.md"


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def readme_command_lines() -> list[list[str]]:
    """The README's command-line block: one list of words per `custfocus ...` line, comments dropped."""
    block = next(b for b in readme_blocks("sh") if "custfocus " in b)
    return [line.split("#")[0].split() for line in block.splitlines() if line.startswith("custfocus ")]


def cli_commands() -> dict[str, click.Command]:
    return typer.main.get_command(app).commands


def test_every_command_is_in_the_readme_and_every_readme_command_exists():
    documented = {words[1] for words in readme_command_lines()}
    assert documented == set(cli_commands())


def test_every_option_the_readme_shows_exists():
    commands = cli_commands()
    for words in readme_command_lines():
        command = commands[words[1]]
        if hasattr(command, "commands"):  # a group (`custfocus keys create`): its command
            command = command.commands[words[2]]
        options = {o for p in command.params for o in p.opts}
        shown = {w.strip("[]").split("=")[0] for w in words if w.strip("[]").startswith("--")}
        assert shown <= options, (words[1], shown - options)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    """A folder holding a small demo company as `demo-company`, as the README's snippets expect."""
    home = tmp_path_factory.mktemp("readme")
    demo.write(demo.generate(customers=1_500, seed=11), home / "demo-company")
    return home


def test_the_readme_python_snippets_run(demo_home, monkeypatch):
    blocks = [b for b in readme_blocks("python") if "import custfocus" in b]
    assert blocks, "the README shows no Python snippet"
    monkeypatch.chdir(demo_home)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_every_chart_key_is_a_key_of_its_sections_data(demo_home):
    report = build_report(load(demo_home / "demo-company"))
    charted = 0
    for section in report.sections:
        for chart in section.charts:
            assert chart.key in section.data, (section.key, chart.key)
            charted += 1
    assert charted >= 10  # the demo exercises every section's charts, interventions' included
    assert any("." in c.key for s in report.sections for c in s.charts)
