"""The class sessions' loop on the hub's side (hub.session_warmup), round by round, against a
small in-memory hub API and lms-api answers of the test's choosing. The real hub and lms-api
are in tests/e2e/test_class_sessions.py."""

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hub.lms_client import LmsUnavailable
from hub.session_warmup import SessionWarmup, iso

T0 = datetime(2026, 3, 2, 8, 50, tzinfo=UTC)  # ten minutes before the session
SESSION = {
    "id": 7,
    "title": "Joins, live",
    "track_code": "DP",
    "workspace_kind": "superset",
    "starts_at": "2026-03-02T09:00:00Z",
    "ends_at": "2026-03-02T11:00:00Z",
    "expected_students": ["ada", "grace", "nohub"],
}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Hub:
    """The REST API's users, servers, starts, stops and activity, as the loop uses them."""

    def __init__(self, clock: Clock, *names: str) -> None:
        self.clock = clock
        self.users = {name: {"name": name, "servers": {}} for name in names}
        self.calls: list[tuple[str, str, object]] = []

    def run(self, user: str, server: str = "", started: datetime | None = None) -> dict:
        moment = iso(started or self.clock())
        model = {"ready": True, "started": moment, "last_activity": moment}
        self.users[user]["servers"][server] = model
        return model

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/hub/api")
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, path, body))
        if request.method == "GET" and path == "/users":
            return httpx.Response(200, json=list(self.users.values()))
        parts = path.split("/")  # ['', 'users', name, 'server' | 'activity']
        user = self.users[parts[2]]
        if parts[3] == "server" and request.method == "POST":
            self.run(parts[2])
            user["servers"][""]["options"] = body
            return httpx.Response(201)
        if parts[3] == "server" and request.method == "DELETE":
            user["servers"].pop("", None)
            return httpx.Response(204)
        if parts[3] == "activity":
            for name, seen in body["servers"].items():
                user["servers"][name]["last_activity"] = seen["last_activity"]
            return httpx.Response(204)
        return httpx.Response(404)

    def started(self) -> list[str]:
        return [p.split("/")[2] for m, p, _ in self.calls if m == "POST" and p.endswith("/server")]

    def touched(self) -> list[str]:
        return [p.split("/")[2] for m, p, _ in self.calls if p.endswith("/activity")]


class Lms:
    def __init__(self) -> None:
        self.sessions = [SESSION]
        self.in_timed_attempts: list[str] = []
        self.reports: list[list[dict]] = []
        self.down = False

    async def class_sessions_to_warm(self, lead_minutes: int) -> dict:
        if self.down:
            raise LmsUnavailable("down")
        return {"sessions": self.sessions, "in_timed_attempts": self.in_timed_attempts}

    async def report_workspace_activity(self, activity: list[dict]) -> dict:
        self.reports.append(activity)
        return {}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hub(clock) -> Hub:
    return Hub(clock, "ada", "grace", "linus")


@pytest.fixture
def lms() -> Lms:
    return Lms()


@pytest.fixture
async def loop(hub, lms, clock):
    warmup = SessionWarmup("http://hub/hub/api", "t", lms, 10, 3600, clock=clock)
    async with httpx.AsyncClient(transport=httpx.MockTransport(hub.handle)) as client:

        async def round_():
            return await warmup.round(client)

        yield round_


async def test_expected_students_get_their_workspace_once_with_the_sessions_kind(
    hub, lms, clock, loop
):
    hub.run("grace")  # already working: left alone
    done = await loop()
    assert done.started == ["ada"] and hub.started() == ["ada"]  # nohub has no hub account
    assert hub.users["ada"]["servers"][""]["options"] == {"kind": "superset"}
    # ada stops it before the start: she is not overruled for this session
    hub.users["ada"]["servers"].clear()
    clock.now += timedelta(minutes=5)
    await loop()
    assert hub.started() == ["ada"]


async def test_after_the_session_an_unused_workspace_stops_and_a_used_one_stays(
    hub, lms, clock, loop
):
    hub.users["linus"]["servers"] = {}
    lms.sessions = [{**SESSION, "expected_students": ["ada", "linus"]}]
    await loop()  # both started
    clock.now += timedelta(minutes=1)
    await loop()  # seen running: what the hub says now is not the students' doing
    hub.users["ada"]["servers"][""]["last_activity"] = iso(T0 + timedelta(minutes=12))  # used
    clock.now = T0 + timedelta(minutes=15)
    await loop()
    assert lms.reports == [[{"user": "ada", "at": "2026-03-02T09:02:00Z"}]]
    lms.sessions = []  # over (or cancelled)
    clock.now = T0 + timedelta(hours=2, minutes=11)
    done = await loop()
    assert done.stopped == ["linus"]
    assert "" in hub.users["ada"]["servers"] and not hub.users["linus"]["servers"]


async def test_workspaces_are_kept_from_the_culler_only_when_needed(hub, lms, clock, loop):
    hub.run("grace", started=T0 - timedelta(minutes=29))
    hub.run("linus", "quiz", started=T0 - timedelta(minutes=40))  # in a timed quiz
    hub.run("linus", "", started=T0 - timedelta(minutes=40))
    lms.in_timed_attempts = ["linus"]
    await loop()
    assert sorted(hub.touched()) == ["linus", "linus"]  # grace: 29 min idle, under half an hour
    clock.now += timedelta(minutes=1)
    done = await loop()
    assert done.kept == ["grace/"]  # now 30 min; linus was just touched
    assert hub.users["grace"]["servers"][""]["last_activity"] == iso(clock.now)
    lms.in_timed_attempts = []
    clock.now += timedelta(hours=1)
    done = await loop()
    assert "linus/" not in done.kept and "linus/quiz" not in done.kept


async def test_students_own_starts_and_activity_are_reported_once_and_touches_never(
    hub, lms, clock, loop
):
    began = T0 + timedelta(minutes=11)
    clock.now = began
    hub.run("grace", started=began)
    await loop()
    assert lms.reports == [[{"user": "grace", "at": iso(began)}]]
    clock.now += timedelta(minutes=1)
    await loop()
    assert len(lms.reports) == 1  # nothing new
    clock.now += timedelta(minutes=40)  # idle 41 min: touched, and the touch is not reported
    done = await loop()
    assert "grace/" in done.kept
    clock.now += timedelta(minutes=1)
    await loop()
    assert len(lms.reports) == 1


async def test_nothing_is_started_or_stopped_while_lms_api_does_not_answer(hub, lms, loop):
    lms.down = True
    done = await loop()
    assert not done.started and not done.stopped and hub.calls == []
