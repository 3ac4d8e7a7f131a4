"""A company's settings from ``custfocus.toml``: name, currency, as_of, time zone, column mapping.

```toml
[company]
name = "Acme"
currency = "EUR"
as_of = "2026-09-30"      # the analysis date; dates after it are errors
time_zone = "Europe/Berlin"  # timestamps are turned into dates in this zone

[columns.transactions]
customer_id = "CustID"    # contract name = the file's column name
```

Anything else in the file is an error named by its key: a setting that is silently ignored is a
setting the user believes in and does not have.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from custfocus.data.contract import TABLES
from custfocus.errors import InputError

SETTINGS_FILE = "custfocus.toml"
COMPANY_KEYS = ("name", "currency", "as_of", "time_zone")
EARLIEST_AS_OF = date(1900, 1, 1)


@dataclass(frozen=True)
class Settings:
    name: str = "company"
    currency: str = "EUR"
    as_of: date | None = None
    time_zone: str = "UTC"
    columns: dict[str, dict[str, str]] = field(default_factory=dict)


def read_settings(folder: Path | None) -> Settings:
    if folder is None:
        return Settings()
    path = folder / SETTINGS_FILE
    try:
        if not path.exists() and not path.is_symlink():
            return Settings(name=folder.name)
        if path.is_dir():
            raise InputError(f"{path} is a folder; the settings must be a TOML file of that name.")
        text = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path} cannot be read: {err.strerror or err}.") from None
    try:
        # utf-8-sig: editors on Windows put a byte-order mark at the start; it is not part of the text.
        raw = tomllib.loads(text.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise InputError(f"{path} is not UTF-8 text (byte 0x{text[err.start]:02X} at position {err.start + 1}).") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path} is not valid TOML: {err}.") from None
    return _settings_from(raw, path, folder.name)


def _settings_from(raw: dict, path: Path, default_name: str) -> Settings:
    unknown = sorted(set(raw) - {"company", "columns"})
    if unknown:
        raise InputError(f"{path}: unknown section(s) {', '.join(unknown)}; expected [company] and "
                         "[columns.<table>].")
    company = _section(raw, "company", path)
    unknown = sorted(set(company) - set(COMPANY_KEYS))
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(unknown)} in [company]; the keys are "
                         f"{', '.join(COMPANY_KEYS)}.")
    for key in ("name", "currency", "time_zone"):
        if key in company and (not isinstance(company[key], str) or not company[key].strip()):
            raise InputError(f"{path}: [company] {key} must be text in quotes, got {company[key]!r}.")
    currency = company.get("currency", "EUR").strip()
    if len(currency) > 10:
        raise InputError(f"{path}: [company] currency {currency[:40]!r} is not a currency code such as EUR.")
    time_zone = company.get("time_zone", "UTC").strip()
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{path}: time_zone {time_zone[:60]!r} is not a known time zone "
                         "(use a name such as 'Europe/Berlin' or 'UTC').") from None
    return Settings(name=company.get("name", default_name).strip(), currency=currency,
                    as_of=_as_of(company.get("as_of"), path), time_zone=time_zone,
                    columns=_columns(raw, path))


def _section(raw: dict, key: str, path: Path) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"{path}: {key} must be a section ([{key}] followed by its keys), "
                         f"not a single value {value!r}.")
    return value


def _as_of(value, path: Path) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):  # a TOML date-time is a datetime, which is also a date
        raise InputError(f"{path}: as_of {value.isoformat()} has a time of day; give a date such as 2026-09-30.")
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"{path}: as_of {value[:40]!r} is not a date (use YYYY-MM-DD).") from None
    if not isinstance(value, date):
        raise InputError(f"{path}: as_of must be a date such as 2026-09-30, got {value!r}.")
    return check_as_of(value, str(path))


def check_as_of(value: date, where: str) -> date:
    """An analysis date must be a real day of the past (or today): data from the future is an error."""
    if value < EARLIEST_AS_OF or value > date.today():
        raise InputError(f"{where}: as_of {value.isoformat()} is not plausible; it must lie between "
                         f"{EARLIEST_AS_OF.isoformat()} and today ({date.today().isoformat()}).")
    return value


def _columns(raw: dict, path: Path) -> dict[str, dict[str, str]]:
    columns = _section(raw, "columns", path)
    for table, mapping in columns.items():
        if table not in TABLES:
            raise InputError(f"{path}: [columns.{table}] names no table of the contract "
                             f"({', '.join(TABLES)}).")
        if not isinstance(mapping, dict):
            raise InputError(f"{path}: columns.{table} must be a section ([columns.{table}] followed by "
                             f"contract_name = \"file column\" lines), not {mapping!r}.")
        for contract_name, file_name in mapping.items():
            if contract_name not in TABLES[table].column_names:
                raise InputError(
                    f"{path}: [columns.{table}] maps '{contract_name}', which is not a column of "
                    f"{table} ({', '.join(TABLES[table].column_names)}).")
            if not isinstance(file_name, str):
                raise InputError(f"{path}: [columns.{table}] {contract_name} must be a column name in quotes.")
    return columns
