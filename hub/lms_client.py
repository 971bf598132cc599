"""The hub's HTTP client for lms_api (over HTTP: the hub imports only lms_api's leaf modules)."""

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from lms_api.tls import client_tls


class LmsUnavailable(Exception):
    """lms_api could not answer; the hub shows a retry message instead of guessing."""


class LmsRefused(Exception):
    """lms_api answered with its error body; `message` is written for the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class WorkspaceRule:
    """What a user may launch now, and the tracks they could pay for to launch more."""

    kinds: list[str]
    offers: list[dict[str, Any]] = field(default_factory=list)
    payments_enabled: bool = False
    tracks: dict[str, list[str]] = field(default_factory=dict)  # active track -> its kinds
    account_active: bool = True  # False: an admin deactivated the person

    def track_for(self, kind: str) -> str:
        """The (first) active track that gives this kind: whose datasets and limits apply."""
        return next((code for code, kinds in self.tracks.items() if kind in kinds), "")


def answered(response: httpx.Response) -> None:
    """Anything but a 200 means lms-api could not give the answer: never guessed."""
    if response.status_code != 200:
        raise LmsUnavailable(f"lms-api answered {response.status_code}: {response.text[:200]}")


class HubLmsClient:
    """The hub and its services asking lms-api with their own service token (the workspace
    rule, closing a profile); not the notebook client, `lms_api.client.LmsClient`."""

    def __init__(
        self, base_url: str, token: str, cache_seconds: float = 10.0, timeout: float = 5.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.cache_seconds = cache_seconds
        self.timeout = timeout
        self._rules: dict[str, tuple[float, WorkspaceRule]] = {}

    async def _request(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=client_tls()) as client:
                return await client.request(
                    method,
                    f"{self.base_url}{path}",
                    headers={"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})},
                    **kwargs,
                )
        except httpx.HTTPError as exc:
            raise LmsUnavailable(f"{exc.__class__.__name__}: {exc}") from exc

    def forget(self, username: str) -> None:
        """Drop the cached answer for a user: the next question goes to lms-api."""
        self._rules.pop(username, None)

    async def workspace_rule(self, username: str) -> WorkspaceRule:
        """The enrollment rule for one user, asked with the hub's service token.

        A yes is cached briefly for the spawn form; a no is not, so a student whose payment
        just went through can launch at once. A start `forget`s it first.
        """
        now = time.monotonic()
        cached = self._rules.get(username)
        if cached and cached[0] > now:
            return cached[1]
        response = await self._request(
            "GET", "/workspaces/allowed", self.token, params={"user": username}
        )
        answered(response)
        body = response.json()
        rule = WorkspaceRule(
            kinds=list(body["kinds"]),
            offers=list(body.get("offers") or []),
            payments_enabled=bool(body.get("payments_enabled")),
            tracks={t["track_code"]: list(t["workspace_kinds"]) for t in body.get("tracks") or []},
            account_active=body.get("account_active", True) is not False,
        )
        if rule.kinds:
            self._rules[username] = (now + self.cache_seconds, rule)
        else:
            self._rules.pop(username, None)
        return rule

    async def allowed_kinds(self, usernames: list[str]) -> dict[str, list[str]]:
        """The kinds each user may run now, in one call (the workspace guard's question)."""
        response = await self._request(
            "POST", "/workspaces/allowed/check", self.token, json={"users": usernames}
        )
        answered(response)
        return {name: list(kinds) for name, kinds in response.json()["kinds"].items()}

    async def class_sessions_to_warm(self, lead_minutes: int) -> dict[str, Any]:
        """Sessions starting within `lead_minutes` or in progress, whom each expects, and the
        students in a running timed quiz (`GET /class-sessions/warm-up`)."""
        response = await self._request(
            "GET", "/class-sessions/warm-up", self.token, params={"lead_minutes": lead_minutes}
        )
        answered(response)
        return response.json()

    async def report_workspace_activity(self, activity: list[dict[str, str]]) -> dict[str, Any]:
        """Moments students were seen in their workspaces, for sessions' attendance."""
        response = await self._request(
            "POST", "/class-sessions/workspace-activity", self.token, json={"activity": activity}
        )
        answered(response)
        return response.json()

    async def close_person(self, username: str) -> None:
        """The hub deleted this user: lms-api closes their profile (LmsRefused 404: none)."""
        response = await self._request(
            "POST", f"/users/{quote(username, safe='')}/close", self.token
        )
        if response.status_code >= 400:
            raise LmsRefused(response.status_code, response.text[:300])

    async def as_user(
        self, method: str, path: str, user_token: str, **kwargs: Any
    ) -> dict[str, Any]:
        """A call with the user's own token: lms_api applies its rules to that user."""
        response = await self._request(method, path, user_token, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            error = (body.get("error") or {}) if isinstance(body, dict) else {}
            message = error.get("message") or f"The course service answered {response.status_code}."
            raise LmsRefused(response.status_code, message)
        return body
