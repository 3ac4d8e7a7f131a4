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

import stat
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from custfocus.data.contract import TABLES
from custfocus.errors import InputError

SETTINGS_FILE = "custfocus.toml"
VOICE_FILE = "voice.toml"  # a company's pinned comment themes, read by custfocus.voice
ASSESSMENT_FILE = "assessment.toml"  # the customer-focus self-assessment, read by custfocus.maturity
MIN_GROUP_SIZE = 5  # employee answers are shown only for groups of at least this many people
LOWEST_MIN_GROUP_SIZE = 3  # below this a group's answers identify a person
COMPANY_KEYS = ("name", "currency", "as_of", "time_zone")
EARLIEST_AS_OF = date(1900, 1, 1)
MAX_SETTINGS_BYTES = 1_000_000  # settings are written by hand; a larger file is a mistake or an attack


@dataclass(frozen=True)
class Settings:
    name: str = "company"
    currency: str = "EUR"
    as_of: date | None = None
    time_zone: str = "UTC"
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    min_group_size: int = MIN_GROUP_SIZE
    # The voice settings as written ([voice] of custfocus.toml, or voice.toml) and the file they came from.
    voice: dict = field(default_factory=dict)
    voice_source: str | None = None


def read_settings(folder: Path | None) -> Settings:
    if folder is None:
        return Settings()
    path = folder / SETTINGS_FILE
    if not path.exists() and not path.is_symlink():
        voice, voice_source = _voice_settings(folder, {}, path)
        return Settings(name=folder.name, voice=voice, voice_source=voice_source)
    raw = read_toml(path)
    voice, voice_source = _voice_settings(folder, raw, path)
    return replace(_settings_from(raw, path, folder.name), voice=voice, voice_source=voice_source)


def _voice_settings(folder: Path, raw: dict, path: Path) -> tuple[dict, str | None]:
    """A voice.toml in the folder, else custfocus.toml's [voice]; both at once would be ambiguous."""
    voice_path = folder / VOICE_FILE
    if voice_path.exists():
        if "voice" in raw:
            raise InputError(f"Both {voice_path} and the [voice] section of {path} set the voice themes; "
                             "keep one of them.")
        return read_toml(voice_path), str(voice_path)
    if "voice" in raw:
        return _section(raw, "voice", path), f"{path} [voice]"
    return {}, None


class SettingsFileError(InputError):
    """A settings file that cannot be read as TOML; ``reason`` is what follows the file's name."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path} {reason}")
        self.path, self.reason = path, reason


def read_toml(path: Path) -> dict:
    """A TOML file (the settings, the self-assessment) as a dict; a problem is one sentence naming it."""
    try:
        if path.is_dir():
            raise SettingsFileError(path, "is a folder; it must be a TOML file of that name.")
        # A pipe would wait for a writer and a device (a link to /dev/zero) never end: only a plain file is read.
        if not stat.S_ISREG(path.stat().st_mode):
            raise SettingsFileError(path, "is not a plain file; it must be a TOML file of that name.")
        with path.open("rb") as file:
            text = file.read(MAX_SETTINGS_BYTES + 1)
    except OSError as err:
        raise SettingsFileError(path, f"cannot be read: {err.strerror or err}.") from None
    if len(text) > MAX_SETTINGS_BYTES:
        raise SettingsFileError(path, f"is larger than {MAX_SETTINGS_BYTES // 1_000_000} MB; a settings file is "
                                      "a few lines of TOML.")
    try:
        # utf-8-sig: editors on Windows put a byte-order mark at the start; it is not part of the text.
        return tomllib.loads(text.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise SettingsFileError(path, f"is not UTF-8 text (byte 0x{text[err.start]:02X} at position "
                                      f"{err.start + 1}).") from None
    except tomllib.TOMLDecodeError as err:
        raise SettingsFileError(path, f"is not valid TOML: {err}.") from None
    except RecursionError:
        raise SettingsFileError(path, "is not valid TOML: its arrays or tables nest too deeply.") from None


def _settings_from(raw: dict, path: Path, default_name: str) -> Settings:
    unknown = sorted(set(raw) - {"company", "columns", "privacy", "voice"})
    if unknown:
        raise InputError(f"{path}: unknown section(s) {', '.join(unknown)}; expected [company], "
                         "[columns.<table>], [privacy] and [voice].")
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
                    columns=_columns(raw, path), min_group_size=_min_group_size(path, _section(raw, "privacy", path)))


def _section(raw: dict, key: str, path: Path) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"{path}: {key} must be a section ([{key}] followed by its keys), "
                         f"not a single value {value!r}.")
    return value


def _as_of(value, path: Path) -> date | None:
    if value is None:
        return None
    try:
        return toml_day(value)
    except ValueError as err:
        written = value.isoformat() if isinstance(value, date) else repr(value[:40] if isinstance(value, str) else value)
        raise InputError(f"{path}: as_of {written} {err}") from None


def toml_day(value) -> date:
    """A day written in a settings file, as a TOML date (2026-09-30) or text ("2026-09-30"), from 1900
    to today. A ValueError says what is wrong, worded to follow the value."""
    if isinstance(value, datetime):  # a TOML date-time is a datetime, which is also a date
        raise ValueError("has a time of day; give a date such as 2026-09-30.")
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("is not a date (use YYYY-MM-DD).") from None
    if not isinstance(value, date):
        raise ValueError("must be a date such as 2026-09-30.")
    return _plausible_day(value)


def check_as_of(value: date, where: str) -> date:
    """An analysis date must be a real day of the past (or today): data from the future is an error."""
    try:
        return _plausible_day(value)
    except ValueError as err:
        raise InputError(f"{where}: as_of {value.isoformat()} {err}") from None


def _plausible_day(value: date) -> date:
    if value < EARLIEST_AS_OF or value > date.today():
        raise ValueError(f"is not plausible; it must lie between {EARLIEST_AS_OF.isoformat()} and today "
                         f"({date.today().isoformat()}).")
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


def _min_group_size(path: Path, privacy: dict) -> int:
    unknown = sorted(set(privacy) - {"min_group_size"})
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(unknown)} in [privacy]; the key is min_group_size.")
    size = privacy.get("min_group_size", MIN_GROUP_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < LOWEST_MIN_GROUP_SIZE:
        raise InputError(f"{path}: [privacy] min_group_size must be a whole number of at least "
                         f"{LOWEST_MIN_GROUP_SIZE}, got {size!r}.")
    return size
