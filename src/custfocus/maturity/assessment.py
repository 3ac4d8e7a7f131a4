"""The self-assessment, ``assessment.toml``: which practices the company says it has.

```toml
[assessment]
by = "Head of Customer Service"
date = 2026-09-01

[practices]
nps_measured = true        # one key per criterion (custfocus.maturity.criteria), true or false
detractor_follow_up = true
```

A practice left out counts as not claimed. ``custfocus assess --template`` writes a blank one with
every practice explained. The report reads it with :func:`read_assessment`, which stops on the first
problem; ``custfocus validate`` lists them all with :func:`assessment_problems`, by the same rules.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from custfocus.data.settings import SettingsFileError, read_toml, toml_day
from custfocus.data.validation import FileProblem
from custfocus.errors import InputError
from custfocus.maturity.criteria import CRITERIA, LEVELS

ASSESSMENT_KEYS = ("by", "date")
PRACTICES = tuple(c.key for c in CRITERIA)


@dataclass(frozen=True)
class Assessment:
    source: str
    claims: dict[str, bool] = field(default_factory=dict)  # criterion key -> claimed
    by: str | None = None
    date: str | None = None


def read_assessment(path: str | Path) -> Assessment:
    """Read and check assessment.toml; a problem is one sentence naming the file, the key and its value."""
    assessment, problems = _parse(Path(path))
    if problems:
        more = f" ({len(problems) - 1} more: 'custfocus validate' lists them all)" if len(problems) > 1 else ""
        raise InputError(problems[0].sentence() + more)
    return assessment


def assessment_problems(path: str | Path) -> list[FileProblem]:
    """Every problem of an assessment.toml (none: it is read as it is): the rules of :func:`read_assessment`,
    for 'custfocus validate'."""
    return _parse(Path(path))[1]


def _parse(path: Path) -> tuple[Assessment | None, list[FileProblem]]:
    try:
        raw = read_toml(path)
    except SettingsFileError as err:
        return None, [FileProblem(str(path), None, None, err.reason)]
    problems: list[FileProblem] = []

    def problem(section: str | None, name: str | None, value, message: str) -> None:
        problems.append(FileProblem.at(path, section, name, value, message))

    claims, by, answered_on = {}, None, None
    for name, value in raw.items():  # in the file's order, so are the problems
        if name == "practices":
            claims = _claims(_section(name, value, problem), problem)
        elif name == "assessment":
            by, answered_on = _answerer(_section(name, value, problem), problem)
        else:
            hint = " (a practice goes under [practices])" if name in PRACTICES else ""
            if isinstance(value, dict):
                problem(name, None, None, f"is not a section of the assessment{hint}; the sections are "
                                          "[assessment] and [practices].")
            else:
                problem(None, name, value, f"is outside the sections [assessment] and [practices]{hint}.")
    return Assessment(str(path), claims, by, answered_on), problems


def _claims(practices: dict, problem) -> dict[str, bool]:
    claims = {}
    for key, answer in practices.items():
        if key not in PRACTICES:
            problem("practices", key, answer, f"is not a practice custfocus knows{_did_you_mean(key)}; the practices "
                                               f"are {', '.join(PRACTICES)}.")
        elif not isinstance(answer, bool):
            problem("practices", key, answer, "must be true or false.")
        else:
            claims[key] = answer
    return claims


def _answerer(meta: dict, problem) -> tuple[str | None, str | None]:
    """Who answered and when, from [assessment]."""
    for key, value in meta.items():
        if key not in ASSESSMENT_KEYS:
            problem("assessment", key, value, f"is not a key of [assessment]; the keys are "
                                              f"{' and '.join(ASSESSMENT_KEYS)}.")
    by = meta.get("by")
    if by is not None and not isinstance(by, str):
        problem("assessment", "by", by, "must be text in quotes: who answered.")
        by = None
    answered_on = _answered_on(meta.get("date"), lambda message: problem("assessment", "date", meta["date"], message))
    return by, answered_on


def _section(name: str, value, problem) -> dict:
    if isinstance(value, dict):
        return value
    problem(None, name, value, f"must be a section ([{name}] followed by its keys), not a single value.")
    return {}


def _did_you_mean(key: str) -> str:
    close = difflib.get_close_matches(key, PRACTICES, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _answered_on(value, problem) -> str | None:
    """The date of the answers as YYYY-MM-DD; blank (as in the template) is allowed."""
    if value is None or value == "":
        return value
    try:
        return toml_day(value).isoformat()
    except ValueError as err:
        problem(str(err))
        return None


def template(claims: dict[str, bool] | None = None, by: str = "", date: str = "") -> str:
    """An annotated assessment.toml: every practice with its level, what it means and what custfocus
    checks in the data. ``claims`` fills the answers in (false where absent)."""
    claims = claims or {}
    lines = [
        "# Customer-focus self-assessment for custfocus (read by 'custfocus maturity' and the report).",
        "# Answer each practice true or false. The data overrides the claims: a practice the data",
        "# contradicts counts as not met, and a level is confirmed only when it and every level below",
        "# are met. See docs/maturity.md for the criteria and their sources.",
        "",
        "[assessment]",
        f'by = "{_toml_escape(by)}"      # who answered',
        f'date = "{_toml_escape(date)}"    # when (YYYY-MM-DD)',
        "",
        "[practices]",
    ]
    for level, name in LEVELS.items():
        lines += ["", f"# --- Level {level}: {name} " + "-" * max(0, 60 - len(name))]
        for criterion in (c for c in CRITERIA if c.level == level):
            checked = ("custfocus checks it in: " if criterion.check else "only you can say; to meet it: ") + criterion.how
            lines += [f"# {criterion.practice}", f"# ({checked})",
                      f"{criterion.key} = {'true' if claims.get(criterion.key) else 'false'}"]
    return "\n".join(lines) + "\n"


def _toml_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
