"""Class sessions over HTTP: trainers and admins schedule, change and cancel them and read
attendance; students read the sessions they are expected at; the hub asks which workspaces
to warm up and reports workspace activity.

Routes only (paths, who calls, documented errors); every rule is in `service`.
"""

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from lms_api.auth import CurrentUser, StaffUser, TrustedService
from lms_api.class_sessions import service
from lms_api.class_sessions.models import ClassSession
from lms_api.class_sessions.schemas import (
    ActivityRecorded,
    ActivityReport,
    AttendanceOut,
    AttendanceSummary,
    ClassSessionIn,
    ClassSessionOut,
    ClassSessionPage,
    ClassSessionPatch,
    Instant,
    WarmUpOut,
    WarmUpSession,
)
from lms_api.database import MAX_ID, SessionDep
from lms_api.errors import USER_ROUTE_ERRORS, error_doc, error_responses
from lms_api.pagination import PageDep, paginate
from lms_api.principal import Principal
from lms_api.timestamps import utcnow
from lms_api.types import LINE_PATTERN

router = APIRouter(tags=["class sessions"])

SessionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Class session id")]
MAX_LEAD_MINUTES = 24 * 60

NOT_VISIBLE = error_doc("No such session, or not one the caller may see")
STAFF_ERRORS = {
    **USER_ROUTE_ERRORS,
    403: error_doc("Not a trainer or admin (or a service token)"),
    404: NOT_VISIBLE,
}
CHANGE_ERRORS = {
    **STAFF_ERRORS,
    403: error_doc("Not a trainer or admin, or (trainers) a session another trainer scheduled"),
    409: error_doc(
        "The session has ended (`session_ended`) or was cancelled (`session_cancelled`)"
    ),
    422: error_doc("Invalid input; `details` names each field (window, workspace kind, students)"),
}
HUB_ONLY_ERRORS = error_responses(
    401, 403, 422, 503, described={403: "Only the hub's service token (or an admin) may ask"}
)


# --- a session, loaded and authorized once per request --------------------------------------
async def readable_session(
    caller: CurrentUser, session: SessionDep, session_id: SessionId
) -> ClassSession:
    """The session if the caller may read it (404 otherwise)."""
    return await service.visible_session(session, caller, session_id)


async def staff_session(
    caller: StaffUser, session: SessionDep, session_id: SessionId
) -> ClassSession:
    """For staff routes: students are refused (403) before the session is looked up."""
    return await service.visible_session(session, caller, session_id)


ReadableSession = Annotated[ClassSession, Depends(readable_session)]
StaffSession = Annotated[ClassSession, Depends(staff_session)]


async def described(
    session: AsyncSession, caller: Principal, found: list[ClassSession], now: datetime
) -> list[ClassSessionOut]:
    """Sessions as the API shows them, with the expected students the caller may see."""
    expected = await service.expected_students(session, [s.id for s in found], caller)
    return [
        ClassSessionOut(
            id=s.id,
            title=s.title,
            track_code=s.track.code,
            track_name=s.track.name,
            workspace_kind=s.workspace_kind,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            status=service.status_of(s, now),
            audience=s.audience,
            expected_students=expected[s.id],
            created_by=s.created_by.username,
            created_at=s.created_at,
            cancelled_at=s.cancelled_at,
        )
        for s in found
    ]


async def one(
    session: AsyncSession, caller: Principal, found: ClassSession, now: datetime
) -> ClassSessionOut:
    [out] = await described(session, caller, [found], now)
    return out


# --- the hub (declared before /class-sessions/{session_id}, which would take the path) ------
@router.get("/class-sessions/warm-up", response_model=WarmUpOut, responses=HUB_ONLY_ERRORS)
async def warm_up(
    _caller: TrustedService,
    session: SessionDep,
    lead_minutes: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_LEAD_MINUTES,
            description="How long before a start its workspaces should run",
            examples=[10],
        ),
    ],
) -> WarmUpOut:
    """Sessions whose workspaces should run now (hub service only): not cancelled, starting
    within `lead_minutes` or in progress, with the students expected."""
    now = utcnow()
    found, expected = await service.warm_up(session, now, timedelta(minutes=lead_minutes))
    return WarmUpOut(
        now=now,
        lead_minutes=lead_minutes,
        sessions=[
            WarmUpSession(
                id=s.id,
                title=s.title,
                track_code=s.track.code,
                workspace_kind=s.workspace_kind,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                expected_students=expected[s.id],
            )
            for s in found
        ],
        in_timed_attempts=await service.in_timed_attempts(session, now),
    )


@router.post(
    "/class-sessions/workspace-activity",
    response_model=ActivityRecorded,
    responses=HUB_ONLY_ERRORS,
)
async def report_workspace_activity(
    _caller: TrustedService, session: SessionDep, body: ActivityReport
) -> ActivityRecorded:
    """Record when students' workspaces were in use (hub service only): each moment inside a
    session that expects the user widens their first/last seen; idempotent."""
    return await service.record_activity(session, [(e.user, e.at) for e in body.activity])


# --- trainers, admins and students ----------------------------------------------------------
@router.get("/class-sessions", response_model=ClassSessionPage, responses=USER_ROUTE_ERRORS)
async def list_class_sessions(
    caller: CurrentUser,
    session: SessionDep,
    page: PageDep,
    request: Request,
    since: Annotated[
        Instant | None,
        Query(alias="from", description="Only sessions ending at or after this moment"),
    ] = None,
    until: Annotated[
        Instant | None, Query(alias="to", description="Only sessions starting before this moment")
    ] = None,
    track: Annotated[
        str | None,
        Query(
            min_length=1, max_length=16, pattern=LINE_PATTERN, description="Only this track (code)"
        ),
    ] = None,
) -> dict[str, Any]:
    """Sessions by start time: all for admins; for trainers those they scheduled or that
    expect their students; for students those they are expected at."""
    statement = service.list_sessions(caller, since=since, until=until, track=track)
    listed = await paginate(session, statement, page, request)
    listed["results"] = await described(session, caller, listed["results"], utcnow())
    return listed


@router.post(
    "/class-sessions",
    response_model=ClassSessionOut,
    status_code=201,
    responses={
        **USER_ROUTE_ERRORS,
        403: error_doc("Not a trainer or admin (or a service token)"),
        422: CHANGE_ERRORS[422],
    },
)
async def schedule_class_session(
    caller: StaffUser, session: SessionDep, body: ClassSessionIn
) -> ClassSessionOut:
    """Schedule a session (trainers for their own students, admins for anyone)."""
    now = utcnow()
    created = await service.schedule(session, caller, body, now)
    return await one(session, caller, created, now)


@router.get(
    "/class-sessions/{session_id}",
    response_model=ClassSessionOut,
    responses={**USER_ROUTE_ERRORS, 404: NOT_VISIBLE},
)
async def read_class_session(
    caller: CurrentUser, session: SessionDep, found: ReadableSession
) -> ClassSessionOut:
    """One session (404 for sessions the caller may not see)."""
    return await one(session, caller, found, utcnow())


@router.patch(
    "/class-sessions/{session_id}", response_model=ClassSessionOut, responses=CHANGE_ERRORS
)
async def change_class_session(
    caller: StaffUser, session: SessionDep, found: StaffSession, body: ClassSessionPatch
) -> ClassSessionOut:
    """Change the title, window, workspace kind or students of a session not yet ended."""
    now = utcnow()
    changed = await service.change(session, caller, found, body, now)
    return await one(session, caller, changed, now)


@router.post(
    "/class-sessions/{session_id}/cancel",
    response_model=ClassSessionOut,
    responses={**CHANGE_ERRORS, 422: USER_ROUTE_ERRORS[422]},
)
async def cancel_class_session(
    caller: StaffUser, session: SessionDep, found: StaffSession
) -> ClassSessionOut:
    """Cancel a session not yet ended; cancelling again answers the same (idempotent)."""
    now = utcnow()
    cancelled = await service.cancel(session, caller, found, now)
    return await one(session, caller, cancelled, now)


@router.get(
    "/class-sessions/{session_id}/attendance",
    response_model=AttendanceOut,
    responses={
        **STAFF_ERRORS,
        409: error_doc("The session was cancelled (`session_cancelled`)"),
    },
)
async def read_attendance(
    caller: StaffUser, session: SessionDep, found: StaffSession, request: Request
) -> AttendanceOut:
    """Who came: present, late, absent or upcoming per expected student (a trainer sees their
    own students; admins everyone), from workspace and LMS activity in the session's window."""
    now = utcnow()
    minutes = request.app.state.settings.session_late_after_minutes
    rows = await service.attendance(session, caller, found, now, timedelta(minutes=minutes))
    counts = {
        status: sum(r.status == status for r in rows) for status in AttendanceSummary.model_fields
    }
    return AttendanceOut(
        session=await one(session, caller, found, now),
        late_after_minutes=minutes,
        summary=AttendanceSummary(**counts),
        students=rows,
    )
