"""Jinja2 rendering of portal pages, with the navigation every page shares with the hub's."""

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from lms_api.config import Settings
from lms_api.principal import ADMIN_ROLES, STAFF_ROLES, Principal

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.autoescape = True
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def is_page(request: Request) -> bool:
    """Whether the request is for a portal page (errors render as HTML there, not JSON)."""
    path: str = request.scope.get("path", "")
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path == "/portal" or path.startswith("/portal/")


def portal_url(settings: Settings, path: str = "") -> str:
    """An absolute path to a portal page, as the browser sees it behind the hub's proxy."""
    return f"{settings.service_prefix}/portal/{path.lstrip('/')}"


def hub_url(settings: Settings, path: str = "") -> str:
    return f"{settings.hub_prefix.rstrip('/')}/{path.lstrip('/')}"


def percent(share: float | None) -> str:
    """A share (a fraction 0..1) as a whole percent; missing values as an em dash."""
    if share is None:
        return "—"
    whole = Decimal(str(share * 100)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{whole}%"  # halves up, as the API rounds: 1 of 8 steps is 13%


templates.env.filters["percent"] = percent
templates.env.filters["urlquote"] = lambda value: quote(str(value), safe="")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    user: Principal | None = None,
    offers_enrollment: bool = False,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    csrf = getattr(request.state, "csrf_token", "")
    base = {
        "user": user,
        "is_staff": bool(user and user.role in STAFF_ROLES),
        "is_admin": bool(user and user.role in ADMIN_ROLES),
        "csrf_token": csrf,
        "csrf_field": Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf),
        "portal": lambda path="": portal_url(settings, path),
        "hub": lambda path="": hub_url(settings, path),
        "static": lambda path: portal_url(settings, f"static/{path}"),
        "local_accounts": settings.authenticator == "local",
        "offers_enrollment": offers_enrollment,
    }
    return templates.TemplateResponse(
        request,
        template,
        {**base, **(context or {})},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )
