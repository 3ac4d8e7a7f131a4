"""Validation of a company's tables against the contract, as Ibis expressions on the loader.

Every row of every table ends up either *used* or *rejected with a reason*; the counts add up
(read = used + rejected). Each problem names the table, the data row (counted from 1 after the
header), the column and the value.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt

from custfocus.data.contract import SCORE_RANGES, Column, Table

# Problems listed one by one per table; beyond this they are counted by kind.
LISTED_PROBLEMS_PER_TABLE = 10_000
QUOTED_LIMIT = 60  # characters of a value quoted in a problem
EARLIEST_PLAUSIBLE_DATE = date(1900, 1, 1)
LATEST_PLAUSIBLE_DATE = date(2199, 12, 31)
# No amount, cost or duration a company records is this large; beyond it a value is a typo or an
# attack (1e308 passes as a float and then overflows every model).
PLAUSIBLE_MAGNITUDE = 1e9
# Spreadsheet and database exports write these for "no value"; as an id they would become a customer.
MISSING_TOKENS = ("null", "none", "nil", "n/a", "na", "#n/a", "nan", "-", "--", "?", "(null)", "(blank)")
# The usual spellings of each, matched exactly (a value with blanks at its edges is trimmed, then matched in lower case).
MISSING_STRINGS = sorted({"", "NaN", *MISSING_TOKENS, *(t.upper() for t in MISSING_TOKENS), *(t.title() for t in MISSING_TOKENS)})


@dataclass(frozen=True)
class Problem:
    table: str
    row: int | None  # data row from 1, after the header; None when the whole table is affected
    column: str | None
    value: str | None
    message: str

    def sentence(self) -> str:
        where = self.table
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        value = f" value {_quote(self.value)}:" if self.value is not None else ""
        return f"{where}:{value} {self.message}"

    def to_dict(self) -> dict:
        return {"table": self.table, "row": self.row, "column": self.column, "value": self.value,
                "message": self.message}


@dataclass(frozen=True)
class FileProblem:
    """A problem in a settings file read beside the tables (assessment.toml): the file, the key with
    its value (no key: the whole file), and what is wrong, worded to follow them."""

    file: str
    key: str | None
    value: str | None
    message: str

    @classmethod
    def at(cls, file, section: str | None, name: str | None, value, message: str) -> FileProblem:
        """The problem of key ``name`` of ``[section]`` (either may be None) holding the TOML ``value``."""
        key = " ".join(part for part in (section and f"[{_name_shown(section)}]", name and _name_shown(name)) if part)
        return cls(str(file), key, None if value is None else _toml_shown(value), message)

    def sentence(self) -> str:
        if self.key is None:
            return f"{self.file} {self.message}"
        value = f" = {self.value}" if self.value is not None else ""
        return f"{self.file}: {self.key}{value} {self.message}"

    def to_dict(self) -> dict:
        return {"file": self.file, "key": self.key, "value": self.value, "message": self.message}


def _name_shown(name: str) -> str:
    # A quoted TOML key may hold anything, a terminal's escape codes too: only plain names go out as they are.
    return name if re.fullmatch(r"[A-Za-z0-9_.\-]+", name) else _quote(name)


def _toml_shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, str):
        return _quote(value)
    text = value.isoformat() if isinstance(value, date | time) else repr(value)  # repr escapes what a list holds
    return text if len(text) <= QUOTED_LIMIT else text[: QUOTED_LIMIT - 1] + "…"


def _quote(value: str, limit: int = QUOTED_LIMIT) -> str:
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(text)


@dataclass
class TableLoad:
    """What happened to one table: rows read, used and rejected, and why."""

    table: str
    source: str
    read: int = 0
    used: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_counts: Counter = field(default_factory=Counter)  # (column, kind) -> rows
    skipped_reason: str | None = None  # the whole table could not be used
    rejected_path: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def problem_total(self) -> int:
        return sum(self.problem_counts.values())

    def to_dict(self) -> dict:
        return {
            "table": self.table, "source": self.source, "read": self.read, "used": self.used,
            "rejected": self.rejected, "skipped_reason": self.skipped_reason,
            "rejected_file": self.rejected_path, "notes": self.notes,
            "problem_counts": [{"column": c, "problem": k, "rows": n}
                               for (c, k), n in sorted(self.problem_counts.items(), key=str)],
        }


@dataclass
class LoadReport:
    tables: dict[str, TableLoad]
    as_of: date
    on_error: str
    notes: list[str] = field(default_factory=list)  # about the folder: unknown files, as_of source
    # Settings files beside the tables checked by validate (assessment.toml), and their problems.
    checked_files: list[str] = field(default_factory=list)
    files: list[FileProblem] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for t in self.tables.values() for p in t.problems]

    @property
    def table_problem_total(self) -> int:
        return sum(t.problem_total for t in self.tables.values())

    @property
    def problem_total(self) -> int:
        return self.table_problem_total + len(self.files)

    @property
    def ok(self) -> bool:
        return self.problem_total == 0

    def summary_sentence(self) -> str:
        if self.ok:
            return "All tables are valid."
        affected = [t.table for t in self.tables.values() if t.problem_total]
        affected += sorted({Path(p.file).name for p in self.files})
        return (f"Found {self.problem_total:,} problem(s) in {', '.join(affected)}; "
                "run 'custfocus validate' to list them, or use --on-error quarantine to set the "
                "bad rows aside and go on.")

    def to_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(), "on_error": self.on_error, "notes": self.notes,
            "tables": {k: t.to_dict() for k, t in self.tables.items()},
            "problems": [p.to_dict() for p in self.problems],
            "checked_files": self.checked_files, "file_problems": [p.to_dict() for p in self.files],
        }


@dataclass(frozen=True)
class Check:
    """One rule on one column: ``flag`` is true on rows that break it."""

    column: str
    kind: str  # short stable id: "not a number", "missing", ...
    flag: ibis.BooleanValue
    message: str  # shown in validate's list and in the rejected file's reason


def normalise_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def resolve_columns(spec: Table, file_columns: list[str], mapping: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Match contract columns to the file's columns: ``{contract_name: file_name}`` and problems.

    A column matches when the names agree ignoring case, spaces and hyphens, or when
    ``custfocus.toml`` maps it.
    """
    by_normal = {normalise_name(c): c for c in file_columns if not c.startswith("_")}
    found: dict[str, str] = {}
    problems: list[str] = []
    for col in spec.columns:
        if col.name in mapping:
            if mapping[col.name] in file_columns:
                found[col.name] = mapping[col.name]
            else:
                problems.append(f"custfocus.toml maps {col.name} to column '{mapping[col.name]}', "
                                f"which the file does not have (it has: {', '.join(file_columns)})")
        elif col.name in by_normal:
            found[col.name] = by_normal[col.name]
        elif col.required:
            taken = set(found.values()) | set(mapping.values())
            candidates = [c for c in by_normal if by_normal[c] not in taken]
            close = difflib.get_close_matches(col.name, candidates, n=1, cutoff=0.5)
            hint = (f"; did you mean '{by_normal[close[0]]}'? Map it in custfocus.toml: "
                    f"[columns.{spec.name}] {col.name} = \"{by_normal[close[0]]}\"") if close else ""
            shown = ", ".join(c for c in file_columns if not c.startswith("_")) or "none"
            problems.append(f"required column '{col.name}' is missing (the file has: {shown}){hint}")
    return found, problems


# The tokens as one anchored pattern: a single literal in the SQL (a list of forty literals per
# column made the statements tens of kilobytes, and compiling them cost more than running them;
# DuckDB also plans an IN list of this length as a join per column).
_TOKEN_PATTERN = "^(?:" + "|".join(re.escape(t) for t in MISSING_STRINGS) + ")$"
_LOWER_TOKEN_PATTERN = "^(?:" + "|".join(re.escape(t) for t in ("", *MISSING_TOKENS)) + ")$"
_LONGEST_TOKEN = max(map(len, MISSING_STRINGS))


def _clean_text(raw: ibis.Value) -> ibis.StringValue:
    text = raw.cast("string").strip()
    missing = text.lower().re_search(_LOWER_TOKEN_PATTERN)
    return ibis.ifelse(missing, ibis.null("string"), text)


# A column is typed in three steps, each one a projection of the one before, so that the engine
# computes every intermediate once per row (written as one expression, the SQL repeats them
# many times over and a date column costs tens of microseconds a row).

def clean_value(raw: ibis.Value, col: Column) -> ibis.Value:
    """Step 1: text trimmed, with the export tokens for "no value" made missing. Columns that arrive
    typed (Parquet, data frames) are taken as they are: no string parsing.

    Trimming, lower-casing and matching every value costs more than reading it, so only the values a
    cheap test says cleaning may change get them: the values with blanks at their edges are trimmed
    and lower-cased, the others compared with the usual spellings of the tokens as they are.
    """
    if not raw.type().is_string():
        return raw
    edges = raw.startswith(" ") | raw.endswith(" ") | raw.startswith("\t") | raw.endswith("\t")
    # Only a short value can be a token: the length test is far cheaper than the pattern.
    token = ibis.ifelse(raw.length() <= _LONGEST_TOKEN, raw.re_search(_TOKEN_PATTERN), False)
    as_is = ibis.ifelse(token, ibis.null("string"), raw)
    text = ibis.ifelse(may_change(raw), ibis.ifelse(edges, _clean_text(raw), as_is), raw)
    return text.lower() if col.type == "category" else text


def may_change(raw: ibis.StringValue) -> ibis.BooleanValue:
    """A cheap test, true for every value that cleaning can change, that lets the dearer ones run on
    few rows: byte-wise comparisons of the value with the first characters of the tokens and of
    leading blanks (the empty value, tab, space, "#", "(" and "-" sort before "."; then "?", "N" and
    "n"), and a look at its last character. Digits, and so numbers and dates, pass untested."""
    return ((raw < ".") | ((raw >= "?") & (raw < "@")) | ((raw >= "N") & (raw < "O")) | ((raw >= "n") & (raw < "o"))
            | raw.endswith(" ") | raw.endswith("\t"))


def parsed_value(clean: ibis.Value, col: Column) -> ibis.Value:
    """Step 2: the value in the column's type, missing where the text does not parse."""
    ctype = clean.type()
    if col.type in ("id", "text", "category"):
        return clean if ctype.is_string() else clean.cast("string")
    if col.type in ("number", "integer"):
        return clean.cast("float64") if ctype.is_numeric() else clean.try_cast("float64")
    if col.type == "date":
        if ctype.is_date():
            return clean
        if ctype.is_timestamp():
            return clean.cast(dt.Timestamp(timezone="UTC")).date() if ctype.timezone else clean.date()
        # Naive timestamps are read in the session's time zone (the company's), then made dates. A
        # bare date is taken as it is; anything longer is a timestamp whose offset counts.
        text = clean.cast("string")
        parsed = ibis.ifelse(text.length() > 10, text.try_cast(dt.Timestamp(timezone="UTC")).date(),
                             text.try_cast("date"))
        # Spark reads a signed year (+002024-01-01) as a date; DuckDB does not, and neither is YYYY-MM-DD.
        return ibis.ifelse(text.startswith("+"), ibis.null("date"), parsed)
    raise ValueError(f"unknown column type {col.type}")


def typed_value(parsed: ibis.Value, clean: ibis.Value, col: Column) -> tuple[ibis.Value, ibis.BooleanValue | None, str]:
    """Step 3: the value kept, the flag of values that did not parse or are not plausible, its message."""
    if col.type in ("id", "text", "category"):
        return parsed, None, ""
    unparsed = clean.notnull() & parsed.isnull()
    if col.type in ("number", "integer"):
        # NaN and infinity fail the magnitude test too (NaN compares false), so they are flagged here.
        bad = unparsed | (parsed.notnull() & ~(parsed.abs() <= PLAUSIBLE_MAGNITUDE))
        if col.type == "integer":
            bad = bad | (parsed.notnull() & (parsed % 1 != 0))  # floor() would cast to an integer first
            return (ibis.ifelse(bad, ibis.null("int64"), parsed.try_cast("int64")), bad,
                    f"is not a whole number (or is implausibly large, beyond ±{PLAUSIBLE_MAGNITUDE:,.0f})")
        return (ibis.ifelse(bad, ibis.null("float64"), parsed), bad,
                f"is not a number (or is implausibly large, beyond ±{PLAUSIBLE_MAGNITUDE:,.0f})")
    # Year 20255 is a valid date to DuckDB and an overflow to everything after it.
    bad = unparsed | (parsed.notnull() & ((parsed < EARLIEST_PLAUSIBLE_DATE) | (parsed > LATEST_PLAUSIBLE_DATE)))
    return (ibis.ifelse(bad, ibis.null("date"), parsed), bad,
            f"is not a date (expected YYYY-MM-DD or an ISO timestamp, from {EARLIEST_PLAUSIBLE_DATE.year} "
            f"to {LATEST_PLAUSIBLE_DATE.year})")


def column_checks(spec: Table, typed: dict[str, ibis.Value], clean: dict[str, ibis.Value],
                  unparsed: dict[str, tuple[ibis.BooleanValue, str]]) -> list[Check]:
    """The row rules of a table that concern single columns (types, ranges, categories); the rules that
    need the analysis date are :func:`as_of_checks`."""
    checks: list[Check] = []
    for col in spec.columns:
        if col.name not in typed:
            continue
        value = typed[col.name]
        if col.name in unparsed:
            flag, message = unparsed[col.name]
            checks.append(Check(col.name, message, flag, message))
        if col.required:
            checks.append(Check(col.name, "missing", clean[col.name].isnull(), "is missing (the column is required)"))
        if col.min is not None:
            checks.append(Check(col.name, f"below {col.min:g}", value < col.min, f"is below {col.min:g}"))
        if col.max is not None:
            checks.append(Check(col.name, f"above {col.max:g}", value > col.max, f"is above {col.max:g}"))
        if col.choices:
            checks.append(Check(col.name, "not allowed", value.notnull() & ~value.isin(col.choices),
                                f"is not one of {', '.join(col.choices)}"))
    if spec.name == "responses" and {"score", "kind"} <= typed.keys():
        for kind, (low, high) in SCORE_RANGES.items():
            outside = (typed["kind"] == kind) & ((typed["score"] < low) | (typed["score"] > high))
            checks.append(Check("score", f"{kind} outside {low}-{high}", outside,
                                f"is outside {low}–{high}, the range of {kind.upper()} scores"))
    return checks


def as_of_checks(spec: Table, typed: dict[str, ibis.Value], as_of: date) -> list[Check]:
    """Dates after the analysis date: they are known only once every table's dates are."""
    return [Check(col.name, "after as_of", typed[col.name] > as_of,
                  f"is after the analysis date as_of {as_of.isoformat()}")
            for col in spec.columns if col.type == "date" and col.not_future and col.name in typed]


def suggest_table(file_stem: str, table_names) -> str | None:
    close = difflib.get_close_matches(file_stem.lower(), list(table_names), n=1, cutoff=0.6)
    return close[0] if close else None
