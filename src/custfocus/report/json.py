"""The report as JSON: every figure the HTML shows, under documented keys (docs/report-json.md)."""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from custfocus.report.build import Report

SCHEMA_VERSION = 1


def report_dict(report: Report) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "company": report.company,
        "as_of": report.as_of,
        "currency": report.currency,
        "generated_at": report.generated_at,
        "engine": report.engine,
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


def to_jsonable(value):
    """Plain JSON types: numpy scalars to Python, NaN and infinity to null, dates to ISO strings."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return to_jsonable(value.to_dict("records"))
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def dumps(report: Report) -> str:
    return json.dumps(to_jsonable(report_dict(report)), indent=2, ensure_ascii=False)


def write_json(report: Report, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(report), encoding="utf-8")
    return path
