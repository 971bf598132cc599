"""The admin's enrollment pages: the list, one enrollment with its history, granting a track
(with a reason) and revoking (after a confirmation, with a reason).

Admins only (the API's refusal for admin routes). A grant and a revoke run the enrollments
service that `POST /api/v1/enrollments` and `POST /api/v1/enrollments/{id}/revoke` run, with
the API's body schemas; a second click of the same grant or revoke leads to its result
instead of an error.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import admin_user
from lms_api.curriculum.models import Track
from lms_api.curriculum.service import tracks_query
from lms_api.database import MAX_ID, SessionDep
from lms_api.enrollments import service
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment, EnrollmentEvent
from lms_api.enrollments.schemas import GrantIn, RevokeIn
from lms_api.enrollments.service import EnrollmentConflict, UnknownTrack
from lms_api.errors import InvalidInput
from lms_api.people.models import Person
from lms_api.people.router import hub_directory
from lms_api.people.service import HubUnreachable
from lms_api.portal.admin_people import PAGE_SIZE, STATUS_WORDS, PageNumber, done_redirect, pager
from lms_api.portal.deliverables import when
from lms_api.portal.rendering import render
from lms_api.portal.signin import PageUser
from lms_api.principal import HubUnavailable, Principal
from lms_api.types import LINE_PATTERN

router = APIRouter()

EnrollmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="Enrollment id")]
Filter = Annotated[str, Query(max_length=255, pattern=LINE_PATTERN)]
REPEAT_WINDOW = timedelta(minutes=10)  # how recent "the same grant by the same admin" is
DONE_WORDS = {"granted": "Granted.", "revoked": "Revoked."}


def _status_or_none(status: str) -> EnrollmentStatus | None:
    if not status:
        return None
    try:
        return EnrollmentStatus(status)
    except ValueError:
        raise InvalidInput(
            f"There is no enrollment status {status!r}; choose one from the list."
        ) from None


# --- the list ------------------------------------------------------------------------------
@router.get("/admin/enrollments")
async def enrollments_list(
    request: Request,
    user: PageUser,
    session: SessionDep,
    username: Filter = "",
    track: Filter = "",
    status: Filter = "",
    page: PageNumber = 1,
) -> Response:
    """`GET /api/v1/enrollments`'s filters (username, track, status), newest first."""
    await admin_user(user)
    statement = service.list_enrollments(
        user,
        username=username.strip() or None,
        track=track or None,
        status=_status_or_none(status),
    )
    count = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    paging = pager(
        request,
        page,
        count or 0,
        "admin/enrollments",
        username=username,
        track=track,
        status=status,
    )
    rows = await session.scalars(
        statement.order_by(None)
        .order_by(Enrollment.id.desc())
        .limit(PAGE_SIZE)
        .offset(paging["offset"])
    )
    return render(
        request,
        "admin_enrollments.html",
        {
            "nav": "enrollments",
            "enrollments": list(rows),
            "tracks": list(await session.scalars(tracks_query())),
            "statuses": STATUS_WORDS,
            "username": username,
            "track": track,
            "status": status,
            "paging": paging,
            "when": when,
        },
        user=user,
    )


# --- granting ------------------------------------------------------------------------------
@dataclass
class GrantForm:
    """What the admin typed, and the problem with each field."""

    username: str = ""
    track: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


async def _grant_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    form: GrantForm,
    status_code: int = 200,
    existing: Enrollment | None = None,
) -> Response:
    return render(
        request,
        "admin_enrollments_new.html",
        {
            "nav": "enrollments",
            "form": form,
            "tracks": list(await session.scalars(tracks_query())),
            "existing": existing,
        },
        status_code=status_code,
        user=user,
    )


@router.get("/admin/enrollments/new")
async def grant_page(
    request: Request, user: PageUser, session: SessionDep, username: Filter = ""
) -> Response:
    """The grant form (`?username=` fills in whom)."""
    await admin_user(user)
    return await _grant_page(request, session, user, GrantForm(username=username))


def _grant_errors(error: ValidationError) -> dict[str, str]:
    """`GrantIn`'s rules, in words next to the field they concern."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        kind = problem["type"]
        if name == "username":
            errors.setdefault(
                "username",
                "Enter a hub username."
                if kind == "string_too_short"
                else (
                    "A hub username is at most 255 characters, with no spaces, slashes or "
                    "control characters."
                ),
            )
        elif name == "track":
            errors.setdefault("track", "Choose a track from the list.")
        elif name == "reason" and kind == "string_too_long":
            errors.setdefault("reason", "The reason is too long: at most 500 characters.")
        elif name == "reason":
            errors.setdefault("reason", "Remove the control characters (such as NUL).")
    return errors or {"username": "Check the username, the track and the reason."}


async def _in_hub(request: Request, username: str) -> bool:
    try:
        return await hub_directory(request).role_of(username) is not None
    except HubUnavailable as exc:
        raise HubUnreachable(exc) from exc


async def _enrollment_of(session: AsyncSession, username: str, track: str) -> Enrollment | None:
    found = await session.scalar(
        select(Enrollment.id)
        .join(Person, Enrollment.person_id == Person.id)
        .join(Track, Enrollment.track_id == Track.id)
        .where(Person.username == username, Track.code == track)
    )
    return None if found is None else await service.load_enrollment(session, found)


def _is_repeat(
    history: list[EnrollmentEvent], user: Principal, to_status: str, reason: str
) -> bool:
    """A second click: the latest change is this very change, by this admin, just now."""
    if not history:
        return False
    last = history[-1]
    at = last.created_at if last.created_at.tzinfo else last.created_at.replace(tzinfo=UTC)
    return (
        last.actor == user.name
        and last.to_status == to_status
        and last.reason == reason
        and datetime.now(UTC) - at < REPEAT_WINDOW
    )


def _to_enrollment(request: Request, enrollment_id: int, done: str) -> RedirectResponse:
    return done_redirect(request, f"admin/enrollments/{enrollment_id}", done)


@router.post("/admin/enrollments/new")
async def post_grant(request: Request, user: PageUser, session: SessionDep) -> Response:
    """`POST /api/v1/enrollments` from the form: 303 to the enrollment, or the form again with
    the problem next to the field (422), or the enrollment that already exists (409)."""
    await admin_user(user)
    data = await request.form()
    typed = GrantForm(
        username=str(data.get("username") or ""),
        track=str(data.get("track") or ""),
        reason=str(data.get("reason") or ""),
    )
    try:
        body = GrantIn(username=typed.username, track=typed.track, reason=typed.reason)
    except ValidationError as exc:
        typed.errors = _grant_errors(exc)
    else:
        if not body.reason:
            typed.errors["reason"] = "Say why this track is granted (for example: scholarship)."
        if "username" not in typed.errors and not await _in_hub(request, body.username):
            typed.errors["username"] = (
                f"The hub has no user named {body.username!r}: check the spelling. A new "
                "account appears in the hub after its first sign-in."
            )
    if typed.errors:
        return await _grant_page(request, session, user, typed, 422)
    try:
        async with session.begin_nested():  # a refusal leaves no profile behind
            enrollment = await service.grant(
                session,
                actor=user.name,
                username=body.username,
                track_code=body.track,
                reason=body.reason,
            )
    except UnknownTrack:
        typed.errors["track"] = f"There is no track {body.track!r}; choose one from the list."
        return await _grant_page(request, session, user, typed, 422)
    except EnrollmentConflict as exc:
        existing = await _enrollment_of(session, body.username, body.track)
        assert existing is not None
        history = await service.history_of(session, existing.id)
        if _is_repeat(history, user, EnrollmentStatus.ACTIVE, body.reason):
            return _to_enrollment(request, existing.id, "granted")
        typed.errors["track"] = exc.message
        return await _grant_page(request, session, user, typed, exc.status, existing)
    return _to_enrollment(request, enrollment.id, "granted")


# --- one enrollment, and revoking it -------------------------------------------------------
@router.get("/admin/enrollments/{enrollment_id}")
async def enrollment_page(
    request: Request, user: PageUser, session: SessionDep, enrollment_id: EnrollmentId
) -> Response:
    """One enrollment and its history (`GET /api/v1/enrollments/{id}`)."""
    await admin_user(user)
    enrollment = await service.visible_enrollment(session, user, enrollment_id)
    return render(
        request,
        "admin_enrollments_one.html",
        {
            "nav": "enrollments",
            "enrollment": enrollment,
            "history": await service.history_of(session, enrollment.id),
            "statuses": STATUS_WORDS,
            "revocable": enrollment.status in service.REVOCABLE,
            "done": DONE_WORDS.get(request.query_params.get("done") or ""),
            "when": when,
        },
        user=user,
    )


@dataclass
class RevokeForm:
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    problem: str = ""


async def _revoke_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    enrollment_id: int,
    form: RevokeForm | None = None,
    status_code: int = 200,
) -> Response:
    enrollment = await service.visible_enrollment(session, user, enrollment_id)
    return render(
        request,
        "admin_enrollments_revoke.html",
        {
            "nav": "enrollments",
            "enrollment": enrollment,
            "revocable": enrollment.status in service.REVOCABLE,
            "statuses": STATUS_WORDS,
            "form": form or RevokeForm(),
        },
        status_code=status_code,
        user=user,
    )


@router.get("/admin/enrollments/{enrollment_id}/revoke")
async def revoke_page(
    request: Request, user: PageUser, session: SessionDep, enrollment_id: EnrollmentId
) -> Response:
    """The confirmation step before a revoke, with the reason to give."""
    await admin_user(user)
    return await _revoke_page(request, session, user, enrollment_id)


def _reason_words(error: ValidationError) -> str:
    kind = error.errors()[0]["type"]
    if kind == "string_too_short":
        return "Say why the enrollment is revoked."
    if kind == "string_too_long":
        return "The reason is too long: at most 500 characters."
    return "Remove the control characters (such as NUL)."


@router.post("/admin/enrollments/{enrollment_id}/revoke")
async def post_revoke(
    request: Request, user: PageUser, session: SessionDep, enrollment_id: EnrollmentId
) -> Response:
    """`POST /api/v1/enrollments/{id}/revoke` from the confirmation: 303 to the enrollment."""
    await admin_user(user)
    enrollment = await service.visible_enrollment(session, user, enrollment_id)
    typed = RevokeForm(reason=str((await request.form()).get("reason") or ""))
    try:
        body = RevokeIn(reason=typed.reason)
    except ValidationError as exc:
        typed.errors["reason"] = _reason_words(exc)
        return await _revoke_page(request, session, user, enrollment_id, typed, 422)
    try:
        await service.revoke(
            session, actor=user.name, enrollment_id=enrollment.id, reason=body.reason
        )
    except EnrollmentConflict as exc:
        history = await service.history_of(session, enrollment.id)
        if _is_repeat(history, user, EnrollmentStatus.CANCELLED, body.reason):
            return _to_enrollment(request, enrollment.id, "revoked")
        typed.problem = exc.message
        return await _revoke_page(request, session, user, enrollment_id, typed, exc.status)
    return _to_enrollment(request, enrollment.id, "revoked")
