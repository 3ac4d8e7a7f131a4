"""Getting the service ready to run: database checked, value model fitted once when given data."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import OperationalError

from custfocus.errors import InputError
from custfocus.service.app import create_app
from custfocus.service.cases import valuable_at_risk
from custfocus.service.db import migrate, open_engine
from custfocus.service.settings import ServiceSettings


def prepare(settings: ServiceSettings, progress=None):
    """The application for ``settings``; migrates first so that a bad URL fails before serving."""
    step = progress or (lambda message: None)
    try:
        ZoneInfo(settings.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"CUSTFOCUS_TIME_ZONE '{settings.time_zone}' is not a known time zone "
                         "(use a name such as 'Europe/Berlin' or 'UTC').") from None
    step("Migrating the database")
    engine = open_engine(settings.db)
    try:
        migrate(engine)
    except OperationalError as failure:
        raise InputError(f"Cannot open the database {settings.db}: {str(failure.orig).strip()}") from None
    finally:
        engine.dispose()
    at_risk = {}
    if settings.data is not None:
        from custfocus.data.loading import load

        step(f"Loading {settings.data} for the value model")
        company = load(settings.data, progress=step)
        step("Fitting the value model")
        at_risk = valuable_at_risk(company)
    return create_app(settings, at_risk)
