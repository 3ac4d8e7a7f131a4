"""The demo company "Demo Retail": planted truths (:mod:`.planted`), the simulation that draws from
them (:mod:`.simulation`) and the contract tables it writes (:mod:`.tables`).

>>> from custfocus import demo
>>> tables = demo.generate(customers=20_000, seed=7)     # doctest: +SKIP
>>> demo.write(tables, "demo-company")                  # doctest: +SKIP
>>> demo.PLANTED.purchasing                             # what the analyses must recover
"""

from custfocus.demo.planted import PLANTED, TABLE_NAMES, Planted
from custfocus.demo.tables import check_target, generate, write

__all__ = ["PLANTED", "TABLE_NAMES", "Planted", "check_target", "generate", "write"]
