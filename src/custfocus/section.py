"""What an analysis package hands to the report: a section with headlines, charts and JSON data.

Every analysis package exports ``section(company, context) -> Section`` from its ``__init__``.
The HTML shows the headlines first, then each chart with its one-line finding; the JSON carries
``data``, which must hold every figure the HTML shows. ``Context`` carries what one report run
shares between sections: the progress callback, work computed once (the value fit that loyalty and
maturity reuse) and the sections already built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Headline:
    label: str  # "Net Promoter Score"
    value: str  # "+23"
    detail: str = ""  # "95% CI +18 to +28, n = 1,204"
    caveat: str | None = None  # "too few responses to conclude"


@dataclass(frozen=True)
class Chart:
    key: str  # stable id, also the JSON key of the figures behind it
    title: str
    finding: str  # one line in words: what the chart shows
    figure: Any  # a plotly Figure
    caveat: str | None = None


@dataclass(frozen=True)
class TableView:
    key: str
    title: str
    frame: Any  # a small pandas DataFrame, already formatted for reading
    finding: str = ""


@dataclass
class Section:
    key: str  # "pulse", "retention", ...: the module's name and the JSON key
    title: str
    available: bool = True
    reason: str | None = None  # why not available: "needs table responses"
    summary: str = ""  # the section's finding in one sentence
    headlines: list[Headline] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # every figure shown, JSON-serialisable

    @classmethod
    def unavailable(cls, key: str, title: str, missing: list[str]) -> Section:
        names = ", ".join(missing)
        noun = "table" if len(missing) == 1 else "tables"
        return cls(key=key, title=title, available=False, reason=f"Not available: needs {noun} {names}.")


@dataclass
class Context:
    """What the sections of one run share: progress notes, results computed once, built sections."""

    progress: Callable[[str], None] = field(default=lambda note: None)
    sections: dict[str, Section] = field(default_factory=dict)  # built so far, by key
    _results: dict[str, Any] = field(default_factory=dict, repr=False)

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for, the same result after that.

        A :class:`~custfocus.errors.CustfocusError` is remembered too and raised again, so a fit
        that failed is not retried by every section that needs it."""
        from custfocus.errors import CustfocusError

        if key not in self._results:
            try:
                self._results[key] = compute()
            except CustfocusError as failure:
                self._results[key] = failure
        result = self._results[key]
        if isinstance(result, CustfocusError):
            raise result
        return result


def presented_by(package: str) -> Callable[..., Section]:
    """An analysis package's ``section(company, context=None)``, for its ``__init__``.

    ``<package>.presentation`` is imported on first use, because its charts load plotly, which the
    commands that draw nothing should not wait for."""

    def section(company, context: Context | None = None) -> Section:
        presentation = importlib.import_module(f"{package}.presentation")
        return presentation.section(company, context or Context())

    section.__doc__ = f"The report's section of {package}, built by {package}.presentation.section."
    return section
