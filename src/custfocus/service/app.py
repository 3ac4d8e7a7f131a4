"""The HTTP application: answers, exports, cases, the dashboard and its session, health.

Reads use pooled connections; every write goes through the one :class:`~custfocus.service.db.Writer`
and a request is answered only after the commit that holds its write.
"""

import asyncio
import datetime as dt
import hashlib
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from custfocus.service import schema
from custfocus.service.access import Client, FailureBrake, Keys
from custfocus.service.answers import (
    Answer,
    Batch,
    Problem,
    answer_row,
    request_problems,
)
from custfocus.service.cases import (
    CaseRuleBroken,
    CaseRules,
    case_detail,
    case_json,
    change_case,
)
from custfocus.service.dashboard import dashboard
from custfocus.service.db import Writer, as_utc, migrate, now, open_engine
from custfocus.service.settings import ServiceSettings
from custfocus.service.webhooks import Deliverer
from custfocus.stats import to_jsonable

HERE = Path(__file__).parent
SESSION_COOKIE = "custfocus_session"
API = "/api/v1"
# No inline script or style anywhere: a comment that slipped through escaping still could not run.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer (plain ASGI: Starlette's BaseHTTPMiddleware costs a task per request)."""

    def __init__(self, app):
        self.app = app
        self.headers = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class Stored(BaseModel):
    id: int = Field(description="The answer's id in the responses table.")
    case_id: int | None = Field(description="The follow-up case the answer opened, if any.")


class BatchStored(BaseModel):
    ids: list[int]
    case_ids: list[int | None]


class CaseChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["open", "in progress", "closed"] | None = None  # cases.STATES
    owner: str | None = Field(None, min_length=1, max_length=200)
    resolution: str | None = Field(None, max_length=20_000)
    note: str | None = Field(None, max_length=20_000)


@dataclass
class Outcome:
    status: int
    body: dict
    first_request_hash: str | None = None  # set when this is the stored result of an earlier request

    @property
    def replayed(self) -> bool:
        return self.first_request_hash is not None


class Service:
    """What the routes share: database, writer, keys, rules and settings."""

    def __init__(self, settings: ServiceSettings, at_risk: dict):
        self.settings = settings
        self.zone = ZoneInfo(settings.time_zone)
        self.engine = open_engine(settings.db)
        migrate(self.engine)
        self.writer = Writer(self.engine)
        self.keys = Keys(self.engine, settings.session_hours)
        self.brake = FailureBrake(settings.auth_failures_allowed)
        self.rules = CaseRules(settings.owners, settings.default_owner, settings.case_due_hours, at_risk)
        self.deliverer = (Deliverer(self.engine, self.writer, settings.webhook_url, settings.webhook_secret)
                          if settings.webhook_url else None)

    def today(self) -> dt.date:
        return dt.datetime.now(self.zone).date()

    def close(self) -> None:
        if self.deliverer:
            self.deliverer.stop()
        self.writer.close()
        self.engine.dispose()

    async def write(self, work):
        return await asyncio.wrap_future(self.writer.submit(work))


def problem_response(problems: list[Problem]) -> JSONResponse:
    return JSONResponse({"detail": [p.to_dict() for p in problems]}, status_code=422)


def create_app(settings: ServiceSettings | None = None, at_risk: dict | None = None) -> FastAPI:
    """The service as an ASGI application (``at_risk``: valuable at-risk customers by id)."""
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service = Service(settings, at_risk or {})
        app.state.service = service
        if service.deliverer:
            service.deliverer.start()
        try:
            yield
        finally:
            service.close()

    app = FastAPI(title="custfocus service", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Collects survey answers, opens follow-up cases, serves the live dashboard.")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    pages = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, failure: RequestValidationError):
        return problem_response(request_problems(failure.errors()))

    @app.exception_handler(DBAPIError)
    async def database_unavailable(request: Request, failure: DBAPIError):
        # Nothing was committed: a retry with the same Idempotency-Key is safe.
        return JSONResponse({"detail": "The database is unavailable; send the request again (with the same "
                                       "Idempotency-Key) in a moment."}, status_code=503, headers={"Retry-After": "1"})

    def service_of(request: Request) -> Service:
        return request.app.state.service

    async def authenticate(request: Request, scope: str, cookie_allowed: bool = False) -> Client:
        service = service_of(request)
        address = request.client.host if request.client else "unknown"
        wait = service.brake.retry_after(address)
        if wait:
            raise HTTPException(429, "Too many failed authentications; try again later.",
                                headers={"Retry-After": str(wait)})
        header = request.headers.get("authorization", "")
        client = None
        if header:
            kind, _, key = header.partition(" ")
            key = key.strip()
            if kind.lower() == "bearer":
                # A cached key costs no thread; a lookup in the database runs off the event loop.
                client = service.keys.cached(key) or await asyncio.to_thread(service.keys.client, key)
        elif cookie_allowed and request.cookies.get(SESSION_COOKIE):
            client = await asyncio.to_thread(service.keys.session_client, request.cookies[SESSION_COOKIE])
        else:
            raise HTTPException(401, "Authentication required: send 'Authorization: Bearer <key>'.",
                                headers={"WWW-Authenticate": "Bearer"})
        if client is None:
            service.brake.failed(address)
            raise HTTPException(401, "The key or session is not valid.", headers={"WWW-Authenticate": "Bearer"})
        if not client.may(scope):
            raise HTTPException(403, f"This key lacks the '{scope}' scope.")
        return client

    def needs(scope: str, cookie_allowed: bool = False):
        async def dependency(request: Request) -> Client:
            return await authenticate(request, scope, cookie_allowed)
        return dependency

    Submitter = Annotated[Client, Depends(needs("submit"))]
    Reader = Annotated[Client, Depends(needs("read", cookie_allowed=True))]
    Admin = Annotated[Client, Depends(needs("admin"))]
    IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                                  description="Retry-safe key: a repeat returns the first result.")]

    async def store(request: Request, client: Client, key: str | None, rows: list[dict], batch: bool) -> Response:
        service = service_of(request)
        request_hash = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()

        def work(connection) -> Outcome:
            if key is not None:
                first = _first_result(connection, client, key)
                if first is not None:
                    return first
            moment = now()
            ids, case_ids = [], []
            for row in rows:
                response_id = connection.execute(schema.INSERT_RESPONSE, row | {"received_at": moment}).scalar_one()
                ids.append(response_id)
                case_ids.append(service.rules.open_case(connection, response_id, row, moment))
            body = {"ids": ids, "case_ids": case_ids} if batch else {"id": ids[0], "case_id": case_ids[0]}
            if key is not None:
                connection.execute(schema.INSERT_IDEMPOTENCY, {
                    "api_key_id": client.key_id, "key": key, "request_hash": request_hash, "status": 201,
                    "body": body, "created_at": moment})
            return Outcome(201, body)

        try:
            outcome = await service.write(work)
        except IntegrityError:
            if key is None:
                raise
            # Another process stored the same key first; its result is committed now.
            with service.engine.connect() as connection:
                outcome = _first_result(connection, client, key)
        if outcome.replayed and outcome.first_request_hash != request_hash:
            return problem_response([Problem("Idempotency-Key", key, "was first used with a different request; "
                                             "use a new key for a new answer")])
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
        return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)

    def _first_result(connection, client: Client, key: str) -> Outcome | None:
        row = connection.execute(schema.FIRST_RESULT, {"client_key": client.key_id, "idempotency_key": key}).first()
        if row is None:
            return None
        return Outcome(row.status, dict(row.body), first_request_hash=row.request_hash)

    @app.post(f"{API}/responses", status_code=201, response_model=Stored, tags=["answers"],
              responses={422: {"description": "A field breaks the data contract (named with its value)."}})
    async def post_response(request: Request, answer: Answer, client: Submitter, key: IdempotencyKey = None):
        """Store one answer; 201 with its id once committed. Detractors with a customer_id open a case."""
        service = service_of(request)
        row, problems = answer_row(answer, service.today(), service.zone)
        if problems:
            return problem_response(problems)
        return await store(request, client, key, [row], batch=False)

    @app.post(f"{API}/responses/batch", status_code=201, response_model=BatchStored, tags=["answers"])
    async def post_batch(request: Request, batch: Batch, client: Submitter, key: IdempotencyKey = None):
        """Store many answers in one transaction: all of them, or none when any breaks the contract."""
        service = service_of(request)
        if not batch.responses or len(batch.responses) > service.settings.max_batch:
            return problem_response([Problem("responses", None, f"must hold 1 to {service.settings.max_batch} "
                                             f"answers, not {len(batch.responses)}")])
        rows, problems = [], []
        for index, answer in enumerate(batch.responses):
            row, wrong = answer_row(answer, service.today(), service.zone, prefix=f"responses[{index}].")
            rows.append(row)
            problems.extend(wrong)
        if problems:
            return problem_response(problems)
        return await store(request, client, key, rows, batch=True)

    @app.get(f"{API}/responses", tags=["answers"])
    def export_responses(request: Request, client: Reader,
                         after_id: Annotated[int, Query(ge=0, description="Last id of the previous page.")] = 0,
                         limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
                         since: dt.date | None = None, until: dt.date | None = None):
        """Answers in id order, a page at a time: pass ``next_after_id`` back as ``after_id``."""
        r = schema.responses.c
        query = select(schema.responses).where(r.id > after_id).order_by(r.id).limit(limit)
        if since:
            query = query.where(r.date >= since)
        if until:
            query = query.where(r.date <= until)
        with service_of(request).engine.connect() as connection:
            rows = [to_jsonable(dict(row._mapping) | {"received_at": as_utc(row.received_at)})
                    for row in connection.execute(query)]
        return {"responses": rows, "next_after_id": rows[-1]["id"] if len(rows) == limit else None}

    @app.get(f"{API}/cases", tags=["cases"])
    def list_cases(request: Request, client: Reader,
                   state: Annotated[Literal["open", "in progress", "closed"] | None, Query()] = None,
                   after_id: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
        """Cases in id order, a page at a time, optionally of one state."""
        c = schema.cases.c
        query = select(schema.cases).where(c.id > after_id).order_by(c.id).limit(limit)
        if state:
            query = query.where(c.state == state)
        with service_of(request).engine.connect() as connection:
            rows = [case_json(row) for row in connection.execute(query)]
        return {"cases": rows, "next_after_id": rows[-1]["id"] if len(rows) == limit else None}

    @app.get(f"{API}/cases/{{case_id}}", tags=["cases"])
    def get_case(request: Request, case_id: int, client: Reader):
        """One case with its history."""
        with service_of(request).engine.connect() as connection:
            case = case_detail(connection, case_id)
        if case is None:
            raise HTTPException(404, f"There is no case {case_id}.")
        return case

    @app.patch(f"{API}/cases/{{case_id}}", tags=["cases"])
    async def patch_case(request: Request, case_id: int, change: CaseChange, client: Admin):
        """Move a case (open, in progress, closed with a resolution), reassign it, or add a note."""
        changes = change.model_dump(exclude_unset=True)
        try:
            return await service_of(request).write(
                lambda connection: change_case(connection, case_id, changes, client.name, now()))
        except LookupError as missing:
            raise HTTPException(404, str(missing)) from None
        except CaseRuleBroken as broken:
            return problem_response([broken.problem])

    @app.get(f"{API}/dashboard", tags=["dashboard"])
    def dashboard_figures(request: Request, client: Reader):
        """Everything the dashboard shows, as JSON."""
        service = service_of(request)
        with service.engine.connect() as connection:
            return dashboard(connection, service.today())

    @app.get("/healthz", tags=["health"])
    def health(request: Request):
        """200 when the database answers; no authentication."""
        try:
            with service_of(request).engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001  (any failure to reach the database is unhealthy)
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request):
        token = request.cookies.get(SESSION_COOKIE)
        client = service_of(request).keys.session_client(token) if token else None
        if client is None or not client.may("read"):
            return HTMLResponse(pages.get_template("login.html").render(failed=False))
        return HTMLResponse(pages.get_template("dashboard.html").render(key_name=client.name))

    @app.post("/session", include_in_schema=False)
    async def open_session(request: Request):
        """The dashboard's sign-in: a key with the read scope, once; a session cookie afterwards."""
        service = service_of(request)
        address = request.client.host if request.client else "unknown"
        wait = service.brake.retry_after(address)
        if wait:
            return HTMLResponse(pages.get_template("login.html").render(failed="Too many failed attempts; wait a "
                                "minute."), status_code=429, headers={"Retry-After": str(wait)})
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        key = (form.get("key") or [""])[0].strip()
        client = service.keys.client(key) if key else None
        if client is None or not client.may("read"):
            service.brake.failed(address)
            return HTMLResponse(pages.get_template("login.html").render(failed="That key is not valid for the "
                                "dashboard (it needs the read scope)."), status_code=401)
        token = await asyncio.to_thread(service.keys.open_session, client, service.writer.run)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, max_age=service.settings.session_hours * 3600, httponly=True,
                            samesite="strict", secure=service.settings.cookie_secure, path="/")
        return response

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)  # no icon; an empty answer keeps browsers from logging a 404

    @app.post("/logout", include_in_schema=False)
    def logout():
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return app

