"""The portal's routes: sign-in and sign-out, the static files, and each page module's router.

Every page route is a row of the permission matrix (tests/lms_api/test_permissions.py) and
uses `PageUser`: the same token validation, account check and domain services as the API.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from lms_api.config import Settings
from lms_api.portal import (
    admin_curriculum,
    admin_enrollments,
    admin_payments,
    admin_people,
    catalog,
    class_sessions,
    course,
    deliverables,
    progress,
    quiz_authoring,
    quizzes,
    review,
    steps,
    students,
)
from lms_api.portal.rendering import HERE, hub_url
from lms_api.portal.signin import (
    SESSION_COOKIE,
    STATE_COOKIE,
    STATE_MAX_AGE,
    cookie_options,
    finish_sign_in,
    safe_next,
    start_sign_in,
)
from lms_api.types import LINE_PATTERN

router = APIRouter(prefix="/portal", include_in_schema=False)

Code = Annotated[str, Query(min_length=1, max_length=512, pattern=LINE_PATTERN)]
Next = Annotated[str | None, Query(max_length=2048, pattern=LINE_PATTERN)]


@router.get("/login")
async def login(request: Request, next: Next = None) -> RedirectResponse:
    """Public: sends the browser to the hub's sign-in (one sign-on) and back to `next`."""
    settings: Settings = request.app.state.settings
    target, state_cookie = start_sign_in(settings, safe_next(settings, next))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        STATE_COOKIE, state_cookie, max_age=STATE_MAX_AGE, **cookie_options(settings)
    )
    return response


@router.get("/oauth_callback")
async def oauth_callback(request: Request, code: Code, state: Code) -> RedirectResponse:
    """Public: the hub sends the browser back here with a one-time code."""
    settings: Settings = request.app.state.settings
    token, next_url = await finish_sign_in(settings, code, state, request.cookies.get(STATE_COOKIE))
    response = RedirectResponse(next_url, status_code=303)
    options = cookie_options(settings)
    response.set_cookie(SESSION_COOKIE, token, **options)
    response.delete_cookie(STATE_COOKIE, path=options["path"])
    return response


@router.get("/logout")
async def logout(request: Request) -> RedirectResponse:
    """Public: forgets the portal session and signs out of the hub too."""
    settings: Settings = request.app.state.settings
    response = RedirectResponse(hub_url(settings, "logout"), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=cookie_options(settings)["path"])
    return response


for module in (
    course,
    catalog,
    progress,
    steps,
    deliverables,
    quizzes,
    review,
    students,
    class_sessions,
    quiz_authoring,
    admin_people,
    admin_enrollments,
    admin_payments,
    admin_curriculum,
):
    router.include_router(module.router)

static_files = StaticFiles(directory=HERE / "static")
