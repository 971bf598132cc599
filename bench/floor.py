"""The floor: a minimal FastAPI app that answers lms_api's three hot reads with the same SQL.

`make bench-api` serves it with the very same uvicorn command as lms_api (same workers, same
settings from the same `APRANOVA_*` variables) and measures it with the same client, students
and tokens, so "server CPU per read" of lms_api can be set beside what these reads cost with
FastAPI and psycopg and nothing more. What is the same as in lms_api, per request:

- the statements PostgreSQL receives, byte for byte as SQLAlchemy renders them for psycopg
  (the `::VARCHAR` casts and aliases included), in one transaction (BEGIN ... COMMIT), with
  the same driver (psycopg 3, async) and its defaults (server-side binding, statements
  prepared after 5 uses): the caller's `people.is_active` (lms_api's per-request deactivation
  check), then the data query, which for a track or project brings the caller's enrollment
  status along (a correlated sub-select);
- the token check: a token the floor has not seen is asked of the hub exactly as lms_api asks
  it (`GET /user` with the token, then `GET /users/{name}` with the service token for the
  admin flag and groups; a token without the lms-api access scope is refused with 403); the
  answer is cached for `APRANOVA_AUTH_CACHE_SECONDS` under the token's SHA-256, so a request
  after the first costs one hash and one dictionary look-up, as in lms_api;
- the read rules: staff read every track; a student reads a track or project only while
  actively enrolled (403 otherwise); a service token is refused (403); missing -> 404;
- the response: the same JSON body, byte for byte (`tests/bench/test_floor.py` compares them).

What it leaves out, as framework extras: SQLAlchemy (engine, ORM, the pool's pre-ping, one
`;` round trip per checkout), FastAPI's dependency injection, response models and validation,
the app-wide control-character check and lms_api's middlewares (security headers, body size
limit, catch-all, service prefix). Its pool is a fixed list of at most
`APRANOVA_DATABASE_POOL_SIZE` connections (lms_api's pool size, without the 10 overflow
connections SQLAlchemy would open and close when the pool runs dry), opened on first use.

One difference of behaviour, never met in the load run: a user with no LMS profile yet gets
one made by lms_api on their first call (an INSERT); the floor answers as if the profile were
there (empty progress, 403 on a track) and writes nothing.
"""

import asyncio
import contextlib
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
from fastapi import FastAPI, Request, Response

from lms_api.principal import STAFF_ROLES, grants_access, role_from_hub

API = "/api/v1"

# The statements lms_api runs for these reads (logged from it with SQLAlchemy's events and
# PostgreSQL's log_statement; bench/README.md, "The floor").
IS_ACTIVE = "SELECT people.is_active \nFROM people \nWHERE people.username = %(username)s::VARCHAR"
TRACK = (
    "SELECT (SELECT enrollments.status \nFROM enrollments JOIN people ON "
    "enrollments.person_id = people.id \nWHERE people.username = "
    "%(username)s::VARCHAR AND enrollments.track_id = tracks.id) AS "
    "enrollment_status, tracks.code, tracks.name, tracks.description, "
    "tracks.duration_weeks, tracks.price_cents, tracks.currency, "
    "tracks.workspace_kinds, tracks.is_active, projects.id, projects.number, "
    "projects.title, projects.type, projects.tech_stack, projects.estimated_hours "
    "\nFROM tracks LEFT OUTER JOIN projects ON projects.track_id = tracks.id \nWHERE "
    "tracks.code = %(code)s::VARCHAR ORDER BY projects.number"
)
PROJECT = (
    "SELECT (SELECT enrollments.status \nFROM enrollments JOIN people ON "
    "enrollments.person_id = people.id \nWHERE people.username = "
    "%(username)s::VARCHAR AND enrollments.track_id = tracks.id) AS "
    "enrollment_status, tracks.code, projects.number, projects.title, "
    "projects.description, projects.type, projects.tech_stack, "
    'projects.estimated_hours, project_steps.id, project_steps."order", '
    "project_steps.title AS title_1, project_steps.description AS description_1, "
    "deliverables.id AS id_1, deliverables.title AS title_2, deliverables.kind, "
    "deliverables.required \nFROM projects JOIN tracks ON tracks.id = "
    "projects.track_id LEFT OUTER JOIN project_steps ON project_steps.project_id = "
    "projects.id LEFT OUTER JOIN deliverables ON deliverables.project_id = "
    "projects.id \nWHERE projects.id = %(project_id)s::INTEGER ORDER BY "
    'project_steps."order", deliverables.id'
)
PROGRESS = (
    "SELECT tracks.id, tracks.code, tracks.name, projects.id AS id_1, "
    "projects.number, projects.title, project_steps.id AS id_2, "
    'project_steps."order", project_steps.title AS title_1, '
    "step_completions.created_at \nFROM enrollments JOIN people ON people.id = "
    "enrollments.person_id JOIN tracks ON tracks.id = enrollments.track_id LEFT "
    "OUTER JOIN projects ON projects.track_id = tracks.id LEFT OUTER JOIN "
    "project_steps ON project_steps.project_id = projects.id LEFT OUTER JOIN "
    "step_completions ON step_completions.step_id = project_steps.id AND "
    "step_completions.person_id = people.id \nWHERE people.username = "
    "%(username)s::VARCHAR AND enrollments.status = %(status)s::VARCHAR ORDER BY "
    'tracks.code, projects.number, project_steps."order", project_steps.id'
)
ACTIVE = "active"


# --- the pool ------------------------------------------------------------------------------
class Pool:
    """At most `size` psycopg connections (not autocommit: the first statement of a request
    opens its transaction, as with SQLAlchemy), opened when first needed, handed out in turn."""

    def __init__(self, conninfo: str, size: int) -> None:
        self.conninfo = conninfo
        self.size = size
        self.opened = 0
        self.idle: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A connection for one request: COMMIT when the block ends, ROLLBACK on an error."""
        if self.idle.empty() and self.opened < self.size:
            self.opened += 1
            try:
                connection = await psycopg.AsyncConnection.connect(self.conninfo)
            except BaseException:
                self.opened -= 1
                raise
        else:
            connection = await self.idle.get()
        try:
            yield connection
            await connection.commit()
        except BaseException:
            if not connection.closed:
                with contextlib.suppress(psycopg.Error):
                    await connection.rollback()
            raise
        finally:
            if connection.closed:  # a broken connection is dropped; the next one is new
                self.opened -= 1
            else:
                self.idle.put_nowait(connection)

    async def close(self) -> None:
        while not self.idle.empty():
            await self.idle.get_nowait().close()


# --- who calls -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    kind: str  # "user" or "service"
    staff: bool  # trainer, admin or superadmin: reads every track
    may_access: bool  # the token carries access:services(!service=lms-api)


class Hub:
    """Token -> caller, asked of the hub as lms_api asks it, cached like lms_api caches it."""

    def __init__(self, api_url: str, service_token: str, cache_seconds: float) -> None:
        self.api_url = api_url.rstrip("/")
        self.service_token = service_token
        self.cache_seconds = cache_seconds
        self.cache: dict[str, tuple[float, Caller]] = {}
        self.client = httpx.AsyncClient(timeout=5.0)

    async def caller(self, token: str) -> Caller | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self.cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self._ask(token)
        if found is not None and self.cache_seconds > 0:
            self.cache[key] = (now + self.cache_seconds, found)
        return found

    async def _ask(self, token: str) -> Caller | None:
        whoami = await self.client.get(
            f"{self.api_url}/user", headers={"Authorization": f"token {token}"}
        )
        if whoami.status_code in (401, 403):
            return None
        whoami.raise_for_status()
        model = whoami.json()
        may_access = grants_access(model.get("scopes") or [])
        if model.get("kind") == "service":
            return Caller(model["name"], "service", False, may_access)
        details = await self.client.get(
            f"{self.api_url}/users/{model['name']}",
            headers={"Authorization": f"token {self.service_token}"},
        )
        details.raise_for_status()
        user = details.json()
        role = role_from_hub(bool(user.get("admin")), tuple(user.get("groups") or ()))
        return Caller(model["name"], "user", role in STAFF_ROLES, may_access)


# --- answers -------------------------------------------------------------------------------
def dumps(value: Any) -> bytes:
    """Compact JSON, non-ASCII as is: the bytes FastAPI sends for the same value."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def ok(value: Any) -> Response:
    return Response(dumps(value), media_type="application/json")


def error(status: int, code: str, message: str) -> Response:
    body = {"error": {"code": code, "message": message, "details": None}}
    return Response(dumps(body), status_code=status, media_type="application/json")


def utc(moment: datetime | None) -> str | None:
    """A timestamp as pydantic writes lms_api's `UtcDatetime` (ISO 8601, `Z`)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def percent(done: int, total: int) -> float:
    """As lms_api.progress.service.percent: 0..100, one decimal, rounded half up."""
    return (2000 * done + total) // (2 * total) / 10 if total else 0.0


class Floor:
    def __init__(self, pool: Pool, hub: Hub) -> None:
        self.pool = pool
        self.hub = hub

    async def user(self, request: Request) -> Caller | Response:
        """The calling user, or the error answer (401 / 403) lms_api gives."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() not in ("bearer", "token") or not token:
            return error(401, "not_authenticated", "Authentication required.")
        caller = await self.hub.caller(token)
        if caller is None:
            return error(401, "not_authenticated", "The token is invalid, expired or revoked.")
        if not caller.may_access:
            return error(403, "insufficient_scope", "This token may not use the LMS API.")
        if caller.kind != "user":  # before any SQL: lms_api looks up no profile for a service
            return error(403, "forbidden", "This route is for users; a service token was sent.")
        return caller

    @staticmethod
    async def deactivated(connection: psycopg.AsyncConnection, caller: Caller) -> Response | None:
        cursor = await connection.execute(IS_ACTIVE, {"username": caller.name})
        row = await cursor.fetchone()
        if row is not None and not row[0]:
            return error(403, "account_deactivated", f"account deactivated: {caller.name!r}")
        return None

    @staticmethod
    def may_read(caller: Caller, status: str | None, code: str) -> Response | None:
        """The read rule on the enrollment status the data query brought along."""
        if caller.staff or status == ACTIVE:
            return None
        return error(403, "not_enrolled", f"Track {code!r} is open to its enrolled students only.")

    async def track(self, request: Request, code: str) -> Response:
        caller = await self.user(request)
        if isinstance(caller, Response):
            return caller
        async with self.pool.transaction() as connection:
            refused = await self.deactivated(connection, caller)
            if refused is not None:
                return refused
            cursor = await connection.execute(TRACK, {"code": code, "username": caller.name})
            rows = await cursor.fetchall()
        if not rows:
            return error(404, "not_found", f"No track with code {code!r}.")
        t = rows[0]
        refused = self.may_read(caller, t[0], t[1])
        if refused is not None:
            return refused
        projects = [
            {
                "id": r[9],
                "number": r[10],
                "title": r[11],
                "type": r[12],
                "tech_stack": r[13],
                "estimated_hours": r[14],
            }
            for r in rows
            if r[9] is not None
        ]
        return ok(
            {
                "code": t[1],
                "name": t[2],
                "description": t[3],
                "duration_weeks": t[4],
                "price_cents": t[5],
                "currency": t[6],
                "workspace_kinds": t[7],
                "is_active": t[8],
                "projects": projects,
            }
        )

    async def project(self, request: Request, project_id: int) -> Response:
        caller = await self.user(request)
        if isinstance(caller, Response):
            return caller
        async with self.pool.transaction() as connection:
            refused = await self.deactivated(connection, caller)
            if refused is not None:
                return refused
            cursor = await connection.execute(
                PROJECT, {"project_id": project_id, "username": caller.name}
            )
            rows = await cursor.fetchall()
        if not rows:
            return error(404, "not_found", f"No project with id {project_id}.")
        p = rows[0]
        refused = self.may_read(caller, p[0], p[1])
        if refused is not None:
            return refused
        steps: dict[int, dict[str, Any]] = {}
        deliverables: dict[int, dict[str, Any]] = {}
        for r in rows:  # steps x deliverables: each once, in the order the query gives
            if r[8] is not None and r[8] not in steps:
                steps[r[8]] = {"id": r[8], "order": r[9], "title": r[10], "description": r[11]}
            if r[12] is not None and r[12] not in deliverables:
                deliverables[r[12]] = {
                    "id": r[12],
                    "title": r[13],
                    "kind": r[14],
                    "required": r[15],
                }
        return ok(
            {
                "id": project_id,
                "number": p[2],
                "title": p[3],
                "type": p[5],
                "tech_stack": p[6],
                "estimated_hours": p[7],
                "track_code": p[1],
                "description": p[4],
                "steps": list(steps.values()),
                "deliverables": list(deliverables.values()),
            }
        )

    async def progress(self, request: Request) -> Response:
        caller = await self.user(request)
        if isinstance(caller, Response):
            return caller
        async with self.pool.transaction() as connection:
            refused = await self.deactivated(connection, caller)
            if refused is not None:
                return refused
            cursor = await connection.execute(PROGRESS, {"username": caller.name, "status": ACTIVE})
            rows = await cursor.fetchall()
        return ok({"username": caller.name, "tracks": progress_report(rows)})


def progress_report(rows: list[tuple]) -> list[dict[str, Any]]:
    """lms_api's progress report from its flat query's rows (tracks by code, projects by
    number, steps by order)."""
    tracks: list[dict[str, Any]] = []
    track = project = None
    for track_id, code, name, project_id, number, title, step_id, order, step_title, at in rows:
        if track is None or track["_id"] != track_id:
            track = {"_id": track_id, "code": code, "name": name, "projects": []}
            tracks.append(track)
            project = None
        if project_id is None:
            continue
        if project is None or project["id"] != project_id:
            project = {"id": project_id, "number": number, "title": title, "steps": []}
            track["projects"].append(project)
        if step_id is not None:
            project["steps"].append(
                {
                    "id": step_id,
                    "order": order,
                    "title": step_title,
                    "done": at is not None,
                    "at": at,
                }
            )
    report = []
    for track in tracks:
        projects = []
        for project in track["projects"]:
            steps = project["steps"]
            done = sum(s["done"] for s in steps)
            moments = [s["at"] for s in steps if s["at"] is not None]
            projects.append(
                {
                    "steps_done": done,
                    "steps_total": len(steps),
                    "pct_complete": percent(done, len(steps)),
                    "last_step_at": max(moments) if moments else None,
                    "id": project["id"],
                    "number": project["number"],
                    "title": project["title"],
                    "steps": [
                        {
                            "id": s["id"],
                            "order": s["order"],
                            "title": s["title"],
                            "done": s["done"],
                            "completed_at": utc(s["at"]),
                        }
                        for s in steps
                    ],
                }
            )
        done = sum(p["steps_done"] for p in projects)
        total = sum(p["steps_total"] for p in projects)
        moments = [p["last_step_at"] for p in projects if p["last_step_at"] is not None]
        for p in projects:
            p["last_step_at"] = utc(p["last_step_at"])
        report.append(
            {
                "steps_done": done,
                "steps_total": total,
                "pct_complete": percent(done, total),
                "last_step_at": utc(max(moments)) if moments else None,
                "code": track["code"],
                "name": track["name"],
                "projects": projects,
            }
        )
    return report


# --- the app -------------------------------------------------------------------------------
def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (`postgresql+psycopg://...`) as libpq takes it."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql{sep}{rest}" if scheme.startswith("postgresql") else url


def create_app(
    database_url: str | None = None,
    hub_api_url: str | None = None,
    service_token: str | None = None,
    cache_seconds: float | None = None,
    pool_size: int | None = None,
) -> FastAPI:
    """uvicorn entry point (`--factory bench.floor:create_app`): what is not given is read
    from the `APRANOVA_*` variables lms_api reads (same defaults for the cache and pool)."""
    env = os.environ
    pool = Pool(
        libpq_url(database_url or env["APRANOVA_DATABASE_URL"]),
        pool_size or int(env.get("APRANOVA_DATABASE_POOL_SIZE", "20")),
    )
    hub = Hub(
        hub_api_url or env.get("APRANOVA_HUB_API_URL", "http://127.0.0.1:8081/hub/api"),
        service_token if service_token is not None else env.get("APRANOVA_LMS_API_TOKEN", ""),
        cache_seconds
        if cache_seconds is not None
        else float(env.get("APRANOVA_AUTH_CACHE_SECONDS", "30")),
    )
    floor = Floor(pool, hub)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await hub.client.aclose()
        await pool.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.floor = floor

    @app.get(API + "/health")
    async def health() -> Response:
        return ok({"status": "ok"})

    @app.get(API + "/tracks/{code}")
    async def read_track(code: str, request: Request) -> Response:
        return await floor.track(request, code)

    @app.get(API + "/projects/{project_id}")
    async def read_project(project_id: int, request: Request) -> Response:
        return await floor.project(request, project_id)

    @app.get(API + "/progress/me")
    async def read_my_progress(request: Request) -> Response:
        return await floor.progress(request)

    return app
