"""Customer value: buy-till-you-die models by exact maximum likelihood (:mod:`.fitters`), CLV
(:mod:`.clv`) and the calibration / holdout check (:mod:`.holdout`).

>>> from custfocus import value
>>> worth = value.customer_value(company)          # fitted models and a per-customer Ibis table
>>> value.calibration_holdout(company)              # predicted vs actual holdout purchases
>>> value.BGNBD().fit(frequency, recency, T).summary()
"""

from custfocus.section import presented_by
from custfocus.value.clv import (
    CustomerValue,
    clv_from_summary,
    clv_report,
    customer_value,
    read_summary,
    shared_value,
    write_predictions,
)
from custfocus.value.fitters import (
    BGBB,
    BGNBD,
    MBGNBD,
    ConvergenceWarning,
    GammaGamma,
    ParetoNBD,
    customer_lifetime_value,
    merge_equal_rows,
)
from custfocus.value.holdout import HoldoutCheck, calibration_holdout
from custfocus.value.summary import customer_summaries, customer_summary, holdout_purchases, sufficient_statistics

__all__ = [
    "BGBB",
    "BGNBD",
    "MBGNBD",
    "ConvergenceWarning",
    "CustomerValue",
    "GammaGamma",
    "HoldoutCheck",
    "ParetoNBD",
    "calibration_holdout",
    "clv_from_summary",
    "clv_report",
    "customer_lifetime_value",
    "customer_summaries",
    "customer_summary",
    "customer_value",
    "holdout_purchases",
    "merge_equal_rows",
    "read_summary",
    "section",
    "shared_value",
    "sufficient_statistics",
    "write_predictions",
]

section = presented_by(__name__)
