"""The report as JSON: every figure the HTML shows, under documented keys (docs/report-json.md)."""

from __future__ import annotations

import json
from pathlib import Path

from custfocus.report.build import Report
from custfocus.stats import to_jsonable

SCHEMA_VERSION = 1


def report_dict(report: Report) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "company": report.company,
        "as_of": report.as_of,
        "currency": report.currency,
        "generated_at": report.generated_at,
        "engine": report.engine,
        "run": {"sections": report.timings},
        "sections": {
            s.key: {
                "title": s.title,
                "available": s.available,
                "reason": s.reason,
                "summary": s.summary,
                "headlines": [{"label": h.label, "value": h.value, "detail": h.detail, "caveat": h.caveat}
                              for h in s.headlines],
                "charts": [{"key": c.key, "title": c.title, "finding": c.finding, "caveat": c.caveat}
                           for c in s.charts],
                "caveats": s.caveats,
                "data": s.data,
            }
            for s in report.sections
        },
    }


def dumps(report: Report) -> str:
    return json.dumps(to_jsonable(report_dict(report)), indent=2, ensure_ascii=False)


def write_json(report: Report, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(report), encoding="utf-8")
    return path
