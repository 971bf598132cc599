"""Enrollments: who is in which track. Admins grant and revoke; everyone reads what they may."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import AdminUser, CurrentUser
from lms_api.database import MAX_ID, SessionDep
from lms_api.enrollments import service
from lms_api.enrollments.enums import EnrollmentStatus
from lms_api.enrollments.models import Enrollment
from lms_api.enrollments.schemas import (
    EnrollmentDetail,
    EnrollmentEventOut,
    EnrollmentPage,
    EnrollmentSummary,
    GrantIn,
    RevokeIn,
)
from lms_api.errors import USER_ROUTE_ERRORS, error_doc, error_responses
from lms_api.pagination import PageDep, paginate
from lms_api.types import LINE_PATTERN

router = APIRouter(tags=["enrollments"])

EnrollmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="Enrollment id")]


AUTH_ERRORS = USER_ROUTE_ERRORS
ADMIN_ERRORS = error_responses(401, 403, 422, 503, described={403: "The caller is not an admin"})


def summary(enrollment: Enrollment) -> EnrollmentSummary:
    return EnrollmentSummary(
        id=enrollment.id,
        username=enrollment.person.username,
        track_code=enrollment.track.code,
        track_name=enrollment.track.name,
        status=enrollment.status,
        source=enrollment.source,
        workspace_kinds=enrollment.track.workspace_kinds,
        created_at=enrollment.created_at,
        updated_at=enrollment.updated_at,
    )


async def detail(session: AsyncSession, enrollment: Enrollment) -> EnrollmentDetail:
    history = [
        EnrollmentEventOut(
            from_status=event.from_status,
            to_status=event.to_status,
            source=event.source,
            actor=event.actor,
            reason=event.reason,
            at=event.created_at,
        )
        for event in await service.history_of(session, enrollment.id)
    ]
    return EnrollmentDetail(**summary(enrollment).model_dump(), history=history)


@router.get("/enrollments", response_model=EnrollmentPage, responses=AUTH_ERRORS)
async def list_enrollments(
    caller: CurrentUser,
    session: SessionDep,
    page: PageDep,
    request: Request,
    username: Annotated[
        str | None,
        Query(min_length=1, max_length=255, pattern=LINE_PATTERN, description="Only this user's"),
    ] = None,
    track: Annotated[
        str | None,
        Query(
            min_length=1, max_length=16, pattern=LINE_PATTERN, description="Only this track (code)"
        ),
    ] = None,
    status: Annotated[EnrollmentStatus | None, Query(description="Only this status")] = None,
) -> dict[str, Any]:
    """Enrollments by id: all for admins, their students' for trainers, own for students."""
    statement = service.list_enrollments(caller, username=username, track=track, status=status)
    return await paginate(session, statement, page, request, summary)


@router.get(
    "/enrollments/{enrollment_id}",
    response_model=EnrollmentDetail,
    responses={**AUTH_ERRORS, 404: error_doc("No such enrollment, or not one the caller may see")},
)
async def read_enrollment(
    caller: CurrentUser, session: SessionDep, enrollment_id: EnrollmentId
) -> EnrollmentDetail:
    """One enrollment with its history (404 for enrollments the caller may not see)."""
    enrollment = await service.visible_enrollment(session, caller, enrollment_id)
    return await detail(session, enrollment)


@router.post(
    "/enrollments",
    response_model=EnrollmentDetail,
    status_code=201,
    responses={
        **ADMIN_ERRORS,
        404: error_doc("No track with that code (`details.field` = `track`)"),
        409: error_doc("The user is already active in that track"),
    },
)
async def grant_enrollment(
    caller: AdminUser, session: SessionDep, body: GrantIn
) -> EnrollmentDetail:
    """Grant a track to a user (admins): creates or re-activates the enrollment."""
    enrollment = await service.grant(
        session,
        actor=caller.name,
        username=body.username,
        track_code=body.track,
        reason=body.reason,
    )
    return await detail(session, enrollment)


@router.post(
    "/enrollments/{enrollment_id}/revoke",
    response_model=EnrollmentDetail,
    responses={
        **ADMIN_ERRORS,
        404: error_doc("No such enrollment"),
        409: error_doc("The enrollment is already cancelled or refunded"),
    },
)
async def revoke_enrollment(
    caller: AdminUser, session: SessionDep, enrollment_id: EnrollmentId, body: RevokeIn
) -> EnrollmentDetail:
    """Revoke an enrollment (admins): it becomes cancelled and its workspaces are refused."""
    enrollment = await service.revoke(
        session, actor=caller.name, enrollment_id=enrollment_id, reason=body.reason
    )
    return await detail(session, enrollment)
