"""Customer value: buy-till-you-die models by exact maximum likelihood, CLV, and profitability.

>>> from custfocus import value
>>> worth = value.customer_value(company)          # fitted models and a per-customer Ibis table
>>> value.calibration_holdout(company)              # predicted vs actual holdout purchases
>>> value.profitability(company, clv=worth.table)  # profit after cost to serve, whale curve, tiers
"""

from custfocus.section import presented_by
from custfocus.value.clv import (
    CustomerValue,
    HoldoutCheck,
    calibration_holdout,
    clv_from_summary,
    clv_report,
    customer_value,
    read_summary,
    shared_value,
    write_predictions,
)
from custfocus.value.models import (
    BGNBD,
    MBGNBD,
    GammaGamma,
    ParetoNBD,
    customer_lifetime_value,
    merge_equal_rows,
)
from custfocus.value.profitability import Profitability, profitability
from custfocus.value.summary import (
    customer_summary,
    holdout_purchases,
    sufficient_statistics,
)

__all__ = [
    "section",
    "BGNBD",
    "MBGNBD",
    "CustomerValue",
    "GammaGamma",
    "HoldoutCheck",
    "ParetoNBD",
    "Profitability",
    "calibration_holdout",
    "clv_from_summary",
    "clv_report",
    "customer_lifetime_value",
    "customer_summary",
    "customer_value",
    "holdout_purchases",
    "merge_equal_rows",
    "profitability",
    "read_summary",
    "shared_value",
    "sufficient_statistics",
    "write_predictions",
]

section = presented_by(__name__)
