"""Assemble the report: every registered section, built in order with one shared context."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from custfocus.data.company import Company
from custfocus.report.registry import SECTIONS
from custfocus.section import Context, Headline, Section, TableView


@dataclass
class Report:
    company: str
    as_of: str
    currency: str
    generated_at: str
    engine: str
    sections: list[Section] = field(default_factory=list)

    @property
    def headlines(self) -> list[tuple[Section, Headline]]:
        """The lead headline of each section that has one: the numbers the briefing opens with."""
        return [(s, s.headlines[0]) for s in self.sections if s.available and s.key != "data" and s.headlines]

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


def build_report(company: Company, progress: Callable[[str], None] | None = None) -> Report:
    context = Context(progress=progress or (lambda note: None))
    report = Report(
        company=company.name, as_of=company.as_of.isoformat(), currency=company.currency,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        engine=getattr(company.backend, "name", "duckdb"),
    )
    for name in SECTIONS:
        built = importlib.import_module(f"custfocus.{name}").section(company, context)
        context.sections[built.key] = built
    report.sections = [*context.sections.values(), data_section(company)]
    return report


def data_section(company: Company) -> Section:
    """What was read, used and rejected: the counts behind every figure."""
    import pandas as pd

    load = company.load_report
    rows = [{"table": t.table, "read": t.read, "used": t.used, "rejected": t.rejected,
             "note": t.skipped_reason or ("; ".join(t.notes) if t.notes else "")}
            for t in load.tables.values()]
    frame = pd.DataFrame(rows, columns=["table", "read", "used", "rejected", "note"])
    rejected = int(frame.rejected.sum()) if len(frame) else 0
    read = int(frame.read.sum()) if len(frame) else 0
    summary = (f"{read:,} rows read in {len(rows)} table(s); all were used." if not rejected else
               f"{read:,} rows read in {len(rows)} table(s); {rejected:,} were rejected "
               f"({rejected / max(read, 1):.1%}) and are left out of every figure.")
    caveats = list(load.notes)
    if rejected:
        caveats.append("Rejected rows and their reasons are listed by 'custfocus validate' and, with "
                       "--on-error quarantine, written under rejected/.")
    return Section(
        key="data", title="Data: what was read, used and rejected", summary=summary,
        tables=[TableView("tables", "Rows per table", frame, finding="Read = used + rejected for every table.")],
        caveats=caveats, data=load.to_dict(),
    )
