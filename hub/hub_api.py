"""The hub REST API as the hub's own services walk it: every user page by page, and a server's
path. One copy for the workspace guard and the class sessions' warm-up."""

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx

PAGE = 200  # JupyterHub's largest page of users


async def all_users(
    client: httpx.AsyncClient, hub_api_url: str, headers: dict[str, str], **filters: str
) -> AsyncIterator[dict]:
    """Each user model of `GET /users` (with `filters`, e.g. state="active"), all pages."""
    offset = 0
    while True:
        response = await client.get(
            f"{hub_api_url}/users",
            params={**filters, "offset": offset, "limit": PAGE},
            headers=headers,
        )
        response.raise_for_status()
        page = response.json()
        for user in page:
            yield user
        if len(page) < PAGE:
            return
        offset += PAGE


def server_path(username: str, server: str) -> str:
    """`/users/NAME/server` for the default server, `/users/NAME/servers/SERVER` otherwise."""
    user = quote(username, safe="")
    return f"/users/{user}/servers/{quote(server, safe='')}" if server else f"/users/{user}/server"
