"""Survey answers as the API takes them: their shape (pydantic) and the data contract's rules.

Types are pydantic's job; the contract's rules (score range by kind, allowed kinds, no future
date) are read from :mod:`custfocus.data.contract`, with the messages `custfocus validate` uses, so
an answer the API takes is one the report's loader takes too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from custfocus.data.contract import SCORE_RANGES, TABLES

CONTRACT = TABLES["responses"]
EARLIEST_DATE = dt.date(1900, 1, 1)
ID_LENGTH = 200
COMMENT_LENGTH = 20_000


NOT_A_DATE = "is not a date (expected YYYY-MM-DD or an ISO timestamp)"


def _when(value: Any) -> dt.date | dt.datetime:
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value) if len(value) <= 10 else dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date_parsing", NOT_A_DATE)


# A date, or a timestamp whose date counts: one field, one error message.
When = Annotated[dt.date | dt.datetime, PlainValidator(_when),
                 WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-03-01"]})]


class Answer(BaseModel):
    """One survey answer: NPS 0-10, CSAT 1-5 or CES 1-7, with the contract's optional fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "examples": [{"kind": "nps", "score": 3, "customer_id": "C-1042", "comment": "Late again.",
                      "touchpoint": "delivery", "department": "logistics"}]})

    kind: str = Field(description="nps, csat or ces (any case).")
    score: int = Field(description="NPS 0-10, CSAT 1-5, CES 1-7.")
    date: When | None = Field(
        None, description="YYYY-MM-DD or an ISO timestamp (its date in the service's time zone); default today.")
    customer_id: str | None = Field(None, max_length=ID_LENGTH)
    comment: str | None = Field(None, max_length=COMMENT_LENGTH)
    touchpoint: str | None = Field(None, max_length=ID_LENGTH)
    department: str | None = Field(None, max_length=ID_LENGTH)
    employee_id: str | None = Field(None, max_length=ID_LENGTH)

    @field_validator("customer_id", "comment", "touchpoint", "department", "employee_id", mode="after")
    @classmethod
    def _blank_is_missing(cls, value: str | None) -> str | None:
        # As in the loader: an empty text is a missing value.
        return value or None


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responses: list[Answer] = Field(description="The answers; all are stored, or none.")


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field of a request: shown as 'field value X: message'."""

    field: str
    value: Any
    message: str

    def to_dict(self) -> dict:
        shown = "" if self.value is None else f" value {self.value!r}"
        return {"field": self.field, "value": self.value, "message": f"{self.field}{shown}: {self.message}"}


def answer_row(answer: Answer, today: dt.date, zone: dt.tzinfo, prefix: str = "") -> tuple[dict, list[Problem]]:
    """The ``responses`` row of an answer and the contract rules it breaks (field names get ``prefix``)."""
    problems: list[Problem] = []
    kind = answer.kind.lower()
    kinds = CONTRACT.column("kind").choices
    if kind not in kinds:
        problems.append(Problem(f"{prefix}kind", answer.kind, f"is not one of {', '.join(kinds)}"))
    else:
        low, high = SCORE_RANGES[kind]
        if not low <= answer.score <= high:
            problems.append(Problem(f"{prefix}score", answer.score,
                                    f"is outside {low}–{high}, the range of {kind.upper()} scores"))
    day = _day(answer.date, zone) if answer.date is not None else today
    if day > today:
        problems.append(Problem(f"{prefix}date", str(answer.date), f"is after today, {today.isoformat()}"))
    elif day < EARLIEST_DATE:
        problems.append(Problem(f"{prefix}date", str(answer.date), "is before 1900, which is not plausible"))
    row = answer.model_dump(exclude={"date", "kind"}) | {"kind": kind, "date": day}
    return row, problems


def _day(value: dt.date | dt.datetime, zone: dt.tzinfo) -> dt.date:
    if isinstance(value, dt.datetime):
        # A timestamp with an offset counts in the service's time zone; a naive one is local already.
        return (value.astimezone(zone) if value.tzinfo else value).date()
    return value


PYDANTIC_MESSAGES = {
    "missing": "is missing (the field is required)",
    "extra_forbidden": f"is not a field of an answer (the fields are {', '.join(CONTRACT.column_names)})",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "int_type": "is not a whole number",
    "string_type": "is not a text",
    "string_too_long": "is too long",
    "date_parsing": NOT_A_DATE,
    "json_invalid": "is not valid JSON",
    "model_attributes_type": "is not a JSON object",
    "list_type": "is not a list",
}


def request_problems(errors: list[dict]) -> list[Problem]:
    """pydantic's validation errors of a request body as problems naming field and value."""
    problems: dict[str, Problem] = {}
    for error in errors:
        location = list(error.get("loc", ()))
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:]
        field = "".join(f"[{part}]" if isinstance(part, int) else (f".{part}" if i else str(part))
                        for i, part in enumerate(location)) or "body"
        if field in problems:
            continue
        value = error.get("input") if error["type"] not in ("missing", "json_invalid") else None
        if isinstance(value, (dict, list)):
            value = None
        message = PYDANTIC_MESSAGES.get(error["type"], error.get("msg", "is not valid"))
        problems[field] = Problem(field, value, message)
    return list(problems.values())
