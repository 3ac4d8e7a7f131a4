"""The service: collects survey answers over HTTP, opens follow-up cases, serves the live dashboard.

>>> from custfocus import service
>>> key = service.create_key("sqlite:///custfocus.db", ["submit"])      # doctest: +SKIP
>>> service.serve(service.ServiceSettings(db="sqlite:///custfocus.db"))  # doctest: +SKIP
"""

from custfocus.service.access import SCOPES, create_key
from custfocus.service.settings import ServiceSettings, read_settings

__all__ = ["SCOPES", "ServiceSettings", "create_app", "create_key", "fill_from_demo", "read_settings", "serve"]


def create_app(settings=None, at_risk=None):
    """The ASGI application (FastAPI loads on first use)."""
    from custfocus.service.app import create_app as build

    return build(settings, at_risk)


def serve(settings: ServiceSettings, host: str = "127.0.0.1", port: int = 8000, progress=None) -> None:
    """Run the service until interrupted: one process, whose writes go through one writer thread."""
    import uvicorn

    from custfocus.service.run import prepare

    step = progress or (lambda message: None)
    app = prepare(settings, step)
    step(f"Serving on http://{host}:{port}/ (database {settings.db}); Ctrl+C stops.")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def fill_from_demo(db: str, tables, *, case_days: int = 7, progress=None) -> dict:
    """Store the demo company's survey answers in the service database at ``db`` (see :mod:`.seed`)."""
    from custfocus.service.seed import fill_from_demo as fill

    return fill(db, tables, case_days=case_days, progress=progress)
