"""What an analysis module hands to the report: a section with headlines, charts and JSON data.

Every analysis module exposes ``section(company, progress=None) -> Section``. The HTML shows the
headlines first, then each chart with its one-line finding; the JSON carries ``data``, which must
hold every figure the HTML shows.
"""

from __future__ import annotations

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
