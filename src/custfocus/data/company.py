"""A company: its validated tables as Ibis expressions on one backend, plus its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis

    from custfocus.data.validation import LoadReport


@dataclass
class Company:
    """Validated tables (typed as in :mod:`custfocus.data.contract`) and the company's settings.

    Only the tables the company supplied are present; analyses check ``has`` and say what is
    missing instead of failing.
    """

    tables: dict[str, ibis.Table]
    as_of: date
    currency: str = "EUR"
    name: str = "company"
    backend: Any = None
    load_report: LoadReport | None = None
    settings: dict = field(default_factory=dict)

    def has(self, *names: str) -> bool:
        return all(n in self.tables for n in names)

    def missing(self, *names: str) -> list[str]:
        return [n for n in names if n not in self.tables]

    def table(self, name: str) -> ibis.Table:
        return self.tables[name]

