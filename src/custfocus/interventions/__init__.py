"""Interventions: does a service investment bring additional profit, and for whom?

``analyse(company)`` gives one :class:`InterventionResult` per intervention; ``to_dict`` turns them
into JSON for ``custfocus interventions --json``; ``section(company)`` is the report's section.
Definitions: ``docs/interventions.md``.
"""

from custfocus.interventions.analysis import InterventionResult, analyse, to_dict
from custfocus.interventions.outcomes import CostPerUse
from custfocus.section import presented_by

__all__ = ["CostPerUse", "InterventionResult", "analyse", "section", "to_dict"]

section = presented_by(__name__)
