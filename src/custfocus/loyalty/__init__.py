"""Loyalty: loyal or merely retained? The Dick & Basu matrix, the retained-but-not-loyal, a promoter's worth.

>>> from custfocus import loyalty
>>> table = loyalty.loyalty_table(value.table, responses, value.transaction_model, as_of=as_of)  # doctest: +SKIP
>>> loyalty.loyalty_matrix(table)                        # the four cells and attitude unknown
>>> loyalty.retained_not_loyal(table).limit(20)          # an Ibis table, most value at risk first
>>> loyalty.promoter_value(transactions, responses, as_of=as_of, clv=value.table)
"""

from custfocus.loyalty.matrix import (
    ATTITUDE_UNKNOWN,
    CELLS,
    LATENT_LOYALTY,
    NO_LOYALTY,
    SPURIOUS_LOYALTY,
    TRUE_LOYALTY,
    first_or_latest_nps,
    loyalty_by_category,
    loyalty_matrix,
    loyalty_table,
    nps_category,
    retained_not_loyal,
)
from custfocus.loyalty.promoter_value import (
    PromoterValue,
    promoter_value,
    subsequent_spend,
)
from custfocus.section import presented_by

__all__ = [
    "ATTITUDE_UNKNOWN",
    "CELLS",
    "LATENT_LOYALTY",
    "NO_LOYALTY",
    "SPURIOUS_LOYALTY",
    "TRUE_LOYALTY",
    "PromoterValue",
    "first_or_latest_nps",
    "loyalty_by_category",
    "loyalty_matrix",
    "loyalty_table",
    "nps_category",
    "promoter_value",
    "retained_not_loyal",
    "section",
    "subsequent_spend",
]

section = presented_by(__name__)
