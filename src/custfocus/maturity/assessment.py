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
every practice explained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from custfocus.data.settings import read_toml
from custfocus.errors import InputError
from custfocus.maturity.criteria import CRITERIA, LEVELS


@dataclass(frozen=True)
class Assessment:
    source: str
    claims: dict[str, bool] = field(default_factory=dict)  # criterion key -> claimed
    by: str | None = None
    date: str | None = None


def read_assessment(path: str | Path) -> Assessment:
    """Read and check assessment.toml; a problem is one sentence naming the file and the key."""
    path = Path(path)
    raw = read_toml(path)
    unknown = set(raw) - {"assessment", "practices"}
    if unknown:
        raise InputError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; expected [assessment] "
                         "and [practices].")
    practices = raw.get("practices", {})
    known = {c.key for c in CRITERIA}
    claims = {}
    for key, answer in practices.items():
        if key not in known:
            raise InputError(f"{path}: [practices] {key} is not a practice custfocus knows; the practices are "
                             f"{', '.join(c.key for c in CRITERIA)}.")
        if not isinstance(answer, bool):
            raise InputError(f"{path}: [practices] {key} must be true or false, got {answer!r}.")
        claims[key] = answer
    meta = raw.get("assessment", {})
    return Assessment(str(path), claims, _text(meta.get("by")), _text(meta.get("date")))


def _text(value) -> str | None:
    return None if value is None else str(value)


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
