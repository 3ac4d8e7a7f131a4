"""Customer value: buy-till-you-die models fitted by exact maximum likelihood, and CLV."""

from custfocus.value.models import (
    BGNBD,
    MBGNBD,
    GammaGamma,
    ParetoNBD,
    customer_lifetime_value,
    merge_equal_rows,
)

__all__ = [
    "BGNBD",
    "MBGNBD",
    "GammaGamma",
    "ParetoNBD",
    "customer_lifetime_value",
    "merge_equal_rows",
]
