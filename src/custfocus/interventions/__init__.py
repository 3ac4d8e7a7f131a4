"""Interventions: does a service investment bring additional profit, and for whom?

``analyse(company)`` gives one :class:`InterventionResult` per intervention; ``to_dict`` turns them
into JSON for ``custfocus interventions --json``; ``section(company)`` is the report's section.
Definitions: ``docs/interventions.md``.
"""

from custfocus.interventions.analysis import InterventionResult, analyse, to_dict
from custfocus.interventions.outcomes import CostPerUse

__all__ = ["CostPerUse", "InterventionResult", "analyse", "section", "to_dict"]


def section(company, context=None):
    """The report's interventions section (its module loads plotly, so it is imported on first use)."""
    from custfocus.interventions.presentation import section as build
    from custfocus.section import Context

    return build(company, context or Context())
