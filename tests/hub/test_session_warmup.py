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
        self.tokens: dict[str, list[dict]] = {name: [] for name in names}
        self.tokens_refused = False
        self.calls: list[tuple[str, str, object]] = []

    def run(self, user: str, server: str = "", started: datetime | None = None) -> dict:
        moment = iso(started or self.clock())
        url = f"/user/{user}/{server + '/' if server else ''}"
        model = {"ready": True, "started": moment, "last_activity": moment, "url": url}
        self.users[user]["servers"][server] = model
        return model

    def opens(self, user: str, at: datetime, client: str | None = None) -> dict:
        """The student's browser reaching her default server: the hub's OAuth token for it
        (or, with `client`, a token of another client, e.g. the hub's own login)."""
        token = {
            "oauth_client": client or f"Server at /user/{user}/",
            "created": iso(at),
            "last_activity": iso(at),
        }
        self.tokens[user].append(token)
        return token

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
        if parts[3] == "tokens" and request.method == "GET":
            if self.tokens_refused:
                return httpx.Response(403, json={"status": 403, "message": "no read:tokens"})
            return httpx.Response(200, json={"api_tokens": self.tokens[parts[2]]})
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
    hub.opens("ada", T0 + timedelta(minutes=12))  # used
    hub.users["ada"]["servers"][""]["last_activity"] = iso(T0 + timedelta(minutes=13))
    # linus's server reports its own activity: a server's doing, not his
    hub.users["linus"]["servers"][""]["last_activity"] = iso(T0 + timedelta(minutes=14))
    clock.now = T0 + timedelta(minutes=15)
    await loop()
    assert lms.reports == [
        [
            {"user": "ada", "at": "2026-03-02T09:02:00Z"},
            {"user": "ada", "at": "2026-03-02T09:03:00Z"},
        ]
    ]
    lms.sessions = []  # over (or cancelled)
    clock.now = T0 + timedelta(hours=2, minutes=11)
    done = await loop()
    assert done.stopped == ["linus"]
    assert "" in hub.users["ada"]["servers"] and not hub.users["linus"]["servers"]


async def test_a_click_before_the_loop_first_sees_the_workspace_ready_counts(hub, lms, clock, loop):
    """She opens it between the start and the next round, when the server is ready at once
    and its own first activity report lands too: opened, so it stays after the session."""
    lms.sessions = [{**SESSION, "expected_students": ["ada", "linus"]}]
    await loop()  # both started, and ready before the loop looks again
    hub.opens("ada", T0 + timedelta(seconds=2))
    for name in ("ada", "linus"):
        hub.users[name]["servers"][""]["last_activity"] = iso(T0 + timedelta(seconds=3))
    clock.now += timedelta(seconds=30)
    await loop()
    assert lms.reports == [
        [
            {"user": "ada", "at": "2026-03-02T08:50:02Z"},
            {"user": "ada", "at": "2026-03-02T08:50:03Z"},
        ]
    ]
    lms.sessions = []
    clock.now = T0 + timedelta(hours=2, minutes=11)
    assert (await loop()).stopped == ["linus"]


async def test_only_the_workspaces_own_client_used_after_the_start_tells_it_was_opened(
    hub, lms, clock, loop
):
    """A hub login or an earlier, unused browser session is not opening it; a browser that
    kept yesterday's login and comes back to the new server is."""
    clock.now = T0 + timedelta(minutes=1)
    hub.opens("ada", T0 - timedelta(days=1))  # yesterday's, not used since
    hub.opens("grace", T0 - timedelta(days=1))
    hub.opens("linus", T0 + timedelta(minutes=2), client="JupyterHub")  # logged in to the hub
    lms.sessions = [{**SESSION, "expected_students": ["ada", "grace", "linus"]}]
    await loop()
    hub.tokens["grace"][0]["last_activity"] = iso(T0 + timedelta(minutes=3))  # back with it
    clock.now = T0 + timedelta(minutes=4)
    await loop()
    assert lms.reports == [[{"user": "grace", "at": "2026-03-02T08:53:00Z"}]]
    lms.sessions = []
    clock.now = T0 + timedelta(hours=3)
    assert sorted((await loop()).stopped) == ["ada", "linus"]


async def test_a_workspace_is_not_stopped_when_the_hub_wont_say_whether_it_was_opened(
    hub, lms, clock, loop
):
    hub.tokens_refused = True  # e.g. the service's role lost read:tokens
    await loop()
    clock.now += timedelta(minutes=1)
    await loop()
    assert lms.reports == []  # not her activity either
    lms.sessions = []
    clock.now = T0 + timedelta(hours=3)
    assert (await loop()).stopped == []


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
