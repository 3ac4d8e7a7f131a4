"""Assemble the report: one section per analysis module, in the order a manager reads them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from custfocus.data.company import Company
from custfocus.errors import CustfocusError
from custfocus.report.section import Headline, Section, TableView

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
        return [(s, h) for s in self.sections if s.available and s.key != "data" for h in s.headlines]


def build_report(company: Company, progress: Callable[[str], None] | None = None) -> Report:
    from custfocus import interventions, loyalty, pulse, retention
    from custfocus.value import section as value_section

    progress = progress or (lambda message: None)
    report = Report(
        company=company.name, as_of=company.as_of.isoformat(), currency=company.currency,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        engine=getattr(company.backend, "name", "duckdb"),
    )
    value = _customer_value(company, progress)
    report.sections = [
        pulse.section(company, progress),
        retention.section(company, progress),
        _with_value(loyalty.section, "loyalty", "Loyalty: loyal or merely retained?", company, progress, value),
        _with_value(value_section.section, value_section.KEY, value_section.TITLE, company, progress, value),
        interventions.section(company, progress),
        data_section(company),
    ]
    return report


def _customer_value(company: Company, progress):
    """The lifetime-value fit that loyalty and value share, or the reason it could not be made."""
    from custfocus.value.clv import customer_value

    if not company.has("transactions"):
        return None
    try:
        return customer_value(company, progress=progress)
    except CustfocusError as failure:
        return failure


def _with_value(builder, key: str, title: str, company: Company, progress, value) -> Section:
    if isinstance(value, CustfocusError):
        return Section(key=key, title=title, available=False,
                       reason=f"Not available: customers' value could not be estimated ({value}).")
    return builder(company, progress, value=value)


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
