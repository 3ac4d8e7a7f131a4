"""Retention: are customers coming and staying? Acquisition flow, active base, retention, cohorts."""

from custfocus.retention.metrics import (
    PERIODS,
    CohortMatrix,
    acquisition,
    active,
    cohort_matrix,
    one_period_before,
    repeat_purchase_rate,
    retention_rates,
    revenue_retention,
)

__all__ = [
    "PERIODS",
    "CohortMatrix",
    "acquisition",
    "active",
    "cohort_matrix",
    "one_period_before",
    "repeat_purchase_rate",
    "retention_rates",
    "revenue_retention",
    "section",
]


def section(company, context=None):
    """The report's retention section (its module loads plotly, so it is imported on first use)."""
    from custfocus.retention.presentation import section as build
    from custfocus.section import Context

    return build(company, context or Context())
