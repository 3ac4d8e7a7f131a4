"""The report: one self-contained HTML briefing and the same figures as JSON."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def write_report(company, html_path: str | Path, json_path: str | Path | None = None,
                 progress: Callable[[str], None] | None = None) -> tuple[Path, Path | None]:
    """Build the report of ``company`` and write its HTML (and JSON); returns the paths written."""
    from custfocus.report.build import build_report
    from custfocus.report.html import write_html
    from custfocus.report.json import write_json

    report = build_report(company, progress=progress)
    (progress or (lambda note: None))("Writing the report")
    return write_html(report, html_path), write_json(report, json_path) if json_path else None
