"""Every input a report reads, checked before it is built ('custfocus validate'): the tables, by
:mod:`custfocus.data`, and the settings files an analysis package reads beside them, by that
package's own reader, so that validate and the report apply the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from custfocus.data.loading import validate
from custfocus.data.settings import ASSESSMENT_FILE
from custfocus.data.validation import LoadReport
from custfocus.maturity.assessment import assessment_problems

# A settings file beside the tables -> the check of the package that reads it. (custfocus.toml and
# voice.toml are read, and their TOML checked, by the loader itself.)
SETTINGS_FILE_CHECKS = {ASSESSMENT_FILE: assessment_problems}


def validate_inputs(source, *, as_of: date | None = None,
                    progress: Callable[[str], None] | None = None) -> LoadReport:
    """Check every table and settings file of ``source`` and list every problem (never raises on bad rows)."""
    return validate(source, as_of=as_of, progress=progress, file_checks=SETTINGS_FILE_CHECKS)
