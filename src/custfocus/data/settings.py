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
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from custfocus.data.contract import TABLES
from custfocus.errors import InputError

SETTINGS_FILE = "custfocus.toml"
VOICE_FILE = "voice.toml"  # a company's pinned comment themes, read by custfocus.voice


@dataclass(frozen=True)
class Settings:
    name: str = "company"
    currency: str = "EUR"
    as_of: date | None = None
    time_zone: str = "UTC"
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    # The voice settings as written ([voice] of custfocus.toml, or voice.toml) and the file they came from.
    voice: dict = field(default_factory=dict)
    voice_source: str | None = None


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise InputError(f"{path} is not valid UTF-8 text (byte {err.start}).") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path} is not valid TOML: {err}.") from None


def _voice_settings(folder: Path | None, raw: dict, path: Path | None) -> tuple[dict, str | None]:
    """A voice.toml in the folder, else custfocus.toml's [voice]; both at once would be ambiguous."""
    voice_path = folder / VOICE_FILE if folder else None
    if voice_path is not None and voice_path.exists():
        if "voice" in raw:
            raise InputError(f"Both {voice_path} and the [voice] section of {path} set the voice themes; "
                             "keep one of them.")
        return _read_toml(voice_path), str(voice_path)
    if "voice" in raw:
        return raw["voice"], f"{path} [voice]"
    return {}, None


def read_settings(folder: Path | None) -> Settings:
    path = folder / SETTINGS_FILE if folder else None
    if path is None or not path.exists():
        voice, voice_source = _voice_settings(folder, {}, path)
        return Settings(name=folder.name if folder else "company", voice=voice, voice_source=voice_source)
    raw = _read_toml(path)
    company = raw.get("company", {})
    unknown = set(raw) - {"company", "columns", "voice"}
    if unknown:
        raise InputError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; "
                         "expected [company], [columns.<table>] and [voice].")
    as_of = company.get("as_of")
    if isinstance(as_of, str):
        try:
            as_of = date.fromisoformat(as_of)
        except ValueError:
            raise InputError(f"{path}: as_of '{as_of}' is not a date (use YYYY-MM-DD).") from None
    elif as_of is not None and not isinstance(as_of, date):
        raise InputError(f"{path}: as_of must be a date such as 2026-09-30, got {as_of!r}.")
    voice, voice_source = _voice_settings(folder, raw, path)
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
        currency=str(company.get("currency", "EUR")),
        as_of=as_of,
        time_zone=str(company.get("time_zone", "UTC")),
        columns=columns,
        voice=voice,
        voice_source=voice_source,
    )
