"""Profitability: profit per customer after the cost of serving them, the whale curve, tiers,
acquisition payback and value / CAC by channel (definitions: docs/profitability.md).

>>> from custfocus import profitability as pr, value
>>> result = pr.profitability(company, clv=value.customer_value(company).table)
>>> result.whale.peak_profit_share, result.tiers.table, result.channels
"""

from custfocus.profitability.analysis import (
    Profitability,
    ProfitTiers,
    WhaleCurve,
    acquisition_by_channel,
    customer_profit,
    profit_tiers,
    profitability,
    profitability_by,
    whale_curve,
)
from custfocus.section import presented_by

__all__ = [
    "ProfitTiers",
    "Profitability",
    "WhaleCurve",
    "acquisition_by_channel",
    "customer_profit",
    "profit_tiers",
    "profitability",
    "profitability_by",
    "section",
    "whale_curve",
]

section = presented_by(__name__)
