"""The hub's HTTP client for lms_api (the hub never imports lms_api)."""

import time

import httpx


class LmsUnavailable(Exception):
    """lms_api could not answer; the hub shows a retry message instead of guessing."""


class LmsClient:
    def __init__(
        self, base_url: str, token: str, cache_seconds: float = 10.0, timeout: float = 5.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.cache_seconds = cache_seconds
        self.timeout = timeout
        self._allowed: dict[str, tuple[float, list[str]]] = {}

    async def allowed_workspace_kinds(self, username: str) -> list[str]:
        """Kinds this user may launch, per the enrollment rule in lms_api (cached briefly)."""
        now = time.monotonic()
        cached = self._allowed.get(username)
        if cached and cached[0] > now:
            return cached[1]
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(
                    f"{self.base_url}/workspaces/allowed",
                    params={"user": username},
                    headers={"Authorization": f"Bearer {self.token}"},
                )
        except httpx.HTTPError as exc:
            raise LmsUnavailable(f"{exc.__class__.__name__}: {exc}") from exc
        if response.status_code != 200:
            raise LmsUnavailable(f"lms-api answered {response.status_code}: {response.text[:200]}")
        kinds = list(response.json()["kinds"])
        self._allowed[username] = (now + self.cache_seconds, kinds)
        return kinds

    def forget(self, username: str) -> None:
        self._allowed.pop(username, None)
