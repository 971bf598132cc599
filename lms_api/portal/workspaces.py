"""Which workspaces a student may open (the one workspace rule) and whether each is running
(asked of the hub with this service's token, `read:servers`)."""

from dataclasses import dataclass

import httpx

from lms_api.config import Settings
from lms_api.enrollments.models import Enrollment
from lms_api.enrollments.service import allowed_workspace_kinds

KIND_NAMES = {
    "jupyterlab": ("JupyterLab", "Notebooks, Python and DuckDB for data work."),
    "code-server": ("VS Code", "VS Code in the browser, for full-stack projects."),
    "superset": ("Apache Superset", "Dashboards over your track's datasets."),
}


@dataclass(frozen=True)
class WorkspaceButton:
    kind: str
    name: str
    description: str
    state: str  # "running", "starting", "stopped" or "unknown"
    open_url: str  # the workspace itself when running
    start_url: str  # the hub's spawn page (it shows the progress while the workspace starts)


async def hub_servers(settings: Settings, client: httpx.AsyncClient, username: str) -> dict | None:
    """The user's servers as the hub reports them, or None when the hub cannot say now."""
    try:
        response = await client.get(
            f"{settings.hub_api_url.rstrip('/')}/users/{username}",
            headers={"Authorization": f"token {settings.lms_api_token.get_secret_value()}"},
            timeout=3.0,
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return response.json().get("servers")


def buttons(
    settings: Settings, username: str, enrollments: list[Enrollment], servers: dict | None
) -> list[WorkspaceButton]:
    """One button per kind the user may open; a named server per kind (`/user/NAME/KIND/`)."""
    hub = settings.hub_prefix.rstrip("/")
    base = hub[: -len("/hub")] if hub.endswith("/hub") else ""
    made = []
    for kind in allowed_workspace_kinds(enrollments):
        name, description = KIND_NAMES.get(kind, (kind, ""))
        server = (servers or {}).get(kind)
        if servers is None:
            state = "unknown"
        elif server is None or (not server.get("ready") and not server.get("pending")):
            state = "stopped"
        elif server.get("ready"):
            state = "running"
        else:
            state = "starting"
        made.append(
            WorkspaceButton(
                kind=kind,
                name=name,
                description=description,
                state=state,
                open_url=f"{base}/user/{username}/{kind}/",
                start_url=f"{hub}/spawn/{username}/{kind}?kind={kind}",
            )
        )
    return made
