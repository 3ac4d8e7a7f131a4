"""Aggregates that Ibis spells in a way the engines run slowly.

Ibis compiles ``x.argmin(key)`` for DuckDB as ``FIRST(x ORDER BY key)``, an ordered aggregate that
sorts every group: on 9M transactions it took longer than the rest of the customer summary. Both
engines have the plain aggregate, DuckDB as ``arg_min`` (alias ``min_by``) and Spark as ``min_by``.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt


@ibis.udf.agg.builtin(name="min_by")
def _min_by(arg: dt.float64, key: dt.date) -> dt.float64:
    """The builtin aggregate (Ibis calls it by name)."""


def value_on_first_day(value: ibis.Value, day: ibis.Value, where: ibis.BooleanValue | None = None):
    """``value`` on the earliest ``day`` of each group (among the rows where ``where`` holds), as a
    float; the group's days must be distinct."""
    return _min_by(value.cast("float64"), day.cast("date"), where=where)
