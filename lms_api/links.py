"""Absolute URLs the API hands out: pagination links, `Location`, download links.

They are made from the configured public address (`APRANOVA_PUBLIC_URL` and the service
prefix), never from the request's Host header, which any client sets: `Host: evil.example`
must not turn the API's own links into links to another site.
"""

from urllib.parse import urlencode

from starlette.requests import Request


def public_url(request: Request, path: str, query: str = "") -> str:
    """`path` (as the app routes it, e.g. /api/v1/tracks) at the public address."""
    settings = request.app.state.settings
    return f"{settings.public_url}{settings.service_prefix}{path}" + (f"?{query}" if query else "")


def public_url_for(request: Request, name: str, **params: object) -> str:
    return public_url(request, request.app.url_path_for(name, **params))


def page_link(request: Request, limit: int, offset: int) -> str:
    """This list's URL with its filters and another page."""
    path, root = request.scope["path"], request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
    return public_url(request, path, urlencode([*query, ("limit", limit), ("offset", offset)]))
