"""The service's settings: command-line options first, then CUSTFOCUS_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from custfocus.errors import InputError

DEFAULT_DB = "sqlite:///custfocus.db"


class ServiceSettings(BaseSettings):
    """Everything `custfocus serve` can be told; each field is also read from ``CUSTFOCUS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CUSTFOCUS_", extra="ignore")

    db: str = Field(DEFAULT_DB, description="SQLAlchemy URL of the database (SQLite or PostgreSQL).")
    data: Path | None = Field(None, description="Company folder: valuable, at-risk customers get cases too.")
    time_zone: str = Field("UTC", description="Time zone of 'today' (answer dates, dashboard periods).")
    case_due_hours: int = Field(48, ge=1, description="Hours from a case's opening to its due date.")
    owners: dict[str, str] = Field(default_factory=dict,
                                   description="Case owner by department (JSON object); others go to default_owner.")
    default_owner: str = Field("customer-care", description="Owner of cases whose department has no owner.")
    webhook_url: str | None = Field(None, description="URL that receives a POST for every new case.")
    webhook_secret: str = Field("", description="HMAC-SHA256 key of the webhook signature.")
    cookie_secure: bool = Field(False, description="Send the session cookie over HTTPS only.")
    session_hours: int = Field(12, ge=1, description="Lifetime of a dashboard session.")
    auth_failures_allowed: int = Field(10, ge=1, description="Failed authentications per client and minute before 429.")
    max_batch: int = Field(1000, ge=1, description="Most answers in one batch request.")


def read_settings(**given) -> ServiceSettings:
    """Settings from the options ``given`` (None: not given), then CUSTFOCUS_* variables, then defaults."""
    try:
        return ServiceSettings(**{name: value for name, value in given.items() if value is not None})
    except ValidationError as failure:
        error = failure.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "settings"
        raise InputError(f"--{name.replace('_', '-')} / CUSTFOCUS_{name.upper()} value {error.get('input')!r}: "
                         f"{error['msg']}.") from None
