"""A company's settings from ``custfocus.toml``: name, currency, as_of, time zone, column mapping.

```toml
[company]
name = "Acme"
currency = "EUR"
as_of = "2026-09-30"      # the analysis date; dates after it are errors
time_zone = "Europe/Berlin"  # timestamps are turned into dates in this zone

[columns.transactions]
customer_id = "CustID"    # contract name = the file's column name

[privacy]
min_group_size = 5        # employee answers are shown only for groups of at least this many people (3 or more)
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from custfocus.data.contract import TABLES
from custfocus.errors import InputError

SETTINGS_FILE = "custfocus.toml"
ASSESSMENT_FILE = "assessment.toml"  # the customer-focus self-assessment, read by custfocus.maturity
MIN_GROUP_SIZE = 5  # employee answers are shown only for groups of at least this many people
LOWEST_MIN_GROUP_SIZE = 3  # below this a group's answers identify a person


@dataclass(frozen=True)
class Settings:
    name: str = "company"
    currency: str = "EUR"
    as_of: date | None = None
    time_zone: str = "UTC"
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    min_group_size: int = MIN_GROUP_SIZE


def read_toml(path: Path) -> dict:
    """A TOML file as a dict; a problem is one sentence naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise InputError(f"{path} is not valid UTF-8 text (byte {err.start}).") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path} is not valid TOML: {err}.") from None


def read_settings(folder: Path | None) -> Settings:
    path = folder / SETTINGS_FILE if folder else None
    if path is None or not path.exists():
        return Settings(name=folder.name if folder else "company")
    raw = read_toml(path)
    company = raw.get("company", {})
    unknown = set(raw) - {"company", "columns", "privacy"}
    if unknown:
        raise InputError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; "
                         "expected [company], [columns.<table>] and [privacy].")
    as_of = company.get("as_of")
    if isinstance(as_of, str):
        try:
            as_of = date.fromisoformat(as_of)
        except ValueError:
            raise InputError(f"{path}: as_of '{as_of}' is not a date (use YYYY-MM-DD).") from None
    elif as_of is not None and not isinstance(as_of, date):
        raise InputError(f"{path}: as_of must be a date such as 2026-09-30, got {as_of!r}.")
    columns = raw.get("columns", {})
    for table, mapping in columns.items():
        if table not in TABLES:
            raise InputError(f"{path}: [columns.{table}] names no table of the contract "
                             f"({', '.join(TABLES)}).")
        for contract_name, file_name in mapping.items():
            if contract_name not in TABLES[table].column_names:
                raise InputError(
                    f"{path}: [columns.{table}] maps '{contract_name}', which is not a column of "
                    f"{table} ({', '.join(TABLES[table].column_names)}).")
            if not isinstance(file_name, str):
                raise InputError(f"{path}: [columns.{table}] {contract_name} must be a column name in quotes.")
    return Settings(
        name=str(company.get("name", folder.name)),
        min_group_size=_min_group_size(path, raw.get("privacy", {})),
        currency=str(company.get("currency", "EUR")),
        as_of=as_of,
        time_zone=str(company.get("time_zone", "UTC")),
        columns=columns,
    )


def _min_group_size(path: Path, privacy: dict) -> int:
    size = privacy.get("min_group_size", MIN_GROUP_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < LOWEST_MIN_GROUP_SIZE:
        raise InputError(f"{path}: [privacy] min_group_size must be a whole number of at least "
                         f"{LOWEST_MIN_GROUP_SIZE}, got {size!r}.")
    return size
