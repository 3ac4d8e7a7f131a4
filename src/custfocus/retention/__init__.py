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
from custfocus.retention.section import section

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
