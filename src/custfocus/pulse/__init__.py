"""Pulse: NPS, CSAT and CES of customers with confidence intervals, by period and segment.

Employee NPS is :mod:`custfocus.people`'s (``people.company_employee_nps``), which hides small groups.

>>> from custfocus import pulse
>>> pulse.nps(company.tables["responses"], period="month")        # doctest: +SKIP
>>> pulse.compare(company.tables["responses"], period="month")    # latest month vs the one before
>>> pulse.responses_needed(5)                                      # for a +/- 5 point NPS
"""

from custfocus.pulse.metrics import (
    ces,
    compare,
    csat,
    metric_table,
    metric_table_for,
    nps,
    responses_needed,
    source_table,
    with_customer_attributes,
)
from custfocus.pulse.stats import (
    Difference,
    NpsCounts,
    SatisfiedCounts,
    ScoreSummary,
    ces_difference,
    ces_interval,
    csat_difference,
    csat_interval,
    nps_difference,
    nps_interval,
)
from custfocus.section import presented_by

__all__ = [
    "Difference",
    "NpsCounts",
    "SatisfiedCounts",
    "ScoreSummary",
    "ces",
    "ces_difference",
    "ces_interval",
    "compare",
    "csat",
    "csat_difference",
    "csat_interval",
    "metric_table",
    "metric_table_for",
    "nps",
    "nps_difference",
    "nps_interval",
    "responses_needed",
    "section",
    "source_table",
    "with_customer_attributes",
]

section = presented_by(__name__)
