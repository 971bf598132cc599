"""Class sessions on the hub's side: the expected students' workspaces running before the
start, kept from the idle culler until the end, the unused ones stopped after it, and what
the hub saw sent to lms-api for attendance.

lms-api owns the schedule and never calls the hub, so this loop asks it every round (`GET
/class-sessions/warm-up`: sessions starting within the lead time or in progress, whom each
expects, and who is in a running timed quiz) and acts through the hub REST API, like the
workspace guard it runs beside (same process, same `apranova-hub` token):

- **warm-up**: an expected student with no workspace gets their default server started with
  the session's kind, once per session (a student who stops it is not overruled). Starts go
  through the hub's start line like any other, so a class's warm-up never becomes a surge.
- **no culling**: a workspace of an expected student (during the lead time and the session)
  or of a student in a timed quiz is given fresh activity when it would otherwise come within
  half the culler's timeout of being stopped. Only then: these touches are not the student's
  activity and the analytics read it as such, so they stay rare.
- **after**: a workspace this loop started and the student never opened is stopped once its
  session is over or cancelled. "Opened" is the hub's own record of her browser reaching the
  server: a token of the server's OAuth client (`GET /users/{name}/tokens`, scope
  `read:tokens`) created or used after the loop asked for the start. The server's
  `last_activity` can't tell: the server reports it on its own, and a click before the loop
  first saw the server ready would be folded into any baseline taken from it.
- **attendance**: activity the student made (opening a warmed workspace and its
  `last_activity` after that, a later `last_activity` than any touch, the start of a server
  they started themselves) is reported with `POST /class-sessions/workspace-activity`;
  lms-api keeps what falls in a session's window.

What this loop started is kept in memory: after a restart of the hub's services, the
workspaces it had started stay until the culler stops them.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from hub.hub_api import all_users, server_path
from hub.lms_client import HubLmsClient, LmsUnavailable

log = logging.getLogger("apranova.session_warmup")
DEFAULT_SERVER = ""  # what a student's "Start My Server" opens
NEVER = datetime.min.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_time(value: str | None) -> datetime | None:
    """JupyterHub's ISO 8601 timestamps ("...Z"), as aware datetimes."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Warmed:
    """A workspace this loop started for one or more sessions."""

    sessions: set[int]
    asked_at: datetime
    opened: datetime | None = None  # when the student first reached it in her browser
    unknown: bool = False  # the hub would not say: never stopped on a guess

    @property
    def used(self) -> bool:
        return self.opened is not None or self.unknown


@dataclass
class RoundReport:
    """What one round did (logged, and read by the tests)."""

    started: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    reported: int = 0


class SessionWarmup:
    def __init__(
        self,
        hub_api_url: str,
        hub_token: str,
        lms: HubLmsClient,
        lead_minutes: int,
        cull_idle_seconds: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.hub_api_url = hub_api_url.rstrip("/")
        self.headers = {"Authorization": f"token {hub_token}"}
        self.lms = lms
        self.lead_minutes = lead_minutes
        # Touch a kept workspace once it has been idle half the culler's timeout.
        self.keep_after = timedelta(seconds=cull_idle_seconds / 2) if cull_idle_seconds else None
        self.clock = clock
        self.warmed: dict[str, Warmed] = {}  # username -> the default server it started
        self.asked: set[tuple[int, str]] = set()  # (session, username) started once already
        self.touched: dict[tuple[str, str], datetime] = {}  # (user, server) -> last touch
        self.reported: dict[str, datetime] = {}  # username -> latest moment sent to lms-api

    # --- the hub's side ----------------------------------------------------------------------
    async def users(self, client: httpx.AsyncClient, wanted: set[str]) -> dict[str, dict]:
        """The hub's models of the wanted users (those who have a hub account)."""
        return {
            user["name"]: user
            async for user in all_users(client, self.hub_api_url, self.headers)
            if user["name"] in wanted
        }

    async def start(self, client: httpx.AsyncClient, username: str, kind: str) -> bool:
        response = await client.post(
            self.hub_api_url + server_path(username, DEFAULT_SERVER),
            json={"kind": kind},
            headers=self.headers,
        )
        if response.status_code in (201, 202):
            return True
        log.warning(
            "could not warm up %s's %s workspace: %s %s",
            username,
            kind,
            response.status_code,
            response.text[:200],
        )
        return False

    async def touch(self, client: httpx.AsyncClient, username: str, server: str) -> None:
        now = self.clock()
        response = await client.post(
            f"{self.hub_api_url}/users/{quote(username, safe='')}/activity",
            json={"servers": {server: {"last_activity": iso(now)}}},
            headers=self.headers,
        )
        if response.status_code < 300:
            self.touched[username, server] = now

    async def opened(
        self, client: httpx.AsyncClient, username: str, warmed: Warmed, server: dict
    ) -> datetime | None:
        """When the student's browser first reached the workspace since the loop asked for
        it: a token of the server's OAuth client created or used after that."""
        response = await client.get(
            f"{self.hub_api_url}/users/{quote(username, safe='')}/tokens", headers=self.headers
        )
        if response.status_code != 200:
            log.error(
                "cannot tell whether %s opened the workspace warmed for her (tokens: %s); "
                "it is left running",
                username,
                response.status_code,
            )
            warmed.unknown = True
            return None
        client_name = f"Server at {server.get('url')}"
        moments = []
        for token in response.json().get("api_tokens", []):
            if token.get("oauth_client") != client_name:
                continue
            for key in ("created", "last_activity"):
                moment = parse_time(token.get(key))
                if moment is not None and moment > warmed.asked_at:
                    moments.append(moment)
        return min(moments, default=None)

    async def stop(self, client: httpx.AsyncClient, username: str) -> bool:
        response = await client.delete(
            self.hub_api_url + server_path(username, DEFAULT_SERVER), headers=self.headers
        )
        return response.status_code in (202, 204)

    # --- one round ---------------------------------------------------------------------------
    async def round(self, client: httpx.AsyncClient) -> RoundReport:
        report = RoundReport()
        try:
            plan = await self.lms.class_sessions_to_warm(self.lead_minutes)
        except LmsUnavailable as exc:
            log.error("lms-api did not answer, no workspace started or stopped: %s", exc)
            return report
        now = self.clock()
        sessions = plan["sessions"]
        expected: dict[str, set[int]] = {}
        for session in sessions:
            for username in session["expected_students"]:
                expected.setdefault(username, set()).add(session["id"])
        in_quiz = set(plan.get("in_timed_attempts") or [])
        users = await self.users(client, set(expected) | in_quiz | set(self.warmed))

        for session in sessions:
            for username in session["expected_students"]:
                user = users.get(username)
                if user is None:  # never logged in: no hub account to start a server for
                    continue
                running = user.get("servers") or {}
                key = (session["id"], username)
                if DEFAULT_SERVER not in running and key not in self.asked:
                    self.asked.add(key)
                    if await self.start(client, username, session["workspace_kind"]):
                        self.warmed.setdefault(username, Warmed(set(), now)).sessions.add(
                            session["id"]
                        )
                        report.started.append(username)
                elif username in self.warmed:
                    self.warmed[username].sessions.add(session["id"])

        for username, warmed in self.warmed.items():
            server = (users.get(username) or {}).get("servers", {}).get(DEFAULT_SERVER)
            if not warmed.used and server is not None and server.get("ready"):
                warmed.opened = await self.opened(client, username, warmed, server)

        activity = self.observe(users)
        for username in set(expected) | in_quiz:
            for server, model in ((users.get(username) or {}).get("servers") or {}).items():
                if self._needs_touch(username, server, model, now):
                    await self.touch(client, username, server)
                    report.kept.append(f"{username}/{server}")

        for username, warmed in list(self.warmed.items()):
            if warmed.sessions & expected.get(username, set()):
                continue  # a session of theirs still runs or is about to
            del self.warmed[username]
            server = (users.get(username) or {}).get("servers", {}).get(DEFAULT_SERVER)
            if server is not None and not warmed.used and await self.stop(client, username):
                log.info("stopped %s's workspace: started for a session and never used", username)
                report.stopped.append(username)
        self.asked = {key for key in self.asked if key[1] in expected}
        watched = set(expected) | in_quiz
        self.touched = {key: at for key, at in self.touched.items() if key[0] in watched}

        if activity:
            try:
                await self.lms.report_workspace_activity(activity)
            except LmsUnavailable as exc:  # sent again next round: lms-api keeps it idempotent
                log.error("could not report workspace activity: %s", exc)
                for entry in activity:
                    self.reported.pop(entry["user"], None)
            else:
                report.reported = len(activity)
        return report

    def observe(self, users: dict[str, dict]) -> list[dict[str, str]]:
        """The students' own activity since the last report: opening a workspace this loop
        started, a server's `last_activity` past what this loop set, and the start of a server
        the student started."""
        activity = []
        for username, user in users.items():
            moments = []
            for server, model in (user.get("servers") or {}).items():
                if not model.get("ready"):
                    continue
                last = parse_time(model.get("last_activity"))
                warmed = self.warmed.get(username) if server == DEFAULT_SERVER else None
                if warmed is None:  # a server the student started: its start is her doing
                    began = parse_time(model.get("started"))
                elif warmed.opened is not None:
                    began = warmed.opened  # started for her: her doing begins when she opens it
                else:
                    continue  # not opened: what it reports is the server's, not hers
                moments += [m for m in (began, last) if m is not None and m >= began]
                touched = self.touched.get((username, server))
                if touched is not None and last in moments and last <= touched:
                    moments.remove(last)  # our own touch, not the student
            since = self.reported.get(username, NEVER)
            new = [m for m in moments if m > since]
            if new:
                self.reported[username] = max(new)
                activity += [{"user": username, "at": iso(m)} for m in sorted(set(new))]
        return activity

    def _needs_touch(
        self, username: str, server: str, model: dict[str, Any], now: datetime
    ) -> bool:
        if self.keep_after is None or not model.get("ready"):
            return False
        last = parse_time(model.get("last_activity")) or parse_time(model.get("started"))
        return last is None or now - last >= self.keep_after

    async def run(self, every: float, stopping: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while not stopping.is_set():
                try:
                    done = await self.round(client)
                    if done.started or done.stopped:
                        log.info("sessions: started %s, stopped %s", done.started, done.stopped)
                except httpx.HTTPError as exc:
                    log.error("hub API error, retrying next round: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=every)
