"""Retention: are customers coming and staying? Acquisition flow, active base, retention, cohorts."""

from custfocus.retention.metrics import (
    CYCLE_WINDOWS,
    PERIODS,
    CohortMatrix,
    PurchaseCycle,
    RetentionSummary,
    WindowRetention,
    acquisition,
    active,
    cohort_matrix,
    one_period_before,
    repeat_purchase_rate,
    purchase_cycle,
    retention_rates,
    revenue_retention,
    summary,
    window_retention,
)
from custfocus.section import presented_by

__all__ = [
    "CYCLE_WINDOWS",
    "PERIODS",
    "CohortMatrix",
    "PurchaseCycle",
    "RetentionSummary",
    "WindowRetention",
    "acquisition",
    "active",
    "cohort_matrix",
    "one_period_before",
    "purchase_cycle",
    "repeat_purchase_rate",
    "retention_rates",
    "revenue_retention",
    "section",
    "summary",
    "window_retention",
]

section = presented_by(__name__)
