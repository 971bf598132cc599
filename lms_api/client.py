"""A small typed client for the LMS API, usable in a workspace notebook with no arguments.

    from lms_api.client import LmsClient
    LmsClient().me()

Inside a workspace the hub already gave the server a token (`JUPYTERHUB_API_TOKEN`) and the
spawner sets `APRANOVA_LMS_API_URL`; elsewhere pass `base_url` and `token` yourself.
"""

import os
from typing import Any

import httpx

from lms_api.curriculum.schemas import TrackPage
from lms_api.people.schemas import MeOut


class LmsApiError(Exception):
    """The API's error body, raised: `status`, `code`, `message`, `details`."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


def default_base_url() -> str:
    explicit = os.environ.get("APRANOVA_LMS_API_URL")
    if explicit:
        return explicit
    hub_api = os.environ.get("JUPYTERHUB_API_URL")
    if hub_api and hub_api.rstrip("/").endswith("/hub/api"):
        return hub_api.rstrip("/")[: -len("/hub/api")] + "/services/lms-api/api/v1"
    raise LmsApiError(0, "not_configured", "Set APRANOVA_LMS_API_URL or pass base_url.")


class LmsClient:
    def __init__(
        self, base_url: str | None = None, token: str | None = None, timeout: float = 10.0
    ) -> None:
        token = token or os.environ.get("JUPYTERHUB_API_TOKEN")
        if not token:
            raise LmsApiError(0, "not_configured", "No token: pass token= or run in a workspace.")
        self._http = httpx.Client(
            base_url=(base_url or default_base_url()).rstrip("/") + "/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def __enter__(self) -> "LmsClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, **params: Any) -> Any:
        response = self._http.get(path, params=params or None)
        if response.is_success:
            return response.json()
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "http_error", "message": response.text[:200]}
        raise LmsApiError(
            response.status_code,
            error.get("code", "error"),
            error.get("message", ""),
            error.get("details"),
        )

    def health(self) -> dict[str, str]:
        return self._get("health")

    def me(self) -> MeOut:
        """Who you are to the school: username, role and enrollments."""
        return MeOut.model_validate(self._get("me"))

    def tracks(self) -> TrackPage:
        return TrackPage.model_validate(self._get("tracks"))
