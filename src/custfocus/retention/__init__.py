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
from custfocus.section import presented_by

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

section = presented_by(__name__)
