"""The demo company's self-assessment: it claims level 2, and one claim the data contradicts.

Demo Retail says it contacts every detractor again; its service_events show no such follow-up, so
the maturity section must mark that practice contradicted and confirm level 1 only.
"""

from __future__ import annotations

from custfocus.maturity.assessment import template
from custfocus.maturity.criteria import CRITERIA

CONTRADICTED_CLAIM = "detractor_follow_up"
CLAIMS = {**{c.key: True for c in CRITERIA if c.level <= 2},
          "employee_nps": True, "internal_service": True}


def assessment_toml(date: str) -> str:
    """The demo's assessment.toml, dated ``date`` (YYYY-MM-DD)."""
    return template(CLAIMS, by="Demo Retail management team", date=date)
