"""The demo company's self-assessment: it claims level 2, and one practice the data contradicts.

Demo Retail says it contacts every detractor again within two weeks; its service_events hold no
such follow-up, so the maturity section must mark that practice contradicted and confirm level 1
only. The keys are those of :data:`custfocus.maturity.criteria.CRITERIA` (the demo sits below the
analyses, so it names them rather than importing them; a test reads the file back with maturity).
"""

from __future__ import annotations

CONTRADICTED_CLAIM = "detractor_follow_up"
CLAIMS = {
    # Level 1: quality service
    "nps_measured": True, "retention_measured": True, "complaints_recorded": True, "complaint_process": True,
    # Level 2: professional service
    "loyalty_vs_retention": True, "value_after_cost_to_serve": True, "comment_themes": True,
    CONTRADICTED_CLAIM: True,
    # Level 3: customer service centre, in part
    "employee_nps": True, "internal_service": True, "service_profit_chain": False,
    "service_investment_profit": False, "service_standards": False,
}


def assessment_toml(date: str) -> str:
    """The demo's assessment.toml, dated ``date`` (YYYY-MM-DD)."""
    practices = "\n".join(f"{key} = {'true' if claimed else 'false'}" for key, claimed in CLAIMS.items())
    return ("# The demo company's customer-focus self-assessment ('custfocus assess --template' explains each "
            f"practice).\n[assessment]\nby = \"Demo Retail management team\"\ndate = \"{date}\"\n\n"
            f"[practices]\n{practices}\n")
